"""Outbox events that keep failing: reported by `casefile verify`, not retried in silence.

The worker retries a failed event with back-off for ever (a lock held by a dead process, a
LibreOffice that cannot start, a document the indexer chokes on). An event is *stuck* once it
has failed STUCK_ATTEMPTS times, or has been failing for longer than STUCK_AFTER since it was
queued (a Retry, e.g. an index that stays locked, counts no attempts but still ages).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import or_, select

from app.casefiles.models import Attachment
from app.common.clock import CHINA_TZ
from app.container import Casefile
from app.db.base import utcnow
from app.drafting.models import IssuedDocument
from app.jobs.models import OutboxEvent

STUCK_ATTEMPTS = 5
STUCK_AFTER = dt.timedelta(minutes=10)

KIND_LABELS = {
    "index": "检索索引更新",
    "rendition": "PDF 版式文件生成",
    "slip": "发文稿纸归档",
    "mail": "邮件通知",
    "ocr": "扫描件文字识别",
}


HINTS = {
    "index": "请管理员重建检索索引",
    "rendition": "请检查 LibreOffice 是否可用",
    "mail": "请检查邮件服务器设置",
    "ocr": "请检查文字识别引擎是否可用（见管理员手册）",
}


@dataclass(frozen=True)
class StuckEvent:
    id: int
    kind: str
    attempts: int
    queued_at: dt.datetime  # naive UTC
    last_error: str
    description: str  # one line in Chinese, naming the record, for verify and the checks page

    def __str__(self) -> str:
        return self.description


def stuck_events(cf: Casefile, now: dt.datetime | None = None) -> list[StuckEvent]:
    """Unprocessed outbox events that have failed STUCK_ATTEMPTS times or have been failing
    for longer than STUCK_AFTER, oldest first."""
    now = now or utcnow()
    out = []
    with cf.db.read() as s:
        query = (
            select(OutboxEvent)
            .where(
                OutboxEvent.processed_at.is_(None),
                OutboxEvent.last_error.is_not(None),
                or_(
                    OutboxEvent.attempts >= STUCK_ATTEMPTS,
                    OutboxEvent.created_at <= now - STUCK_AFTER,
                ),
            )  # fmt: skip
            .order_by(OutboxEvent.id)
        )
        for event in s.scalars(query):
            out.append(
                StuckEvent(
                    id=event.id,
                    kind=event.kind,
                    attempts=event.attempts,
                    queued_at=event.created_at,
                    last_error=event.last_error,
                    description=_describe(s, event),
                )
            )
    return out


def _record(session, payload: dict) -> str:
    if (doc_id := payload.get("document_id")) is not None:
        doc = session.get(IssuedDocument, doc_id)
        return f"文书 {doc.number}" if doc else f"文书记录 {doc_id}（已不存在）"
    if (att_id := payload.get("attachment_id")) is not None:
        att = session.get(Attachment, att_id)
        name = f"「{att.original_name}」" if att else "（已不存在）"
        return f"案卷材料{name}（材料编号 {att_id}）"
    if payload.get("to"):
        return f"收件人 {payload['to']}"
    return ""


def _describe(session, event: OutboxEvent) -> str:
    label = KIND_LABELS.get(event.kind, event.kind)
    record = _record(session, event.payload or {})
    queued = event.created_at.replace(tzinfo=dt.UTC).astimezone(CHINA_TZ)
    error = (event.last_error or "").strip().splitlines()[-1:] or [""]
    tries = f"已失败 {event.attempts} 次" if event.attempts else "一直在等待重试"
    hint = f"；{HINTS[event.kind]}" if event.kind in HINTS else ""
    return (
        f"后台任务 {event.id}（{label}{'：' + record if record else ''}）"
        f"自 {queued:%Y-%m-%d %H:%M} 起未能完成，{tries}；"
        f"最近一次错误：{error[0][:300]}{hint}"
    )
