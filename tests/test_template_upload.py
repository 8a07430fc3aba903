"""Template management: a broken upload is reported by name and stored nowhere; a good one is
usable at once, without a restart, and old documents keep their version."""

import io
import json

import pytest
import yaml
from conftest import PASSWORD, as_user
from docx import Document
from webutil import csrf_from, login

from app import create_app
from app.templating.inspect import inspect_template
from app.templating.models import TemplateVersion

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
        (GOOD + ["{% if subject %}没有结束"], "正文第7段（“{% if subject %}没有结束”）开始的 if 块没有结束"),
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
