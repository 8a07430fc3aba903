"""Field types that name a unit, a user or an adviser: schema, validation against the registry
(scoped by the policy), the web form's <select>, the API and the CLI, and reproducibility of
issued documents after the registry changes."""

import datetime as dt
import io
import json
import os
import shutil
import subprocess
import sys

import pytest
from casefile_factories import issue_template
from conftest import (
    PASSWORD,
    REPO,
    as_user,
    demo_url,
    populated_store,
    sample,
    write_template,
)
from docx import Document
from webutil import logged_in, post_form

from app import create_app
from app.common.clock import today_in_china
from app.drafting import drafts
from app.drafting.models import DraftVersion, IssuedDocument
from app.drafting.registry import RegistryReferences
from app.errors import ValidationFailed
from app.identity.models import ROLES, Unit, User
from app.identity.users import add_user
from app.integrity.verify import verify_store
from app.templating import SchemaError, parse_schema, validate
from app.templating.inspect import inspect_template
from app.templating.references import RefChoice
from app.templating.schema import USER_ROLES

pytestmark = pytest.mark.engine_neutral  # SQLite only: see tests/conftest.py

SCHEMA = """
id: ref-test
title: 测试
review_chain: [{name: sign-off, role: signatory}]
fields:
  - {name: dept, label: 主管部门, type: unit, required: true}
  - {name: lawyer, label: 公职律师, type: user, role: public-lawyer, same_unit: true}
  - {name: head, label: 负责人, type: user, role: office-head}
  - {name: counsel, label: 法律顾问, type: adviser}
  - name: people
    label: 参与人员
    type: list
    fields: [{name: who, label: 姓名, type: user}]
"""


class Fixed:
    """A registry that offers fixed names per field type."""

    def __init__(self, **names):
        self.names = names

    def choices(self, spec):
        return [RefChoice(n, n) for n in self.names.get(spec.type, [])]


# --- schema -------------------------------------------------------------------------------


def test_schema_parses_reference_types():
    schema = parse_schema(SCHEMA)
    lawyer = schema.field("lawyer")
    assert (lawyer.type, lawyer.role, lawyer.same_unit) == ("user", "public-lawyer", True)
    assert schema.field("dept").type == "unit" and schema.field("counsel").type == "adviser"
    assert USER_ROLES <= set(ROLES) and "admin" not in USER_ROLES


@pytest.mark.parametrize(
    "field, message",
    [
        (
            "{name: lawyer, label: 律师, type: user, role: lawyer}",
            "字段“lawyer”：未知的角色“lawyer”",
        ),
        (
            "{name: dept, label: 部门, type: unit, role: clerk}",
            "字段“dept”：role 只适用于 user",
        ),
        (
            "{name: who, label: 人, type: user, same_unit: yes please}",
            "字段“who”：same_unit 只能是",
        ),
        (
            "{name: dept, label: 部门, type: text, same_unit: true}",
            "字段“dept”：same_unit 只适用于",
        ),
    ],
)
def test_schema_errors_name_the_field(field, message):
    text = f"id: t\nreview_chain: [{{name: s, role: signatory}}]\nfields:\n  - {field}\n"
    with pytest.raises(SchemaError, match=message):
        parse_schema(text)


# --- validation ---------------------------------------------------------------------------


def test_validation_without_a_registry_checks_text_only():
    schema = parse_schema(SCHEMA)
    clean, errors = validate(schema, {"dept": "  某局 ", "lawyer": "张三", "counsel": "某所"})
    assert errors == {} and clean["dept"] == "某局"
    _, errors = validate(schema, {"dept": "x" * 201})
    assert errors == {"dept": "不能超过200个字（现有201个）"}


def test_validation_against_a_registry_accepts_and_rejects_per_type():
    schema = parse_schema(SCHEMA)
    refs = Fixed(unit=["武阳市司法局"], user=["张明远"], adviser=["云岭明德律师事务所"])
    good = {"dept": "武阳市司法局", "lawyer": "张明远", "head": "张明远",
            "counsel": "云岭明德律师事务所", "people": [{"who": "张明远"}]}  # fmt: skip
    clean, errors = validate(schema, good, refs)
    assert errors == {} and clean == good
    bad = {"dept": "某市司法局", "lawyer": "李四", "head": "王五", "counsel": "某所",
           "people": [{"who": "赵六"}]}  # fmt: skip
    _, errors = validate(schema, bad, refs)
    assert errors == {
        "dept": "“某市司法局”不是可选的单位；请从以下选项中选择：武阳市司法局",
        "lawyer": "“李四”不是可选的本单位的公职律师；请从以下选项中选择：张明远",
        "head": "“王五”不是可选的法律顾问室负责人；请从以下选项中选择：张明远",
        "counsel": "“某所”不是可选的本单位在聘的法律顾问；请从以下选项中选择：云岭明德律师事务所",
        "people.0.who": "“赵六”不是可选的人员；请从以下选项中选择：张明远",
    }
    _, errors = validate(
        schema, {"dept": "武阳市司法局", "counsel": "某所"}, Fixed(unit=["武阳市司法局"])
    )
    assert errors == {
        "counsel": "目前没有可选的本单位在聘的法律顾问（聘任合同须在履行中或即将到期，见聘任合同台账）"
    }


def test_template_upload_accepts_reference_types():
    doc = Document()
    for line in ["{{ dept }}", "{{ lawyer }}", "{{ head }}", "{{ counsel }}",
                 "{%p for p in people %}", "{{ p.who }}", "{%p endfor %}"]:  # fmt: skip
        doc.add_paragraph(line)
    buf = io.BytesIO()
    doc.save(buf)
    sample_data = {"dept": "某局", "lawyer": "张三", "head": "李四", "counsel": "某所",
                   "people": [{"who": "王五"}]}  # fmt: skip
    report = inspect_template("ref-test", buf.getvalue(), SCHEMA.encode(), sample_data)
    assert report.problems == [], report.problems


# --- the registry, scoped -----------------------------------------------------------------


@pytest.fixture
def ref_cf(tmp_path, db_url):
    """The standard cast, the shipped engagement contract and a template with every reference."""
    folder = tmp_path / "templates"
    shutil.copytree(REPO / "doc_templates" / "engagement-contract", folder / "engagement-contract")
    write_template(
        folder, "ref-test", ["{{ dept }}", "{{ lawyer }}", "{{ head }}", "{{ counsel }}",
                             "{{ doc_number }}", "{{ issue_date }}"],
        [{"name": "dept", "label": "主管部门", "type": "unit", "required": True},
         {"name": "lawyer", "label": "公职律师", "type": "user", "role": "public-lawyer",
          "same_unit": True},
         {"name": "head", "label": "负责人", "type": "user", "role": "office-head"},
         {"name": "counsel", "label": "法律顾问", "type": "adviser"}],
    )  # fmt: skip
    store = populated_store(tmp_path, db_url, templates_dir=folder)
    with store.db.write() as s:
        add_user(s, "lawyer-zr", "钱律师", "ZRJ", ["public-lawyer"], password="x" * 12)
        add_user(s, "lawyer-old", "孙离职", "FZB", ["public-lawyer"], password="x" * 12)
        s.query(User).filter_by(username="lawyer-old").one().active = False
    yield store
    store.close()


def _values(refs, schema, name):
    return [c.value for c in refs.choices(schema.field(name))]


def test_choices_are_scoped_by_policy(ref_cf):
    with ref_cf.db.read() as s:
        tpl = ref_cf.catalog.load(ref_cf.catalog.latest_row(s, "ref-test"))
        fzb = s.query(Unit).filter_by(code="FZB").one()
        zrj = s.query(Unit).filter_by(code="ZRJ").one()
        clerk = RegistryReferences(s, as_user(s, "clerk"), fzb)
        # the units of the drafting unit's government, by code: FZB, GOV, ZRJ
        assert _values(clerk, tpl.schema, "dept") == ["武阳市人民政府法律顾问室", "武阳市人民政府",
                                                      "武阳市自然资源局"]  # fmt: skip
        # same_unit: the drafting unit's active public lawyers only (not ZRJ's, not the departed)
        assert _values(clerk, tpl.schema, "lawyer") == ["张明远"]
        # a clerk of FZB sees the office heads of FZB, never ZRJ's staff
        assert _values(clerk, tpl.schema, "head") == ["head", "head2"]
        zr = RegistryReferences(s, as_user(s, "zr-clerk"), zrj)
        assert _values(zr, tpl.schema, "lawyer") == ["钱律师"]
        assert _values(zr, tpl.schema, "head") == ["zr-head"]
        # an inspector reads every unit of the government, so their people are in scope
        inspector = RegistryReferences(s, as_user(s, "inspector"), fzb)
        assert "zr-head" in _values(inspector, tpl.schema, "head")


def test_adviser_choices_are_contracts_in_force_for_the_unit(ref_cf):
    today = today_in_china()
    contract = sample("engagement-contract")

    def term(start, end):
        return {"start": start.isoformat(), "end": end.isoformat()}

    issue_template(ref_cf, "engagement-contract", contract | {
        "term": term(today - dt.timedelta(days=30), today + dt.timedelta(days=300))})  # fmt: skip
    issue_template(ref_cf, "engagement-contract", contract | {
        "adviser_name": "已到期律师事务所",
        "term": term(today - dt.timedelta(days=400), today - dt.timedelta(days=35))})  # fmt: skip
    issue_template(ref_cf, "engagement-contract", contract | {
        "adviser_name": "将到期律师事务所",
        "term": term(today - dt.timedelta(days=300), today + dt.timedelta(days=20))})  # fmt: skip
    issue_template(ref_cf, "engagement-contract", contract | {
        "adviser_name": "未开始律师事务所",
        "term": term(today + dt.timedelta(days=10), today + dt.timedelta(days=300))})  # fmt: skip
    with ref_cf.db.write() as s:
        tpl = ref_cf.catalog.load(ref_cf.catalog.latest_row(s, "ref-test"))
        fzb = s.query(Unit).filter_by(code="FZB").one()
        zrj = s.query(Unit).filter_by(code="ZRJ").one()
        refs = RegistryReferences(s, as_user(s, "clerk"), fzb)
        assert _values(refs, tpl.schema, "counsel") == ["将到期律师事务所", "云岭明德律师事务所"]
        # another unit has no contract in force
        assert (
            _values(RegistryReferences(s, as_user(s, "zr-clerk"), zrj), tpl.schema, "counsel") == []
        )
        data = {"dept": "武阳市自然资源局", "lawyer": "张明远", "head": "head2",
                "counsel": "已到期律师事务所"}  # fmt: skip
        with pytest.raises(ValidationFailed) as exc:
            drafts.create_draft(ref_cf, s, as_user(s, "clerk"), "ref-test", data, "FZB")
        assert exc.value.errors == [{
            "field": "counsel", "label": "法律顾问",
            "message": "“已到期律师事务所”不是可选的本单位在聘的法律顾问；"
                       "请从以下选项中选择：将到期律师事务所、云岭明德律师事务所"}]  # fmt: skip
        d = drafts.create_draft(ref_cf, s, as_user(s, "clerk"), "ref-test",
                                data | {"counsel": "云岭明德律师事务所"}, "FZB")  # fmt: skip
        assert drafts.current_version(s, d).data["counsel"] == "云岭明德律师事务所"


# --- snapshots: a later rename changes nothing issued ------------------------------------


def test_rename_after_issue_keeps_documents_reproducible(cf):
    data = sample() | {"lawyer_unit": "武阳市自然资源局"}  # a unit other than the issuing one
    doc = issue_template(cf, "commission-letter", data)
    with cf.db.write() as s:
        clerk = as_user(s, "clerk")
        pending = drafts.create_draft(cf, s, clerk, "commission-letter", data, "FZB").id
        docx_before = cf.blobs.get(doc.docx_sha256)
        s.query(Unit).filter_by(code="ZRJ").one().name = "武阳市自然资源和规划局"
        s.query(User).filter_by(username="lawyer").one().name = "张明远（已调离）"
    report = verify_store(cf)
    assert report.problems == [] and report.checked_documents == 1
    with cf.db.read() as s:
        issued = s.get(IssuedDocument, doc.id)
        assert cf.blobs.get(issued.docx_sha256) == docx_before
        version = s.get(DraftVersion, issued.approved_version_id)
        assert version.data["lawyer_unit"] == "武阳市自然资源局"
        assert version.data["lawyer_name"] == "张明远"
    # a draft saved before the change opens in the form with its old values marked ...
    app = create_app({"TESTING": True}, casefile=cf)
    html = logged_in(app, "clerk").get(f"/drafts/{pending}/edit").get_data(as_text=True)
    assert (
        '<option value="武阳市自然资源局" selected>武阳市自然资源局（已停用，请重新选择）' in html
    )
    assert '<option value="武阳市自然资源和规划局" >' in html
    # ... and cannot be submitted until a current entry is chosen
    with cf.db.write() as s, pytest.raises(ValidationFailed) as exc:
        drafts.submit(cf, s, as_user(s, "clerk"), pending)
    assert {e["field"] for e in exc.value.errors} == {"lawyer_unit", "lawyer_name"}
    assert "请修改草稿后再提交" in exc.value.message


# --- web form, API, CLI -------------------------------------------------------------------


def test_web_form_offers_a_select_of_the_units_public_lawyers(cf):
    with cf.db.write() as s:
        add_user(s, "lawyer-zr", "钱律师", "ZRJ", ["public-lawyer"], password="x" * 12)
    app = create_app({"TESTING": True}, casefile=cf)
    html = logged_in(app, "clerk").get("/drafts/new/commission-letter").get_data(as_text=True)
    start = html.index('<select id="lawyer_name" name="lawyer_name"')
    select = html[start : html.index("</select>", start)]
    assert '<option value="张明远" >张明远</option>' in select
    assert "钱律师" not in html  # another unit's staff never reach the page
    units = html[html.index('<select id="lawyer_unit"') :]
    assert '<option value="武阳市自然资源局" >' in units[: units.index("</select>")]


def test_web_form_cannot_list_staff_of_a_unit_the_user_may_not_draft_in(cf):
    app = create_app({"TESTING": True}, casefile=cf)
    c = logged_in(app, "zr-clerk")
    r = post_form(c, "/drafts/new/commission-letter", "/drafts/new/commission-letter",
                  {"unit": "FZB", "add_row": "attachments"})  # fmt: skip
    assert "张明远" not in r.get_data(as_text=True)


def test_api_reports_reference_errors_by_field(cf):
    app = create_app({"TESTING": True}, casefile=cf)
    client = app.test_client()
    token = client.post("/api/v1/tokens", json={"username": "clerk", "password": PASSWORD}).json
    headers = {"Authorization": f"Bearer {token['token']}"}
    r = client.post("/api/v1/drafts", headers=headers, json={
        "template": "commission-letter", "unit": "FZB",
        "data": sample() | {"lawyer_name": "李四", "lawyer_unit": "某市司法局"}})  # fmt: skip
    assert r.status_code == 422
    assert r.json["errors"] == [
        {"field": "lawyer_name", "label": "公职律师",
         "message": "“李四”不是可选的本单位的公职律师；请从以下选项中选择：张明远"},
        {"field": "lawyer_unit", "label": "公职律师工作单位",
         "message": "“某市司法局”不是可选的单位；请从以下选项中选择："
                    "武阳市人民政府法律顾问室、武阳市人民政府、武阳市自然资源局"},
    ]  # fmt: skip
    fields = client.get("/api/v1/templates/commission-letter", headers=headers).json["fields"]
    lawyer = next(f for f in fields if f["name"] == "lawyer_name")
    assert lawyer["type"] == "user" and lawyer["role"] == "public-lawyer" and lawyer["same_unit"]


def test_cli_reports_reference_errors_by_field(tmp_path, demo_copy):
    env = os.environ | {"CASEFILE_ARCHIVE_DIR": str(demo_copy / "archive"),
                        "CASEFILE_INDEX_DIR": str(demo_copy / "index"),
                        "CASEFILE_DATABASE_URL": demo_url(demo_copy)}  # fmt: skip

    def run(*args):
        return subprocess.run([sys.executable, "-m", "app.cli", *args], env=env, cwd=REPO,
                              capture_output=True, text=True, timeout=300)  # fmt: skip

    data = tmp_path / "data.json"
    data.write_text(json.dumps(sample() | {"lawyer_name": "李四"}, ensure_ascii=False), "utf-8")
    proc = run("draft", "new", "commission-letter", "--data", str(data), "--unit", "WY-FZB",
               "--as", "clerk")  # fmt: skip
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert (
        "公职律师（lawyer_name）：“李四”不是可选的本单位的公职律师；请从以下选项中选择：张明远"
        in proc.stderr
    )
