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
from app.access.policy import Principal, can
from app.blobs.store import store_blob
from app.casefiles.attachments import IMAGE_TYPES
from app.casefiles.models import Attachment, AttachmentOcr, CaseFile, CaseFileItem
from app.common import media_types
from app.container import Casefile
from app.db.base import utcnow
from app.errors import Forbidden, NotFound, ValidationFailed
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


# ---- recognition again (an administrator's) --------------------------------------------------

PREVIOUS_LABELS = {"failed": "识别失败", None: "从未识别"}


@dataclass(frozen=True)
class Requeued:
    """A scan queued for recognition again: where it is filed and what it was."""

    attachment_id: int
    case_file_id: int | None  # None: no longer filed
    item_id: int | None
    position: int | None
    title: str
    previous: str | None  # "failed", or None: never queued (filed before recognition existed)

    def as_dict(self) -> dict:
        return {"attachment": self.attachment_id, "case": self.case_file_id,
                "item": self.item_id, "position": self.position, "title": self.title,
                "previous": self.previous or "never",
                "previous_label": PREVIOUS_LABELS[self.previous]}  # fmt: skip


def _refusal(item: CaseFileItem, state: OcrState | None) -> str | None:
    """Why this item is not recognised again (None: it may be: failed, or never queued)."""
    att = item.attachment
    if att is None:
        return "是已发文书，无需识别文字"
    if not needs_ocr(att.file_type, att.text or ""):
        return "不是扫描件（有文字层或不是图片），无需识别文字"
    if state is None or state.status == "failed":
        return None
    if state.status in ("done", "empty"):
        return f"{state.label}，识别结果保存后不可更改；如需重新识别，请重新扫描后另行上传"
    return f"{state.label}，已在识别队列中"


def failed_attachments(session: Session) -> list[int]:
    """Every attachment whose recognition state is 识别失败, by id."""
    events = session.scalars(
        select(OutboxEvent).where(
            OutboxEvent.kind == EVENT_KIND,
            OutboxEvent.last_error.is_not(None),
            or_(OutboxEvent.processed_at.is_not(None), OutboxEvent.attempts >= STUCK_ATTEMPTS),
        )  # fmt: skip
    )
    ids = {(e.payload or {}).get("attachment_id") for e in events} - {None}
    states = ocr_states(session, ids)
    return sorted(i for i, st in states.items() if st.status == "failed")


def failed_offer(session: Session, p: Principal | None) -> int:
    """How many scans `p` may queue again (the archive checks page's button): the 识别失败
    ones, 0 for anyone but an administrator."""
    if p is not None and not can(session, p, "archive.ocr"):
        return 0
    return len(failed_attachments(session))


def redo_ocr(session: Session, p: Principal | None, *, case_id: int | None = None,
             item_id: int | None = None, failed: bool = False, via: str = "",
             remote_addr: str = "") -> list[Requeued]:  # fmt: skip
    """Queue recognition again (an administrator's; `p` None: the operator), in the caller's
    transaction: of one item of a case file, of every scan of a case file that failed or was
    never queued, or (`failed`) of every attachment whose state is 识别失败. The old event is
    closed with its error and a new one queued; each is audited (`casefile.ocr_redo`). A
    recognised scan is refused: its result is write-once. Returns what was queued."""
    if p is not None and not can(session, p, "archive.ocr"):
        raise Forbidden("只有管理员可以重新识别扫描件文字")
    if failed == (case_id is not None) or (item_id is not None and case_id is None):
        message = "请指定一个案卷（可再指定其中一项材料），或指定全部识别失败的材料，二者选一"
        raise ValidationFailed(message, [{"field": "case", "label": "案卷", "message": message}])
    chosen: list[tuple[Attachment, CaseFileItem | None, str | None]] = []
    if failed:
        for att_id in failed_attachments(session):
            item = session.scalars(
                select(CaseFileItem).where(CaseFileItem.attachment_id == att_id)
                .order_by(CaseFileItem.id).limit(1)
            ).first()  # fmt: skip
            chosen.append((session.get(Attachment, att_id), item, "failed"))
    else:
        if session.get(CaseFile, case_id) is None:
            message = f"案卷 {case_id} 不存在"
            raise NotFound(message, [{"field": "case", "label": "案卷", "message": message}])
        query = select(CaseFileItem).where(CaseFileItem.case_file_id == case_id)
        if item_id is not None:
            query = query.where(CaseFileItem.id == item_id)
        items = list(session.scalars(query.order_by(CaseFileItem.position)))
        if item_id is not None and not items:
            message = f"案卷 {case_id} 中没有第 {item_id} 项材料"
            raise NotFound(message, [{"field": "item", "label": "材料", "message": message}])
        states = ocr_states(session, [i.attachment_id for i in items if i.attachment_id])
        for item in items:
            state = states.get(item.attachment_id)
            reason = _refusal(item, state)
            if reason is None:
                chosen.append((item.attachment, item, state.status if state else None))
            elif item_id is not None:
                message = f"第 {item.position} 件“{item.title}”{reason}"
                raise ValidationFailed(
                    message, [{"field": "item", "label": "材料", "message": message}]
                )
    return [_requeue(session, p, att, item, previous, via, remote_addr)
            for att, item, previous in chosen]  # fmt: skip


def _requeue(session: Session, p: Principal | None, att: Attachment, item: CaseFileItem | None,
             previous: str | None, via: str, remote_addr: str) -> Requeued:  # fmt: skip
    now = utcnow()
    for event in session.scalars(
        select(OutboxEvent).where(OutboxEvent.kind == EVENT_KIND, OutboxEvent.processed_at.is_(None))
    ):  # fmt: skip
        if (event.payload or {}).get("attachment_id") == att.id:
            event.processed_at = now  # closed with its error; verify stops reporting it
            event.last_error = event.last_error or "重新识别时关闭"
    session.add(OutboxEvent(kind=EVENT_KIND, payload={"attachment_id": att.id}))
    detail = {"attachment": att.id, "item": item.id if item else None,
              "previous": PREVIOUS_LABELS[previous], **({"via": via} if via else {})}  # fmt: skip
    audit.record(session, "casefile.ocr_redo", actor=p.user if p else None,
                 object_type="case_file" if item else "attachment",
                 object_id=item.case_file_id if item else att.id, detail=detail,
                 remote_addr=remote_addr)  # fmt: skip
    return Requeued(att.id, item.case_file_id if item else None, item.id if item else None,
                    item.position if item else None, item.title if item else att.original_name,
                    previous)  # fmt: skip


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
