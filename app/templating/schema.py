"""Field schemas (schema.yaml): one definition drives the web form, the API and the CLI.

Long module: the schema's data classes and its one parser, which checks every key an
administrator may write and says, in Chinese, what is wrong and how to fix it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

import yaml

from app.casefiles.roles import ROLES as CASEFILE_ROLES
from app.templating import advice

FIELD_TYPE_ORDER = (
    "text",
    "textarea",
    "date",
    "daterange",
    "money",
    "integer",
    "choice",
    "multichoice",
    "boolean",
    "list",
    "unit",
    "user",
    "adviser",
)
FIELD_TYPES = set(FIELD_TYPE_ORDER)
# References to casefile's registry: the value stored (and printed) is the display name as it
# was when the draft was saved, so a later rename never changes an issued document.
REFERENCE_TYPES = {"unit", "user", "adviser"}
# Roles a `user` field may require (app.db.models.ROLES without admin).
USER_ROLES = {"clerk", "adviser", "public-lawyer", "office-head", "signatory", "inspector"}
FORMAT_LABELS = {
    "uscc": "统一社会信用代码", "lawyer_licence": "律师执业证号", "court_case_number": "案号",
    "phone": "电话号码",
}  # fmt: skip
FORMATS = set(FORMAT_LABELS)
ROLES_IN_CHAIN = {"adviser", "public-lawyer", "office-head", "signatory", "co-sign"}
NAME_RE = re.compile(r"^[a-z_][a-z0-9_]*$")
RESERVED = {"doc_number", "issue_date", "is_issued", "unit", "template"}
# Jinja names a field would hide in the template (refused at upload; see _Problems).
STRICT_RESERVED = {"loop", "range", "namespace"}
SEARCH_TYPE_RE = re.compile(r"^[a-z0-9][a-z0-9-]{0,63}$")
# Search types that are not made from a template (uploaded case-file material).
RESERVED_SEARCH_TYPES = {"attachment"}
DOCUMENT_TYPE_KEYS = {
    "label", "aliases", "search_type", "casefile_role", "conclusion_field", "precedent", "format",
}  # fmt: skip
# GB/T 9704-2012 formats: 文件格式 has a 版记 (抄送, 印发机关 and 印发日期 between rules) at the
# foot of the last page; 信函格式 has none; 合同格式 is not an official document at all.
DOCUMENT_FORMATS = ("文件格式", "信函格式", "合同格式")
TOP_KEY_ORDER = (
    "id", "title", "description", "numbering", "document_title", "document_type",
    "review_chain", "fields",
)  # fmt: skip
TOP_KEYS = set(TOP_KEY_ORDER)
FIELD_KEY_ORDER = (
    "name", "label", "type", "required", "min_length", "max_length", "pattern",
    "pattern_message", "format", "options", "show_if", "after", "min", "max", "min_items",
    "max_items", "fields", "help", "placeholder", "default", "role", "same_unit",
)  # fmt: skip
FIELD_KEYS = set(FIELD_KEY_ORDER)
CONCLUSION_FIELD_TYPES = {"text", "textarea", "choice"}


class SchemaError(ValueError):
    """schema.yaml is malformed; `problems` lists every problem (Chinese, each with its fix)."""

    def __init__(self, message: str, problems: list[str] | None = None):
        super().__init__(message)
        self.problems = problems or [message]


@dataclass(frozen=True)
class Condition:
    field: str
    equals: Any = None
    in_: tuple = ()

    def holds(self, data: dict) -> bool:
        value = data.get(self.field)
        if self.in_:
            if isinstance(value, list):
                return any(v in self.in_ for v in value)
            return value in self.in_
        if isinstance(value, list):
            return self.equals in value
        return value == self.equals


@dataclass(frozen=True)
class FieldSpec:
    name: str
    label: str
    type: str
    required: bool = False
    min_length: int | None = None
    max_length: int | None = None
    pattern: str | None = None
    pattern_message: str | None = None
    format: str | None = None
    options: tuple[str, ...] = ()
    show_if: Condition | None = None
    after: str | None = None
    min: float | None = None
    max: float | None = None
    min_items: int | None = None
    max_items: int | None = None
    fields: tuple[FieldSpec, ...] = ()
    help: str = ""
    placeholder: str = ""
    default: Any = None
    role: str | None = None  # user: the role the person must hold
    same_unit: bool = False  # user: in the drafting unit only

    @property
    def effective_max_length(self) -> int:
        if self.max_length is not None:
            return self.max_length
        return 5000 if self.type == "textarea" else 200


@dataclass(frozen=True)
class ChainStep:
    name: str
    label: str
    role: str
    approvals: int = 1


@dataclass(frozen=True)
class DocumentType:
    """What a template's documents are (schema.yaml `document_type`), with its defaults filled:
    the search index's doc_type, the name shown and accepted in search (类型:…), the role a
    filed document gets in a case file, where its conclusion is, and whether the unit's
    advisers and public lawyers read issued ones as precedent."""

    search_type: str
    label: str
    aliases: tuple[str, ...] = ()
    casefile_role: str = "other"
    conclusion_field: str | None = None
    precedent: bool = False
    format: str | None = None  # 文件格式 | 信函格式 | 合同格式; None: not declared


@dataclass(frozen=True)
class TemplateSchema:
    id: str
    title: str
    description: str
    numbering_suffix: str
    document_title: str
    review_chain: tuple[ChainStep, ...]
    fields: tuple[FieldSpec, ...]
    document_type: DocumentType
    raw: dict = field(default_factory=dict, compare=False, repr=False)

    def field(self, name: str) -> FieldSpec | None:
        return next((f for f in self.fields if f.name == name), None)


# ---- parsing and checking ---------------------------------------------------------------------
# Every problem is collected (not only the first), in Chinese, each with its fix. A problem
# marked `strict` is one casefile did not always refuse (an unknown top-level key, a field
# named like a Jinja global): uploads are held to it, but a version already stored still
# loads, so documents made from it still re-render byte for byte.


class _Problems:
    def __init__(self) -> None:
        self.all: list[str] = []
        self.fatal: list[str] = []

    def add(self, message: str, *, strict: bool = False) -> None:
        self.all.append(message)
        if not strict:
            self.fatal.append(message)


def _field_label(where: str, name: object) -> str:
    return f"字段“{name}”" if isinstance(name, str) and name else where


def _field(raw: Any, where: str, index: int, out: _Problems, nested: bool = False):
    """A FieldSpec, or None when the field is too broken to use (its problems are in `out`)."""
    if not isinstance(raw, dict):
        out.add(f"{where}：每个字段应写成映射，如“- {{name: subject, label: 事由, type: text}}”")
        return None
    name = raw.get("name")
    broken = False
    if not isinstance(name, str) or not NAME_RE.match(name):
        suggestion = advice.field_name_for(name, index)
        shown = "（未填写）" if name in (None, "") else f"“{name}”"
        out.add(
            f"{where}的字段名{shown}不合要求：只能用小写英文字母、数字和下划线，"
            f"且不以数字开头；请改为如“{suggestion}”"
        )
        broken = True
    elif name in RESERVED or name in STRICT_RESERVED:
        meaning = advice.RESERVED_RENAMES.get(name, ("系统变量", ""))[0]
        out.add(
            f"{where}的字段名“{name}”是保留名（模板中的 {name} 表示{meaning}）；"
            f"请改名，如“{advice.free_name(name, ())}”，并同时修改模板中的占位符",
            strict=name in STRICT_RESERVED,
        )
        broken = name in RESERVED
    who = _field_label(where, name if not broken else "")
    ftype = raw.get("type", "text")
    if ftype not in FIELD_TYPES:
        out.add(
            f"{who}：未知的字段类型'{ftype}'，可用：{advice.listing(FIELD_TYPE_ORDER)}"
            + (advice.did_you_mean(ftype, FIELD_TYPE_ORDER, advice.TYPE_SYNONYMS) or "。")
        )
        broken = True
    unknown = [k for k in raw if k not in FIELD_KEYS]
    for key in unknown:
        hint = advice.did_you_mean(key, FIELD_KEYS, advice.FIELD_KEY_SYNONYMS)
        out.add(
            f"{who}中有未知的键“{key}”" + (hint or f"，可用：{advice.listing(FIELD_KEY_ORDER)}")
        )
    if not raw.get("label"):
        out.add(f"{who}缺少中文名称 label，如“label: 事由”")
    fmt = raw.get("format")
    if fmt is not None and fmt not in FORMATS:
        known = "、".join(f"{k}（{v}）" for k, v in FORMAT_LABELS.items())
        out.add(f"{who}：未知的格式“{fmt}”，可用：{known}" + advice.did_you_mean(fmt, FORMATS))
    options = tuple(str(o) for o in raw.get("options") or ())
    if ftype in {"choice", "multichoice"} and not options:
        out.add(f"{who}是 {ftype} 字段，需要用 options 列出可选项，如“options: [常年, 专项]”")
    role = raw.get("role")
    if role is not None and ftype != "user":
        out.add(f"{who}：role 只适用于 user（人员）字段，请删去 role 或把 type 改为 user")
    if role is not None and role not in USER_ROLES:
        out.add(
            f"{who}：未知的角色“{role}”，可用：{advice.listing(sorted(USER_ROLES))}"
            + advice.did_you_mean(role, USER_ROLES)
        )
    same_unit = raw.get("same_unit", False)
    if not isinstance(same_unit, bool):
        out.add(f"{who}：same_unit 只能是 true 或 false")
        same_unit = False
    if same_unit and ftype != "user":
        out.add(f"{who}：same_unit 只适用于 user（人员）字段")
    pattern = raw.get("pattern")
    if pattern is not None:
        try:
            re.compile(pattern)
        except (re.error, TypeError) as exc:
            pos = getattr(exc, "pos", None)
            at = f"（第{pos + 1}个字符附近）" if isinstance(pos, int) else ""
            out.add(f"{who}：pattern 不是有效的正则表达式{at}，请检查括号和转义")
            pattern = None
    show_if = None
    cond = raw.get("show_if")
    if cond is not None:
        if not isinstance(cond, dict) or "field" not in cond:
            out.add(
                f"{who}：show_if 需要写明 field 和 equals（或 in），如“show_if: {{field: kind, equals: 专项}}”"
            )
        else:
            show_if = Condition(
                field=cond["field"], equals=cond.get("equals"), in_=tuple(cond.get("in") or ())
            )
    subfields: list[FieldSpec] = []
    if ftype == "list":
        if nested:
            out.add(f"{who}：列表不能嵌套（列表的栏目不能再是 list）")
        for i, sub in enumerate(raw.get("fields") or ()):
            spec = _field(sub, f"{who}的第{i + 1}个栏目", i + 1, out, nested=True)
            if spec is not None:
                subfields.append(spec)
    if broken:
        return None
    return FieldSpec(
        name=name,
        label=str(raw.get("label") or name),
        type=ftype,
        required=bool(raw.get("required", False)),
        min_length=raw.get("min_length"),
        max_length=raw.get("max_length"),
        pattern=pattern,
        pattern_message=raw.get("pattern_message"),
        format=fmt if fmt in FORMATS else None,
        options=options,
        show_if=show_if,
        after=raw.get("after"),
        min=raw.get("min"),
        max=raw.get("max"),
        min_items=raw.get("min_items"),
        max_items=raw.get("max_items"),
        fields=tuple(subfields),
        help=str(raw.get("help") or ""),
        placeholder=str(raw.get("placeholder") or ""),
        default=raw.get("default"),
        role=role if role in USER_ROLES else None,
        same_unit=same_unit,
    )


def _document_type(
    raw: Any, template_id: str, title: str, fields: tuple[FieldSpec, ...], out: _Problems
) -> DocumentType:
    """schema.yaml `document_type`; absent (a schema written before it existed): the defaults."""
    where = "document_type"
    if raw is None:
        raw = {}
    if not isinstance(raw, dict):
        out.add(f"{where} 应写成映射（label、aliases、search_type、format 等）")
        raw = {}
    for key in raw:
        if key not in DOCUMENT_TYPE_KEYS:
            hint = advice.did_you_mean(key, DOCUMENT_TYPE_KEYS)
            out.add(
                f"{where} 中有未知的键“{key}”"
                + (hint or f"，可用：{advice.listing(sorted(DOCUMENT_TYPE_KEYS))}")
            )
    label = raw.get("label", title)
    if not isinstance(label, str) or not label.strip():
        out.add(f"{where}.label 不能为空，请填写文书类型的中文名称，如“label: 法律意见书”")
        label = title
    aliases = raw.get("aliases") or []
    if isinstance(aliases, str) or not isinstance(aliases, list):
        out.add(f"{where}.aliases 应是名称的列表，如“aliases: [审查意见书]”")
        aliases = []
    for alias in aliases:
        if not isinstance(alias, str) or not alias.strip():
            out.add(f"{where}.aliases 中的“{alias}”不是名称")
    aliases = [a for a in aliases if isinstance(a, str)]
    search_type = raw.get("search_type", template_id)
    if not isinstance(search_type, str) or not SEARCH_TYPE_RE.match(search_type):
        out.add(
            f"{where}.search_type“{search_type}”只能由小写字母、数字和“-”组成，如 legal-opinion"
        )
        search_type = template_id
    elif search_type in RESERVED_SEARCH_TYPES:
        out.add(f"{where}.search_type“{search_type}”是保留名（案卷上传材料），请改用其他名称")
    role = raw.get("casefile_role", "other")
    if role not in CASEFILE_ROLES:
        out.add(
            f"{where}.casefile_role：未知的材料类别“{role}”，可用：{advice.listing(sorted(CASEFILE_ROLES))}"
            + advice.did_you_mean(role, CASEFILE_ROLES)
        )
        role = "other"
    conclusion = raw.get("conclusion_field")
    if conclusion is not None:
        spec = next((f for f in fields if f.name == conclusion), None)
        if spec is None:
            out.add(
                f"{where}.conclusion_field 引用了不存在的字段“{conclusion}”"
                + advice.did_you_mean(conclusion, [f.name for f in fields])
            )
            conclusion = None
        elif spec.type not in CONCLUSION_FIELD_TYPES:
            out.add(
                f"{where}.conclusion_field“{conclusion}”应是 "
                f"{advice.listing(sorted(CONCLUSION_FIELD_TYPES))} 字段，而不是 {spec.type}"
            )
    precedent = raw.get("precedent", False)
    if not isinstance(precedent, bool):
        out.add(f"{where}.precedent 只能是 true 或 false")
        precedent = False
    fmt = raw.get("format")
    if fmt is not None and fmt not in DOCUMENT_FORMATS:
        out.add(
            f"{where}.format：未知的公文格式“{fmt}”，可用：{advice.listing(DOCUMENT_FORMATS)}"
            "（文件格式有版记，信函格式没有）"
            + advice.did_you_mean(
                fmt,
                DOCUMENT_FORMATS,
                {"文件": "文件格式", "信函": "信函格式", "函": "信函格式", "合同": "合同格式"},
            )  # fmt: skip
        )
        fmt = None
    label = label.strip()
    return DocumentType(
        search_type=search_type,
        label=label,
        aliases=tuple(
            dict.fromkeys(a.strip() for a in aliases if a.strip() and a.strip() != label)
        ),
        casefile_role=role,
        conclusion_field=conclusion,
        precedent=precedent,
        format=fmt,
    )


def _review_chain(raw: Any, out: _Problems) -> tuple[ChainStep, ...]:
    chain = []
    if raw is not None and not isinstance(raw, list):
        out.add(
            "review_chain 应是审核步骤的列表，如“- {name: sign-off, label: 领导签发, role: signatory}”"
        )
        raw = []
    for i, step in enumerate(raw or (), 1):
        if not isinstance(step, dict) or not step.get("name") or not step.get("role"):
            out.add(
                f"审核流程（review_chain）第{i}步需要 name 和 role，"
                "如“{name: sign-off, label: 领导签发, role: signatory}”"
            )
            continue
        if step["role"] not in ROLES_IN_CHAIN:
            out.add(
                f"审核流程第{i}步的角色“{step['role']}”未知，可用：{advice.listing(sorted(ROLES_IN_CHAIN))}"
                + advice.did_you_mean(step["role"], ROLES_IN_CHAIN)
            )
            continue
        try:
            approvals = int(step.get("approvals", 1))
        except (TypeError, ValueError):
            approvals = 0
        if approvals < 1:
            out.add(f"审核流程第{i}步的 approvals（需要几人同意）应是不小于 1 的整数")
            continue
        chain.append(
            ChainStep(
                name=str(step["name"]),
                label=str(step.get("label") or step["name"]),
                role=step["role"],
                approvals=approvals,
            )
        )
    if raw is not None and not chain and not out.all:
        pass
    return tuple(chain)


def _load_yaml(text: str | bytes, out: _Problems) -> Any:
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"第{mark.line + 1}行第{mark.column + 1}列附近" if mark is not None else ""
        out.add(
            f"schema.yaml 不是有效的 YAML（{where}）：请检查缩进（用空格，不用制表符）、"
            "冒号后的空格和引号是否成对"
        )
        return None
    except UnicodeDecodeError:
        out.add("schema.yaml 不是 UTF-8 编码的文本，请用 UTF-8 保存")
        return None


def _check(
    text: str | bytes, template_id: str | None
) -> tuple[TemplateSchema | None, _Problems, list[str]]:
    """The schema (None when unusable), every problem, and every field name declared."""
    out = _Problems()
    raw = _load_yaml(text, out)
    if out.all:
        return None, out, []
    if not isinstance(raw, dict):
        out.add("schema.yaml 的最外层应是“键: 值”的映射（id、title、fields、review_chain 等）")
        return None, out, []
    for key in raw:
        if key not in TOP_KEYS:
            hint = advice.did_you_mean(key, TOP_KEYS, advice.KEY_SYNONYMS)
            out.add(f"schema.yaml 中有未知的键“{key}”" + (hint or f"，可用：{advice.listing(TOP_KEY_ORDER)}"),
                    strict=True)  # fmt: skip
    tid = raw.get("id") or template_id
    if not tid or not re.match(r"^[a-z0-9][a-z0-9-]*$", str(tid)):
        out.add(f"模板编号“{tid or ''}”只能由小写字母、数字和“-”组成，如 legal-opinion")
    elif template_id and tid != template_id:
        out.add(
            f"schema.yaml 中的 id“{tid}”与模板编号“{template_id}”不一致：请把 id 改为 {template_id}，或删去 id 一行"
        )
    raw_fields = raw.get("fields")
    if raw_fields is not None and not isinstance(raw_fields, list):
        out.add("fields 应是字段的列表，每项以“- name: …”开头")
        raw_fields = []
    declared = [
        f.get("name")
        for f in raw_fields or ()
        if isinstance(f, dict) and isinstance(f.get("name"), str)
    ]
    fields = tuple(
        spec for i, f in enumerate(raw_fields or (), 1)
        if (spec := _field(f, f"第{i}个字段", i, out)) is not None
    )  # fmt: skip
    if not raw_fields:
        out.add("schema.yaml 没有声明任何字段：请在 fields 下列出模板中的每个占位符")
    seen: dict[str, list[int]] = {}
    for i, name in enumerate(declared, 1):
        seen.setdefault(name, []).append(i)
    for name, places in seen.items():
        if len(places) > 1:
            out.add(
                f"字段名“{name}”重复出现（第{'、'.join(map(str, places))}个字段）：每个字段名只能用一次"
            )
    names = [f.name for f in fields]
    for f in fields:
        if f.show_if and f.show_if.field not in declared:
            out.add(
                f"字段“{f.name}”的 show_if 引用了不存在的字段“{f.show_if.field}”"
                + advice.did_you_mean(f.show_if.field, names)
            )
        if f.after and f.after not in declared:
            out.add(
                f"字段“{f.name}”的 after 引用了不存在的字段“{f.after}”"
                + advice.did_you_mean(f.after, names)
            )
        if f.type == "textarea" and f"{f.name}_paragraphs" in declared:
            out.add(
                f"字段名“{f.name}_paragraphs”与多行字段“{f.name}”自动提供的分段变量重名，请改名",
                strict=True,
            )
    chain = _review_chain(raw.get("review_chain"), out)
    if not raw.get("review_chain"):
        out.add(
            "review_chain 至少需要一个审核步骤，如“- {name: sign-off, label: 领导签发, role: signatory}”"
        )
    numbering = raw.get("numbering") or {}
    if not isinstance(numbering, dict):
        out.add("numbering 应写成映射，如“numbering: {suffix: 函}”")
        numbering = {}
    title = str(raw.get("title") or tid)
    doc_type = _document_type(raw.get("document_type"), str(tid), title, fields, out)
    if out.fatal:
        return None, out, declared
    schema = TemplateSchema(
        id=str(tid),
        title=title,
        description=str(raw.get("description") or ""),
        numbering_suffix=str(numbering.get("suffix") or ""),
        document_title=str(raw.get("document_title") or raw.get("title") or tid),
        review_chain=chain,
        fields=fields,
        document_type=doc_type,
        raw=raw,
    )
    return schema, out, declared


@dataclass(frozen=True)
class SchemaCheck:
    """The upload check of schema.yaml: every problem, and the field names it declares (also
    those of broken fields, so the DOCX can still be compared with them)."""

    schema: TemplateSchema | None
    problems: tuple[str, ...]
    declared: tuple[str, ...]


def check_schema(text: str | bytes, template_id: str | None = None) -> SchemaCheck:
    """Every problem of an uploaded schema.yaml in one pass (strict: as an upload is held)."""
    schema, out, declared = _check(text, template_id)
    return SchemaCheck(schema if not out.all else None, tuple(out.all), tuple(declared))


def parse_schema(text: str | bytes, template_id: str | None = None) -> TemplateSchema:
    """The schema of a stored or shipped version; SchemaError lists every problem."""
    schema, out, _ = _check(text, template_id)
    if schema is None:
        raise SchemaError("；".join(out.fatal), list(out.fatal))
    return schema
