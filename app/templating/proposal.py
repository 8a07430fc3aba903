"""Start a schema from a DOCX (从模板生成字段定义): list the placeholders an administrator typed in
Word and propose a schema.yaml with a field for each, its type guessed from the name and from
how the template uses it; every label is "待填写" for the administrator to edit.
"""

from __future__ import annotations

import io
import re
import zipfile
from dataclasses import dataclass, field

from jinja2 import meta

from app.common.upload_safety import zip_expansion_problem
from app.templating.inspect import CONTEXT_NAMES, paragraph_texts, parse_docx, placeholder_paths
from app.templating.tags import EXPRESSION, STATEMENT, check_tags, excerpt

LABEL_TODO = "待填写"
# (pattern on the field name, type, extra keys) — the first match wins.
NAME_RULES: tuple[tuple[str, str, dict], ...] = (
    (r"(^|_)(date|day|deadline)$|_(on|by|until)$|^date_|_date_", "date", {}),
    (r"(^|_)(period|term|duration|date_range)$", "daterange", {}),
    (r"(^|_)(amount|fee|fees|price|cost|salary|remuneration|money|budget)$", "money", {}),
    (r"(^|_)(count|years|months|days|quantity|qty|copies|num)$", "integer", {"min": 0}),
    (r"^(is|has|with|need|needs)_", "boolean", {}),
    (r"(^|_)(phone|tel|mobile)$", "text", {"format": "phone"}),
    (r"(^|_)(uscc|credit_code)$", "text", {"format": "uscc"}),
    (r"(^|_)(licence|license|licence_no|license_no)$", "text", {"format": "lawyer_licence"}),
    (r"(^|_)court_case_number$", "text", {"format": "court_case_number"}),
    (
        r"(^|_)(facts|content|analysis|opinion|opinions|reason|reasons|body|description"
        r"|review|summary|background|text|details|remarks|comments)$",
        "textarea",
        {},
    ),
    (r"(^|_)(items|list|bases|suggestions|attachments|members|points|cc)$", "list", {}),
)


@dataclass
class SchemaProposal:
    placeholders: list[str] = field(default_factory=list)  # e.g. subject, points[].text
    fields: list[dict] = field(default_factory=list)  # name, type, where (first use)
    problems: list[str] = field(default_factory=list)  # what kept a placeholder out
    schema_yaml: str = ""

    def as_dict(self) -> dict:
        return {"placeholders": self.placeholders, "fields": self.fields,
                "problems": self.problems, "schema_yaml": self.schema_yaml}  # fmt: skip


def guess_type(name: str, attrs: set[str], columns: list[str]) -> tuple[str, dict]:
    """A field type for a placeholder, from how the template uses it, then from its name."""
    if columns:
        return "list", {}
    if {"start", "end"} & attrs:
        return "daterange", {}
    if {"figures", "upper"} & attrs:
        return "money", {}
    for pattern, ftype, extra in NAME_RULES:
        if re.search(pattern, name):
            return ftype, dict(extra)
    return "text", {}


def _first_use(paragraphs: list[tuple[str, str]]) -> dict[str, str]:
    """root name -> where it is first used, e.g. 正文第3段：“事由：{{ subject }}”."""
    found: dict[str, str] = {}
    for where, text in paragraphs:
        for regex in (EXPRESSION, STATEMENT):
            for m in regex.finditer(text):
                for name in re.findall(r"[A-Za-z_][A-Za-z0-9_]*", m.group(1)):
                    found.setdefault(name, f"{where}：“{excerpt(text)}”")
    return found


def propose_schema(template_id: str, docx: bytes | None) -> SchemaProposal:
    """The placeholders of `docx` and a schema.yaml declaring each (to download and edit)."""
    proposal = SchemaProposal()
    if not docx:
        proposal.problems.append("请选择模板文件（DOCX）")
        return proposal
    expansion = zip_expansion_problem(docx) if docx.startswith(b"PK") else None
    if expansion:
        proposal.problems.append(f"上传的 DOCX 文档{expansion}")
        return proposal
    try:
        zipfile.ZipFile(io.BytesIO(docx)).testzip()
        paragraphs = [(w, t) for w, t, _ in paragraph_texts(docx)]
    except (zipfile.BadZipFile, KeyError, ValueError):
        proposal.problems.append("上传的文件不是有效的 DOCX 文档：请在 Word 或 WPS 中另存为 .docx")
        return proposal
    tags = check_tags(paragraphs)
    proposal.problems += tags.problems
    tree = parse_docx(docx) if not tags.problems else None
    if tree is not None:
        roots = meta.find_undeclared_variables(tree)
        paths = [
            p for p in placeholder_paths(tree) if p.split(".", 1)[0].removesuffix("[]") in roots
        ]
    else:
        roots, paths = tags.names, sorted(tags.names)
    roots = {r for r in roots if r not in CONTEXT_NAMES}
    shown = (
        re.sub(r"_paragraphs(\[\])?$", "", p)
        for p in paths
        if p.split(".", 1)[0].removesuffix("[]") in roots
    )
    proposal.placeholders = list(dict.fromkeys(shown))
    optional = _tested(paragraphs)
    where = _first_use(paragraphs)
    textareas = {r.removesuffix("_paragraphs") for r in roots if r.endswith("_paragraphs")}
    names = sorted((roots - {f"{t}_paragraphs" for t in textareas}) | textareas)
    lines = _header(template_id, paragraphs)
    for name in names:
        attrs = {p.split(".", 2)[1] for p in paths if p.startswith(name + ".") and "." in p}
        columns = sorted(
            {p.split(".", 2)[1] for p in paths if p.startswith(name + "[].")} - {"loop"}
        )
        ftype, extra = ("textarea", {}) if name in textareas else guess_type(name, attrs, columns)
        first = where.get(name) or where.get(f"{name}_paragraphs", "")
        proposal.fields.append({"name": name, "type": ftype, "where": first})
        required = ftype != "boolean" and name not in optional
        lines += _field_yaml(name, ftype, extra, columns, first, required)
    proposal.schema_yaml = "\n".join(lines) + "\n"
    return proposal


def _header(template_id: str, paragraphs: list[tuple[str, str]]) -> list[str]:
    text = "\n".join(t for _, t in paragraphs)
    fmt = "文件格式" if "印发" in text else ("信函格式" if "函" in text else "文件格式")
    tid = template_id or "my-template"
    return [
        "# casefile 根据模板中的占位符生成的字段定义草稿：请把每个“待填写”改为中文名称，",
        "# 核对字段类型（text 单行、textarea 多行、date 日期、money 金额、list 多项……，见",
        "# docs/templates.md），并确认哪些字段必填；改好后与 DOCX 一起上传。",
        f"id: {tid}",
        f"title: {LABEL_TODO}",
        f"description: {LABEL_TODO}",
        "numbering:",
        f"  suffix: {LABEL_TODO}                  # 发文字号中机关代字后的字，如 函、审",
        f'document_title: {LABEL_TODO}           # 文书标题，可用占位符，如 "关于{{{{ subject }}}}的函"',
        "document_type:",
        f"  label: {LABEL_TODO}",
        f"  format: {fmt}                 # 文件格式（有版记）| 信函格式 | 合同格式",
        "review_chain:",
        "  - {name: office-check, label: 法律顾问室把关, role: office-head}",
        "  - {name: sign-off, label: 领导签发, role: signatory}",
        "fields:",
    ]


def _tested(paragraphs: list[tuple[str, str]]) -> set[str]:
    """Names a condition tests ({% if x %}): sections the template drops when they are empty."""
    found: set[str] = set()
    for _, text in paragraphs:
        for m in STATEMENT.finditer(text):
            keyword, _, rest = m.group(1).strip().partition(" ")
            if keyword in ("if", "elif"):
                found |= set(re.findall(r"[A-Za-z_][A-Za-z0-9_]*", rest))
    return found


def _field_yaml(
    name: str, ftype: str, extra: dict, columns: list[str], where: str, required: bool
) -> list[str]:
    lines = [f"  - name: {name}"]
    if where:
        lines[0] += f"                # {where}".replace("\n", " ")[:120]
    lines += [f"    label: {LABEL_TODO}", f"    type: {ftype}"]
    lines.append(f"    required: {'true' if required else 'false'}")
    for key, value in extra.items():
        lines.append(f"    {key}: {value}")
    if ftype == "list" and columns:
        lines.append("    fields:")
        for col in columns:
            lines += [
                f"      - name: {col}",
                f"        label: {LABEL_TODO}",
                "        type: text",
                "        required: true",
            ]
    return lines
