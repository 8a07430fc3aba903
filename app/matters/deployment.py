"""Deployment across units (调配): a unit without a public lawyer asks the level above (its
parent unit) for one; that unit's office head picks one of its system's public lawyers (the
public lawyers of the upper unit and every unit below it), filtered by specialty and current
load. The pick assigns the matter; the lawyer then reads that matter's records only, through
app.access.policy (held_matters), never the requesting unit's other records.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.access.policy import Principal, can
from app.db.base import utcnow
from app.errors import Forbidden, NotFound, ValidationFailed, WorkflowError
from app.identity.models import RoleGrant, Unit, User
from app.matters import service
from app.matters.models import Deployment, LawyerProfile, Matter


@dataclass(frozen=True)
class Candidate:
    """A public lawyer the upper unit may deploy: who, where, what they know, how busy."""

    user: User
    unit: Unit
    specialty: str
    load: int


def request_deployment(session: Session, p: Principal, matter_id: int, *, specialty: str = "",
                       reason: str = "", remote_addr: str = "", via: str = "") -> Deployment:  # fmt: skip
    """申请调配: the unit's office head asks the parent unit for a public lawyer."""
    matter = service._load(session, p, matter_id, *service.RIGHTS["request"])
    if matter.status != "pending":
        raise WorkflowError(f"该法律事务当前状态为“{service.STATUS_LABELS[matter.status]}”，"
                            "只有待指派的事务可以申请调配")  # fmt: skip
    if service.has_public_lawyer(session, matter.unit_id):
        raise WorkflowError("本单位已有公职律师，请直接指派")
    unit = session.get(Unit, matter.unit_id)
    if unit.parent_id is None:
        raise WorkflowError(f"“{unit.name}”没有上级单位，无法申请调配")
    open_request = session.scalars(select(Deployment).where(
        Deployment.matter_id == matter.id, Deployment.status == "requested")).first()  # fmt: skip
    if open_request is not None:
        raise WorkflowError("该事务已申请调配，等待上级单位选派")
    errors: list[dict] = []
    specialty = service._text(specialty, "specialty", "所需专长", 60, errors)
    reason = service._text(reason, "reason", "申请理由", service.MAX_TEXT, errors)
    if errors:
        raise service._refuse(errors, "调配申请有误")
    deployment = Deployment(
        matter_id=matter.id, requesting_unit_id=unit.id, upper_unit_id=unit.parent_id,
        specialty=specialty or matter.specialty, reason=reason, requested_by=p.user.id,
        status="requested",
    )  # fmt: skip
    session.add(deployment)
    session.flush()
    service._event(session, p, matter, "request", comment=reason, remote_addr=remote_addr, via=via,
                   detail={"deployment": deployment.id, "upper_unit": unit.parent_id})  # fmt: skip
    return deployment


def get_deployment(session: Session, p: Principal, deployment_id: int) -> Deployment:
    deployment = session.get(Deployment, deployment_id)
    if deployment is None:
        raise NotFound(f"调配申请 {deployment_id} 不存在")
    service.get_matter(session, p, deployment.matter_id)  # 404 unless the matter is readable
    return deployment


def pickable(session: Session, p: Principal, deployment_id: int) -> Deployment:
    """The deployment if `p` may pick its lawyer (the upper unit's office head): NotFound
    unless its matter is readable, Forbidden otherwise."""
    deployment = get_deployment(session, p, deployment_id)
    if not can(session, p, "matter.deploy", deployment):
        raise Forbidden("只有受理申请的上级单位法律顾问室负责人可以选派公职律师")
    return deployment


def pending_requests(session: Session, p: Principal) -> list[Deployment]:
    """Requests waiting for this principal to pick a lawyer (the upper unit's office head)."""
    units = p.units_with("office-head")
    if not units:
        return []
    return list(session.scalars(
        select(Deployment).where(Deployment.status == "requested",
                                 Deployment.upper_unit_id.in_(units))
        .order_by(Deployment.requested_at, Deployment.id)
    ))  # fmt: skip


def candidates(session: Session, p: Principal, deployment_id: int,
               specialty: str | None = None) -> list[Candidate]:  # fmt: skip
    """The upper unit's system's public lawyers, least loaded first; with `specialty`, only
    those whose recorded specialties mention it."""
    deployment = pickable(session, p, deployment_id)
    system = p.subtree({deployment.upper_unit_id})
    rows = session.execute(
        select(User, Unit).join(RoleGrant, RoleGrant.user_id == User.id)
        .join(Unit, Unit.id == RoleGrant.unit_id)
        .where(RoleGrant.role == "public-lawyer", RoleGrant.unit_id.in_(system), User.active)
        .order_by(Unit.code, User.name)
    ).all()  # fmt: skip
    wanted = (specialty if specialty is not None else deployment.specialty or "").strip()
    seen, out = set(), []
    for user, unit in rows:
        if user.id in seen:
            continue
        seen.add(user.id)
        profile = session.get(LawyerProfile, user.id)
        known = profile.specialty if profile else ""
        if wanted and wanted not in known:
            continue
        out.append(Candidate(user, unit, known, service.current_load(session, user.id)))
    return sorted(out, key=lambda c: (c.load, c.unit.code, c.user.name))


def deploy(session: Session, p: Principal, deployment_id: int, lawyer, comment: str = "",
           remote_addr: str = "", via: str = "") -> Deployment:  # fmt: skip
    """选派: the upper unit's head picks a public lawyer of its system; the matter is assigned
    to them (已指派) and they accept or decline as for any assignment."""
    deployment = pickable(session, p, deployment_id)
    if deployment.status != "requested":
        raise WorkflowError("该调配申请已办理")
    user = service._user(session, lawyer)
    pool = {c.user.id: c for c in candidates(session, p, deployment_id, specialty="")}
    if user.id not in pool:
        raise ValidationFailed(f"“{user.name}”不是本系统的公职律师，不能选派",
                               [service._field("lawyer", "公职律师", "应为本系统的公职律师")])  # fmt: skip
    errors: list[dict] = []
    comment = service._text(comment, "comment", "说明", service.MAX_TEXT, errors)
    if errors:
        raise service._refuse(errors)
    matter = session.get(Matter, deployment.matter_id)
    service._move(matter, "assign")
    matter.lawyer_id, matter.assigned_at = user.id, utcnow()
    deployment.status, deployment.lawyer_id = "deployed", user.id
    deployment.lawyer_unit_id = pool[user.id].unit.id
    deployment.decided_by, deployment.decided_at = p.user.id, utcnow()
    service._event(session, p, matter, "deploy", comment=comment, lawyer_id=user.id,
                   remote_addr=remote_addr, via=via,
                   detail={"deployment": deployment.id, "lawyer": user.username,
                           "lawyer_unit": deployment.lawyer_unit_id})  # fmt: skip
    return deployment


def deployments_of(session: Session, matter: Matter) -> list[Deployment]:
    return list(session.scalars(select(Deployment).where(Deployment.matter_id == matter.id)
                                .order_by(Deployment.id)))  # fmt: skip
