"""Check an uploaded template before it is accepted (模板检查).

Lists every placeholder the DOCX uses (loops and attributes included), compares them with the
schema, renders once with sample data, and reports by name what is undeclared, unused or
broken: a tag whose braces are split across formatting runs, full-width braces ｛｝ typed with
a Chinese IME, a Jinja syntax error with the paragraph it sits in. Given the registry of the
templates already there, it also warns about a document type whose names another type holds.
"""

from __future__ import annotations

import datetime as dt
import io
import re
import zipfile
from dataclasses import dataclass, field

from docx import Document
from docx.oxml import parse_xml
from docxtpl import DocxTemplate
from jinja2 import TemplateSyntaxError, meta, nodes
from jinja2.sandbox import SandboxedEnvironment
from lxml import etree

from app.common.upload_safety import zip_expansion_problem
from app.templating import advice, doctypes
from app.templating.render import RenderError, render_document
from app.templating.schema import RESERVED, SchemaCheck, TemplateSchema, check_schema
from app.templating.tags import check_tags, excerpt
from app.templating.validation import describe_errors, validate

CONTEXT_NAMES = {"doc_number", "issue_date", "is_issued", "unit", "loop", "range", "namespace"}
FULLWIDTH = re.compile(r"｛\s*[｛％%{]|[％%}｝]\s*｝|\{\s*｛|｝\s*\}")
W_NS = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
SAMPLE_UNIT = {"name": "示例单位", "code": "DEMO", "doc_code": "示例"}
SAMPLE_DATE = dt.date(2026, 1, 1)


@dataclass
class TemplateReport:
    placeholders: list[str] = field(default_factory=list)  # e.g. suggestions[].text, unit.name
    undeclared: list[str] = field(default_factory=list)
    unused: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)  # anything here refuses the upload
    warnings: list[str] = field(default_factory=list)
    schema: TemplateSchema | None = None

    @property
    def ok(self) -> bool:
        return not self.problems

    def as_dict(self) -> dict:
        return {"ok": self.ok, "placeholders": self.placeholders, "undeclared": self.undeclared,
                "unused": self.unused, "problems": self.problems, "warnings": self.warnings}  # fmt: skip


def paragraph_texts(docx_bytes: bytes) -> list[tuple[str, str, str]]:
    """(where, joined text, raw XML) for every paragraph in body, headers and footers."""
    doc = Document(io.BytesIO(docx_bytes))
    out = []
    parts = [("正文", doc.element.body)]
    for section_no, section in enumerate(doc.sections, 1):
        for kind, hf in (("页眉", section.header), ("页脚", section.footer)):
            if hf is not None and not hf.is_linked_to_previous:
                parts.append((f"第{section_no}节{kind}", hf._element))
    for where, element in parts:
        for i, p in enumerate(element.iter(f"{W_NS}p"), 1):
            text = "".join(t.text or "" for t in p.iter(f"{W_NS}t"))
            if text.strip():
                out.append((f"{where}第{i}段", text, etree.tostring(p, encoding="unicode")))
    return out


def placeholder_paths(tree: nodes.Template) -> list[str]:
    """Top-level names with their attribute paths; loop variables become list[] paths."""
    loop_sources: dict[str, str] = {}
    found: set[str] = set()

    def path(node) -> str | None:
        if isinstance(node, nodes.Name):
            return loop_sources.get(node.name, node.name)
        if isinstance(node, nodes.Getattr):
            base = path(node.node)
            return f"{base}.{node.attr}" if base else None
        if isinstance(node, nodes.Getitem) and isinstance(node.arg, nodes.Const):
            base = path(node.node)
            return f"{base}.{node.arg.value}" if base else None
        return None

    def visit(node) -> None:
        if isinstance(node, nodes.For):
            src = path(node.iter)
            if src and isinstance(node.target, nodes.Name):
                loop_sources[node.target.name] = f"{src}[]"
            visit(node.iter)
            for child in node.body + node.else_:
                visit(child)
            return
        if isinstance(node, (nodes.Getattr, nodes.Name)) and not (
            isinstance(node, nodes.Name) and node.ctx != "load"
        ):
            p = path(node)
            if p:
                found.add(p)
            if isinstance(node, nodes.Getattr):
                return
        for child in node.iter_child_nodes():
            visit(child)

    visit(tree)
    # keep the longest paths only (unit.name rather than unit as well)
    return sorted(p for p in found if not any(o != p and o.startswith(p + ".") for o in found))


def document_type_warnings(
    template_id: str, schema: TemplateSchema, registry: doctypes.DocTypes
) -> list[str]:
    """What the new template's document type means beside the types already registered: names
    of its type that search will read as another type, and the templates it shares a type with."""
    declared = schema.document_type
    after = doctypes.build(
        [(tid, dt) for tid, dt in registry.templates.items() if tid != template_id]
        + [(template_id, declared)]
    )
    out = []
    for name in (declared.label, *declared.aliases):
        owner = after.names.get(name)
        if owner != declared.search_type:
            out.append(
                f"文书类型名称“{name}”已用于“{after.label(owner)}”（{owner}），"
                f"检索“类型:{name}”查到的是该类型的文书"
            )
    shared = after.types[declared.search_type]
    others = [tid for tid in shared.template_ids if tid != template_id]
    if others:
        out.append(
            f"与模板 {'、'.join(others)} 同属文书类型“{shared.label}”（{shared.search_type}），"
            f"检索时一并查到"
        )
    return out


IMPRINT_RE = re.compile(r"^\s*抄送[:：]|issue_date\s*\}\}.*印发")


def format_warnings(schema: TemplateSchema, texts: list[str]) -> list[str]:
    """Whether the DOCX has a 版记 where its declared format (document_type.format) needs one."""
    fmt = schema.document_type.format
    has_imprint = any(IMPRINT_RE.search(t) for t in texts)
    if fmt is None:
        return ["schema.yaml 未声明公文格式：请在 document_type 下写 format: 文件格式（文末有版记）、"
                "信函格式（没有版记）或 合同格式"]  # fmt: skip
    if fmt == "文件格式" and not has_imprint:
        return ["声明为文件格式，但模板中没有版记（“{{ issue_date }}印发”一行）：请在最后一页末尾加上"
                "版记（抄送机关、印发机关和印发日期），或把 format 改为信函格式"]  # fmt: skip
    if fmt != "文件格式" and has_imprint:
        return [f"声明为{fmt}，但模板中有版记（抄送或印发日期）：{fmt}没有版记，请删去，"
                "或把 format 改为文件格式"]  # fmt: skip
    return []


def _declared_names(check: SchemaCheck) -> set[str]:
    """Field names schema.yaml declares (broken fields included), with textareas' paragraphs."""
    names = set(check.declared)
    if check.schema is not None:
        return names | {f"{f.name}_paragraphs" for f in check.schema.fields if f.type == "textarea"}
    return names | {f"{n}_paragraphs" for n in check.declared}  # the types are unsure


def inspect_template(
    template_id: str,
    docx_bytes: bytes,
    schema_bytes: bytes,
    sample: dict | None = None,
    registry: doctypes.DocTypes | None = None,
) -> TemplateReport:
    """Every problem of the DOCX and of schema.yaml in one report (Chinese, each with its fix).

    `registry`: the document types already there (doctypes.registry), to warn about names."""
    report = TemplateReport()
    checked = check_schema(schema_bytes, template_id)
    report.problems += [
        p if p.startswith("schema.yaml") else f"schema.yaml：{p}" for p in checked.problems
    ]
    schema = report.schema = checked.schema
    if schema is not None and registry is not None:
        report.warnings += document_type_warnings(template_id, schema, registry)
    docx_ok = _inspect_docx(report, docx_bytes, checked)
    if schema is None:
        return report
    if sample is None:
        report.warnings.append("未提供示例数据（sample.json），无法试生成")
        return report
    clean, errors = validate(schema, sample)
    for e in describe_errors(schema, errors):
        report.problems.append(
            f"示例数据不符合 schema.yaml：{e['label']}（{e['field']}）{e['message']}"
        )
    if report.problems or not docx_ok:
        return report  # a broken template is not rendered
    try:
        out = render_document(
            schema, docx_bytes, clean, SAMPLE_UNIT, "示例〔2026〕1号", SAMPLE_DATE
        )
    except RenderError as exc:
        report.problems.append(f"用示例数据试生成失败：{exc}")
        return report
    text = "\n".join(t for _, t, _ in paragraph_texts(out))
    if "{{" in text or "{%" in text:
        report.problems.append("试生成的文档中仍有未替换的 {{ 或 {% 标签")
    return report


def _inspect_docx(report: TemplateReport, docx_bytes: bytes, checked: SchemaCheck) -> bool:
    """The DOCX's problems into `report`; False when it cannot be read or rendered at all."""
    expansion = zip_expansion_problem(docx_bytes) if docx_bytes.startswith(b"PK") else None
    if expansion:  # a "zip bomb" is never parsed (app/common/upload_safety.py)
        report.problems.append(f"上传的 DOCX 文档{expansion}")
        return False
    try:
        zipfile.ZipFile(io.BytesIO(docx_bytes)).testzip()
        paragraphs = paragraph_texts(docx_bytes)
    except (zipfile.BadZipFile, KeyError, ValueError):
        report.problems.append(
            "上传的模板文件不是有效的 DOCX 文档：请在 Word 或 WPS 中另存为 .docx 后重新上传"
        )
        return False
    before = len(report.problems)
    for where, text, raw in paragraphs:
        at = f"{where}（“{excerpt(text)}”）"
        if FULLWIDTH.search(text):
            report.problems.append(
                f"{at}：发现全角花括号（如“｛｛”“｝｝”，多为中文输入法输入），请切换到半角后改为 {{{{ }}}} 或 {{% %}}"
            )
        for opener, closer in (("{{", "}}"), ("{%", "%}")):
            if text.count(opener) != text.count(closer):
                report.problems.append(
                    f"{at}：标签不完整，“{opener}”与“{closer}”数量不一致，请补全或删去多余的括号"
                )
            elif text.count(opener) and raw.count(opener) < text.count(opener):
                report.problems.append(
                    f"{at}：标签“{opener}”被拆分在不同格式片段中（常见于只给一半括号改了字体或颜色），"
                    "请删除后整体重新输入"
                )
    if checked.schema is not None:
        report.warnings += format_warnings(checked.schema, [t for _, t, _ in paragraphs])
    tags = check_tags([(where, text) for where, text, _ in paragraphs])
    report.problems += tags.problems
    parsed = len(report.problems) == before
    names = tags.names
    if parsed:
        tree = parse_docx(docx_bytes)
        if tree is None:
            report.problems.append(
                "模板语法有误，但无法确定所在段落：请检查各段标签的括号和 if/for 是否成对"
            )
            parsed = False
        else:
            # roots as Jinja itself sees them ({% set %} and loop variables are not inputs)
            names = meta.find_undeclared_variables(tree)
            report.placeholders = [
                p for p in placeholder_paths(tree) if p.split(".", 1)[0].removesuffix("[]") in names
            ]
    if not parsed:
        report.placeholders = sorted(n for n in names if n not in CONTEXT_NAMES)
    declared = _declared_names(checked)
    field_names = list(checked.declared)
    report.undeclared = sorted(n for n in names - declared - CONTEXT_NAMES)
    for name in report.undeclared:
        hint = advice.did_you_mean(name, field_names)
        report.problems.append(
            f"模板使用了 schema.yaml 中未声明的字段“{name}”：请在 schema.yaml 的 fields 中声明它"
            + (f"，或改正拼写{hint}" if hint else "")
        )
    report.unused = sorted(
        n
        for n in checked.declared
        if n not in names and f"{n}_paragraphs" not in names and n not in CONTEXT_NAMES | RESERVED
    )
    for name in report.unused:
        report.warnings.append(
            f"schema.yaml 声明的字段“{name}”在模板中没有用到：请在模板中加入 {{{{ {name} }}}}，"
            "或从 schema.yaml 中删去"
        )
    schema = checked.schema
    for p in report.placeholders if schema is not None else ():
        root, _, attr = p.partition(".")
        spec = schema.field(root.removesuffix("[]"))
        if (
            spec is not None
            and spec.type == "list"
            and spec.fields
            and root.endswith("[]")
            and attr
        ):
            sub = attr.split(".", 1)[0]
            columns = [f.name for f in spec.fields]
            if sub not in columns:
                report.problems.append(
                    f"模板使用了列表“{spec.name}”中不存在的栏目“{sub}”，可用：{'、'.join(columns)}"
                    + advice.did_you_mean(sub, columns)
                )
    return parsed


def parse_docx(docx_bytes: bytes) -> nodes.Template | None:
    """The whole template as docxtpl hands it to Jinja (body, headers, footers)."""
    env = SandboxedEnvironment(autoescape=True)
    tpl = DocxTemplate(io.BytesIO(docx_bytes))
    tpl.init_docx()
    xml = tpl.patch_xml(tpl.xml_to_string(tpl.docx._element.body))
    for rel in tpl.docx._part.rels.values():
        if rel.reltype in (tpl.HEADER_URI, tpl.FOOTER_URI) and rel.target_part.blob:
            xml += tpl.patch_xml(tpl.xml_to_string(parse_xml(rel.target_part.blob)))
    try:
        return env.parse(xml)
    except TemplateSyntaxError:
        return None
