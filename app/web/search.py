"""The search page: a box on every page, results with facets on the side, filters as chips."""

from __future__ import annotations

from dataclasses import dataclass

from flask import Blueprint, g, render_template, request, url_for
from sqlalchemy import select

from app import audit
from app.access.policy import search_scope
from app.identity.models import Unit
from app.search import QuerySyntaxError, SearchQuery, SearchUnavailable
from app.search.backend import DOC_TYPES
from app.search.indexing import attachment_locations, parse_doc_id
from app.web import cf, login_required, remote_addr

bp = Blueprint("search", __name__)

FACET_LABELS = {"doc_type": "文书类型", "unit": "单位", "year": "年度", "reviewer": "审核人"}
FILTER_PARAMS = {"doc_type": "type", "unit": "unit", "year": "year", "reviewer": "reviewer"}
TYPE_LABELS = {
    "commission-letter": "委托公函",
    "legality-review-opinion": "合法性审查意见书",
    "risk-notice": "法律风险提示函",
    "engagement-contract": "法律顾问聘任合同",
    "attachment": "附件材料",
}


@dataclass(frozen=True)
class HitLink:
    """Where a search hit is shown: a document's page, or for an attachment (uploaded material
    of a case file) the case file page at its item, plus the item's download."""

    kind: str  # "document" | "attachment"
    record_id: int  # issued document id / attachment id
    type_label: str
    url: str | None  # None: nothing this user may open (should not happen: search is scoped)
    case_file_id: int | None = None
    case_title: str = ""
    item_id: int | None = None
    download_url: str | None = None


def hit_links(session, principal, hits) -> dict[str, HitLink]:
    """{doc_id: HitLink} for search hits (also for "similar documents")."""
    parsed = {h.doc_id: parse_doc_id(h.doc_id) for h in hits}
    places = attachment_locations(
        session, principal, [p[1] for p in parsed.values() if p and p[0] == "attachment"]
    )
    out: dict[str, HitLink] = {}
    for h in hits:
        kind, rid = parsed[h.doc_id] or ("", 0)
        label = TYPE_LABELS.get(h.doc_type, h.doc_type)
        if kind == "document":
            out[h.doc_id] = HitLink(kind, rid, label, url_for("documents.show", doc_id=rid))
        elif kind == "attachment" and rid in places:
            f = places[rid]
            out[h.doc_id] = HitLink(
                kind, rid, label,
                url_for("casefiles.show", case_id=f.case_file_id, _anchor=f"item-{f.item_id}"),
                f.case_file_id, f.case_title, f.item_id,
                url_for("casefiles.download_item", case_id=f.case_file_id, item_id=f.item_id),
            )  # fmt: skip
        else:
            out[h.doc_id] = HitLink(kind or "unknown", rid, label, None)
    return out


def hit_json(h, link: HitLink) -> dict:
    """One hit in the JSON API: `id` is the issued document's id (null for an attachment,
    which has `attachment_id`, `case_file_id` and `item_id` instead)."""
    out = {
        "id": link.record_id if link.kind == "document" else None,
        "search_id": h.doc_id, "number": h.number, "title": h.title, "type": h.doc_type,
        "type_label": link.type_label, "unit": h.unit_code, "unit_name": h.unit_name,
        "issued_on": h.issued_on.isoformat(), "score": h.score, "snippet_html": h.snippet_html,
        "url": link.url,
    }  # fmt: skip
    if link.kind == "attachment":
        out |= {"attachment_id": link.record_id, "case_file_id": link.case_file_id,
                "case_title": link.case_title, "item_id": link.item_id,
                "download_url": link.download_url}  # fmt: skip
    return out


def query_from_args(args) -> SearchQuery:
    """Turn request arguments into a SearchQuery (shared by the page and the API)."""

    def year(value):
        value = (value or "").strip()
        if not value:
            return None
        if not value.isdigit() or not 1900 <= int(value) <= 2200:
            raise QuerySyntaxError(f"年度“{value}”无效")
        return int(value)

    page = args.get("page", 1, type=int) or 1
    per_page = min(100, max(1, args.get("per_page", 20, type=int) or 20))
    types = frozenset(t for t in args.getlist("type") if t)
    unknown = [t for t in types if t not in DOC_TYPES]
    if unknown:
        raise QuerySyntaxError(f"未知的文书类型：{'、'.join(unknown)}")
    year_value = args.get("year")
    return SearchQuery(
        text=(args.get("q") or "")[:500],
        doc_types=types,
        units=frozenset(u for u in args.getlist("unit") if u),
        year_from=year(args.get("year_from") or year_value),
        year_to=year(args.get("year_to") or year_value),
        reviewer=(args.get("reviewer") or "")[:50],
        conclusion=(args.get("conclusion") or "")[:20],
        status=(args.get("status") or "")[:20],
        sort="date" if args.get("sort") == "date" else "relevance",
        page=max(1, min(page, 1000)),
        per_page=per_page,
    )


def run_search(query: SearchQuery, via: str):
    """Search as the current user; inspectors' searches are written to the audit log."""
    with cf().db.write() as s:
        scope = search_scope(s, g.principal)
        results = cf().search.search(query, scope)
        if g.principal.has("inspector"):
            audit.record(s, "search", actor=g.user, detail={
                "query": query.text, "types": sorted(query.doc_types), "units": sorted(query.units),
                "year_from": query.year_from, "year_to": query.year_to, "reviewer": query.reviewer,
                "results": results.total, "via": via}, remote_addr=remote_addr())  # fmt: skip
    return results


@bp.get("/search")
@login_required
def search():
    args = request.args
    error = results = None
    links: dict[str, HitLink] = {}
    if any(
        args.get(k)
        for k in ("q", "type", "unit", "year", "year_from", "year_to", "reviewer", "conclusion")
    ):
        try:
            results = run_search(query_from_args(args), "web")
            with cf().db.read() as s:
                links = hit_links(s, g.principal, results.hits)
        except QuerySyntaxError as exc:
            error = f"检索式有误：{exc}"
        except SearchUnavailable:
            error = "检索服务暂时不可用（索引正在重建或损坏），请稍后再试或联系管理员。"

    def link(
        drop: str | None = None, add: tuple[str, str] | None = None, page: int | None = None
    ) -> str:
        params = {k: args.getlist(k) for k in args if k not in {"page", drop}}
        if add:
            params[add[0]] = [add[1]]
        if page:
            params["page"] = [str(page)]
        return url_for("search.search", **params)

    with cf().db.read() as s:
        unit_names = {u.code: u.name for u in s.scalars(select(Unit))}
    chips = [
        (FILTER_PARAMS.get(k, k), k, v)
        for k in ("type", "unit", "year", "reviewer", "conclusion")
        for v in args.getlist(k)
        if v
    ]
    return render_template(
        "search.html", q=args.get("q", ""), results=results, error=error, link=link, chips=chips,
        FACET_LABELS=FACET_LABELS, FILTER_PARAMS=FILTER_PARAMS, TYPE_LABELS=TYPE_LABELS,
        sort=args.get("sort", "relevance"), unit_names=unit_names, links=links,
    )  # fmt: skip
