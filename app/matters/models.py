"""Matters (法律事务), their events, linked documents, deployments (调配) and lawyer profiles.

Created by migration 0007. Events are write-once (triggers): a matter's history is never
rewritten; the matter row itself carries only its current state.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Boolean, Date, DateTime, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.db.base import PK, Base, utcnow
from app.identity.models import Unit, User

#: 事务类别
KINDS = {
    "reconsideration": "行政复议",
    "admin-litigation": "行政诉讼",
    "civil-litigation": "民事诉讼",
    "arbitration": "仲裁",
    "mediation": "调解",
    "contract-review": "合同审查",
    "decision-review": "重大决策论证",
    "petition": "信访",
    "other": "其他",
}
#: kinds in which a lawyer represents the unit before a court or body (委托公函)
REPRESENTED = {"reconsideration", "admin-litigation", "civil-litigation", "arbitration"}

STATUS_LABELS = {
    "pending": "待指派",
    "assigned": "已指派",
    "handling": "承办中",
    "reported": "已反馈",
    "closed": "办结",
    "returned": "退回",
}
#: the matter's lawyer holds it (and its records) in these states
ACTIVE = ("assigned", "handling", "reported")
PARTY_ROLES = ("原告", "被告", "第三人", "申请人", "被申请人", "上诉人", "被上诉人", "其他")

EVENT_LABELS = {
    "create": "登记",
    "assign": "指派",
    "accept": "接受指派",
    "decline": "拒绝指派",
    "note": "承办记录",
    "feedback": "办理反馈",
    "close": "办结",
    "return": "退回",
    "request": "申请调配",
    "deploy": "调配",
    "rule": "认定拒绝理由",
    "link": "关联文书",
    "letter": "起草委托公函",
}

DEPLOYMENT_LABELS = {"requested": "待调配", "deployed": "已调配", "withdrawn": "已撤回"}


class Matter(Base):
    """法律事务: one matter a unit's legal office runs through a public lawyer."""

    __tablename__ = "matters"
    id: Mapped[int] = mapped_column(PK, primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"), index=True)
    kind: Mapped[str] = mapped_column(String(30))
    title: Mapped[str] = mapped_column(String(200))
    parties: Mapped[str] = mapped_column(Text, default="")  # 当事人
    party_role: Mapped[str] = mapped_column(String(10), default="")  # 本单位地位
    case_number: Mapped[str] = mapped_column(String(60), default="")  # 案号
    body: Mapped[str] = mapped_column(String(100), default="")  # 受理法院或机构
    specialty: Mapped[str] = mapped_column(String(60), default="")  # 所需专长
    served_on: Mapped[dt.date | None] = mapped_column(Date)  # 送达日期
    deadline: Mapped[dt.date | None] = mapped_column(Date)
    deadline_label: Mapped[str] = mapped_column(String(30), default="")  # 如：答辩期
    status: Mapped[str] = mapped_column(String(12), default="pending", index=True)
    lawyer_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    case_file_id: Mapped[int | None] = mapped_column(ForeignKey("case_files.id"))
    letter_draft_id: Mapped[int | None] = mapped_column(ForeignKey("drafts.id"))
    note: Mapped[str] = mapped_column(Text, default="")
    return_reason: Mapped[str] = mapped_column(Text, default="")
    created_by: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    assigned_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    accepted_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    reported_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    closed_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)

    unit: Mapped[Unit] = relationship()
    lawyer: Mapped[User | None] = relationship(foreign_keys=[lawyer_id])
    creator: Mapped[User] = relationship(foreign_keys=[created_by])


class MatterEvent(Base):
    """One act on a matter: who, what, when, the comment and an optional file (write-once)."""

    __tablename__ = "matter_events"
    id: Mapped[int] = mapped_column(PK, primary_key=True)
    matter_id: Mapped[int] = mapped_column(ForeignKey("matters.id"), index=True)
    kind: Mapped[str] = mapped_column(String(12))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"))  # the actor's acting unit
    lawyer_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))  # assign / decline
    comment: Mapped[str] = mapped_column(Text, default="")
    # decline: whether the cause was ruled justified (set by a later `rule` event's copy)
    justified: Mapped[bool | None] = mapped_column(Boolean)
    ruling_of: Mapped[int | None] = mapped_column(ForeignKey("matter_events.id"))
    file_sha256: Mapped[str | None] = mapped_column(ForeignKey("blobs.sha256"))
    file_name: Mapped[str] = mapped_column(String(255), default="")
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)

    user: Mapped[User] = relationship(foreign_keys=[user_id])


class MatterDocument(Base):
    """An issued document that belongs to a matter (its lawyer reads it while holding it)."""

    __tablename__ = "matter_documents"
    __table_args__ = (UniqueConstraint("matter_id", "document_id"),)
    id: Mapped[int] = mapped_column(PK, primary_key=True)
    matter_id: Mapped[int] = mapped_column(ForeignKey("matters.id"), index=True)
    document_id: Mapped[int] = mapped_column(ForeignKey("issued_documents.id"), index=True)
    added_by: Mapped[int] = mapped_column(ForeignKey("users.id"))
    added_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)


class Deployment(Base):
    """调配: a unit without a public lawyer asks the level above for one for this matter."""

    __tablename__ = "deployments"
    id: Mapped[int] = mapped_column(PK, primary_key=True)
    matter_id: Mapped[int] = mapped_column(ForeignKey("matters.id"), index=True)
    requesting_unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"), index=True)
    upper_unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"), index=True)
    lawyer_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    lawyer_unit_id: Mapped[int | None] = mapped_column(ForeignKey("units.id"))
    status: Mapped[str] = mapped_column(String(12), default="requested")
    specialty: Mapped[str] = mapped_column(String(60), default="")
    reason: Mapped[str] = mapped_column(Text, default="")
    requested_by: Mapped[int] = mapped_column(ForeignKey("users.id"))
    requested_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    decided_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    decided_at: Mapped[dt.datetime | None] = mapped_column(DateTime)

    lawyer: Mapped[User | None] = relationship(foreign_keys=[lawyer_id])


class LawyerProfile(Base):
    """What a public lawyer's commission letter and the deployment picker need."""

    __tablename__ = "lawyer_profiles"
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), primary_key=True)
    licence: Mapped[str] = mapped_column(String(17), default="")  # 公职律师证号
    phone: Mapped[str] = mapped_column(String(20), default="")
    specialty: Mapped[str] = mapped_column(String(120), default="")  # 、-separated
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
