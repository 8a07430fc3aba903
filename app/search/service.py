"""Searching the archive as a user (检索): the one path the web page, the API and `casefile search`
take. The query is checked field by field, the scope comes from the access policy, an
inspector's search is written to the audit log, and hits come back as plain data: an issued
document, or an attachment with the case file and item where this user sees it.
"""

from __future__ import annotations

import datetime as dt
import html
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session

from app import audit
from app.access.policy import Principal, search_scope
from app.casefiles.models import Attachment
from app.common.text import check_text
from app.container import Casefile
from app.drafting import status as document_status
from app.drafting.models import IssuedDocument
from app.errors import ValidationFailed
from app.search import (
    Hit,
    QuerySyntaxError,
    SearchError,
    SearchQuery,
    SearchScope,
    SearchUnavailable,
)
from app.search.indexing import ATTACHMENT_STATUS, attachment_locations, parse_doc_id
from app.search.query import STATUS_LABELS as STATUS_WORDS
from app.templating import doctypes


class IndexBuilding(SearchUnavailable):
    """The index holds nothing yet while the archive does: it is still being built (a new or
    restored store whose outbox worker has not caught up, a rebuild under way). Every surface
    says so instead of answering "0 results"."""


INDEX_BUILDING = "检索索引正在建立，请稍后再试。"
SEARCH_ACTION = "search"  # the audit action of an inspector's search, whatever the surface
MAX_PAGE, MAX_PER_PAGE, DEFAULT_PER_PAGE = 1000, 100, 20
# the index's status values and what a user reads (有效 / 已被替代 / 已撤销; 案卷材料)
STATUS_LABELS = document_status.STATUS_LABELS | {ATTACHMENT_STATUS: "案卷材料"}


@dataclass(frozen=True)
class SearchHit:
    """One hit: an issued document (`document_id`), or an attachment (`attachment_id`) shown
    at the first item of a case file this user reads (`case_file_id`, `item_id`; None when
    there is none)."""

    search_id: str  # the index's id: "12" for a document, "att-7" for an attachment
    kind: str  # "document" | "attachment" | "unknown"
    record_id: int
    number: str  # 发文字号, or for an attachment its 档号 once filed
    title: str
    doc_type: str
    type_label: str
    unit_code: str
    unit_name: str
    issued_on: dt.date
    score: float
    snippet_html: str  # HTML-escaped, <mark> around each match
    case_file_id: int | None = None
    case_title: str = ""
    item_id: int | None = None
    status: str = "issued"  # issued (有效) | superseded | revoked; filed for an attachment

    @property
    def status_label(self) -> str:
        return STATUS_LABELS.get(self.status, self.status)

    @property
    def document_id(self) -> int | None:
        return self.record_id if self.kind == "document" else None

    @property
    def attachment_id(self) -> int | None:
        return self.record_id if self.kind == "attachment" else None

    @property
    def snippet_text(self) -> str:
        """The snippet as plain text, matches in 【】 (for a terminal)."""
        return html.unescape(re.sub(r"<mark>(.*?)</mark>", r"【\1】", self.snippet_html))


@dataclass(frozen=True)
class SearchPage:
    query: SearchQuery
    total: int
    page: int
    per_page: int
    elapsed_ms: float
    hits: list[SearchHit]
    facets: dict[str, dict[str, int]] = field(default_factory=dict)
    type_labels: dict[str, str] = field(default_factory=dict)  # every type's Chinese name

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page)) if self.per_page else 1


def _invalid(name: str, label: str, message: str, summary: str = "") -> ValidationFailed:
    errors = [{"field": name, "label": label, "message": message}]
    return ValidationFailed(summary or f"{label}：{message}", errors)


def _year(value, name: str) -> int | None:
    value = str(value).strip() if value is not None else ""
    if not value:
        return None
    if not value.isdigit() or not 1900 <= int(value) <= 2200:
        raise _invalid(name, "年度", f"“{value}”无效，应为 1900 至 2200 之间的年份")
    return int(value)


def _number(value, name: str, label: str, default: int, top: int) -> int:
    """A page number or size; past the top it is the top (a result list has an end)."""
    if value in (None, ""):
        return default
    try:
        number = int(str(value).strip())
    except ValueError:
        raise _invalid(name, label, "应为正整数") from None
    if number < 1:
        raise _invalid(name, label, "应为正整数")
    return min(number, top)


def _status(value) -> str:
    """A status filter: the index's value or its Chinese name (有效, 已被替代, 已撤销)."""
    value = str(value or "").strip()
    if not value:
        return ""
    found = STATUS_WORDS.get(value) or (value if value in STATUS_LABELS else None)
    if found is None:
        raise _invalid("status", "状态", "应为 有效、已被替代 或 已撤销")
    return found


def search_query(
    text: str = "",
    *,
    types: Iterable[str] = (),
    units: Iterable[str] = (),
    year: int | str | None = None,
    year_from: int | str | None = None,
    year_to: int | str | None = None,
    reviewer: str = "",
    conclusion: str = "",
    status: str = "",
    sort: str = "relevance",
    page: int | str | None = None,
    per_page: int | str | None = None,
) -> SearchQuery:
    """A SearchQuery from what the user typed; a bad value is refused naming its field
    (type, year, year_from, year_to, status, sort, page, per_page)."""
    doc_types = frozenset(t for t in types if t)  # checked against the registry when run
    if sort not in ("relevance", "date", "", None):
        raise _invalid("sort", "排序", "应为 relevance（相关度）或 date（日期）")
    text = check_text(text, "q", "检索式")
    reviewer = check_text(reviewer, "reviewer", "审核人")
    conclusion = check_text(conclusion, "conclusion", "审查结论")
    return SearchQuery(
        text=text[:500],
        doc_types=doc_types,
        units=frozenset(u for u in units if u),
        year_from=_year(year_from, "year_from") if year_from not in (None, "") else _year(year, "year"),
        year_to=_year(year_to, "year_to") if year_to not in (None, "") else _year(year, "year"),
        reviewer=(reviewer or "")[:50],
        conclusion=(conclusion or "")[:20],
        status=_status(status),
        sort="date" if sort == "date" else "relevance",
        page=_number(page, "page", "页码", 1, MAX_PAGE),
        per_page=_number(per_page, "per_page", "每页条数", DEFAULT_PER_PAGE, MAX_PER_PAGE),
    )  # fmt: skip


def query_from_params(params) -> SearchQuery:
    """The query of a request's parameters (a werkzeug MultiDict: q, type*, unit*, year,
    year_from, year_to, reviewer, conclusion, status, sort, page, per_page)."""
    return search_query(
        params.get("q") or "", types=params.getlist("type"), units=params.getlist("unit"),
        year=params.get("year"), year_from=params.get("year_from"), year_to=params.get("year_to"),
        reviewer=params.get("reviewer") or "", conclusion=params.get("conclusion") or "",
        status=params.get("status") or "", sort=params.get("sort") or "relevance",
        page=params.get("page"), per_page=params.get("per_page"),
    )  # fmt: skip


def resolve_hits(
    session: Session, p: Principal | None, hits: Sequence[Hit], labels: dict[str, str]
) -> list[SearchHit]:
    """Search engine hits as SearchHits: attachments with the case file `p` sees them in."""
    parsed = {h.doc_id: parse_doc_id(h.doc_id) or ("unknown", 0) for h in hits}
    places = attachment_locations(
        session, p, [rid for kind, rid in parsed.values() if kind == "attachment"]
    )
    out = []
    for h in hits:
        kind, rid = parsed[h.doc_id]
        place = places.get(rid) if kind == "attachment" else None
        out.append(SearchHit(
            search_id=h.doc_id, kind=kind, record_id=rid, number=h.number, title=h.title,
            doc_type=h.doc_type, type_label=labels.get(h.doc_type, h.doc_type), unit_code=h.unit_code,
            unit_name=h.unit_name, issued_on=h.issued_on, score=h.score,
            snippet_html=h.snippet_html, case_file_id=place.case_file_id if place else None,
            case_title=place.case_title if place else "", item_id=place.item_id if place else None,
            status=h.status,
        ))  # fmt: skip
    return out


def scope_for(session: Session, p: Principal | None) -> SearchScope:
    return search_scope(session, p) if p is not None else SearchScope.everything()


def run_search(
    cf: Casefile,
    session: Session,
    p: Principal | None,
    query: SearchQuery,
    *,
    via: str,
    remote_addr: str = "",
) -> SearchPage:
    """Search as `p` (None: the operator, everything). A query the engine cannot read is
    refused naming the field `q`; SearchUnavailable passes through (the index is missing or
    being rebuilt). An inspector's search is audited as `search` with the query, its
    filters, the number of results and `via` — the same keys from every surface. Needs a
    writable session for that audit."""
    types = doctypes.registry(cf.catalog, session)
    unknown = sorted(t for t in query.doc_types if types.resolve(t) is None)
    if unknown:
        choices = "、".join(types.labels().values())
        raise _invalid("type", "文书类型", f"未知的类型 {'、'.join(unknown)}（可选：{choices}）")
    try:
        results = cf.search.search(query, scope_for(session, p))
    except QuerySyntaxError as exc:
        raise _invalid("q", "检索式", str(exc), f"检索式有误：{exc}") from None
    if results.total == 0 and index_building(cf, session):
        raise IndexBuilding(INDEX_BUILDING)
    if p is not None and p.has("inspector"):
        audit.record(session, SEARCH_ACTION, actor=p.user, detail={
            "query": query.text, "types": sorted(query.doc_types), "units": sorted(query.units),
            "year_from": query.year_from, "year_to": query.year_to, "reviewer": query.reviewer,
            "conclusion": query.conclusion, "status": query.status, "results": results.total,
            "via": via,
        }, remote_addr=remote_addr, at_commit=True)  # fmt: skip
    return SearchPage(
        query=query, total=results.total, page=results.page, per_page=results.per_page,
        elapsed_ms=results.elapsed_ms, hits=resolve_hits(session, p, results.hits, types.labels()),
        facets=results.facets, type_labels=types.labels(),
    )  # fmt: skip


def index_building(cf: Casefile, session: Session) -> bool:
    """True when the index is empty (or missing) while the archive holds documents or
    uploaded material: asked only when a search found nothing, so it costs nothing otherwise."""
    try:
        if cf.search.stats().doc_count:
            return False
    except (SearchError, OSError):
        return False  # a broken index is SearchUnavailable's business, not "being built"
    has_records = session.scalar(select(IssuedDocument.id).limit(1)) is not None
    return has_records or session.scalar(select(Attachment.id).limit(1)) is not None


def similar_documents(
    cf: Casefile, session: Session, p: Principal | None, document_id: int, limit: int = 5
) -> list[SearchHit]:
    """Documents and attachments most like an issued document, within what `p` reads; empty
    when the index cannot answer (a page works without it)."""
    try:
        hits = cf.search.similar(str(document_id), scope_for(session, p), limit=limit)
    except SearchError:
        return []
    return resolve_hits(session, p, hits, doctypes.registry(cf.catalog, session).labels())
