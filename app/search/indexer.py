"""Draining the search outbox in the background (索引更新).

The issuing transaction writes an outbox row and commits; it never waits for the index.
An ``IndexWorker`` thread (one per process that writes, normally the web process or a
`casefile worker`) picks rows up, indexes them in one commit per batch and acknowledges
them only after the commit, so a crash in between re-indexes rather than loses (index()
replaces by doc_id, so doing it twice is harmless).

    worker = IndexWorker(backend, fetch=outbox.fetch_pending, ack=outbox.mark_done)
    worker.start()
    ...after an issuing transaction commits:  worker.wake()
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass

from app.search.backend import IndexDoc, SearchBackend, SearchUnavailable

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class OutboxItem:
    """One pending change: ``doc`` to add or replace, or ``doc=None`` to delete ``doc_id``."""

    key: Hashable  # the outbox row id, handed back to ack()
    doc_id: str
    doc: IndexDoc | None


def drain_once(
    backend: SearchBackend,
    fetch: Callable[[int], Sequence[OutboxItem]],
    ack: Callable[[list[Hashable]], None],
    batch: int = 200,
) -> int:
    """Index one batch of pending items; returns how many were handled (0 = idle).

    Raises SearchUnavailable / IndexBusy without acknowledging anything."""
    items = list(fetch(batch))
    if not items:
        return 0
    latest: dict[str, OutboxItem] = {}
    for item in items:  # several changes to one document: the last one wins
        latest[item.doc_id] = item
    upserts = [i.doc for i in latest.values() if i.doc is not None]
    deletes = [i.doc_id for i in latest.values() if i.doc is None]
    if upserts:
        backend.index(upserts)
    for doc_id in deletes:
        backend.delete(doc_id)
    ack([i.key for i in items])
    return len(items)


class IndexWorker:
    """Thread that calls drain_once() whenever woken, and every ``idle`` seconds."""

    def __init__(
        self,
        backend: SearchBackend,
        fetch: Callable[[int], Sequence[OutboxItem]],
        ack: Callable[[list[Hashable]], None],
        *,
        batch: int = 200,
        idle: float = 1.0,
        retry: float = 2.0,
    ):
        self.backend, self.fetch, self.ack = backend, fetch, ack
        self.batch, self.idle, self.retry = batch, idle, retry
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.last_error: str | None = None

    def start(self) -> IndexWorker:
        if self._thread is None or not self._thread.is_alive():
            self._stop.clear()
            self._thread = threading.Thread(target=self._run, name="search-indexer", daemon=True)
            self._thread.start()
        return self

    def wake(self) -> None:
        """Call after a transaction that wrote outbox rows has committed."""
        self._wake.set()

    def stop(self, timeout: float = 10.0) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                while drain_once(self.backend, self.fetch, self.ack, self.batch):
                    if self._stop.is_set():
                        return
                self.last_error = None
                wait = self.idle
            except SearchUnavailable as exc:  # busy (rebuild running) or broken: retry later
                self.last_error = str(exc)
                log.warning("search indexing postponed: %s %s", exc, exc.problems)
                wait = self.retry
            except Exception as exc:  # noqa: BLE001 - keep the thread alive, the rows stay pending
                self.last_error = repr(exc)
                log.exception("search indexing failed")
                wait = self.retry
            self._wake.wait(wait)
            self._wake.clear()
