"""Case files (案卷), their items, attachments and archival references (档号).

Created by migration 0002. Filed items, attachments, their renditions and archival references
are write-once (database triggers reject UPDATE and DELETE); a case file itself can be edited
while it is open and is refused any change once closed.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import (
    JSON,
    BigInteger,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.casefiles.roles import ROLES
from app.db.base import PK, Base, utcnow
from app.drafting.models import IssuedDocument
from app.identity.models import Unit, User

#: 案卷类别
KINDS = {
    "major-decision": "重大行政决策",
    "normative-document": "行政规范性文件",
    "contract-review": "合同审查",
    "litigation": "诉讼仲裁",
    "petition": "信访",
    "other": "其他",
}

#: 保管期限 (DA/T 22-2015): code -> label
RETENTION = {"Y": "永久", "D30": "定期30年", "D10": "定期10年"}

STATUS_LABELS = {"open": "整理中", "closed": "已归档"}


class ArchiveUnit(Base):
    """Archival settings of a unit: its 全宗号 (inherited by sub-units) and 机构代码."""

    __tablename__ = "archive_units"
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"), primary_key=True)
    fonds_code: Mapped[str | None] = mapped_column(String(16))
    org_code: Mapped[str | None] = mapped_column(String(32))


class CaseFile(Base):
    """案卷: the dossier of one matter; read-only once closed."""

    __tablename__ = "case_files"
    id: Mapped[int] = mapped_column(PK, primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(30))
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"), index=True)
    responsible: Mapped[str] = mapped_column(String(200), default="")  # 责任人, 、-separated
    received_on: Mapped[dt.date | None] = mapped_column(Date)
    reviewed_on: Mapped[dt.date | None] = mapped_column(Date)
    meeting_on: Mapped[dt.date | None] = mapped_column(Date)
    decided_on: Mapped[dt.date | None] = mapped_column(Date)
    retention: Mapped[str] = mapped_column(String(4))
    category_code: Mapped[str] = mapped_column(String(8), default="WS")  # 门类代码: 文书
    status: Mapped[str] = mapped_column(String(10), default="open")
    note: Mapped[str] = mapped_column(Text, default="")
    created_by: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    closed_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    closed_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    # set at closing: the archival year and fonds the references were allocated in
    archive_year: Mapped[int | None] = mapped_column(Integer)
    fonds_code: Mapped[str | None] = mapped_column(String(16))
    imported_from: Mapped[str | None] = mapped_column(String(64))  # sha256 of the package

    unit: Mapped[Unit] = relationship()
    creator: Mapped[User] = relationship(foreign_keys=[created_by])

    @property
    def kind_label(self) -> str:
        return KINDS.get(self.kind, self.kind)

    @property
    def retention_label(self) -> str:
        return RETENTION.get(self.retention, self.retention)

    @property
    def status_label(self) -> str:
        return STATUS_LABELS.get(self.status, self.status)


class Attachment(Base):
    """Uploaded material, stored as is by sha256; its text kept here for search. Write-once."""

    __tablename__ = "attachments"
    id: Mapped[int] = mapped_column(PK, primary_key=True)
    sha256: Mapped[str] = mapped_column(ForeignKey("blobs.sha256"))
    size: Mapped[int] = mapped_column(BigInteger)
    media_type: Mapped[str] = mapped_column(String(100))
    file_type: Mapped[str] = mapped_column(String(8))  # pdf | docx | ofd | jpg | png | tif
    original_name: Mapped[str] = mapped_column(String(255))
    pages: Mapped[int | None] = mapped_column(Integer)
    text: Mapped[str] = mapped_column(Text, default="")
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"))
    uploaded_by: Mapped[int] = mapped_column(ForeignKey("users.id"))
    uploaded_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)


class AttachmentRendition(Base):
    """PDF preservation copy of a DOCX attachment (derived, archived write-once)."""

    __tablename__ = "attachment_renditions"
    id: Mapped[int] = mapped_column(PK, primary_key=True)
    attachment_id: Mapped[int] = mapped_column(ForeignKey("attachments.id"), unique=True)
    pdf_sha256: Mapped[str] = mapped_column(ForeignKey("blobs.sha256"))
    pages: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)


class AttachmentOcr(Base):
    """识别文字: what text recognition read in a scanned attachment (a scanned PDF or an image),
    with the PDF/A copy that carries it as a text layer, kept beside the untouched original.
    Derived and write-once (migration 0009ocr); made by the outbox (app/casefiles/ocr.py)."""

    __tablename__ = "attachment_ocr"
    id: Mapped[int] = mapped_column(PK, primary_key=True)
    attachment_id: Mapped[int] = mapped_column(ForeignKey("attachments.id"), unique=True)
    engine: Mapped[str] = mapped_column(String(60))  # e.g. "RapidOCR 1.4.4"
    text: Mapped[str] = mapped_column(Text, default="")  # tidied; pages apart by "\f"
    pages: Mapped[int] = mapped_column(Integer)
    empty_pages: Mapped[list] = mapped_column(JSON, default=list)  # page numbers without text
    pdf_sha256: Mapped[str | None] = mapped_column(ForeignKey("blobs.sha256"))  # None: no text
    seconds: Mapped[float] = mapped_column(Float)  # how long recognition took
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)


class CaseFileItem(Base):
    """One item (件) filed into a case file: an issued document or an attachment. Editable,
    removable and reorderable until its case file is closed (triggers, migration 0005)."""

    __tablename__ = "case_file_items"
    __table_args__ = (
        UniqueConstraint("case_file_id", "position"),
        UniqueConstraint("case_file_id", "document_id"),
        UniqueConstraint("case_file_id", "attachment_id"),
    )
    id: Mapped[int] = mapped_column(PK, primary_key=True)
    case_file_id: Mapped[int] = mapped_column(ForeignKey("case_files.id"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    role: Mapped[str] = mapped_column(String(30), default="other")
    title: Mapped[str] = mapped_column(String(200))
    document_id: Mapped[int | None] = mapped_column(ForeignKey("issued_documents.id"))
    attachment_id: Mapped[int | None] = mapped_column(ForeignKey("attachments.id"))
    # for a reply: the item it answers (e.g. a risk notice)
    reply_to_item_id: Mapped[int | None] = mapped_column(ForeignKey("case_file_items.id"))
    responsible: Mapped[str] = mapped_column(String(100), default="")  # 责任者 of an upload
    doc_date: Mapped[dt.date | None] = mapped_column(Date)  # 日期
    doc_number: Mapped[str] = mapped_column(String(64), default="")  # 文号
    added_by: Mapped[int] = mapped_column(ForeignKey("users.id"))
    added_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)

    document: Mapped[IssuedDocument | None] = relationship()
    attachment: Mapped[Attachment | None] = relationship()

    @property
    def role_label(self) -> str:
        return ROLES.get(self.role, self.role)


class ArchivalSequence(Base):
    """件号 sequence per (全宗号, 门类, 年度, 保管期限, 机构代码); last_value only grows by one."""

    __tablename__ = "archival_sequences"
    __table_args__ = (
        UniqueConstraint("fonds_code", "category_code", "year", "retention", "org_code"),
    )
    id: Mapped[int] = mapped_column(PK, primary_key=True)
    fonds_code: Mapped[str] = mapped_column(String(16))
    category_code: Mapped[str] = mapped_column(String(8))
    year: Mapped[int] = mapped_column(Integer)
    retention: Mapped[str] = mapped_column(String(4))
    org_code: Mapped[str] = mapped_column(String(32))
    last_value: Mapped[int] = mapped_column(Integer, default=0)


class ArchivalReference(Base):
    """档号 of one item, allocated when its case file is closed. Write-once."""

    __tablename__ = "archival_references"
    __table_args__ = (
        UniqueConstraint("fonds_code", "category_code", "year", "retention", "org_code", "seq"),
    )
    id: Mapped[int] = mapped_column(PK, primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("case_file_items.id"), unique=True)
    case_file_id: Mapped[int] = mapped_column(ForeignKey("case_files.id"), index=True)
    reference: Mapped[str] = mapped_column(String(80), unique=True)
    fonds_code: Mapped[str] = mapped_column(String(16))
    category_code: Mapped[str] = mapped_column(String(8))
    year: Mapped[int] = mapped_column(Integer)
    retention: Mapped[str] = mapped_column(String(4))
    org_code: Mapped[str] = mapped_column(String(32))
    seq: Mapped[int] = mapped_column(Integer)
    # what the item was when it was referenced (authenticity check compares against these)
    sha256: Mapped[str] = mapped_column(String(64))
    assigned_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
