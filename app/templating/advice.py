"""Suggestions for a template author: the closest known name for a mistyped one (是否应为 …？)
and a free name for a reserved one. Pure helpers; the schema check and the upload check use them.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable

# What authors commonly write for a field type, mapped to casefile's own name.
TYPE_SYNONYMS = {
    "longtext": "textarea", "long_text": "textarea", "multiline": "textarea",
    "paragraph": "textarea", "paragraphs": "textarea", "richtext": "textarea",
    "string": "text", "str": "text", "char": "text", "line": "text",
    "int": "integer", "number": "integer", "num": "integer", "count": "integer",
    "bool": "boolean", "checkbox": "boolean", "yesno": "boolean",
    "select": "choice", "enum": "choice", "radio": "choice", "dropdown": "choice",
    "option": "choice", "options": "choice",
    "multiselect": "multichoice", "checkboxes": "multichoice", "tags": "multichoice",
    "amount": "money", "currency": "money", "decimal": "money", "price": "money",
    "fee": "money", "float": "money",
    "datetime": "date", "day": "date", "time": "date",
    "period": "daterange", "date_range": "daterange", "range": "daterange", "term": "daterange",
    "array": "list", "table": "list", "rows": "list", "items": "list", "repeat": "list",
    "person": "user", "staff": "user", "people": "user", "lawyer": "user",
    "org": "unit", "organ": "unit", "department": "unit", "dept": "unit",
    "counsel": "adviser", "advisor": "adviser", "firm": "adviser",
}  # fmt: skip
# Keys written where another is meant (at the top of schema.yaml, in a field, in a step).
KEY_SYNONYMS = {
    "name": "title", "template_name": "title", "名称": "title", "标题": "title",
    "template_id": "id", "key": "id", "desc": "description", "summary": "description",
    "chain": "review_chain", "reviews": "review_chain", "workflow": "review_chain",
    "steps": "review_chain", "number": "numbering", "doc_type": "document_type",
    "type": "document_type", "items": "fields", "field": "fields",
}  # fmt: skip
FIELD_KEY_SYNONYMS = {
    "title": "label", "caption": "label", "标签": "label", "名称": "label",
    "kind": "type", "choices": "options", "values": "options", "enum": "options",
    "maxlength": "max_length", "max": "max_length", "minlength": "min_length",
    "optional": "required", "mandatory": "required", "hint": "help", "description": "help",
    "regex": "pattern", "columns": "fields", "example": "placeholder", "when": "show_if",
    "visible_if": "show_if", "if": "show_if",
}  # fmt: skip
# Reserved names: what the template gets under them, and a name to use instead.
RESERVED_RENAMES = {
    "doc_number": ("发文字号", "ref_number"),
    "issue_date": ("成文日期", "signed_date"),
    "is_issued": ("是否已签发", "issued_flag"),
    "unit": ("发文单位", "target_unit"),
    "template": ("模板", "template_name"),
    "loop": ("循环变量", "loop_items"),
    "range": ("Jinja 的 range 函数", "value_range"),
    "namespace": ("Jinja 的 namespace 函数", "name_space"),
}


def closest(word: object, known: Iterable[str], synonyms: dict[str, str] | None = None) -> str:
    """The known name `word` most likely stands for, or '' when nothing is close."""
    known = list(known)
    text = str(word).strip()
    lowered = text.lower()
    if synonyms and synonyms.get(lowered) in known:
        return synonyms[lowered]
    if synonyms and synonyms.get(text) in known:
        return synonyms[text]
    found = difflib.get_close_matches(lowered, known, n=1, cutoff=0.6)
    return found[0] if found else ""


def did_you_mean(word: object, known: Iterable[str], synonyms: dict[str, str] | None = None) -> str:
    """'，是否应为 X？' or '' (to append to a message)."""
    best = closest(word, known, synonyms)
    return f"，是否应为 {best}？" if best else ""


def field_name_for(name: object, index: int) -> str:
    """A valid field name ([a-z_][a-z0-9_]*) close to what was written."""
    text = re.sub(r"[^a-z0-9_]+", "_", str(name or "").strip().lower()).strip("_")
    if not text:
        return f"field_{index}"
    if text[0].isdigit():
        text = "f_" + text
    return text


def free_name(name: str, taken: Iterable[str]) -> str:
    """A name to rename a reserved field to, not already used in the schema."""
    taken = set(taken)
    base = RESERVED_RENAMES.get(name, ("", f"{name}_value"))[1]
    candidate, n = base, 2
    while candidate in taken:
        candidate, n = f"{base}_{n}", n + 1
    return candidate


def listing(names: Iterable[str]) -> str:
    return "、".join(names)
