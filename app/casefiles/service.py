"""Case files (案卷): create, file documents and uploads into them, close them with their
archival references (档号, DA/T 22-2015). Who may do what is app.access.policy's answer.

Long module: every rule of a case file's life (create, file, upload, close with 档号) in one place, as the one service the surfaces call.

Functions take the caller's session and principal and run in the caller's transaction, like
app/drafting; every change is written to the audit log in the same transaction.
"""

from __future__ import annotations

import datetime as dt
import os
import re

from sqlalchemy import Select, and_, func, or_, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from app import audit
from app.access.policy import Principal, can, is_inspector_read, visible_case_files
from app.blobs.store import store_blob
from app.casefiles.attachments import MEDIA_TYPES, InspectedUpload, inspect_upload, printable_name
from app.casefiles.contents import (
    CaseFileView,
    case_file_contents,
    item_sha256,
    items_of,
)
from app.casefiles.metadata import case_gaps, item_gaps
from app.casefiles.models import (
    KINDS,
    RETENTION,
    ROLES,
    ArchivalReference,
    ArchivalSequence,
    ArchiveUnit,
    Attachment,
    CaseFile,
    CaseFileItem,
)
from app.casefiles.ocr import ocr_result, queue_ocr
from app.common.clock import today_in_china
from app.common.ids import in_range
from app.common.text import check_text, collect_text
from app.container import Casefile
from app.db.base import utcnow
from app.drafting.documents import document_id_by_number
from app.drafting.models import IssuedDocument
from app.errors import Forbidden, NotFound, ValidationFailed, require_confirmation
from app.identity.models import Unit
from app.jobs.models import OutboxEvent
from app.presenters import casefiles as presenters
from app.templating import doctypes
from app.templating.models import TemplateVersion

REFERENCE_RE = re.compile(
    r"^(?P<fonds>[^-]+)-(?P<category>[A-Z]+)·(?P<year>\d{4})-(?P<retention>Y|D30|D10)-"
    r"(?P<org>.+)-(?P<seq>\d{4})$"
)


# ---- archival settings ----------------------------------------------------------------------


def fonds_code_for(session: Session, unit: Unit, default: str) -> str:
    """全宗号: the unit's own, else the nearest ancestor's, else *default* (the configured
    CASEFILE_FONDS_CODE, Settings.fonds_code)."""
    seen: set[int] = set()
    current: Unit | None = unit
    while current is not None and current.id not in seen:
        seen.add(current.id)
        settings = session.get(ArchiveUnit, current.id)
        if settings is not None and settings.fonds_code:
            return settings.fonds_code
        current = current.parent
    return default


def org_code_for(session: Session, unit: Unit) -> str:
    """机构代码: configured per unit, by default the unit code."""
    settings = session.get(ArchiveUnit, unit.id)
    return (settings.org_code if settings and settings.org_code else None) or unit.code


def set_archive_codes(
    session: Session, unit: Unit, fonds_code: str | None = None, org_code: str | None = None
) -> None:
    for value, label in ((fonds_code, "全宗号"), (org_code, "机构代码")):
        if value is not None and not re.fullmatch(r"[A-Za-z0-9]{1,16}", value):
            raise ValidationFailed(f"{label}只能由字母和数字组成（1–16 位）")
    row = session.get(ArchiveUnit, unit.id) or ArchiveUnit(unit_id=unit.id)
    if fonds_code is not None:
        row.fonds_code = fonds_code
    if org_code is not None:
        row.org_code = org_code
    session.add(row)


def format_reference(
    fonds: str, category: str, year: int, retention: str, org: str, seq: int
) -> str:
    """Z109-WS·2026-Y-FZB-0012: 全宗号-门类代码·年度-保管期限-机构代码-件号."""
    if not 1 <= seq <= 9999:
        raise ValueError("件号 must be 1..9999")
    return f"{fonds}-{category}·{year}-{retention}-{org}-{seq:04d}"


def allocate_item_number(
    session: Session, fonds: str, category: str, year: int, retention: str, org: str
) -> int:
    """Next 件号 of the sequence, in the caller's transaction (gapless, like numbering.py)."""
    insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    keys = dict(fonds_code=fonds, category_code=category, year=year, retention=retention,
                org_code=org)  # fmt: skip
    session.execute(
        insert(ArchivalSequence)
        .values(**keys, last_value=0)
        .on_conflict_do_nothing(index_elements=list(keys))
    )
    return session.execute(
        update(ArchivalSequence)
        .where(*(getattr(ArchivalSequence, k) == v for k, v in keys.items()))
        .values(last_value=ArchivalSequence.last_value + 1)
        .returning(ArchivalSequence.last_value)
    ).scalar_one()


# ---- reading --------------------------------------------------------------------------------


def get_case_file(session: Session, p: Principal | None, case_id: int, action: str = "casefile.read"
                  ) -> CaseFile:  # fmt: skip
    """The case file, if this principal may do `action` on it (None: the operator)."""
    case = session.get(CaseFile, case_id)
    if case is None or (p is not None and not can(session, p, "casefile.read", case)):
        raise NotFound(f"案卷 {case_id} 不存在或您无权查看")
    if p is not None and action != "casefile.read" and not can(session, p, action, case):
        if case.status == "closed" and action in {"casefile.edit", "casefile.close"}:
            raise Forbidden(f"案卷 {case_id} 已归档，不能再改动")
        raise Forbidden("您无权办理此操作")
    return case


def case_files_query(p: Principal | None, status: str | None = None,
                     unit_code: str | None = None, year: int | None = None) -> Select:  # fmt: skip
    """The case files this principal reads (None: the operator), newest first.

    `year` is the 年度: the archival year of a closed case file; for an open one the year it
    would get today, i.e. its decision date's year, else the year it was created (China time).
    """
    query = select(CaseFile).order_by(CaseFile.created_at.desc(), CaseFile.id.desc())
    if p is not None:
        query = query.where(visible_case_files(p))
    if status:
        query = query.where(CaseFile.status == status)
    if unit_code:
        query = query.join(Unit, Unit.id == CaseFile.unit_id).where(Unit.code == unit_code)
    if year is not None:
        # created_at is naive UTC: the China-time year starts 8 hours earlier
        start = dt.datetime(year, 1, 1) - dt.timedelta(hours=8)
        end = dt.datetime(year + 1, 1, 1) - dt.timedelta(hours=8)
        query = query.where(
            or_(
                CaseFile.archive_year == year,
                and_(
                    CaseFile.archive_year.is_(None),
                    or_(
                        CaseFile.decided_on.between(dt.date(year, 1, 1), dt.date(year, 12, 31)),
                        and_(
                            CaseFile.decided_on.is_(None),
                            CaseFile.created_at >= start,
                            CaseFile.created_at < end,
                        ),
                    ),
                ),
            )
        )
    return query


def find_case_files(session: Session, p: Principal | None, *, status: str | None = None,
                    unit_code: str | None = None, year: int | str | None = None) -> Select:  # fmt: skip
    """The query of the case files `p` reads with the filters as the user gave them; a bad one
    is refused naming its field: status (open | closed), unit (a unit code), year (YYYY)."""
    errors = []
    if status not in (None, "", "open", "closed"):
        errors.append({"field": "status", "label": "状态", "message": "应为 open 或 closed"})
    if year not in (None, "") and not re.fullmatch(r"[12][0-9]{3}", str(year)):
        errors.append({"field": "year", "label": "年度", "message": "应为四位年份，如 2026"})
    if unit_code and session.scalar(select(Unit.id).where(Unit.code == unit_code)) is None:
        errors.append({"field": "unit", "label": "单位", "message": f"单位“{unit_code}”不存在"})
    if errors:
        raise ValidationFailed("查询条件有误：" + "；".join(e["label"] for e in errors), errors)
    return case_files_query(p, status or None, unit_code or None,
                            int(year) if year not in (None, "") else None)  # fmt: skip


def list_case_files(session: Session, p: Principal | None, status: str | None = None,
                    unit_code: str | None = None, year: int | str | None = None) -> list[CaseFile]:  # fmt: skip
    query = find_case_files(session, p, status=status, unit_code=unit_code, year=year)
    return list(session.scalars(query))


def item_file(cf: Casefile, session: Session, p: Principal | None, case_id: int, item_id: int,
              remote_addr: str = "", searchable: bool = False, **detail) -> tuple[bytes, str, str]:  # fmt: skip
    """The original file of one item: (bytes, media type, download name); with `searchable`,
    a scan's PDF/A copy with its recognised text layer instead (NotFound until there is one).
    Every download is audited; a document the principal may not download (知悉范围) is not
    found."""
    case = get_case_file(session, p, case_id)
    item = session.get(CaseFileItem, item_id)
    hidden = (
        item is not None
        and item.document_id is not None
        and p is not None
        and not can(session, p, "document.download", item.document)
    )
    if item is None or item.case_file_id != case.id or hidden:
        raise NotFound(f"案卷 {case_id} 中没有第 {item_id} 项材料，或您无权下载")
    copy = ocr_result(session, item.attachment_id) if searchable and item.attachment_id else None
    if searchable and (copy is None or copy.pdf_sha256 is None):
        raise NotFound(
            f"第 {item.position} 件还没有可检索的 PDF 副本（文字识别未完成或未识别出文字）"
        )
    if searchable:
        detail["format"] = "searchable-pdf"
    audit.record(session, "casefile.download", actor=p.user if p else None, object_type="case_file",
                 object_id=case.id, detail={"item": item.id, **detail}, remote_addr=remote_addr,
                 at_commit=True)  # fmt: skip
    if copy is not None:
        stem = os.path.splitext(item.attachment.original_name)[0]
        return cf.blobs.get(copy.pdf_sha256), MEDIA_TYPES["pdf"], f"{stem}（可检索）.pdf"
    if item.document_id:
        doc = item.document
        return cf.blobs.get(doc.docx_sha256), MEDIA_TYPES["docx"], f"{doc.number}.docx"
    att = item.attachment
    return cf.blobs.get(att.sha256), att.media_type, att.original_name


def record_read(session: Session, p: Principal | None, case: CaseFile, action: str,
                remote_addr: str = "", **detail) -> None:  # fmt: skip
    """Reads through an inspector grant are audited (DESIGN.md invariant 4)."""
    if p is not None and is_inspector_read(p, case.unit_id):
        audit.record(session, action, actor=p.user, object_type="case_file", object_id=case.id,
                     detail=detail, remote_addr=remote_addr, at_commit=True)  # fmt: skip


def open_case_file(session: Session, p: Principal | None, case_id: int, *, via: str = "",
                   remote_addr: str = "") -> CaseFileView:  # fmt: skip
    """Read a case file (页面、`case show`、API): NotFound unless `p` may read it; an inspector's
    read is audited; the items come with what `p` may not see of them."""
    case = get_case_file(session, p, case_id)
    record_read(session, p, case, "casefile.read", remote_addr=remote_addr,
                **({"via": via} if via else {}))  # fmt: skip
    return case_file_contents(session, p, case)


def creatable_units(session: Session, p: Principal) -> list[Unit]:
    """The units in which `p` may open a case file, by code (empty: may open none)."""
    units = session.scalars(select(Unit).order_by(Unit.code))
    return [u for u in units if can(session, p, "casefile.create", u)]


def find_document_id(session: Session, ref: int | str) -> int:
    """The issued document a user names by its id or its 发文字号 (e.g. 武政法审〔2026〕1号, or
    武政法审[2026]1号, （2026）, 〔2026〕, with or without spaces: search's normalisation)."""
    text = str(ref).strip()
    if text.isdigit():
        return int(text)
    doc_id = document_id_by_number(session, text)  # any bracket style, with or without spaces
    if doc_id is None:
        message = f"没有发文字号为“{text}”的文书" if text else "请填写文书编号或发文字号"
        raise NotFound(message, [{"field": "document_id", "label": "文书", "message": message}])
    return doc_id


# ---- changes --------------------------------------------------------------------------------


def queue_index(session: Session, items: list[CaseFileItem]) -> None:
    """Re-index what these items hold (the document's case files and 档号, the attachment
    itself) from the outbox once the caller's transaction commits."""
    for key in dict.fromkeys(
        ("document_id", i.document_id) if i.document_id else ("attachment_id", i.attachment_id)
        for i in items
    ):
        session.add(OutboxEvent(kind="index", payload={key[0]: key[1]}))


EARLIEST_DATE = dt.date(1949, 1, 1)
LATEST_YEARS_AHEAD = 10


def date_range() -> tuple[dt.date, dt.date]:
    """The dates a case file may carry: from 1949-01-01 to ten years after today (China time);
    a year-1 decision date would give the 档号 `…·1-D10-…`."""
    today = today_in_china()
    try:
        return EARLIEST_DATE, today.replace(year=today.year + LATEST_YEARS_AHEAD)
    except ValueError:  # 29 February, ten years on
        return EARLIEST_DATE, today.replace(year=today.year + LATEST_YEARS_AHEAD, day=28)


def _date(value, label: str, field: str = "") -> dt.date | None:
    if value in (None, ""):
        return None
    if isinstance(value, dt.datetime):
        value = value.date()
    if not isinstance(value, dt.date):
        try:
            value = dt.date.fromisoformat(str(value))
        except ValueError:
            message = f"{label}不是有效日期（应为 YYYY-MM-DD）：{str(value)[:40]}"
            errors = [{"field": field, "label": label, "message": "应为 YYYY-MM-DD 格式的日期"}]
            raise ValidationFailed(message, errors if field else None) from None
    first, last = date_range()
    if not first <= value <= last:
        reason = f"应在 {first.isoformat()} 至 {last.isoformat()} 之间"
        errors = [{"field": field, "label": label, "message": reason}]
        raise ValidationFailed(f"{label}{reason}：{value.isoformat()}", errors if field else None)
    return value


DATE_FIELDS = {"received_on": "收文日期", "reviewed_on": "审查日期", "meeting_on": "会议审议日期",
               "decided_on": "决定日期"}  # fmt: skip


# the case file's free text (one rule: app/common/text.py)
CASE_TEXT = {
    "title": {"label": "案卷题名", "max_length": 200, "required": True},
    "responsible": {"label": "责任人", "max_length": 200},
    "note": {"label": "备注", "max_length": 2000, "multiline": True},
}


def create_case_file(
    session: Session,
    p: Principal,
    *,
    title: str,
    kind: str,
    unit_code: str,
    retention: str,
    responsible: str = "",
    note: str = "",
    remote_addr: str = "",
    **dates,
) -> CaseFile:
    errors: list[dict] = []
    title = collect_text(errors, title, "title", "案卷题名", max_length=200, required=True)
    responsible = collect_text(errors, responsible, "responsible", "责任人", max_length=200)
    note = collect_text(errors, note, "note", "备注", multiline=True, max_length=2000)
    if kind not in KINDS:
        errors.append({"field": "kind", "label": "类别", "message": "应为：" + "、".join(KINDS)})
    if retention not in RETENTION:
        errors.append({"field": "retention", "label": "保管期限", "message": "应为 Y、D30 或 D10"})
    unit = session.scalars(select(Unit).where(Unit.code == unit_code)).first()
    if unit is None:
        errors.append({"field": "unit", "label": "单位", "message": f"单位“{unit_code}”不存在"})
    values = {}
    for key, label in DATE_FIELDS.items():
        try:
            values[key] = _date(dates.get(key), label, key)
        except ValidationFailed as exc:
            errors += exc.errors
    if errors:
        raise ValidationFailed(
            "案卷信息有误：" + "；".join(f"{e['label']}{e['message']}" for e in errors), errors
        )
    if not can(session, p, "casefile.create", unit):
        raise Forbidden(f"您无权在“{unit.name}”建立案卷")
    case = CaseFile(
        title=title, kind=kind, unit_id=unit.id, retention=retention, responsible=responsible,
        note=note, created_by=p.user.id, status="open", category_code="WS", **values,
    )  # fmt: skip
    session.add(case)
    session.flush()
    audit.record(session, "casefile.create", actor=p.user, object_type="case_file", object_id=case.id,
                 detail={"title": title, "kind": kind, "unit": unit.code, "retention": retention},
                 remote_addr=remote_addr)  # fmt: skip
    return case


def update_case_file(session: Session, p: Principal, case_id: int, remote_addr: str = "",
                     **changes) -> CaseFile:  # fmt: skip
    """Edit the description of an open case file (title, people, dates, retention, note)."""
    case = get_case_file(session, p, case_id, "casefile.edit")
    done = {}
    for key, value in changes.items():
        if key in DATE_FIELDS:
            value = _date(value, DATE_FIELDS[key], key)
        elif key == "retention" and value not in RETENTION:
            raise ValidationFailed("保管期限应为 Y、D30 或 D10")
        elif key == "kind" and value not in KINDS:
            raise ValidationFailed("案卷类别不正确")
        elif key in CASE_TEXT:
            value = check_text(value, key, **CASE_TEXT[key])
        elif key not in {"retention", "kind"}:
            raise ValueError(key)
        if getattr(case, key) != value:
            setattr(case, key, value)
            done[key] = value
    if "title" in done:  # the title is indexed with every document and attachment filed here
        queue_index(session, items_of(session, case))
    if done:
        audit.record(session, "casefile.edit", actor=p.user, object_type="case_file",
                     object_id=case.id, detail=done, remote_addr=remote_addr)  # fmt: skip
    return case


def _next_position(session: Session, case: CaseFile) -> int:
    last = session.scalar(
        select(func.max(CaseFileItem.position)).where(CaseFileItem.case_file_id == case.id)
    )
    return (last or 0) + 1


def _check_role(role: str | None, default: str) -> str:
    role = role or default
    if role not in ROLES:
        message = "材料类别应为：" + "、".join(ROLES)
        raise ValidationFailed(
            message, [{"field": "role", "label": "材料类别", "message": message}]
        )
    return role


def _reply_target(session: Session, case: CaseFile, reply_to: int | None) -> int | None:
    if reply_to is None:
        return None
    target = session.get(CaseFileItem, reply_to) if in_range(reply_to) else None
    if target is None or target.case_file_id != case.id:
        message = f"被答复的材料（第{reply_to}项）不在本案卷中"
        raise ValidationFailed(message, [{"field": "reply_to", "label": "答复的材料",
                                          "message": message}])  # fmt: skip
    return target.id


def add_document(session: Session, p: Principal, case_id: int, document_id: int,
                 role: str | None = None, reply_to: int | None = None,
                 remote_addr: str = "") -> CaseFileItem:  # fmt: skip
    """File an issued document into an open case file."""
    case = get_case_file(session, p, case_id, "casefile.edit")
    doc = session.get(IssuedDocument, document_id) if in_range(document_id) else None
    if doc is None or not can(session, p, "document.read", doc):
        message = f"文书 {document_id} 不存在或您无权查看"
        raise NotFound(message, [{"field": "document_id", "label": "文书", "message": message}])
    exists = session.scalar(
        select(CaseFileItem.id).where(
            CaseFileItem.case_file_id == case.id, CaseFileItem.document_id == doc.id
        )
    )
    if exists:
        message = f"文书 {doc.number} 已在本案卷中"
        raise ValidationFailed(
            message, [{"field": "document_id", "label": "文书", "message": message}]
        )
    tv = session.get(TemplateVersion, doc.template_version_id)
    # by default, the role its template's document type declares (document_type.casefile_role)
    default_role = doctypes.registry_for(session).of_template(tv.template_id).casefile_role
    item = CaseFileItem(
        case_file_id=case.id, position=_next_position(session, case),
        role=_check_role(role, default_role), title=doc.title,
        document_id=doc.id, reply_to_item_id=_reply_target(session, case, reply_to),
        responsible=doc.unit.name, doc_date=doc.issue_date, added_by=p.user.id,
        doc_number=doc.number,
    )  # fmt: skip
    session.add(item)
    session.flush()
    queue_index(session, [item])
    audit.record(session, "casefile.add", actor=p.user, object_type="case_file", object_id=case.id,
                 detail={"item": item.id, "document": doc.id, "number": doc.number, "role": item.role},
                 remote_addr=remote_addr)  # fmt: skip
    return item


def add_attachment(
    cf: Casefile,
    session: Session,
    p: Principal,
    case_id: int,
    upload: InspectedUpload | bytes,
    filename: str | None = None,
    *,
    title: str | None = None,
    role: str | None = None,
    responsible: str = "",
    doc_date: dt.date | str | None = None,
    doc_number: str = "",
    reply_to: int | None = None,
    remote_addr: str = "",
) -> CaseFileItem:
    """Store material in an open case file. `upload` is what `inspect_upload` passed, checked
    before the caller opened its write transaction (the web, the API and the CLI do so); raw
    bytes and a `filename` are inspected here, inside the transaction (scripts and tests).
    A scan (an image, a PDF page without text) is queued for text recognition (casefiles/ocr.py)."""
    case = get_case_file(session, p, case_id, "casefile.edit")
    role = _check_role(role, "other")
    reply_target = _reply_target(session, case, reply_to)
    doc_date = _date(doc_date, "文件日期", "doc_date")
    if not isinstance(upload, InspectedUpload):
        upload = inspect_upload(upload, filename, cf.settings.max_upload_bytes)
    errors: list[dict] = []
    title = collect_text(errors, title, "title", "题名", max_length=200)
    responsible = collect_text(errors, responsible, "responsible", "责任者", max_length=100)
    doc_number = collect_text(errors, doc_number, "doc_number", "文号", max_length=64)
    if errors:
        raise ValidationFailed(
            "材料信息有误：" + "；".join(f"{e['label']}{e['message']}" for e in errors), errors
        )
    title = title or os.path.splitext(upload.name)[0]
    sha = store_blob(session, cf.blobs, upload.data, upload.media_type)
    session.flush()  # the blob row before the rows that name it
    attachment = Attachment(
        sha256=sha, size=len(upload.data), media_type=upload.media_type,
        file_type=upload.file_type, original_name=upload.name, pages=upload.pages,
        text=upload.text, unit_id=case.unit_id, uploaded_by=p.user.id,
    )  # fmt: skip
    session.add(attachment)
    session.flush()
    item = CaseFileItem(
        case_file_id=case.id, position=_next_position(session, case), role=role, title=title[:200],
        attachment_id=attachment.id, reply_to_item_id=reply_target,
        responsible=responsible, doc_date=doc_date, added_by=p.user.id, doc_number=doc_number,
    )  # fmt: skip
    session.add(item)
    session.flush()
    queue_index(session, [item])
    scanned = queue_ocr(session, attachment)  # a scan is read by the outbox, never here
    detail = {"item": item.id, "attachment": attachment.id, "sha256": sha, "name": upload.name,
              "type": upload.file_type, "role": role, **({"ocr": True} if scanned else {})}  # fmt: skip
    if upload.sent_name != upload.name:  # the name as sent, when cleaning changed it
        detail["sent_name"] = printable_name(upload.sent_name)
    audit.record(session, "casefile.add", actor=p.user, object_type="case_file", object_id=case.id,
                 detail=detail, remote_addr=remote_addr)  # fmt: skip
    return item


ITEM_FIELDS = {"title": "题名", "responsible": "责任者", "doc_date": "日期", "doc_number": "文号",
               "role": "材料类别"}  # fmt: skip


def _item_of(session: Session, case: CaseFile, item_id: int) -> CaseFileItem:
    item = session.get(CaseFileItem, item_id) if in_range(item_id) else None
    if item is None or item.case_file_id != case.id:
        raise NotFound(f"案卷 {case.id} 中没有第 {item_id} 项材料")
    return item


def update_item(session: Session, p: Principal, case_id: int, item_id: int, remote_addr: str = "",
                **changes) -> CaseFileItem:  # fmt: skip
    """Correct an item's catalogue entry (题名, 责任者, 日期, 文号, 材料类别) before closing."""
    case = get_case_file(session, p, case_id, "casefile.edit")
    item = _item_of(session, case, item_id)
    errors, values = [], {}
    for key, value in changes.items():
        if key not in ITEM_FIELDS:
            raise ValueError(key)
        try:
            if key == "doc_date":
                value = _date(value, "日期", "doc_date")
            elif key == "role":
                value = _check_role(value, item.role)
            else:
                limit = {"title": 200, "responsible": 100, "doc_number": 64}[key]
                value = check_text(value, key, ITEM_FIELDS[key], max_length=limit,
                                   required=key == "title")  # fmt: skip
        except ValidationFailed as exc:
            errors += exc.errors
            continue
        values[key] = value
    if errors:
        raise ValidationFailed(
            "材料信息有误：" + "；".join(f"{e['label']}{e['message']}" for e in errors), errors
        )
    done = {k: v for k, v in values.items() if getattr(item, k) != v}
    for key, value in done.items():
        setattr(item, key, value)
    if done:
        session.flush()
        queue_index(session, [item])
        audit.record(session, "casefile.item_edit", actor=p.user, object_type="case_file",
                     object_id=case.id, detail={"item": item.id} | {k: str(v) for k, v in done.items()},
                     remote_addr=remote_addr)  # fmt: skip
    return item


def _renumber(session: Session, items: list[CaseFileItem]) -> None:
    """Positions 1..n in the given order (two passes: positions are unique per case file)."""
    for n, item in enumerate(items, start=1):
        item.position = -n
    session.flush()
    for item in items:
        item.position = -item.position
    session.flush()


def remove_item(session: Session, p: Principal, case_id: int, item_id: int,
                remote_addr: str = "") -> None:  # fmt: skip
    """Take a wrongly filed item out of an open case file; the document or the uploaded file
    itself stays in the archive, and the items after it move up."""
    case = get_case_file(session, p, case_id, "casefile.edit")
    item = _item_of(session, case, item_id)
    items = items_of(session, case)
    replies = [i for i in items if i.reply_to_item_id == item.id]
    if replies:
        names = "、".join(f"第{i.position}件" for i in replies)
        raise ValidationFailed(f"{names}答复的是这一件，请先移除或修改{names}")
    detail = {"item": item.id, "position": item.position, "title": item.title,
              **({"document": item.document_id} if item.document_id else
                 {"attachment": item.attachment_id})}  # fmt: skip
    queue_index(session, [item])  # its case files change
    session.delete(item)
    session.flush()
    _renumber(session, [i for i in items if i.id != item.id])
    audit.record(session, "casefile.remove", actor=p.user, object_type="case_file",
                 object_id=case.id, detail=detail, remote_addr=remote_addr)  # fmt: skip


def move_item(session: Session, p: Principal, case_id: int, item_id: int, position: int,
              remote_addr: str = "") -> CaseFileItem:  # fmt: skip
    """Put an item at `position` (1 = first) in an open case file; the others keep their order."""
    case = get_case_file(session, p, case_id, "casefile.edit")
    item = _item_of(session, case, item_id)
    items = items_of(session, case)
    if not isinstance(position, int) or not 1 <= position <= len(items):
        message = f"位置应为 1 至 {len(items)} 之间的整数"
        raise ValidationFailed(
            message, [{"field": "position", "label": "位置", "message": message}]
        )
    before = item.position
    if position != before:
        order = [i for i in items if i.id != item.id]
        order.insert(position - 1, item)
        _renumber(session, order)
        audit.record(session, "casefile.move", actor=p.user, object_type="case_file",
                     object_id=case.id, detail={"item": item.id, "from": before, "to": position},
                     remote_addr=remote_addr)  # fmt: skip
    return item


def archive_year(case: CaseFile) -> int:
    """年度: the year of the decision, else the year the case file is closed (China time)."""
    return (case.decided_on or today_in_china()).year


CLOSE_CONFIRMATION = (
    "我已核对卷内文件及其责任者、日期，确认归档。归档将编制档号，案卷此后不能再改动，不可撤销"
)


def refuse_incomplete(case: CaseFile, items: list[CaseFileItem]) -> None:
    """Closing refuses a case file the archive check would fail (app/casefiles/metadata.py),
    naming the case file's and every item's missing metadata (`item_id`: where to fill it)."""
    errors = []
    if gaps := case_gaps(case):
        errors.append({"field": "case", "label": "案卷", "message": "缺少" + "、".join(gaps)})
    for item in items:
        if gaps := item_gaps(item):
            errors.append({"field": f"items.{item.id}", "item_id": item.id,
                           "label": f"第{item.position}件「{item.title or '（无题名）'}」",
                           "message": "缺少" + "、".join(gaps)})  # fmt: skip
    if errors:
        raise ValidationFailed(
            "案卷的必备元数据不全，不能归档："
            + "；".join(e["label"] + e["message"] for e in errors),
            errors,
        )


def close_case_file(session: Session, p: Principal | None, case_id: int, actor=None,
                    remote_addr: str = "", *, default_fonds: str,
                    confirmed: bool = True) -> list[ArchivalReference]:  # fmt: skip
    """Give every item its 档号 in filing order and make the case file read-only.

    *default_fonds*: the 全宗号 of units that set none (Settings.fonds_code). Closing cannot be
    undone: a surface that takes a click passes the user's confirmation of CLOSE_CONFIRMATION
    as `confirmed` (an API call is its own)."""
    case = get_case_file(session, p, case_id, "casefile.close")
    if case.status != "open":
        raise Forbidden(f"案卷 {case_id} 已归档")
    items = items_of(session, case)
    if not items:
        raise ValidationFailed("案卷中还没有文件，不能归档")
    refuse_incomplete(case, items)
    require_confirmation(confirmed, CLOSE_CONFIRMATION)
    unit = session.get(Unit, case.unit_id)
    fonds, org, year = (
        fonds_code_for(session, unit, default_fonds),
        org_code_for(session, unit),
        archive_year(case),
    )
    refs = []
    for item in items:
        seq = allocate_item_number(session, fonds, case.category_code, year, case.retention, org)
        ref = format_reference(fonds, case.category_code, year, case.retention, org, seq)
        if session.scalar(select(ArchivalReference.id).where(ArchivalReference.reference == ref)):
            raise ValidationFailed(
                f"档号 {ref} 已被导入的案卷占用，请为本单位设置不同的全宗号或机构代码"
            )
        refs.append(ArchivalReference(
            item_id=item.id, case_file_id=case.id, reference=ref, fonds_code=fonds,
            category_code=case.category_code, year=year, retention=case.retention, org_code=org,
            seq=seq, sha256=item_sha256(item),
        ))  # fmt: skip
    session.add_all(refs)
    user = p.user if p is not None else actor
    case.status, case.closed_at = "closed", utcnow()
    case.closed_by = user.id if user is not None else None
    case.archive_year, case.fonds_code = year, fonds
    session.flush()
    queue_index(session, items)  # documents get their 档号, attachments their number
    audit.record(session, "casefile.close", actor=user, object_type="case_file", object_id=case.id,
                 detail={"references": [r.reference for r in refs]}, remote_addr=remote_addr)  # fmt: skip
    return refs


# ---- transitional: app/api/casefiles.py reads the JSON from here; once it imports
# app.presenters.casefiles these two go, with the import of the presenter above.


def case_file_payload(session: Session, case: CaseFile, with_items: bool = True,
                      p: Principal | None = None) -> dict:  # fmt: skip
    if not with_items:
        return presenters.case_file_summary(case)
    return presenters.case_file_view_payload(case_file_contents(session, p, case))


item_payload = presenters.item_payload
