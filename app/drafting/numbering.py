"""发文字号 (GB/T 9704-2012): 机关代字〔年份〕序号号, one gapless sequence per (unit, code, year).

The number is allocated inside the issuing transaction: a failure rolls the increment back, so
no number is consumed. PostgreSQL holds the row lock until commit; SQLite's write transactions
take the database write lock up front (BEGIN IMMEDIATE), so issuers queue instead of racing.
"""

from __future__ import annotations

import re

from sqlalchemy import update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from app.drafting.models import NumberSequence

NUMBER_RE = re.compile(r"^(?P<code>[^〔〕]+)〔(?P<year>\d{4})〕(?P<seq>[1-9]\d*)号$")


def format_number(code: str, year: int, seq: int) -> str:
    """武政法审〔2026〕12号 — full year in 〔〕 (U+3014/U+3015), no leading zeros, no 第."""
    if seq < 1:
        raise ValueError("sequence numbers start at 1")
    return f"{code}〔{year}〕{seq}号"


def parse_number(number: str) -> tuple[str, int, int] | None:
    m = NUMBER_RE.match(number)
    if not m:
        return None
    return m["code"], int(m["year"]), int(m["seq"])


def allocate_number(session: Session, unit_id: int, code: str, year: int) -> int:
    """Take the next number of the (unit, code, year) sequence in the caller's transaction."""
    insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    session.execute(
        insert(NumberSequence)
        .values(unit_id=unit_id, code=code, year=year, last_value=0)
        .on_conflict_do_nothing(index_elements=["unit_id", "code", "year"])
    )
    seq = session.execute(
        update(NumberSequence)
        .where(
            NumberSequence.unit_id == unit_id,
            NumberSequence.code == code,
            NumberSequence.year == year,
        )
        .values(last_value=NumberSequence.last_value + 1)
        .returning(NumberSequence.last_value)
    ).scalar_one()
    return seq
