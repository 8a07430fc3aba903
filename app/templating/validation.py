"""Validate raw form/API/CLI input against a TemplateSchema.

`check()` returns the clean, canonical data (what a draft version stores), the malformed values
(field path → Chinese message) and what is still missing for the document to be complete. A
draft may be saved with fields missing but never with a malformed value; submission needs both
empty. `validate()` is the strict form: missing fields count as errors.

Unambiguous easy input is normalised here, once, for the web, the API and the CLI alike
(full-width digits, half-width brackets in a 案号, a lower-case 统一社会信用代码); the rest is
refused with the reason. Every text value goes through app.common.text's one rule.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from stdnum.cn import uscc

from app.common.text import one_line, text_problem
from app.templating.references import References, reference_error
from app.templating.schema import REFERENCE_TYPES, FieldSpec, TemplateSchema

COURT_CASE_RE = re.compile(
    r"^（(19|20)\d{2}）[\u4e00-\u9fff]{1,2}\d{0,6}"
    r"(行初|行终|行审|行赔初|行赔终|行申|民初|民终|民申|民再|刑初|刑终|执|执恢|执异|执复|执保|财保|破|仲|[\u4e00-\u9fff]{1,4})"
    r"\d{1,6}号$"
)
ARBITRATION_CASE_RE = re.compile(r"^[\u4e00-\u9fff]{1,12}〔(19|20)\d{2}〕第?\d{1,6}号$")
LICENCE_RE = re.compile(r"^\d{17}$")
PHONE_RE = re.compile(r"^(1[3-9]\d{9}|0\d{2,3}-?\d{7,8}(-\d{1,6})?)$")
DATE_RES = (
    re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})$"),
    re.compile(r"^(\d{4})/(\d{1,2})/(\d{1,2})$"),
    re.compile(r"^(\d{4})\.(\d{1,2})\.(\d{1,2})$"),
    re.compile(r"^(\d{4})年(\d{1,2})月(\d{1,2})日$"),
)
MONEY_MAX = Decimal("999999999999.99")


REQUIRED = "此项为必填项"
BOTH_DATES = "请同时填写开始日期和结束日期"
FULL_WIDTH_DIGITS = str.maketrans("０１２３４５６７８９", "0123456789")
# a year in any bracket a keyboard offers: （2026） (2026) 〔2026〕 [2026] 【2026】 ［2026］ ｛
YEAR_IN_BRACKETS = re.compile(r"[(（\[［【〔]\s*((?:19|20)\d{2})\s*[)）\]］】〕]")


class _Invalid(Exception):
    def __init__(self, message: str):
        self.message = message


@dataclass
class Checked:
    """What check() found: the clean data, the malformed values (a draft cannot be saved with
    any) and what is missing (a draft cannot be submitted with any), by field path; `filled`
    and `total` count the required fields in play (已填写 filled/total 项)."""

    clean: dict
    errors: dict[str, str] = field(default_factory=dict)
    missing: dict[str, str] = field(default_factory=dict)
    filled: int = 0
    total: int = 0

    @property
    def complete(self) -> bool:
        return not self.errors and not self.missing


@dataclass
class _State:
    errors: dict[str, str]
    missing: dict[str, str]
    refs: References | None
    draft: bool  # keep values whose show_if cannot be decided yet (its field still empty)


def parse_date(value: Any) -> dt.date:
    if isinstance(value, dt.date):
        return value
    text = unicodedata.normalize("NFKC", str(value)).strip()
    for regex in DATE_RES:
        m = regex.match(text)
        if m:
            try:
                return dt.date(int(m[1]), int(m[2]), int(m[3]))
            except ValueError:
                break
    raise _Invalid("日期无效，请按“2026-11-03”的格式填写")


def blank(value: Any) -> bool:
    """Nothing entered: None, empty or blank text, an unchecked box, or a list or mapping whose
    every entry is blank (an empty row, a date range with neither date)."""
    if value is None or value is False:
        return True
    if isinstance(value, str):
        return not value.strip()
    if isinstance(value, list):
        return all(blank(v) for v in value)
    if isinstance(value, dict):
        return all(blank(v) for v in value.values())
    return False


def _text(spec: FieldSpec, value: Any) -> str:
    if not isinstance(value, (str, int, float)) or isinstance(value, bool):
        raise _Invalid("应为文字")
    text = str(value)
    problem = text_problem(text)  # before any whitespace is folded: U+001F is no space
    if problem:
        raise _Invalid(problem)
    if spec.type == "textarea":
        text = text.replace("\r\n", "\n").replace("\r", "\n").strip()
    else:
        text = one_line(text)
    if spec.format:
        text = _normalise(spec.format, text)
    if len(text) > spec.effective_max_length:
        raise _Invalid(f"不能超过{spec.effective_max_length}个字（现有{len(text)}个）")
    if spec.min_length is not None and len(text) < spec.min_length:
        raise _Invalid(f"至少需要{spec.min_length}个字")
    if spec.pattern and not re.fullmatch(spec.pattern, text):
        raise _Invalid(spec.pattern_message or "格式不正确")
    if spec.format:
        _check_format(spec.format, text)
    return text


def _normalise(fmt: str, text: str) -> str:
    """The canonical form of what is unambiguous: ASCII digits, no spaces inside a code, an
    upper-case 统一社会信用代码, a 案号's year in full-width parentheses and an arbitration
    number's in 〔〕."""
    text = text.translate(FULL_WIDTH_DIGITS)
    if fmt == "uscc":
        return unicodedata.normalize("NFKC", text).replace(" ", "").upper()
    if fmt == "lawyer_licence":
        return text.replace(" ", "")
    if fmt == "phone":
        return text.replace(" ", "").replace("－", "-").replace("—", "-")
    if fmt == "court_case_number":
        text = text.replace(" ", "")
        court = YEAR_IN_BRACKETS.sub(r"（\1）", text, count=1)
        if COURT_CASE_RE.match(court):
            return court
        arbitration = YEAR_IN_BRACKETS.sub(r"〔\1〕", text, count=1)
        if ARBITRATION_CASE_RE.match(arbitration):
            return arbitration
    return text


def _check_format(fmt: str, text: str) -> None:
    if fmt == "uscc":
        if not uscc.is_valid(text):
            raise _Invalid("统一社会信用代码无效：应为18位，且校验位正确")
    elif fmt == "lawyer_licence":
        if not LICENCE_RE.match(text):
            raise _Invalid("执业证号应为17位数字")
    elif fmt == "court_case_number":
        if not (COURT_CASE_RE.match(text) or ARBITRATION_CASE_RE.match(text)):
            raise _Invalid("案号格式不正确，应如“（2026）云01行初123号”（年份用全角括号）")
    elif fmt == "phone":
        if not PHONE_RE.match(text.replace(" ", "")):
            raise _Invalid("电话号码格式不正确，应为11位手机号或带区号的固定电话")


def _money(spec: FieldSpec, value: Any) -> str:
    if isinstance(value, bool):
        raise _Invalid("金额应为数字")
    text = unicodedata.normalize("NFKC", str(value)).strip().replace(",", "").replace("元", "")
    try:
        amount = Decimal(text)
    except InvalidOperation as exc:
        raise _Invalid("金额应为数字，如 80000 或 80000.50") from exc
    if not amount.is_finite() or amount < 0:
        raise _Invalid("金额不能为负数")
    if amount != amount.quantize(Decimal("0.01")):
        raise _Invalid("金额最多保留两位小数（到分）")
    if amount > MONEY_MAX:
        raise _Invalid("金额过大")
    if spec.min is not None and amount < Decimal(str(spec.min)):
        raise _Invalid(f"金额不能小于{spec.min}")
    if spec.max is not None and amount > Decimal(str(spec.max)):
        raise _Invalid(f"金额不能大于{spec.max}")
    return str(amount.quantize(Decimal("0.01")))


def _integer(spec: FieldSpec, value: Any) -> int:
    if isinstance(value, bool):
        raise _Invalid("应为整数")
    if isinstance(value, int):
        number = value
    else:
        text = unicodedata.normalize("NFKC", str(value)).strip()
        if not re.fullmatch(r"-?\d{1,12}", text):
            raise _Invalid("应为整数")
        number = int(text)
    if spec.min is not None and number < spec.min:
        raise _Invalid(f"不能小于{spec.min:g}")
    if spec.max is not None and number > spec.max:
        raise _Invalid(f"不能大于{spec.max:g}")
    return number


def _boolean(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in {"1", "true", "yes", "on", "是"}:
        return True
    if text in {"0", "false", "no", "off", "否", ""}:
        return False
    raise _Invalid("应为“是”或“否”")


def _reference(spec: FieldSpec, value: Any, refs: References | None) -> str:
    text = _text(spec, value)
    if refs is None:
        return text  # no registry at hand (template checks, samples): the shape only
    allowed = refs.choices(spec)
    if text not in {c.value for c in allowed}:
        raise _Invalid(reference_error(spec, text, allowed))
    return text


def _daterange(value: Any, state: _State, path: str) -> dict:
    """Both dates, or (while drafting) the one given so far, with the other one missing."""
    if not isinstance(value, dict) or set(value) - {"start", "end"}:
        raise _Invalid("应填写起止日期")
    start = None if blank(value.get("start")) else parse_date(value["start"])
    end = None if blank(value.get("end")) else parse_date(value["end"])
    if start is None or end is None:
        state.missing[path] = BOTH_DATES
        return {"start": start and start.isoformat(), "end": end and end.isoformat()}
    if end < start:
        raise _Invalid("结束日期不能早于开始日期")
    return {"start": start.isoformat(), "end": end.isoformat()}


def _clean_value(spec: FieldSpec, value: Any, state: _State, path: str) -> Any:
    t = spec.type
    if t in {"text", "textarea"}:
        return _text(spec, value)
    if t in REFERENCE_TYPES:
        return _reference(spec, value, state.refs)
    if t == "date":
        return parse_date(value).isoformat()
    if t == "daterange":
        return _daterange(value, state, path)
    if t == "money":
        return _money(spec, value)
    if t == "integer":
        return _integer(spec, value)
    if t == "boolean":
        return _boolean(value)
    if t == "choice":
        if not isinstance(value, (str, int, float)) or isinstance(value, bool):
            raise _Invalid(f"请从以下选项中选择：{'、'.join(spec.options)}")
        text = str(value).strip()
        if text not in spec.options:
            raise _Invalid(f"请从以下选项中选择：{'、'.join(spec.options)}")
        return text
    if t == "multichoice":
        items = value if isinstance(value, list) else [value]
        chosen = [str(v).strip() for v in items if not blank(v)]
        wrong = [v for v in chosen if v not in spec.options]
        if wrong:
            raise _Invalid(f"“{'、'.join(wrong)}”不是可选项；可选：{'、'.join(spec.options)}")
        # keep the schema's order, drop repeats
        return [o for o in spec.options if o in chosen]
    if t == "list":
        if not isinstance(value, list):
            raise _Invalid("应为多项列表")
        # blank rows never count: they are dropped before the rows are numbered, so a path
        # (list.2.name) names the row as it is stored and shown again
        value = [row for row in value if not blank(row)]
        if spec.max_items is not None and len(value) > spec.max_items:
            raise _Invalid(f"最多只能填写{spec.max_items}项")
        rows = []
        for i, row in enumerate(value):
            if spec.fields:
                if not isinstance(row, dict):
                    state.errors[f"{path}.{i}"] = "每一项应包含各栏内容"
                    continue
                rows.append(_clean_fields(spec.fields, row, state, f"{path}.{i}."))
            else:
                item_spec = FieldSpec(name="item", label=spec.label, type="text",
                                      max_length=spec.max_length or 2000)  # fmt: skip
                try:
                    rows.append(_text(item_spec, row))
                except _Invalid as exc:
                    state.errors[f"{path}.{i}"] = f"第{i + 1}项：{exc.message}"
        if spec.min_items is not None and len(rows) < spec.min_items:
            state.missing[path] = f"至少需要填写{spec.min_items}项"
        return rows
    raise _Invalid(f"未知的字段类型 {t}")


def _undecided(name: str, specs: tuple[FieldSpec, ...], clean: dict) -> bool:
    """A required field a condition depends on is still empty: the draft keeps what depends on
    it (it cannot be submitted before the field is filled, and then the condition decides)."""
    controller = next((s for s in specs if s.name == name), None)
    return controller is not None and controller.required and blank(clean.get(name))


def _clean_fields(
    specs: tuple[FieldSpec, ...], data: dict, state: _State, prefix: str = ""
) -> dict:
    clean: dict[str, Any] = {}
    for spec in specs:
        path = prefix + spec.name
        if spec.show_if is not None and not spec.show_if.holds(clean):
            if not (state.draft and _undecided(spec.show_if.field, specs, clean)):
                continue  # conditional field not in play: dropped, never required
        value = data.get(spec.name, spec.default)
        if blank(value):
            if spec.required and (spec.show_if is None or spec.show_if.holds(clean)):
                state.missing[path] = REQUIRED
            if spec.type in {"list", "multichoice"}:
                clean[spec.name] = []
            elif spec.type == "boolean":
                clean[spec.name] = False
            continue
        try:
            clean[spec.name] = _clean_value(spec, value, state, path)
        except _Invalid as exc:
            state.errors[path] = exc.message
    for spec in specs:
        if spec.after and spec.name in clean and spec.after in clean:
            other = next(s for s in specs if s.name == spec.after)
            mine, theirs = clean[spec.name], clean[spec.after]
            comparable = isinstance(mine, (str, int)) and type(mine) is type(theirs)
            if comparable and mine < theirs:
                state.errors[prefix + spec.name] = f"“{spec.label}”不能早于“{other.label}”"
    return clean


def check(
    schema: TemplateSchema, data: Any, refs: References | None = None, *, draft: bool = False
) -> Checked:
    """Clean `data`, sorting what is wrong into malformed values and missing ones.

    `draft`: a value whose show_if condition cannot be decided yet (the field it depends on is
    still empty) is kept rather than dropped, so saving half a form loses nothing typed."""
    if not isinstance(data, dict):
        return Checked({}, {"_": "提交的数据应为字段名到取值的映射（JSON 对象）"})
    state = _State({}, {}, refs, draft)
    known = {f.name for f in schema.fields}
    for key in data:
        if key not in known:
            state.errors[str(key)[:64]] = f"未知字段“{str(key)[:64]}”：此模板没有这一栏"
    clean = _clean_fields(schema.fields, data, state)
    in_play = [
        f.name
        for f in schema.fields
        if f.required and (f.show_if is None or f.show_if.holds(clean))
    ]
    short = {path.split(".", 1)[0] for path in state.missing}
    filled = sum(1 for name in in_play if name not in short)
    return Checked(clean, state.errors, state.missing, filled, len(in_play))


def validate(
    schema: TemplateSchema, data: Any, refs: References | None = None
) -> tuple[dict, dict[str, str]]:
    """Return (clean data, errors), missing fields among the errors: the strict check.

    `refs` says what reference fields (unit, user, adviser) may name now; without it only
    their text is checked. Unknown keys are reported, not silently dropped."""
    found = check(schema, data, refs)
    return found.clean, found.missing | found.errors


def describe_errors(schema: TemplateSchema, errors: dict[str, str]) -> list[dict[str, str]]:
    """Field-by-field list for the API and the CLI: path, Chinese label and message."""
    out = []
    for path, message in errors.items():
        parts = path.split(".")
        spec = schema.field(parts[0])
        label = spec.label if spec else parts[0]
        if spec and len(parts) >= 2 and parts[1].isdigit():
            label += f" 第{int(parts[1]) + 1}项"
            if len(parts) == 3:
                sub = next((f for f in spec.fields if f.name == parts[2]), None)
                label += f" {sub.label if sub else parts[2]}"
        out.append({"field": path, "label": label, "message": message})
    return out
