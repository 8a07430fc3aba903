"""Rendering: user values are data (escaped, never executed) and output is reproducible."""

import io
import zipfile

from conftest import REPO, sample, write_template
from docx import Document

from app.templating import parse_schema, render_document
from app.templating.render import chinese_date, money_display, normalize_docx

HOSTILE = "A&B <C> {{ 7*7 }} {% raw %} ]]> \"'"


def _text(docx: bytes) -> str:
    return "\n".join(p.text for p in Document(io.BytesIO(docx)).paragraphs)


def _quick(tmp_path):
    folder = write_template(
        tmp_path, "t", ["主题：{{ subject }}", "{{ doc_number }}", "{{ issue_date }}"],
        [{"name": "subject", "label": "事由", "type": "text"}],
    )  # fmt: skip
    schema = parse_schema((folder / "t" / "schema.yaml").read_bytes(), "t")
    return schema, (folder / "t" / "template.docx").read_bytes()


def test_hostile_value_appears_literally_and_docx_stays_valid(tmp_path):
    schema, tpl = _quick(tmp_path)
    out = render_document(schema, tpl, {"subject": HOSTILE}, {"name": "单位"})
    assert f"主题：{HOSTILE}" in _text(out)  # python-docx parses the XML: it is well formed
    assert "49" not in _text(out)
    assert zipfile.ZipFile(io.BytesIO(out)).testzip() is None


def test_hostile_values_in_a_shipped_template(tmp_path):
    data = sample("commission-letter")
    data["case_name"] = HOSTILE
    schema = parse_schema((REPO / "doc_templates/commission-letter/schema.yaml").read_bytes())
    tpl = (REPO / "doc_templates/commission-letter/template.docx").read_bytes()
    out = render_document(schema, tpl, data, {"name": "武阳市人民政府法律顾问室"})
    assert HOSTILE in _text(out)


def test_rendering_is_byte_identical(tmp_path):
    schema, tpl = _quick(tmp_path)
    import datetime as dt
    import time

    a = render_document(
        schema,
        tpl,
        {"subject": "甲"},
        {"name": "单位"},
        "武政法测〔2026〕3号",
        dt.date(2026, 11, 3),
    )
    time.sleep(1.1)  # a zip timestamp taken from the clock would now differ
    b = render_document(
        schema,
        tpl,
        {"subject": "甲"},
        {"name": "单位"},
        "武政法测〔2026〕3号",
        dt.date(2026, 11, 3),
    )
    assert a == b
    assert all(
        i.date_time == (1980, 1, 1, 0, 0, 0) for i in zipfile.ZipFile(io.BytesIO(a)).infolist()
    )
    c = render_document(
        schema,
        tpl,
        {"subject": "乙"},
        {"name": "单位"},
        "武政法测〔2026〕3号",
        dt.date(2026, 11, 3),
    )
    assert c != a


def test_number_and_date_are_placeholders_before_issue(tmp_path):
    schema, tpl = _quick(tmp_path)
    import datetime as dt

    draft = _text(render_document(schema, tpl, {"subject": "甲"}, {"name": "单位"}))
    issued = _text(
        render_document(
            schema,
            tpl,
            {"subject": "甲"},
            {"name": "单位"},
            "武政法测〔2026〕3号",
            dt.date(2026, 1, 5),
        )
    )
    assert "签发时编号" in draft and "武政法测〔2026〕3号" not in draft
    assert "武政法测〔2026〕3号" in issued and "2026年1月5日" in issued


def test_normalize_is_idempotent(tmp_path):
    schema, tpl = _quick(tmp_path)
    out = render_document(schema, tpl, {"subject": "甲"}, {"name": "单位"})
    assert normalize_docx(out) == out


def test_chinese_date_and_money():
    import datetime as dt

    assert chinese_date(dt.date(2026, 11, 3)) == "2026年11月3日"
    assert chinese_date("2026-01-09") == "2026年1月9日"
    m = money_display("80000.00")
    assert m["text"] == "80,000元（大写：人民币捌万元整）"
    assert money_display("1234.50")["figures"] == "1,234.50元"


def test_direct_stored_writer_equals_python_docx_save_normalised(tmp_path):
    """save_reproducible must produce exactly what python-docx's save + normalize_docx would."""
    from docxtpl import DocxTemplate
    from jinja2.sandbox import SandboxedEnvironment

    from app.templating.render import build_context, save_reproducible

    schema = parse_schema((REPO / "doc_templates/commission-letter/schema.yaml").read_bytes())
    from app.templating import validate

    clean, errors = validate(schema, sample())
    assert not errors
    ctx = build_context(schema, clean, {"name": "单位"})
    tpl_bytes = (REPO / "doc_templates/commission-letter/template.docx").read_bytes()
    a = DocxTemplate(io.BytesIO(tpl_bytes))
    a.render(ctx, jinja_env=SandboxedEnvironment(autoescape=True))
    buf = io.BytesIO()
    a.save(buf)
    b = DocxTemplate(io.BytesIO(tpl_bytes))
    b.render(ctx, jinja_env=SandboxedEnvironment(autoescape=True))
    assert save_reproducible(b) == normalize_docx(buf.getvalue())
