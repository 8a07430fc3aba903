"""Helpers for tests that kill processes: wait until the ones that must go are gone."""

from __future__ import annotations

import time

from app.common.procs import pid_alive


def wait_gone(pids, seconds: float = 5.0) -> list[int]:
    """The pids still alive after up to *seconds* (empty when all are gone)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        alive = [p for p in pids if pid_alive(p)]
        if not alive:
            return []
        time.sleep(0.05)
    return alive
