"""Drain the outbox: derived work (search index, PDF renditions, e-mail, text recognition of
scans) written in the same transaction as its cause, done after the commit, retried with
back-off, caught up at start-up.

Slow work (LibreOffice, index commits, SMTP) happens outside any write transaction, so issuing
and reviewing never wait for it.

Claiming is one mechanism for every kind: a worker selects the due events (on PostgreSQL with
FOR UPDATE SKIP LOCKED, so concurrent workers take disjoint sets; on SQLite the write
transaction is BEGIN IMMEDIATE, one writer at a time), pushes their `available_at` forward by
LEASE and commits before any work starts. No other worker sees them while the lease runs; a
worker killed mid-way lets them go when it ends, and the next worker takes them over. Events
a drain claimed but did not get to are handed back at its end.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
import traceback
from collections.abc import Callable

from sqlalchemy import select, update

from app.blobs.store import store_blob
from app.casefiles.models import Attachment
from app.casefiles.ocr import recognise
from app.common import media_types
from app.container import Casefile
from app.db.base import utcnow
from app.drafting.models import IssuedDocument, ProcessingSlip
from app.drafting.slip import build_slip_docx, slip_data
from app.jobs.errors import GiveUp, Retry, Unreachable
from app.jobs.mail import handle_mail
from app.jobs.models import OutboxEvent
from app.ocr import EngineUnavailable
from app.renditions import ConverterUnavailable, make_rendition
from app.renditions.models import Rendition
from app.search import IndexBusy, SearchUnavailable
from app.search.indexing import attachment_index_doc, index_doc_for, rebuild_index
from app.templating.models import TemplateVersion

log = logging.getLogger("casefile.outbox")
MAX_BACKOFF = dt.timedelta(minutes=30)
# How long a claimed event stays out of other workers' sight. Longer than the slowest handler
# of a batch (a LibreOffice conversion is bounded by its timeout, 120 s by default): a drain
# stops starting events whose lease is about to end and hands them back.
LEASE = dt.timedelta(minutes=10)
LEASE_MARGIN = dt.timedelta(minutes=3)


def _handle_rendition(cf: Casefile, event: OutboxEvent) -> None:

    doc_id = event.payload["document_id"]
    with cf.db.read() as s:
        if s.scalars(select(Rendition).where(Rendition.document_id == doc_id)).first():
            return
        doc = s.get(IssuedDocument, doc_id)
        tv = s.get(TemplateVersion, doc.template_version_id)
        docx = cf.blobs.get(doc.docx_sha256)
        meta = dict(
            number=doc.number,
            template_id=tv.template_id,
            template_version=tv.version,
            title=doc.title,
        )
    try:
        rendition = make_rendition(docx, **meta)
    except ConverterUnavailable as exc:
        raise Retry(str(exc)) from exc
    with cf.db.write() as s:
        if s.scalars(select(Rendition).where(Rendition.document_id == doc_id)).first():
            return
        sha = store_blob(s, cf.blobs, rendition.pdf, "application/pdf")
        s.add(
            Rendition(
                document_id=doc_id,
                pdf_sha256=sha,
                docx_sha256=rendition.docx_sha256,
                pages=rendition.pages,
            )
        )


def build_index_doc(cf: Casefile, session, payload: dict):
    """The IndexDoc of an "index" event's record: an issued document ({"document_id": N})
    or an attachment ({"attachment_id": N}); None if the record is gone."""

    if "attachment_id" in payload:
        att = session.get(Attachment, payload["attachment_id"])
        return attachment_index_doc(session, att) if att is not None else None
    doc = session.get(IssuedDocument, payload["document_id"])
    return index_doc_for(cf, session, doc) if doc is not None else None


def _handle_index(cf: Casefile, event: OutboxEvent) -> None:
    """Index one issued document or attachment into this node's index.

    On a node whose index follows the outbox itself (CASEFILE_INDEX_FOLLOW=1, see
    app/search/follow.py) the event is only acknowledged: the follower applies it."""

    if cf.settings.index_follow:
        return
    with cf.db.read() as s:
        item = build_index_doc(cf, s, event.payload)
    if item is None:
        return
    try:
        cf.search.index([item])
    except IndexBusy as exc:
        raise Retry(f"检索索引正被占用：{exc}") from exc
    except (SearchUnavailable, OSError, ValueError) as exc:
        problems = cf.search.check()
        if not problems and not isinstance(exc, SearchUnavailable):
            raise
        # a corrupt or missing index: rebuild it from the archive (which includes this document)
        log.warning("search index unusable (%s; %s); rebuilding from the archive", exc, problems)
        rebuild_index(cf)


def _handle_slip(cf: Casefile, event: OutboxEvent) -> None:
    """Archive the processing slip (发文稿纸) of a newly issued document, write-once."""

    doc_id = event.payload["document_id"]
    with cf.db.write() as s:
        if s.scalars(select(ProcessingSlip).where(ProcessingSlip.document_id == doc_id)).first():
            return
        doc = s.get(IssuedDocument, doc_id)
        sha = store_blob(
            s,
            cf.blobs,
            build_slip_docx(slip_data(cf, s, doc)),
            media_types.DOCX,
        )
        s.add(ProcessingSlip(document_id=doc_id, docx_sha256=sha))


def _handle_ocr(cf: Casefile, event: OutboxEvent) -> None:
    """Read a scanned attachment's pages (seconds each), keeping this event's lease alive
    page by page; the result row, its blob and the re-indexing commit together."""
    try:
        recognise(cf, event.payload["attachment_id"], keep_alive=lambda: extend_lease(cf, event.id))
    except EngineUnavailable as exc:
        raise Retry(str(exc)) from exc


HANDLERS: dict[str, Callable[[Casefile, OutboxEvent], None]] = {
    "slip": _handle_slip,
    "rendition": _handle_rendition,
    "index": _handle_index,
    "mail": handle_mail,
    "ocr": _handle_ocr,
}
KINDS = tuple(HANDLERS)


def extend_lease(cf: Casefile, event_id: int) -> None:
    """A long handler (text recognition, page by page) keeps its event out of other workers'
    sight for another LEASE."""
    with cf.db.write() as s:
        s.execute(
            update(OutboxEvent)
            .where(OutboxEvent.id == event_id, OutboxEvent.processed_at.is_(None))
            .values(available_at=utcnow() + LEASE)
        )


def _claim(cf: Casefile, kinds: tuple[str, ...], limit: int) -> list[OutboxEvent]:
    """Lease up to *limit* due events of *kinds* to this worker, committed before it returns:
    no other worker gets them until they are finished, handed back or the lease ends."""

    def due(columns, now):
        return (
            select(*columns)
            .where(
                OutboxEvent.processed_at.is_(None),
                OutboxEvent.kind.in_(kinds),
                OutboxEvent.available_at <= now,
            )  # fmt: skip
            .order_by(OutboxEvent.id)
        )

    with cf.db.read() as s:  # an idle worker polls without taking SQLite's write lock
        if s.scalars(due([OutboxEvent.id], utcnow()).limit(1)).first() is None:
            return []
    with cf.db.write() as s:
        now = utcnow()
        query = due([OutboxEvent], now).limit(limit)
        if not cf.db.is_sqlite:  # SQLite: BEGIN IMMEDIATE already keeps other claimers out
            query = query.with_for_update(skip_locked=True)
        events = list(s.scalars(query))
        for event in events:
            event.available_at = now + LEASE
        return events


def _release(cf: Casefile, event_ids: list[int]) -> None:
    """Hand back events this worker claimed but did not start: due again at once."""
    if not event_ids:
        return
    with cf.db.write() as s:
        s.execute(
            update(OutboxEvent)
            .where(OutboxEvent.id.in_(event_ids), OutboxEvent.processed_at.is_(None))
            .values(available_at=utcnow())
        )


def _finish(
    cf: Casefile, event_id: int, error: str | None, retry_only: bool, give_up: bool = False
) -> None:
    with cf.db.write() as s:
        query = select(OutboxEvent).where(OutboxEvent.id == event_id)
        if not cf.db.is_sqlite:
            query = query.with_for_update()  # wait for a claim in progress, never skip
        event = s.scalars(query).first()
        if event is None or event.processed_at is not None:
            return
        if error is None:
            event.processed_at = utcnow()
            event.last_error = None
            return
        if not retry_only:
            event.attempts += 1
        event.last_error = error[:2000]
        if give_up:  # kept with its error, never tried again
            event.processed_at = utcnow()
            return
        delay = min(MAX_BACKOFF, dt.timedelta(seconds=5 * 2 ** min(event.attempts, 12)))
        event.available_at = utcnow() + delay


def drain(cf: Casefile, kinds: tuple[str, ...] = KINDS, limit: int = 100) -> dict[str, int]:
    """Process what is due; returns counts of done / retried / failed events (failed counts
    those given up too: they are kept, processed, with their last_error)."""
    counts = {"done": 0, "retry": 0, "failed": 0}
    down: set[str] = set()  # kinds whose server did not answer: the rest wait for a later round
    claimed = _claim(cf, kinds, limit)
    handed_back: list[int] = []
    try:
        while claimed:
            event = claimed.pop(0)
            if event.kind in down or utcnow() > event.available_at - LEASE_MARGIN:
                handed_back.append(event.id)  # not started: another round (or worker) takes it
                continue
            _run(cf, event, counts, down)
    finally:
        _release(cf, handed_back + [e.id for e in claimed])
    return counts


def _run(cf: Casefile, event: OutboxEvent, counts: dict[str, int], down: set[str]) -> None:
    try:
        HANDLERS[event.kind](cf, event)
    except Retry as exc:
        _finish(cf, event.id, str(exc), retry_only=True)
        counts["retry"] += 1
    except GiveUp as exc:
        log.error("outbox event %s (%s) given up: %s", event.id, event.kind, exc)
        _finish(cf, event.id, f"given up: {exc}", retry_only=False, give_up=True)
        counts["failed"] += 1
    except Exception as exc:  # noqa: BLE001 - a failed job must never stop the worker
        log.warning("outbox event %s (%s) failed: %s", event.id, event.kind, exc)
        if isinstance(exc, Unreachable):
            down.add(event.kind)
        _finish(
            cf,
            event.id,
            "".join(traceback.format_exception_only(exc)).strip(),
            retry_only=False,
        )
        counts["failed"] += 1
    else:
        _finish(cf, event.id, None, retry_only=False)
        counts["done"] += 1


def pending(cf: Casefile) -> list[OutboxEvent]:
    with cf.db.read() as s:
        return list(
            s.scalars(
                select(OutboxEvent)
                .where(OutboxEvent.processed_at.is_(None))
                .order_by(OutboxEvent.id)
            )
        )


# check() problems that mean the index is being written by someone else, not broken
_TRANSIENT = ("write lock held",)


def repair_search_index(cf: Casefile) -> bool:
    """At start-up: rebuild the index from the archive when it is missing, corrupt or of
    an older format (an upgrade), so search comes back without an administrator.
    Returns True when it rebuilt."""

    problems = [p for p in cf.search.check() if not any(t in p for t in _TRANSIENT)]
    if not problems:
        return False
    log.warning("search index unusable (%s); rebuilding from the archive", "; ".join(problems))
    rebuild_index(cf)
    return True


# What a Worker drains each round: (kinds, at most this many events). The first lane keeps the
# index fresh; e-mail goes one message per round, so a hanging mail server holds the index up by
# one timeout (Settings.smtp_timeout) at most. Text recognition takes seconds a page: it has a
# thread of its own (OCR_LANES), so it never holds up the index.
LANES: tuple[tuple[tuple[str, ...], int], ...] = (
    (("slip", "index"), 100), (("mail",), 1), (("rendition",), 5),
)  # fmt: skip
OCR_LANES: tuple[tuple[tuple[str, ...], int], ...] = ((("ocr",), 1),)


class Worker(threading.Thread):
    """Background drainer for `casefile run` and `casefile worker`: round after round, each of
    its lanes in order (LANES: the index first, for freshness, then e-mail, then renditions)."""

    def __init__(self, cf: Casefile, interval: float = 0.5, lanes=LANES,
                 name: str = "casefile-outbox"):  # fmt: skip
        super().__init__(name=name, daemon=True)
        self.cf = cf
        self.interval = interval
        self.lanes = lanes
        self.wake = threading.Event()
        self.stopping = threading.Event()

    def run(self) -> None:
        indexes = any("index" in kinds for kinds, _ in self.lanes)
        try:
            if indexes and not self.cf.settings.index_follow:  # else the follower does it
                repair_search_index(self.cf)
        except Exception:  # noqa: BLE001 - search stays unavailable; verify reports it
            log.exception("could not rebuild the search index at start-up")
        while not self.stopping.is_set():
            try:
                busy = sum(
                    sum(drain(self.cf, kinds, limit).values()) for kinds, limit in self.lanes
                )
            except Exception:  # noqa: BLE001
                log.exception("outbox worker iteration failed")
                busy = 0
            if not busy:
                self.wake.wait(self.interval)
                self.wake.clear()

    def stop(self) -> None:
        self.stopping.set()
        self.wake.set()


def workers(cf: Casefile) -> list[Worker]:
    """The outbox's threads for one process: the derived work, and text recognition apart."""
    return [Worker(cf), Worker(cf, lanes=OCR_LANES, name="casefile-ocr")]
