"""What the supervision services share: refusals naming the field, dates, units in scope."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.errors import NotFound, ValidationFailed
from app.identity.models import Unit


def refuse(field: str, label: str, message: str) -> ValidationFailed:
    return ValidationFailed(message, [{"field": field, "label": label, "message": message}])


def text(value, field: str, label: str, *, required: bool = False, limit: int = 200) -> str:
    value = value.strip() if isinstance(value, str) else ("" if value is None else str(value))
    if required and not value:
        raise refuse(field, label, f"请填写{label}")
    if len(value) > limit:
        raise refuse(field, label, f"{label}不能超过 {limit} 个字")
    return value


def date(value, field: str, label: str, *, required: bool = True) -> dt.date | None:
    if isinstance(value, dt.date):
        return value
    if value in (None, ""):
        if required:
            raise refuse(field, label, f"请填写{label}")
        return None
    try:
        return dt.date.fromisoformat(str(value).strip())
    except ValueError:
        raise refuse(field, label, f"{label}应为日期，如 2026-11-30") from None


def integer(value, field: str, label: str, lo: int, hi: int) -> int:
    try:
        number = int(str(value).strip())
    except (TypeError, ValueError):
        number = lo - 1
    if not lo <= number <= hi:
        raise refuse(field, label, f"{label}应为 {lo} 至 {hi} 之间的整数")
    return number


def unit_by_code(session: Session, code: str | None, field: str = "unit") -> Unit:
    unit = session.scalars(select(Unit).where(Unit.code == (code or "").strip())).first()
    if unit is None:
        raise refuse(field, "单位", f"没有代码为“{code or ''}”的单位")
    return unit


def get_or_404(session: Session, model, obj_id, what: str):
    try:
        found = session.get(model, int(obj_id))
    except (TypeError, ValueError):
        found = None
    if found is None:
        raise NotFound(f"{what}不存在，或您无权查看")
    return found


def quarter_bounds(year: int, quarter: int) -> tuple[dt.date, dt.date]:
    start = dt.date(year, 3 * quarter - 2, 1)
    end = dt.date(year + (quarter == 4), 1 if quarter == 4 else 3 * quarter + 1, 1)
    return start, end - dt.timedelta(days=1)


def period(year, quarter=None) -> tuple[int, int | None, dt.date, dt.date]:
    """(year, quarter, first day, last day) of a year or one of its quarters, from user input."""
    y = integer(year, "year", "年度", 2000, 2100)
    if quarter in (None, ""):
        return y, None, dt.date(y, 1, 1), dt.date(y, 12, 31)
    q = integer(quarter, "quarter", "季度", 1, 4)
    return (y, q, *quarter_bounds(y, q))
