"""Template management: a broken upload is reported by name and stored nowhere; a good one is
usable at once, without a restart, and old documents keep their version."""

import io
import json
import re

import pytest
import yaml
from conftest import PASSWORD, REPO, as_user
from docx import Document
from webutil import api_client, csrf_from, login

from app import create_app
from app.templating.inspect import inspect_template
from app.templating.models import TemplateVersion
from app.templating.proposal import propose_schema
from app.templating.schema import SchemaError, check_schema, parse_schema

pytestmark = pytest.mark.engine_neutral  # SQLite only: see tests/conftest.py

SCHEMA = {
    "id": "memo",
    "title": "备忘录",
    "document_title": "关于{{ subject }}的备忘录",
    "numbering": {"suffix": "备"},
    "review_chain": [{"name": "sign-off", "label": "领导签发", "role": "signatory"}],
    "fields": [
        {"name": "subject", "label": "事由", "type": "text", "required": True},
        {
            "name": "points",
            "label": "要点",
            "type": "list",
            "fields": [{"name": "text", "label": "内容", "type": "text"}],
        },
    ],
}
SAMPLE = {"subject": "征地补偿", "points": [{"text": "核实面积"}]}


def docx(*paragraphs) -> bytes:
    """Each paragraph is a string or a list of runs (to split a tag across runs)."""
    doc = Document()
    for para in paragraphs:
        p = doc.add_paragraph()
        for run in [para] if isinstance(para, str) else para:
            p.add_run(run)
    buf = io.BytesIO()
    doc.save(buf)
    return buf.getvalue()


GOOD = [
    "{{ doc_number }}",
    "事由：{{ subject }}",
    "{%p for pt in points %}",
    "{{ loop.index }}. {{ pt.text }}",
    "{%p endfor %}",
    "{{ issue_date }}",
]
SCHEMA_BYTES = yaml.safe_dump(SCHEMA, allow_unicode=True).encode()


def check(*paragraphs, schema=SCHEMA_BYTES, sample=SAMPLE):
    return inspect_template("memo", docx(*paragraphs), schema, sample)


def test_good_template_passes_and_lists_placeholders():
    r = check(*GOOD)
    assert r.ok, r.problems
    assert {"subject", "points[].text", "doc_number", "issue_date"} <= set(r.placeholders)


@pytest.mark.parametrize(
    "paragraphs, expected",
    [
        (GOOD + ["{{ fee }}"], "未声明的字段“fee”"),
        (GOOD + ["事由：｛｛ subject ｝｝"], "全角花括号"),
        (GOOD + [["事由：{", "{ subject }}"]], "被拆分"),
        (
            GOOD + ["{% if subject %}没有结束"],
            "正文第7段（“{% if subject %}没有结束”）开始的 if 块没有结束",
        ),
        (GOOD + ["{{ subject "], "标签不完整"),
        (
            GOOD[:2] + ["{%p for pt in points %}", "{{ pt.colour }}", "{%p endfor %}"],
            "不存在的栏目“colour”",
        ),
    ],
    ids=["undeclared", "fullwidth", "split", "syntax", "unbalanced", "bad-row-attribute"],
)
def test_broken_templates_are_reported_by_name(paragraphs, expected):
    r = check(*paragraphs)
    assert not r.ok
    assert any(expected in p for p in r.problems), r.problems


def test_unused_fields_are_warned_and_bad_sample_refused():
    r = check("{{ subject }}")
    assert r.ok and any("points" in w for w in r.warnings)
    r = check(*GOOD, sample={"points": []})
    assert not r.ok and any("事由" in p for p in r.problems)


def test_upload_in_the_browser_then_use_it_without_restart(cf):
    app = create_app({"TESTING": True}, casefile=cf)
    admin = app.test_client()
    login(admin, "admin", PASSWORD)

    def upload(doc_bytes):
        token = csrf_from(admin, "/admin/templates")
        return admin.post("/admin/templates", content_type="multipart/form-data", data={
            "csrf_token": token, "template_id": "memo",
            "docx": (io.BytesIO(doc_bytes), "memo.docx"),
            "schema": (io.BytesIO(SCHEMA_BYTES), "schema.yaml"),
            "sample": (io.BytesIO(json.dumps(SAMPLE).encode()), "sample.json"),
        })  # fmt: skip

    bad = upload(docx(*GOOD, "｛｛ subject ｝｝"))
    assert bad.status_code == 422 and "全角花括号" in bad.get_data(as_text=True)
    with cf.db.read() as s:
        assert s.query(TemplateVersion).filter_by(template_id="memo").count() == 0
    good = upload(docx(*GOOD))
    assert good.status_code == 302
    clerk = app.test_client()
    login(clerk, "clerk", PASSWORD)
    assert "备忘录" in clerk.get("/templates").get_data(as_text=True)
    from app.drafting import drafts

    with cf.db.write() as s:
        d = drafts.create_draft(cf, s, as_user(s, "clerk"), "memo", SAMPLE, "FZB")
        assert d.title == "关于征地补偿的备忘录"
    upload(docx(*GOOD, "（新增一段）"))
    with cf.db.read() as s:
        versions = [v.version for v in s.query(TemplateVersion).filter_by(template_id="memo")]
        assert sorted(versions) == [1, 2]
        assert (
            s.get(drafts.Draft, d.id).template_version.version == 1
        )  # the draft keeps its version


def test_non_admin_cannot_upload(cf):
    app = create_app({"TESTING": True}, casefile=cf)
    c = app.test_client()
    login(c, "clerk", PASSWORD)
    assert c.get("/admin/templates").status_code == 403


# --- every problem in one pass, in Chinese, each with its fix ----------------------------------

BROKEN_SCHEMA = """\
id: memo
name: 备忘录
review_chain: [{name: sign-off, label: 领导签发, role: signatory}]
document_type: {format: 文件}
fields:
  - {name: subject, label: 事由, type: text, required: true}
  - {name: body, label: 正文, type: longtext}
  - {name: unit, label: 承办单位, type: text}
  - {name: amount, lable: 金额, type: money}
"""


def test_every_problem_of_schema_and_docx_is_reported_in_one_pass():
    doc = docx(
        "{{ doc_number }}",
        "事由：{{ subject }}",
        "{%p if body %}",  # paragraph 3 opens a block that is never closed
        "{{ body }}",
        "承办：{{ unit }}，联系人：{{ contact }}",
        "{{ subjct }}",
    )
    r = inspect_template("memo", doc, BROKEN_SCHEMA.encode(), SAMPLE)
    problems = "\n".join(r.problems)
    expected = [
        "未知的字段类型'longtext'，可用：text、textarea",
        "是否应为 textarea？",
        "字段名“unit”是保留名",
        "请改名，如“target_unit”",
        "未知的键“name”，是否应为 title？",
        "未知的键“lable”，是否应为 label？",
        "未知的公文格式“文件”",
        "正文第3段（“{%p if body %}”）开始的 if 块没有结束",
        "未声明的字段“contact”",
        "未声明的字段“subjct”：请在 schema.yaml 的 fields 中声明它，或改正拼写，是否应为 subject？",
    ]
    for text in expected:
        assert text in problems, (text, r.problems)
    assert len(r.problems) >= len(expected) - 1
    # Chinese for the administrator: no English prose, only the names they wrote
    for problem in r.problems:
        words = set(re.findall(r"[A-Za-z]{4,}", problem))
        assert words <= {"schema", "yaml", "longtext", "text", "textarea", "date", "daterange",
                         "money", "integer", "choice", "multichoice", "boolean", "list", "user",
                         "adviser", "unit", "target", "name", "title", "lable", "label",
                         "format", "document", "type", "body", "endif", "subject", "contact",
                         "subjct", "amount", "fields", "number"}, problem  # fmt: skip


@pytest.mark.parametrize(
    "paragraph, expected",
    [
        ("{{ subject|uper }}", "未知的过滤器“uper”，是否应为 upper？"),
        ("{{ subject + }}", "标签“{{ subject + }}”有误"),
        ("{%p endfor %}", "“{%p endfor %}”没有对应的开始标签"),
        ("{% iff subject %}x{% endif %}", "未知的标签“{% iff subject %}”，是否应为 if？"),
    ],
)
def test_a_jinja_error_names_its_paragraph_and_text(paragraph, expected):
    r = check(*GOOD, paragraph)
    assert not r.ok
    hit = [p for p in r.problems if expected in p]
    assert hit and hit[0].startswith(f"正文第{len(GOOD) + 1}段（“"), r.problems


def test_an_unclosed_block_points_at_its_opening_paragraph_not_the_document_start():
    r = check("{{ doc_number }}", "事由：{{ subject }}", "说明", "{%p for pt in points %}",
              "{{ pt.text }}", "{{ issue_date }}")  # fmt: skip
    assert [p for p in r.problems if "块没有结束" in p] == [
        "正文第4段（“{%p for pt in points %}”）开始的 for 块没有结束："
        "请在块末另起一段写 {%p endfor %}（段内的块写 {% endfor %}）"
    ]


def test_a_stored_schema_with_a_key_now_refused_at_upload_still_loads():
    """Uploads are held to the unknown-key rule; a version stored before it still re-renders."""
    old = SCHEMA_BYTES + b"owner: legal office\n"
    assert parse_schema(old, "memo").title == "备忘录"
    checked = check_schema(old, "memo")
    assert checked.schema is None and any("未知的键“owner”" in p for p in checked.problems)


def test_format_is_declared_for_every_shipped_template_and_validated():
    formats = {
        p.parent.name: parse_schema(p.read_bytes(), p.parent.name).document_type.format
        for p in (REPO / "doc_templates").glob("*/schema.yaml")
    }
    assert formats == {
        "legality-review-opinion": "文件格式",
        "risk-notice": "信函格式",
        "commission-letter": "信函格式",
        "engagement-contract": "合同格式",
        "adviser-work-report": "文件格式",
    }
    with pytest.raises(SchemaError, match="未知的公文格式“信函”.*是否应为 信函格式？"):
        parse_schema(SCHEMA_BYTES + "document_type: {format: 信函}\n".encode(), "memo")


# --- the upload on each surface ------------------------------------------------------------------


def test_the_upload_page_lists_every_problem_then_accepts_the_fix(cf):
    app = create_app({"TESTING": True}, casefile=cf)
    admin = app.test_client()
    login(admin, "admin", PASSWORD)

    def upload(doc_bytes, schema_bytes):
        token = csrf_from(admin, "/admin/templates")
        return admin.post("/admin/templates", content_type="multipart/form-data", data={
            "csrf_token": token, "template_id": "memo",
            "docx": (io.BytesIO(doc_bytes), "memo.docx"),
            "schema": (io.BytesIO(schema_bytes), "schema.yaml"),
            "sample": (io.BytesIO(json.dumps(SAMPLE).encode()), "sample.json"),
        })  # fmt: skip

    bad = upload(docx(*GOOD, "{%p if subject %}", "{{ fee }}"), BROKEN_SCHEMA.encode())
    page = bad.get_data(as_text=True)
    assert bad.status_code == 422
    for text in (
        "未知的字段类型&#39;longtext&#39;",
        "是否应为 title？",
        "正文第7段",
        "未声明的字段“fee”",
    ):
        assert text in page, text
    count = int(re.search(r"共发现 (\d+) 处问题", page)[1])
    assert count == page.count('<li class="error">') >= 8
    assert upload(docx(*GOOD), SCHEMA_BYTES).status_code == 302


def test_the_api_uploads_reports_every_problem_by_file_and_downloads_versions(cf):
    client, token = api_client(cf)
    admin = token("admin")

    def upload(doc_bytes, schema_bytes, headers=admin):
        return client.post("/api/v1/templates/memo/versions", headers=headers,
                           content_type="multipart/form-data", data={
            "docx": (io.BytesIO(doc_bytes), "memo.docx"),
            "schema": (io.BytesIO(schema_bytes), "schema.yaml"),
            "sample": (io.BytesIO(json.dumps(SAMPLE).encode()), "sample.json"),
        })  # fmt: skip

    assert upload(docx(*GOOD), SCHEMA_BYTES, token("clerk")).status_code == 403
    bad = upload(docx(*GOOD, "{{ fee }}"), BROKEN_SCHEMA.encode())
    assert bad.status_code == 422 and bad.json["error"] == "validation_failed"
    fields = {e["field"] for e in bad.json["errors"]}
    assert fields == {"schema", "docx"}
    assert any("longtext" in e["message"] for e in bad.json["errors"] if e["field"] == "schema")
    assert any("fee" in e["message"] for e in bad.json["errors"] if e["field"] == "docx")
    good_docx = docx(*GOOD)
    ok = upload(good_docx, SCHEMA_BYTES)
    assert ok.status_code == 201 and ok.json["version"] == 1, ok.json
    got = client.get("/api/v1/templates/memo/versions/1/template.docx", headers=admin)
    assert got.status_code == 200 and got.data == good_docx
    got = client.get("/api/v1/templates/memo/versions/1/schema.yaml", headers=admin)
    assert got.status_code == 200 and got.data == SCHEMA_BYTES
    assert (
        client.get("/api/v1/templates/memo/versions/2/schema.yaml", headers=admin).status_code
        == 404
    )
    shipped = client.get("/api/v1/templates/risk-notice/versions/1/template.docx", headers=admin)
    assert shipped.data == (REPO / "doc_templates/risk-notice/template.docx").read_bytes()
    assert client.get("/api/v1/templates/memo/versions/1/template.docx",
                      headers=token("clerk")).status_code == 403  # fmt: skip


def test_the_web_page_downloads_any_installed_version(cf):
    app = create_app({"TESTING": True}, casefile=cf)
    admin = app.test_client()
    login(admin, "admin", PASSWORD)
    page = admin.get("/admin/templates").get_data(as_text=True)
    link = "/admin/templates/legality-review-opinion/1/schema.yaml"
    assert link in page
    got = admin.get(link)
    assert got.status_code == 200
    with cf.db.read() as s:
        row = (
            s.query(TemplateVersion)
            .filter_by(template_id="legality-review-opinion", version=1)
            .one()
        )
        assert got.data == cf.blobs.get(row.schema_sha256)
    assert admin.get("/admin/templates/legality-review-opinion/99/template.docx").status_code == 404
    huge = "/admin/templates/legality-review-opinion/999999999999999999/template.docx"
    assert admin.get(huge).status_code == 404  # not a database overflow
    clerk = app.test_client()
    login(clerk, "clerk", PASSWORD)
    assert clerk.get(link).status_code == 403


def test_the_cli_downloads_a_version_and_checks_with_every_problem(cf, run_cli, tmp_path):
    code, out, _ = run_cli("templates", "download", "risk-notice", "--out", str(tmp_path / "x"))
    assert code == 0
    assert (tmp_path / "x/risk-notice-v1-template.docx").read_bytes() == (
        REPO / "doc_templates/risk-notice/template.docx"
    ).read_bytes()
    assert (tmp_path / "x/risk-notice-v1-schema.yaml").read_bytes() == (
        REPO / "doc_templates/risk-notice/schema.yaml"
    ).read_bytes()
    code, _, err = run_cli("templates", "download", "risk-notice", "--version", "9")
    assert code == 2 and "没有第9版" in err
    (tmp_path / "t.docx").write_bytes(docx(*GOOD, "{{ fee }}"))
    (tmp_path / "schema.yaml").write_text(BROKEN_SCHEMA, encoding="utf-8")
    code, out, _ = run_cli("templates", "check", "memo", "--docx", str(tmp_path / "t.docx"),
                           "--schema", str(tmp_path / "schema.yaml"))  # fmt: skip
    assert code == 2
    assert "longtext" in out and "是否应为 title？" in out and "未声明的字段“fee”" in out


# --- a schema proposed from a DOCX ---------------------------------------------------------------

WORD_ONLY = [
    "{{ doc_number }}",
    "关于{{ subject }}的意见",
    "{{ addressee }}：",
    "{%p for para in facts_paragraphs %}",
    "{{ para }}",
    "{%p endfor %}",
    "收文日期：{{ received_date }}，服务费{{ service_fee.text }}",
    "{%p for basis in legal_bases %}",
    "{{ loop.index }}.《{{ basis.law }}》{{ basis.article }}",
    "{%p endfor %}",
    "{%p if note %}",
    "（{{ note }}）",
    "{%p endif %}",
    "联系电话：{{ contact_phone }}",
    "{{ issue_date }}",
]


def test_a_schema_is_proposed_from_a_docx_and_passes_the_upload_check():
    doc = docx(*WORD_ONLY)
    proposal = propose_schema("opinion", doc)
    assert proposal.problems == []
    assert set(proposal.placeholders) >= {"subject", "addressee", "facts", "received_date",
                                          "service_fee.text", "legal_bases[].law", "note"}  # fmt: skip
    schema = yaml.safe_load(proposal.schema_yaml)
    by_name = {f["name"]: f for f in schema["fields"]}
    assert set(by_name) == {"subject", "addressee", "facts", "received_date", "service_fee",
                            "legal_bases", "note", "contact_phone"}  # fmt: skip
    assert by_name["received_date"]["type"] == "date"
    assert by_name["facts"]["type"] == "textarea"
    assert by_name["service_fee"]["type"] == "money"
    assert by_name["contact_phone"]["format"] == "phone"
    assert [c["name"] for c in by_name["legal_bases"]["fields"]] == ["article", "law"]
    assert by_name["note"]["required"] is False and by_name["subject"]["required"] is True
    assert all(f["label"] == "待填写" for f in schema["fields"])
    assert "正文第2段" in proposal.schema_yaml  # each field says where the placeholder is
    report = inspect_template("opinion", doc, proposal.schema_yaml.encode())
    assert report.ok and report.undeclared == [] and report.unused == [], report.problems


def test_the_proposal_on_the_web_api_and_cli(cf, run_cli, tmp_path):
    doc = docx(*WORD_ONLY)
    app = create_app({"TESTING": True}, casefile=cf)
    admin = app.test_client()
    login(admin, "admin", PASSWORD)

    def post(**extra):
        token = csrf_from(admin, "/admin/templates")
        return admin.post("/admin/templates/propose", content_type="multipart/form-data",
                          data={"csrf_token": token, "proposal_id": "opinion",
                                "proposal_docx": (io.BytesIO(doc), "opinion.docx"), **extra})  # fmt: skip

    shown = post()
    page = shown.get_data(as_text=True)
    assert shown.status_code == 200 and "received_date" in page and "待填写" in page
    downloaded = post(download="1")
    assert "attachment" in downloaded.headers["Content-Disposition"]
    assert yaml.safe_load(downloaded.data)["id"] == "opinion"

    client, token = api_client(cf)
    r = client.post("/api/v1/template-proposals", headers=token("admin"),
                    content_type="multipart/form-data",
                    data={"docx": (io.BytesIO(doc), "o.docx"), "template_id": "opinion"})  # fmt: skip
    assert r.status_code == 200 and "received_date" in r.json["placeholders"]
    assert check_schema(r.json["schema_yaml"], "opinion").problems == ()
    r = client.post("/api/v1/template-proposals", headers=token("clerk"),
                    content_type="multipart/form-data",
                    data={"docx": (io.BytesIO(doc), "o.docx")})  # fmt: skip
    assert r.status_code == 403

    (tmp_path / "o.docx").write_bytes(doc)
    code, out, _ = run_cli("templates", "propose", "--docx", str(tmp_path / "o.docx"), "--id",
                           "opinion", "--out", str(tmp_path / "schema.yaml"))  # fmt: skip
    assert code == 0 and "received_date" in out
    assert check_schema((tmp_path / "schema.yaml").read_bytes(), "opinion").problems == ()


def test_the_declared_format_is_held_against_the_docx():
    def warnings(fmt, *paragraphs):
        schema = yaml.safe_dump(SCHEMA | {"document_type": {"format": fmt}}, allow_unicode=True)
        r = check(*paragraphs, schema=schema.encode())
        assert r.ok, r.problems
        return [w for w in r.warnings if "格式" in w]

    assert any("没有版记" in w for w in warnings("文件格式", *GOOD))
    assert warnings("文件格式", *GOOD, "抄送：{{ subject }}", "{{ issue_date }}印发") == []
    assert any("信函格式没有版记" in w for w in warnings("信函格式", *GOOD, "抄送：{{ subject }}"))
    assert warnings("信函格式", *GOOD) == []
    assert any("未声明公文格式" in w for w in check(*GOOD).warnings)
