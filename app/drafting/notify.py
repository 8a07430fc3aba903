"""Telling people that work waits for them: who is told what (a business decision).

In-app: always, through the work queues (`drafts.queue`). E-mail: only when SMTP is configured
(CASEFILE_SMTP_HOST) and the recipient has an address (user_contacts). Each e-mail is written
as a "mail" outbox event in the review step's own transaction, so a rolled-back step sends
nothing; the outbox worker sends it after the commit (app/jobs/mail.py), off the request
thread, retried with back-off. A notification can never undo, block or slow a review step.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.access.policy import Principal
from app.drafting.models import Draft
from app.identity.models import RoleGrant, UserContact
from app.jobs.models import OutboxEvent

log = logging.getLogger(__name__)
MAIL = "mail"  # the outbox kind


@dataclass(frozen=True)
class Waiting:
    """Who can act on a draft in review now, and the step they are to do."""

    user_ids: list[int]
    step_label: str | None


@dataclass(frozen=True)
class Mail:
    to: str
    subject: str
    body: str


def _addresses(session: Session, user_ids) -> list[str]:
    ids = set(user_ids)
    if not ids:
        return []
    return [
        c.email for c in session.scalars(select(UserContact).where(UserContact.user_id.in_(ids)))
    ]


def _recipients(
    session: Session, draft: Draft, what: str, waiting: Waiting | None
) -> tuple[list[int], str]:
    if what in {"return", "issue"} or draft.status == "approved":
        if draft.status == "approved":
            issuers = set(
                session.scalars(
                    select(RoleGrant.user_id).where(
                        RoleGrant.unit_id == draft.unit_id, RoleGrant.role.in_(["clerk"])
                    )
                )
            )
            return sorted(issuers | {draft.created_by}), "审核完毕，待发文"
        return [draft.created_by], {"return": "已退回修改", "issue": "已发文"}[what]
    if waiting is None:
        return [], ""
    label = f"待您办理：{waiting.step_label}" if waiting.step_label else "待审核"
    return waiting.user_ids, label


def mails_for(
    session: Session, draft: Draft, what: str, p: Principal, waiting: Waiting | None
) -> list[Mail]:
    """The e-mails about step *what* (submit, approve, return, issue) that *p* just took."""
    user_ids, headline = _recipients(session, draft, what, waiting)
    to = _addresses(session, [u for u in user_ids if u != p.user.id])
    subject = f"【casefile】{headline}：{draft.title}"
    body = (
        f"{p.user.name} 办理了草稿 {draft.id}「{draft.title}」（{what}）。\n"
        f"当前：{headline}。\n请登录系统，在“工作台”查看。\n"
    )
    return [Mail(addr, subject, body) for addr in to]


def queue_mails(session: Session, draft: Draft, mails: list[Mail]) -> None:
    """One outbox event per e-mail, in the caller's transaction: sent after it commits."""
    for mail in mails:
        session.add(
            OutboxEvent(
                kind=MAIL,
                payload={
                    "draft_id": draft.id,
                    "to": mail.to,
                    "subject": mail.subject,
                    "body": mail.body,
                },
            )
        )
