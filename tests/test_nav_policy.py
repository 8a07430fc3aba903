"""The menu comes from the access policy: each role sees exactly the pages it may open.

For every role of the standard cast, every menu entry shown answers 200 and every entry hidden
answers 403 (with the policy's reason); the search box shows only for those who read documents.
The expected menus are written out from docs/security.md, so a change of policy that would
offer a page a role cannot use (or hide one it can) fails here.
"""

from __future__ import annotations

import re

import pytest
from webutil import logged_in

from app.web.nav import NAV

# label -> who sees it (docs/security.md: the role table)
EXPECTED = {
    "工作台": {"clerk", "adviser", "lawyer", "head", "signatory", "inspector", "admin"},
    "起草文书": {"clerk", "adviser", "lawyer", "head"},
    "已发文书": {"clerk", "adviser", "lawyer", "head", "signatory", "inspector"},
    "案卷": {"clerk", "adviser", "lawyer", "head", "signatory", "inspector"},
    "聘任合同": {"clerk", "head", "signatory", "inspector"},
    "合规检查": {"head", "inspector"},
    "四性检测": {"inspector", "admin"},
    "审计日志": {"inspector", "admin"},
    "用户": {"admin"},
    "单位": {"admin"},
    "模板": {"admin"},
}
SEARCHERS = EXPECTED["已发文书"]
USERS = sorted(EXPECTED["工作台"])
NAV_RE = re.compile(r"<nav>(.*?)</nav>", re.S)
LINK_RE = re.compile(r'<a href="([^"]+)"[^>]*>([^<]+)</a>')


def _menu(client) -> dict[str, str]:
    page = client.get("/").get_data(as_text=True)
    return {label: href for href, label in LINK_RE.findall(NAV_RE.search(page)[1])}


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_every_role_sees_what_it_may_open_and_nothing_else(app):
    assert set(EXPECTED) == {e.label for e in NAV}, "a new menu entry needs its row here"
    urls = {}
    with app.test_request_context():
        from flask import url_for

        urls = {e.label: url_for(e.endpoint) for e in NAV}
    for username in USERS:
        client = logged_in(app, username)
        shown = _menu(client)
        expected = {label for label, who in EXPECTED.items() if username in who}
        assert set(shown) == expected, username
        for label, url in urls.items():
            status = client.get(url).status_code
            if label in shown:
                assert shown[label] == url
                assert status == 200, (username, label, status)
            else:
                assert status == 403, (username, label, status)
        home = client.get("/").get_data(as_text=True)
        assert ('role="search"' in home) == (username in SEARCHERS), username
        assert client.get("/search?q=委托").status_code == (200 if username in SEARCHERS else 403)


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_a_hidden_page_says_why(app):
    client = logged_in(app, "admin")
    page = client.get("/templates")
    assert page.status_code == 403
    assert "没有起草文书的权限" in page.get_data(as_text=True)
    page = client.get("/contracts")
    assert page.status_code == 403 and "聘任合同台账" in page.get_data(as_text=True)
    inspector = logged_in(app, "inspector")
    home = inspector.get("/").get_data(as_text=True)
    assert "起草新文书" not in home and "起草文书" not in NAV_RE.search(home)[1]


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_the_favicon_is_served_locally(app):
    client = app.test_client()
    with client.get("/favicon.ico") as icon:
        assert icon.status_code == 200 and icon.data[:4] == b"\x00\x00\x01\x00"  # an ICO file
    page = client.get("/login").get_data(as_text=True)
    href = re.search(r'<link rel="icon"[^>]*href="([^"]+)"', page)[1]
    with client.get(href) as svg:
        assert svg.status_code == 200 and b"<svg" in svg.data
