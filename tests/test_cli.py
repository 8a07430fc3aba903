"""The `casefile` command as an operator runs it, on a real store: the first test in a child
process, as from a shell; the others through the same entry point in this process."""

import json
import os
import subprocess
import sys

import pytest
from conftest import ENGINES, REPO, demo_url, sample


def _runner(folder, db_url):
    env = os.environ | {
        "CASEFILE_ARCHIVE_DIR": str(folder / "archive"),
        "CASEFILE_INDEX_DIR": str(folder / "index"),
        "CASEFILE_DATABASE_URL": db_url,
    }

    def _run(*args, check=True, stdin=None):
        proc = subprocess.run(
            [sys.executable, "-m", "app.cli", *args], env=env, cwd=REPO, capture_output=True,
            text=True, input=stdin, timeout=300,
        )  # fmt: skip
        if check and proc.returncode != 0:
            raise AssertionError(
                f"casefile {' '.join(args)} → {proc.returncode}\n{proc.stdout}\n{proc.stderr}"
            )
        assert "Traceback" not in proc.stderr, proc.stderr
        return proc

    return _run


def _in_process(folder, db_url, monkeypatch, capsys):
    """The same commands through `app.cli.main` in this process: the parsing, the services and
    the exit codes are the same; only the interpreter's start-up is left out (the child process
    is tested by the first test here and by tests/test_cli_pipe.py)."""
    from app.cli import main  # lazy: the child-process runner above needs none of the app

    def _run(*args, check=True):
        monkeypatch.setenv("CASEFILE_ARCHIVE_DIR", str(folder / "archive"))
        monkeypatch.setenv("CASEFILE_INDEX_DIR", str(folder / "index"))
        monkeypatch.setenv("CASEFILE_DATABASE_URL", db_url)
        capsys.readouterr()
        try:
            code = main(list(args))
        except SystemExit as exc:  # argparse refusing the command line
            code = exc.code
        out, err = capsys.readouterr()
        if check and code != 0:
            raise AssertionError(f"casefile {' '.join(args)} → {code}\n{out}\n{err}")
        return subprocess.CompletedProcess(args, code, out, err)

    return _run


@pytest.fixture
def child(tmp_path, db_url):
    """`casefile ...` as a child process on a fresh store."""
    return _runner(tmp_path, db_url)


@pytest.fixture
def run(tmp_path, db_url, monkeypatch, capsys):
    """`casefile ...` on a fresh store."""
    return _in_process(tmp_path, db_url, monkeypatch, capsys)


@pytest.fixture
def demo_run(demo_copy, monkeypatch, capsys):
    """`casefile ...` on a copy of the demo store."""
    return _in_process(demo_copy, demo_url(demo_copy), monkeypatch, capsys)


# one engine (PostgreSQL where there is one): the same demo is built on SQLite once per run
# (tests/demostore.py), and verify's checks run on SQLite throughout the suite
@pytest.mark.parametrize("db_url", [ENGINES[-1]], indirect=True)
def test_init_demo_then_verify_then_flip_a_byte(child, tmp_path):
    run = child
    out = json.loads(run("init", "--demo", "--json").stdout)
    assert out["created"] and out["admin"]["password"] and len(out["demo_documents"]) >= 3
    again = json.loads(run("init", "--demo", "--json").stdout)
    assert again["created"] is False  # idempotent: make run can call it every time
    ok = run("verify")
    assert "校验通过" in ok.stdout
    doc = json.loads(run("document", "show", "1", "--json").stdout)
    assert doc["number"] == out["demo_documents"][0]
    assert [s["decision"] for s in doc["steps"]][:1] == ["submit"]
    assert all(len(s["version_sha256"]) == 64 for s in doc["steps"])
    blob = tmp_path / "archive" / "blobs" / doc["sha256"][:2] / doc["sha256"][2:4] / doc["sha256"]
    data = bytearray(blob.read_bytes())
    data[100] ^= 0x20
    blob.chmod(0o644)
    blob.write_bytes(bytes(data))
    bad = run("verify", check=False)
    assert bad.returncode == 1
    assert doc["number"] in bad.stdout
    report = json.loads(run("verify", "--json", check=False).stdout)
    assert report["ok"] is False and any(doc["number"] in p for p in report["problems"])


def test_draft_commands_with_as(demo_run, tmp_path):
    run = demo_run
    data = tmp_path / "data.json"
    data.write_text(json.dumps(sample(), ensure_ascii=False), "utf-8")
    draft_id = run(
        "draft",
        "new",
        "commission-letter",
        "--data",
        str(data),
        "--unit",
        "WY-FZB",
        "--as",
        "clerk",
    ).stdout.strip()
    assert draft_id.isdigit()
    run("draft", "submit", draft_id, "--as", "clerk")
    refused = run("draft", "approve", draft_id, "--as", "clerk", check=False)
    assert refused.returncode == 2 and "错误" in refused.stderr
    run("draft", "approve", draft_id, "--as", "head", "--comment", "同意", "--yes")
    queue = json.loads(run("draft", "queue", "--as", "signatory", "--json").stdout)
    assert [d["id"] for d in queue["waiting"]] == [int(draft_id)]
    run("draft", "approve", draft_id, "--as", "signatory", "--yes")
    issued = json.loads(run("draft", "issue", draft_id, "--as", "clerk", "--json", "--yes").stdout)
    assert issued["number"].startswith("武政法函〔") and len(issued["sha256"]) == 64
    shown = run("document", "show", str(issued["document_id"]), "--as", "zr-clerk", check=False)
    assert shown.returncode == 2  # another unit's clerk may not read it


def test_bad_input_gives_messages_and_nonzero_exit(run, tmp_path):
    run("init")
    bad = tmp_path / "bad.json"
    bad.write_text('{"addressee": "x"', "utf-8")
    proc = run(
        "draft", "new", "commission-letter", "--data", str(bad), "--as", "admin", check=False
    )
    assert proc.returncode == 2 and "不是有效的 JSON" in proc.stderr
    proc = run(
        "draft",
        "new",
        "commission-letter",
        "--data",
        "/nonexistent.json",
        "--as",
        "admin",
        check=False,
    )
    assert proc.returncode == 2 and "无法读取" in proc.stderr
    proc = run(
        "user", "add", "BAD NAME", "--name", "甲", "--unit", "WY", "--role", "clerk", check=False
    )
    assert proc.returncode == 2 and "用户名" in proc.stderr
    proc = run("unit", "add", "X1", "--name", "某局", "--parent", "NOPE", check=False)
    assert proc.returncode == 2 and "不存在" in proc.stderr


def test_unit_and_user_commands(run):
    run("init")
    run("unit", "add", "WY-SFJ", "--name", "武阳市司法局", "--parent", "WY", "--doc-code", "武司")
    out = json.loads(
        run(
            "user",
            "add",
            "wang",
            "--name",
            "王五",
            "--unit",
            "WY-SFJ",
            "--role",
            "clerk",
            "--role",
            "adviser",
            "--json",
        ).stdout
    )
    assert len(out["password"]) >= 12
    users = json.loads(run("user", "list", "--json").stdout)["users"]
    assert {"clerk@WY-SFJ", "adviser@WY-SFJ"} <= set(
        next(u for u in users if u["username"] == "wang")["roles"]
    )
    templates = json.loads(run("templates", "list", "--json").stdout)["templates"]
    assert "commission-letter" in {t["id"] for t in templates}


def test_uninitialised_store_is_a_clear_error(run):
    proc = run("verify", check=False)
    assert proc.returncode == 2 and "casefile init" in proc.stderr
