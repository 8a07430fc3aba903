"""Scanned material made searchable (识别文字): which uploads are read, the outbox event that
reads them, what a reader sees of its progress, and the result kept beside the original.

An upload never waits for recognition: `add_attachment` queues an "ocr" outbox event in its own
transaction, and the outbox worker runs `recognise` after the commit (app/jobs/outbox.py). The
original stays as uploaded; the result is an `AttachmentOcr` row (write-once) with the text,
the pages that yielded none, and a PDF/A copy with an invisible text layer (a write-once blob).
The same transaction queues the attachment's re-indexing, so search finds the text like typed
text. Its progress, as the case file shows it: 待识别, 识别中, 已识别, 未识别出文字, 识别失败.
"""

from __future__ import annotations

import io
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from PIL import Image
from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from app import audit
from app.blobs.store import store_blob
from app.casefiles.attachments import IMAGE_TYPES
from app.casefiles.models import Attachment, AttachmentOcr, CaseFileItem
from app.common import media_types
from app.container import Casefile
from app.db.base import utcnow
from app.jobs.models import OutboxEvent
from app.jobs.stuck import STUCK_ATTEMPTS
from app.ocr import ENGINE_NAME, encode_page, page_images, read_page, searchable_pdf

EVENT_KIND = "ocr"
# A PDF page with fewer characters than this in its own text is taken for a scan.
MIN_PAGE_CHARS = 10

STATUS_LABELS = {
    "pending": "待识别",
    "running": "识别中",
    "done": "已识别",
    "empty": "未识别出文字",
    "failed": "识别失败",
}


def needs_ocr(file_type: str, text: str) -> bool:
    """An image, or a PDF with a page that carries (almost) no text of its own: a scan.
    `text` is what the upload inspection extracted (a PDF's pages apart by form feeds)."""
    if file_type in IMAGE_TYPES:
        return True
    if file_type != "pdf":
        return False
    return any(sum(not ch.isspace() for ch in page) < MIN_PAGE_CHARS for page in text.split("\f"))


def queue_ocr(session: Session, attachment: Attachment) -> bool:
    """Queue recognition of a new attachment when it is a scan (in the caller's transaction)."""
    if not needs_ocr(attachment.file_type, attachment.text or ""):
        return False
    session.add(OutboxEvent(kind=EVENT_KIND, payload={"attachment_id": attachment.id}))
    return True


# ---- progress, as a case file shows it -----------------------------------------------------


@dataclass(frozen=True)
class OcrState:
    status: str  # pending | running | done | empty | failed
    pages: int | None = None
    empty_pages: tuple[int, ...] = ()
    has_copy: bool = False  # the PDF/A copy with its text layer

    @property
    def label(self) -> str:
        return STATUS_LABELS[self.status]

    @property
    def note(self) -> str:
        """What a clerk reads beside the item: the status and the pages without text."""
        if self.status == "done" and self.empty_pages:
            return f"{self.label}（第 {pages_text(self.empty_pages)} 页未识别出文字）"
        if self.status == "empty" and self.pages and self.pages > 1:
            return f"{self.label}（共 {self.pages} 页）"
        return self.label

    def as_dict(self) -> dict:
        return {"status": self.status, "status_label": self.label, "pages": self.pages,
                "empty_pages": list(self.empty_pages), "searchable_copy": self.has_copy}  # fmt: skip


def pages_text(pages: Iterable[int]) -> str:
    """1、3、4: page numbers as a clerk reads them."""
    return "、".join(str(p) for p in pages)


def ocr_states(session: Session, attachment_ids: Iterable[int]) -> dict[int, OcrState]:
    """The recognition state of each of these attachments that is a scan (others are left
    out). Derived from the result row, else from the outbox event: claimed (leased, no error
    yet) is 识别中, due or waiting to retry is 待识别, given up or failed STUCK_ATTEMPTS times
    is 识别失败 (the worker still retries it)."""
    ids = set(attachment_ids)
    if not ids:
        return {}
    out: dict[int, OcrState] = {}
    for row in session.scalars(select(AttachmentOcr).where(AttachmentOcr.attachment_id.in_(ids))):
        status = "done" if row.pdf_sha256 else "empty"
        out[row.attachment_id] = OcrState(status, row.pages, tuple(row.empty_pages or ()),
                                          row.pdf_sha256 is not None)  # fmt: skip
    waiting = ids - set(out)
    if not waiting:
        return out
    now = utcnow()
    events = session.scalars(
        select(OutboxEvent)
        .where(
            OutboxEvent.kind == EVENT_KIND,
            or_(OutboxEvent.processed_at.is_(None), OutboxEvent.last_error.is_not(None)),
        )  # fmt: skip
        .order_by(OutboxEvent.id)
    )
    for event in events:
        att_id = (event.payload or {}).get("attachment_id")
        if att_id not in waiting:
            continue
        if event.processed_at is not None or event.attempts >= STUCK_ATTEMPTS:
            status = "failed"  # given up, or failing again and again (verify reports it)
        elif event.available_at > now and event.last_error is None:
            status = "running"
        else:
            status = "pending"
        out[att_id] = OcrState(status)
    return out


def ocr_result(session: Session, attachment_id: int) -> AttachmentOcr | None:
    return session.scalars(
        select(AttachmentOcr).where(AttachmentOcr.attachment_id == attachment_id)
    ).first()


def ocr_text(session: Session, attachment_id: int) -> str:
    """The recognised text of an attachment ("" when none)."""
    row = ocr_result(session, attachment_id)
    return row.text if row is not None else ""


# ---- the work, run by the outbox -----------------------------------------------------------


def _original_jpeg(data: bytes, file_type: str) -> bytes | None:
    """The uploaded JPEG itself, when the copy can show it unchanged (one upright page in grey
    or RGB): no second lossy compression."""
    if file_type != "jpg":
        return None
    with Image.open(io.BytesIO(data)) as img:
        upright = img.getexif().get(0x0112, 1) == 1
        plain = img.format == "JPEG" and img.mode in ("L", "RGB")  # not MPO, not CMYK
        return data if upright and plain else None


def recognise(cf: Casefile, attachment_id: int, keep_alive: Callable[[], None] = lambda: None
              ) -> OcrState | None:  # fmt: skip
    """Read every page of a scanned attachment, keep the result and queue its re-indexing.

    Slow (seconds per page) and outside any transaction; `keep_alive` is called after each
    page (the outbox extends its lease). Runs once per attachment: a second call returns the
    state already recorded. None when the attachment is gone."""
    with cf.db.read() as s:
        if (row := ocr_result(s, attachment_id)) is not None:
            return ocr_states(s, [attachment_id])[attachment_id]
        att = s.get(Attachment, attachment_id)
        if att is None:
            return None
        data, file_type = cf.blobs.get(att.sha256), att.file_type
        title = s.scalar(
            select(CaseFileItem.title).where(CaseFileItem.attachment_id == att.id).limit(1)
        ) or att.original_name  # fmt: skip
    started = time.perf_counter()
    jpeg = _original_jpeg(data, file_type)
    pages = []
    for page in page_images(data, file_type):
        pages.append((encode_page(page.image, page.dpi, jpeg), read_page(page.image)))
        keep_alive()
    texts = [text for _, text in pages]
    empty = [n for n, text in enumerate(texts, start=1) if not text.has_text]
    copy = None
    if len(empty) < len(pages):
        copy = searchable_pdf(pages, title=title, producer=f"casefile（{ENGINE_NAME}）")
    seconds = round(time.perf_counter() - started, 2)
    with cf.db.write() as s:
        if (row := ocr_result(s, attachment_id)) is not None:  # another worker was quicker
            return ocr_states(s, [attachment_id])[attachment_id]
        sha = store_blob(s, cf.blobs, copy, media_types.PDF) if copy is not None else None
        s.flush()  # the blob row before the row that names it
        row = AttachmentOcr(
            attachment_id=attachment_id, engine=ENGINE_NAME[:60],
            text="\f".join(t.text if t.has_text else "" for t in texts),
            pages=len(pages), empty_pages=empty, pdf_sha256=sha, seconds=seconds,
        )  # fmt: skip
        s.add(row)
        s.add(OutboxEvent(kind="index", payload={"attachment_id": attachment_id}))
        case_id = s.scalar(
            select(CaseFileItem.case_file_id).where(CaseFileItem.attachment_id == attachment_id)
            .order_by(CaseFileItem.id).limit(1)
        )  # fmt: skip
        detail = {"attachment": attachment_id, "pages": len(pages), "empty_pages": empty,
                  "copy_sha256": sha}  # fmt: skip
        audit.record(s, "casefile.ocr", object_type="case_file" if case_id else "attachment",
                     object_id=case_id or attachment_id, detail=detail)  # fmt: skip
    return OcrState("done" if sha else "empty", len(pages), tuple(empty), sha is not None)
