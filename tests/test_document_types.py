"""Document types come from the templates' schema.yaml (`document_type`): a template uploaded at
run time is searchable by its name, counted by compliance and filed with its declared role like
the built-in ones; a bad declaration is refused by name."""

import io
import json

import pytest
import yaml
from casefile_factories import file_document, issue_template, new_case
from conftest import PASSWORD, REPO, as_user, sample
from webutil import csrf_from, login

from app import create_app
from app.casefiles.models import CaseFileItem
from app.jobs.outbox import drain
from app.registers.compliance import compliance_findings
from app.search import QuerySyntaxError, SearchQuery, SearchScope
from app.templating import doctypes, parse_schema
from app.templating.inspect import inspect_template
from app.templating.schema import SchemaError

pytestmark = pytest.mark.engine_neutral  # SQLite only: see tests/conftest.py

SHIPPED = REPO / "doc_templates" / "risk-notice"
NEW_ID = "safety-notice"  # a copy of the risk notice with its own id, label and search type
NEW_TYPE = {
    "label": "安全生产风险提示函",
    "aliases": ["安全提示函"],
    "search_type": "safety-risk-notice",
    "casefile_role": "risk-notice",
    "precedent": True,
}


def schema_bytes(template_id: str = NEW_ID, **document_type) -> bytes:
    raw = yaml.safe_load((SHIPPED / "schema.yaml").read_text("utf-8"))
    raw["id"] = template_id
    raw["title"] = "安全生产法律风险提示函"
    raw["document_type"] = document_type
    return yaml.safe_dump(raw, allow_unicode=True).encode()


def upload(app, template_id: str, schema: bytes):
    admin = app.test_client()
    login(admin, "admin", PASSWORD)
    token = csrf_from(admin, "/admin/templates")
    return admin.post("/admin/templates", content_type="multipart/form-data", data={
        "csrf_token": token, "template_id": template_id,
        "docx": (io.BytesIO((SHIPPED / "template.docx").read_bytes()), "template.docx"),
        "schema": (io.BytesIO(schema), "schema.yaml"),
        "sample": (io.BytesIO(json.dumps(sample("risk-notice")).encode()), "sample.json"),
    })  # fmt: skip


def test_an_uploaded_template_is_searchable_countable_and_fileable_by_its_type(cf):
    app = create_app({"TESTING": True}, casefile=cf)
    assert upload(app, NEW_ID, schema_bytes(**NEW_TYPE)).status_code == 302
    with cf.db.read() as s:
        registry = doctypes.registry(cf.catalog, s)
        assert registry.label("safety-risk-notice") == "安全生产风险提示函"
        assert registry.resolve("安全提示函") == "safety-risk-notice"
        assert registry.types["safety-risk-notice"].template_ids == (NEW_ID,)
        assert NEW_ID in doctypes.precedent_template_ids(cf.catalog, s)
        assert "safety-risk-notice" in doctypes.precedent_types(cf.catalog, s)

    data = sample("risk-notice") | {"reply_by": "2026-10-30"}
    doc = issue_template(cf, NEW_ID, data)
    builtin = issue_template(cf, "risk-notice", data)
    drain(cf, ("index",))

    # search: by its label and alias (类型:…), on its own search type, with its facet
    everything = SearchScope.everything()
    for name in ("安全生产风险提示函", "安全提示函", "safety-risk-notice", NEW_ID):
        found = cf.search.search(SearchQuery(text=f"类型:{name}"), everything)
        assert [h.doc_id for h in found.hits] == [str(doc.id)], name
        assert found.hits[0].doc_type == "safety-risk-notice"
    for name in ("safety-risk-notice", "安全提示函"):  # a filter given apart from the text
        found = cf.search.search(SearchQuery(doc_types=frozenset({name})), everything)
        assert [h.doc_id for h in found.hits] == [str(doc.id)], name
    with pytest.raises(QuerySyntaxError, match="安全生产风险提示函"):  # offers the labels
        cf.search.search(SearchQuery(doc_types=frozenset({"memo"})), everything)
    found = cf.search.search(SearchQuery(text="类型:法律风险提示函"), everything)
    assert [h.doc_id for h in found.hits] == [str(builtin.id)]
    assert found.facets["doc_type"] == {"risk-notice": 1}
    clerk = app.test_client()
    login(clerk, "clerk", PASSWORD)
    page = clerk.get("/search", query_string={"q": "类型:安全生产风险提示函"})
    assert page.status_code == 200 and doc.number in page.get_data(as_text=True)

    # compliance: an overdue notice of the new type counts like a built-in one
    with cf.db.read() as s:
        rows = compliance_findings(s, as_user(s, "inspector"), today="2026-11-01")
    overdue = {r.document_number for r in rows if r.category == "overdue_reply"}
    assert {doc.number, builtin.number} <= overdue

    # case file: filed with the role its type declares
    case = new_case(cf, "安全生产风险提示", kind="other")
    item_id = file_document(cf, case, doc.id)
    with cf.db.read() as s:
        assert s.get(CaseFileItem, item_id).role == "risk-notice"


def test_the_registry_is_cached_until_a_template_version_is_added(cf):
    with cf.db.read() as s:
        first = doctypes.registry(cf.catalog, s)
        assert doctypes.registry(cf.catalog, s) is first
        assert doctypes.type_labels(cf.catalog, s) == {
            "adviser-work-report": "法律顾问工作情况报告",
            "attachment": "附件材料",
            "commission-letter": "委托公函",
            "engagement-contract": "法律顾问聘任合同",
            "legality-review-opinion": "合法性审查意见书",
            "risk-notice": "法律风险提示函",
        }
        assert doctypes.precedent_template_ids(cf.catalog, s) == {
            "legality-review-opinion",
            "risk-notice",
        }
    with cf.db.write() as s:
        cf.catalog.add_version(
            s, NEW_ID, (SHIPPED / "template.docx").read_bytes(), schema_bytes(**NEW_TYPE), None
        )
    with cf.db.read() as s:
        again = doctypes.registry(cf.catalog, s)
        assert again is not first and "safety-risk-notice" in again.types


def test_a_variant_may_share_a_type_and_an_old_schema_gets_the_defaults():
    builtin = parse_schema((SHIPPED / "schema.yaml").read_bytes(), "risk-notice")
    variant = parse_schema(schema_bytes("risk-notice-2024", search_type="risk-notice"))
    old = yaml.safe_load(schema_bytes("memo"))
    del old["document_type"]
    memo = parse_schema(yaml.safe_dump(old, allow_unicode=True))
    assert memo.document_type == doctypes.DocumentType(
        search_type="memo", label="安全生产法律风险提示函", casefile_role="other"
    )
    registry = doctypes.build([(s.id, s.document_type) for s in (variant, builtin, memo)])
    shared = registry.types["risk-notice"]
    assert shared.label == "法律风险提示函"  # from the template named like the type
    assert shared.template_ids == ("risk-notice", "risk-notice-2024")
    assert registry.resolve("安全生产法律风险提示函") == "memo"  # memo's label wins the name
    assert registry.resolve("risk-notice-2024") == "risk-notice"
    assert registry.template_ids(role="risk-notice") == {"risk-notice"}  # the variant: other
    assert registry.of_template("gone").search_type == "gone"


@pytest.mark.parametrize(
    ("document_type", "expected"),
    [
        ({"casefile_role": "evidence"}, "casefile_role：未知的材料类别“evidence”"),
        ({"search_type": "Risk Notice"}, "search_type“Risk Notice”只能由小写字母"),
        ({"search_type": "attachment"}, "search_type“attachment”是保留名"),
        ({"label": ""}, "label 不能为空"),
        ({"aliases": "审查意见书"}, "aliases 应是名称的列表"),
        ({"precedent": "yes"}, "precedent 只能是 true 或 false"),
        ({"conclusion_field": "verdict"}, "conclusion_field 引用了不存在的字段“verdict”"),
        ({"conclusion_field": "legal_bases"}, "应是 choice、text、textarea 字段"),
        ({"role": "legality-review"}, "未知的键“role”"),
        ({"format": "公文格式"}, "format：未知的公文格式“公文格式”"),
    ],
)
def test_a_bad_document_type_is_refused_by_name(document_type, expected):
    with pytest.raises(SchemaError, match="document_type") as err:
        parse_schema(schema_bytes(**document_type))
    assert expected in str(err.value)
    report = inspect_template(
        NEW_ID, (SHIPPED / "template.docx").read_bytes(), schema_bytes(**document_type),
        sample("risk-notice"),
    )  # fmt: skip
    assert not report.ok and any(expected in p for p in report.problems), report.problems


def test_a_bad_document_type_is_refused_at_upload_and_nothing_is_stored(cf):
    app = create_app({"TESTING": True}, casefile=cf)
    response = upload(app, NEW_ID, schema_bytes(casefile_role="evidence"))
    assert response.status_code == 422
    assert "casefile_role" in response.get_data(as_text=True)
    with cf.db.read() as s:
        assert "safety-risk-notice" not in doctypes.doc_types(cf.catalog, s)
        assert NEW_ID not in doctypes.registry(cf.catalog, s).templates


def test_the_upload_check_warns_about_names_another_type_holds(cf):
    docx = (SHIPPED / "template.docx").read_bytes()
    with cf.db.read() as s:
        registry = doctypes.registry(cf.catalog, s)

    def warnings(template_id, **document_type):
        report = inspect_template(template_id, docx, schema_bytes(template_id, **document_type),
                                  sample("risk-notice"), registry)  # fmt: skip
        assert report.ok, report.problems
        return report.warnings

    taken = warnings(NEW_ID, label="安全生产风险提示函", aliases=["风险提示函"])
    assert any("“风险提示函”已用于“法律风险提示函”（risk-notice）" in w for w in taken), taken
    shared = warnings("risk-notice-2024", search_type="risk-notice")
    assert any("与模板 risk-notice 同属文书类型“法律风险提示函”" in w for w in shared), shared
    assert not any("文书类型" in w for w in warnings(NEW_ID, **NEW_TYPE))
    # a new version of a template is compared with the others, not with itself
    assert not any("文书类型" in w for w in warnings("risk-notice", label="法律风险提示函"))
