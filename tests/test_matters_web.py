"""The matter pages (法律事务): a matter from registration through deployment (调配),
acceptance, the commission letter, feedback and closing, as the browser suite will drive it,
with the Chinese labels and form names the report lists."""

from __future__ import annotations

import io
import re

import pytest
from casefile_factories import make_docx, new_case
from conftest import as_user
from matterutil import add_gov_head, new_matter
from webutil import csrf_from, logged_in, post_form

from app import create_app
from app.matters import service
from app.matters.models import Matter


def _status(client, matter_id: int) -> str:
    page = client.get(f"/matters/{matter_id}").get_data(as_text=True)
    return re.search(r'id="matter-status">([^<]+)<', page)[1]


def test_a_matter_from_request_to_closing_on_the_web(cf):
    add_gov_head(cf)
    app = create_app({"TESTING": True}, casefile=cf)
    zr_clerk, zr_head = logged_in(app, "zr-clerk"), logged_in(app, "zr-head")
    gov, lawyer = logged_in(app, "gov-head"), logged_in(app, "lawyer")

    # bad input: the form again, the reason at its field
    bad = post_form(zr_clerk, "/matters/new", "/matters/new", {
        "unit": "ZRJ", "kind": "admin-litigation", "title": "某公司诉武阳市自然资源局",
        "case_number": "2026云01行初5号"})  # fmt: skip
    assert bad.status_code == 422 and 'data-field="case_number"' in bad.get_data(as_text=True)
    r = post_form(zr_clerk, "/matters/new", "/matters/new", {
        "unit": "ZRJ", "kind": "admin-litigation", "title": "某公司诉武阳市自然资源局",
        "parties": "某公司", "party_role": "被告", "case_number": "（2026）云01行初5号",
        "body": "武阳市中级人民法院", "served_on": "2026-11-20", "specialty": "行政诉讼"})  # fmt: skip
    assert r.status_code == 302
    matter_id = int(r.headers["Location"].rsplit("/", 1)[1])
    assert _status(zr_head, matter_id) == "待指派"
    page = zr_head.get(f"/matters/{matter_id}").get_data(as_text=True)
    assert "申请调配" in page and "2026年12月5日" in page  # 答辩期 15 days from service

    r = post_form(zr_head, f"/matters/{matter_id}", f"/matters/{matter_id}/request",
                  {"specialty": "行政诉讼", "reason": "本局无公职律师"})  # fmt: skip
    assert r.status_code == 302
    listing = gov.get("/matters").get_data(as_text=True)
    found = re.search(r'href="/matters/deployments/(\d+)"', listing)
    assert found and "选派公职律师" in listing
    pick_page = f"/matters/deployments/{found[1]}"
    assert "没有符合条件的公职律师" in gov.get(pick_page).get_data(as_text=True)  # no specialty yet
    r = post_form(lawyer, "/matters/profile", "/matters/profile", {
        "licence": "15301202610123456", "phone": "13808712345", "specialty": "行政诉讼"})  # fmt: skip
    assert r.status_code == 302
    assert "张明远" in gov.get(pick_page).get_data(as_text=True)
    assert zr_head.get(pick_page).status_code == 403  # not the unit asked
    r = post_form(gov, pick_page, pick_page, {"lawyer": "lawyer", "comment": "请支持"})
    assert r.status_code == 302 and _status(lawyer, matter_id) == "已指派"

    r = post_form(lawyer, f"/matters/{matter_id}", f"/matters/{matter_id}/accept", {})
    assert r.status_code == 302 and _status(lawyer, matter_id) == "承办中"
    r = post_form(lawyer, f"/matters/{matter_id}", f"/matters/{matter_id}/letter", {})
    assert r.status_code == 302 and "/drafts/" in r.headers["Location"]
    draft_page = lawyer.get(r.headers["Location"]).get_data(as_text=True)
    assert "（2026）云01行初5号" in draft_page

    # a progress note with a file, then the feedback
    token_page = f"/matters/{matter_id}"
    token = csrf_from(lawyer, token_page)
    r = lawyer.post(f"/matters/{matter_id}/note", data={
        "csrf_token": token, "text": "已阅卷",
        "file": (io.BytesIO(make_docx("答辩状")), "答辩状.docx")},
        content_type="multipart/form-data")  # fmt: skip
    assert r.status_code == 302
    page = lawyer.get(token_page).get_data(as_text=True)
    link = re.search(r'href="(/matters/\d+/events/\d+/file)"', page)[1]
    assert lawyer.get(link).data.startswith(b"PK")
    r = post_form(lawyer, token_page, f"/matters/{matter_id}/feedback", {"text": "一审胜诉"})
    assert _status(zr_head, matter_id) == "已反馈"
    r = post_form(zr_head, token_page, f"/matters/{matter_id}/close", {"comment": "办结"})
    assert _status(zr_head, matter_id) == "办结"


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_deadlines_show_on_the_home_page_and_refusals_are_pages(cf):
    matter_id = new_matter(cf, served_on="2026-01-05")  # long past
    with cf.db.write() as s:
        service.assign(s, as_user(s, "head"), matter_id, "lawyer")
    app = create_app({"TESTING": True}, casefile=cf)
    for user in ("lawyer", "head", "inspector"):
        home = logged_in(app, user).get("/").get_data(as_text=True)
        assert "法律事务期限提醒" in home and "已逾期" in home, user
    clerk = logged_in(app, "zr-clerk")
    assert "法律事务期限提醒" not in clerk.get("/").get_data(as_text=True)
    assert clerk.get(f"/matters/{matter_id}").status_code == 404
    head = logged_in(app, "head")
    r = post_form(head, f"/matters/{matter_id}", f"/matters/{matter_id}/close", {})
    assert r.status_code == 302  # refused by state: a flash on the page, not an error
    assert "不能办结" in head.get(f"/matters/{matter_id}").get_data(as_text=True)
    assert post_form(clerk, "/matters", f"/matters/{matter_id}/assign",
                     {"lawyer": "lawyer"}).status_code == 404  # fmt: skip
    with cf.db.read() as s:
        assert s.get(Matter, matter_id).status == "assigned"
    assert head.get("/matters/stats?from=abc").status_code == 400
    assert "所选期间没有可统计的法律事务" in head.get("/matters/stats").get_data(as_text=True)
    assert logged_in(app, "lawyer").get("/matters/stats").status_code == 403
    r = post_form(head, "/matters/decisions", "/matters/decisions", {
        "unit": "FZB", "template": "commission-letter", "label": "委托代理"})  # fmt: skip
    page = head.get("/matters/decisions").get_data(as_text=True)
    assert r.status_code == 302 and "委托代理" in page and "此类文书将无法签发" in page
    entry = re.search(r'name="remove" value="(\d+)"', page)[1]
    post_form(head, "/matters/decisions", "/matters/decisions", {"remove": entry})
    assert "委托代理" not in head.get("/matters/decisions").get_data(as_text=True)
    r = post_form(head, f"/matters/{matter_id}", f"/matters/{matter_id}/rule", {"event": "x²"})
    assert r.status_code == 404  # not a decline of this matter: the 404 page, never a 500
    assert clerk.get("/matters/decisions").status_code == 403


def test_the_new_matter_form_offers_the_units_open_case_files(cf):
    """The matter's case file is chosen from a list (title, unit, year), not typed as an id:
    the unit's open case files the clerk reads, never another unit's, nor a closed one."""
    own = new_case(cf, "某公司诉武阳市自然资源局案卷", user="zr-clerk", kind="other",
                   unit_code="ZRJ")  # fmt: skip
    other = new_case(cf, "法律顾问室的案卷")
    app = create_app({"TESTING": True}, casefile=cf)
    zr_clerk = logged_in(app, "zr-clerk")
    page = zr_clerk.get("/matters/new").get_data(as_text=True)
    assert f'<option value="{own}">某公司诉武阳市自然资源局案卷（' in page
    assert "法律顾问室的案卷" not in page and f'value="{other}"' not in page
    r = post_form(zr_clerk, "/matters/new", "/matters/new", {
        "unit": "ZRJ", "kind": "admin-litigation", "title": "某公司诉武阳市自然资源局",
        "parties": "某公司", "party_role": "被告", "case_number": "（2026）云01行初6号",
        "body": "武阳市中级人民法院", "served_on": "2026-11-20", "case_file": str(own)})  # fmt: skip
    assert r.status_code == 302
    matter_id = int(r.headers["Location"].rsplit("/", 1)[1])
    with cf.db.read() as s:
        assert s.get(Matter, matter_id).case_file_id == own
    page = zr_clerk.get(f"/matters/{matter_id}").get_data(as_text=True)
    assert f'/casefiles/{own}">某公司诉武阳市自然资源局案卷</a>' in page
