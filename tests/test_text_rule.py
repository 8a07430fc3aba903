"""One rule for every piece of user text (issue 12, point 16): bidi controls, noncharacters,
control characters and lone surrogates are refused in every form, API body and CLI argument,
with the same Chinese message; text stored before the rule never breaks an export."""

from __future__ import annotations

import pytest
from casefile_factories import make_pdf, new_case, upload
from conftest import as_user, sample
from sqlalchemy import text as sql
from webutil import api_client, logged_in, post_form

from app.casefiles import export
from app.casefiles import service as casefiles
from app.casefiles.models import CaseFile
from app.common.text import check_text, printable, text_problem
from app.drafting import drafts
from app.errors import ValidationFailed
from app.identity.users import add_unit, add_user

pytestmark = pytest.mark.engine_neutral  # SQLite only: see tests/conftest.py

SQLITE = pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)

REFUSED = [
    "\u202a", "\u202b", "\u202c", "\u202d", "\u202e",  # embeddings and overrides
    "\u2066", "\u2067", "\u2068", "\u2069",  # isolates
    "\ufffe", "\uffff", "\ufdd0", "\ufdef", "\U0001fffe", "\U0010ffff",  # noncharacters
    "\x00", "\x07", "\x1b", "\x1f", "\x7f", "\x85", "\x9f",  # C0, DEL, C1
    "\ud800", "\udfff",  # lone surrogates
]  # fmt: skip
ACCEPTED = ["关于停车收费的决定", "第一段\n第二段", "甲\t乙", "张　三", "👩‍⚖️", "（2026）", "é"]


@pytest.mark.parametrize("ch", REFUSED, ids=[f"U+{ord(c):04X}" for c in REFUSED])
def test_each_kind_of_non_text_is_refused_and_named(ch):
    problem = text_problem(f"关于{ch}的决定")
    assert problem and f"U+{ord(ch):04X}" in problem
    with pytest.raises(ValidationFailed) as err:
        check_text(f"关于{ch}的决定", "title", "题名")
    assert err.value.errors == [{"field": "title", "label": "题名", "message": problem}]
    assert printable(f"关于{ch}的决定") == "关于的决定"


@pytest.mark.parametrize("value", ACCEPTED)
def test_text_is_accepted(value):
    assert text_problem(value) is None
    assert check_text(value, "note", "备注", multiline=True) == value.strip()


def test_single_line_text_folds_line_breaks_and_tabs():
    assert check_text(" 甲\n乙\t丙  丁 ", "title", "题名") == "甲 乙 丙 丁"


# ---- the same value, refused by every surface with the same message ---------------------------

BAD_TITLE = "关于城区停车收费调整\ufffe的决定"
MESSAGE = text_problem(BAD_TITLE)


@SQLITE
def test_a_case_file_title_with_a_noncharacter_is_refused_by_web_api_and_cli(app, cf, run_cli):
    web = logged_in(app, "clerk")
    r = post_form(web, "/casefiles/new", "/casefiles/new", {
        "title": BAD_TITLE, "kind": "major-decision", "unit": "FZB", "retention": "Y"})  # fmt: skip
    assert r.status_code < 500 and MESSAGE in r.get_data(as_text=True)
    client, token = api_client(cf)
    r = client.post("/api/v1/casefiles", json={"title": BAD_TITLE, "kind": "major-decision",
                                               "retention": "Y"}, headers=token("clerk"))  # fmt: skip
    assert r.status_code == 422
    assert r.json["errors"] == [{"field": "title", "label": "案卷题名", "message": MESSAGE}]
    code, _, err = run_cli("case", "new", "--title", BAD_TITLE, "--kind", "major-decision",
                           "--retention", "Y", "--as", "clerk")  # fmt: skip
    assert code == 2 and MESSAGE in err
    with cf.db.read() as s:
        assert s.query(CaseFile).count() == 0


@SQLITE
@pytest.mark.parametrize("ch", ["\u202e", "\u2067", "\uffff", "\x1b"])
def test_draft_fields_comments_and_search_refuse_the_same_characters(
    app, cf, run_cli, tmp_path, ch
):
    message = text_problem(ch)
    client, token = api_client(cf)
    clerk = token("clerk")
    r = client.post("/api/v1/drafts", headers=clerk, json={
        "template": "commission-letter", "data": sample() | {"case_name": f"原告{ch}诉某局"}})  # fmt: skip
    assert r.status_code == 422 and r.json["errors"][0]["field"] == "case_name"
    assert r.json["errors"][0]["message"] == message
    r = client.post("/api/v1/drafts", headers=clerk,
                    json={"template": "commission-letter", "data": sample()})  # fmt: skip
    draft_id = r.json["id"]
    r = client.post(f"/api/v1/drafts/{draft_id}/submit", headers=clerk,
                    json={"comment": f"请审核{ch}"})  # fmt: skip
    assert r.status_code == 422 and r.json["errors"][0]["field"] == "comment"
    assert r.json["errors"][0]["message"] == message
    r = client.get("/api/v1/search", query_string={"q": f"停车{ch}"}, headers=clerk)
    assert r.status_code == 422 and r.json["errors"][0]["field"] == "q"
    web = logged_in(app, "clerk")
    r = web.get("/search", query_string={"q": f"停车{ch}"})
    assert 400 <= r.status_code < 500 and message in r.get_data(as_text=True)
    code, _, err = run_cli("draft", "submit", str(draft_id), "--comment", f"请审核{ch}",
                           "--as", "clerk")  # fmt: skip
    assert code == 2 and message in err


def test_names_of_people_and_units_and_restrictions_follow_the_rule(cf):
    for call in (
        lambda s: add_user(s, "newbie", "张\u202e三", "FZB", ["clerk"]),
        lambda s: add_unit(s, "NEW", "某\ufffe局", "GOV"),
        lambda s: casefiles.create_case_file(s, as_user(s, "clerk"), title="卷", kind="major-decision",
                                             unit_code="FZB", retention="Y", note="备注\x08"),
    ):  # fmt: skip
        with pytest.raises(ValidationFailed) as err, cf.db.write() as s:
            call(s)
        assert "请删除后重新填写" in err.value.errors[0]["message"]


def test_editing_a_case_file_and_its_items_follows_the_rule(cf):
    case_id = new_case(cf)
    item_id = upload(cf, case_id, make_pdf(1), "纪要.pdf", role="minutes", title="会议纪要")
    with pytest.raises(ValidationFailed) as err, cf.db.write() as s:
        casefiles.update_case_file(s, as_user(s, "clerk"), case_id, title=BAD_TITLE)
    assert err.value.errors[0] == {"field": "title", "label": "案卷题名", "message": MESSAGE}
    with pytest.raises(ValidationFailed) as err, cf.db.write() as s:
        casefiles.update_item(s, as_user(s, "clerk"), case_id, item_id, title=BAD_TITLE)
    assert err.value.errors[0]["message"] == MESSAGE and MESSAGE in err.value.message


def test_a_draft_comment_with_a_bidi_control_is_refused_in_the_service(cf):
    with cf.db.write() as s:
        clerk = as_user(s, "clerk")
        draft = drafts.create_draft(cf, s, clerk, "commission-letter", sample(), "FZB")
        drafts.submit(cf, s, clerk, draft.id)
        draft_id = draft.id
    with pytest.raises(ValidationFailed), cf.db.write() as s:
        drafts.return_draft(cf, s, as_user(s, "head"), draft_id, "请修改\u202e")


# ---- text stored before the rule ----------------------------------------------------------------


@SQLITE
def test_stored_bad_text_cannot_crash_the_dossier_export(cf, monkeypatch):
    case_id = new_case(cf)
    with monkeypatch.context() as m:  # items are write-once: filed as the code before the rule did
        m.setattr(casefiles, "collect_text", lambda errors, value, *args, **kw: value or "")
        upload(cf, case_id, make_pdf(1), "纪要.pdf", role="minutes", title="纪要\uffff",
               responsible="市\u2066政府", doc_number="文\x02号")  # fmt: skip
    with cf.db.write() as s:  # as a store written before the rule may hold it
        s.execute(sql("UPDATE case_files SET title = :t, responsible = :r WHERE id = :i"),
                  {"t": BAD_TITLE + "\u202e", "r": "李\x01", "i": case_id})  # fmt: skip
    client, token = api_client(cf)
    client.application.config["PROPAGATE_EXCEPTIONS"] = False  # a crash is a 500 answer
    auth = token("clerk")
    r = client.get(f"/api/v1/casefiles/{case_id}/dossier.pdf", headers=auth)
    assert r.status_code == 200, r.get_data(as_text=True)[:500]
    assert r.data.startswith(b"%PDF")
    r = client.get(f"/api/v1/casefiles/{case_id}/package.zip", headers=auth)
    assert r.status_code == 200
    # a package carrying such text is refused on import, before anything is written
    package = export.build_package(cf, case_id)
    with pytest.raises(ValidationFailed) as err:
        export.import_package(cf, package)
    assert "请删除后重新填写" in err.value.message
    with cf.db.read() as s:
        assert s.query(CaseFile).count() == 1
