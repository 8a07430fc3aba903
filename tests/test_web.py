"""The web pages as a clerk, a reviewer and a signatory use them (real app, real store)."""

import io
import re

import pytest
from conftest import PASSWORD, sample
from docx import Document
from webutil import csrf_from, login, post_form
from webutil import logged_in as _client

pytestmark = pytest.mark.engine_neutral  # SQLite only: see tests/conftest.py


def _form_data(data: dict) -> dict:
    flat = {}
    for key, value in data.items():
        if isinstance(value, dict):
            flat |= {f"{key}.{k}": v for k, v in value.items()}
        elif isinstance(value, list):
            for i, item in enumerate(value):
                flat[f"{key}.{i}"] = item
            if key == "special_powers":
                flat[key] = value  # multichoice: repeated checkbox values
                for i in range(len(value)):
                    flat.pop(f"{key}.{i}")
        else:
            flat[key] = value
    return flat


def test_login_page_and_redirects(app):
    c = app.test_client()
    r = c.get("/")
    assert r.status_code == 302 and "/login" in r.headers["Location"]
    page = c.get("/login").get_data(as_text=True)
    assert "登录" in page and "csrf_token" in page
    css = c.get("/static/app.css")
    assert css.status_code == 200 and b"font" in css.data
    css.close()
    bad = login(c, "clerk", "wrong")
    assert bad.status_code == 401 and "用户名或密码错误" in bad.get_data(as_text=True)
    r = login(c, "clerk", PASSWORD)
    assert r.status_code == 302
    assert "工作台" in c.get("/").get_data(as_text=True)


def test_no_external_assets_and_security_headers(app):
    c = _client(app, "clerk")
    r = c.get("/drafts/new/commission-letter")
    html = r.get_data(as_text=True)
    assert not re.search(r'(src|href)="(https?:)?//', html)
    assert "frame-ancestors 'none'" in r.headers["Content-Security-Policy"]
    assert r.headers["X-Content-Type-Options"] == "nosniff"


def test_form_errors_are_shown_next_to_fields_and_nothing_is_saved(app, cf):
    """A malformed value stops the save; a missing one does not (it is listed as missing)."""
    c = _client(app, "clerk")
    data = _form_data(sample()) | {"lawyer_licence": "123", "addressee": ""}
    r = post_form(c, "/drafts/new/commission-letter", "/drafts/new/commission-letter", data)
    html = r.get_data(as_text=True)
    assert r.status_code == 422
    assert "执业证号应为17位数字" in html and "此项为必填项" not in html
    assert "必填项已填写 11/12 项" in html and '<a href="#addressee">主送机关</a>' in html
    assert 'value="张明远"' in html  # what the clerk typed is kept
    from app.drafting.models import Draft

    with cf.db.read() as s:
        assert s.query(Draft).count() == 0


def test_clerk_to_signatory_to_issued_docx_in_the_browser(app):
    clerk = _client(app, "clerk")
    data = _form_data(sample()) | {"unit": "FZB", "submit_now": "1"}
    r = post_form(clerk, "/drafts/new/commission-letter", "/drafts/new/commission-letter", data)
    assert r.status_code == 302, r.get_data(as_text=True)[:2000]
    draft_url = r.headers["Location"]
    assert "审核中" in clerk.get(draft_url).get_data(as_text=True)

    head = _client(app, "head")
    assert draft_url.rsplit("/", 1)[-1] in head.get("/").get_data(as_text=True)
    r = post_form(head, draft_url, draft_url + "/approve", {"comment": "同意", "confirm": "1"})
    assert r.status_code == 302
    sign = _client(app, "signatory")
    post_form(sign, draft_url, draft_url + "/approve", {"comment": "同意签发", "confirm": "1"})
    r = post_form(clerk, draft_url, draft_url + "/issue", {"confirm": "1"})
    assert r.status_code == 302 and "/documents/" in r.headers["Location"]
    page = clerk.get(r.headers["Location"]).get_data(as_text=True)
    number = re.search(r"武政法函〔\d{4}〕\d+号", page)[0]
    assert "同意签发" in page
    dl = clerk.get(r.headers["Location"] + "/download")
    assert dl.status_code == 200
    text = "\n".join(p.text for p in Document(io.BytesIO(dl.data)).paragraphs)
    assert number in text


def test_list_rows_can_be_added_without_javascript(app):
    c = _client(app, "clerk")
    token = csrf_from(c, "/drafts/new/commission-letter")
    r = c.post(
        "/drafts/new/commission-letter",
        data={"csrf_token": token, "add_row": "attachments", "attachments.0": "甲"},
    )
    html = r.get_data(as_text=True)
    assert r.status_code == 200 and 'name="attachments.1"' in html and 'value="甲"' in html


def test_csrf_is_required(app):
    c = _client(app, "clerk")
    r = c.post("/drafts/new/commission-letter", data=_form_data(sample()))
    assert r.status_code == 400 and "页面已过期" in r.get_data(as_text=True)


def test_open_redirect_after_login_is_refused(app):
    c = app.test_client()
    token = csrf_from(c, "/login")
    for target in ("//evil.example/x", "https://evil.example/", "/\\evil.example"):
        r = c.post(
            f"/login?next={target}",
            data={"username": "clerk", "password": PASSWORD, "csrf_token": token},
        )
        assert r.headers["Location"] == "/", target
        c.post("/logout", data={"csrf_token": csrf_from(c, "/")})
        token = csrf_from(c, "/login")


def test_other_units_documents_are_not_found(app, cf):
    from conftest import issue_letter

    doc = issue_letter(cf)
    other = _client(app, "zr-clerk")
    for url in (
        f"/documents/{doc.id}",
        f"/documents/{doc.id}/download",
        f"/drafts/{doc.draft_id}",
        f"/drafts/{doc.draft_id}/versions/1.docx",
    ):
        assert other.get(url).status_code == 404, url
    inspector = _client(app, "inspector")
    assert inspector.get(f"/documents/{doc.id}").status_code == 200


def test_a_list_row_shows_its_filled_sub_fields_without_a_dangling_separator(app):
    """审查依据 with the optional 条款 left empty reads "法律法规名称：城市绿化条例", not "…；"."""
    c = _client(app, "clerk")
    form = "/drafts/new/legality-review-opinion"
    data = {"unit": "FZB", "legal_bases.0.law": "城市绿化条例",
            "legal_bases.1.law": "行政许可法", "legal_bases.1.article": "第十二条"}  # fmt: skip
    r = post_form(c, form, form, data)  # half-filled: 保存草稿 keeps it
    assert r.status_code == 302, r.get_data(as_text=True)[:2000]
    page = c.get(r.headers["Location"]).get_data(as_text=True)
    assert "<li>法律法规名称：城市绿化条例</li>" in page
    assert "<li>法律法规名称：行政许可法；条款：第十二条</li>" in page


def test_a_row_of_a_one_value_list_has_a_label(app):
    """附件 rows are single inputs: each is named for screen readers ("附件第1项")."""
    html = _client(app, "clerk").get("/drafts/new/commission-letter").get_data(as_text=True)
    assert re.search(r'<label for="attachments\.0"[^>]*>附件第1项</label>', html), html[:200]
