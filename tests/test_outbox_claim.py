"""Several outbox workers on one store (app/jobs/outbox.py): each event is claimed by one
worker under a lease (SKIP LOCKED on PostgreSQL), so every event is handled exactly once; a
worker that dies mid-way loses its claim when the lease ends and another takes it over.
Both engines; the probe kind's handler only counts its calls."""

from __future__ import annotations

import collections
import datetime as dt
import os
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import pytest
from sqlalchemy import func, select

from app.db.base import utcnow
from app.jobs import outbox
from app.jobs.models import OutboxEvent

KIND = "probe"
REPO = Path(__file__).resolve().parent.parent


def _queue(cf, n: int) -> list[int]:
    with cf.db.write() as s:
        events = [OutboxEvent(kind=KIND, payload={"n": i}) for i in range(n)]
        s.add_all(events)
        s.flush()
        return [e.id for e in events]


def _open(cf) -> int:
    with cf.db.read() as s:
        query = select(func.count()).where(
            OutboxEvent.kind == KIND, OutboxEvent.processed_at.is_(None)
        )
        return s.scalar(query)


@pytest.fixture
def calls(monkeypatch):
    """Handler invocations of the probe kind, by event id."""
    seen: collections.Counter[int] = collections.Counter()
    lock = threading.Lock()

    def handle(_cf, event):
        with lock:
            seen[event.id] += 1
        time.sleep(0.002)  # long enough for the workers to overlap

    monkeypatch.setitem(outbox.HANDLERS, KIND, handle)
    return seen


@pytest.mark.parametrize("workers", [2, 4])
def test_concurrent_workers_handle_every_event_exactly_once(cf, calls, workers):
    ids = _queue(cf, 120)
    errors: list[BaseException] = []
    start = threading.Barrier(workers)

    def work():
        try:
            start.wait()
            while _open(cf):
                outbox.drain(cf, (KIND,), limit=5)
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=work) for _ in range(workers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not errors
    assert sorted(calls) == ids
    assert set(calls.values()) == {1}, {i: c for i, c in calls.items() if c > 1}


class _Killed(BaseException):
    """Stands in for SIGKILL: nothing after it runs in the worker."""


def test_a_dead_workers_claim_is_taken_over_when_its_lease_ends(cf, calls, monkeypatch):
    monkeypatch.setattr(outbox, "LEASE", dt.timedelta(seconds=1))
    monkeypatch.setattr(outbox, "LEASE_MARGIN", dt.timedelta(0))
    first, *rest = _queue(cf, 3)
    counting = outbox.HANDLERS[KIND]

    def dies_on_first(cf_, event):
        counting(cf_, event)
        if event.id == first:
            raise _Killed

    monkeypatch.setitem(outbox.HANDLERS, KIND, dies_on_first)
    with pytest.raises(_Killed):
        outbox.drain(cf, (KIND,))
    # the dead worker's claim on `first` holds; the events it never started were handed back
    assert outbox.drain(cf, (KIND,))["done"] == 2
    assert outbox.drain(cf, (KIND,))["done"] == 0
    with cf.db.read() as s:
        event = s.get(OutboxEvent, first)
        assert event.processed_at is None and event.available_at > utcnow()
    monkeypatch.setitem(outbox.HANDLERS, KIND, counting)
    time.sleep(1.1)  # the lease ends
    assert outbox.drain(cf, (KIND,))["done"] == 1
    assert calls == {first: 2, rest[0]: 1, rest[1]: 1}  # the dead worker's try, then one more
    assert _open(cf) == 0


def test_a_claim_is_committed_before_the_work_starts(cf, calls, monkeypatch):
    """While a handler runs, the event is already leased in the database: a second worker
    polling at that moment does not get it."""
    [event_id] = _queue(cf, 1)
    counting = outbox.HANDLERS[KIND]
    seen_by_other: list[list] = []

    def handle(cf_, event):
        seen_by_other.append(outbox._claim(cf_, (KIND,), 10))
        counting(cf_, event)

    monkeypatch.setitem(outbox.HANDLERS, KIND, handle)
    assert outbox.drain(cf, (KIND,))["done"] == 1
    assert seen_by_other == [[]] and calls == {event_id: 1}


def test_a_worker_killed_mid_event_loses_its_claim_when_the_lease_ends(cf, calls, tmp_path):
    """kill -9 of a worker process while it handles an event: the event stays claimed (the
    claim was committed), nobody else takes it until the lease ends, then it is taken over."""
    hung, other = _queue(cf, 2)
    code = textwrap.dedent(
        f"""
        import datetime as dt, sys, time
        from pathlib import Path
        sys.path.insert(0, "tests")
        from conftest import make_settings
        from app.container import open_casefile
        from app.jobs import outbox

        outbox.LEASE, outbox.LEASE_MARGIN = dt.timedelta(seconds=2), dt.timedelta(0)

        def hang(cf, event):
            print(event.id, flush=True)
            time.sleep(600)

        outbox.HANDLERS[{KIND!r}] = hang
        cf = open_casefile(make_settings(Path({str(tmp_path)!r}), {cf.settings.database_url!r}))
        outbox.drain(cf, ({KIND!r},), limit=1)
        """
    )
    worker = subprocess.Popen(
        [sys.executable, "-c", code],
        cwd=REPO,
        env={**os.environ, "PYTHONPATH": str(REPO)},
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert int(worker.stdout.readline()) == hung
        worker.kill()
        worker.wait(10)
    finally:
        worker.kill()
        worker.wait(10)
        worker.stdout.close()
    assert outbox.drain(cf, (KIND,)) == {"done": 1, "retry": 0, "failed": 0}  # only `other`
    with cf.db.read() as s:
        lease_ends = s.get(OutboxEvent, hung).available_at
    time.sleep(max(0.0, (lease_ends - utcnow()).total_seconds()) + 0.05)
    assert outbox.drain(cf, (KIND,))["done"] == 1
    assert calls == {other: 1, hung: 1} and _open(cf) == 0
