"""Write-once archive: blobs by sha256, database guards, and `verify` catching tampering."""

import pytest
from conftest import issue_quick, reopen_audit_log
from sqlalchemy import delete, text, update
from sqlalchemy.exc import DBAPIError

from app.audit.models import AuditEntry
from app.blobs.store import BlobStore, sha256_hex
from app.drafting import drafts
from app.drafting.models import IssuedDocument, ReviewStep
from app.integrity.verify import verify_store


def test_blob_store_is_content_addressed_and_durable(tmp_path):
    store = BlobStore(tmp_path / "blobs")
    sha = store.put(b"hello")
    assert sha == sha256_hex(b"hello")
    assert store.path(sha).read_bytes() == b"hello"
    assert store.put(b"hello") == sha  # idempotent
    assert store.check(sha) is None
    assert list((tmp_path / "blobs" / "tmp").iterdir()) == []  # no temp files left behind
    with pytest.raises(ValueError):
        store.path("../../etc/passwd")


@pytest.mark.parametrize(
    "statement",
    [
        update(IssuedDocument).values(title="改过的标题"),
        update(IssuedDocument).values(number="武政法测〔2026〕99号"),
        delete(IssuedDocument),
        update(ReviewStep).values(comment="改过的意见"),
        delete(ReviewStep),
        update(AuditEntry).values(action="nothing"),
    ],
    ids=["title", "number", "delete-doc", "step-comment", "delete-step", "audit"],
)
def test_database_refuses_to_change_write_once_rows(quick_cf, statement):
    issue_quick(quick_cf)
    with pytest.raises(DBAPIError, match="write-once"):
        with quick_cf.db.write() as s:
            s.execute(statement)
    with quick_cf.db.read() as s:
        assert s.query(IssuedDocument).count() == 1


def test_raw_sql_update_is_refused_too(quick_cf):
    issue_quick(quick_cf)
    with pytest.raises(DBAPIError, match="write-once"):
        with quick_cf.db.engine.begin() as conn:
            conn.execute(text("UPDATE issued_documents SET docx_sha256 = docx_sha256"))


def test_verify_passes_then_names_the_document_after_a_flipped_byte(quick_cf):
    doc = issue_quick(quick_cf)
    issue_quick(quick_cf, "另一件")
    assert verify_store(quick_cf).ok
    path = quick_cf.blobs.path(doc.docx_sha256)
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0x01
    path.chmod(0o644)
    path.write_bytes(bytes(data))
    report = verify_store(quick_cf)
    assert not report.ok
    assert any(doc.number in p for p in report.problems), report.problems
    assert len([p for p in report.problems if "文书" in p]) == 1


def test_verify_detects_a_missing_blob(quick_cf):
    doc = issue_quick(quick_cf)
    quick_cf.blobs.path(doc.docx_sha256).unlink()
    report = verify_store(quick_cf)
    assert any(doc.number in p and "缺失" in p for p in report.problems)


def test_verify_detects_an_issued_file_that_differs_from_the_approved_text(quick_cf):
    """Swap the issued blob for a rendering of other data: hashes match, the proof does not."""
    doc = issue_quick(quick_cf)
    from app.drafting.drafts import unit_context
    from app.templating import render_document

    with quick_cf.db.read() as s:
        issued = s.get(IssuedDocument, doc.id)
        tpl = drafts.template_of(quick_cf, s, issued.draft)
        forged = render_document(tpl.schema, tpl.docx, {"subject": "被改动的内容"},
                                 unit_context(issued.unit), doc.number, doc.issue_date)  # fmt: skip
    path = quick_cf.blobs.path(doc.docx_sha256)
    path.chmod(0o644)
    path.write_bytes(forged)
    problems = verify_store(quick_cf).problems
    assert any(doc.number in p for p in problems)


def test_audit_chain_tampering_is_named(quick_cf):
    issue_quick(quick_cf)
    with quick_cf.db.engine.begin() as conn:
        reopen_audit_log(conn, quick_cf)
        conn.execute(text("UPDATE audit_log SET actor = 'mallory' WHERE seq = 3"))
    problems = verify_store(quick_cf).problems
    assert any("第 3 条" in p for p in problems), problems
