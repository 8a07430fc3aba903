"""public lawyers' matters (公职律师法律事务), deployments, lawyer profiles, decision list

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-30
"""

import sqlalchemy as sa
from alembic import op

from app.db import write_once

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

PK = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def _id() -> sa.Column:
    return sa.Column("id", PK, nullable=False)


def upgrade() -> None:
    op.create_table(
        "matters",
        _id(),
        sa.Column("unit_id", PK, sa.ForeignKey("units.id"), nullable=False),
        sa.Column("kind", sa.String(30), nullable=False),
        sa.Column("title", sa.String(200), nullable=False),
        sa.Column("parties", sa.Text(), nullable=False),
        sa.Column("party_role", sa.String(10), nullable=False),
        sa.Column("case_number", sa.String(60), nullable=False),
        sa.Column("body", sa.String(100), nullable=False),
        sa.Column("specialty", sa.String(60), nullable=False),
        sa.Column("served_on", sa.Date(), nullable=True),
        sa.Column("deadline", sa.Date(), nullable=True),
        sa.Column("deadline_label", sa.String(30), nullable=False),
        sa.Column("status", sa.String(12), nullable=False),
        sa.Column("lawyer_id", PK, sa.ForeignKey("users.id"), nullable=True),
        sa.Column("case_file_id", PK, sa.ForeignKey("case_files.id"), nullable=True),
        sa.Column("letter_draft_id", PK, sa.ForeignKey("drafts.id"), nullable=True),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("return_reason", sa.Text(), nullable=False),
        sa.Column("created_by", PK, sa.ForeignKey("users.id"), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("assigned_at", sa.DateTime(), nullable=True),
        sa.Column("accepted_at", sa.DateTime(), nullable=True),
        sa.Column("reported_at", sa.DateTime(), nullable=True),
        sa.Column("closed_at", sa.DateTime(), nullable=True),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_matters_unit_id", "matters", ["unit_id"])
    op.create_index("ix_matters_status", "matters", ["status"])
    op.create_index("ix_matters_lawyer_id", "matters", ["lawyer_id"])
    op.create_table(
        "matter_events",
        _id(),
        sa.Column("matter_id", PK, sa.ForeignKey("matters.id"), nullable=False),
        sa.Column("kind", sa.String(12), nullable=False),
        sa.Column("user_id", PK, sa.ForeignKey("users.id"), nullable=False),
        sa.Column("unit_id", PK, sa.ForeignKey("units.id"), nullable=False),
        sa.Column("lawyer_id", PK, sa.ForeignKey("users.id"), nullable=True),
        sa.Column("comment", sa.Text(), nullable=False),
        sa.Column("justified", sa.Boolean(), nullable=True),
        sa.Column("ruling_of", PK, sa.ForeignKey("matter_events.id"), nullable=True),
        sa.Column("file_sha256", sa.String(64), sa.ForeignKey("blobs.sha256"), nullable=True),
        sa.Column("file_name", sa.String(255), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_matter_events_matter_id", "matter_events", ["matter_id"])
    op.create_table(
        "matter_documents",
        _id(),
        sa.Column("matter_id", PK, sa.ForeignKey("matters.id"), nullable=False),
        sa.Column("document_id", PK, sa.ForeignKey("issued_documents.id"), nullable=False),
        sa.Column("added_by", PK, sa.ForeignKey("users.id"), nullable=False),
        sa.Column("added_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("matter_id", "document_id"),
    )
    op.create_index("ix_matter_documents_matter_id", "matter_documents", ["matter_id"])
    op.create_index("ix_matter_documents_document_id", "matter_documents", ["document_id"])
    op.create_table(
        "deployments",
        _id(),
        sa.Column("matter_id", PK, sa.ForeignKey("matters.id"), nullable=False),
        sa.Column("requesting_unit_id", PK, sa.ForeignKey("units.id"), nullable=False),
        sa.Column("upper_unit_id", PK, sa.ForeignKey("units.id"), nullable=False),
        sa.Column("lawyer_id", PK, sa.ForeignKey("users.id"), nullable=True),
        sa.Column("lawyer_unit_id", PK, sa.ForeignKey("units.id"), nullable=True),
        sa.Column("status", sa.String(12), nullable=False),
        sa.Column("specialty", sa.String(60), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("requested_by", PK, sa.ForeignKey("users.id"), nullable=False),
        sa.Column("requested_at", sa.DateTime(), nullable=False),
        sa.Column("decided_by", PK, sa.ForeignKey("users.id"), nullable=True),
        sa.Column("decided_at", sa.DateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    for col in ("matter_id", "requesting_unit_id", "upper_unit_id"):
        op.create_index(f"ix_deployments_{col}", "deployments", [col])
    op.create_table(
        "lawyer_profiles",
        sa.Column("user_id", PK, sa.ForeignKey("users.id"), nullable=False),
        sa.Column("licence", sa.String(17), nullable=False),
        sa.Column("phone", sa.String(20), nullable=False),
        sa.Column("specialty", sa.String(120), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("user_id"),
    )
    op.create_table(
        "decision_list_entries",
        _id(),
        sa.Column("unit_id", PK, sa.ForeignKey("units.id"), nullable=False),
        sa.Column("template_id", sa.String(64), nullable=False),
        sa.Column("label", sa.String(100), nullable=False),
        sa.Column("created_by", PK, sa.ForeignKey("users.id"), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("unit_id", "template_id"),
    )
    op.create_index("ix_decision_list_entries_unit_id", "decision_list_entries", ["unit_id"])
    write_once.guard(op, ("matter_events",))


def downgrade() -> None:
    write_once.unguard(op, ("matter_events",))
    for table in ("decision_list_entries", "lawyer_profiles", "deployments",
                  "matter_documents", "matter_events", "matters"):  # fmt: skip
        op.drop_table(table)
