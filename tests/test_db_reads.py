"""How `Database.read()` ends (app/db): a read that only read commits on PostgreSQL, so psycopg
keeps its prepared statements (it forgets them all on ROLLBACK); anything else is rolled back
as before: a write, a pending ORM change, an audit entry waiting for a commit."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select, text

from app import audit
from app.audit.models import AuditEntry
from app.identity.models import Unit, User


def _name_of(cf, code: str) -> str:
    with cf.db.read() as s:
        return s.scalar(select(Unit.name).where(Unit.code == code))


def test_a_read_that_writes_is_still_rolled_back(cf):
    before = _name_of(cf, "FZB")
    with cf.db.read() as s:
        s.execute(text("UPDATE units SET name = 'changed' WHERE code = 'FZB'"))
    assert _name_of(cf, "FZB") == before
    with cf.db.read() as s:
        unit = s.scalars(select(Unit).where(Unit.code == "FZB")).one()
        unit.name = "changed too"  # pending, never flushed: discarded
    assert _name_of(cf, "FZB") == before


def test_an_audit_entry_at_commit_is_still_dropped_by_a_read(cf):
    with cf.db.read() as s:
        count = s.scalar(select(func.count()).select_from(AuditEntry))
        actor = s.scalars(select(User).where(User.username == "clerk")).one()
        audit.record(s, "document.read", actor=actor, object_type="document", object_id=1,
                     at_commit=True)  # fmt: skip
    with cf.db.read() as s:
        assert s.scalar(select(func.count()).select_from(AuditEntry)) == count


@pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)
def test_reads_keep_their_statements_prepared(cf):
    query = select(Unit.name).where(Unit.code == "FZB").limit(1)
    for _ in range(8):  # psycopg prepares a statement the fifth time a connection runs it
        with cf.db.read() as s:
            s.execute(query).all()
    with cf.db.read() as s:
        s.execute(query).all()
        prepared = s.scalars(text("SELECT statement FROM pg_prepared_statements")).all()
    assert any("FROM units" in p for p in prepared), prepared
