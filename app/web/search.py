"""The search page: a box on every page, results with facets on the side, filters as chips.

The query, the scope, the audit and the hits come from app/search/service.py; this module only
turns a hit into the page it opens.
"""

from __future__ import annotations

from urllib.parse import urlencode

from flask import Blueprint, g, render_template, request, url_for

from app.errors import ValidationFailed
from app.identity.models import all_units
from app.search import SearchUnavailable
from app.search import service as search_service
from app.search.service import IndexBuilding, SearchHit, query_from_params
from app.templating import doctypes
from app.web.common import cf, login_required, remote_addr
from app.web.nav import SEARCH_ACTION, require

bp = Blueprint("search", __name__)

FACET_LABELS = {"doc_type": "文书类型", "unit": "单位", "year": "年度", "reviewer": "审核人",
                "status": "状态"}  # fmt: skip
FILTER_PARAMS = {"doc_type": "type", "unit": "unit", "year": "year", "reviewer": "reviewer",
                 "status": "status"}  # fmt: skip


QUERY_SAFE = "!$'()*,/:;?@"  # what Werkzeug leaves unquoted in a query (werkzeug.urls)


def query_url(base: str, params: dict[str, list[str]]) -> str:
    """url_for(endpoint, **params) for an endpoint without path arguments whose URL is `base`,
    byte for byte, without building the route again: a results page links each facet value,
    each chip and the pager (two dozen links, about a millisecond through url_for)."""
    items = [(k, v) for k, values in params.items() for v in values if v is not None]
    return f"{base}?{urlencode(items, safe=QUERY_SAFE)}" if items else base


def hit_url(hit: SearchHit) -> str | None:
    """The page a hit opens: the document, or the case file at the attachment's item; None
    when there is nothing this user may open (should not happen: search is scoped)."""
    if hit.kind == "document":
        return url_for("documents.show", doc_id=hit.record_id)
    if hit.case_file_id is not None:
        return url_for("casefiles.show", case_id=hit.case_file_id, _anchor=f"item-{hit.item_id}")
    return None


def download_url(hit: SearchHit) -> str | None:
    """An attachment's download from its case file."""
    if hit.kind != "attachment" or hit.case_file_id is None:
        return None
    return url_for("casefiles.download_item", case_id=hit.case_file_id, item_id=hit.item_id)


@bp.get("/search")
@login_required
def search():
    require(SEARCH_ACTION)
    args = request.args
    error = results = None
    status = 200
    asked = any(args.get(k) for k in ("q", "type", "unit", "year", "year_from", "year_to",
                                      "reviewer", "conclusion", "status"))  # fmt: skip
    # one session for the page: the search (audited: a write), then what the page labels with
    with cf().db.write() if asked else cf().db.read() as s:
        if asked:
            try:
                query = query_from_params(args)
                results = search_service.run_search(cf(), s, g.principal, query, via="web",
                                                    remote_addr=remote_addr())  # fmt: skip
            except ValidationFailed as exc:
                error, status = exc.message, 400
            except IndexBuilding as exc:  # the page says so (no 5xx: the page itself works)
                error = str(exc)
            except SearchUnavailable:
                error = "检索服务暂时不可用（索引正在重建或损坏），请稍后再试或联系管理员。"
        unit_names = {u.code: u.name for u in all_units(s)}
        type_labels = doctypes.registry(cf().catalog, s).labels()

    base = url_for("search.search")

    def link(
        drop: str | None = None, add: tuple[str, str] | None = None, page: int | None = None
    ) -> str:
        params = {k: args.getlist(k) for k in args if k not in {"page", drop}}
        if add:
            params[add[0]] = [add[1]]
        if page:
            params["page"] = [str(page)]
        return query_url(base, params)

    chips = [
        (FILTER_PARAMS.get(k, k), k, v)
        for k in ("type", "unit", "year", "reviewer", "conclusion", "status")
        for v in args.getlist(k)
        if v
    ]
    return render_template(
        "search.html", q=args.get("q", ""), results=results, error=error, link=link, chips=chips,
        FACET_LABELS=FACET_LABELS, FILTER_PARAMS=FILTER_PARAMS, TYPE_LABELS=type_labels,
        sort=args.get("sort", "relevance"), unit_names=unit_names, hit_url=hit_url,
        download_url=download_url, STATUS_LABELS=search_service.STATUS_LABELS,
    ), status  # fmt: skip
