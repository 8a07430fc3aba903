"""issued document facts: what supervision counts, fixed at issue

One row per issued document: how many advisers or public lawyers approved it and whether it
names a lawyer (app/drafting/facts.py). The dashboard sums these per unit and quarter instead
of joining every opinion to its review steps and reading every letter's data. Existing
documents get their rows from the records here, by the same code that issuing uses.

Revision ID: 0011_document_facts
Revises: 0010_supervision_indexes
Create Date: 2026-11-30
"""

import sqlalchemy as sa
from alembic import op

revision = "0011_document_facts"
down_revision = "0010_supervision_indexes"
branch_labels = None
depends_on = None

PK = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "issued_document_facts",
        sa.Column("document_id", PK,
                  sa.ForeignKey("issued_documents.id"), primary_key=True),
        sa.Column("unit_id", PK,
                  sa.ForeignKey("units.id"), nullable=False),
        sa.Column("template_version_id", PK,
                  sa.ForeignKey("template_versions.id"), nullable=False),
        sa.Column("issue_date", sa.Date(), nullable=False),
        sa.Column("advisers", sa.Integer(), nullable=False),
        sa.Column("lawyer_named", sa.Boolean(), nullable=False),
    )  # fmt: skip
    op.create_index("ix_issued_document_facts_period", "issued_document_facts",
                    ["template_version_id", "issue_date", "unit_id", "advisers", "lawyer_named"])  # fmt: skip
    from app.drafting import facts  # lazy: the same rule issuing applies, for existing documents

    facts.rebuild(op.get_bind())


def downgrade() -> None:
    op.drop_index("ix_issued_document_facts_period", table_name="issued_document_facts")
    op.drop_table("issued_document_facts")
