"""text recognition of scanned attachments (识别文字): the text and the PDF/A copy with its
text layer, beside the untouched original

Revision ID: 0009ocr
Revises: 0008
Create Date: 2026-11-30
"""

import sqlalchemy as sa
from alembic import op

from app.db import write_once

revision = "0009ocr"
down_revision = "0008"
branch_labels = None
depends_on = None

PK = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
WRITE_ONCE = ("attachment_ocr",)


def upgrade() -> None:
    op.create_table(
        "attachment_ocr",
        sa.Column("id", PK, nullable=False),
        sa.Column("attachment_id", PK, nullable=False),
        sa.Column("engine", sa.String(length=60), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("pages", sa.Integer(), nullable=False),
        sa.Column("empty_pages", sa.JSON(), nullable=False),
        sa.Column("pdf_sha256", sa.String(length=64), nullable=True),
        sa.Column("seconds", sa.Float(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["attachment_id"], ["attachments.id"]),
        sa.ForeignKeyConstraint(["pdf_sha256"], ["blobs.sha256"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("attachment_id"),
    )
    write_once.guard(op, WRITE_ONCE)


def downgrade() -> None:
    write_once.unguard(op, WRITE_ONCE)
    op.drop_table("attachment_ocr")
