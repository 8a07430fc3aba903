"""Case files: filing, uploads checked by content, 档号 at closing, read-only afterwards."""

import pytest
from casefile_factories import (
    close,
    file_document,
    issue_template,
    make_docx,
    make_pdf,
    make_png,
    new_case,
    upload,
)
from conftest import as_user, issue_quick, sample
from sqlalchemy import func, select, update
from sqlalchemy.exc import DBAPIError

from app.audit.models import AuditEntry
from app.blobs.models import Blob
from app.casefiles import service as casefiles
from app.casefiles.models import ArchivalReference, Attachment, CaseFile, CaseFileItem
from app.casefiles.service import REFERENCE_RE, format_reference
from app.errors import Forbidden, NotFound, ValidationFailed


def test_reference_format_follows_da_t_22():
    ref = format_reference("Z109", "WS", 2026, "Y", "FZB", 12)
    assert ref == "Z109-WS·2026-Y-FZB-0012"
    m = REFERENCE_RE.match(format_reference("Z001", "WS", 2026, "D30", "WY-FZB", 7))
    assert m and m["org"] == "WY-FZB" and m["seq"] == "0007" and m["retention"] == "D30"


def test_close_gives_gapless_references_and_makes_the_file_read_only(quick_cf, monkeypatch):
    cf = quick_cf
    monkeypatch.setattr(cf.settings, "fonds_code", "Z109")  # CASEFILE_FONDS_CODE
    doc = issue_quick(cf, "停车收费")
    first = new_case(cf, decided_on="2026-11-20")
    file_document(cf, first, doc.id, role="decision")
    upload(cf, first, make_docx("专家论证意见：同意"), "专家意见.docx", role="expert-opinion")
    upload(cf, first, make_png(), "公众意见扫描件.png", role="public-comment")
    second = new_case(cf, "第二个案卷", decided_on="2026-12-01")
    upload(cf, second, make_pdf(2), "会议纪要.pdf", role="minutes")

    assert close(cf, first) == [f"Z109-WS·2026-Y-FZB-{n:04d}" for n in (1, 2, 3)]
    assert close(cf, second) == ["Z109-WS·2026-Y-FZB-0004"]  # same sequence, next number
    d10 = new_case(cf, "十年期", retention="D10", decided_on="2026-05-01")
    upload(cf, d10, make_pdf(), "a.pdf")
    assert close(cf, d10) == ["Z109-WS·2026-D10-FZB-0001"]  # its own sequence

    with cf.db.read() as s:
        case = s.get(CaseFile, first)
        assert case.status == "closed" and case.archive_year == 2026 and case.fonds_code == "Z109"
        att = s.scalars(select(Attachment).where(Attachment.file_type == "docx")).one()
        assert "专家论证意见" in att.text  # kept for the search index
    with pytest.raises(Forbidden, match="已归档"):
        with cf.db.write() as s:
            casefiles.add_attachment(cf, s, as_user(s, "clerk"), first, make_pdf(), "x.pdf")
    with pytest.raises(Forbidden):
        with cf.db.write() as s:
            casefiles.update_case_file(s, as_user(s, "clerk"), first, title="改名")
    # and the database refuses it too, whatever the application does
    with pytest.raises(DBAPIError, match="read-only once closed"):
        with cf.db.write() as s:
            s.execute(update(CaseFile).where(CaseFile.id == first).values(title="改名"))
    with pytest.raises(DBAPIError, match="write-once"):
        with cf.db.write() as s:
            s.execute(update(ArchivalReference).values(seq=9))
    with pytest.raises(DBAPIError, match="read-only once closed"):  # items: until closing
        with cf.db.write() as s:
            s.execute(update(CaseFileItem).values(title="改"))
    with pytest.raises(DBAPIError, match="read-only once closed"):
        with cf.db.write() as s:
            s.add(CaseFileItem(case_file_id=first, position=9, role="other", title="x",
                               attachment_id=att.id, responsible="", doc_number="", added_by=1))  # fmt: skip
    with cf.db.read() as s:
        actions = list(
            s.scalars(select(AuditEntry.action).where(AuditEntry.object_id == str(first)))
        )
    assert actions.count("casefile.add") == 3 and "casefile.close" in actions


@pytest.mark.parametrize(
    "data, name, reason",
    [
        (make_pdf(password="secret"), "加密.pdf", "已加密"),
        (b"%PDF-1.7\n" + b"\x00garbage" * 50, "坏.pdf", "已损坏"),
        (b"MZ\x90\x00" + b"\x00" * 200, "病毒.pdf", "只接收"),  # a program named .pdf
        (make_png()[:60], "截断.png", "已损坏"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 600, "加密.docx", "已加密"),
        (b"PK\x03\x04" + b"\x00" * 100, "坏.docx", "只接收"),
    ],
    ids=["encrypted-pdf", "malformed-pdf", "exe", "truncated-png", "encrypted-docx", "bad-zip"],
)
def test_bad_uploads_are_refused_and_nothing_is_stored(quick_cf, data, name, reason):
    case = new_case(quick_cf)
    with quick_cf.db.read() as s:
        blobs_before = s.scalar(select(func.count()).select_from(Blob))
    with pytest.raises(ValidationFailed, match=reason) as info:
        upload(quick_cf, case, data, name)
    assert name in info.value.message
    with quick_cf.db.read() as s:
        assert s.scalar(select(func.count()).select_from(Attachment)) == 0
        assert s.scalar(select(func.count()).select_from(Blob)) == blobs_before


def test_oversized_upload_is_refused(quick_cf):
    quick_cf.settings.max_upload_bytes = 1000
    case = new_case(quick_cf)
    with pytest.raises(ValidationFailed, match="文件过大"):
        upload(quick_cf, case, make_pdf(3) + b" " * 2000, "大.pdf")


def test_type_is_decided_by_content_not_name(quick_cf):
    case = new_case(quick_cf)
    upload(quick_cf, case, make_png(), "看起来像.pdf")
    with quick_cf.db.read() as s:
        att = s.scalars(select(Attachment)).one()
        assert (att.file_type, att.media_type, att.original_name) == (
            "png",
            "image/png",
            "看起来像.pdf",
        )


def test_access_follows_units_and_inspector_reads_are_audited(quick_cf):
    case = new_case(quick_cf)
    with quick_cf.db.write() as s:
        with pytest.raises(NotFound):
            casefiles.get_case_file(s, as_user(s, "zr-clerk"), case)
        with pytest.raises(Forbidden):
            casefiles.create_case_file(s, as_user(s, "zr-clerk"), title="越权", kind="other",
                                       unit_code="FZB", retention="D10")  # fmt: skip
        inspector = as_user(s, "inspector")
        found = casefiles.get_case_file(s, inspector, case)
        with pytest.raises(Forbidden):
            casefiles.get_case_file(s, inspector, case, "casefile.edit")
        casefiles.record_read(s, inspector, found, "casefile.read")
        casefiles.record_read(
            s, as_user(s, "clerk"), found, "casefile.read"
        )  # own unit: not audited
    with quick_cf.db.read() as s:
        reads = list(s.scalars(select(AuditEntry).where(AuditEntry.action == "casefile.read")))
        assert [r.actor for r in reads] == ["inspector"]


def test_compliance_finds_late_review_overdue_notice_and_unreviewed_contract(cf):
    import io

    from openpyxl import load_workbook

    from app.registers.compliance import compliance_findings, to_xlsx

    late = new_case(cf, "审议早于审查", meeting_on="2026-10-01")
    upload(cf, late, make_pdf(), "审查意见.pdf", role="legality-review", doc_date="2026-10-05")
    none = new_case(cf, "没有审查意见", meeting_on="2026-10-01")
    upload(cf, none, make_pdf(), "纪要.pdf", role="minutes")
    fine = new_case(cf, "先审查后审议", meeting_on="2026-10-10")
    upload(cf, fine, make_pdf(), "审查意见.pdf", role="legality-review", doc_date="2026-10-05")
    notice = issue_template(cf, "risk-notice", sample("risk-notice") | {"reply_by": "2026-10-30"})
    answered = issue_template(cf, "risk-notice", sample("risk-notice") | {"reply_by": "2026-10-30"})
    replied_case = new_case(cf, "已反馈", kind="other")
    n2 = file_document(cf, replied_case, answered.id)
    upload(cf, replied_case, make_pdf(), "反馈.pdf", role="reply", reply_to=n2)
    contract = new_case(cf, "合同审查", kind="contract-review")
    upload(cf, contract, make_pdf(), "合同.pdf", role="contract", doc_date="2026-09-09")
    with cf.db.read() as s:
        rows = compliance_findings(s, as_user(s, "inspector"), today="2026-11-01")
        found = {(r.category, r.case_title or r.document_number) for r in rows}
        assert ("review_after_meeting", "审议早于审查") in found
        assert ("no_review", "没有审查意见") in found
        assert ("overdue_reply", notice.number) in found  # not filed anywhere, no reply
        assert ("contract_unreviewed", "合同审查") in found
        assert not {t for _, t in found if t in {"先审查后审议", "已反馈", answered.number}}
        assert compliance_findings(s, as_user(s, "zr-clerk"), today="2026-11-01") == []
        only_fzb = compliance_findings(
            s, as_user(s, "inspector"), unit_code="ZRJ", today="2026-11-01"
        )
        assert only_fzb == []
        october = compliance_findings(s, as_user(s, "inspector"), date_from="2026-10-01",
                                      date_to="2026-10-31", today="2026-11-01")  # fmt: skip
        assert "contract_unreviewed" not in {r.category for r in october}
        xlsx = to_xlsx(rows)
    sheet = load_workbook(io.BytesIO(xlsx)).active
    values = [[c.value for c in row] for row in sheet.iter_rows()]
    assert values[0][0] == "问题类别" and len(values) == len(rows) + 1
    assert any("审议早于审查" in str(v) for row in values for v in row)
    # user text that looks like a formula stays text in the export
    from dataclasses import replace as dc_replace

    evil = dc_replace(rows[0], case_title='=HYPERLINK("http://x","点此")', detail="=1+1")
    cells = [c for c in load_workbook(io.BytesIO(to_xlsx([evil]))).active[2]]
    assert {c.data_type for c in cells if str(c.value).startswith("=")} == {"s"}
