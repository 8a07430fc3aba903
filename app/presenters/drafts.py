"""Drafts and their review steps as JSON."""

from __future__ import annotations

from app.container import Casefile
from app.drafting import drafts
from app.drafting.models import Draft


def draft_payload(cf: Casefile, session, draft: Draft) -> dict:
    tpl = drafts.template_of(cf, session, draft)
    version = drafts.current_version(session, draft)
    states = drafts.chain_state(session, draft, tpl, version)
    pending = drafts.pending_step(states)
    return {
        "id": draft.id,
        "title": draft.title,
        "template": f"{tpl.template_id}@{tpl.version}",
        "unit": draft.unit.code,
        "status": draft.status,
        "status_label": drafts.STATUS_LABELS[draft.status],
        "version": version.number,
        "sha256": version.docx_sha256,
        "pending_step": pending.step.label if pending and draft.status == "in_review" else None,
        "steps": [step_payload(s) for s in drafts.steps_of(session, draft)],
        "completeness": completeness_payload(tpl, drafts.progress(tpl, version.data)),
    }


def completeness_payload(tpl, found) -> dict:
    """How complete the current version is: required fields filled of those in play, and each
    missing field (path, Chinese label, message); submission needs `missing` empty."""
    return {
        "filled": found.filled,
        "total": found.total,
        "missing": drafts.missing_fields(tpl, found),
    }


def step_payload(s) -> dict:
    """One review step: who, in which role, when, the decision and the exact text's sha256."""
    return {
        "decision": s.decision,
        "step": s.step_name,
        "role": s.role,
        "user": s.user.username,
        "name": s.user.name,
        "at": s.created_at.isoformat(timespec="seconds") + "Z",
        "comment": s.comment,
        "version_sha256": s.version_sha256,
    }
