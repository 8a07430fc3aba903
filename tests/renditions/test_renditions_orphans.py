"""No LibreOffice outlives its converter (app/renditions/_uno_worker.py's watchdog): kill -9
the process that runs the converter, or the UNO helper alone, and soffice is gone within
seconds. Real LibreOffice; about 10 s."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

from procutil import wait_gone

from app.common.procs import pid_alive
from app.renditions import Converter

REPO = Path(__file__).resolve().parents[2]


def _kill(pids) -> None:
    for pid in pids:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass


def test_libreoffice_dies_with_a_killed_worker(libreoffice):
    """Started on a thread that has ended (as a request thread would), the helper and soffice
    live as long as the process does, and die with it."""
    code = textwrap.dedent(
        """
        import threading, time
        from app.renditions import Converter

        conv = Converter()
        t = threading.Thread(target=conv.start)
        t.start()
        t.join()
        time.sleep(0.5)  # the starting thread is gone: LibreOffice must still be running
        if conv.running:
            print(conv._proc.pid, *conv.office_processes(), flush=True)
        time.sleep(600)
        """
    )
    parent = subprocess.Popen(
        [sys.executable, "-c", code],
        cwd=REPO,
        env={**os.environ, "PYTHONPATH": str(REPO)},
        stdout=subprocess.PIPE,
        text=True,
    )
    pids: list[int] = []
    try:
        pids = [int(p) for p in parent.stdout.readline().split()]
        assert len(pids) >= 2, "LibreOffice did not survive the end of the starting thread"
        assert all(pid_alive(p) for p in pids)
        parent.kill()
        parent.wait(10)
        assert wait_gone(pids) == []
    finally:
        parent.kill()
        parent.wait(10)
        parent.stdout.close()
        _kill(pids)


def test_soffice_dies_with_a_killed_helper_and_the_converter_restarts(libreoffice, sample_docx):
    """The helper killed alone (OOM killer, an operator): its soffice goes too."""
    conv = Converter()
    try:
        conv.start()
        helper, office = conv._proc.pid, list(conv.office_processes())
        assert office
        os.kill(helper, signal.SIGKILL)
        assert wait_gone(office) == []
        assert conv.convert(sample_docx).startswith(b"%PDF-")  # a fresh one
        assert conv.restarts == 1
    finally:
        conv.stop()
