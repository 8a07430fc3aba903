"""Issued documents (已发文书): the one way to list, count and open them.

Lists and counts filter with `visible_documents` and a single read asks `can`, which applies
the same filter to one row; an inspector's read is audited here and nowhere else.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from sqlalchemy import Select, func, or_, select
from sqlalchemy.orm import Session, joinedload

from app import audit
from app.access.policy import Principal, can, is_inspector_read, visible_documents
from app.common import media_types
from app.common.download import Download
from app.container import Casefile
from app.drafting import status as document_status
from app.drafting.models import IssuedDocument
from app.errors import NotFound, ValidationFailed, WorkflowError
from app.identity.models import Unit, all_units
from app.renditions.models import Rendition
from app.search.normalize import fold
from app.templating import doctypes
from app.templating.models import TemplateVersion


class RenditionPending(WorkflowError):
    """The PDF rendition is not made yet: ask again later."""

    code = "rendition_pending"


@dataclass(frozen=True)
class DocumentPage:
    total: int | None  # None when not asked for
    page: int
    per_page: int
    documents: list[IssuedDocument]
    statuses: dict[int, str] = field(default_factory=dict)  # id → issued | superseded | revoked
    status: str | None = None  # the status filter it was asked for

    def status_of(self, doc: IssuedDocument) -> str:
        return self.statuses.get(doc.id, document_status.VALID)

    def status_label(self, doc: IssuedDocument) -> str:
        return document_status.label(self.status_of(doc))


# 成文日期 newest first (the default) or oldest first; ties by the order of issuing
SORTS = {
    "date_desc": (IssuedDocument.issue_date.desc(), IssuedDocument.id.desc()),
    "date_asc": (IssuedDocument.issue_date.asc(), IssuedDocument.id.asc()),
}
SORT_LABELS = {"date_desc": "成文日期（由近及远）", "date_asc": "成文日期（由远及近）"}


@dataclass(frozen=True)
class DocumentFilter:
    """How a list of issued documents is narrowed and sorted (已发文书, 最近发文, the API).

    One field per filter: a new filter is a field, a check in `document_filter` and a clause
    in `apply`. Empty values filter nothing."""

    doc_type: str = ""  # 文书类型: a search type of the document-type registry
    unit: str = ""  # unit code of the issuing unit
    year: int | None = None  # the year of 成文日期
    status: str = ""  # issued | superseded | revoked (app/drafting/status.py)
    sort: str = "date_desc"
    template_ids: frozenset[str] = field(default=frozenset(), repr=False)  # of doc_type

    def apply(self, query: Select) -> Select:
        if self.doc_type:
            query = query.where(
                IssuedDocument.template_version_id.in_(
                    select(TemplateVersion.id).where(
                        TemplateVersion.template_id.in_(sorted(self.template_ids))
                    )
                )
            )
        if self.unit:
            query = query.where(
                IssuedDocument.unit_id.in_(select(Unit.id).where(Unit.code == self.unit))
            )
        if self.year is not None:
            query = query.where(IssuedDocument.number_year == self.year)
        if self.status:
            query = query.where(document_status.status_condition(self.status))
        return query.order_by(*SORTS[self.sort])

    @property
    def active(self) -> bool:
        return bool(self.doc_type or self.unit or self.year is not None or self.status)


def document_filter(
    session: Session, *, doc_type: str | None = None, unit: str | None = None,
    year: int | str | None = None, sort: str | None = None, status: str | None = None,
) -> DocumentFilter:  # fmt: skip
    """The filter as the user gave it; a bad value is refused naming its field: type (a
    document type of the registry), unit (a unit code), year (YYYY), sort (date_desc |
    date_asc)."""
    doc_type, unit = (doc_type or "").strip(), (unit or "").strip()
    year_text = str(year).strip() if year is not None else ""
    errors = []
    types = doctypes.registry_for(session).types
    if doc_type and (doc_type not in types or not types[doc_type].template_ids):
        errors.append(
            {"field": "type", "label": "文书类型", "message": f"没有“{doc_type[:40]}”这种文书类型"}
        )
    if unit and session.scalar(select(Unit.id).where(Unit.code == unit)) is None:
        errors.append({"field": "unit", "label": "单位", "message": f"单位“{unit[:40]}”不存在"})
    if year_text and not re.fullmatch(r"[12][0-9]{3}", year_text):
        errors.append({"field": "year", "label": "年度", "message": "应为四位年份，如 2026"})
    if sort not in (None, "", *SORTS):
        errors.append(
            {
                "field": "sort",
                "label": "排序",
                "message": "应为 date_desc（成文日期由近及远）或 date_asc（由远及近）",
            }
        )
    try:
        status = document_status.parse_status((status or "").strip()) or ""
    except ValidationFailed as exc:
        errors += exc.errors
    if errors:
        raise ValidationFailed("筛选条件有误：" + "；".join(e["label"] for e in errors), errors)
    return DocumentFilter(
        doc_type=doc_type, unit=unit, year=int(year_text) if year_text else None, status=status,
        sort=sort or "date_desc",
        template_ids=frozenset(types[doc_type].template_ids) if doc_type else frozenset(),
    )  # fmt: skip


def filter_choices(session: Session) -> dict[str, dict[str, str]]:
    """What the filter offers: document types {search type: label}, units {code: name} and
    statuses {key: label}."""
    types = {
        t.search_type: t.label
        for t in doctypes.registry_for(session).types.values()
        if t.template_ids
    }
    units = {u.code: u.name for u in all_units(session)}
    return {"types": types, "units": units, "statuses": dict(document_status.STATUS_LABELS)}


def list_documents(
    session: Session, p: Principal, page: int = 1, per_page: int = 30,
    filters: DocumentFilter | None = None, *, count: bool = True,
) -> DocumentPage:  # fmt: skip
    """The documents this principal may read, one page of them, narrowed and sorted by
    `filters` (default: every one, 成文日期 newest first). `count=False`: no total (None),
    for a page that shows only the first few (the home page's 最近发文)."""
    page, per_page = max(1, page), min(100, max(1, per_page))
    query = select(IssuedDocument).where(visible_documents(p))
    query = (filters or DocumentFilter()).apply(query)
    total = None
    if count:
        total = (
            session.scalar(select(func.count()).select_from(query.order_by(None).subquery())) or 0
        )
    docs = list(
        session.scalars(
            # the unit's name and the status badge of each row, in the same statement
            query.options(joinedload(IssuedDocument.unit), joinedload(IssuedDocument.status_record))
            .offset((page - 1) * per_page)
            .limit(per_page)
        )
    )
    statuses = {d.id: d.status_record.status if d.status_record else document_status.VALID
                for d in docs}  # fmt: skip
    return DocumentPage(total=total, page=page, per_page=per_page, documents=docs,
                        statuses=statuses,
                        status=(filters.status if filters else None) or None)  # fmt: skip


def count_documents(session: Session, p: Principal, filters: DocumentFilter | None = None) -> int:
    query = (filters or DocumentFilter()).apply(
        select(IssuedDocument.id).where(visible_documents(p))
    )
    return session.scalar(select(func.count()).select_from(query.order_by(None).subquery())) or 0


def open_document(
    session: Session,
    p: Principal,
    doc_id: int,
    action: str = "document.read",
    via: str = "",
    remote_addr: str = "",
) -> IssuedDocument:
    """The document, if this principal may read (or download) it; NotFound otherwise, so that
    a document one may not see is indistinguishable from one that does not exist. A read that
    only an inspector grant allows is written to the audit log (a download is audited by
    `document_file`, for everyone)."""
    doc = session.get(IssuedDocument, doc_id,  # with what its page shows beside it
                      options=[joinedload(IssuedDocument.unit), joinedload(IssuedDocument.draft)])  # fmt: skip
    if doc is None or not can(session, p, action, doc):
        raise NotFound(f"文书 {doc_id} 不存在或您无权查看")
    if action == "document.read" and is_inspector_read(p, doc.unit_id):
        detail = {"via": via} if via else {}
        audit.record(session, action, actor=p.user, object_type="document", object_id=doc.id,
                     detail=detail, remote_addr=remote_addr, at_commit=True)  # fmt: skip
    return doc


def document_file(
    cf: Casefile,
    session: Session,
    p: Principal,
    doc_id: int,
    fmt: str = "docx",
    *,
    via: str = "",
    remote_addr: str = "",
) -> Download:
    """The issued DOCX (`fmt` "docx") or its PDF rendition ("pdf"), if `p` may download it
    (NotFound otherwise); a PDF not yet made is a conflict (409) to retry later. Every download
    is audited (document.download with the format and `via`)."""
    doc = open_document(session, p, doc_id, "document.download", via=via, remote_addr=remote_addr)
    if fmt == "pdf":
        rendition = session.scalars(
            select(Rendition).where(Rendition.document_id == doc.id)
        ).first()
        if rendition is None:
            raise RenditionPending("PDF 版式文件尚在生成中，请稍后再试")
        found = Download(cf.blobs.get(rendition.pdf_sha256), "application/pdf", f"{doc.number}.pdf")
    else:
        found = Download(cf.blobs.get(doc.docx_sha256), media_types.DOCX, f"{doc.number}.docx")
    detail = {"format": fmt} | ({"via": via} if via else {})
    audit.record(session, "document.download", actor=p.user, object_type="document",
                 object_id=doc.id, detail=detail, remote_addr=remote_addr, at_commit=True)  # fmt: skip
    return found


# ---- finding a document by its number or title (归入案卷, the picker) -------------------------

_NUMBER_TAIL = re.compile(r"\((\d{4})\)(\d+)号?$")


def number_key(text: str) -> str:
    """A 发文字号 as search compares it: every bracket style (〔〕 [] （） ［］ …), full-width
    digits and traditional characters folded by search's normalisation, spaces dropped, so
    武政法审[2026]2号 and 武政法审 〔2026〕 2 号 are the same number."""
    return fold(text).replace(" ", "").removesuffix("号")


def document_id_by_number(session: Session, text: str) -> int | None:
    """The issued document whose 发文字号 is `text` in any bracket style, or None."""
    key = number_key(text)
    tail = _NUMBER_TAIL.search(key + "号")
    if tail is None:
        return None
    rows = session.execute(
        select(IssuedDocument.id, IssuedDocument.number).where(
            IssuedDocument.number_year == int(tail[1]), IssuedDocument.number_seq == int(tail[2])
        )
    )
    return next((doc_id for doc_id, number in rows if number_key(number) == key), None)


def _like(text: str) -> str:
    return "%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def lookup_documents(
    session: Session, p: Principal, text: str, limit: int = 10
) -> list[IssuedDocument]:
    """Documents `p` may read whose number or title holds what was typed (the picker that
    files a document into a case file): the list rule (`visible_documents`), newest first."""
    text = (text or "").strip()[:100]
    key = number_key(text)
    if not key:
        return []
    # brackets of any style match any one character in SQL; the exact comparison follows
    number_pattern = _like(key).replace("(", "_").replace(")", "_")
    query = (
        select(IssuedDocument)
        .where(visible_documents(p))
        .where(or_(IssuedDocument.number.like(number_pattern, escape="\\"),
                   IssuedDocument.title.like(_like(text), escape="\\")))
        .order_by(IssuedDocument.issue_date.desc(), IssuedDocument.id.desc())
        .limit(max(1, min(limit, 50)) * 4)
    )  # fmt: skip
    found = [
        d for d in session.scalars(query)
        if key in number_key(d.number) or fold(text) in fold(d.title)
    ]  # fmt: skip
    for d in found:
        _ = d.unit.name
    return found[: max(1, min(limit, 50))]
