"""Records of supervision: pool entries, contract filings, hand-entered work records,
annual assessments and the inspector's ranking weights.

Automatic work records (reviews, opinions, commission letters) are never stored here: they are
computed from the archive by app/supervision/records.py.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from sqlalchemy import (
    JSON,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from app.db.base import PK, Base, utcnow

ENTRY_KINDS = ("法学专家", "律师事务所", "律师")  # the contract's 乙方类型, in the same words
ENTRY_STATUS_LABELS = {"active": "在库", "suspended": "暂停", "removed": "出库"}
FILING_STATE_LABELS = {"pending": "待备案", "registered": "已备案", "returned": "已退回"}
ASSESSMENT_STATE_LABELS = {"draft": "待确认", "signed": "已确认"}
GRADES = ("优秀", "称职", "基本称职", "不称职")


class PoolEntry(Base):
    """法律顾问人才库 entry: a legal scholar, a law firm or a lawyer, kept by the justice bureau
    of the government whose unit is `keeper_unit_id` (every unit below chooses from it)."""

    __tablename__ = "pool_entries"
    id: Mapped[int] = mapped_column(PK, primary_key=True)
    keeper_unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    kind: Mapped[str] = mapped_column(String(10))
    firm: Mapped[str] = mapped_column(String(100), default="")  # 执业机构或者工作单位
    licence: Mapped[str] = mapped_column(String(17), default="")  # 律师执业证号, 17 digits
    specialties: Mapped[list] = mapped_column(JSON, default=list)
    contact: Mapped[str] = mapped_column(String(100), default="")
    admitted_on: Mapped[dt.date] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(10), default="active")
    status_reason: Mapped[str] = mapped_column(Text, default="")
    proposed_by: Mapped[str] = mapped_column(String(100), default="")  # 推荐人或者推荐单位
    criteria: Mapped[str] = mapped_column(Text, default="")  # 遴选条件
    decision: Mapped[str] = mapped_column(Text, default="")  # 遴选决定
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))  # their casefile account
    created_by: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow, onupdate=utcnow)


class ContractFiling(Base):
    """合同备案: the justice bureau's decision on one issued engagement contract. A contract
    without a row (or with state pending) waits in the bureau's queue."""

    __tablename__ = "contract_filings"
    id: Mapped[int] = mapped_column(PK, primary_key=True)
    document_id: Mapped[int] = mapped_column(ForeignKey("issued_documents.id"), unique=True)
    state: Mapped[str] = mapped_column(String(12), default="pending")
    filing_number: Mapped[str | None] = mapped_column(String(50), unique=True)
    reason: Mapped[str] = mapped_column(Text, default="")
    filed_on: Mapped[dt.date | None] = mapped_column(Date)
    decided_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow, onupdate=utcnow)


class WorkRecord(Base):
    """服务记录 entered by hand: a service casefile cannot see (a meeting, a consultation ...).
    The subject is a pool entry (an external adviser) or a user (a public lawyer)."""

    __tablename__ = "work_records"
    # counted per unit and quarter from the index alone (counts.py): migration 0009
    __table_args__ = (Index("ix_work_records_unit_period", "unit_id", "served_on"),)
    id: Mapped[int] = mapped_column(PK, primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"), index=True)
    entry_id: Mapped[int | None] = mapped_column(ForeignKey("pool_entries.id"), index=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    kind: Mapped[str] = mapped_column(String(20))
    served_on: Mapped[dt.date] = mapped_column(Date, index=True)
    matter: Mapped[str] = mapped_column(String(200))
    hours: Mapped[Decimal] = mapped_column(Numeric(6, 1))
    created_by: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)


class Assessment(Base):
    """年度考核 of one adviser (pool entry) or public lawyer (user) by the engaging unit: filled
    in by its office head, confirmed by its signatory, then write-once (a trigger)."""

    __tablename__ = "assessments"
    __table_args__ = (UniqueConstraint("unit_id", "year", "subject_key"),)
    id: Mapped[int] = mapped_column(PK, primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"), index=True)
    year: Mapped[int] = mapped_column(Integer)
    subject_key: Mapped[str] = mapped_column(String(40))  # entry:<id> | user:<id>
    subject_name: Mapped[str] = mapped_column(String(100))
    entry_id: Mapped[int | None] = mapped_column(ForeignKey("pool_entries.id"))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    ability: Mapped[int] = mapped_column(Integer)  # 履职能力, 0–100
    quality: Mapped[int] = mapped_column(Integer)  # 服务质量
    efficiency: Mapped[int] = mapped_column(Integer)  # 工作效率
    grade: Mapped[str] = mapped_column(String(10))
    comment: Mapped[str] = mapped_column(Text, default="")
    records: Mapped[dict] = mapped_column(JSON, default=dict)  # the year's counts when assessed
    state: Mapped[str] = mapped_column(String(10), default="draft")
    created_by: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    signed_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    signed_at: Mapped[dt.datetime | None] = mapped_column(DateTime)


class RankingWeight(Base):
    """The weight an inspector gives one indicator of the quarterly ranking, per inspected unit."""

    __tablename__ = "ranking_weights"
    __table_args__ = (UniqueConstraint("unit_id", "indicator"),)
    id: Mapped[int] = mapped_column(PK, primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"))
    indicator: Mapped[str] = mapped_column(String(30))
    weight: Mapped[int] = mapped_column(Integer)
    updated_by: Mapped[int] = mapped_column(ForeignKey("users.id"))
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow, onupdate=utcnow)
