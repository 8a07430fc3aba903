"""Hostile values in every page's URL: no page answers 5xx, whoever asks (issue 16, item 4).

Every GET rule of the web app is walked with absurd ids in its int parameters (beyond 64 bits,
at BIGINT's edge) and hostile query values (`page`, `per_page`, dates, NUL), as an
administrator and as a clerk."""

from __future__ import annotations

import itertools

import pytest
from conftest import issue_letter
from webutil import logged_in

HUGE_IDS = ["99999999999999999999999", "9223372036854775808", "18446744073709551616", "0"]
QUERIES = [
    "page=4611686018427387904",
    "page=-1",
    "page=99999999999999999999999999",
    "page=abc",
    "per_page=4611686018427387904",
    "per_page=-5",
    "from=0001-01-01&to=9999-12-31",
    "year=0001&status=x",
    "q=%00&object=%00:%00",
    "a=%00&b=999999999999999999999",
    "q=x&year=0001&year_from=9999&year_to=0&page=99999999999999",
    "q=%E5%B9%B4%E5%BA%A6:0001..99999&type=%00x&unit=..&reviewer=" + "x" * 5000,
    "q=" + "(" * 500 + "x" + ")" * 500,
]


HUGE = "99999999999999999999999"
HOSTILE_FORM = {  # form fields that carry ids, numbers and dates somewhere on the pages
    "document": HUGE, "document_id": HUGE, "reply_to": HUGE, "supersedes": HUGE,
    "action": "note", "comment": "x", "page": HUGE, "doc_date": "0001-01-01",
    "received_on": "0001-01-01", "reviewed_on": "9999-12-31", "meeting_on": "0001-01-01",
    "decided_on": "0001-01-01", "title": "卷", "kind": "contract-review", "retention": "Y",
    "unit": "FZB",
}  # fmt: skip


def _page_rules(app, method="GET"):
    for rule in app.url_map.iter_rules():
        if rule.endpoint == "static" or rule.rule.startswith("/api/"):
            continue
        if method in rule.methods:
            yield rule


def _fill(rule, value: str) -> str:
    path = rule.rule
    for name in rule.arguments:
        path = path.replace(f"<int:{name}>", value).replace(f"<{name}>", "x")
    return path


def _urls(app):
    """Each GET rule with huge ids in its parameters, and each list with hostile queries."""
    for rule in _page_rules(app):
        names = sorted(rule.arguments)
        if names:
            for huge in HUGE_IDS:
                path = rule.rule
                for name in names:
                    path = path.replace(f"<int:{name}>", huge).replace(f"<{name}>", "x")
                yield path
            path = rule.rule
            for name in names:  # real-looking ids, with hostile queries
                path = path.replace(f"<int:{name}>", "1").replace(f"<{name}>", "x")
        else:
            path = rule.rule
        for query in QUERIES:
            yield f"{path}?{query}"


@pytest.mark.parametrize("username", ["admin", "clerk"])
def test_no_page_answers_5xx_to_hostile_urls(cf, app, username):
    issue_letter(cf)
    app.config["PROPAGATE_EXCEPTIONS"] = False  # a crash is a 500 answer here, not a raise
    client = logged_in(app, username)
    failures = []
    for url in itertools.chain(_urls(app)):
        if url.startswith("/logout"):
            continue
        status = client.get(url).status_code
        if status >= 500:
            failures.append(f"{status} GET {url}")
    assert not failures, "\n".join(failures)


@pytest.mark.parametrize("username", ["admin", "clerk"])
def test_no_form_answers_5xx_to_hostile_values(cf, app, username):
    """Every POST rule, on real records (id 1) and on huge ids, with huge ids and year-1 dates
    in the fields that carry them."""
    issue_letter(cf)
    app.config.update(PROPAGATE_EXCEPTIONS=False, WTF_CSRF_ENABLED=False)
    client = logged_in(app, username)
    failures = []
    for rule in _page_rules(app, "POST"):
        if rule.endpoint in {"auth.logout", "auth.login"}:
            continue
        for value in ("1", HUGE):
            url = _fill(rule, value)
            status = client.post(url, data=HOSTILE_FORM).status_code
            if status >= 500:
                failures.append(f"{status} POST {url}")
    assert not failures, "\n".join(failures)


def test_a_huge_id_is_no_page_and_a_huge_page_is_refused_by_name(cf, app):
    client = logged_in(app, "inspector")  # reads documents and the audit log
    for url in ("/documents/99999999999999999999999", "/drafts/9223372036854775808",
                "/casefiles/99999999999999999999999"):  # fmt: skip
        r = client.get(url)
        assert r.status_code == 404, url
        assert "不存在" in r.get_data(as_text=True)
    for url in ("/documents?page=4611686018427387904", "/admin/audit?page=4611686018427387904"):
        r = client.get(url)
        assert r.status_code == 422, url
        assert "页码应为 1 至" in r.get_data(as_text=True)
