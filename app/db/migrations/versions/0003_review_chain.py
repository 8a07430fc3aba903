"""review chain additions (opinions with files, co-signing units, processing slips, e-mail)

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23
"""

import sqlalchemy as sa
from alembic import op

from app.db import write_once

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

PK = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
# Never changed once written: an opinion stays as its author signed it (DOMAIN.md, Review).
WRITE_ONCE = ("review_opinions", "version_co_sign_units", "processing_slips")


def _create_write_once_guards() -> None:
    """Same guards as 0001; on PostgreSQL its casefile_write_once() function is reused."""
    write_once.guard(op, WRITE_ONCE)


def _drop_write_once_guards() -> None:
    write_once.unguard(op, WRITE_ONCE)


def upgrade() -> None:
    op.create_table(
        "review_opinions",
        sa.Column("id", PK, nullable=False),
        sa.Column("step_id", PK, nullable=False),
        sa.Column("supersedes_step_id", PK, nullable=True),
        sa.Column("file_sha256", sa.String(length=64), nullable=True),
        sa.Column("file_name", sa.String(length=200), nullable=False),
        sa.Column("media_type", sa.String(length=100), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["step_id"], ["review_steps.id"]),
        sa.ForeignKeyConstraint(["supersedes_step_id"], ["review_steps.id"]),
        sa.ForeignKeyConstraint(["file_sha256"], ["blobs.sha256"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("step_id"),
    )
    op.create_table(
        "version_co_sign_units",
        sa.Column("id", PK, nullable=False),
        sa.Column("version_id", PK, nullable=False),
        sa.Column("unit_id", PK, nullable=False),
        sa.ForeignKeyConstraint(["version_id"], ["draft_versions.id"]),
        sa.ForeignKeyConstraint(["unit_id"], ["units.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("version_id", "unit_id"),
    )
    op.create_index("ix_version_co_sign_units_version_id", "version_co_sign_units", ["version_id"])
    op.create_table(
        "processing_slips",
        sa.Column("id", PK, nullable=False),
        sa.Column("document_id", PK, nullable=False),
        sa.Column("docx_sha256", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["document_id"], ["issued_documents.id"]),
        sa.ForeignKeyConstraint(["docx_sha256"], ["blobs.sha256"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("document_id"),
    )
    op.create_table(
        "user_contacts",
        sa.Column("user_id", PK, nullable=False),
        sa.Column("email", sa.String(length=254), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"]),
        sa.PrimaryKeyConstraint("user_id"),
    )
    _create_write_once_guards()


def downgrade() -> None:
    _drop_write_once_guards()
    op.drop_table("user_contacts")
    op.drop_table("processing_slips")
    op.drop_index("ix_version_co_sign_units_version_id", table_name="version_co_sign_units")
    op.drop_table("version_co_sign_units")
    op.drop_table("review_opinions")
