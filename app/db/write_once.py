"""Write-once guards, for the migrations: triggers that refuse UPDATE and DELETE (and, on
PostgreSQL, TRUNCATE) on tables whose rows must never change.

Migrations import this module, so its trigger names and SQL must stay as they are: an old
migration has to create exactly what it always created. On PostgreSQL the trigger function
casefile_write_once() is created once, by revision 0001.
"""

from __future__ import annotations


def _dialect(op) -> str:
    return op.get_bind().dialect.name


def create_function(op) -> None:
    if _dialect(op) == "postgresql":
        op.execute(
            """
            CREATE FUNCTION casefile_write_once() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
              RAISE EXCEPTION '% is write-once: % refused', TG_TABLE_NAME, TG_OP
                USING ERRCODE = 'integrity_constraint_violation';
            END $$
            """
        )


def drop_function(op) -> None:
    if _dialect(op) == "postgresql":
        op.execute("DROP FUNCTION IF EXISTS casefile_write_once()")


def guard(op, tables: tuple[str, ...]) -> None:
    for table in tables:
        if _dialect(op) == "sqlite":
            for event in ("UPDATE", "DELETE"):
                op.execute(
                    f"CREATE TRIGGER {table}_no_{event.lower()} BEFORE {event} ON {table} "
                    f"BEGIN SELECT RAISE(ABORT, '{table} is write-once: {event} refused'); END"
                )
        else:
            op.execute(
                f"CREATE TRIGGER {table}_write_once BEFORE UPDATE OR DELETE ON {table} "
                "FOR EACH ROW EXECUTE FUNCTION casefile_write_once()"
            )
            op.execute(
                f"CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table} "
                "FOR EACH STATEMENT EXECUTE FUNCTION casefile_write_once()"
            )


def unguard(op, tables: tuple[str, ...]) -> None:
    for table in tables:
        if _dialect(op) == "sqlite":
            for event in ("update", "delete"):
                op.execute(f"DROP TRIGGER IF EXISTS {table}_no_{event}")
        else:
            op.execute(f"DROP TRIGGER IF EXISTS {table}_write_once ON {table}")
            op.execute(f"DROP TRIGGER IF EXISTS {table}_no_truncate ON {table}")
