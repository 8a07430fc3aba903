"""The usual holes: restricted documents, session revocation and fixation, stored XSS, IDOR."""

import io
from collections import defaultdict

import pytest
from conftest import PASSWORD, as_user, issue_letter, reopen_audit_log, sample
from webutil import csrf_from, login, post_form
from webutil import logged_in as _client

from app.drafting import drafts
from app.drafting.restrictions import restrict
from app.errors import Forbidden, WorkflowError

_issue = issue_letter


def test_restricted_document_is_invisible_outside_its_readers(app, cf):
    from app.jobs.outbox import drain

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
        # nor do the lists: its number and title are not shown to those who may not open it
        for path in ("/documents", "/"):
            assert secret.number not in c.get(path).get_data(as_text=True), (username, path)
        token = c.post("/api/v1/tokens", json={"username": username, "password": PASSWORD})
        api = c.get("/api/v1/documents", headers={"Authorization": f"Bearer {token.json['token']}"})
        assert secret.id not in [d["id"] for d in api.json["documents"]]
        assert api.json["total"] == 1
    for username in ("clerk", "head", "signatory"):  # drafter, named reader, reviewer
        c = _client(app, username)
        assert c.get(f"/documents/{secret.id}").status_code == 200
        assert "共找到 1 份" in c.get("/search?q=人事争议").get_data(as_text=True)
        assert secret.number in c.get("/documents").get_data(as_text=True)
        assert secret.number in c.get("/").get_data(as_text=True)


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
    r = post_form(
        a,
        "/password",
        "/password",
        {"current": PASSWORD, "new": "Another-pass-42", "again": "Another-pass-42"},
    )
    assert r.status_code == 302
    assert a.get("/").status_code == 200
    assert b.get("/").status_code == 302


def test_stored_xss_in_field_values_is_escaped(app, cf):
    payload = "<script>alert(1)</script><img src=x onerror=alert(2)>"
    doc = _issue(cf, sample() | {"case_name": payload})
    from app.jobs.outbox import drain

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
    token = client.post("/api/v1/tokens", json={"username": "zr-clerk", "password": PASSWORD}).json[
        "token"
    ]
    h = {"Authorization": f"Bearer {token}"}
    for url in (
        f"/api/v1/documents/{doc.id}",
        f"/api/v1/documents/{doc.id}/download",
        f"/api/v1/drafts/{doc.draft_id}",
    ):
        assert client.get(url, headers=h).status_code == 404, url
    from app.jobs.outbox import drain

    drain(cf, ("index",))  # indexed: the search has it, and does not show it to another unit
    r = client.get("/api/v1/search?q=委托", headers=h)
    assert r.json["total"] == 0


def test_login_lockout_has_a_clear_message(app):
    c = app.test_client()
    for _ in range(5):
        login(c, "clerk", "wrong-password")
    r = login(c, "clerk", PASSWORD)
    assert r.status_code == 401 and "已锁定" in r.get_data(as_text=True)


def test_every_form_refuses_a_post_without_its_csrf_token(app, cf):
    """Every state-changing web route, as a user who may use it, without the token: 400."""
    from test_access_matrix import TABLE

    c = _client(app, "admin")
    head = _client(app, "head")
    checked = 0
    for (endpoint, method), (template, _expected) in TABLE.items():
        if (
            method not in {"POST", "PUT"}
            or template.startswith("/api/")
            or endpoint.startswith("auth.")
        ):
            continue
        path = template.format_map(defaultdict(lambda: 1))  # every {object} of the path: 1
        client = c if endpoint.startswith("admin.") else head
        r = client.open(path, method=method, data={"comment": "x"})
        assert r.status_code == 400 and "页面已过期" in r.get_data(as_text=True), (
            endpoint,
            r.status_code,
        )
        checked += 1
    anon = app.test_client()
    for path in ("/login", "/logout"):
        assert anon.post(path, data={"username": "clerk", "password": PASSWORD}).status_code == 400
    assert checked >= 10


TAMPERED = [("actor", "'mallory'"), ("action", "'nothing'"), ("object_id", "'999'"),
            ("detail", "'{}'"), ("remote_addr", "'10.0.0.1'"), ("prev_hash", "'0000'"),
            ("entry_hash", "'abcd'"), ("seq", "seq + 1000")]  # fmt: skip


def test_tampering_with_any_audit_column_is_named(cf):
    """One column at a time is changed, `verify` must name entry 14, and the entry is put back."""
    from sqlalchemy import text  # lazy: only the tampering tests write SQL by hand

    from app.integrity.verify import verify_store  # lazy: as above

    _issue(cf)
    with cf.db.engine.begin() as conn:
        reopen_audit_log(conn, cf)
    columns = [c for c, _ in TAMPERED]
    json_type = "TEXT" if cf.db.is_sqlite else "JSON"  # `detail`, read and put back as text
    read = {c: c for c in columns} | {"detail": "CAST(detail AS TEXT) AS detail"}
    put_back = {c: f":{c}" for c in columns} | {"detail": f"CAST(:detail AS {json_type})"}
    with cf.db.engine.connect() as conn:
        original = conn.execute(
            text(f"SELECT {', '.join(read.values())} FROM audit_log WHERE seq = 14")
        ).one()
    for column, value in TAMPERED:
        with cf.db.engine.begin() as conn:
            conn.execute(text(f"UPDATE audit_log SET {column} = {value} WHERE seq = 14"))
        problems = [p for p in verify_store(cf).problems if "审计日志" in p]
        assert len(problems) == 1 and "第 14 条" in problems[0], (column, problems)
        with cf.db.engine.begin() as conn:  # put the entry back as it was
            conn.execute(text(f"UPDATE audit_log SET {', '.join(f'{c} = {put_back[c]}' for c in columns)} "
                              f"WHERE seq = 14 OR seq = 1014"), original._asdict())  # fmt: skip
    assert not [p for p in verify_store(cf).problems if "审计日志" in p]


def test_attachment_file_names_are_escaped(app, cf):
    from app.casefiles import service as casefiles

    with cf.db.write() as s:
        case = casefiles.create_case_file(s, as_user(s, "clerk"), title="案卷", kind="other", unit_code="FZB",
                                          retention="D10")  # fmt: skip
        case_id = case.id
    c = _client(app, "clerk")
    token = csrf_from(c, f"/casefiles/{case_id}")
    png = (
        b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x02\x00\x00\x00\x90wS\xde"
        b"\x00\x00\x00\x0cIDATx\x9cc\xf8\xff\xff?\x00\x05\xfe\x02\xfe\xa7\x35\x81\x84\x00\x00\x00\x00IEND\xaeB`\x82"
    )
    name = "<img src=x onerror=alert(1)>.png"
    r = c.post(f"/casefiles/{case_id}/attachments", content_type="multipart/form-data",
               data={"csrf_token": token, "file": (io.BytesIO(png), name)})  # fmt: skip
    assert r.status_code == 302
    page = c.get(f"/casefiles/{case_id}").get_data(as_text=True)
    assert "<img src=x" not in page
    assert "&lt;img src=x onerror=alert(1)&gt;" in page  # shown, escaped: the upload was stored


def test_a_restricted_document_filed_into_a_case_file_stays_within_its_readers(app, cf):
    """Case-file readers who are outside a filed document's 知悉范围 see that an item is
    there (its position), not its title or number, cannot download it, and cannot export
    the whole dossier, which would carry it in full."""
    from casefile_factories import new_case
    from webutil import api_client

    from app.casefiles import service as casefiles
    from app.casefiles.export import export_case_file

    secret = _issue(cf, sample() | {"case_name": "某某人事争议保密案件"}, restricted_to=["head"])
    case_id = new_case(cf)
    with cf.db.write() as s:
        item = casefiles.add_document(s, as_user(s, "clerk"), case_id, secret.id)
    c = _client(app, "clerk2")  # same unit, may read the case file, not named
    page = c.get(f"/casefiles/{case_id}").get_data(as_text=True)
    assert "保密案件" not in page and secret.number not in page and "限定知悉范围" in page
    assert c.get(f"/casefiles/{case_id}/items/{item.id}/download").status_code == 404
    client, token = api_client(cf)
    shown = client.get(f"/api/v1/casefiles/{case_id}", headers=token("clerk2")).json
    assert shown["items"][0]["restricted"] and secret.number not in str(shown)
    assert (
        client.get(f"/api/v1/casefiles/{case_id}/dossier.pdf", headers=token("clerk2")).status_code
        == 403
    )
    with cf.db.read() as s:
        outsider = as_user(s, "clerk2")
    with pytest.raises(Forbidden, match="知悉范围"):
        export_case_file(cf, outsider, case_id)
    # the named reader sees and exports it all
    c = _client(app, "head")
    assert "保密案件" in c.get(f"/casefiles/{case_id}").get_data(as_text=True)
    assert (
        client.get(f"/api/v1/casefiles/{case_id}/dossier.pdf", headers=token("head")).status_code
        == 200
    )
