"""`casefile audit`: the latest entries of the audit log, as a person reads them (Chinese
labels from app/audit/labels.py, the same as the web's audit page); --json keeps the codes."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from app.audit import labels
from app.audit.models import AuditEntry
from app.cli.common import CliError, out
from app.common.clock import CHINA_TZ
from app.container import Casefile


def cmd_audit(cf: Casefile, args) -> int:
    if not 1 <= args.limit <= 10_000:
        raise CliError("--limit 应为 1 至 10000 之间的整数")
    query = select(AuditEntry).order_by(AuditEntry.seq.desc()).limit(args.limit)
    if args.actor:
        query = query.where(AuditEntry.actor == args.actor.strip().lower())
    if args.action:
        query = query.where(AuditEntry.action.startswith(args.action.strip()))
    with cf.db.read() as session:
        names = labels.store_names(cf.catalog, session)
        entries = list(session.scalars(query))[::-1]  # oldest first, as a log reads
        rows = [
            {
                "seq": e.seq, "at": e.at.isoformat(), "actor": e.actor, "action": e.action,
                "action_label": labels.action_label(e.action), "object_type": e.object_type,
                "object_id": e.object_id, "detail": e.detail,
                "detail_text": labels.detail_text(e.detail, names, e.action),
            }
            for e in entries
        ]  # fmt: skip
        lines = [labels.entry_line(e, names, _china(e.at)) for e in entries] or [
            "没有符合条件的审计记录。"
        ]
    out(args, {"entries": rows}, lines)
    return 0


def _china(at: dt.datetime) -> str:
    return at.replace(tzinfo=dt.UTC).astimezone(CHINA_TZ).strftime("%Y-%m-%d %H:%M")


def register(sub, common, acting) -> None:
    p = sub.add_parser("audit", parents=[common], help="最近的审计日志")
    p.add_argument("--limit", type=int, default=50, help="显示最近多少条")
    p.add_argument("--actor", help="只看该用户的记录")
    p.add_argument("--action", help="只看以此代码开头的操作，如 document.read")
    p.set_defaults(func=cmd_audit)
