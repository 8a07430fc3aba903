"""The register of normative documents (规范性文件登记簿) and its unified-number sequences.

Created by migration 0006. An entry is filled in step by step (publication, filing, state), so
it is an ordinary table whose every change is audited; its unified number (统一编号) never
changes once given, and the integrity checks hold the numbers against the audit log.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Date, DateTime, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.db.base import PK, Base, utcnow
from app.identity.models import Unit


class NormativeSequence(Base):
    """One gapless 统一编号 sequence per (unit, year); last_value only ever grows by one."""

    __tablename__ = "normative_sequences"
    __table_args__ = (UniqueConstraint("unit_id", "year"),)
    id: Mapped[int] = mapped_column(PK, primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"))
    year: Mapped[int] = mapped_column(Integer)
    last_value: Mapped[int] = mapped_column(Integer, default=0)


class NormativeDocument(Base):
    """规范性文件: one entry of the register, with the dates of its procedure steps
    (公开征求意见、专家论证、合法性审查、集体讨论决定、统一登记编号、公布、备案), its validity and state."""

    __tablename__ = "normative_documents"
    __table_args__ = (UniqueConstraint("unit_id", "number_year", "number_seq"),)
    id: Mapped[int] = mapped_column(PK, primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"))
    title: Mapped[str] = mapped_column(String(200))
    number: Mapped[str] = mapped_column(String(64), unique=True)  # 统一编号
    number_year: Mapped[int] = mapped_column(Integer)
    number_seq: Mapped[int] = mapped_column(Integer)
    case_file_id: Mapped[int | None] = mapped_column(ForeignKey("case_files.id"))
    review_document_id: Mapped[int | None] = mapped_column(ForeignKey("issued_documents.id"))
    comment_from: Mapped[dt.date | None] = mapped_column(Date)  # 公开征求意见
    comment_to: Mapped[dt.date | None] = mapped_column(Date)
    expert_on: Mapped[dt.date | None] = mapped_column(Date)  # 专家论证
    review_on: Mapped[dt.date | None] = mapped_column(Date)  # 合法性审查 (the opinion's date)
    meeting: Mapped[str] = mapped_column(String(200), default="")  # 集体讨论决定: which meeting
    decided_on: Mapped[dt.date | None] = mapped_column(Date)
    registered_on: Mapped[dt.date] = mapped_column(Date)  # 统一登记编号
    published_on: Mapped[dt.date | None] = mapped_column(Date)  # 公布
    channel: Mapped[str] = mapped_column(String(200), default="")
    filed_on: Mapped[dt.date | None] = mapped_column(Date)  # 备案
    filing_number: Mapped[str] = mapped_column(String(64), default="")  # 备案号
    filing_body: Mapped[str] = mapped_column(String(200), default="")
    valid_from: Mapped[dt.date | None] = mapped_column(Date)
    valid_until: Mapped[dt.date | None] = mapped_column(Date)
    state: Mapped[str] = mapped_column(String(20), default="in_force")
    note: Mapped[str] = mapped_column(Text, default="")
    created_by: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)

    unit: Mapped[Unit] = relationship()
