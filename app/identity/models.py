"""Units, users, their roles, API tokens, login sessions and contact addresses."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import (
    Boolean,
    DateTime,
    ForeignKey,
    Integer,
    String,
    UniqueConstraint,
    select,
)
from sqlalchemy.orm import Mapped, Session, mapped_column, relationship

from app.db.base import PK, Base, utcnow
from app.db.memo import session_memo

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


def all_units(session: Session) -> list[Unit]:
    """Every unit, ordered by code: read once per session (a page asks from the filters, the
    registers, the search scope and its labels), and kept there, so that `x.unit` of what the
    page reads later is found without a query."""
    return session_memo(
        session, "all_units", lambda: list(session.scalars(select(Unit).order_by(Unit.code)))
    )


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


class UserContact(Base):
    """Where e-mail notifications go (optional; in-app queues work without it)."""

    __tablename__ = "user_contacts"
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), primary_key=True)
    email: Mapped[str] = mapped_column(String(254))
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow, onupdate=utcnow)
