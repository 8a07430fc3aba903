"""What a session reads several times, read once: answers kept in the session until it writes.

A page asks the same questions from several places (the template registry from the filters,
the list and the policy; a draft's review steps from the page, the slip and the chain). The
answer is kept in `session.info` and forgotten when the session writes (a flush, an INSERT,
UPDATE or DELETE statement) or holds changes not flushed yet, so a session that writes reads
afresh what it may have changed. Sessions live for one block (app/db `read()`,
`write()`), so nothing is kept beyond it.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from typing import TypeVar

from sqlalchemy import event
from sqlalchemy.orm import Session

T = TypeVar("T")
_KEY = "memo"


def session_memo(session: Session, key: Hashable, compute: Callable[[], T]) -> T:
    """compute(), once per session until the session next flushes."""
    memo = session.info.get(_KEY)
    if memo is None:
        memo = session.info[_KEY] = {}
        event.listen(session, "after_flush", lambda s, _ctx: s.info[_KEY].clear())
        event.listen(session, "do_orm_execute", _forget_on_write)
    if session.new or session.dirty or session.deleted:
        memo.clear()  # changes not flushed yet: compute() autoflushes them and reads them
    elif key in memo:
        return memo[key]
    value = compute()
    memo[key] = value
    return value


def _forget_on_write(state) -> None:
    if state.is_insert or state.is_update or state.is_delete:
        state.session.info[_KEY].clear()
