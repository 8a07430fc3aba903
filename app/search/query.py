"""Query syntax (检索式) for the search box.

    狮山大道 12号          both strings must occur (AND), anywhere in the document
    "法律 顾问"            a quoted phrase is one literal string, spaces included
    审查 OR 审核           either (binds tighter than the implicit AND; also | ｜)
    -撤销                  documents containing the string are left out
    title:风险  number:〔2026〕   the string must occur in that field
    type:risk-notice 类型:风险提示函  unit:WHSFJ  year:2024  year:2020-2023  date:2026-01-01..2026-03-31
    reviewer:张三  conclusion:不合法  状态:有效 status:revoked   filters (exact values)

Full-width quotes, colon, minus and bar work like their ASCII forms.  A ``name:value``
with an unknown name is searched literally (so "12:30" is text, not a field).

The names a type filter accepts come from the template registry (app/templating/doctypes.py):
each type's search name, its templates' ids, its label and aliases, passed in by the caller.
"""

from __future__ import annotations

import datetime
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from app.search.backend import QuerySyntaxError
from app.search.normalize import fold

_OPEN_QUOTES = '"“”＂「'
_CLOSE_QUOTES = {'"': '"', "“": "”", "”": "”", "＂": "＂", "「": "」"}
_NEG = "-－"
_OR_WORDS = {"OR", "|", "｜"}

# Field names (English and Chinese) → canonical key.
_FIELD_NAMES = {
    "title": "title",
    "标题": "title",
    "number": "number",
    "文号": "number",
    "type": "type",
    "类型": "type",
    "unit": "unit",
    "单位": "unit",
    "year": "year",
    "年度": "year",
    "date": "date",
    "日期": "date",
    "reviewer": "reviewer",
    "审核人": "reviewer",
    "conclusion": "conclusion",
    "结论": "conclusion",
    "status": "status",
    "状态": "status",
}
TEXT_FIELDS = ("title", "number")

# {name: search type} for a type filter, or a function giving it (called only when needed).
# None: no registry (a bare index, benchmarks): the value is taken as the index's type.
TypeNames = Mapping[str, str] | Callable[[], Mapping[str, str]] | None
STATUS_LABELS = {
    "有效": "issued",
    "已发文": "issued",
    "已撤销": "revoked",
    "撤销": "revoked",
    "已作废": "revoked",
    "已被替代": "superseded",
    "已替代": "superseded",
    "被替代": "superseded",
}

_FIELD_RE = re.compile(r"^([A-Za-z\u4e00-\u9fff]+)[:：](.*)$", re.S)
_YEAR_RANGE_RE = re.compile(r"^(\d{4})(?:\s*(?:-|–|—|\.\.|~|～|至)\s*(\d{4}))?$")
_DATE_RANGE_RE = re.compile(
    r"^(\d{4}-\d{1,2}-\d{1,2})?\s*(?:\.\.|~|～|至)?\s*(\d{4}-\d{1,2}-\d{1,2})?$"
)


@dataclass(frozen=True)
class Term:
    """One literal string to find.  ``field`` None means anywhere in the document."""

    text: str
    field: str | None = None

    @property
    def folded(self) -> str:
        return fold(self.text)


@dataclass
class ParsedQuery:
    must: list[tuple[Term, ...]] = field(default_factory=list)  # AND of ORs
    must_not: list[Term] = field(default_factory=list)
    doc_types: set[str] = field(default_factory=set)
    units: set[str] = field(default_factory=set)
    year_from: int | None = None
    year_to: int | None = None
    date_from: datetime.date | None = None
    date_to: datetime.date | None = None
    reviewer: str = ""
    conclusion: str = ""
    status: str = ""

    @property
    def positive_terms(self) -> list[Term]:
        return [t for group in self.must for t in group]


def _tokens(text: str) -> list[tuple[str, bool, bool]]:
    """Split into (token, quoted, negated) respecting quotes."""
    out: list[tuple[str, bool, bool]] = []
    i, n = 0, len(text)
    while i < n:
        ch = text[i]
        if ch.isspace():
            i += 1
            continue
        negated = False
        if ch in _NEG and i + 1 < n and not text[i + 1].isspace():
            negated = True
            i += 1
            ch = text[i]
        if ch in _OPEN_QUOTES:
            close = _CLOSE_QUOTES[ch]
            end = text.find(close, i + 1)
            if ch in "“”":  # people mix straight and curly quotes
                ends = [e for e in (text.find("”", i + 1), text.find('"', i + 1)) if e != -1]
                end = min(ends) if ends else -1
            if end == -1:
                end = n
            out.append((text[i + 1 : end], True, negated))
            i = end + 1
            continue
        j = i
        while j < n and not text[j].isspace():
            # a field value may be quoted: title:"a b"
            if text[j] in _OPEN_QUOTES and j > i and text[j - 1] in ":：":
                close = _CLOSE_QUOTES[text[j]]
                end = text.find(close, j + 1)
                if text[j] in "“”":
                    ends = [e for e in (text.find("”", j + 1), text.find('"', j + 1)) if e != -1]
                    end = min(ends) if ends else -1
                j = n if end == -1 else end + 1
                break
            j += 1
        out.append((text[i:j], False, negated))
        i = j
    return out


def _strip_quotes(value: str) -> str:
    if value and value[0] in _OPEN_QUOTES:
        value = value[1:]
        if value and value[-1] in '"”＂」':
            value = value[:-1]
    return value


def _parse_year(value: str) -> tuple[int, int]:
    m = _YEAR_RANGE_RE.match(value.strip())
    if not m:
        raise QuerySyntaxError(f"年度应写作四位数字或范围，如 2024 或 2020-2023：{value!r}")
    lo = int(m.group(1))
    hi = int(m.group(2) or lo)
    if hi < lo:
        lo, hi = hi, lo
    return lo, hi


def _parse_date(value: str) -> datetime.date:
    try:
        y, m, d = (int(p) for p in value.split("-"))
        return datetime.date(y, m, d)
    except ValueError as exc:
        raise QuerySyntaxError(f"日期应写作 2026-01-31：{value!r}") from exc


def normalize_doc_type(value: str, type_names: TypeNames = None) -> str:
    value = value.strip()
    if type_names is None:
        return value
    names = type_names() if callable(type_names) else type_names
    if value in names:
        return names[value]
    first = {}  # one name per type: the first given (the registry gives labels first)
    for name, search_type in names.items():
        first.setdefault(search_type, name)
    listed = "、".join(first.values())
    raise QuerySyntaxError(f"未知的文书类型：{value!r}（可用：{listed}）")


def once(type_names: TypeNames) -> TypeNames:
    """`type_names` asked at most once (a query and its filters resolved together)."""
    if not callable(type_names):
        return type_names
    found: list[Mapping[str, str]] = []

    def names() -> Mapping[str, str]:
        if not found:
            found.append(type_names())
        return found[0]

    return names


def resolve_doc_types(values: frozenset[str], type_names: TypeNames = None) -> frozenset[str]:
    """Type filters given apart from the text (`SearchQuery.doc_types`, the facet links): each
    a search type or any other name of one, like 类型:… in the text."""
    return frozenset(normalize_doc_type(v, type_names) for v in values)


def parse_query(text: str, type_names: TypeNames = None) -> ParsedQuery:
    """Parse the search-box syntax; raises QuerySyntaxError for a bad filter value.

    `type_names` resolves the value of a type filter (see TypeNames)."""
    pq = ParsedQuery()
    pending_or = False
    for token, quoted, negated in _tokens(text or ""):
        if not quoted and token in _OR_WORDS:
            pending_or = bool(pq.must)
            continue
        term: Term | None = None
        m = None if quoted else _FIELD_RE.match(token)
        key = _FIELD_NAMES.get(m.group(1).lower() if m else "", None) if m else None
        if m and key:
            value = _strip_quotes(m.group(2))
            if not value:
                continue
            if key in TEXT_FIELDS:
                term = Term(value, key)
            else:
                if negated:
                    raise QuerySyntaxError(f"筛选条件不能排除：-{token}")
                _apply_filter(pq, key, value, type_names)
                pending_or = False
                continue
        else:
            term = Term(token)
        if not term.folded.strip():
            continue
        if negated:
            pq.must_not.append(term)
            pending_or = False
        elif pending_or and pq.must:
            pq.must[-1] = pq.must[-1] + (term,)
            pending_or = False
        else:
            pq.must.append((term,))
    return pq


def _apply_filter(pq: ParsedQuery, key: str, value: str, type_names: TypeNames) -> None:
    if key == "type":
        pq.doc_types.add(normalize_doc_type(value, type_names))
    elif key == "unit":
        pq.units.update(v for v in re.split(r"[,，]", value) if v)
    elif key == "year":
        lo, hi = _parse_year(value)
        pq.year_from = lo if pq.year_from is None else max(pq.year_from, lo)
        pq.year_to = hi if pq.year_to is None else min(pq.year_to, hi)
    elif key == "date":
        m = _DATE_RANGE_RE.match(value.strip())
        if not m or not (m.group(1) or m.group(2)):
            raise QuerySyntaxError(f"日期范围应写作 2026-01-01..2026-03-31：{value!r}")
        sep = re.search(r"\.\.|~|～|至", value)
        if m.group(1):
            pq.date_from = _parse_date(m.group(1))
        if m.group(2):
            pq.date_to = _parse_date(m.group(2))
        if m.group(1) and not sep:  # a single day
            pq.date_to = pq.date_from
    elif key == "reviewer":
        pq.reviewer = value
    elif key == "conclusion":
        pq.conclusion = value
    elif key == "status":
        pq.status = STATUS_LABELS.get(value, value)
