"""Full-text search (检索) over the API: the caller's scope, inspectors' searches audited.

Until the search service lands, the query building, the audit and the hit labels repeat the
search page's (app/web/search.py) behaviour here; the links point at API routes.
"""

from __future__ import annotations

from flask import g, jsonify, url_for

from app import audit
from app.access.policy import search_scope
from app.api.base import cf, error_response, remote_addr
from app.api.contract import route
from app.api.schemas import SearchParams, SearchReply
from app.search import QuerySyntaxError, SearchQuery, SearchUnavailable
from app.search.indexing import attachment_locations, parse_doc_id

TYPE_LABELS = {
    "commission-letter": "委托公函",
    "legality-review-opinion": "合法性审查意见书",
    "risk-notice": "法律风险提示函",
    "engagement-contract": "法律顾问聘任合同",
    "attachment": "附件材料",
}


def _year(value: str | None) -> int | None:
    value = (value or "").strip()
    if not value:
        return None
    if not value.isdigit() or not 1900 <= int(value) <= 2200:
        raise QuerySyntaxError(f"年度“{value}”无效")
    return int(value)


def _search_query(p: SearchParams) -> SearchQuery:
    year = _year(p.year)
    return SearchQuery(
        text=p.q[:500], doc_types=frozenset(t for t in p.type if t),
        units=frozenset(u for u in p.unit if u),
        year_from=_year(p.year_from) if p.year_from else year,
        year_to=_year(p.year_to) if p.year_to else year,
        reviewer=p.reviewer[:50], conclusion=p.conclusion[:20], status=p.status[:20],
        sort=p.sort, page=p.page, per_page=min(100, p.per_page),
    )  # fmt: skip


def _hits(s, hits) -> list[dict]:
    """Hits as JSON; `id` is the issued document's id (null for an attachment, which has
    `attachment_id`, `case_file_id` and `item_id` instead)."""
    parsed = {h.doc_id: parse_doc_id(h.doc_id) for h in hits}
    places = attachment_locations(
        s, g.principal, [p[1] for p in parsed.values() if p and p[0] == "attachment"]
    )
    out = []
    for h in hits:
        kind, rid = parsed[h.doc_id] or ("", 0)
        hit = {
            "id": rid if kind == "document" else None,
            "search_id": h.doc_id, "number": h.number, "title": h.title, "type": h.doc_type,
            "type_label": TYPE_LABELS.get(h.doc_type, h.doc_type), "unit": h.unit_code,
            "unit_name": h.unit_name, "issued_on": h.issued_on.isoformat(), "score": h.score,
            "snippet_html": h.snippet_html, "url": None, "download_url": None,
        }  # fmt: skip
        if kind == "document":
            hit |= {"url": url_for("api.document", doc_id=rid),
                    "download_url": url_for("api.download", doc_id=rid)}  # fmt: skip
        elif kind == "attachment":
            hit |= {"attachment_id": rid, "case_file_id": None, "case_title": "", "item_id": None}
            if rid in places:
                f = places[rid]
                hit |= {"url": url_for("api.casefile", case_id=f.case_file_id),
                        "download_url": url_for("api.casefile_item", case_id=f.case_file_id,
                                                item_id=f.item_id),
                        "case_file_id": f.case_file_id, "case_title": f.case_title,
                        "item_id": f.item_id}  # fmt: skip
        out.append(hit)
    return out


@route("GET", "/search", tag="检索", summary="全文检索（仅限我可查阅的范围）", ok=SearchReply,
       query=SearchParams, errors=(503,))  # fmt: skip
def search(query: SearchParams):
    """A bad query is a 422 `bad_query` naming `q`; inspectors' searches are audited."""
    try:
        q = _search_query(query)
        with cf().db.write() as s:
            results = cf().search.search(q, search_scope(s, g.principal))
            if g.principal.has("inspector"):
                audit.record(s, "search", actor=g.user, detail={
                    "query": q.text, "types": sorted(q.doc_types), "units": sorted(q.units),
                    "year_from": q.year_from, "year_to": q.year_to, "reviewer": q.reviewer,
                    "results": results.total, "via": "api"}, remote_addr=remote_addr())  # fmt: skip
    except QuerySyntaxError as exc:
        return error_response(422, "bad_query", f"检索式有误：{exc}",
                              [{"field": "q", "label": "检索式", "message": str(exc)}])  # fmt: skip
    except SearchUnavailable:
        return error_response(503, "search_unavailable", "检索服务暂时不可用，请稍后再试")
    with cf().db.read() as s:
        hits = _hits(s, results.hits)
    return jsonify({
        "total": results.total, "page": results.page, "per_page": results.per_page,
        "elapsed_ms": round(results.elapsed_ms, 1), "facets": results.facets,
        "type_labels": {t: TYPE_LABELS.get(t, t) for t in results.facets.get("doc_type", {})},
        "hits": hits,
    })  # fmt: skip
