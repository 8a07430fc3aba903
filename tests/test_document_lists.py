"""Lists of issued documents sort by 成文日期 and filter by type, unit and year (issue 12, point
12): 已发文书, 最近发文 on the home page and GET /api/v1/documents, through one service
(app/drafting/documents.py: document_filter, list_documents, count_documents)."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from casefile_factories import REVIEWERS
from conftest import as_user, sample
from webutil import api_client
from webutil import logged_in as _client

from app import create_app
from app.drafting import documents, drafts
from app.errors import ValidationFailed

SQLITE = pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
# issued in this order, with these 成文日期: creation order is not date order
ISSUES = [
    ("commission-letter", dt.date(2025, 3, 1)),
    ("legality-review-opinion", dt.date(2026, 5, 2)),
    ("commission-letter", dt.date(2026, 1, 9)),
    ("legality-review-opinion", dt.date(2025, 12, 30)),
]


@pytest.fixture
def issued(cf):
    out = []
    for template, date in ISSUES:
        with cf.db.write() as s:
            clerk = as_user(s, "clerk")
            d = drafts.create_draft(cf, s, clerk, template, sample(template), "FZB")
            drafts.submit(cf, s, clerk, d.id)
            for step in drafts.template_of(cf, s, d).schema.review_chain:
                drafts.approve(cf, s, as_user(s, REVIEWERS[step.role]), d.id)
            doc = drafts.issue(cf, s, clerk, d.id, issue_date=date)
            out.append((doc.number, template, date))
    return out


def _numbers(html: str, section: str = "") -> list[str]:
    if section:
        html = html.split(section, 1)[1]
    return re.findall(r'<td class="nowrap">(武政法[^<]*号)</td>', html)


def _expected(issued, *, template=None, year=None, reverse=True) -> list[str]:
    rows = [r for r in issued if (template is None or r[1] == template)
            and (year is None or r[2].year == year)]  # fmt: skip
    return [n for n, _, _ in sorted(rows, key=lambda r: r[2], reverse=reverse)]


@SQLITE
def test_the_documents_page_sorts_by_issue_date_and_filters(cf, issued):
    app = create_app({"TESTING": True}, casefile=cf)
    clerk = _client(app, "clerk")
    page = clerk.get("/documents").get_data(as_text=True)
    assert _numbers(page) == _expected(issued)  # 成文日期, newest first, not issuing order
    assert (
        'id="filter-type"' in page and 'id="filter-year"' in page and "成文日期（由近及远）" in page
    )
    page = clerk.get("/documents?sort=date_asc").get_data(as_text=True)
    assert _numbers(page) == _expected(issued, reverse=False)
    page = clerk.get("/documents?type=legality-review-opinion").get_data(as_text=True)
    assert _numbers(page) == _expected(issued, template="legality-review-opinion")
    assert "已发文书（2）" in page
    page = clerk.get("/documents?year=2026&type=commission-letter").get_data(as_text=True)
    assert _numbers(page) == _expected(issued, template="commission-letter", year=2026)
    assert _numbers(clerk.get("/documents?unit=FZB").get_data(as_text=True)) == _expected(issued)
    page = clerk.get("/documents?unit=ZRJ").get_data(as_text=True)
    assert _numbers(page) == [] and "没有符合筛选条件的文书" in page
    bad = clerk.get("/documents?year=26&unit=NOPE")
    text = bad.get_data(as_text=True)
    assert bad.status_code == 400 and "年度：应为四位年份" in text and "单位“NOPE”不存在" in text


@SQLITE
def test_recent_documents_on_the_home_page_sort_and_filter(cf, issued):
    app = create_app({"TESTING": True}, casefile=cf)
    clerk = _client(app, "clerk")
    section = 'id="recent-documents"'
    home = clerk.get("/").get_data(as_text=True)
    assert _numbers(home, section) == _expected(issued)
    home = clerk.get("/?year=2025&sort=date_asc").get_data(as_text=True)
    assert _numbers(home, section) == _expected(issued, year=2025, reverse=False)


@SQLITE
def test_the_api_list_takes_the_same_filters(cf, issued):
    client, token = api_client(cf)
    clerk = token("clerk")
    r = client.get("/api/v1/documents", headers=clerk)
    assert [d["number"] for d in r.json["documents"]] == _expected(issued)
    r = client.get("/api/v1/documents?type=commission-letter&sort=date_asc", headers=clerk)
    assert [d["number"] for d in r.json["documents"]] == _expected(
        issued, template="commission-letter", reverse=False
    )
    assert r.json["total"] == 2
    r = client.get("/api/v1/documents?year=2026", headers=clerk)
    assert r.json["total"] == 2
    r = client.get("/api/v1/documents?type=nonsense&sort=random", headers=clerk)
    assert r.status_code == 422
    assert {e["field"] for e in r.json["errors"]} == {"type", "sort"}
    spec = client.get("/api/v1/openapi.json").json
    params = {p["name"] for p in spec["paths"]["/api/v1/documents"]["get"]["parameters"]}
    assert {"type", "unit", "year", "sort", "page", "per_page"} <= params


@SQLITE
def test_count_agrees_with_the_list_under_a_filter(cf, issued):
    with cf.db.read() as s:
        p = as_user(s, "clerk")
        f = documents.document_filter(s, doc_type="legality-review-opinion", year="2026")
        listing = documents.list_documents(s, p, 1, 100, f)
        assert listing.total == documents.count_documents(s, p, f) == len(listing.documents) == 1
        with pytest.raises(ValidationFailed) as refused:
            documents.document_filter(s, year="二〇二六")
        assert refused.value.errors[0]["field"] == "year"
