"""A reader that stops early (`casefile … | head -1`) ends the command quietly: no traceback, no
"Exception ignored" from the interpreter's last flush, the shell's SIGPIPE status (141).
Real subprocesses with a real closed pipe."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from conftest import REPO

from app.cli import BROKEN_PIPE_STATUS


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_a_closed_pipe_ends_the_command_quietly(tmp_path, db_url):
    env = os.environ | {
        "CASEFILE_ARCHIVE_DIR": str(tmp_path / "archive"),
        "CASEFILE_INDEX_DIR": str(tmp_path / "index"),
        "CASEFILE_DATABASE_URL": db_url,
    }
    init = subprocess.run([sys.executable, "-m", "app.cli", "init"], env=env, cwd=REPO,
                          capture_output=True, timeout=300)  # fmt: skip
    assert init.returncode == 0, init.stderr
    for args in (["templates", "list"], ["user", "list", "--json"], ["search", "合同"]):
        proc = subprocess.Popen([sys.executable, "-m", "app.cli", *args], env=env, cwd=REPO,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE)  # fmt: skip
        proc.stdout.close()  # the reader is gone before the command has written a line
        err = proc.stderr.read().decode("utf-8", "replace")
        proc.stderr.close()
        assert proc.wait(timeout=300) == BROKEN_PIPE_STATUS, (args, err)
        assert err == "", (args, err)


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_head_through_a_shell_reads_the_first_line_and_nothing_else(tmp_path, db_url):
    env = os.environ | {
        "CASEFILE_ARCHIVE_DIR": str(tmp_path / "archive"),
        "CASEFILE_INDEX_DIR": str(tmp_path / "index"),
        "CASEFILE_DATABASE_URL": db_url,
    }
    command = f"'{sys.executable}' -m app.cli init >/dev/null && '{sys.executable}' -m app.cli templates list | head -1"  # fmt: skip
    proc = subprocess.run(["sh", "-c", command], env=env, cwd=REPO, capture_output=True,
                          text=True, timeout=300)  # fmt: skip
    assert proc.returncode == 0 and len(proc.stdout.splitlines()) == 1
    assert "Traceback" not in proc.stderr and "Exception ignored" not in proc.stderr
