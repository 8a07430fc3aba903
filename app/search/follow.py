"""Keep a node's own search index current by following the outbox (multi-node deployments).

With PostgreSQL several web nodes share the records and the blobs, but each keeps its search
index on local disk (Whoosh wants local files: mmap and fcntl locks). The outbox worker runs
on one node and consumes each "index" event once, so the other nodes' indexes would never
hear of a new document. A node started with ``CASEFILE_INDEX_FOLLOW=1`` instead reads the
"index" events itself, whether or not another node has processed them, and applies them to
its own index:

- its position is a cursor (the outbox id) kept in the index directory, beside the index it
  describes, so a rebuilt or replaced index starts over consistently;
- ids are allocated before commit, so an event with a lower id can become visible after one
  with a higher id. The cursor therefore only moves past events older than ``LAG``; newer
  ones are re-read on every poll and skipped when already applied (applying twice is
  harmless: ``index()`` replaces by doc id);
- an index without a cursor of its own (new, replaced, missing, corrupt or of an older
  format) is rebuilt from the archive first.

On a node that follows, the outbox worker acknowledges "index" events without indexing
(``_handle_index`` checks ``settings.index_follow``): the follower is the only writer of
that node's index.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
import threading
import time
from pathlib import Path

from sqlalchemy import func, select

from app.container import Casefile
from app.db.base import utcnow
from app.jobs.models import OutboxEvent
from app.jobs.outbox import build_index_doc
from app.search import IndexBusy, SearchUnavailable
from app.search.indexing import rebuild_index

log = logging.getLogger("casefile.follow")
CURSOR_FILE = "casefile-follow.json"
LAG = dt.timedelta(minutes=10)  # longer than any transaction between id and commit
BATCH = 200


def _cursor_path(cf: Casefile) -> Path:
    return Path(cf.settings.index_dir) / CURSOR_FILE


def read_cursor(cf: Casefile) -> int | None:
    """The outbox id up to which this node's index is known to be complete; None if unknown."""
    try:
        data = json.loads(_cursor_path(cf).read_text("utf-8"))
    except (OSError, ValueError):
        return None
    epoch = cf.search.stats().extra.get("epoch")
    if data.get("epoch") != epoch:  # the index was rebuilt or replaced since
        return None
    cursor = data.get("cursor")
    return cursor if isinstance(cursor, int) and cursor >= 0 else None


def write_cursor(cf: Casefile, cursor: int) -> None:
    path = _cursor_path(cf)
    tmp = path.with_name(path.name + ".tmp")
    data = {"cursor": cursor, "epoch": cf.search.stats().extra.get("epoch")}
    with open(tmp, "w", encoding="utf-8") as f:
        json.dump(data, f)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


def _settled_before(cf: Casefile, moment: dt.datetime) -> int:
    """The highest "index" event id created before *moment* (0 if none)."""
    with cf.db.read() as s:
        return (
            s.scalar(
                select(func.max(OutboxEvent.id)).where(
                    OutboxEvent.kind == "index", OutboxEvent.created_at < moment
                )
            )
            or 0
        )


def rebuild(cf: Casefile) -> int:
    """Rebuild this node's index from the archive and set the cursor behind it."""

    started = utcnow()
    n = rebuild_index(cf)
    # everything created before the rebuild began, minus the lag, is in the new index;
    # later events are re-applied by the next polls
    write_cursor(cf, _settled_before(cf, started - LAG))
    return n


class IndexFollower:
    """Applies "index" events after the cursor to this node's index; see the module doc."""

    def __init__(self, cf: Casefile):
        self.cf = cf
        self._applied: set[int] = set()  # event ids above the cursor already applied

    def poll(self) -> int:
        """Apply what is new; returns how many events were applied. Raises IndexBusy and
        SearchUnavailable from the index (the caller retries)."""

        cf = self.cf
        cursor = read_cursor(cf)
        if cursor is None:
            # a new, replaced or broken index: its position is unknown, so rebuild it from
            # the archive, which also sets the cursor from the moment the rebuild began
            rebuild(cf)
            self._applied.clear()
            cursor = read_cursor(cf) or 0
        with cf.db.read() as s:
            events = list(
                s.execute(
                    select(OutboxEvent.id, OutboxEvent.payload, OutboxEvent.created_at)
                    .where(OutboxEvent.kind == "index", OutboxEvent.id > cursor)
                    .order_by(OutboxEvent.id)
                    .limit(BATCH)
                )
            )
            new = [(i, p) for i, p, _c in events if i not in self._applied]
            docs = [build_index_doc(cf, s, payload) for _i, payload in new]
        if docs:
            started = time.monotonic()
            cf.search.index([d for d in docs if d is not None])
            self._applied.update(i for i, _p in new)
            log.info("applied %d index events in %.2f s", len(docs), time.monotonic() - started)
        settled = utcnow() - LAG
        advance = cursor
        for i, _p, created in events:
            if created >= settled or i not in self._applied:
                break
            advance = i
        if advance > cursor:
            write_cursor(cf, advance)
            self._applied = {i for i in self._applied if i > advance}
        return len(docs)


class FollowerThread(threading.Thread):
    """Runs an IndexFollower every *interval* seconds in `casefile run`."""

    def __init__(self, cf: Casefile, interval: float = 0.25):
        super().__init__(name="casefile-index-follow", daemon=True)
        self.follower = IndexFollower(cf)
        self.interval = interval
        self.stopping = threading.Event()

    def run(self) -> None:

        while not self.stopping.is_set():
            delay = self.interval
            try:
                if self.follower.poll() >= BATCH:
                    delay = 0
            except IndexBusy:
                delay = 2.0
            except SearchUnavailable as exc:
                log.warning("search index unusable (%s); rebuilding from the archive", exc)
                try:
                    rebuild(self.follower.cf)
                except Exception:  # noqa: BLE001 - keep following; verify reports it
                    log.exception("rebuilding the search index failed")
                    delay = 30.0
            except Exception:  # noqa: BLE001 - never stop following
                log.exception("index follower iteration failed")
                delay = 5.0
            self.stopping.wait(delay)

    def stop(self) -> None:
        self.stopping.set()
