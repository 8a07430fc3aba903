"""Matters (法律事务) as JSON: the API and `casefile matter ... --json`."""

from __future__ import annotations

import datetime as dt

from sqlalchemy.orm import Session

from app.drafting.models import IssuedDocument
from app.identity.models import User
from app.matters.models import (
    DEPLOYMENT_LABELS,
    EVENT_LABELS,
    KINDS,
    STATUS_LABELS,
    Deployment,
    Matter,
    MatterEvent,
)


def _iso(value: dt.date | dt.datetime | None) -> str | None:
    if value is None:
        return None
    if isinstance(value, dt.datetime):
        return value.isoformat(timespec="seconds") + "Z"
    return value.isoformat()


def _username(session: Session, user_id: int | None) -> str | None:
    return session.get(User, user_id).username if user_id else None


def matter_summary(session: Session, m: Matter) -> dict:
    return {
        "id": m.id, "unit": m.unit.code, "unit_name": m.unit.name, "kind": m.kind,
        "kind_label": KINDS[m.kind], "title": m.title, "parties": m.parties,
        "party_role": m.party_role, "case_number": m.case_number, "body": m.body,
        "specialty": m.specialty, "served_on": _iso(m.served_on), "deadline": _iso(m.deadline),
        "deadline_label": m.deadline_label, "status": m.status,
        "status_label": STATUS_LABELS[m.status], "lawyer": _username(session, m.lawyer_id),
        "lawyer_name": m.lawyer.name if m.lawyer else None, "case_file_id": m.case_file_id,
        "letter_draft_id": m.letter_draft_id, "note": m.note, "return_reason": m.return_reason,
        "created_by": _username(session, m.created_by), "created_at": _iso(m.created_at),
        "closed_at": _iso(m.closed_at),
    }  # fmt: skip


def event_payload(session: Session, e: MatterEvent) -> dict:
    return {
        "id": e.id, "kind": e.kind, "kind_label": EVENT_LABELS[e.kind],
        "user": _username(session, e.user_id), "lawyer": _username(session, e.lawyer_id),
        "comment": e.comment, "justified": e.justified, "ruling_of": e.ruling_of,
        "file_name": e.file_name or None, "file_sha256": e.file_sha256, "at": _iso(e.created_at),
    }  # fmt: skip


def deployment_payload(session: Session, d: Deployment) -> dict:
    return {
        "id": d.id, "matter_id": d.matter_id, "status": d.status,
        "status_label": DEPLOYMENT_LABELS[d.status], "specialty": d.specialty, "reason": d.reason,
        "lawyer": _username(session, d.lawyer_id), "requested_at": _iso(d.requested_at),
        "decided_at": _iso(d.decided_at),
    }  # fmt: skip


def matter_payload(session: Session, m: Matter, events: list[MatterEvent],
                   documents: list[IssuedDocument], deployments: list[Deployment]) -> dict:  # fmt: skip
    return matter_summary(session, m) | {
        "events": [event_payload(session, e) for e in events],
        "documents": [{"id": d.id, "number": d.number, "title": d.title} for d in documents],
        "deployments": [deployment_payload(session, d) for d in deployments],
    }
