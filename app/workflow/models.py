"""Records of the review chain beyond app.db.models: written opinions, co-signing units,
processing slips and reviewers' e-mail addresses. Migration 0003 creates them; all but
UserContact are write-once (database triggers reject UPDATE and DELETE)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import BigInteger, DateTime, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.db.models import PK, Base, utcnow


class ReviewOpinion(Base):
    """书面意见 attached to one review step: an uploaded file and/or the earlier step of the same
    author that this step supersedes. The step's comment is the opinion's text."""

    __tablename__ = "review_opinions"
    id: Mapped[int] = mapped_column(PK, primary_key=True)
    step_id: Mapped[int] = mapped_column(ForeignKey("review_steps.id"), unique=True)
    supersedes_step_id: Mapped[int | None] = mapped_column(ForeignKey("review_steps.id"))
    file_sha256: Mapped[str | None] = mapped_column(ForeignKey("blobs.sha256"))
    file_name: Mapped[str] = mapped_column(String(200), default="")
    media_type: Mapped[str] = mapped_column(String(100), default="")
    size: Mapped[int | None] = mapped_column(BigInteger)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)


class VersionCoSignUnit(Base):
    """会签单位 listed on one draft version: a `co-sign` chain step needs each of them."""

    __tablename__ = "version_co_sign_units"
    __table_args__ = (UniqueConstraint("version_id", "unit_id"),)
    id: Mapped[int] = mapped_column(PK, primary_key=True)
    version_id: Mapped[int] = mapped_column(ForeignKey("draft_versions.id"), index=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"))


class ProcessingSlip(Base):
    """发文稿纸: generated in the issuing transaction and archived with the document."""

    __tablename__ = "processing_slips"
    id: Mapped[int] = mapped_column(PK, primary_key=True)
    document_id: Mapped[int] = mapped_column(ForeignKey("issued_documents.id"), unique=True)
    docx_sha256: Mapped[str] = mapped_column(ForeignKey("blobs.sha256"))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)


class UserContact(Base):
    """Where e-mail notifications go (optional; in-app queues work without it)."""

    __tablename__ = "user_contacts"
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), primary_key=True)
    email: Mapped[str] = mapped_column(String(254))
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow, onupdate=utcnow)
