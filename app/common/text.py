"""The one rule for every piece of user text (form fields, titles, comments, reasons, names,
search text, API bodies, CLI arguments): what is refused, and how the refusal reads.

Refused: C0 and C1 control characters other than a line break and a tab, bidirectional embedding, override and isolate controls (U+202A–U+202E,
U+2066–U+2069: they turn text around in a printed title), noncharacters (U+FDD0–U+FDEF and the
last two code points of every plane, e.g. U+FFFE) and lone surrogates. Everything else a
keyboard or an input method produces is text. Single-line text has its line breaks, tabs and
runs of spaces turned into one space (a pasted line break is not a mistake worth a refusal).

`printable()` is for the other direction: text already stored before this rule existed is shown
and exported without the refused characters, so old data never breaks an export.
"""

from __future__ import annotations

from typing import Any

from app.errors import ValidationFailed

BIDI_CONTROLS = frozenset(range(0x202A, 0x202F)) | frozenset(range(0x2066, 0x206A))
LINE_CONTROLS = frozenset("\n\r\t")


def _refused(ch: str) -> str | None:
    """Why `ch` is not accepted as text (None: it is)."""
    cp = ord(ch)
    if cp < 0x20 or 0x7F <= cp <= 0x9F:
        return None if ch in LINE_CONTROLS else "控制字符"
    if cp in BIDI_CONTROLS:
        return "改变文字方向的控制字符"
    if 0xFDD0 <= cp <= 0xFDEF or (cp & 0xFFFE) == 0xFFFE:
        return "非字符"
    if 0xD800 <= cp <= 0xDFFF:
        return "不成对的代理字符"
    return None


def text_problem(value: str) -> str | None:
    """The Chinese reason `value` is refused, naming the first offending character, or None.

    The same wording everywhere (web, API, CLI), so a value refused in one place reads the same
    in every other."""
    for ch in value:
        why = _refused(ch)
        if why is not None:
            return f"含有不可见的{why}（U+{ord(ch):04X}），请删除后重新填写"
    return None


def one_line(text: str) -> str:
    """Single-line text: line breaks, tabs and runs of spaces (full-width ones too) become one
    space."""
    return " ".join(text.split())


def check_text(
    value: Any,
    field: str,
    label: str,
    *,
    multiline: bool = False,
    max_length: int | None = None,
    required: bool = False,
    strip: bool = True,
) -> str:
    """`value` as accepted text, or ValidationFailed naming `field` (API, CLI) and `label` (web).

    None is the empty text; anything but a string is refused (an API body may send a number)."""
    if value is None:
        value = ""
    if not isinstance(value, str):
        raise _refusal(field, label, "应为文字")
    problem = text_problem(value)
    if problem:
        raise _refusal(field, label, problem)
    if not multiline:
        text = one_line(value)
    else:
        text = value.replace("\r\n", "\n").replace("\r", "\n")
        text = text.strip() if strip else text
    if required and not text:
        raise _refusal(field, label, "此项为必填项")
    if max_length is not None and len(text) > max_length:
        raise _refusal(field, label, f"不能超过{max_length}个字（现有{len(text)}个）")
    return text


def collect_text(errors: list[dict], value: Any, field: str, label: str, **kwargs: Any) -> str:
    """check_text for a form of several fields: a refusal is added to `errors` (and "" given
    back), so every field's problem is reported at once."""
    try:
        return check_text(value, field, label, **kwargs)
    except ValidationFailed as exc:
        errors.extend(exc.errors)
        return ""


def check_optional(value: Any, field: str, label: str, **kwargs: Any) -> str | None:
    """check_text for a value that may be absent: None stays None."""
    return None if value is None else check_text(value, field, label, **kwargs)


def _refusal(field: str, label: str, message: str) -> ValidationFailed:
    return ValidationFailed(
        f"{label}：{message}", [{"field": field, "label": label, "message": message}]
    )


def printable(value: str | None) -> str:
    """`value` without the characters the rule refuses (for stored text on its way out)."""
    if not value:
        return ""
    return "".join(ch for ch in value if _refused(ch) is None)
