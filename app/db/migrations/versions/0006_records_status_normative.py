"""document status beside issued documents (替代、撤销) and the register of normative documents

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-30
"""

import sqlalchemy as sa
from alembic import op

from app.db import write_once

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

PK = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
WRITE_ONCE = ("draft_corrections", "revocation_proposals", "document_statuses")


def upgrade() -> None:
    op.create_table(
        "draft_corrections",
        sa.Column("id", PK, nullable=False),
        sa.Column("draft_id", PK, nullable=False),
        sa.Column("document_id", PK, nullable=False),
        sa.Column("created_by", PK, nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["draft_id"], ["drafts.id"]),
        sa.ForeignKeyConstraint(["document_id"], ["issued_documents.id"]),
        sa.ForeignKeyConstraint(["created_by"], ["users.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("draft_id"),
    )
    op.create_index("ix_draft_corrections_document_id", "draft_corrections", ["document_id"])
    op.create_table(
        "revocation_proposals",
        sa.Column("id", PK, nullable=False),
        sa.Column("document_id", PK, nullable=False),
        sa.Column("proposed_by", PK, nullable=False),
        sa.Column("role", sa.String(length=20), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["document_id"], ["issued_documents.id"]),
        sa.ForeignKeyConstraint(["proposed_by"], ["users.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_revocation_proposals_document_id", "revocation_proposals", ["document_id"])
    op.create_table(
        "document_statuses",
        sa.Column("id", PK, nullable=False),
        sa.Column("document_id", PK, nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("successor_id", PK, nullable=True),
        sa.Column("proposal_id", PK, nullable=True),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("decided_by", PK, nullable=False),
        sa.Column("effective_on", sa.Date(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["document_id"], ["issued_documents.id"]),
        sa.ForeignKeyConstraint(["successor_id"], ["issued_documents.id"]),
        sa.ForeignKeyConstraint(["proposal_id"], ["revocation_proposals.id"]),
        sa.ForeignKeyConstraint(["decided_by"], ["users.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("document_id"),
        sa.UniqueConstraint("successor_id"),
    )
    op.create_table(
        "normative_sequences",
        sa.Column("id", PK, nullable=False),
        sa.Column("unit_id", PK, nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("last_value", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["unit_id"], ["units.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("unit_id", "year"),
    )
    op.create_table(
        "normative_documents",
        sa.Column("id", PK, nullable=False),
        sa.Column("unit_id", PK, nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("number", sa.String(length=64), nullable=False),
        sa.Column("number_year", sa.Integer(), nullable=False),
        sa.Column("number_seq", sa.Integer(), nullable=False),
        sa.Column("case_file_id", PK, nullable=True),
        sa.Column("review_document_id", PK, nullable=True),
        sa.Column("comment_from", sa.Date(), nullable=True),
        sa.Column("comment_to", sa.Date(), nullable=True),
        sa.Column("expert_on", sa.Date(), nullable=True),
        sa.Column("review_on", sa.Date(), nullable=True),
        sa.Column("meeting", sa.String(length=200), nullable=False),
        sa.Column("decided_on", sa.Date(), nullable=True),
        sa.Column("registered_on", sa.Date(), nullable=False),
        sa.Column("published_on", sa.Date(), nullable=True),
        sa.Column("channel", sa.String(length=200), nullable=False),
        sa.Column("filed_on", sa.Date(), nullable=True),
        sa.Column("filing_number", sa.String(length=64), nullable=False),
        sa.Column("filing_body", sa.String(length=200), nullable=False),
        sa.Column("valid_from", sa.Date(), nullable=True),
        sa.Column("valid_until", sa.Date(), nullable=True),
        sa.Column("state", sa.String(length=20), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("created_by", PK, nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["unit_id"], ["units.id"]),
        sa.ForeignKeyConstraint(["case_file_id"], ["case_files.id"]),
        sa.ForeignKeyConstraint(["review_document_id"], ["issued_documents.id"]),
        sa.ForeignKeyConstraint(["created_by"], ["users.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("number"),
        sa.UniqueConstraint("unit_id", "number_year", "number_seq"),
    )
    write_once.guard(op, WRITE_ONCE)


def downgrade() -> None:
    write_once.unguard(op, WRITE_ONCE)
    op.drop_table("normative_documents")
    op.drop_table("normative_sequences")
    op.drop_table("document_statuses")
    op.drop_index("ix_revocation_proposals_document_id", table_name="revocation_proposals")
    op.drop_table("revocation_proposals")
    op.drop_index("ix_draft_corrections_document_id", table_name="draft_corrections")
    op.drop_table("draft_corrections")
