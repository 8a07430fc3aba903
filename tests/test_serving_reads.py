"""What the pages keep per process (docs/performance.md, "Serving"): an issued document's
slip is read once and then shown from memory, and it is the slip the records give."""

from __future__ import annotations

import pytest
from conftest import issue_letter
from sqlalchemy import event
from webutil import logged_in

from app.drafting.models import IssuedDocument
from app.drafting.slip import issued_slip, slip_data

pytestmark = pytest.mark.engine_neutral  # SQLite only: see tests/conftest.py


def test_document_page_shows_the_slip_kept_per_process(cf, app):
    doc = issue_letter(cf)
    client = logged_in(app, "clerk")
    assert client.get(f"/documents/{doc.id}").status_code == 200
    sent: list[str] = []

    def note(_conn, _cursor, statement, *_args):
        sent.append(statement)

    event.listen(cf.db.engine, "before_cursor_execute", note)
    try:
        page = client.get(f"/documents/{doc.id}")
    finally:
        event.remove(cf.db.engine, "before_cursor_execute", note)
    assert page.status_code == 200
    assert not [s for s in sent if s.startswith("SELECT review_steps.")]  # kept in memory
    with cf.db.read() as s:
        row = s.get(IssuedDocument, doc.id)
        kept, fresh = issued_slip(cf, s, row), slip_data(cf, s, row)
    assert kept == fresh
    text = page.get_data(as_text=True)
    assert fresh.issued_by in text and fresh.signatories and fresh.signatories in text
