"""Child processes that die with their parent, and whether a process is still there.

A killed parent (kill -9 of `casefile reindex` or of the outbox worker) runs no clean-up, so
its children must be told by the kernel: Linux's parent-death signal (prctl
PR_SET_PDEATHSIG). It fires when the *thread* that created the child exits, so use it only
for children whose creating thread waits for them (the parallel index rebuild); a long-lived
child started from a short-lived thread watches its parent process instead (see
app/renditions/_uno_worker.py). Elsewhere than Linux these are no-ops.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import signal
import sys

_PR_SET_PDEATHSIG = 1
# loaded once, at import: a child between fork and exec (preexec_fn) must not load libraries
_libc = (
    ctypes.CDLL(ctypes.util.find_library("c"), use_errno=True) if sys.platform == "linux" else None
)


def die_with_parent(parent: int, sig: int = signal.SIGKILL) -> None:
    """Have the kernel send *sig* to this process when its parent dies; exit now if the
    parent *parent* (its pid, taken before the fork) is already gone. Call it first thing in
    a child (a multiprocessing initializer or target, a Popen preexec_fn)."""
    if _libc is not None:
        _libc.prctl(_PR_SET_PDEATHSIG, int(sig), 0, 0, 0)
    if os.getppid() != parent:  # the parent died before the signal was armed
        os._exit(1)


def pid_alive(pid: int) -> bool:
    """True if a process *pid* exists on this machine (a zombie counts as gone)."""
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # someone else's process
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):
        return True


def process_start(pid: int) -> str | None:
    """The start time of *pid* (Linux: clock ticks since boot), so a recorded pid reused by
    another process is told apart; None where unknown."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as f:
            return f.read().rsplit(")", 1)[1].split()[19]
    except (OSError, IndexError):
        return None
