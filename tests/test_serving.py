"""What serving many requests at once relies on (issue 17): an audited read takes the audit
chain's lock only to append its entry as it commits, and what a page reads once per session is
read again as soon as the session changes it."""

from __future__ import annotations

import threading
import time

import pytest
from conftest import as_user, issue_quick
from sqlalchemy import select

from app import audit
from app.audit.models import AuditEntry
from app.drafting.documents import open_document
from app.identity.models import Unit, all_units
from app.identity.users import add_unit


@pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)
def test_an_audited_read_holds_the_chain_lock_only_while_it_commits(quick_cf):
    """An inspector's page is built in the transaction that audits the read; other audited
    requests must not wait for it (they used to: the lock was taken at the read)."""
    cf = quick_cf
    doc_id = issue_quick(cf).id
    reading, other_done = threading.Event(), threading.Event()

    def inspector_page():
        with cf.db.write() as s:
            open_document(s, as_user(s, "inspector"), doc_id, via="web")
            reading.set()
            other_done.wait(5)  # the rest of the page

    page = threading.Thread(target=inspector_page)
    page.start()
    assert reading.wait(10)
    t0 = time.monotonic()
    with cf.db.write() as s:
        audit.record(s, "test.write")
    waited = time.monotonic() - t0
    other_done.set()
    page.join(10)
    assert waited < 2, f"an audited write waited {waited:.1f} s for a page being built"
    with cf.db.read() as s:
        assert audit.verify_chain(s) == []
        last = s.scalars(select(AuditEntry).order_by(AuditEntry.seq.desc()).limit(2)).all()
    assert [e.action for e in last] == ["document.read", "test.write"]  # appended at commit


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_a_read_that_rolls_back_is_not_audited_and_memos_follow_writes(quick_cf):
    cf = quick_cf
    doc_id = issue_quick(cf).id
    with pytest.raises(RuntimeError), cf.db.write() as s:
        open_document(s, as_user(s, "inspector"), doc_id)
        raise RuntimeError("the page failed")
    with cf.db.write() as s:
        assert not s.scalars(select(AuditEntry).where(AuditEntry.action == "document.read")).all()
        before = [u.code for u in all_units(s)]
        add_unit(s, "AAA", "新设单位", "GOV", "新")  # written (flushed): read afresh
        assert [u.code for u in all_units(s)] == sorted(before + ["AAA"])
        s.add(Unit(code="AAB", name="未写入的单位"))  # not flushed yet: read afresh too
        assert [u.code for u in all_units(s)] == sorted(before + ["AAA", "AAB"])
        open_document(s, as_user(s, "inspector"), doc_id)
    with cf.db.read() as s:
        assert s.scalar(select(AuditEntry.action).order_by(AuditEntry.seq.desc())) == (
            "document.read"
        )
