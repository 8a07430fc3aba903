"""supervision (督导考核): adviser pool, contract filings, work records, assessments, weights

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-30
"""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

PK = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def _users(*names):
    return [sa.ForeignKeyConstraint([n], ["users.id"]) for n in names]


def upgrade() -> None:
    op.create_table(
        "pool_entries",
        sa.Column("id", PK, nullable=False),
        sa.Column("keeper_unit_id", PK, nullable=False),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("kind", sa.String(10), nullable=False),
        sa.Column("firm", sa.String(100), nullable=False),
        sa.Column("licence", sa.String(17), nullable=False),
        sa.Column("specialties", sa.JSON(), nullable=False),
        sa.Column("contact", sa.String(100), nullable=False),
        sa.Column("admitted_on", sa.Date(), nullable=False),
        sa.Column("status", sa.String(10), nullable=False),
        sa.Column("status_reason", sa.Text(), nullable=False),
        sa.Column("proposed_by", sa.String(100), nullable=False),
        sa.Column("criteria", sa.Text(), nullable=False),
        sa.Column("decision", sa.Text(), nullable=False),
        sa.Column("user_id", PK, nullable=True),
        sa.Column("created_by", PK, nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["keeper_unit_id"], ["units.id"]),
        *_users("user_id", "created_by"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_pool_entries_keeper_unit_id", "pool_entries", ["keeper_unit_id"])
    op.create_table(
        "contract_filings",
        sa.Column("id", PK, nullable=False),
        sa.Column("document_id", PK, nullable=False),
        sa.Column("state", sa.String(12), nullable=False),
        sa.Column("filing_number", sa.String(50), nullable=True),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("filed_on", sa.Date(), nullable=True),
        sa.Column("decided_by", PK, nullable=True),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["document_id"], ["issued_documents.id"]),
        *_users("decided_by"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("document_id"),
        sa.UniqueConstraint("filing_number"),
    )
    op.create_table(
        "work_records",
        sa.Column("id", PK, nullable=False),
        sa.Column("unit_id", PK, nullable=False),
        sa.Column("entry_id", PK, nullable=True),
        sa.Column("user_id", PK, nullable=True),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("served_on", sa.Date(), nullable=False),
        sa.Column("matter", sa.String(200), nullable=False),
        sa.Column("hours", sa.Numeric(6, 1), nullable=False),
        sa.Column("created_by", PK, nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["unit_id"], ["units.id"]),
        sa.ForeignKeyConstraint(["entry_id"], ["pool_entries.id"]),
        *_users("user_id", "created_by"),
        sa.PrimaryKeyConstraint("id"),
    )
    for col in ("unit_id", "entry_id", "user_id", "served_on"):
        op.create_index(f"ix_work_records_{col}", "work_records", [col])
    op.create_table(
        "assessments",
        sa.Column("id", PK, nullable=False),
        sa.Column("unit_id", PK, nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("subject_key", sa.String(40), nullable=False),
        sa.Column("subject_name", sa.String(100), nullable=False),
        sa.Column("entry_id", PK, nullable=True),
        sa.Column("user_id", PK, nullable=True),
        sa.Column("ability", sa.Integer(), nullable=False),
        sa.Column("quality", sa.Integer(), nullable=False),
        sa.Column("efficiency", sa.Integer(), nullable=False),
        sa.Column("grade", sa.String(10), nullable=False),
        sa.Column("comment", sa.Text(), nullable=False),
        sa.Column("records", sa.JSON(), nullable=False),
        sa.Column("state", sa.String(10), nullable=False),
        sa.Column("created_by", PK, nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("signed_by", PK, nullable=True),
        sa.Column("signed_at", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(["unit_id"], ["units.id"]),
        sa.ForeignKeyConstraint(["entry_id"], ["pool_entries.id"]),
        *_users("user_id", "created_by", "signed_by"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("unit_id", "year", "subject_key"),
    )
    op.create_index("ix_assessments_unit_id", "assessments", ["unit_id"])
    op.create_table(
        "ranking_weights",
        sa.Column("id", PK, nullable=False),
        sa.Column("unit_id", PK, nullable=False),
        sa.Column("indicator", sa.String(30), nullable=False),
        sa.Column("weight", sa.Integer(), nullable=False),
        sa.Column("updated_by", PK, nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["unit_id"], ["units.id"]),
        *_users("updated_by"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("unit_id", "indicator"),
    )
    # A confirmed (signed) assessment is write-once; a draft one may still be corrected.
    if op.get_bind().dialect.name == "sqlite":
        for event in ("UPDATE", "DELETE"):
            op.execute(
                f"CREATE TRIGGER assessments_signed_no_{event.lower()} BEFORE {event} ON "
                "assessments WHEN OLD.state = 'signed' BEGIN SELECT RAISE(ABORT, "
                f"'assessments is write-once once signed: {event} refused'); END"
            )
    else:
        op.execute(
            """
            CREATE FUNCTION casefile_signed_assessment() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
              IF OLD.state = 'signed' THEN
                RAISE EXCEPTION 'assessments is write-once once signed: % refused', TG_OP
                  USING ERRCODE = 'integrity_constraint_violation';
              END IF;
              IF TG_OP = 'DELETE' THEN RETURN OLD; END IF;
              RETURN NEW;
            END $$
            """
        )
        op.execute(
            "CREATE TRIGGER assessments_signed_write_once BEFORE UPDATE OR DELETE ON assessments "
            "FOR EACH ROW EXECUTE FUNCTION casefile_signed_assessment()"
        )


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        op.execute("DROP TRIGGER IF EXISTS assessments_signed_no_update")
        op.execute("DROP TRIGGER IF EXISTS assessments_signed_no_delete")
    else:
        op.execute("DROP TRIGGER IF EXISTS assessments_signed_write_once ON assessments")
        op.execute("DROP FUNCTION IF EXISTS casefile_signed_assessment()")
    for table in ("ranking_weights", "assessments", "work_records", "contract_filings",
                  "pool_entries"):  # fmt: skip
        op.drop_table(table)
