"""Records: SQLAlchemy 2.0 models. The Alembic migration in app/db/migrations creates them.

All timestamps are naive UTC. Issued documents, review steps, draft versions and the audit log
are write-once; database triggers (see the migration) reject UPDATE and DELETE on them.
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
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


class Base(DeclarativeBase):
    pass


# SQLite only autoincrements INTEGER primary keys; PostgreSQL gets BIGINT.
PK = BigInteger().with_variant(Integer(), "sqlite")

ROLES = (
    "clerk",
    "adviser",
    "public-lawyer",
    "office-head",
    "signatory",
    "inspector",
    "admin",
)

ROLE_LABELS = {
    "clerk": "经办人",
    "adviser": "法律顾问",
    "public-lawyer": "公职律师",
    "office-head": "法律顾问室负责人",
    "signatory": "签发人",
    "inspector": "督查人员",
    "admin": "管理员",
}


class Unit(Base):
    """单位: a government, one of its departments, or a town. Nested through parent_id."""

    __tablename__ = "units"
    id: Mapped[int] = mapped_column(PK, primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("units.id"))
    doc_code: Mapped[str | None] = mapped_column(String(20))  # 机关代字, e.g. 武政法
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)

    parent: Mapped[Unit | None] = relationship(remote_side=[id])


class User(Base):
    __tablename__ = "users"
    id: Mapped[int] = mapped_column(PK, primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(50))
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"))
    password_hash: Mapped[str] = mapped_column(String(255))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    must_change_password: Mapped[bool] = mapped_column(Boolean, default=True)
    failed_logins: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[dt.datetime | None] = mapped_column(DateTime)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)

    unit: Mapped[Unit] = relationship()
    grants: Mapped[list[RoleGrant]] = relationship(back_populates="user", lazy="selectin")


class RoleGrant(Base):
    """A role a user holds in a unit."""

    __tablename__ = "role_grants"
    __table_args__ = (UniqueConstraint("user_id", "unit_id", "role"),)
    id: Mapped[int] = mapped_column(PK, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"))
    role: Mapped[str] = mapped_column(String(20))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)

    user: Mapped[User] = relationship(back_populates="grants")


class ApiToken(Base):
    """Per-user API token; only its sha256 is stored."""

    __tablename__ = "api_tokens"
    id: Mapped[int] = mapped_column(PK, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    label: Mapped[str] = mapped_column(String(100), default="")
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    revoked_at: Mapped[dt.datetime | None] = mapped_column(DateTime)


class Blob(Base):
    """A file in the write-once blob store, recorded by content hash before the commit."""

    __tablename__ = "blobs"
    sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    size: Mapped[int] = mapped_column(BigInteger)
    media_type: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)


class TemplateVersion(Base):
    """One version of a document template: its DOCX and schema, both kept as blobs."""

    __tablename__ = "template_versions"
    __table_args__ = (UniqueConstraint("template_id", "version"),)
    id: Mapped[int] = mapped_column(PK, primary_key=True)
    template_id: Mapped[str] = mapped_column(String(64))
    version: Mapped[int] = mapped_column(Integer)
    title: Mapped[str] = mapped_column(String(100))
    docx_sha256: Mapped[str] = mapped_column(ForeignKey("blobs.sha256"))
    schema_sha256: Mapped[str] = mapped_column(ForeignKey("blobs.sha256"))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))


class Draft(Base):
    """草稿: a document on its way to issuance, with its versions and review steps."""

    __tablename__ = "drafts"
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
    __table_args__ = (UniqueConstraint("unit_id", "number_code", "number_year", "number_seq"),)
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


class OutboxEvent(Base):
    """Derived work (index, PDF rendition) written in the same transaction as its cause."""

    __tablename__ = "outbox"
    __table_args__ = (Index("ix_outbox_pending", "kind", "processed_at"),)
    id: Mapped[int] = mapped_column(PK, primary_key=True)
    kind: Mapped[str] = mapped_column(String(40))
    payload: Mapped[dict] = mapped_column(JSON)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    processed_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    available_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)


class Rendition(Base):
    """The PDF/A rendition of an issued document (derived, but archived write-once)."""

    __tablename__ = "renditions"
    id: Mapped[int] = mapped_column(PK, primary_key=True)
    document_id: Mapped[int] = mapped_column(ForeignKey("issued_documents.id"), unique=True)
    pdf_sha256: Mapped[str] = mapped_column(ForeignKey("blobs.sha256"))
    docx_sha256: Mapped[str] = mapped_column(String(64))
    pages: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)


class AuditEntry(Base):
    """Append-only, hash-chained audit log: entry_hash covers the fields and prev_hash."""

    __tablename__ = "audit_log"
    id: Mapped[int] = mapped_column(PK, primary_key=True)
    seq: Mapped[int] = mapped_column(BigInteger, unique=True)
    at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    actor: Mapped[str] = mapped_column(String(64), default="")
    action: Mapped[str] = mapped_column(String(40))
    object_type: Mapped[str] = mapped_column(String(40), default="")
    object_id: Mapped[str] = mapped_column(String(64), default="")
    detail: Mapped[dict] = mapped_column(JSON, default=dict)
    remote_addr: Mapped[str] = mapped_column(String(64), default="")
    prev_hash: Mapped[str] = mapped_column(String(64))
    entry_hash: Mapped[str] = mapped_column(String(64))


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


class UserSession(Base):
    """A login. The cookie carries a random id whose sha256 is stored here, so logging out (or
    changing the password) really ends the session instead of trusting a signed cookie forever."""

    __tablename__ = "user_sessions"
    id: Mapped[int] = mapped_column(PK, primary_key=True)
    sid_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    expires_at: Mapped[dt.datetime] = mapped_column(DateTime)
    revoked_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    remote_addr: Mapped[str] = mapped_column(String(64), default="")
