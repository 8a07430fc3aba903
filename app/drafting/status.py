"""The status of an issued document (文书状态): 有效, 已被替代 or 已撤销.

An issued document is never changed (DESIGN.md invariant 1), so its status is a record beside
it (`DocumentStatus`, write-once, at most one per document):

- 已被替代 (superseded): a correction drafted from the document (`DraftCorrection`, see
  corrections.py) was reviewed like any other draft and issued; the issuing transaction records
  the status with its successor, so the two link to each other.
- 已撤销 (revoked): a recorded decision of two people of the document's unit, an office head
  and a signatory: one proposes with the reason (`RevocationProposal`), the other, holding the
  other role, confirms.

Every act writes its audit event in the same transaction (integrity/records.py cross-checks
them) and queues an "index" outbox event, so search results and facets follow the status.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import ColumnElement, or_, select
from sqlalchemy.orm import Session

from app import audit
from app.access.policy import REVOKING_ROLES, Principal, can
from app.common.clock import today_in_china
from app.drafting.models import (
    DocumentStatus,
    Draft,
    DraftCorrection,
    IssuedDocument,
    RevocationProposal,
)
from app.errors import Forbidden, NotFound, ValidationFailed, WorkflowError
from app.identity.models import User
from app.jobs.models import OutboxEvent

VALID, SUPERSEDED, REVOKED = "issued", "superseded", "revoked"
STATUS_LABELS = {VALID: "有效", SUPERSEDED: "已被替代", REVOKED: "已撤销"}
ROLE_NAMES = {"office-head": "法律顾问室负责人", "signatory": "签发人"}
MAX_REASON = 2000

PROPOSE_ACTION, REVOKE_ACTION = "document.revoke.propose", "document.revoke"
SUPERSEDE_ACTION, CORRECT_ACTION = "document.supersede", "document.correct"


@dataclass(frozen=True)
class Link:
    id: int
    number: str
    title: str


@dataclass(frozen=True)
class StatusView:
    """What a document's page (and its JSON) shows about its status."""

    status: str
    effective_on: dt.date | None = None
    reason: str = ""
    successor: Link | None = None  # the document that superseded this one
    predecessor: Link | None = None  # the document this one superseded
    proposal: RevocationProposal | None = None  # a revocation waiting for its second decision
    proposer: str = ""
    decided_by: str = ""

    @property
    def label(self) -> str:
        return STATUS_LABELS[self.status]

    @property
    def in_force(self) -> bool:
        return self.status == VALID

    def as_dict(self) -> dict:
        def link(found: Link | None) -> dict | None:
            return None if found is None else {"id": found.id, "number": found.number,
                                               "title": found.title}  # fmt: skip

        return {
            "status": self.status,
            "status_label": self.label,
            "effective_on": self.effective_on.isoformat() if self.effective_on else None,
            "reason": self.reason or None,
            "superseded_by": link(self.successor),
            "supersedes": link(self.predecessor),
            "revocation_pending": None if self.proposal is None else {
                "proposed_by": self.proposer, "reason": self.proposal.reason,
                "role": self.proposal.role,
            },
        }  # fmt: skip


def label(status: str) -> str:
    return STATUS_LABELS.get(status, status)


def statuses_of(session: Session, doc_ids) -> dict[int, str]:
    """{document id: status} for lists (one query); a document without a record is 有效."""
    ids = list(doc_ids)
    found = {}
    if ids:
        found = dict(
            session.execute(
                select(DocumentStatus.document_id, DocumentStatus.status).where(
                    DocumentStatus.document_id.in_(ids)
                )
            ).all()
        )
    return {i: found.get(i, VALID) for i in ids}


def status_condition(status: str) -> ColumnElement[bool]:
    """SQL condition on IssuedDocument for a status filter (有效 / 已被替代 / 已撤销)."""
    closed = select(DocumentStatus.document_id)
    if status == VALID:
        return IssuedDocument.id.not_in(closed)
    return IssuedDocument.id.in_(closed.where(DocumentStatus.status == status))


def parse_status(value: str | None, name: str = "status") -> str | None:
    """A status filter as the user gave it (the key or its Chinese label); None for all."""
    if value in (None, ""):
        return None
    for key, text in STATUS_LABELS.items():
        if value in (key, text):
            return key
    message = "状态应为：" + "、".join(STATUS_LABELS.values())
    raise ValidationFailed(message, [{"field": name, "label": "状态", "message": message}])


def _link(doc: IssuedDocument | None) -> Link | None:
    return None if doc is None else Link(doc.id, doc.number, doc.title)


def _name(session: Session, user_id: int | None) -> str:
    name = session.scalar(select(User.name).where(User.id == user_id)) if user_id else None
    return name or ""


def status_view(session: Session, doc: IssuedDocument) -> StatusView:
    """The status of one document, with its links both ways and a pending revocation."""
    rows = list(session.scalars(  # its own record and the one it supersedes, in one statement
        select(DocumentStatus)
        .where(or_(DocumentStatus.document_id == doc.id, DocumentStatus.successor_id == doc.id))
        .order_by(DocumentStatus.id)
    ))  # fmt: skip
    record = next((r for r in rows if r.document_id == doc.id), None)
    earlier = next((r for r in rows if r.successor_id == doc.id), None)
    predecessor = _link(session.get(IssuedDocument, earlier.document_id)) if earlier else None
    if record is None:  # not closed (the statement above would have found it)
        proposal = _latest_proposal(session, doc.id)
        return StatusView(
            status=VALID, predecessor=predecessor, proposal=proposal,
            proposer=_name(session, proposal.proposed_by) if proposal else "",
        )  # fmt: skip
    proposal = session.get(RevocationProposal, record.proposal_id) if record.proposal_id else None
    return StatusView(
        status=record.status, effective_on=record.effective_on, reason=record.reason,
        successor=_link(session.get(IssuedDocument, record.successor_id)
                        if record.successor_id else None),
        predecessor=predecessor,
        proposer=_name(session, proposal.proposed_by) if proposal else "",
        decided_by=_name(session, record.decided_by),
    )  # fmt: skip


def pending_proposal(session: Session, doc_id: int) -> RevocationProposal | None:
    """The revocation proposal still waiting for its second decision, if any."""
    if session.scalar(select(DocumentStatus.id).where(DocumentStatus.document_id == doc_id)):
        return None
    return _latest_proposal(session, doc_id)


def _latest_proposal(session: Session, doc_id: int) -> RevocationProposal | None:
    return session.scalars(
        select(RevocationProposal)
        .where(RevocationProposal.document_id == doc_id)
        .order_by(RevocationProposal.id.desc())
    ).first()


def _closed_message(session: Session, doc: IssuedDocument) -> str | None:
    record = session.scalars(
        select(DocumentStatus).where(DocumentStatus.document_id == doc.id)
    ).first()
    if record is None:
        return None
    return f"文书 {doc.number} {label(record.status)}"


def refuse_if_closed(session: Session, doc: IssuedDocument) -> None:
    """A superseded or revoked document is neither corrected nor revoked again."""
    message = _closed_message(session, doc)
    if message:
        raise WorkflowError(f"{message}，不能再更正或撤销")


def _queue_index(session: Session, doc_id: int) -> None:
    """The search index carries the status: re-index the document after the commit."""
    session.add(OutboxEvent(kind="index", payload={"document_id": doc_id}))


# ---- supersede (替代): recorded when the correction is issued ------------------------------


def correction_target(session: Session, draft_id: int) -> IssuedDocument | None:
    """The document a draft corrects (and will supersede when issued), if any."""
    link = session.scalars(
        select(DraftCorrection).where(DraftCorrection.draft_id == draft_id)
    ).first()
    return session.get(IssuedDocument, link.document_id) if link else None


def refuse_if_target_closed(session: Session, draft: Draft) -> None:
    """Before a correction is numbered: the document it corrects must still be in force."""
    target = correction_target(session, draft.id)
    if target is not None:
        message = _closed_message(session, target)
        if message:
            raise WorkflowError(f"本稿是对 {target.number} 的更正，但{message}，不能发文")


def supersede_on_issue(
    session: Session, p: Principal, draft: Draft, doc: IssuedDocument, remote_addr: str = ""
) -> DocumentStatus | None:
    """In the issuing transaction of a correction: the corrected document becomes 已被替代,
    linked to `doc`. Nothing for an ordinary draft."""
    target = correction_target(session, draft.id)
    if target is None:
        return None
    refuse_if_target_closed(session, draft)
    record = DocumentStatus(
        document_id=target.id, status=SUPERSEDED, successor_id=doc.id,
        reason=f"已由 {doc.number} 更正替代", decided_by=p.user.id, effective_on=doc.issue_date,
    )  # fmt: skip
    session.add(record)
    session.flush()
    _queue_index(session, target.id)
    audit.record(session, SUPERSEDE_ACTION, actor=p.user, object_type="document",
                 object_id=target.id, detail={"number": target.number, "status_id": record.id,
                 "successor": doc.id, "successor_number": doc.number,
                 "effective_on": record.effective_on.isoformat()},
                 remote_addr=remote_addr)  # fmt: skip
    return record


# ---- revoke (撤销): an office head and a signatory ------------------------------------------


def _document(session: Session, p: Principal, doc_id: int) -> IssuedDocument:
    doc = session.get(IssuedDocument, doc_id)
    if doc is None or not can(session, p, "document.read", doc):
        raise NotFound(f"文书 {doc_id} 不存在或您无权查看")
    return doc


def _reason(reason: object) -> str:
    text = reason.strip() if isinstance(reason, str) else ""
    if not text or len(text) > MAX_REASON:
        message = f"请写明撤销理由（不超过 {MAX_REASON} 字）"
        raise ValidationFailed(message, [{"field": "reason", "label": "撤销理由",
                                          "message": message}])  # fmt: skip
    return text


def revocable(session: Session, p: Principal, doc_id: int) -> IssuedDocument:
    """The document, if `p` may take part in revoking it and it is still in force."""
    doc = _document(session, p, doc_id)
    if not can(session, p, "document.revoke", doc):
        raise Forbidden("只有本单位的法律顾问室负责人或签发人可以决定撤销文书")
    refuse_if_closed(session, doc)
    return doc


def _role_of(p: Principal, unit_id: int) -> list[str]:
    return [r for r in REVOKING_ROLES if (unit_id, r) in p.grants]


def propose_revocation(
    session: Session, p: Principal, doc_id: int, reason: object, *, via: str = "",
    remote_addr: str = "",
) -> RevocationProposal:  # fmt: skip
    """The first decision: an office head or a signatory of the document's unit proposes to
    revoke it, with the reason. The other role confirms (`confirm_revocation`)."""
    doc = revocable(session, p, doc_id)
    text = _reason(reason)
    if pending_proposal(session, doc.id) is not None:
        raise WorkflowError("该文书已有撤销申请在等待确认")
    proposal = RevocationProposal(document_id=doc.id, proposed_by=p.user.id,
                                  role=_role_of(p, doc.unit_id)[0], reason=text)  # fmt: skip
    session.add(proposal)
    session.flush()
    audit.record(session, PROPOSE_ACTION, actor=p.user, object_type="document", object_id=doc.id,
                 detail={"number": doc.number, "proposal": proposal.id, "role": proposal.role,
                         "reason": text, "via": via}, remote_addr=remote_addr)  # fmt: skip
    return proposal


def confirm_revocation(
    session: Session, p: Principal, doc_id: int, *, via: str = "", remote_addr: str = ""
) -> DocumentStatus:
    """The second decision: the other role (a signatory after an office head, or the reverse),
    another person, confirms; the document is 已撤销 from today (China time)."""
    doc = revocable(session, p, doc_id)
    proposal = pending_proposal(session, doc.id)
    if proposal is None:
        raise WorkflowError("该文书没有待确认的撤销申请")
    if proposal.proposed_by == p.user.id:
        raise WorkflowError("撤销须由两人共同决定：提出撤销的人不能自己确认")
    other = "signatory" if proposal.role == "office-head" else "office-head"
    if other not in _role_of(p, doc.unit_id):
        raise Forbidden(
            f"撤销申请由{ROLE_NAMES[proposal.role]}提出，须由本单位{ROLE_NAMES[other]}确认"
        )
    record = DocumentStatus(document_id=doc.id, status=REVOKED, proposal_id=proposal.id,
                            reason=proposal.reason, decided_by=p.user.id,
                            effective_on=today_in_china())  # fmt: skip
    session.add(record)
    session.flush()
    _queue_index(session, doc.id)
    audit.record(session, REVOKE_ACTION, actor=p.user, object_type="document", object_id=doc.id,
                 detail={"number": doc.number, "status_id": record.id, "proposal": proposal.id,
                         "proposed_by": proposal.proposed_by, "reason": proposal.reason,
                         "effective_on": record.effective_on.isoformat(), "via": via},
                 remote_addr=remote_addr)  # fmt: skip
    return record
