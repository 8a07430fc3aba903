"""Record ids in URLs: 1 to 10**18-1, so every id a route accepts fits the database's BIGINT
(2**63-1) and an absurd one is "no such page" (404), never a database error (500)."""

from __future__ import annotations

from werkzeug.routing import BaseConverter

MAX_ID = 10**18 - 1  # 18 digits: below BIGINT's 2**63-1, so every id reaches the database


class RecordId(BaseConverter):
    """`<id:name>` in the API, `<int:name>` on the pages: a record id, 1 to MAX_ID; anything
    else is no route (404), never a database error."""

    regex = r"[1-9][0-9]{0,17}"

    def to_python(self, value: str) -> int:
        return int(value)

    def to_url(self, value: int) -> str:
        return str(int(value))


def in_range(value: object) -> bool:
    """Whether `value` can be a record id (an int from 1 to MAX_ID): look up only those, so an
    id a user typed beyond the database's range is "not found", never an overflow."""
    return isinstance(value, int) and not isinstance(value, bool) and 1 <= value <= MAX_ID
