"""The usual holes: restricted documents, session revocation and fixation, stored XSS, IDOR."""

import io

import pytest

from app import create_app
from app.auth.restrictions import restrict
from app.workflow import drafts
from app.workflow.errors import Forbidden, WorkflowError
from conftest import PASSWORD, as_user, sample
from webutil import csrf_from, login, post_form


@pytest.fixture
def app(cf):
    return create_app({"TESTING": True}, casefile=cf)


def _issue(cf, data=None, restricted_to=()):
    with cf.db.write() as s:
        clerk = as_user(s, "clerk")
        d = drafts.create_draft(cf, s, clerk, "commission-letter", data or sample(), "FZB")
        if restricted_to:
            restrict(s, clerk, d.id, list(restricted_to))
        drafts.submit(cf, s, clerk, d.id)
        drafts.approve(cf, s, as_user(s, "head"), d.id)
        drafts.approve(cf, s, as_user(s, "signatory"), d.id)
        return drafts.issue(cf, s, clerk, d.id)


def _client(app, username):
    c = app.test_client()
    assert login(c, username, PASSWORD).status_code == 302
    return c


def test_restricted_document_is_invisible_outside_its_readers(app, cf):
    from app.outbox import drain

    secret = _issue(cf, sample() | {"case_name": "某某人事争议保密案件"}, restricted_to=["head"])
    _issue(cf)
    drain(cf, ("index",))
    # clerk2 is in the same unit, the inspector reads every unit: neither is named
    for username in ("clerk2", "inspector"):
        c = _client(app, username)
        assert c.get(f"/documents/{secret.id}").status_code == 404
        assert c.get(f"/documents/{secret.id}/download").status_code == 404
        page = c.get("/search?q=人事争议").get_data(as_text=True)
        assert "共找到 0 份" in page and "保密案件" not in page
        listing = c.get("/search?q=委托").get_data(as_text=True)
        assert "共找到 1 份" in listing  # counts and facets leave the restricted one out
    for username in ("clerk", "head", "signatory"):  # drafter, named reader, reviewer
        c = _client(app, username)
        assert c.get(f"/documents/{secret.id}").status_code == 200
        assert "共找到 1 份" in c.get("/search?q=人事争议").get_data(as_text=True)


def test_restriction_rules(cf):
    doc = _issue(cf)
    with cf.db.write() as s:
        with pytest.raises(WorkflowError):  # issued: too late
            restrict(s, as_user(s, "clerk"), doc.draft_id, ["head"])
        d = drafts.create_draft(cf, s, as_user(s, "clerk"), "commission-letter", sample(), "FZB")
        with pytest.raises(Forbidden):  # neither its drafter nor an office head
            restrict(s, as_user(s, "clerk2"), d.id, ["clerk2"])


def test_logout_really_ends_the_session(app):
    c = _client(app, "clerk")
    cookie = c.get_cookie("casefile_session").value
    assert c.get("/").status_code == 200
    c.post("/logout", data={"csrf_token": csrf_from(c, "/")})
    replay = app.test_client()
    replay.set_cookie("casefile_session", cookie)
    assert replay.get("/").status_code == 302  # the copied cookie no longer logs anyone in


def test_session_fixation(app):
    c = app.test_client()
    c.get("/login")
    before = c.get_cookie("casefile_session")
    login(c, "clerk", PASSWORD)
    after = c.get_cookie("casefile_session")
    assert before is None or before.value != after.value
    attacker = app.test_client()
    if before is not None:
        attacker.set_cookie("casefile_session", before.value)
        assert attacker.get("/").status_code == 302


def test_password_change_ends_other_sessions(app):
    a, b = _client(app, "clerk"), _client(app, "clerk")
    r = post_form(a, "/password", "/password", {"current": PASSWORD, "new": "Another-pass-42", "again": "Another-pass-42"})
    assert r.status_code == 302
    assert a.get("/").status_code == 200
    assert b.get("/").status_code == 302


def test_stored_xss_in_field_values_is_escaped(app, cf):
    payload = '<script>alert(1)</script><img src=x onerror=alert(2)>'
    doc = _issue(cf, sample() | {"case_name": payload})
    from app.outbox import drain

    drain(cf, ("index",))
    c = _client(app, "clerk")
    for url in (f"/documents/{doc.id}", f"/drafts/{doc.draft_id}", "/", "/search?q=script"):
        html = c.get(url).get_data(as_text=True)
        assert "<script>alert(1)" not in html and "<img src=x" not in html, url
    assert "&lt;script&gt;" in c.get(f"/documents/{doc.id}").get_data(as_text=True)
    snippet_page = c.get("/search?q=alert").get_data(as_text=True)
    assert "<mark>alert</mark>" in snippet_page and "<script>" not in snippet_page


def test_download_filename_cannot_inject_headers(app, cf):
    doc = _issue(cf)
    c = _client(app, "clerk")
    r = c.get(f"/documents/{doc.id}/download")
    assert "\n" not in r.headers["Content-Disposition"] and r.data[:2] == b"PK"
    assert io.BytesIO(r.data).read(2) == b"PK"


def test_ids_of_other_units_are_not_found_in_api(app, cf):
    doc = _issue(cf)
    client = app.test_client()
    token = client.post("/api/v1/tokens", json={"username": "zr-clerk", "password": PASSWORD}).json["token"]
    h = {"Authorization": f"Bearer {token}"}
    for url in (f"/api/v1/documents/{doc.id}", f"/api/v1/documents/{doc.id}/download", f"/api/v1/drafts/{doc.draft_id}"):
        assert client.get(url, headers=h).status_code == 404, url
    r = client.get("/api/v1/search?q=委托", headers=h)
    assert r.json["total"] == 0


def test_login_lockout_has_a_clear_message(app):
    c = app.test_client()
    for _ in range(5):
        login(c, "clerk", "wrong-password")
    r = login(c, "clerk", PASSWORD)
    assert r.status_code == 401 and "已锁定" in r.get_data(as_text=True)
