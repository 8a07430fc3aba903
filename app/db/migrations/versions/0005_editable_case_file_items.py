"""case-file items can be edited, removed and reordered until the case file is closed

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-30

Before: items were write-once from the moment they were filed. Now the write-once guard of
case_file_items is replaced by a guard that refuses UPDATE and DELETE once the item's case file
is closed (and on PostgreSQL TRUNCATE, always), so a clerk can correct a catalogue entry, remove
a wrongly filed item or reorder the items before closing, and nothing after.
"""

from alembic import op

from app.db import write_once

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

TABLE = ("case_file_items",)


def upgrade() -> None:
    write_once.unguard(op, TABLE)
    if op.get_bind().dialect.name == "sqlite":
        for event, row in (("UPDATE", "OLD"), ("DELETE", "OLD")):
            moved_in = (
                " OR (SELECT status FROM case_files WHERE id = NEW.case_file_id) = 'closed'"
                if event == "UPDATE"
                else ""
            )
            op.execute(
                f"CREATE TRIGGER case_file_items_closed_no_{event.lower()} BEFORE {event} "
                f"ON case_file_items WHEN (SELECT status FROM case_files WHERE id = "
                f"{row}.case_file_id) = 'closed'{moved_in} BEGIN SELECT RAISE(ABORT, "
                f"'case_files is read-only once closed: {event} refused'); END"
            )
        return
    op.execute(
        """
        CREATE FUNCTION casefile_closed_item_change() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
          IF (SELECT status FROM case_files WHERE id = OLD.case_file_id) = 'closed'
             OR (TG_OP = 'UPDATE'
                 AND (SELECT status FROM case_files WHERE id = NEW.case_file_id) = 'closed') THEN
            RAISE EXCEPTION 'case_files is read-only once closed: % refused', TG_OP
              USING ERRCODE = 'integrity_constraint_violation';
          END IF;
          IF TG_OP = 'DELETE' THEN RETURN OLD; END IF;
          RETURN NEW;
        END $$
        """
    )
    op.execute(
        "CREATE TRIGGER case_file_items_closed_change BEFORE UPDATE OR DELETE ON case_file_items "
        "FOR EACH ROW EXECUTE FUNCTION casefile_closed_item_change()"
    )
    op.execute(
        "CREATE TRIGGER case_file_items_no_truncate BEFORE TRUNCATE ON case_file_items "
        "FOR EACH STATEMENT EXECUTE FUNCTION casefile_write_once()"
    )


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        for event in ("update", "delete"):
            op.execute(f"DROP TRIGGER IF EXISTS case_file_items_closed_no_{event}")
    else:
        op.execute("DROP TRIGGER IF EXISTS case_file_items_closed_change ON case_file_items")
        op.execute("DROP TRIGGER IF EXISTS case_file_items_no_truncate ON case_file_items")
        op.execute("DROP FUNCTION IF EXISTS casefile_closed_item_change()")
    write_once.guard(op, TABLE)
