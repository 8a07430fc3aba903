"""The draft form as a clerk fills it (issue 12, points 1, 2, 3, 11, 13): a half-filled draft
is saved and says how complete it is, submission names every missing field, empty optional
fields of every type are accepted, repeating rows behave, easy input is normalised, and the
error summary links to the fields. Web, API and CLI go through one service."""

from __future__ import annotations

import json
import re

import pytest
from conftest import as_user, populated_store, sample, write_template
from webutil import api_client, csrf_from, logged_in, post_form

from app.drafting import drafts
from app.drafting.models import Draft
from app.errors import ValidationFailed
from app.templating import parse_schema
from app.templating.validation import check

pytestmark = pytest.mark.engine_neutral  # SQLite only: see tests/conftest.py

SQLITE = pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)

# Half a commission letter: what a clerk has when the phone rings.
HALF = {
    "addressee": "某市中级人民法院",
    "proceeding_type": "行政诉讼",
    "case_name": "原告李某某诉某市司法局政府信息公开",
    "lawyer_phone": "13808712345",
}


def _letter_schema():
    from conftest import REPO

    text = (REPO / "doc_templates" / "commission-letter" / "schema.yaml").read_text("utf-8")
    return parse_schema(text, "commission-letter")


def _missing_labels(schema, data) -> set[str]:
    """The oracle: every required field in play with nothing in it, from the schema itself."""
    out = set()
    for f in schema.fields:
        if not f.required:
            continue
        if f.show_if is not None and not f.show_if.holds(data):
            continue
        if data.get(f.name) in (None, "", [], {}):
            out.add(f.label)
    return out


# ---- point 1: saving keeps a half-filled form; submission names every missing field ----------


def test_a_half_filled_draft_is_saved_and_submission_names_every_missing_field(cf):
    schema = _letter_schema()
    with cf.db.write() as s:
        draft = drafts.create_draft(cf, s, as_user(s, "clerk"), "commission-letter", HALF, "FZB")
        draft_id = draft.id
        assert draft.status == "draft" and draft.current_version == 1
    with cf.db.read() as s:
        found = drafts.completeness(cf, s, s.get(Draft, draft_id))
        stored = drafts.current_version(s, s.get(Draft, draft_id)).data
    assert {k: stored[k] for k in HALF} == HALF  # whatever was there is kept
    expected = _missing_labels(schema, HALF)
    assert len(expected) >= 6
    assert found.total == found.filled + len(expected)
    with pytest.raises(ValidationFailed) as err, cf.db.write() as s:
        drafts.submit(cf, s, as_user(s, "clerk"), draft_id)
    labels = {e["label"] for e in err.value.errors}
    assert labels == expected
    assert all(label in err.value.message for label in expected)
    with cf.db.read() as s:
        assert s.get(Draft, draft_id).status == "draft"


@SQLITE
def test_malformed_values_are_still_refused_when_saving_a_draft(cf):
    for bad in ({"addressee": "甲" * 61}, {"addressee": "某法院\x07"}, {"addressee": ["列表"]},
                {"lawyer_licence": "12345"}, {"term": {"start": "明天", "end": ""}}):  # fmt: skip
        with pytest.raises(ValidationFailed) as err, cf.db.write() as s:
            drafts.create_draft(cf, s, as_user(s, "clerk"), "commission-letter", HALF | bad, "FZB")
        assert {e["field"] for e in err.value.errors} == set(bad), bad
    with cf.db.read() as s:
        assert s.query(Draft).count() == 0


@SQLITE
def test_the_web_saves_half_a_form_and_shows_how_complete_it_is(app, cf):
    c = logged_in(app, "clerk")
    url = "/drafts/new/commission-letter"
    r = post_form(c, url, url, HALF | {"unit": "FZB"})
    assert r.status_code == 302, r.get_data(as_text=True)[:500]
    page = c.get(r.headers["Location"]).get_data(as_text=True)
    missing = _missing_labels(_letter_schema(), HALF)
    found = re.search(r"必填项已填写 (\d+)/(\d+) 项", page)
    assert found and int(found[2]) - int(found[1]) == len(missing)
    draft_id = int(r.headers["Location"].rsplit("/", 1)[-1])
    for label in missing:  # each missing field links to its input on the edit page
        assert re.search(rf'<a href="/drafts/{draft_id}/edit#\w+">{label}</a>', page), label
    edit = c.get(f"/drafts/{draft_id}/edit").get_data(as_text=True)
    assert found[0] in edit and 'value="某市中级人民法院"' in edit
    # 提交审核 from the draft page: refused, naming the fields; the draft stays a draft
    r = post_form(c, f"/drafts/{draft_id}", f"/drafts/{draft_id}/submit", {})
    page = c.get(r.headers["Location"]).get_data(as_text=True)
    assert "不能提交审核" in page and all(label in page for label in missing)
    with cf.db.read() as s:
        assert s.get(Draft, draft_id).status == "draft"


@SQLITE
def test_save_and_submit_at_once_on_a_half_form_lists_every_missing_field(app, cf):
    c = logged_in(app, "clerk")
    url = "/drafts/new/commission-letter"
    r = post_form(c, url, url, HALF | {"unit": "FZB", "submit_now": "1"})
    html = r.get_data(as_text=True)
    assert r.status_code == 422
    missing = _missing_labels(_letter_schema(), HALF)
    assert f"共有 {len(missing)} 处需要修改" in html
    with cf.db.read() as s:
        assert s.query(Draft).count() == 0  # one transaction: nothing half-submitted


@SQLITE
def test_the_api_saves_half_a_draft_and_refuses_its_submission_naming_each_field(cf):
    client, token = api_client(cf)
    auth = token("clerk")
    r = client.post("/api/v1/drafts", json={"template": "commission-letter", "data": HALF},
                    headers=auth)  # fmt: skip
    assert r.status_code == 201, r.json
    expected = _missing_labels(_letter_schema(), HALF)
    done = r.json["completeness"]
    assert {m["label"] for m in done["missing"]} == expected
    assert done["total"] - done["filled"] == len(expected)
    r = client.post(f"/api/v1/drafts/{r.json['id']}/submit", json={}, headers=auth)
    assert r.status_code == 422
    assert {e["label"] for e in r.json["errors"]} == expected
    assert all(e["message"] for e in r.json["errors"])


@SQLITE
def test_the_cli_saves_half_a_draft_and_refuses_its_submission_with_exit_2(cf, run_cli, tmp_path):
    path = tmp_path / "half.json"
    path.write_text(json.dumps(HALF, ensure_ascii=False), "utf-8")
    code, out, err = run_cli("draft", "new", "commission-letter", "--data", str(path),
                             "--as", "clerk")  # fmt: skip
    assert code == 0, err
    draft_id = out.strip()
    code, shown, _ = run_cli("draft", "show", draft_id, "--as", "clerk")
    assert code == 0 and "必填项已填写" in shown
    code, out, err = run_cli("draft", "submit", draft_id, "--as", "clerk")
    assert code == 2
    for label in _missing_labels(_letter_schema(), HALF):
        assert label in err and label in shown


# ---- point 2: empty optional fields of every type ---------------------------------------------

OPTIONAL_FIELDS = [
    {"name": "subject", "label": "事由", "type": "text", "required": True},
    {"name": "term", "label": "期限", "type": "daterange"},
    {"name": "basis", "label": "依据", "type": "list"},
    {"name": "people", "label": "人员", "type": "list",
     "fields": [{"name": "name", "label": "姓名", "type": "text", "required": True},
                {"name": "since", "label": "起始", "type": "date"},
                {"name": "lead", "label": "牵头", "type": "boolean"}]},
    {"name": "level", "label": "等级", "type": "choice", "options": ["一般", "重大"]},
    {"name": "ways", "label": "方式", "type": "multichoice", "options": ["会议", "书面"]},
    {"name": "dept", "label": "部门", "type": "unit"},
    {"name": "lawyer", "label": "律师", "type": "user"},
    {"name": "counsel", "label": "法律顾问", "type": "adviser"},
    {"name": "due", "label": "日期", "type": "date"},
    {"name": "fee", "label": "金额", "type": "money"},
    {"name": "count", "label": "份数", "type": "integer"},
]  # fmt: skip


@pytest.fixture
def optional_cf(tmp_path, db_url):
    folder = write_template(tmp_path / "templates", "optional", ["{{ subject }}"], OPTIONAL_FIELDS)
    store = populated_store(tmp_path, db_url, templates_dir=folder)
    yield store
    store.close()


@SQLITE
def test_empty_optional_fields_of_every_type_are_accepted_by_the_web_form(optional_cf):
    from app import create_app

    app = create_app({"TESTING": True}, casefile=optional_cf)
    c = logged_in(app, "clerk")
    url = "/drafts/new/optional"
    form = {  # exactly what the browser sends for an untouched form
        "unit": "FZB", "subject": "某事", "term.start": "", "term.end": "", "basis.0": "",
        "people.0.name": "", "people.0.since": "", "level": "", "dept": "", "lawyer": "",
        "counsel": "", "due": "", "fee": "", "count": "", "submit_now": "1",
    }  # fmt: skip
    r = post_form(c, url, url, form)
    assert r.status_code == 302, r.get_data(as_text=True)[:3000]
    with optional_cf.db.read() as s:
        draft = s.query(Draft).one()
        assert draft.status == "in_review"  # complete: submitted at once
        data = drafts.current_version(s, draft).data
    assert data["basis"] == [] and data["people"] == [] and "term" not in data


def test_the_commission_letter_term_may_be_left_empty(cf):
    data = sample() | {"term": {"start": "", "end": ""}}
    with cf.db.write() as s:
        clerk = as_user(s, "clerk")
        draft = drafts.create_draft(cf, s, clerk, "commission-letter", data, "FZB")
        drafts.submit(cf, s, clerk, draft.id)  # complete without it
        assert draft.status == "in_review"


def test_one_date_of_a_range_is_kept_in_a_draft_but_is_missing_for_submission():
    schema = _letter_schema()
    found = check(schema, sample() | {"term": {"start": "2026-11-03", "end": ""}}, draft=True)
    assert not found.errors
    assert found.clean["term"] == {"start": "2026-11-03", "end": None}
    assert found.missing == {"term": "请同时填写开始日期和结束日期"}


# ---- point 3: repeating rows -------------------------------------------------------------------


def _rows(html: str, name: str) -> list[str]:
    """The values of a simple list's rows as the page shows them (the row <template> aside)."""
    html = re.sub(r"<template data-row-template>.*?</template>", "", html, flags=re.S)
    return re.findall(rf'name="{name}\.(\d+)" value="([^"]*)"', html)


@SQLITE
def test_failed_saves_and_reopened_edits_pile_up_no_blank_rows(app, cf):
    c = logged_in(app, "clerk")
    url = "/drafts/new/commission-letter"
    form = sample()
    flat = {k: v for k, v in form.items() if not isinstance(v, (list, dict))}
    flat |= {"term.start": "2026-11-03", "term.end": "2027-06-30", "unit": "FZB",
             "special_powers": form["special_powers"], "lawyer_licence": "123"}  # fmt: skip
    rows = {"attachments.0": "甲", "attachments.1": "", "attachments.2": "乙", "attachments.3": ""}
    html = ""
    for _ in range(3):  # a failed save, three times over
        r = post_form(c, url, url, flat | rows)
        assert r.status_code == 422
        html = r.get_data(as_text=True)
        shown = _rows(html, "attachments")
        rows = {f"attachments.{i}": v for i, v in shown}
    assert _rows(html, "attachments") == [("0", "甲"), ("1", "乙")]
    r = post_form(c, url, url, flat | rows | {"lawyer_licence": "15301202610123456"})
    assert r.status_code == 302
    edit = r.headers["Location"] + "/edit"
    for _ in range(2):  # reopened twice: what it holds, nothing more
        assert _rows(c.get(edit).get_data(as_text=True), "attachments") == [
            ("0", "甲"),
            ("1", "乙"),
        ]


@SQLITE
def test_rows_are_removed_and_moved_without_javascript_and_keep_their_order(app, cf):
    c = logged_in(app, "clerk")
    url = "/drafts/new/commission-letter"
    token = csrf_from(c, url)
    rows = {"attachments.0": "甲", "attachments.1": "乙", "attachments.2": "丙"}
    r = c.post(url, data={"csrf_token": token, "remove_row": "attachments.1"} | rows)
    assert r.status_code == 200
    assert _rows(r.get_data(as_text=True), "attachments") == [("0", "甲"), ("1", "丙")]
    r = c.post(url, data={"csrf_token": token, "move_row": "attachments.2.up"} | rows)
    assert _rows(r.get_data(as_text=True), "attachments") == [("0", "甲"), ("1", "丙"), ("2", "乙")]
    r = c.post(url, data={"csrf_token": token, "move_row": "attachments.0.up"} | rows)  # no-op
    assert _rows(r.get_data(as_text=True), "attachments") == [("0", "甲"), ("1", "乙"), ("2", "丙")]
    r = c.post(url, data={"csrf_token": token, "add_row": "attachments"} | rows)
    assert _rows(r.get_data(as_text=True), "attachments")[-1] == ("3", "")
    with cf.db.read() as s:
        assert s.query(Draft).count() == 0  # row buttons never save


def test_empty_rows_never_count_as_input():
    schema = parse_schema(
        json.dumps({"id": "t", "review_chain": [{"name": "s", "role": "signatory"}], "fields": [
            {"name": "lawyers", "label": "承办律师", "type": "list", "required": True, "fields": [
                {"name": "name", "label": "姓名", "type": "text", "required": True},
                {"name": "lead", "label": "牵头", "type": "boolean"}]}]}),
    )  # fmt: skip
    blank_rows = [{"name": "", "lead": False}, {"name": "  "}, {}]
    found = check(schema, {"lawyers": blank_rows})
    assert found.missing == {"lawyers": "此项为必填项"} and found.clean["lawyers"] == []
    found = check(schema, {"lawyers": [{}, {"name": "张三"}, {"name": ""}]})
    assert found.complete and found.clean["lawyers"] == [{"name": "张三", "lead": False}]


@SQLITE
def test_the_row_script_is_local_small_and_its_hooks_are_on_the_page(app):
    c = logged_in(app, "clerk")
    html = c.get("/drafts/new/engagement-contract").get_data(as_text=True)
    assert '<script src="/static/form.js"></script>' in html
    for hook in ('data-rows="assigned_lawyers"', 'class="row" data-row>', "data-row-template",
                 'data-row-action="add"', 'data-row-action="remove"', 'data-row-action="up"',
                 'data-row-action="down"'):  # fmt: skip
        assert hook in html, hook
    script = c.get("/static/form.js")
    js = script.get_data(as_text=True)
    script.close()
    assert len(js) < 8000 and "http" not in js and "import " not in js
    for needle in ("data-row-action", "data-row-template", "renumber", "data-error-summary"):
        assert needle in js


# ---- point 11: unambiguous easy input is normalised, the rest refused with the reason ---------


@pytest.mark.parametrize(
    ("field", "typed", "stored"),
    [
        ("case_number", "(2026)云01行初123号", "（2026）云01行初123号"),
        ("case_number", "（２０２６）云０１行初１２３号", "（2026）云01行初123号"),
        ("case_number", "( 2026 )云01行初123号", "（2026）云01行初123号"),
        ("lawyer_licence", "１５３０１２０２６１０１２３４５６", "15301202610123456"),
        ("lawyer_licence", "15301 20261 0123456", "15301202610123456"),
        ("lawyer_phone", "１３８０８７１２３４５", "13808712345"),
        ("lawyer_phone", "0871－63101234", "0871-63101234"),
    ],
)
def test_easy_input_is_normalised_to_the_canonical_form(field, typed, stored):
    found = check(_letter_schema(), sample() | {field: typed})
    assert found.complete, found.errors
    assert found.clean[field] == stored


def test_uscc_and_arbitration_numbers_are_normalised():
    from conftest import REPO

    schema = parse_schema(
        (REPO / "doc_templates" / "engagement-contract" / "schema.yaml").read_text("utf-8"),
        "engagement-contract",
    )
    good = sample("engagement-contract")["client_uscc"]
    typed = " ".join(good.lower().translate(str.maketrans("0123456789", "０１２３４５６７８９")))
    found = check(schema, sample("engagement-contract") | {"client_uscc": typed})
    assert not found.errors and found.clean["client_uscc"] == good
    letter = _letter_schema()
    found = check(letter, sample() | {"case_number": "昆仲字[2026]第88号"})
    assert not found.errors and found.clean["case_number"] == "昆仲字〔2026〕第88号"


@pytest.mark.parametrize(
    ("field", "typed", "reason"),
    [
        ("case_number", "2026云01行初123号", "年份用全角括号"),
        ("case_number", "(2026云01行初123号", "案号格式不正确"),
        ("lawyer_licence", "1530120261012345X", "17位数字"),
        ("lawyer_phone", "138-0871-2345-9", "电话号码格式不正确"),
    ],
)
def test_the_rest_is_refused_with_the_reason(field, typed, reason):
    found = check(_letter_schema(), sample() | {field: typed})
    assert reason in found.errors[field]


@SQLITE
def test_the_api_and_the_web_store_the_normalised_case_number(app, cf):
    client, token = api_client(cf)
    data = sample() | {"case_number": "(2026)云01行初123号"}
    r = client.post("/api/v1/drafts", json={"template": "commission-letter", "data": data},
                    headers=token("clerk"))  # fmt: skip
    assert r.status_code == 201, r.json
    with cf.db.read() as s:
        draft = s.get(Draft, r.json["id"])
        assert drafts.current_version(s, draft).data["case_number"] == "（2026）云01行初123号"


# ---- point 13: the error summary links to each field and takes focus ---------------------------


@SQLITE
def test_the_error_summary_links_to_each_field_and_takes_focus(app):
    c = logged_in(app, "clerk")
    url = "/drafts/new/engagement-contract"
    form = {"unit": "FZB", "client_uscc": "123", "client_phone": "abc",
            "assigned_lawyers.0.name": "张三", "assigned_lawyers.0.licence": "1"}  # fmt: skip
    r = post_form(c, url, url, form)
    html = r.get_data(as_text=True)
    assert r.status_code == 422
    summary = re.search(r'<div class="error-summary"([^>]*)>(.*?)</div>', html, re.S)
    assert summary and 'tabindex="-1"' in summary[1] and "data-error-summary" in summary[1]
    links = re.findall(r'<a href="#([^"]+)">', summary[2])
    assert set(links) == {"client_uscc", "client_phone", "assigned_lawyers.0.licence"}
    assert f"共有 {len(links)} 处需要修改" in summary[2]
    for target in links:  # each link lands on the input itself
        assert re.search(rf'<input id="{re.escape(target)}"', html), target
    assert html.index("error-summary") < html.index('class="doc-form"')


def test_a_draft_keeps_a_conditional_value_until_its_condition_can_be_decided():
    schema = _letter_schema()
    typed = {"case_number": "(2026)云01行初123号"}  # 案件类型 not chosen yet
    found = check(schema, typed, draft=True)
    assert found.clean["case_number"] == "（2026）云01行初123号" and not found.errors
    found = check(schema, typed | {"proceeding_type": "仲裁"}, draft=True)
    assert "case_number" not in found.clean  # decided: not in play, dropped
