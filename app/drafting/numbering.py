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
    return next_in_sequence(session, NumberSequence, unit_id=unit_id, code=code, year=year)


def next_in_sequence(session: Session, model, **key) -> int:
    """Take the next value of one gapless sequence row of `model` (a table with the `key`
    columns, unique together, and `last_value`) in the caller's transaction: the row is
    created at 0 if missing, then raised by one under its row lock. Used for 发文字号 and for
    the unified numbers of the normative-documents register."""
    insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    session.execute(
        insert(model).values(**key, last_value=0).on_conflict_do_nothing(index_elements=list(key))
    )
    seq = session.execute(
        update(model)
        .where(*(getattr(model, name) == value for name, value in key.items()))
        .values(last_value=model.last_value + 1)
        .returning(model.last_value)
    ).scalar_one()
    return seq
