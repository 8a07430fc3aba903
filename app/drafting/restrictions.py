"""知悉范围: restricting a draft, and the document issued from it, to named users.

The restriction applies on top of the unit rule: a reader must pass the unit rule AND be named
(or have acted on the document: its drafter, reviewers and issuer). It is set before issuance
and can only grow; rows are write-once.
"""

from __future__ import annotations

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from app import audit
from app.drafting.models import Draft, DraftRestriction, DraftVersion, IssuedDocument, ReviewStep
from app.errors import Forbidden, NotFound, WorkflowError
from app.identity.models import RoleGrant, User


def allowed_readers(session: Session, draft_id: int) -> frozenset[int] | None:
    """None when the draft is not restricted; otherwise every user id that may read it."""
    named = set(
        session.scalars(
            select(DraftRestriction.user_id).where(DraftRestriction.draft_id == draft_id)
        )
    )
    if not named:
        return None
    draft = session.get(Draft, draft_id)
    actors = set(session.scalars(select(ReviewStep.user_id).where(ReviewStep.draft_id == draft_id)))
    issuer = session.scalar(
        select(IssuedDocument.issued_by).where(IssuedDocument.draft_id == draft_id)
    )
    reviewers: set[int] = set()
    if draft.status in {"in_review", "approved"}:
        # while it is being reviewed, the people who may fill its steps must see it; once it is
        # issued, only the named readers and those who actually acted on it keep access
        reviewers = set(
            session.scalars(
                select(RoleGrant.user_id).where(
                    RoleGrant.unit_id.in_(_review_units(session, draft)),
                    RoleGrant.role.in_(REVIEW_ROLES),
                )
            )
        )
    return frozenset(
        named | actors | reviewers | {draft.created_by} | ({issuer} if issuer else set())
    )


REVIEW_ROLES = ("adviser", "public-lawyer", "office-head", "signatory")


def documents_visible_to(user_id: int):
    """SQL condition on IssuedDocument: not restricted, or *user_id* is among its readers.

    The same rule as ``allowed_readers`` for an issued draft (named readers, everyone who
    acted on a review step, the drafter, the issuer), for list queries: a restricted
    document's number and title must not show in a list to someone who may not open it.
    Combine it with the unit rule (``IssuedDocument.unit_id.in_(readable units)``)."""
    doc_draft = IssuedDocument.draft_id
    restricted = select(DraftRestriction.id).where(DraftRestriction.draft_id == doc_draft)
    return or_(
        ~restricted.exists(),
        restricted.where(DraftRestriction.user_id == user_id).exists(),
        select(ReviewStep.id)
        .where(ReviewStep.draft_id == doc_draft, ReviewStep.user_id == user_id)
        .exists(),
        select(Draft.id).where(Draft.id == doc_draft, Draft.created_by == user_id).exists(),
        IssuedDocument.issued_by == user_id,
    )


def _review_units(session: Session, draft: Draft) -> set[int]:
    from app.drafting.models import VersionCoSignUnit

    units = {draft.unit_id}
    units |= set(
        session.scalars(
            select(VersionCoSignUnit.unit_id)
            .join(DraftVersion, DraftVersion.id == VersionCoSignUnit.version_id)
            .where(DraftVersion.draft_id == draft.id, DraftVersion.number == draft.current_version)
        )
    )
    return units


def restrict(
    session: Session, p, draft_id: int, usernames: list[str], remote_addr: str = ""
) -> list[str]:
    """Name the users who may read this draft. Only its drafter or an office head of its unit,
    and only before issuance."""
    draft = session.get(Draft, draft_id)
    if draft is None:
        raise NotFound(f"草稿 {draft_id} 不存在")
    if not (draft.created_by == p.user.id or p.role_in_unit("office-head", draft.unit_id)):
        raise Forbidden("只有起草人或本单位法律顾问室负责人可以限定知悉范围")
    if draft.status == "issued":
        raise WorkflowError("文书已发文，知悉范围不能再修改")
    added = []
    existing = set(
        session.scalars(
            select(DraftRestriction.user_id).where(DraftRestriction.draft_id == draft_id)
        )
    )
    for username in dict.fromkeys(u.strip().lower() for u in usernames if u.strip()):
        user = session.scalars(select(User).where(User.username == username)).first()
        if user is None or not user.active:
            raise NotFound(f"用户“{username}”不存在或已停用")
        if user.id not in existing:
            session.add(DraftRestriction(draft_id=draft_id, user_id=user.id, created_by=p.user.id))
            existing.add(user.id)
            added.append(username)
    if draft.created_by not in existing:  # the drafter always keeps access
        session.add(
            DraftRestriction(draft_id=draft_id, user_id=draft.created_by, created_by=p.user.id)
        )
    audit.record(session, "draft.restrict", actor=p.user, object_type="draft", object_id=draft_id,
                 detail={"added": added}, remote_addr=remote_addr)  # fmt: skip
    return added
