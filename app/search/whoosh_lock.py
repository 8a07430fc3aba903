"""The index's write lock: Whoosh's own lock file, with its holder recorded beside it, never
inherited by a forked child, and taken over when its holder is gone.

Whoosh locks ``<index>_WRITELOCK`` with flock(). An flock belongs to the open file, not to
the process, so a child forked while the lock is held holds it too: a `casefile reindex`
killed with its rebuild processes still running left the index locked for ever, and every
later write gave up with IndexBusy. Here:

- whoever takes the lock writes ``<lock>.holder`` (pid, process start time, host) and removes
  it on release;
- a forked child closes its copy of every lock this process holds (os.register_at_fork), so
  only the process that took a lock ever holds it;
- a writer that finds the lock taken and the recorded holder gone (a process killed before
  the fix, or an orphan that still has the file open) moves the lock file aside and locks a
  fresh one. The take-over is serialised by a second lock and re-checked under it, so two
  writers never both take over.

The lock file keeps Whoosh's name and flock semantics, so a plain Whoosh writer on the same
directory still excludes ours and vice versa.
"""

from __future__ import annotations

import fcntl
import json
import logging
import os
import socket
import threading
import time
import uuid
import weakref

from app.common.procs import pid_alive, process_start

log = logging.getLogger(__name__)

_held: weakref.WeakSet[WriteLock] = weakref.WeakSet()
_held_guard = threading.Lock()


class WriteLock:
    """A Whoosh-compatible lock object (acquire(blocking) -> bool, release()) on
    ``folder/name``."""

    def __init__(self, folder: str | os.PathLike, name: str):
        self.path = os.path.abspath(os.path.join(folder, name))
        self.holder_path = self.path + ".holder"
        self.fd: int | None = None

    # -- taking and releasing ----------------------------------------------------------

    def acquire(self, blocking: bool = False) -> bool:
        if self.fd is not None:
            raise RuntimeError(f"{self.path} is already held by this object")
        fd = os.open(self.path, os.O_CREAT | os.O_WRONLY, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX if blocking else fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            return False
        except BaseException:
            os.close(fd)
            raise
        try:
            current = os.stat(self.path).st_ino
        except FileNotFoundError:
            current = None
        if current != os.fstat(fd).st_ino:  # taken over (moved aside) while we were opening
            os.close(fd)
            return False
        self.fd = fd
        with _held_guard:
            _held.add(self)
        self._write_holder()
        return True

    def release(self) -> None:
        if self.fd is None:
            raise RuntimeError("lock was not acquired")
        with _held_guard:
            _held.discard(self)
        try:
            os.unlink(self.holder_path)
        except FileNotFoundError:
            pass
        fd, self.fd = self.fd, None
        try:
            fcntl.flock(fd, fcntl.LOCK_UN)
        finally:
            os.close(fd)

    def acquire_within(self, timeout: float, delay: float = 0.05) -> bool:
        """Take the lock, waiting up to *timeout* seconds; a lock whose holder is gone is
        taken over at once."""
        deadline = time.monotonic() + timeout
        checked_stale = False
        while True:
            if self.acquire(False):
                return True
            if not checked_stale:
                checked_stale = True
                if self.take_over_if_stale():
                    return True
            if time.monotonic() >= deadline:
                return False
            time.sleep(delay)

    # -- the holder --------------------------------------------------------------------

    def _write_holder(self) -> None:
        pid = os.getpid()
        record = {"pid": pid, "start": process_start(pid), "host": socket.gethostname()}
        tmp = f"{self.holder_path}.{pid}.{uuid.uuid4().hex[:6]}"
        try:
            with open(tmp, "w", encoding="utf-8") as f:
                json.dump(record, f)
            os.replace(tmp, self.holder_path)
        except OSError as exc:  # the lock itself is held: a missing record only loses take-over
            log.warning("could not record the holder of %s: %s", self.path, exc)

    def holder(self) -> dict | None:
        """The recorded holder of the lock ({"pid", "start", "host"}), None if unrecorded."""
        try:
            with open(self.holder_path, encoding="utf-8") as f:
                record = json.load(f)
        except (OSError, ValueError):
            return None
        return record if isinstance(record, dict) and isinstance(record.get("pid"), int) else None

    def holder_gone(self) -> dict | None:
        """The recorded holder if it is no longer running on this machine; else None."""
        record = self.holder()
        if record is None or record.get("host") != socket.gethostname():
            return None
        pid = record["pid"]
        if pid == os.getpid():
            return None  # this process holds it (another thread's writer): not stale
        if not pid_alive(pid):
            return record
        start = record.get("start")
        if start is not None and process_start(pid) not in (None, start):
            return record  # the pid was reused by another process
        return None

    def take_over_if_stale(self) -> bool:
        """If the lock is held but its recorded holder is gone, move the lock file aside
        (whoever still has it open, an orphaned child, keeps a lock on nothing) and take a
        fresh one. True if this object now holds the lock."""
        stale = self.holder_gone()
        if stale is None:
            return False
        guard = os.open(self.path + ".takeover", os.O_CREAT | os.O_WRONLY, 0o644)
        try:
            fcntl.flock(guard, fcntl.LOCK_EX)
            # re-check under the guard: a writer may have taken the lock meanwhile, or a new
            # holder may be between its flock and its record
            time.sleep(0.05)
            if self.acquire(False):
                return True
            if self.holder_gone() != stale:
                return False
            aside = f"{self.path}.stale-{uuid.uuid4().hex[:8]}"
            os.rename(self.path, aside)
            os.unlink(aside)
            try:
                os.unlink(self.holder_path)
            except FileNotFoundError:
                pass
            log.warning(
                "search index write lock %s was held for process %s, which is gone; taken over",
                self.path,
                stale["pid"],
            )
            return self.acquire(False)
        finally:
            os.close(guard)  # closing releases the guard's flock


def _forget_in_child() -> None:
    """In a forked child: close the copies of this process's locks without unlocking them
    (LOCK_UN would unlock the parent's), so a child never holds its parent's lock."""
    for lock in list(_held):
        fd, lock.fd = lock.fd, None
        if fd is not None:
            try:
                os.close(fd)
            except OSError:
                pass
    _held.clear()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forget_in_child)
