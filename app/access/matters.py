"""The matter rules of the access policy (法律事务): which matters a user reads, and the
records a lawyer holding a matter reads through it (its documents, case file and attachments;
for a lawyer deployed from another unit, 调配, that is all they read of the unit).

Used by policy.py's visible_documents, visible_case_files, search_scope and can(); the
matter actions of can() (register, assign, deploy, handle, keep the decision list) are
`may_act_on_matter` here, and who keeps a lawyer's licence profile (执业信息) is
`may_keep_profile`.
"""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING

from sqlalchemy import ColumnElement, false, or_, select
from sqlalchemy.orm import Session

from app.casefiles.models import CaseFileItem
from app.drafting.models import IssuedDocument
from app.identity.models import RoleGrant, Unit, User
from app.matters.models import ACTIVE as MATTER_ACTIVE
from app.matters.models import Deployment, Matter, MatterDocument, MatterEvent

if TYPE_CHECKING:
    from app.access.policy import Principal

# who handles a matter: the public lawyer (or adviser) it is assigned to
MATTER_HANDLERS = ("public-lawyer", "adviser")
# the actions of can() answered by `may_act_on_matter`
MATTER_ACTIONS = frozenset(
    {"matter.create", "matter.assign", "matter.deploy", "matter.handle", "decision_list.manage"}
)


def held_matters(user_id: int, column=Matter.id):
    """`column` of the matters assigned to this user and not yet closed or returned: the
    lawyer (of the unit, or deployed from another, 调配) holds their records while working."""
    return select(column).where(
        Matter.lawyer_id == user_id, Matter.status.in_(MATTER_ACTIVE), column.is_not(None)
    )


def held_matter_documents(user_id: int):
    """Ids of the issued documents of the matters this user holds: those linked to the matter
    and those filed in its case file. Exactly what the matter needs, nothing else of its unit."""
    linked = select(MatterDocument.document_id).where(
        MatterDocument.matter_id.in_(held_matters(user_id))
    )
    filed = select(CaseFileItem.document_id).where(
        CaseFileItem.case_file_id.in_(held_matters(user_id, Matter.case_file_id)),
        CaseFileItem.document_id.is_not(None),
    )
    letter = select(IssuedDocument.id).where(
        IssuedDocument.draft_id.in_(held_matters(user_id, Matter.letter_draft_id))
    )
    return linked.union(filed, letter)


def held_attachments(user_id: int):
    """Ids of the attachments filed in the case files of the matters this user holds."""
    return select(CaseFileItem.attachment_id).where(
        CaseFileItem.case_file_id.in_(held_matters(user_id, Matter.case_file_id)),
        CaseFileItem.attachment_id.is_not(None),
    )


def matter_runners(p: Principal) -> set[int]:
    """Units whose matters this principal runs as office head (assign, close, return)."""
    return p.units_with("office-head") if p.user.active else set()


def visible_matters(p: Principal) -> ColumnElement[bool]:
    """SQL condition on Matter: the matters this principal may read.

    Readers of the unit (as for documents: clerks, signatories, office heads and inspectors
    over their subtree), the lawyer it is assigned to, whoever registered it or acted on it,
    and the office heads of the unit a deployment was asked of (and of the deployed lawyer's
    unit), over their subtree."""
    if not p.user.active:
        return false()
    return _visible_matters(
        p.user.id, tuple(sorted(p.readable_units())),
        tuple(sorted(p.subtree(p.units_with("office-head")))),
    )  # fmt: skip


@functools.lru_cache(maxsize=512)
def _visible_matters(
    user_id: int, readable: tuple[int, ...], heads: tuple[int, ...]
) -> ColumnElement[bool]:
    # A pure function of its arguments, built once for each like policy._visible_documents
    # (the home page's deadlines and the document page's matters ask on every request).
    ways: list[ColumnElement[bool]] = [
        Matter.lawyer_id == user_id,
        Matter.created_by == user_id,
        select(MatterEvent.id)
        .where(MatterEvent.matter_id == Matter.id, MatterEvent.user_id == user_id)
        .exists(),
    ]
    if readable:
        ways.append(Matter.unit_id.in_(readable))
    if heads:
        ways.append(
            select(Deployment.id)
            .where(
                Deployment.matter_id == Matter.id,
                or_(Deployment.upper_unit_id.in_(heads), Deployment.lawyer_unit_id.in_(heads)),
            )
            .exists()
        )
    return or_(*ways)


def may_act_on_matter(p: Principal, action: str, obj: object) -> bool:
    """can() for the matter actions (MATTER_ACTIONS); `p` is an active user."""
    if action == "matter.create":
        # 登记: the unit's clerks, and the office heads over their subtree
        assert isinstance(obj, Unit)
        return obj.id in p.units_with("clerk") | p.subtree(p.units_with("office-head"))
    if action == "matter.assign":
        # assign, close, return, ask the level above for a lawyer: the unit's office head
        assert isinstance(obj, Matter)
        return obj.unit_id in matter_runners(p)
    if action == "matter.deploy":
        # pick a lawyer for a deployment asked of this unit: its office head
        assert isinstance(obj, Deployment)
        return obj.upper_unit_id in matter_runners(p)
    if action == "matter.handle":
        assert isinstance(obj, Matter)
        return obj.lawyer_id == p.user.id and any(p.has(r) for r in MATTER_HANDLERS)
    if action == "decision_list.manage":
        assert isinstance(obj, Unit)
        return obj.id in matter_runners(p)
    return False


def handles_matters(session: Session, user: User) -> bool:
    """Does this user hold a role that handles matters (公职律师, 法律顾问) in some unit?"""
    found = session.scalar(
        select(RoleGrant.id)
        .where(RoleGrant.user_id == user.id, RoleGrant.role.in_(MATTER_HANDLERS))
        .limit(1)
    )
    return found is not None


def may_keep_profile(session: Session, p: Principal, user: User) -> bool:
    """can(p, "lawyer.profile", user): a public lawyer's or adviser's 执业信息 (licence, phone,
    specialties: what the commission letter and the deployment picker read) is kept by that
    person, or by an administrator; nobody keeps one for a user who handles no matters."""
    assert isinstance(user, User)
    if not user.active or not handles_matters(session, user):
        return False
    return user.id == p.user.id or p.has("admin")
