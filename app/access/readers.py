"""知悉范围: who may read a restricted draft or document, on top of every other rule.

A restricted draft's readers are the named users, everyone who acted on a review step, the
drafter and the issuer; while it is in review, also the people who may fill its steps.
`allowed_readers` answers for one draft, `documents_visible_to` is the same rule as SQL.
"""

from __future__ import annotations

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from app.drafting.models import (
    Draft,
    DraftRestriction,
    DraftVersion,
    IssuedDocument,
    ReviewStep,
    VersionCoSignUnit,
)
from app.identity.models import RoleGrant


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
    units = {draft.unit_id}
    units |= set(
        session.scalars(
            select(VersionCoSignUnit.unit_id)
            .join(DraftVersion, DraftVersion.id == VersionCoSignUnit.version_id)
            .where(DraftVersion.draft_id == draft.id, DraftVersion.number == draft.current_version)
        )
    )
    return units
