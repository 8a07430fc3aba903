"""restricted documents (知悉范围) and server-side login sessions

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-23
"""

import sqlalchemy as sa
from alembic import op

from app.db import write_once

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

PK = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "draft_restrictions",
        sa.Column("id", PK, nullable=False),
        sa.Column("draft_id", PK, nullable=False),
        sa.Column("user_id", PK, nullable=False),
        sa.Column("created_by", PK, nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["draft_id"], ["drafts.id"]),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"]),
        sa.ForeignKeyConstraint(["created_by"], ["users.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("draft_id", "user_id"),
    )
    op.create_index("ix_draft_restrictions_draft_id", "draft_restrictions", ["draft_id"])
    op.create_table(
        "user_sessions",
        sa.Column("id", PK, nullable=False),
        sa.Column("sid_hash", sa.String(length=64), nullable=False),
        sa.Column("user_id", PK, nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("expires_at", sa.DateTime(), nullable=False),
        sa.Column("revoked_at", sa.DateTime(), nullable=True),
        sa.Column("remote_addr", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("sid_hash"),
    )
    op.create_index("ix_user_sessions_user_id", "user_sessions", ["user_id"])
    write_once.guard(op, ("draft_restrictions",))


def downgrade() -> None:
    write_once.unguard(op, ("draft_restrictions",))
    op.drop_index("ix_user_sessions_user_id", table_name="user_sessions")
    op.drop_table("user_sessions")
    op.drop_index("ix_draft_restrictions_draft_id", table_name="draft_restrictions")
    op.drop_table("draft_restrictions")
