"""Append-only, hash-chained audit log. One helper, `record()`, written in the caller's
transaction; `verify_chain()` names the first altered or missing entry.

Appending takes the chain's lock (on PostgreSQL a transaction-scoped advisory lock), which is
held until the transaction ends. A read that is audited (an inspector opening a document, a
search) passes `at_commit=True`: its entry is appended just before the commit, so the lock is
held for the append and the commit only, not for the rest of the page; with the lock taken at
once, every audited page of every process would wait for the one before it."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from typing import Any

from sqlalchemy import event, insert, select, text
from sqlalchemy.orm import Session

from app.audit.models import AuditEntry
from app.db.base import utcnow
from app.identity.models import User

GENESIS = "0" * 64


def _entry_hash(
    seq: int,
    at: dt.datetime,
    actor_id: int | None,
    actor: str,
    action: str,
    object_type: str,
    object_id: str,
    detail: dict,
    remote_addr: str,
    prev_hash: str,
) -> str:
    payload = json.dumps(
        [
            seq,
            at.isoformat(timespec="microseconds"),
            actor_id,
            actor,
            action,
            object_type,
            object_id,
            detail,
            remote_addr,
            prev_hash,
        ],
        ensure_ascii=False,
        sort_keys=True,
        separators=(",", ":"),
    )
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


def record(
    session: Session,
    action: str,
    *,
    actor: User | None = None,
    object_type: str = "",
    object_id: Any = "",
    detail: dict | None = None,
    remote_addr: str = "",
    at_commit: bool = False,
) -> str:
    """Append one entry to the chain inside the caller's transaction; its hash.

    `at_commit`: append it when the transaction commits (and not at all if it rolls back);
    returns "" then. For reads, whose entry nothing later in the transaction looks for."""
    entry = dict(action=action, actor=actor, object_type=object_type, object_id=object_id,
                 detail=detail, remote_addr=remote_addr)  # fmt: skip
    if at_commit:  # as it is now, whatever the caller does with its dict afterwards
        entry["detail"] = json.loads(json.dumps(detail or {}, ensure_ascii=False, default=str))
        _pending(session).append(entry)
        return ""
    return _append(session, **entry)


_PENDING = "audit_at_commit"


def _pending(session: Session) -> list[dict]:
    pending = session.info.get(_PENDING)
    if pending is None:
        pending = session.info[_PENDING] = []
        event.listen(session, "before_commit", _append_pending)
        event.listen(session, "after_rollback", lambda s: s.info[_PENDING].clear())
    return pending


def _append_pending(session: Session) -> None:
    pending = session.info[_PENDING]
    while pending:
        _append(session, **pending.pop(0))


def _append(
    session: Session,
    action: str,
    *,
    actor: User | None,
    object_type: str,
    object_id: Any,
    detail: dict | None,
    remote_addr: str,
) -> str:
    if session.get_bind().dialect.name == "postgresql":
        # Serialise appenders so two transactions never chain onto the same predecessor.
        session.execute(text("SELECT pg_advisory_xact_lock(727001)"))
    last = session.execute(
        select(AuditEntry.seq, AuditEntry.entry_hash).order_by(AuditEntry.seq.desc()).limit(1)
    ).first()
    seq, prev = (last[0] + 1, last[1]) if last else (1, GENESIS)
    at = utcnow()
    detail = json.loads(json.dumps(detail or {}, ensure_ascii=False, default=str))
    values = dict(
        seq=seq,
        at=at,
        actor_id=actor.id if actor else None,
        actor=actor.username if actor else "",
        action=action,
        object_type=object_type,
        object_id=str(object_id),
        detail=detail,
        remote_addr=remote_addr or "",
        prev_hash=prev,
    )
    values["entry_hash"] = _entry_hash(
        seq, at, values["actor_id"], values["actor"], action, object_type, values["object_id"],
        detail, values["remote_addr"], prev,
    )  # fmt: skip
    # A Core insert: the log is append-only, no ORM object is needed afterwards.
    session.execute(insert(AuditEntry).values(**values))
    return values["entry_hash"]


def verify_chain(session: Session) -> list[str]:
    """Walk the chain in order; report the first broken link (and stop there)."""
    prev = GENESIS
    expected_seq = 1
    for e in session.scalars(select(AuditEntry).order_by(AuditEntry.seq)).yield_per(1000):
        if e.seq != expected_seq:
            return [
                f"审计日志第 {expected_seq} 条缺失 (audit entry seq {expected_seq} missing; next is {e.seq}, id {e.id})"
            ]
        if e.prev_hash != prev:
            return [
                f"审计日志第 {e.seq} 条 (id {e.id}) 的前序哈希不符：链条在此处断开 (prev_hash mismatch)"
            ]
        actual = _entry_hash(
            e.seq, e.at, e.actor_id, e.actor, e.action, e.object_type, e.object_id,
            e.detail or {}, e.remote_addr, e.prev_hash,
        )  # fmt: skip
        if actual != e.entry_hash:
            return [f"审计日志第 {e.seq} 条 (id {e.id}) 内容被改动 (entry hash mismatch)"]
        prev = e.entry_hash
        expected_seq += 1
    return []
