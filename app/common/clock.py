"""Time: records keep naive UTC; dates people see are in China Standard Time (UTC+8, no DST)."""

from __future__ import annotations

import datetime as dt

CHINA_TZ = dt.timezone(dt.timedelta(hours=8))


def utcnow() -> dt.datetime:
    """Naive UTC, as every timestamp column stores it."""
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


def today_in_china() -> dt.date:
    return dt.datetime.now(CHINA_TZ).date()
