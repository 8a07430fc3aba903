"""Full-text search (检索) over the API: the search service (scope, checks, audit) with links
to API routes."""

from __future__ import annotations

from flask import g, jsonify, url_for

from app.api.base import cf, error_response, remote_addr
from app.api.contract import route
from app.api.schemas import SearchParams, SearchReply
from app.presenters.search import search_page_payload
from app.search import SearchUnavailable
from app.search.service import IndexBuilding, SearchHit, run_search, search_query


def _links(hit: SearchHit) -> dict:
    """`url` and `download_url`: the document, or the case file and item of an attachment."""
    if hit.kind == "document":
        return {"url": url_for("api.document", doc_id=hit.record_id),
                "download_url": url_for("api.download", doc_id=hit.record_id)}  # fmt: skip
    if hit.case_file_id is not None:
        return {"url": url_for("api.casefile", case_id=hit.case_file_id),
                "download_url": url_for("api.casefile_item", case_id=hit.case_file_id,
                                        item_id=hit.item_id)}  # fmt: skip
    return {"url": None, "download_url": None}


@route("GET", "/search", tag="检索", summary="全文检索（仅限我可查阅的范围）", ok=SearchReply,
       query=SearchParams, errors=(503,))  # fmt: skip
def search(query: SearchParams):
    """A bad value is a 422 naming its field (`q`, `type`, `year`…); inspectors' searches are
    audited."""
    q = search_query(
        query.q, types=query.type, units=query.unit, year=query.year, year_from=query.year_from,
        year_to=query.year_to, reviewer=query.reviewer, conclusion=query.conclusion,
        status=query.status, sort=query.sort, page=query.page, per_page=query.per_page,
    )  # fmt: skip
    try:
        with cf().db.write() as s:
            found = run_search(cf(), s, g.principal, q, via="api", remote_addr=remote_addr())
    except IndexBuilding as exc:
        return error_response(503, "search_index_building", str(exc))
    except SearchUnavailable:
        return error_response(503, "search_unavailable", "检索服务暂时不可用，请稍后再试")
    payload = search_page_payload(found)
    for hit, out in zip(found.hits, payload["hits"], strict=True):
        out |= _links(hit)
    return jsonify(payload)
