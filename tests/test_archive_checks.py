"""四性检测: each check fails, naming the record, when its condition is broken on purpose."""

import os

import pytest
from casefile_factories import close, make_docx, make_pdf, make_png, new_case, upload
from sqlalchemy import select, text

from app.casefiles.models import ArchivalReference, Attachment
from app.integrity.checks import run_checks
from app.integrity.verify import verify_store


@pytest.fixture
def closed_case(quick_cf):
    """Two closed case files in one 档号 sequence, no renditions needed (PDF and image)."""
    cf = quick_cf
    first = new_case(cf, "第一卷")
    upload(cf, first, make_pdf(2), "会议纪要.pdf", title="会议纪要", role="minutes")
    upload(cf, first, make_png(), "公众意见.png", title="公众意见", role="public-comment")
    upload(cf, first, make_pdf(1), "决定.pdf", title="决定", role="decision")
    refs = close(cf, first)
    second = new_case(cf, "第二卷")
    upload(cf, second, make_pdf(1), "其他.pdf", title="其他材料")
    close(cf, second)
    assert run_checks(cf).ok, run_checks(cf).findings
    return cf, first, refs


def _blob_path(cf, title):
    with cf.db.read() as s:
        from app.casefiles.models import CaseFileItem

        item = s.scalars(select(CaseFileItem).where(CaseFileItem.title == title)).one()
        att = s.get(Attachment, item.attachment_id)
        return cf.blobs.path(att.sha256)


def _findings(cf, check):
    return [str(f) for f in run_checks(cf).by_check()[check]]


def test_authenticity_fails_on_a_changed_byte(closed_case):
    cf, _, refs = closed_case
    path = _blob_path(cf, "会议纪要")
    data = bytearray(path.read_bytes())
    data[-20] ^= 0x01
    path.chmod(0o644)
    path.write_bytes(bytes(data))
    found = _findings(cf, "authenticity")
    assert found and "「会议纪要」" in found[0] and refs[0] in found[0] and "内容被改动" in found[0]
    # and `casefile verify` reports it too
    assert any("[真实性]" in p and refs[0] in p for p in verify_store(cf).problems)


def test_integrity_fails_on_a_deleted_attachment(closed_case):
    cf, _, refs = closed_case
    path = _blob_path(cf, "公众意见")
    path.unlink()
    found = _findings(cf, "integrity")
    assert found and "「公众意见」" in found[0] and refs[1] in found[0] and "缺失" in found[0]


def test_integrity_fails_on_a_gap_in_item_numbers(closed_case):
    cf, first, refs = closed_case
    # someone with database access removes 档号 0002 (the write-once guard has to go first)
    with cf.db.engine.begin() as conn:
        if cf.db.is_sqlite:
            conn.execute(text("DROP TRIGGER archival_references_no_delete"))
        else:
            conn.execute(
                text(
                    "ALTER TABLE archival_references DISABLE TRIGGER archival_references_write_once"
                )
            )
        conn.execute(text("DELETE FROM archival_references WHERE reference = :r"), {"r": refs[1]})
    found = _findings(cf, "integrity")
    assert any("缺 0002" in f and "第一卷" in f for f in found), found
    assert any("卷内件号不连续" in f and f"案卷 {first}" in f for f in found), found
    assert any("「公众意见」" in f and "档号" in f for f in found), found  # the item lost its 档号


def test_usability_fails_on_an_unreadable_pdf(closed_case):
    cf, _, refs = closed_case
    path = _blob_path(cf, "决定")
    path.chmod(0o644)
    path.write_bytes(b"%PDF-1.7\n%broken beyond repair\n" + os.urandom(64))
    found = _findings(cf, "usability")
    assert found and "「决定」" in found[0] and refs[2] in found[0] and "无法打开" in found[0]


def test_security_fails_when_a_file_lies_outside_the_archive(closed_case, tmp_path):
    cf, _, refs = closed_case
    path = _blob_path(cf, "会议纪要")
    outside = tmp_path / "elsewhere.pdf"
    outside.write_bytes(path.read_bytes())  # same bytes: authentic, but not stored safely
    path.chmod(0o644)
    path.unlink()
    path.symlink_to(outside)
    assert _findings(cf, "authenticity") == []
    found = _findings(cf, "security")
    assert (
        found and "「会议纪要」" in found[0] and refs[0] in found[0] and "不在档案库内" in found[0]
    )


def test_checks_of_an_open_case_file_with_a_docx_pass_without_renditions(quick_cf):
    cf = quick_cf
    case = new_case(cf)
    upload(cf, case, make_docx("意见"), "意见.docx")
    report = run_checks(cf, case)
    assert report.ok and report.records == 1
    with cf.db.read() as s:
        assert s.scalars(select(ArchivalReference)).first() is None
