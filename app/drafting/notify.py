"""Telling people that work waits for them.

In-app: always, through the work queues (`drafts.queue`). E-mail: only when CASEFILE_SMTP_HOST
is set and the recipient has an address (user_contacts). Recipients are worked out inside the
transaction, but mail is sent only after it commits, and a failure is logged, never raised: a
notification can never undo or block a review step.
"""

from __future__ import annotations

import logging
import os
import smtplib
from dataclasses import dataclass
from email.message import EmailMessage

from sqlalchemy import event, select
from sqlalchemy.orm import Session

from app.access.policy import Principal
from app.container import Casefile
from app.drafting.models import Draft
from app.identity.models import RoleGrant, UserContact

log = logging.getLogger(__name__)
_PENDING = "casefile_mail"


@dataclass(frozen=True)
class SmtpSettings:
    host: str
    port: int
    sender: str

    @classmethod
    def from_env(cls) -> SmtpSettings | None:
        host = os.environ.get("CASEFILE_SMTP_HOST", "").strip()
        if not host:
            return None
        raw_port = os.environ.get("CASEFILE_SMTP_PORT", "").strip() or "25"
        try:
            port = int(raw_port)
        except ValueError:
            log.error("CASEFILE_SMTP_PORT must be an integer, got %r: e-mail is off", raw_port)
            return None
        sender = os.environ.get("CASEFILE_SMTP_FROM", "").strip() or f"casefile@{host}"
        return cls(host, port, sender)


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


def _recipients(cf: Casefile, session: Session, draft: Draft, what: str) -> tuple[list[int], str]:
    from app.drafting import drafts

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
    tpl = drafts.template_of(cf, session, draft)
    states = drafts.chain_state(session, draft, tpl, drafts.current_version(session, draft))
    pending = drafts.pending_step(states)
    label = f"待您办理：{pending.step.label}" if pending else "待审核"
    return drafts.reviewers_for(session, draft, states), label


def after_commit(cf: Casefile, session: Session, draft: Draft, what: str, p: Principal) -> None:
    """Queue e-mail about this step, sent once the transaction commits (if SMTP is set up)."""
    smtp = SmtpSettings.from_env()
    if smtp is None:
        return
    try:
        user_ids, headline = _recipients(cf, session, draft, what)
        to = _addresses(session, [u for u in user_ids if u != p.user.id])
    except Exception:  # noqa: BLE001 - notification trouble never blocks the workflow
        log.exception("could not work out notification recipients for draft %s", draft.id)
        return
    if not to:
        return
    subject = f"【casefile】{headline}：{draft.title}"
    body = (
        f"{p.user.name} 办理了草稿 {draft.id}「{draft.title}」（{what}）。\n"
        f"当前：{headline}。\n请登录系统，在“工作台”查看。\n"
    )
    if not session.info.get("casefile_mail_hooked"):
        event.listen(session, "after_commit", _send_pending)
        event.listen(session, "after_rollback", _drop_pending)
        session.info["casefile_mail_hooked"] = True
    session.info.setdefault(_PENDING, []).extend(Mail(addr, subject, body) for addr in to)
    session.info["casefile_smtp"] = smtp


def _drop_pending(session: Session) -> None:
    session.info.pop(_PENDING, None)


def _send_pending(session: Session) -> None:
    mails: list[Mail] = session.info.pop(_PENDING, [])
    smtp: SmtpSettings | None = session.info.pop("casefile_smtp", None)
    if mails and smtp:
        send(smtp, mails)


def send(smtp: SmtpSettings, mails: list[Mail]) -> int:
    """Send what can be sent; log the rest. Returns how many went out."""
    sent = 0
    try:
        with smtplib.SMTP(smtp.host, smtp.port, timeout=10) as conn:
            for mail in mails:
                msg = EmailMessage()
                msg["From"], msg["To"], msg["Subject"] = smtp.sender, mail.to, mail.subject
                msg.set_content(mail.body)
                try:
                    conn.send_message(msg)
                    sent += 1
                except smtplib.SMTPException:
                    log.exception("e-mail to %s refused", mail.to)
    except (OSError, smtplib.SMTPException):
        log.exception("e-mail notification failed (%s:%s)", smtp.host, smtp.port)
    return sent
