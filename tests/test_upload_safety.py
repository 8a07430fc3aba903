"""Hostile uploads (issue 16, item 5): PDFs with active content, DOCX "zip bombs", file names
with NUL, `..` or 300 characters, dates of year 1, and an inspection that must not hold the
SQLite write lock while it runs."""

from __future__ import annotations

import datetime as dt
import io
import json
import threading
import time
import zipfile

import pytest
from casefile_factories import make_docx, make_pdf, new_case, upload
from conftest import as_user, make_settings, populate, sample
from pypdf import PdfReader, PdfWriter
from pypdf.generic import DecodedStreamObject, DictionaryObject, NameObject, TextStringObject
from sqlalchemy import select
from test_template_upload import GOOD, SAMPLE, SCHEMA_BYTES, docx
from webutil import api_client, csrf_from, logged_in, post_form

import app.casefiles.attachments as attachments
import app.drafting.opinions as opinions
import app.integrity.checks as checks
import app.templating.upload as template_upload
from app import audit
from app.audit.models import AuditEntry
from app.casefiles import export
from app.casefiles import service as casefiles
from app.casefiles.attachments import clean_file_name, inspect_upload
from app.casefiles.models import Attachment, CaseFile
from app.common import upload_safety
from app.common.hashing import sha256_hex
from app.common.upload_safety import pdf_active_content, zip_expansion_problem
from app.container import open_casefile
from app.db import Database, migrate
from app.drafting import drafts
from app.drafting.models import ReviewOpinion
from app.drafting.opinions import OpinionFile, check_opinion_file
from app.errors import ValidationFailed
from app.templating.inspect import inspect_template

pytestmark = pytest.mark.engine_neutral  # SQLite only: see tests/conftest.py

MAX = 25 * 1024 * 1024


# ---- PDFs with active content ---------------------------------------------------------------


def _pdf(edit) -> bytes:
    writer = PdfWriter()
    writer.add_blank_page(595, 842)
    edit(writer)
    buf = io.BytesIO()
    writer.write(buf)
    return buf.getvalue()


def _js(writer):
    writer._root_object[NameObject("/OpenAction")] = DictionaryObject(
        {
            NameObject("/S"): NameObject("/JavaScript"),
            NameObject("/JS"): TextStringObject("app.alert(1)"),
        }
    )


def _launch(writer):
    writer._root_object[NameObject("/OpenAction")] = DictionaryObject(
        {NameObject("/S"): NameObject("/Launch"), NameObject("/F"): TextStringObject("calc.exe")}
    )


def _page_aa(writer):  # an action on opening the page, of any kind
    action = DictionaryObject({NameObject("/S"): NameObject("/GoTo")})
    writer.pages[0][NameObject("/AA")] = DictionaryObject({NameObject("/O"): action})


def _escaped_js(writer):  # see _escape_js: "/JS" written as /J#53
    action = DictionaryObject({NameObject("/S"): NameObject("/Named")})
    action[NameObject("/JS")] = TextStringObject("app.alert(1)")
    writer._root_object[NameObject("/OpenAction")] = action


def _escape_js(data: bytes) -> bytes:
    """The same bytes with the name /JS written /J#53 (same length: no offset moves), so no
    "/JS" or "/JavaScript" is left to find by bytes."""
    assert data.count(b"/JS (") == 1
    return data.replace(b"/JS (", b"/J#53(")


def _text_about_js(writer):  # a page that prints "/JS /AA": content, not an action
    stream = DecodedStreamObject()
    stream.set_data(b"BT /F1 12 Tf 72 720 Td (/JS /AA /S) Tj ET")
    writer.pages[0][NameObject("/Contents")] = writer._add_object(stream)


@pytest.mark.parametrize(
    ("edit", "named"),
    [(_js, "JavaScript"), (_launch, "/Launch"), (_page_aa, "/AA"), (_escaped_js, "JavaScript")],
)
def test_a_pdf_with_active_content_is_refused_at_upload_naming_it(edit, named):
    data = _pdf(edit)
    if edit is _escaped_js:
        data = _escape_js(data)
        assert b"/JS" not in data and b"/JavaScript" not in data
    with pytest.raises(ValidationFailed) as exc:
        inspect_upload(data, "通知.pdf", MAX)
    assert named in exc.value.message and "PDF 含有" in exc.value.message
    assert exc.value.errors[0]["field"] == "file"
    assert pdf_active_content(data)  # the same rule that verify's security check applies


def test_a_pdf_that_only_prints_the_names_is_accepted():
    data = _pdf(_text_about_js)
    assert b"/JS" in data and PdfReader(io.BytesIO(data)).pages
    assert pdf_active_content(data) is None
    assert inspect_upload(data, "说明.pdf", MAX).file_type == "pdf"


def test_verify_and_every_upload_ask_the_same_rule():
    """One rule, one path: verify's security check, the case-file upload and the written
    opinion all use app/common/upload_safety.py."""
    assert checks.pdf_active_content is upload_safety.pdf_active_content
    assert attachments.pdf_active_content is upload_safety.pdf_active_content
    with pytest.raises(ValidationFailed, match="JavaScript"):
        check_opinion_file(OpinionFile("意见.pdf", _pdf(_js)))


def test_the_web_and_the_api_refuse_a_pdf_with_javascript(cf, app):
    case_id = new_case(cf)
    client = logged_in(app, "clerk")
    page = f"/casefiles/{case_id}"
    r = post_form(client, page, f"{page}/attachments",
                  {"file": (io.BytesIO(_pdf(_js)), "通知.pdf"), "title": "通知"})  # fmt: skip
    assert "PDF 含有JavaScript 脚本" in client.get(page).get_data(as_text=True), r.status_code
    api, token = api_client(cf)
    r = api.post(f"/api/v1/casefiles/{case_id}/items", headers=token("clerk"),
                 data={"file": (io.BytesIO(_pdf(_launch)), "通知.pdf")})  # fmt: skip
    assert r.status_code == 422
    assert r.json["errors"][0]["field"] == "file" and "/Launch" in r.json["message"]
    with cf.db.read() as s:
        assert s.scalar(select(Attachment.id)) is None


# ---- DOCX that expand beyond bounds ----------------------------------------------------------


def _docx_with(extra: dict[str, int], count: int = 0) -> bytes:
    """A real DOCX plus members of the given uncompressed sizes (spaces: they compress 1000:1),
    and `count` empty members."""
    buf = io.BytesIO(make_docx("正文"))
    with zipfile.ZipFile(buf, "a", compression=zipfile.ZIP_DEFLATED) as zf:
        for name, size in extra.items():
            zf.writestr(name, b" " * size)
        for i in range(count):
            zf.writestr(f"customXml/item{i}.bin", b"")
    return buf.getvalue()


@pytest.mark.parametrize(
    ("extra", "count", "said"),
    [
        ({"word/media/a.xml": 19 << 20, "word/media/b.xml": 19 << 20, "word/c.bin": 19 << 20},
         0, "解压后内容过大"),
        ({"word/bomb.xml": 21 << 20}, 0, "word/bomb.xml 解压后过大"),
        ({}, 2_001, "压缩包内文件过多"),
    ],
)  # fmt: skip
def test_a_docx_that_expands_too_far_is_refused_before_it_is_parsed(extra, count, said):
    data = _docx_with(extra, count)
    assert len(data) < 1 << 20  # under a megabyte on the wire
    with pytest.raises(ValidationFailed) as exc:
        inspect_upload(data, "意见.docx", MAX)
    assert said in exc.value.message
    with pytest.raises(ValidationFailed, match="书面意见文件未被接收"):
        check_opinion_file(OpinionFile("意见.docx", data))
    report = inspect_template("bomb", data, b"id: bomb\n")
    assert any(said in p for p in report.problems), report.problems


def test_a_member_that_lies_about_its_size_fails_its_check():
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("[Content_Types].xml", "<Types/>")
        zf.writestr("word/document.xml", b" " * 100_000)
    data = bytearray(buf.getvalue())
    # declare 10 bytes for word/document.xml in the central directory (uncompressed size)
    cd = data.rfind(b"PK\x01\x02")
    data[cd + 24 : cd + 28] = (10).to_bytes(4, "little")
    assert zip_expansion_problem(bytes(data)) is not None


def test_an_ordinary_docx_is_accepted():
    assert zip_expansion_problem(make_docx("第一条", "第二条")) is None
    assert inspect_upload(make_docx("第一条"), "办法.docx", MAX).text == "第一条"


# ---- file names -----------------------------------------------------------------------------


def test_file_names_are_cleaned_once():
    assert clean_file_name("报告\x00.exe.pdf") == "报告.exe.pdf"
    assert clean_file_name("..", "pdf") == "未命名.pdf"
    assert clean_file_name(".", "docx") == "未命名.docx"
    assert clean_file_name("../../etc/passwd") == "passwd"
    assert clean_file_name("C:\\Users\\x\\意见.docx") == "意见.docx"
    assert clean_file_name("a\u202egpj.exe") == "agpj.exe"  # no direction override
    long = clean_file_name("长" * 300 + ".pdf")
    assert len(long) == 255 and long.endswith("长.pdf")


@pytest.mark.parametrize(
    ("sent", "stored"),
    [
        ("报告\x00.pdf", "报告.pdf"),
        ("..", "未命名.pdf"),
        ("长" * 300 + ".pdf", "长" * 251 + ".pdf"),
    ],
)
def test_an_upload_keeps_its_clean_name_and_the_audit_log_the_sent_one(cf, sent, stored):
    case_id = new_case(cf)
    item_id = upload(cf, case_id, make_pdf(), sent, title="材料")
    with cf.db.read() as s:
        att = s.scalar(select(Attachment).order_by(Attachment.id.desc()))
        assert att.original_name == stored
        event = s.scalars(select(AuditEntry).where(AuditEntry.action == "casefile.add")).all()[-1]
        assert event.detail["item"] == item_id and event.detail["name"] == stored
        assert event.detail["sent_name"] == sent.replace("\x00", "\\x00")


# ---- dates ----------------------------------------------------------------------------------


@pytest.mark.parametrize("value", ["0001-01-01", "1900-05-04", "9999-12-31", dt.date(1, 1, 1)])
def test_a_case_file_date_outside_the_sane_range_is_refused_by_name(cf, value):
    with pytest.raises(ValidationFailed) as exc:
        new_case(cf, decided_on=value)
    assert exc.value.errors[0]["field"] == "decided_on"
    assert "1949-01-01" in exc.value.errors[0]["message"]
    case_id = new_case(cf, decided_on="2026-11-16")
    with pytest.raises(ValidationFailed, match="会议审议日期应在"):
        with cf.db.write() as s:
            casefiles.update_case_file(s, as_user(s, "clerk"), case_id, meeting_on=value)
    with pytest.raises(ValidationFailed) as exc:
        upload(cf, case_id, make_pdf(), "x.pdf", doc_date=value)
    assert exc.value.errors[0]["field"] == "doc_date"


def test_the_api_refuses_a_year_one_decision_naming_the_field(cf):
    api, token = api_client(cf)
    r = api.post("/api/v1/casefiles", headers=token("clerk"),
                 json={"title": "卷", "kind": "major-decision", "retention": "D10",
                       "decided_on": "0001-01-01"})  # fmt: skip
    assert r.status_code == 422
    assert [e["field"] for e in r.json["errors"]] == ["decided_on"]


# ---- inspection outside the write transaction ----------------------------------------------


@pytest.mark.parametrize("surface", ["web", "api"])
@pytest.mark.parametrize(
    "db_url", ["sqlite"], indirect=True
)  # SQLite's single writer is what an inspection must not hold
def test_a_slow_inspection_does_not_block_other_writers(cf, app, monkeypatch, surface):
    case_id = new_case(cf)
    started = threading.Event()
    real_pdf = attachments._pdf

    def slow_pdf(data, name):
        started.set()
        time.sleep(1.0)
        return real_pdf(data, name)

    monkeypatch.setattr(attachments, "_pdf", slow_pdf)
    if surface == "web":
        client = logged_in(app, "clerk")
        page = f"/casefiles/{case_id}"
        send = lambda: post_form(client, page, f"{page}/attachments",  # noqa: E731
                                 {"file": (io.BytesIO(make_pdf()), "慢.pdf")})  # fmt: skip
    else:
        api, token = api_client(cf)
        auth = token("clerk")
        send = lambda: api.post(f"/api/v1/casefiles/{case_id}/items", headers=auth,  # noqa: E731
                                data={"file": (io.BytesIO(make_pdf()), "慢.pdf")})  # fmt: skip
    results = []
    uploader = threading.Thread(target=lambda: results.append(send()))
    uploader.start()
    assert started.wait(5)
    t0 = time.monotonic()
    with cf.db.write() as s:  # another writer, e.g. a login recording its event
        audit.record(s, "test.write", actor=None)
    waited = time.monotonic() - t0
    uploader.join(10)
    assert waited < 0.5, f"a writer waited {waited:.2f} s for an upload's inspection"
    assert results and results[0].status_code in (201, 302)
    with cf.db.read() as s:
        assert s.scalar(select(Attachment.original_name)) == "慢.pdf"


# ---- transfer packages ----------------------------------------------------------------------


def test_an_imported_package_is_held_to_the_upload_rules(cf, tmp_path):
    """A package whose hashes are all correct but whose PDF runs JavaScript is refused: an
    import never brings in what verify would call unsafe."""
    case_id = new_case(cf, decided_on="2026-11-20")
    upload(cf, case_id, make_pdf(), "纪要.pdf", title="纪要")
    package = export.build_package(cf, case_id)
    src = zipfile.ZipFile(io.BytesIO(package))
    files = {i.filename: src.read(i) for i in src.infolist()}
    bad = _pdf(_js)
    files["items/0001/original.pdf"] = bad
    meta = json.loads(files["items/0001/metadata.json"])
    meta["sha256"] = sha256_hex(bad)
    files["items/0001/metadata.json"] = json.dumps(meta, ensure_ascii=False).encode()
    files["SHA256SUMS"] = "".join(
        f"{sha256_hex(data)}  {name}\n" for name, data in files.items() if name != "SHA256SUMS"
    ).encode()
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as zf:
        for name, data in files.items():
            zf.writestr(name, data)
    url = f"sqlite:///{tmp_path / 'other' / 'archive' / 'casefile.db'}"
    other = open_casefile(make_settings(tmp_path / "other", url))
    migrate.upgrade(Database(url))
    populate(other)
    try:
        with pytest.raises(ValidationFailed, match="items/0001/original.pdf.*JavaScript"):
            export.import_package(other, out.getvalue())
        with other.db.read() as s:
            assert s.query(CaseFile).count() == 0
    finally:
        other.close()


@pytest.mark.parametrize(
    "db_url", ["sqlite"], indirect=True
)  # SQLite's single writer is what a check must not hold
def test_a_slow_opinion_check_does_not_block_other_writers(cf, app, monkeypatch):
    """A reviewer's written opinion is checked before the approval's write transaction."""
    with cf.db.write() as s:
        clerk = as_user(s, "clerk")
        draft = drafts.create_draft(cf, s, clerk, "commission-letter", sample(), "FZB")
        drafts.submit(cf, s, clerk, draft.id)
        url = f"/drafts/{draft.id}"
    started = threading.Event()
    real = opinions.pdf_active_content

    def slow(data):
        started.set()
        time.sleep(1.0)
        return real(data)

    monkeypatch.setattr(opinions, "pdf_active_content", slow)
    head = logged_in(app, "head")
    token = csrf_from(head, url)
    results = []
    approve = threading.Thread(target=lambda: results.append(head.post(
        url + "/approve", content_type="multipart/form-data",
        data={"csrf_token": token, "comment": "同意。", "confirm": "1",
              "opinion_file": (io.BytesIO(make_pdf()), "意见.pdf")})))  # fmt: skip
    approve.start()
    assert started.wait(5)
    t0 = time.monotonic()
    with cf.db.write() as s:
        audit.record(s, "test.write", actor=None)
    waited = time.monotonic() - t0
    approve.join(10)
    assert waited < 0.5, f"a writer waited {waited:.2f} s for an opinion file's check"
    assert results and results[0].status_code == 302
    with cf.db.read() as s:
        assert s.scalar(select(ReviewOpinion.file_name)) == "意见.pdf"


@pytest.mark.parametrize(
    "db_url", ["sqlite"], indirect=True
)  # SQLite's single writer is what a check must not hold
def test_a_slow_template_check_does_not_block_other_writers(cf, app, monkeypatch):
    """A template upload is checked (its sample rendered) before the write transaction. A
    guard: before, the check ran inside the transaction but ahead of its first statement, so
    SQLite's lock was not yet taken; any query added ahead of it would have taken it."""
    started = threading.Event()
    real = template_upload.inspect_template

    def slow(*args, **kwargs):
        started.set()
        time.sleep(1.0)
        return real(*args, **kwargs)

    monkeypatch.setattr(template_upload, "inspect_template", slow)
    admin = logged_in(app, "admin")
    token = csrf_from(admin, "/admin/templates")
    results = []
    send = threading.Thread(target=lambda: results.append(admin.post(
        "/admin/templates", content_type="multipart/form-data",
        data={"csrf_token": token, "template_id": "memo",
              "docx": (io.BytesIO(docx(*GOOD)), "memo.docx"),
              "schema": (io.BytesIO(SCHEMA_BYTES), "schema.yaml"),
              "sample": (io.BytesIO(json.dumps(SAMPLE).encode()), "sample.json")})))  # fmt: skip
    send.start()
    assert started.wait(5)
    t0 = time.monotonic()
    with cf.db.write() as s:
        audit.record(s, "test.write", actor=None)
    waited = time.monotonic() - t0
    send.join(10)
    assert waited < 0.5, f"a writer waited {waited:.2f} s for a template's check"
    assert results and results[0].status_code == 302


def test_the_cli_refuses_a_pdf_with_javascript(cf, run_cli, tmp_path):
    case_id = new_case(cf)
    path = tmp_path / "通知.pdf"
    path.write_bytes(_pdf(_js))
    code, _, err = run_cli("case", "add", str(case_id), "--file", str(path), "--as", "clerk")
    assert code != 0 and "PDF 含有JavaScript 脚本" in err
    with cf.db.read() as s:
        assert s.scalar(select(Attachment.id)) is None
