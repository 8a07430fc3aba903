"""Outbox draining: acknowledged only after the commit, retried when the index is busy."""

from __future__ import annotations

import time

from whoosh.filedb.filestore import FileStorage

from app.search import SearchQuery
from app.search.indexer import IndexWorker, OutboxItem, drain_once

from .conftest import ALL, make_doc


class FakeOutbox:
    def __init__(self, items):
        self.pending = list(items)
        self.done = []

    def fetch(self, limit):
        return self.pending[:limit]

    def ack(self, keys):
        self.done += keys
        self.pending = [i for i in self.pending if i.key not in keys]


def test_drain_once_indexes_deletes_and_acks(backend):
    backend.index([make_doc(9)])
    box = FakeOutbox(
        [
            OutboxItem(1, "d1", make_doc(1, body="第一版")),
            OutboxItem(2, "d1", make_doc(1, body="第二版")),  # the latest change wins
            OutboxItem(3, "d9", None),
        ]
    )
    assert drain_once(backend, box.fetch, box.ack) == 3
    assert box.done == [1, 2, 3] and drain_once(backend, box.fetch, box.ack) == 0
    assert backend.matching_ids(SearchQuery(text="第二版"), ALL) == ["d1"]
    assert backend.matching_ids(SearchQuery(text="第一版"), ALL) == []
    assert set(backend.stored_hashes()) == {"d1"}


def test_worker_keeps_rows_while_busy_then_catches_up(tmp_path):
    from app.search import get_backend

    backend = get_backend(tmp_path / "ix", writer_timeout=0.1)
    backend.index([make_doc(1)])
    box = FakeOutbox([OutboxItem(1, "d2", make_doc(2, body="新发文件"))])
    lock = FileStorage(str(tmp_path / "ix")).lock("casefile_WRITELOCK")
    assert lock.acquire(False)
    worker = IndexWorker(backend, box.fetch, box.ack, retry=0.05, idle=0.05).start()
    try:
        worker.wake()
        time.sleep(0.4)
        assert box.done == [] and worker.last_error
    finally:
        lock.release()
    deadline = time.monotonic() + 5
    while box.pending and time.monotonic() < deadline:
        time.sleep(0.02)
    worker.stop()
    assert box.done == [1]
    assert backend.matching_ids(SearchQuery(text="新发文件"), ALL) == ["d2"]
