"""The checks of a template field's `format` (案号, 执业证号, 电话…) for other features' forms,
so a matter's 案号 is checked exactly as a commission letter's is."""

from __future__ import annotations

from app.templating.validation import _check_format, _Invalid


def format_problem(fmt: str, text: str) -> str | None:
    """What is wrong with `text` as a value of format `fmt` (e.g. court_case_number), or None."""
    try:
        _check_format(fmt, text)
    except _Invalid as exc:
        return exc.message
    return None
