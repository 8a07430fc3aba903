"""The decision list (决策事项清单): the document types on which a unit must hear a public
lawyer's (or adviser's) opinion before sign-off, and the rule that enforces it.

The list is kept by the legal office through app/matters/decisions.py; the rule lives here, in
drafting, because sign-off is the review chain's business: the chain asks this module, and
drafting never imports app.matters (matters builds on drafting for its commission letters, so
the other direction would be a cycle). A table both can see beats a hook that a process which
never imported app.matters (a worker, a CLI command) would silently skip.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import DateTime, ForeignKey, String, UniqueConstraint, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from app.db.base import PK, Base, utcnow
from app.drafting.models import Draft, DraftVersion, ReviewStep
from app.templating.models import TemplateVersion

#: the roles whose review step satisfies the list
LAWYER_ROLES = ("public-lawyer", "adviser")
#: the chain steps that count as sign-off (签发)
SIGN_OFF_ROLES = ("signatory",)


class DecisionListEntry(Base):
    """One kind of decision (a document type) on a unit's list."""

    __tablename__ = "decision_list_entries"
    __table_args__ = (UniqueConstraint("unit_id", "template_id"),)
    id: Mapped[int] = mapped_column(PK, primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"), index=True)
    template_id: Mapped[str] = mapped_column(String(64))
    label: Mapped[str] = mapped_column(String(100), default="")
    created_by: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)


def listed(session: Session, draft: Draft) -> bool:
    """Is the draft's document type on its unit's decision list?"""
    template_id = session.scalar(
        select(TemplateVersion.template_id).where(TemplateVersion.id == draft.template_version_id)
    )
    found = session.scalar(
        select(DecisionListEntry.id).where(
            DecisionListEntry.unit_id == draft.unit_id,
            DecisionListEntry.template_id == template_id,
        )
    )
    return found is not None


def lawyer_reviewed(session: Session, draft: Draft, version: DraftVersion) -> bool:
    """Did a public lawyer or adviser approve this exact version since its latest submission?"""
    last_submit = session.scalar(
        select(ReviewStep.id)
        .where(
            ReviewStep.draft_id == draft.id,
            ReviewStep.version_id == version.id,
            ReviewStep.decision == "submit",
        )
        .order_by(ReviewStep.id.desc())
        .limit(1)
    )
    if last_submit is None:
        return False
    found = session.scalar(
        select(ReviewStep.id)
        .where(
            ReviewStep.draft_id == draft.id,
            ReviewStep.version_id == version.id,
            ReviewStep.id > last_submit,
            ReviewStep.decision == "approve",
            ReviewStep.role.in_(LAWYER_ROLES),
        )
        .limit(1)
    )
    return found is not None


def sign_off_refusal(session: Session, draft: Draft, version: DraftVersion) -> str | None:
    """Why this draft may not be signed off (or issued) now, or None."""
    if listed(session, draft) and not lawyer_reviewed(session, draft, version):
        return (
            "该文书属于本单位决策事项清单所列事项，签发前须经公职律师或法律顾问审核；"
            "本版本尚无公职律师或法律顾问的审核意见"
        )
    return None
