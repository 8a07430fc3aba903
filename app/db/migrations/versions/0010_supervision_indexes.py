"""supervision indexes: documents of a type in a period, review steps by time

The ranking and the dashboard count each unit's legality-review opinions, commission letters,
adviser review steps and hand-entered services per quarter (app/supervision/counts.py) and
looks for each unit's half-yearly report among the drafts; the contracts register reads the engagement contracts among all issued documents. Without these
indexes each of those reads scanned every issued document or review step, and with
single-column ones each counted row was a table lookup (bench/supervision.py: seconds at city
scale). Each index holds every column its count reads, so the count reads the index alone.

Revision ID: 0010_supervision_indexes
Revises: 0009ocr
Create Date: 2026-11-30
"""

from alembic import op

revision = "0010_supervision_indexes"
down_revision = "0009ocr"
branch_labels = None
depends_on = None


# name, table, columns: each read by app/supervision/counts.py from the index alone (covering)
INDEXES = (
    ("ix_issued_documents_type_period", "issued_documents",
     ["template_version_id", "issue_date", "unit_id", "draft_id", "approved_version_id"]),
    ("ix_review_steps_created_at", "review_steps", ["created_at", "role", "decision", "unit_id"]),
    ("ix_review_steps_draft_decision", "review_steps", ["draft_id", "role", "decision", "user_id"]),
    ("ix_work_records_unit_period", "work_records", ["unit_id", "served_on"]),
    # a type's drafts (the half-yearly reports in progress, app/supervision/reports.py)
    ("ix_drafts_template_version_id", "drafts", ["template_version_id", "status", "unit_id"]),
)  # fmt: skip


def upgrade() -> None:
    for name, table, columns in INDEXES:
        op.create_index(name, table, columns)


def downgrade() -> None:
    for name, table, _ in reversed(INDEXES):
        op.drop_index(name, table_name=table)
