"""The index write lock under kill -9 (app/search/whoosh_lock.py, whoosh_writer.py): a killed
rebuild's processes die with it and leave the index writable; a child never holds its
parent's lock; a lock whose recorded holder is gone is taken over, and indexing goes on."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import pytest
from procutil import wait_gone

from app.common.procs import pid_alive
from app.search import IndexBusy, SearchQuery, get_backend
from app.search.whoosh_lock import WriteLock

from .conftest import ALL, make_doc

REPO = Path(__file__).resolve().parents[2]
LOCK = "casefile_WRITELOCK"


def _start(code: str) -> subprocess.Popen:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    return subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(code)],
        cwd=REPO,
        env=env,
        stdout=subprocess.PIPE,
        text=True,
    )


def _reap(*pids: int, procs=()) -> None:
    for proc in procs:
        proc.kill()
        proc.wait(10)
        proc.stdout.close()
    for pid in pids:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass


def test_a_killed_rebuild_takes_its_processes_with_it_and_the_index_stays_writable(tmp_path):
    path = tmp_path / "index"
    b = get_backend(path, writer_timeout=1.0)
    b.index([make_doc(1)])
    b.close()
    # a rebuild whose document source never ends: its workers sit waiting for more
    parent = _start(
        f"""
        import multiprocessing, sys, time
        sys.path.insert(0, "tests/search")
        from conftest import make_doc
        from app.search import get_backend

        def docs():
            for i in range(10):
                yield make_doc(i)
            print(*[p.pid for p in multiprocessing.active_children()], flush=True)
            time.sleep(600)

        get_backend({str(path)!r}).rebuild(docs(), procs=2, batch=2)
        """
    )
    children = []
    try:
        children = [int(p) for p in parent.stdout.readline().split()]
        assert len(children) == 2 and all(pid_alive(p) for p in children)
        assert not WriteLock(path, LOCK).acquire(False)  # the rebuild holds the live lock
        parent.kill()
        parent.wait(10)
        assert wait_gone(children) == []
    finally:
        _reap(*children, procs=[parent])
    after = get_backend(path, writer_timeout=1.0)
    after.index([make_doc(2)])  # not IndexBusy
    assert after.search(SearchQuery(text="审查"), ALL).total == 2
    assert after.check() == []
    after.close()


def test_a_forked_child_does_not_hold_its_parents_lock(tmp_path):
    """The parent dies holding the lock; the child it forked lives on: the lock is free."""
    tmp_path.joinpath("ix").mkdir()
    parent = _start(
        f"""
        import multiprocessing, os, time
        from app.search.whoosh_lock import WriteLock

        lock = WriteLock({str(tmp_path / "ix")!r}, {LOCK!r})
        assert lock.acquire()
        child = multiprocessing.get_context("fork").Process(target=time.sleep, args=(600,))
        child.start()
        print(child.pid, flush=True)
        os._exit(0)  # dies without releasing
        """
    )
    child = int(parent.stdout.readline())
    try:
        parent.wait(10)
        assert pid_alive(child)
        # the child closes its copy in its at-fork hook, which a busy machine may not have
        # run yet when the parent is already gone: poll (without the hook it never frees)
        lock = WriteLock(tmp_path / "ix", LOCK)
        deadline = time.monotonic() + 10
        while not lock.acquire(False):
            assert time.monotonic() < deadline, "the forked child still holds the lock"
            time.sleep(0.05)
        assert pid_alive(child)
        lock.release()
    finally:
        _reap(child, procs=[parent])


def test_a_lock_whose_holder_is_gone_is_taken_over(tmp_path, caplog):
    """As a rebuild killed before this fix left it: the recorded holder is dead, an orphan
    that inherited the open lock file keeps the flock."""
    path = tmp_path / "index"
    b = get_backend(path, writer_timeout=0.5)
    b.index([make_doc(1)])
    holder = _orphaned_lock(path / LOCK)
    orphan = int(holder.stdout.readline())
    try:
        holder.wait(10)
        dead = json.loads((path / f"{LOCK}.holder").read_text())["pid"]
        assert not pid_alive(dead) and pid_alive(orphan)
        assert not WriteLock(path, LOCK).acquire(False)  # still locked by the orphan
        started = time.monotonic()
        b.index([make_doc(2)])  # took the lock over: no IndexBusy, no waiting it out
        assert time.monotonic() - started < 2
        assert b.search(SearchQuery(text="审查"), ALL).total == 2
        assert f"held for process {dead}, which is gone" in caplog.text
        assert not (path / f"{LOCK}.holder").exists()  # released after the write
        assert b.check() == []
    finally:
        _reap(orphan, procs=[holder])
        b.close()


def _orphaned_lock(lock_file: Path) -> subprocess.Popen:
    """A holder that recorded itself, handed the open lock file to an orphan and died."""
    return _start(
        f"""
        import fcntl, json, os, socket, subprocess
        from app.common.procs import process_start

        fd = os.open({str(lock_file)!r}, os.O_CREAT | os.O_WRONLY)
        fcntl.flock(fd, fcntl.LOCK_EX)
        record = {{"pid": os.getpid(), "start": process_start(os.getpid()),
                  "host": socket.gethostname()}}
        with open({str(lock_file)!r} + ".holder", "w") as f:
            json.dump(record, f)
        orphan = subprocess.Popen(["sleep", "600"], pass_fds=[fd])
        print(orphan.pid, flush=True)
        os._exit(0)
        """
    )


def test_racing_writers_take_a_stale_lock_over_once(tmp_path):
    tmp_path.joinpath("ix").mkdir()
    holder = _orphaned_lock(tmp_path / "ix" / LOCK)
    orphan = int(holder.stdout.readline())
    try:
        holder.wait(10)
        locks = [WriteLock(tmp_path / "ix", LOCK) for _ in range(4)]
        won: list[bool] = []
        threads = [threading.Thread(target=lambda lk=lk: won.append(lk.acquire_within(0.5)))
                   for lk in locks]  # fmt: skip
        for t in threads:
            t.start()
        for t in threads:
            t.join(10)
        assert sorted(won) == [False, False, False, True]
        [winner] = [lk for lk in locks if lk.fd is not None]
        winner.release()
    finally:
        _reap(orphan, procs=[holder])


def test_a_live_holder_is_waited_for_not_taken_over(tmp_path):
    path = tmp_path / "index"
    b = get_backend(path, writer_timeout=0.3)
    b.index([make_doc(1)])
    holder = _start(
        f"""
        import time
        from app.search.whoosh_lock import WriteLock

        assert WriteLock({str(path)!r}, {LOCK!r}).acquire()
        print("locked", flush=True)
        time.sleep(600)
        """
    )
    try:
        assert holder.stdout.readline().strip() == "locked"
        with pytest.raises(IndexBusy):
            b.index([make_doc(2)])
        assert json.loads((path / f"{LOCK}.holder").read_text())["pid"] == holder.pid
    finally:
        _reap(procs=[holder])
        b.close()
