"""Drafts, their versions, the review chain, numbering and issued documents.

Issued documents, review steps, draft versions, opinions, co-sign units, slips and
restrictions are write-once: database triggers (see the migrations) reject UPDATE and DELETE.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.db.base import PK, Base, utcnow
from app.identity.models import Unit, User
from app.templating.models import TemplateVersion


class Draft(Base):
    """草稿: a document on its way to issuance, with its versions and review steps."""

    __tablename__ = "drafts"
    # a type's drafts in progress (the half-yearly reports): migration 0009
    __table_args__ = (Index("ix_drafts_template_version_id", "template_version_id", "status",
                            "unit_id"),)  # fmt: skip
    id: Mapped[int] = mapped_column(PK, primary_key=True)
    template_version_id: Mapped[int] = mapped_column(ForeignKey("template_versions.id"))
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"))
    created_by: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    title: Mapped[str] = mapped_column(String(200))
    # draft | in_review | returned | approved | issued
    status: Mapped[str] = mapped_column(String(20), default="draft")
    current_version: Mapped[int] = mapped_column(Integer, default=1)

    template_version: Mapped[TemplateVersion] = relationship()
    unit: Mapped[Unit] = relationship()
    creator: Mapped[User] = relationship()


class DraftVersion(Base):
    """One rendered version of a draft; never changed once written."""

    __tablename__ = "draft_versions"
    __table_args__ = (UniqueConstraint("draft_id", "number"),)
    id: Mapped[int] = mapped_column(PK, primary_key=True)
    draft_id: Mapped[int] = mapped_column(ForeignKey("drafts.id"))
    number: Mapped[int] = mapped_column(Integer)
    data: Mapped[dict] = mapped_column(JSON)
    docx_sha256: Mapped[str] = mapped_column(ForeignKey("blobs.sha256"))
    created_by: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)


class ReviewStep(Base):
    """One act in the review chain: who, in which role, when, what decision, on which text."""

    __tablename__ = "review_steps"
    # the services counted per period (app/supervision/counts.py): migration 0009
    __table_args__ = (
        Index("ix_review_steps_created_at", "created_at", "role", "decision", "unit_id"),
        Index("ix_review_steps_draft_decision", "draft_id", "role", "decision", "user_id"),
    )
    id: Mapped[int] = mapped_column(PK, primary_key=True)
    draft_id: Mapped[int] = mapped_column(ForeignKey("drafts.id"), index=True)
    version_id: Mapped[int] = mapped_column(ForeignKey("draft_versions.id"))
    version_sha256: Mapped[str] = mapped_column(String(64))
    step_index: Mapped[int | None] = mapped_column(Integer)  # position in the chain; None: submit
    step_name: Mapped[str] = mapped_column(String(40))
    role: Mapped[str] = mapped_column(String(20))
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    decision: Mapped[str] = mapped_column(String(20))  # submit | approve | return | issue
    comment: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)

    user: Mapped[User] = relationship()


class NumberSequence(Base):
    """One 发文字号 sequence per (unit, code, year); last_value only ever grows by one."""

    __tablename__ = "number_sequences"
    __table_args__ = (UniqueConstraint("unit_id", "code", "year"),)
    id: Mapped[int] = mapped_column(PK, primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"))
    code: Mapped[str] = mapped_column(String(32))
    year: Mapped[int] = mapped_column(Integer)
    last_value: Mapped[int] = mapped_column(Integer, default=0)


class IssuedDocument(Base):
    """An issued document. Write-once: triggers reject UPDATE and DELETE."""

    __tablename__ = "issued_documents"
    __table_args__ = (
        UniqueConstraint("unit_id", "number_code", "number_year", "number_seq"),
        # a type's documents in a period (registers, counts per quarter): migration 0009
        Index(
            "ix_issued_documents_type_period",
            "template_version_id",
            "issue_date",
            "unit_id",
            "draft_id",
            "approved_version_id",
        ),  # fmt: skip
    )
    id: Mapped[int] = mapped_column(PK, primary_key=True)
    draft_id: Mapped[int] = mapped_column(ForeignKey("drafts.id"), unique=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"))
    template_version_id: Mapped[int] = mapped_column(ForeignKey("template_versions.id"))
    title: Mapped[str] = mapped_column(String(200))
    number: Mapped[str] = mapped_column(String(64), unique=True)
    number_code: Mapped[str] = mapped_column(String(32))
    number_year: Mapped[int] = mapped_column(Integer)
    number_seq: Mapped[int] = mapped_column(Integer)
    issue_date: Mapped[dt.date] = mapped_column(Date)
    issued_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    issued_by: Mapped[int] = mapped_column(ForeignKey("users.id"))
    approved_version_id: Mapped[int] = mapped_column(ForeignKey("draft_versions.id"))
    approved_sha256: Mapped[str] = mapped_column(String(64))
    docx_sha256: Mapped[str] = mapped_column(ForeignKey("blobs.sha256"))

    unit: Mapped[Unit] = relationship()
    template_version: Mapped[TemplateVersion] = relationship()
    draft: Mapped[Draft] = relationship()
    # 已被替代 / 已撤销, recorded beside the document (never in it); None while in force
    status_record: Mapped[DocumentStatus | None] = relationship(
        "DocumentStatus", foreign_keys="DocumentStatus.document_id", viewonly=True, uselist=False
    )


class IssuedDocumentFacts(Base):
    """What an issued document says about the work behind it, fixed when it is issued
    (app/drafting/facts.py): how many advisers or public lawyers approved it in its chain, and
    whether it names a lawyer (a commission letter's 受委托律师). The supervision counts sum
    these per unit and quarter (app/supervision/counts.py) instead of joining every document
    to its review steps and reading its data. Derived, so not write-once: `facts.rebuild`
    recomputes them from the records (migration 0011, bulk loads)."""

    __tablename__ = "issued_document_facts"
    __table_args__ = (
        # a type's documents in a period, with what is summed: read from the index alone
        Index("ix_issued_document_facts_period", "template_version_id", "issue_date",
              "unit_id", "advisers", "lawyer_named"),
    )  # fmt: skip
    document_id: Mapped[int] = mapped_column(ForeignKey("issued_documents.id"), primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"))
    template_version_id: Mapped[int] = mapped_column(ForeignKey("template_versions.id"))
    issue_date: Mapped[dt.date] = mapped_column(Date)
    advisers: Mapped[int] = mapped_column(Integer)  # distinct advisers who approved it
    lawyer_named: Mapped[bool] = mapped_column(Boolean)  # a non-blank lawyer_name in its data


class DraftRestriction(Base):
    """知悉范围: a draft (and the document issued from it) readable only by named users, on top of
    the unit rule. Set before issuance; write-once, so a restriction is never quietly lifted."""

    __tablename__ = "draft_restrictions"
    __table_args__ = (UniqueConstraint("draft_id", "user_id"),)
    id: Mapped[int] = mapped_column(PK, primary_key=True)
    draft_id: Mapped[int] = mapped_column(ForeignKey("drafts.id"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_by: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)


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


class DraftCorrection(Base):
    """A draft that corrects an issued document: when it is issued it supersedes that document
    (替代). Set when the draft is created; write-once."""

    __tablename__ = "draft_corrections"
    id: Mapped[int] = mapped_column(PK, primary_key=True)
    draft_id: Mapped[int] = mapped_column(ForeignKey("drafts.id"), unique=True)
    document_id: Mapped[int] = mapped_column(ForeignKey("issued_documents.id"), index=True)
    created_by: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)


class RevocationProposal(Base):
    """撤销申请: the first of the two decisions a revocation needs (an office head's or a
    signatory's, with the reason); write-once."""

    __tablename__ = "revocation_proposals"
    id: Mapped[int] = mapped_column(PK, primary_key=True)
    document_id: Mapped[int] = mapped_column(ForeignKey("issued_documents.id"), index=True)
    proposed_by: Mapped[int] = mapped_column(ForeignKey("users.id"))
    role: Mapped[str] = mapped_column(String(20))
    reason: Mapped[str] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)


class DocumentStatus(Base):
    """The status of an issued document beside it, never in it: 已被替代 (superseded, with its
    successor) or 已撤销 (revoked, with the proposal and the confirming decision). At most one
    per document; write-once. A document without one is 有效."""

    __tablename__ = "document_statuses"
    id: Mapped[int] = mapped_column(PK, primary_key=True)
    document_id: Mapped[int] = mapped_column(ForeignKey("issued_documents.id"), unique=True)
    status: Mapped[str] = mapped_column(String(20))  # superseded | revoked
    successor_id: Mapped[int | None] = mapped_column(ForeignKey("issued_documents.id"), unique=True)
    proposal_id: Mapped[int | None] = mapped_column(ForeignKey("revocation_proposals.id"))
    reason: Mapped[str] = mapped_column(Text, default="")
    decided_by: Mapped[int] = mapped_column(ForeignKey("users.id"))
    effective_on: Mapped[dt.date] = mapped_column(Date)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
