"""Each template's schema, sample and DOCX agree, and optional sections vanish when empty."""

from __future__ import annotations

import copy
import importlib.util
import json
import sys
from pathlib import Path

import pytest
from docx import Document
from docxtpl import DocxTemplate
from jinja2.sandbox import SandboxedEnvironment

from app.templating import parse_schema, validate
from app.templating.render import document_title
from app.templating.schema import RESERVED

ROOT = Path(__file__).resolve().parent.parent
TEMPLATES = ROOT / "doc_templates"
TEMPLATE_IDS = sorted(p.parent.name for p in TEMPLATES.glob("*/template.docx"))


def _load_builder():
    """tools/ is not a package; load the build script as a module (once per session)."""
    if "build_templates" in sys.modules:
        return sys.modules["build_templates"]
    spec = importlib.util.spec_from_file_location(
        "build_templates", ROOT / "tools/build_templates.py"
    )
    module = importlib.util.module_from_spec(spec)
    sys.modules["build_templates"] = module
    spec.loader.exec_module(module)
    return module


builder = _load_builder()


def load(template_id: str):
    folder = TEMPLATES / template_id
    schema = parse_schema((folder / "schema.yaml").read_text(encoding="utf-8"), template_id)
    sample = json.loads((folder / "sample.json").read_text(encoding="utf-8"))
    return schema, sample


def rendered_text(template_id: str, data: dict, tmp_path: Path) -> str:
    path = builder.render_sample(template_id, tmp_path / "out.docx", data=data)
    doc = Document(path)
    parts = [p.text for p in doc.paragraphs]
    for table in doc.tables:
        parts.extend(" | ".join(cell.text for cell in row.cells) for row in table.rows)
    return "\n".join(parts)


@pytest.mark.parametrize("template_id", TEMPLATE_IDS)
def test_sample_is_valid_and_fills_every_field(template_id):
    schema, sample = load(template_id)
    clean, errors = validate(schema, sample)
    assert errors == {}
    # The sample exercises every section: each field in play is filled, optional ones too.
    for spec in schema.fields:
        in_play = spec.show_if is None or spec.show_if.holds(clean)
        if in_play:
            assert sample.get(spec.name) not in (None, "", [], {}), f"sample lacks {spec.name}"
        else:
            assert spec.name not in sample, f"{spec.name} is hidden by show_if in the sample"


@pytest.mark.parametrize("template_id", TEMPLATE_IDS)
def test_every_placeholder_is_declared(template_id):
    schema, _ = load(template_id)
    tpl = DocxTemplate(TEMPLATES / template_id / "template.docx")
    used = tpl.get_undeclared_template_variables(jinja_env=SandboxedEnvironment(autoescape=True))
    declared = {f.name for f in schema.fields} | {"doc_number", "issue_date", "is_issued", "unit"}
    declared |= {f"{f.name}_paragraphs" for f in schema.fields if f.type == "textarea"}
    assert used - declared == set()
    assert used - RESERVED, "the template uses no form field at all"


@pytest.mark.parametrize("template_id", TEMPLATE_IDS)
def test_review_chain_and_title(template_id):
    schema, sample = load(template_id)
    chains = {
        "adviser-work-report": ["office-head", "signatory"],
        "commission-letter": ["office-head", "signatory"],
        "engagement-contract": ["office-head", "signatory"],
        "legality-review-opinion": ["adviser", "office-head", "signatory"],
        "risk-notice": ["adviser", "office-head"],
    }
    assert [step.role for step in schema.review_chain] == chains[template_id]
    assert schema.numbering_suffix
    clean, _ = validate(schema, sample)
    title = document_title(schema, clean)
    assert title != schema.title and "{" not in title and len(title) <= 80


@pytest.mark.parametrize("template_id", TEMPLATE_IDS)
def test_committed_docx_is_built_from_its_source(template_id):
    committed = (TEMPLATES / template_id / "template.docx").read_bytes()
    assert builder.build(template_id) == committed, "run .venv/bin/python tools/build_templates.py"


def test_build_is_deterministic():
    assert builder.build(TEMPLATE_IDS[0]) == builder.build(TEMPLATE_IDS[0])


@pytest.mark.parametrize(
    "segment",
    ["{{ name }", "{% if x %}{{ y }", "｛｛ name ｝｝"],
)
def test_builder_refuses_tags_that_would_split(segment):
    with pytest.raises(builder.SourceError):
        builder.check_segment(segment, "test")


# (template, changes to the sample, text present with the sample, text gone after the change)
OPTIONAL_SECTIONS = [
    ("commission-letter", {"attachments": []}, "附件：", None),
    ("commission-letter", {"note": ""}, "（此件不公开）", None),
    ("commission-letter", {"contact_name": "", "contact_phone": ""}, "联系人：", None),
    (
        "commission-letter",
        {"term": None},
        "2027年6月30日",
        "自本函出具之日起至本案本程序终结之日止",
    ),
    (
        "commission-letter",
        {"authority": "一般代理", "special_powers": None},
        "特别授权",
        "代理权限：一般代理。",
    ),
    (
        "commission-letter",
        {
            "proceeding_type": "仲裁",
            "case_number": None,
            "stage": None,
            "tribunal_number": "昆仲字〔2026〕第88号",
            "addressee": "某市仲裁委员会",
        },
        "（2026）云01行初123号",
        "仲裁代理人，参加本案仲裁活动",
    ),
    (
        "risk-notice",
        {"related_cases": []},
        "五、类似案例",
        "五、防范建议",  # the following heading moves up a number
    ),
    ("risk-notice", {"attachments": []}, "附件：", None),
    ("risk-notice", {"attachments": ["逾期动工地块清单"]}, "附件：1.", "附件：逾期动工地块清单"),
    (
        "legality-review-opinion",
        {"amendments": [], "conclusion": "合法，可以提交审议"},
        "三、修改建议",
        "三、审查结论",
    ),
    ("legality-review-opinion", {"other_matters": ""}, "五、其他事项", None),
    (
        "legality-review-opinion",
        {"amendments": [], "other_matters": ""},
        "其他事项",
        "本意见仅对《办法》的合法性提出",
    ),
    (
        "legality-review-opinion",
        {"conclusion": "不合法或者不成熟，建议不予提交审议或者暂缓发布"},
        "按照修改建议修改后，可以提交审议。",
        "重新报送合法性审查",
    ),
    (
        "adviser-work-report",
        {
            "unit_rows": [
                {
                    "unit_name": "某市司法局",
                    "advisers": 1,
                    "services": 3,
                    "opinions": 0,
                    "contracts": 0,
                    "litigation": 0,
                }
            ]
        },
        "（三）各单位情况",
        None,
    ),
    (
        "adviser-work-report",
        {"advisers": [], "services": []},
        "云岭明德律师事务所",
        "本期无在聘法律顾问",
    ),
    ("engagement-contract", {"other_terms": ""}, "第十四条　其他约定", "第十四条　合同生效及份数"),
    ("engagement-contract", {"payee_account": ""}, "乙方收款账户", None),
    (
        "engagement-contract",
        {"working_methods": ["出具书面法律意见"], "onsite_days": None},
        "现场办公不少于",
        None,
    ),
    (
        "engagement-contract",
        {
            "adviser_kind": "法学专家",
            "adviser_name": "陈守正",
            "adviser_employer": "某大学法学院",
            "adviser_title": "教授",
            "adviser_uscc": None,
            "adviser_representative": None,
            "assigned_lawyers": None,
            "dispute": "向甲方所在地人民法院提起诉讼",
            "arbitration_body": None,
        },
        "承办律师",
        "工作单位：某大学法学院　　职称：教授",
    ),
]


@pytest.mark.parametrize(
    ("template_id", "changes", "gone", "added"),
    [case for case in OPTIONAL_SECTIONS if case[0] in TEMPLATE_IDS],
    ids=lambda v: ",".join(v) if isinstance(v, dict) else None,
)
def test_optional_section_appears_only_when_filled(template_id, changes, gone, added, tmp_path):
    _, sample = load(template_id)
    before = rendered_text(template_id, sample, tmp_path)
    assert gone in before
    data = copy.deepcopy(sample)
    for key, value in changes.items():
        if value is None:
            data.pop(key, None)
        else:
            data[key] = value
    after = rendered_text(template_id, data, tmp_path)
    assert gone not in after
    if added:
        assert added in after
    # No blank paragraphs pile up where a section was removed.
    assert "\n\n\n\n" not in after
