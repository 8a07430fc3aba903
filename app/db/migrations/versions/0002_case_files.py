"""case files (案卷), attachments and archival references

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23
"""

import sqlalchemy as sa
from alembic import op

from app.db import write_once

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")

# Rows never changed or deleted once written (filed items, uploads, 档号).
WRITE_ONCE = ("attachments", "attachment_renditions", "case_file_items", "archival_references")


def _create_guards() -> None:
    write_once.guard(op, WRITE_ONCE)  # on PostgreSQL, casefile_write_once() comes from 0001
    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        for event in ("UPDATE", "DELETE"):
            op.execute(
                f"CREATE TRIGGER case_files_closed_no_{event.lower()} BEFORE {event} ON case_files "
                "WHEN OLD.status = 'closed' BEGIN SELECT RAISE(ABORT, "
                f"'case_files is read-only once closed: {event} refused'); END"
            )
        op.execute(
            "CREATE TRIGGER case_file_items_closed_no_insert BEFORE INSERT ON case_file_items "
            "WHEN (SELECT status FROM case_files WHERE id = NEW.case_file_id) = 'closed' "
            "BEGIN SELECT RAISE(ABORT, 'case_files is read-only once closed: INSERT refused'); END"
        )
    elif dialect == "postgresql":
        op.execute(
            """
            CREATE FUNCTION casefile_closed_case_file() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
              IF OLD.status = 'closed' THEN
                RAISE EXCEPTION 'case_files is read-only once closed: % refused', TG_OP
                  USING ERRCODE = 'integrity_constraint_violation';
              END IF;
              IF TG_OP = 'DELETE' THEN RETURN OLD; END IF;
              RETURN NEW;
            END $$
            """
        )
        op.execute(
            "CREATE TRIGGER case_files_closed BEFORE UPDATE OR DELETE ON case_files "
            "FOR EACH ROW EXECUTE FUNCTION casefile_closed_case_file()"
        )
        op.execute(
            """
            CREATE FUNCTION casefile_closed_items() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
              IF (SELECT status FROM case_files WHERE id = NEW.case_file_id) = 'closed' THEN
                RAISE EXCEPTION 'case_files is read-only once closed: INSERT refused'
                  USING ERRCODE = 'integrity_constraint_violation';
              END IF;
              RETURN NEW;
            END $$
            """
        )
        op.execute(
            "CREATE TRIGGER case_file_items_closed BEFORE INSERT ON case_file_items "
            "FOR EACH ROW EXECUTE FUNCTION casefile_closed_items()"
        )


def _drop_guards() -> None:
    write_once.unguard(op, WRITE_ONCE)
    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        for event in ("update", "delete"):
            op.execute(f"DROP TRIGGER IF EXISTS case_files_closed_no_{event}")
        op.execute("DROP TRIGGER IF EXISTS case_file_items_closed_no_insert")
    elif dialect == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS case_files_closed ON case_files")
        op.execute("DROP TRIGGER IF EXISTS case_file_items_closed ON case_file_items")
        op.execute("DROP FUNCTION IF EXISTS casefile_closed_case_file()")
        op.execute("DROP FUNCTION IF EXISTS casefile_closed_items()")


def upgrade() -> None:
    op.create_table(
        "archive_units",
        sa.Column("unit_id", ID, sa.ForeignKey("units.id"), nullable=False),
        sa.Column("fonds_code", sa.String(16), nullable=True),
        sa.Column("org_code", sa.String(32), nullable=True),
        sa.PrimaryKeyConstraint("unit_id"),
    )
    op.create_table(
        "case_files",
        sa.Column("id", ID, nullable=False),
        sa.Column("title", sa.String(200), nullable=False),
        sa.Column("kind", sa.String(30), nullable=False),
        sa.Column("unit_id", ID, sa.ForeignKey("units.id"), nullable=False),
        sa.Column("responsible", sa.String(200), nullable=False),
        sa.Column("received_on", sa.Date(), nullable=True),
        sa.Column("reviewed_on", sa.Date(), nullable=True),
        sa.Column("meeting_on", sa.Date(), nullable=True),
        sa.Column("decided_on", sa.Date(), nullable=True),
        sa.Column("retention", sa.String(4), nullable=False),
        sa.Column("category_code", sa.String(8), nullable=False),
        sa.Column("status", sa.String(10), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("created_by", ID, sa.ForeignKey("users.id"), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("closed_by", ID, sa.ForeignKey("users.id"), nullable=True),
        sa.Column("closed_at", sa.DateTime(), nullable=True),
        sa.Column("archive_year", sa.Integer(), nullable=True),
        sa.Column("fonds_code", sa.String(16), nullable=True),
        sa.Column("imported_from", sa.String(64), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_case_files_unit_id", "case_files", ["unit_id"])
    op.create_table(
        "attachments",
        sa.Column("id", ID, nullable=False),
        sa.Column("sha256", sa.String(64), sa.ForeignKey("blobs.sha256"), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("media_type", sa.String(100), nullable=False),
        sa.Column("file_type", sa.String(8), nullable=False),
        sa.Column("original_name", sa.String(255), nullable=False),
        sa.Column("pages", sa.Integer(), nullable=True),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("unit_id", ID, sa.ForeignKey("units.id"), nullable=False),
        sa.Column("uploaded_by", ID, sa.ForeignKey("users.id"), nullable=False),
        sa.Column("uploaded_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_table(
        "attachment_renditions",
        sa.Column("id", ID, nullable=False),
        sa.Column("attachment_id", ID, sa.ForeignKey("attachments.id"), nullable=False),
        sa.Column("pdf_sha256", sa.String(64), sa.ForeignKey("blobs.sha256"), nullable=False),
        sa.Column("pages", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("attachment_id"),
    )
    op.create_table(
        "case_file_items",
        sa.Column("id", ID, nullable=False),
        sa.Column("case_file_id", ID, sa.ForeignKey("case_files.id"), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("role", sa.String(30), nullable=False),
        sa.Column("title", sa.String(200), nullable=False),
        sa.Column("document_id", ID, sa.ForeignKey("issued_documents.id"), nullable=True),
        sa.Column("attachment_id", ID, sa.ForeignKey("attachments.id"), nullable=True),
        sa.Column("reply_to_item_id", ID, sa.ForeignKey("case_file_items.id"), nullable=True),
        sa.Column("responsible", sa.String(100), nullable=False),
        sa.Column("doc_date", sa.Date(), nullable=True),
        sa.Column("doc_number", sa.String(64), nullable=False),
        sa.Column("added_by", ID, sa.ForeignKey("users.id"), nullable=False),
        sa.Column("added_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("case_file_id", "position"),
        sa.UniqueConstraint("case_file_id", "document_id"),
        sa.UniqueConstraint("case_file_id", "attachment_id"),
        sa.CheckConstraint(
            "(document_id IS NULL) <> (attachment_id IS NULL)", name="ck_item_one_source"
        ),
    )
    op.create_index("ix_case_file_items_case_file_id", "case_file_items", ["case_file_id"])
    op.create_table(
        "archival_sequences",
        sa.Column("id", ID, nullable=False),
        sa.Column("fonds_code", sa.String(16), nullable=False),
        sa.Column("category_code", sa.String(8), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("retention", sa.String(4), nullable=False),
        sa.Column("org_code", sa.String(32), nullable=False),
        sa.Column("last_value", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("fonds_code", "category_code", "year", "retention", "org_code"),
    )
    op.create_table(
        "archival_references",
        sa.Column("id", ID, nullable=False),
        sa.Column("item_id", ID, sa.ForeignKey("case_file_items.id"), nullable=False),
        sa.Column("case_file_id", ID, sa.ForeignKey("case_files.id"), nullable=False),
        sa.Column("reference", sa.String(80), nullable=False),
        sa.Column("fonds_code", sa.String(16), nullable=False),
        sa.Column("category_code", sa.String(8), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("retention", sa.String(4), nullable=False),
        sa.Column("org_code", sa.String(32), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("assigned_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("item_id"),
        sa.UniqueConstraint("reference"),
        sa.UniqueConstraint("fonds_code", "category_code", "year", "retention", "org_code", "seq"),
    )
    op.create_index("ix_archival_references_case_file_id", "archival_references", ["case_file_id"])
    _create_guards()


def downgrade() -> None:
    _drop_guards()
    op.drop_index("ix_archival_references_case_file_id", table_name="archival_references")
    op.drop_table("archival_references")
    op.drop_table("archival_sequences")
    op.drop_index("ix_case_file_items_case_file_id", table_name="case_file_items")
    op.drop_table("case_file_items")
    op.drop_table("attachment_renditions")
    op.drop_table("attachments")
    op.drop_index("ix_case_files_unit_id", table_name="case_files")
    op.drop_table("case_files")
    op.drop_table("archive_units")
