"""PDF/A renditions of issued documents."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import (
    DateTime,
    ForeignKey,
    Integer,
    String,
)
from sqlalchemy.orm import Mapped, mapped_column

from app.db.base import PK, Base, utcnow


class Rendition(Base):
    """The PDF/A rendition of an issued document (derived, but archived write-once)."""

    __tablename__ = "renditions"
    id: Mapped[int] = mapped_column(PK, primary_key=True)
    document_id: Mapped[int] = mapped_column(ForeignKey("issued_documents.id"), unique=True)
    pdf_sha256: Mapped[str] = mapped_column(ForeignKey("blobs.sha256"))
    docx_sha256: Mapped[str] = mapped_column(String(64))
    pages: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
