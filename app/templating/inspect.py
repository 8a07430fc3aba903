"""Check an uploaded template before it is accepted (模板检查).

Lists every placeholder the DOCX uses (loops and attributes included), compares them with the
schema, renders once with sample data, and reports by name what is undeclared, unused or
broken: a tag whose braces are split across formatting runs, full-width braces ｛｝ typed with
a Chinese IME, a Jinja syntax error with the paragraph it sits in. Given the registry of the
templates already there, it also warns about a document type whose names another type holds.
"""

from __future__ import annotations

import io
import re
import zipfile
from dataclasses import dataclass, field

from docx import Document
from docx.oxml import parse_xml
from docxtpl import DocxTemplate
from jinja2 import TemplateSyntaxError, meta, nodes
from jinja2.sandbox import SandboxedEnvironment

from app.common.upload_safety import zip_expansion_problem
from app.templating import doctypes
from app.templating.render import RenderError, render_document
from app.templating.schema import SchemaError, TemplateSchema, parse_schema
from app.templating.validation import describe_errors, validate

CONTEXT_NAMES = {"doc_number", "issue_date", "is_issued", "unit", "loop", "range", "namespace"}
FULLWIDTH = re.compile(r"｛\s*[｛％%{]|[％%}｝]\s*｝|\{\s*｛|｝\s*\}")
W_NS = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"


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


def _paragraph_texts(docx_bytes: bytes) -> list[tuple[str, str, str]]:
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
                from lxml import etree

                out.append((f"{where}第{i}段", text, etree.tostring(p, encoding="unicode")))
    return out


def _names(tree: nodes.Template) -> list[str]:
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


def inspect_template(
    template_id: str,
    docx_bytes: bytes,
    schema_bytes: bytes,
    sample: dict | None = None,
    registry: doctypes.DocTypes | None = None,
) -> TemplateReport:
    """`registry`: the document types already there (doctypes.registry), to warn about names."""
    report = TemplateReport()
    try:
        schema = parse_schema(schema_bytes, template_id)
        report.schema = schema
    except SchemaError as exc:
        report.problems.append(f"schema.yaml 有误：{exc}")
        schema = None
    if schema is not None and registry is not None:
        report.warnings += document_type_warnings(template_id, schema, registry)
    expansion = zip_expansion_problem(docx_bytes) if docx_bytes.startswith(b"PK") else None
    if expansion:  # a "zip bomb" is never parsed (app/common/upload_safety.py)
        report.problems.append(f"上传的 DOCX 文档{expansion}")
        return report
    try:
        zipfile.ZipFile(io.BytesIO(docx_bytes)).testzip()
        paragraphs = _paragraph_texts(docx_bytes)
    except (zipfile.BadZipFile, KeyError, ValueError) as exc:
        report.problems.append(f"上传的文件不是有效的 DOCX 文档（{exc}）")
        return report

    for where, text, raw in paragraphs:
        if FULLWIDTH.search(text):
            report.problems.append(
                f"{where}：发现全角花括号（如“｛｛”“｝｝”，多为中文输入法输入），请改为半角 {{{{ }}}} 或 {{% %}}：{text[:60]}"
            )
        for opener, closer in (("{{", "}}"), ("{%", "%}")):
            if text.count(opener) != text.count(closer):
                report.problems.append(
                    f"{where}：标签不完整，“{opener}”与“{closer}”数量不一致：{text[:60]}"
                )
            elif text.count(opener) and raw.count(opener) < text.count(opener):
                report.problems.append(
                    f"{where}：标签“{opener}”被拆分在不同格式片段中（常见于只给一半括号改了字体或颜色），"
                    f"请删除后整体重新输入：{text[:60]}"
                )
    if report.problems:
        return report

    env = SandboxedEnvironment(autoescape=True)
    tpl = DocxTemplate(io.BytesIO(docx_bytes))
    tpl.init_docx()
    xml = tpl.patch_xml(tpl.xml_to_string(tpl.docx._element.body))
    for rel in tpl.docx._part.rels.values():
        if rel.reltype in (tpl.HEADER_URI, tpl.FOOTER_URI) and rel.target_part.blob:
            xml += tpl.patch_xml(tpl.xml_to_string(parse_xml(rel.target_part.blob)))
    try:
        tree = env.parse(xml)
    except TemplateSyntaxError as exc:
        lines = xml.splitlines()
        near = re.sub(
            r"<[^>]+>", "", lines[exc.lineno - 1] if 0 < exc.lineno <= len(lines) else ""
        )[:80]
        report.problems.append(f"模板语法错误：{exc.message}（出错处文字：“{near.strip()}”）")
        return report

    # roots as Jinja itself sees them ({% set %} and loop variables are not inputs)
    used_roots = meta.find_undeclared_variables(tree)
    report.placeholders = [
        p for p in _names(tree) if p.split(".", 1)[0].removesuffix("[]") in used_roots
    ]
    if schema is None:
        return report
    declared = {f.name for f in schema.fields} | {
        f"{f.name}_paragraphs" for f in schema.fields if f.type == "textarea"
    }
    report.undeclared = sorted(n for n in used_roots - declared - CONTEXT_NAMES)
    report.unused = sorted(
        f.name
        for f in schema.fields
        if f.name not in used_roots and f"{f.name}_paragraphs" not in used_roots
    )
    for name in report.undeclared:
        report.problems.append(f"模板使用了 schema.yaml 中未声明的字段“{name}”")
    for name in report.unused:
        report.warnings.append(f"schema.yaml 声明的字段“{name}”在模板中没有用到")
    for p in report.placeholders:
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
            if sub not in {f.name for f in spec.fields}:
                report.problems.append(f"模板使用了列表“{spec.name}”中不存在的栏目“{sub}”")

    if sample is None:
        report.warnings.append("未提供示例数据（sample.json），无法试生成")
        return report
    clean, errors = validate(schema, sample)
    if errors:
        for e in describe_errors(schema, errors):
            report.problems.append(
                f"示例数据不符合 schema：{e['label']}（{e['field']}）{e['message']}"
            )
        return report
    try:
        out = render_document(schema, docx_bytes, clean, {"name": "示例单位", "code": "DEMO", "doc_code": "示例"},
                              "示例〔2026〕1号", __import__("datetime").date(2026, 1, 1))  # fmt: skip
    except RenderError as exc:
        report.problems.append(f"用示例数据试生成失败：{exc}")
        return report
    text = "\n".join(t for _, t, _ in _paragraph_texts(out))
    if "{{" in text or "{%" in text:
        report.problems.append("试生成的文档中仍有未替换的 {{ 或 {% 标签")
    return report
