"""Field schemas (schema.yaml): one definition drives the web form, the API and the CLI."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

import yaml

from app.casefiles.roles import ROLES as CASEFILE_ROLES

FIELD_TYPES = {
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
}
# References to casefile's registry: the value stored (and printed) is the display name as it
# was when the draft was saved, so a later rename never changes an issued document.
REFERENCE_TYPES = {"unit", "user", "adviser"}
# Roles a `user` field may require (app.db.models.ROLES without admin).
USER_ROLES = {"clerk", "adviser", "public-lawyer", "office-head", "signatory", "inspector"}
FORMATS = {"uscc", "lawyer_licence", "court_case_number", "phone"}
ROLES_IN_CHAIN = {"adviser", "public-lawyer", "office-head", "signatory", "co-sign"}
NAME_RE = re.compile(r"^[a-z_][a-z0-9_]*$")
RESERVED = {"doc_number", "issue_date", "is_issued", "unit", "template"}
SEARCH_TYPE_RE = re.compile(r"^[a-z0-9][a-z0-9-]{0,63}$")
# Search types that are not made from a template (uploaded case-file material).
RESERVED_SEARCH_TYPES = {"attachment"}
DOCUMENT_TYPE_KEYS = {
    "label", "aliases", "search_type", "casefile_role", "conclusion_field", "precedent",
}  # fmt: skip
CONCLUSION_FIELD_TYPES = {"text", "textarea", "choice"}


class SchemaError(ValueError):
    """schema.yaml is malformed; the message names the field and the problem."""


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


def _field(raw: Any, where: str, nested: bool = False) -> FieldSpec:
    if not isinstance(raw, dict):
        raise SchemaError(f"{where}: each field must be a mapping")
    name = raw.get("name")
    if not isinstance(name, str) or not NAME_RE.match(name):
        raise SchemaError(f"{where}: field name {name!r} must match [a-z_][a-z0-9_]*")
    if name in RESERVED:
        raise SchemaError(f"{where}: field name {name!r} is reserved")
    where = f"{where} '{name}'"
    ftype = raw.get("type", "text")
    if ftype not in FIELD_TYPES:
        raise SchemaError(
            f"{where}: unknown type {ftype!r} (known: {', '.join(sorted(FIELD_TYPES))})"
        )
    if not raw.get("label"):
        raise SchemaError(f"{where}: a label (中文名称) is required")
    fmt = raw.get("format")
    if fmt is not None and fmt not in FORMATS:
        raise SchemaError(f"{where}: unknown format {fmt!r} (known: {', '.join(sorted(FORMATS))})")
    options = tuple(str(o) for o in raw.get("options") or ())
    if ftype in {"choice", "multichoice"} and not options:
        raise SchemaError(f"{where}: a {ftype} field needs options")
    role = raw.get("role")
    if role is not None and ftype != "user":
        raise SchemaError(f"{where}: role applies only to a user field")
    if role is not None and role not in USER_ROLES:
        raise SchemaError(
            f"{where}: unknown role {role!r} (known: {', '.join(sorted(USER_ROLES))})"
        )
    same_unit = raw.get("same_unit", False)
    if not isinstance(same_unit, bool):
        raise SchemaError(f"{where}: same_unit must be true or false")
    if same_unit and ftype != "user":
        raise SchemaError(f"{where}: same_unit applies only to a user field")
    pattern = raw.get("pattern")
    if pattern is not None:
        try:
            re.compile(pattern)
        except re.error as exc:
            raise SchemaError(f"{where}: pattern is not a valid regular expression: {exc}") from exc
    show_if = None
    if raw.get("show_if") is not None:
        cond = raw["show_if"]
        if not isinstance(cond, dict) or "field" not in cond:
            raise SchemaError(f"{where}: show_if needs a field and equals or in")
        show_if = Condition(
            field=cond["field"], equals=cond.get("equals"), in_=tuple(cond.get("in") or ())
        )
    subfields: tuple[FieldSpec, ...] = ()
    if ftype == "list":
        if nested:
            raise SchemaError(f"{where}: lists cannot be nested")
        subfields = tuple(
            _field(sub, f"{where}.fields[{i}]", nested=True)
            for i, sub in enumerate(raw.get("fields") or ())
        )
    known = {
        "name", "label", "type", "required", "min_length", "max_length", "pattern",
        "pattern_message", "format", "options", "show_if", "after", "min", "max", "min_items",
        "max_items", "fields", "help", "placeholder", "default", "role", "same_unit",
    }  # fmt: skip
    unknown = set(raw) - known
    if unknown:
        raise SchemaError(f"{where}: unknown keys {', '.join(sorted(unknown))}")
    return FieldSpec(
        name=name,
        label=str(raw["label"]),
        type=ftype,
        required=bool(raw.get("required", False)),
        min_length=raw.get("min_length"),
        max_length=raw.get("max_length"),
        pattern=pattern,
        pattern_message=raw.get("pattern_message"),
        format=fmt,
        options=options,
        show_if=show_if,
        after=raw.get("after"),
        min=raw.get("min"),
        max=raw.get("max"),
        min_items=raw.get("min_items"),
        max_items=raw.get("max_items"),
        fields=subfields,
        help=str(raw.get("help") or ""),
        placeholder=str(raw.get("placeholder") or ""),
        default=raw.get("default"),
        role=role,
        same_unit=same_unit,
    )


def _document_type(
    raw: Any, template_id: str, title: str, fields: tuple[FieldSpec, ...]
) -> DocumentType:
    """schema.yaml `document_type`; absent (a schema written before it existed): the defaults."""
    where = "document_type"
    if raw is None:
        raw = {}
    if not isinstance(raw, dict):
        raise SchemaError(f"{where} must be a mapping (label, aliases, search_type, …)")
    unknown = set(raw) - DOCUMENT_TYPE_KEYS
    if unknown:
        raise SchemaError(
            f"{where}: unknown keys {', '.join(sorted(map(str, unknown)))} "
            f"(known: {', '.join(sorted(DOCUMENT_TYPE_KEYS))})"
        )
    label = raw.get("label", title)
    if not isinstance(label, str) or not label.strip():
        raise SchemaError(f"{where}.label must be a non-empty text")
    aliases = raw.get("aliases") or []
    if isinstance(aliases, str) or not isinstance(aliases, list):
        raise SchemaError(f"{where}.aliases must be a list of names, e.g. [审查意见书]")
    for alias in aliases:
        if not isinstance(alias, str) or not alias.strip():
            raise SchemaError(f"{where}.aliases: {alias!r} is not a name")
    search_type = raw.get("search_type", template_id)
    if not isinstance(search_type, str) or not SEARCH_TYPE_RE.match(search_type):
        raise SchemaError(
            f"{where}.search_type {search_type!r} must be lower-case letters, digits and '-'"
        )
    if search_type in RESERVED_SEARCH_TYPES:
        raise SchemaError(f"{where}.search_type {search_type!r} is reserved")
    role = raw.get("casefile_role", "other")
    if role not in CASEFILE_ROLES:
        raise SchemaError(
            f"{where}.casefile_role: unknown role {role!r} "
            f"(known: {', '.join(sorted(CASEFILE_ROLES))})"
        )
    conclusion = raw.get("conclusion_field")
    if conclusion is not None:
        spec = next((f for f in fields if f.name == conclusion), None)
        if spec is None:
            raise SchemaError(f"{where}.conclusion_field refers to unknown field {conclusion!r}")
        if spec.type not in CONCLUSION_FIELD_TYPES:
            raise SchemaError(
                f"{where}.conclusion_field {conclusion!r} must be a "
                f"{', '.join(sorted(CONCLUSION_FIELD_TYPES))} field, not {spec.type}"
            )
    precedent = raw.get("precedent", False)
    if not isinstance(precedent, bool):
        raise SchemaError(f"{where}.precedent must be true or false")
    label = label.strip()
    return DocumentType(
        search_type=search_type,
        label=label,
        aliases=tuple(dict.fromkeys(a.strip() for a in aliases if a.strip() != label)),
        casefile_role=role,
        conclusion_field=conclusion,
        precedent=precedent,
    )


def parse_schema(text: str | bytes, template_id: str | None = None) -> TemplateSchema:
    try:
        raw = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise SchemaError(f"schema.yaml is not valid YAML: {exc}") from exc
    if not isinstance(raw, dict):
        raise SchemaError("schema.yaml must be a mapping")
    tid = raw.get("id") or template_id
    if not tid or not re.match(r"^[a-z0-9][a-z0-9-]*$", str(tid)):
        raise SchemaError(f"template id {tid!r} must be lower-case letters, digits and '-'")
    if template_id and tid != template_id:
        raise SchemaError(f"schema id {tid!r} does not match the folder name {template_id!r}")
    fields = tuple(_field(f, f"fields[{i}]") for i, f in enumerate(raw.get("fields") or ()))
    if not fields:
        raise SchemaError("schema.yaml declares no fields")
    names = [f.name for f in fields]
    dupes = {n for n in names if names.count(n) > 1}
    if dupes:
        raise SchemaError(f"duplicate field names: {', '.join(sorted(dupes))}")
    for f in fields:
        if f.show_if and f.show_if.field not in names:
            raise SchemaError(
                f"field '{f.name}': show_if refers to unknown field '{f.show_if.field}'"
            )
        if f.after and f.after not in names:
            raise SchemaError(f"field '{f.name}': after refers to unknown field '{f.after}'")
    chain = []
    for i, step in enumerate(raw.get("review_chain") or ()):
        if not isinstance(step, dict) or not step.get("name") or not step.get("role"):
            raise SchemaError(f"review_chain[{i}]: each step needs a name and a role")
        if step["role"] not in ROLES_IN_CHAIN:
            raise SchemaError(
                f"review_chain[{i}]: role {step['role']!r} must be one of "
                f"{', '.join(sorted(ROLES_IN_CHAIN))}"
            )
        approvals = int(step.get("approvals", 1))
        if approvals < 1:
            raise SchemaError(f"review_chain[{i}]: approvals must be at least 1")
        chain.append(
            ChainStep(
                name=str(step["name"]),
                label=str(step.get("label") or step["name"]),
                role=step["role"],
                approvals=approvals,
            )
        )
    if not chain:
        raise SchemaError("review_chain must have at least one step (e.g. sign-off by a signatory)")
    numbering = raw.get("numbering") or {}
    title = str(raw.get("title") or tid)
    return TemplateSchema(
        id=str(tid),
        title=title,
        description=str(raw.get("description") or ""),
        numbering_suffix=str(numbering.get("suffix") or ""),
        document_title=str(raw.get("document_title") or raw.get("title") or tid),
        review_chain=tuple(chain),
        fields=fields,
        document_type=_document_type(raw.get("document_type"), str(tid), title, fields),
        raw=raw,
    )
