"""The decision list (决策事项清单) as the legal office keeps it: which document types of the
unit need a public lawyer's (or adviser's) review before sign-off. The table and the sign-off
rule are app.drafting.decision_list's (see there why); this is the audited way to change it."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from app import audit
from app.access.policy import Principal, can
from app.container import Casefile
from app.drafting.decision_list import LAWYER_ROLES, DecisionListEntry
from app.errors import Forbidden, NotFound, ValidationFailed, WorkflowError
from app.identity.models import Unit


def managed_unit(session: Session, p: Principal, unit_code: str) -> Unit:
    unit = session.scalars(select(Unit).where(Unit.code == (unit_code or ""))).first()
    if unit is None:
        raise ValidationFailed(f"单位“{unit_code}”不存在",
                               [{"field": "unit", "label": "单位", "message": "不存在"}])  # fmt: skip
    if not can(session, p, "decision_list.manage", unit):
        raise Forbidden(f"只有“{unit.name}”法律顾问室负责人可以维护决策事项清单")
    return unit


def decision_list(session: Session, unit_id: int) -> list[DecisionListEntry]:
    return list(session.scalars(select(DecisionListEntry)
                                .where(DecisionListEntry.unit_id == unit_id)
                                .order_by(DecisionListEntry.id)))  # fmt: skip


def chain_has_lawyer_step(cf: Casefile, session: Session, template_id: str) -> bool:
    row = cf.catalog.latest_row(session, template_id)
    if row is None:
        return False
    return any(step.role in LAWYER_ROLES for step in cf.catalog.load(row).schema.review_chain)


def add_entry(cf: Casefile, session: Session, p: Principal, unit_code: str, template_id: str,
              label: str = "", remote_addr: str = "") -> DecisionListEntry:  # fmt: skip
    """List a document type. A type whose review chain has no adviser step can then not be
    signed off until the template gains one: the unit decided its opinion must be heard."""
    unit = managed_unit(session, p, unit_code)
    row = cf.catalog.latest_row(session, template_id or "")
    if row is None:
        raise ValidationFailed(f"文书类型“{template_id}”不存在",
                               [{"field": "template", "label": "文书类型", "message": "不存在"}])  # fmt: skip
    label = " ".join((label or "").split())[:100] or cf.catalog.load(row).schema.title
    if session.scalars(select(DecisionListEntry).where(
            DecisionListEntry.unit_id == unit.id,
            DecisionListEntry.template_id == template_id)).first() is not None:  # fmt: skip
        raise WorkflowError("该文书类型已在本单位决策事项清单中")
    entry = DecisionListEntry(unit_id=unit.id, template_id=template_id, label=label,
                              created_by=p.user.id)  # fmt: skip
    session.add(entry)
    session.flush()
    audit.record(session, "decision_list.add", actor=p.user, object_type="unit", object_id=unit.id,
                 detail={"template": template_id, "label": label}, remote_addr=remote_addr)  # fmt: skip
    return entry


def remove_entry(session: Session, p: Principal, entry_id: int, remote_addr: str = "") -> None:
    entry = session.get(DecisionListEntry, entry_id)
    if entry is None:
        raise NotFound(f"清单事项 {entry_id} 不存在")
    unit = managed_unit(session, p, session.get(Unit, entry.unit_id).code)
    session.delete(entry)
    audit.record(session, "decision_list.remove", actor=p.user, object_type="unit",
                 object_id=unit.id, detail={"template": entry.template_id}, remote_addr=remote_addr)  # fmt: skip
