"""Case-file pages: create, upload (refusals shown), close; inspector pages and audit."""

import io

import pytest
from casefile_factories import make_pdf, make_png, new_case, upload
from openpyxl import load_workbook
from sqlalchemy import select
from webutil import csrf_from
from webutil import logged_in as _client

from app import create_app
from app.audit.models import AuditEntry

pytestmark = pytest.mark.engine_neutral  # SQLite only: see tests/conftest.py


@pytest.fixture
def app(quick_cf):
    return create_app({"TESTING": True}, casefile=quick_cf)


def test_clerk_creates_uploads_and_closes_a_case_file(app, quick_cf):
    c = _client(app, "clerk")
    token = csrf_from(c, "/casefiles/new")
    r = c.post("/casefiles/new", data={"csrf_token": token, "title": "网页建立的案卷", "kind": "major-decision",
                                       "unit": "FZB", "retention": "D30", "meeting_on": "2026-11-01",
                                       "responsible": "李文书"})  # fmt: skip
    assert r.status_code == 302
    page = r.headers["Location"]
    case_id = int(page.rstrip("/").rsplit("/", 1)[-1])
    token = csrf_from(c, page)
    ok = c.post(f"/casefiles/{case_id}/attachments", content_type="multipart/form-data", data={
        "csrf_token": token, "file": (io.BytesIO(make_pdf(1)), "纪要.pdf"), "role": "minutes",
        "title": "会议纪要", "doc_date": "2026-11-01", "responsible": "市政府办公室"}, follow_redirects=True)  # fmt: skip
    assert "已上传第1件" in ok.get_data(as_text=True)
    bad = c.post(f"/casefiles/{case_id}/attachments", content_type="multipart/form-data", data={
        "csrf_token": token, "file": (io.BytesIO(b"%PDF-1.4 broken"), "坏.pdf")}, follow_redirects=True)  # fmt: skip
    assert "坏.pdf" in bad.get_data(as_text=True) and "已损坏" in bad.get_data(as_text=True)
    closed = c.post(
        f"/casefiles/{case_id}/close",
        data={"csrf_token": token, "confirm": "1"},
        follow_redirects=True,
    )
    html = closed.get_data(as_text=True)
    assert "案卷已归档" in html and "Z001-WS·" in html and "-D30-FZB-0001" in html
    assert "上传材料" not in html  # read-only now
    listing = c.get("/casefiles?status=closed").get_data(as_text=True)
    assert "网页建立的案卷" in listing
    assert c.get(f"/casefiles/{case_id}/items/1/download").data.startswith(b"%PDF")


def test_other_units_cannot_see_a_case_file(app, quick_cf):
    case = new_case(quick_cf)
    c = _client(app, "zr-clerk")
    assert c.get(f"/casefiles/{case}").status_code == 404
    assert "关于城区停车收费" not in c.get("/casefiles").get_data(as_text=True)
    assert c.get("/compliance").status_code == 403
    assert c.get("/archive/checks").status_code == 403


def test_inspector_reads_compliance_and_checks_and_is_audited(app, quick_cf):
    case = new_case(quick_cf, "没有审查意见的决策", meeting_on="2026-10-01")
    upload(quick_cf, case, make_png(), "纪要.png", role="minutes")
    c = _client(app, "inspector")
    assert "没有审查意见的决策" in c.get(f"/casefiles/{case}").get_data(as_text=True)
    page = c.get("/compliance?unit=FZB").get_data(as_text=True)
    assert "重大行政决策无合法性审查意见" in page and "没有审查意见的决策" in page
    xlsx = c.get("/compliance?unit=FZB&format=xlsx")
    assert xlsx.status_code == 200
    rows = list(load_workbook(io.BytesIO(xlsx.data)).active.iter_rows(values_only=True))
    assert rows[0][0] == "问题类别" and any("没有审查意见的决策" in str(r) for r in rows)
    checks = c.get("/archive/checks").get_data(as_text=True)
    assert "真实性" in checks and "可用性" in checks and "通过" in checks
    with quick_cf.db.read() as s:
        actions = set(s.scalars(select(AuditEntry.action).where(AuditEntry.actor == "inspector")))
    assert {"casefile.read", "compliance.read", "compliance.export", "archive.checks"} <= actions
