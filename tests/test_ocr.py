"""Scanned material made searchable: an image or a scanned PDF is read in the outbox, never in
the upload; a PDF/A copy with the text layer is kept beside the untouched original; the text
is found by search like typed text, whatever brackets the query uses; a page without text is
reported. Real RapidOCR on small generated pages (one with text per test)."""

from __future__ import annotations

import io
import json
import re
import subprocess
import zipfile

import pytest
from casefile_factories import make_docx, new_case, upload
from conftest import as_user
from demostore import open_demo_store
from PIL import Image
from pypdf import PdfReader
from sqlalchemy import func, select, update

from app.access.policy import search_scope
from app.audit.models import AuditEntry
from app.casefiles import export
from app.casefiles import ocr as casefiles_ocr
from app.casefiles import service as casefiles
from app.casefiles.models import (
    ArchivalReference,
    Attachment,
    AttachmentOcr,
    CaseFile,
    CaseFileItem,
)
from app.casefiles.ocr import needs_ocr, ocr_states
from app.common.hashing import sha256_hex
from app.errors import Forbidden, NotFound, ValidationFailed
from app.integrity.verify import index_problems
from app.jobs.models import OutboxEvent
from app.jobs.outbox import drain
from app.jobs.stuck import stuck_events
from app.ocr.simulate import scanned, typed_page
from app.renditions import extract_text
from app.search import SearchQuery
from app.search.indexing import attachment_doc_id
from app.search.normalize import fold, tidy_ocr_line

NUMBER = "武政法审[2026]7号"  # as a scan of a typed 〔〕 is often read
PHRASE = "同意提交常务会议审议"
LINES = ["关于停车收费调整方案的复函", NUMBER, f"经研究，{PHRASE}。"]


def _scan_tiff(*pages: Image.Image) -> bytes:
    buf = io.BytesIO()
    pages[0].save(buf, format="TIFF", save_all=True, append_images=list(pages[1:]),
                  compression="tiff_deflate", dpi=(150, 150))  # fmt: skip
    return buf.getvalue()


def test_ocr_lines_read_as_typed_text():
    assert tidy_ocr_line("武 政 法 审 [2026] 3 与") == "武政法审〔2026〕3号"
    assert tidy_ocr_line("合同编号：武政法审【２０２６]12弓") == "合同编号：武政法审〔2026〕12号"
    assert tidy_ocr_line("武政法审〔2O26〕1号") == "武政法审〔2026〕1号"
    assert tidy_ocr_line("于 2026 年 10 月 20 日") == "于2026年10月20日"
    assert tidy_ocr_line("Public comments (scan)") == "Public comments (scan)"
    assert tidy_ocr_line("（2026）云01行初123号") == "（2026）云01行初123号"  # a court's number


def test_which_uploads_are_scans():
    assert needs_ocr("png", "") and needs_ocr("tif", "") and needs_ocr("jpg", "")
    assert needs_ocr("pdf", "") and needs_ocr("pdf", "第一页有文字的正文内容\f")
    assert not needs_ocr("pdf", "第一页有文字的正文内容\f第二页也有文字的正文内容")
    assert not needs_ocr("docx", "") and not needs_ocr("ofd", "")


def test_a_scan_is_read_in_the_outbox_and_found_by_search(cf):
    # pages the recogniser reads without enlarging them first (short side ≥ 736 px): quick
    text_page = scanned(typed_page(LINES, width=760, height=740, size=32, margin=60), seed=3)
    blank_page = scanned(Image.new("L", (300, 300), 250), seed=4)
    tiff = _scan_tiff(text_page, blank_page)
    case_id = new_case(cf)
    item_id = upload(cf, case_id, tiff, "复函扫描件.tif", title="停车收费复函（扫描件）")
    with cf.db.read() as s:
        att = s.get(Attachment, s.get(CaseFileItem, item_id).attachment_id)
        assert (att.file_type, att.pages, att.text) == ("tif", 2, "")  # nothing read on upload
        view = casefiles.open_case_file(s, as_user(s, "clerk"), case_id)
        assert view.ocr[item_id].label == "待识别"
        att_id, original = att.id, att.sha256

    assert drain(cf, ("ocr",)) == {"done": 1, "retry": 0, "failed": 0}
    with cf.db.write() as s:
        view = casefiles.open_case_file(s, as_user(s, "clerk"), case_id)
        state = view.ocr[item_id]
        assert state.note == "已识别（第 2 页未识别出文字）" and state.has_copy
        row = s.scalars(select(AttachmentOcr).where(AttachmentOcr.attachment_id == att_id)).one()
        assert row.empty_pages == [2] and row.pages == 2
        assert "武政法审〔2026〕7号" in row.text and PHRASE in row.text  # tidied before storing
        assert s.get(Attachment, att_id).sha256 == original  # the original is untouched
        assert cf.blobs.get(original) == tiff
        copy, mime, name = casefiles.item_file(cf, s, as_user(s, "clerk"), case_id, item_id,
                                               searchable=True)  # fmt: skip
        queued = s.scalars(select(OutboxEvent).where(OutboxEvent.processed_at.is_(None))).all()
        assert (queued[-1].kind, queued[-1].payload) == ("index", {"attachment_id": att_id})
    with cf.db.read() as s:  # a download is audited as its transaction commits
        last = s.scalars(select(AuditEntry).order_by(AuditEntry.seq.desc()).limit(2)).all()
        assert {e.action for e in last} == {"casefile.ocr", "casefile.download"}
    assert (mime, name) == ("application/pdf", "复函扫描件（可检索）.pdf")
    reader = PdfReader(io.BytesIO(copy))
    assert len(reader.pages) == 2
    assert b"<pdfaid:part>2</pdfaid:part>" in reader.xmp_metadata.stream.get_data()
    layer = subprocess.run(["pdftotext", "-", "-"], input=copy, capture_output=True).stdout
    assert "武政法审〔2026〕7号" in layer.decode()  # the text layer, where a viewer finds it
    fonts = subprocess.run(["pdffonts", "-"], input=copy, capture_output=True).stdout.decode()
    assert re.search(r"GlyphLessFont\s+CID TrueType\s+Identity-H\s+yes", fonts), fonts

    drain(cf, ("index",))
    assert index_problems(cf) == []  # the index holds the text verify expects (its fingerprint)
    with cf.db.read() as s:
        scope = search_scope(s, as_user(s, "clerk"))
    for query in ("武政法审（2026）7号", "武政法审〔2026〕7号", PHRASE[2:]):
        hits = cf.search.search(SearchQuery(text=query), scope).hits
        assert [h.doc_id for h in hits] == [attachment_doc_id(att_id)], query
    assert fold("〔2026〕") == fold("(2026)")  # what made the first query match


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_a_page_without_text_is_reported_not_indexed_empty(cf, app):
    from webutil import logged_in

    case_id = new_case(cf)
    blank = io.BytesIO()
    scanned(Image.new("L", (300, 300), 250)).save(blank, format="PNG")
    item_id = upload(cf, case_id, blank.getvalue(), "空白页.png")
    ocr_event = OutboxEvent.kind == "ocr"
    with cf.db.write() as s:  # as if it had failed again and again: said, not hidden
        s.execute(update(OutboxEvent).where(ocr_event).values(attempts=5, last_error="坏"))
    with cf.db.read() as s:
        assert (
            ocr_states(s, [s.get(CaseFileItem, item_id).attachment_id]).popitem()[1].label
            == "识别失败"
        )
    with cf.db.write() as s:
        s.execute(update(OutboxEvent).where(ocr_event).values(attempts=0, last_error=None))
    drain(cf, ("ocr",))
    with cf.db.read() as s:
        view = casefiles.open_case_file(s, as_user(s, "clerk"), case_id)
        assert view.ocr[item_id].label == "未识别出文字" and not view.ocr[item_id].has_copy
        row = s.scalars(select(AttachmentOcr)).one()
        assert (row.text, row.empty_pages, row.pdf_sha256) == ("", [1], None)
        with pytest.raises(NotFound, match="未识别出文字"):
            casefiles.item_file(cf, s, as_user(s, "clerk"), case_id, item_id, searchable=True)
    page = logged_in(app, "clerk").get(f"/casefiles/{case_id}").get_data(as_text=True)
    assert "文字识别：未识别出文字" in page and "可检索 PDF" not in page


def _scan_item(cf, case_id: int) -> CaseFileItem:
    with cf.db.read() as s:
        return next(
            i for i in s.scalars(select(CaseFileItem).where(CaseFileItem.case_file_id == case_id))
            if i.attachment_id and needs_ocr(i.attachment.file_type, i.attachment.text)
        )  # fmt: skip


def test_the_dossier_shows_the_text_layer_and_the_package_keeps_the_original_beside_it(demo_copy):
    # the demo's closed case file holds a scanned PNG, recognised when the demo store was built
    cf = open_demo_store(demo_copy)
    with cf.db.read() as s:
        case_id = s.scalar(select(CaseFile.id).where(CaseFile.status == "closed"))
    scan = _scan_item(cf, case_id)
    with cf.db.read() as s:
        copy = s.scalars(
            select(AttachmentOcr).where(AttachmentOcr.attachment_id == scan.attachment_id)
        ).one()
        ref = s.scalars(select(ArchivalReference).where(ArchivalReference.item_id == scan.id)).one()
        heard = next(line for line in copy.text.splitlines() if len(line) >= 8)  # a recognised line
    dossier, package = export.export_case_file(cf, None, case_id)

    # the dossier is what a reader opens: the scan's pages carry the recognised text
    entry = next(e for e in dossier.entries if e.position == scan.position)
    pages = extract_text(dossier.pdf).split("\f")
    page = pages[dossier.front_pages + entry.first_page - 1]
    assert heard.replace(" ", "") in page.replace(" ", "").replace("\n", "")
    # the package keeps the original as the record, the searchable copy beside it, both summed
    folder = f"items/{scan.position:04d}"
    with zipfile.ZipFile(io.BytesIO(package)) as zf:
        meta = json.loads(zf.read(f"{folder}/metadata.json"))
        sums = zf.read("SHA256SUMS").decode()
        original, searchable = zf.read(meta["original"]), zf.read(meta["searchable"])
    assert meta["original"] == f"{folder}/original.png" and meta["sha256"] == ref.sha256
    assert sha256_hex(original) == ref.sha256 == scan.attachment.sha256
    assert meta["searchable"] == f"{folder}/searchable.pdf"
    assert sha256_hex(searchable) == meta["searchable_sha256"] == copy.pdf_sha256
    assert f"{copy.pdf_sha256}  {folder}/searchable.pdf" in sums
    # a copy that does not match its metadata is refused, like an original
    tampered = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(package)) as src, zipfile.ZipFile(tampered, "w") as zf:
        for info in src.infolist():
            data = src.read(info)
            if info.filename == meta["searchable"]:
                data += b"%"
            elif info.filename == "SHA256SUMS":  # the manifest made to agree: metadata must not
                data = data.replace(
                    copy.pdf_sha256.encode(), sha256_hex(searchable + b"%").encode()
                )
            zf.writestr(info, data)
    with pytest.raises(ValidationFailed, match="可检索副本"):
        export.verify_package(tampered.getvalue())
    cf.close()


def test_an_administrator_queues_recognition_again(cf, app, tmp_path, db_url, monkeypatch, capsys):
    from webutil import csrf_from, logged_in

    from app.cli import main  # lazy: the CLI in this process, as tests/test_cli.py runs it

    def run(*args):
        monkeypatch.setenv("CASEFILE_ARCHIVE_DIR", str(tmp_path / "archive"))
        monkeypatch.setenv("CASEFILE_INDEX_DIR", str(tmp_path / "index"))
        monkeypatch.setenv("CASEFILE_DATABASE_URL", db_url)
        capsys.readouterr()
        code = main(["case", "ocr-redo", *args])
        out, err = capsys.readouterr()
        return code, out, err

    case_id = new_case(cf)
    blank = io.BytesIO()
    scanned(Image.new("L", (300, 300), 250)).save(blank, format="PNG")
    scan_id = upload(cf, case_id, blank.getvalue(), "公众意见.png", title="公众意见（扫描件）")
    typed_id = upload(cf, case_id, make_docx("专家论证意见"), "专家论证意见.docx")
    with cf.db.read() as s:
        att_id = s.get(CaseFileItem, scan_id).attachment_id
    ocr_event = OutboxEvent.kind == "ocr"

    # what is refused, and how: exit 2 with the reason in Chinese, nothing queued
    code, _, err = run(str(case_id), str(scan_id), "--as", "admin")
    assert code == 2 and "待识别，已在识别队列中" in err
    code, _, err = run(str(case_id), str(typed_id), "--as", "admin")
    assert code == 2 and "不是扫描件" in err
    code, _, err = run(str(case_id), "--failed", "--as", "admin")
    assert code == 2 and "二者选一" in err
    code, _, err = run("99999", "--as", "admin")
    assert code == 2 and "案卷 99999 不存在" in err
    with cf.db.write() as s:  # as if it had failed again and again (tests above: 识别失败)
        s.execute(update(OutboxEvent).where(ocr_event).values(attempts=5, last_error="坏"))
        with pytest.raises(Forbidden, match="管理员"):
            casefiles_ocr.redo_ocr(s, as_user(s, "clerk"), case_id=case_id, item_id=scan_id)
    code, _, err = run("--failed", "--as", "clerk")
    assert code == 2 and "只有管理员" in err

    # the administrator's button on the archive checks page
    admin = logged_in(app, "admin")
    assert "重新识别这 1 件" in admin.get("/archive/checks").get_data(as_text=True)
    token = csrf_from(admin, "/archive/checks")
    done = admin.post("/archive/checks/ocr-redo", data={"csrf_token": token}, follow_redirects=True)
    assert "已重新排队识别 1 件扫描件" in done.get_data(as_text=True)
    assert "重新识别这" not in done.get_data(as_text=True)
    with cf.db.write() as s:  # and it fails again
        s.execute(update(OutboxEvent).where(ocr_event, OutboxEvent.processed_at.is_(None))
                  .values(attempts=5, last_error="又坏"))  # fmt: skip

    code, out, _ = run("--failed", "--as", "admin", "--json")
    assert code == 0
    queued = json.loads(out)["queued"]
    assert [(q["case"], q["item"], q["previous_label"]) for q in queued] == [
        (case_id, scan_id, "识别失败")
    ]
    with cf.db.read() as s:
        events = s.scalars(select(OutboxEvent).where(ocr_event).order_by(OutboxEvent.id)).all()
        assert [(e.processed_at is not None, e.attempts) for e in events] == [
            (True, 5), (True, 5), (False, 0)]  # fmt: skip
        assert ocr_states(s, [att_id])[att_id].label == "待识别"
        entry = s.scalars(select(AuditEntry).order_by(AuditEntry.seq.desc()).limit(1)).one()
        assert (entry.action, entry.object_id, entry.detail["previous"]) == (
            "casefile.ocr_redo", str(case_id), "识别失败")  # fmt: skip
    assert stuck_events(cf) == []  # the failing event is closed: verify stops reporting it
    code, out, _ = run("--failed", "--as", "admin")
    assert code == 0 and "没有需要重新识别的扫描件" in out
    # a whole case file: its scans never queued (filed before recognition existed), not the rest
    old_scan = upload(cf, case_id, blank.getvalue(), "旧扫描件.png", title="旧扫描件")
    with cf.db.write() as s:
        old_att = s.get(CaseFileItem, old_scan).attachment_id
        for event in s.scalars(select(OutboxEvent).where(ocr_event)):
            if event.payload["attachment_id"] == old_att:
                s.delete(event)
    code, out, _ = run(str(case_id))  # the operator (no --as)
    assert code == 0 and "旧扫描件」（原为从未识别）" in out and "公众意见" not in out


def test_the_api_queues_recognition_again_for_an_administrator(cf):
    from webutil import api_client

    client, token = api_client(cf)
    case_id = new_case(cf)
    blank = io.BytesIO()
    scanned(Image.new("L", (300, 300), 250)).save(blank, format="PNG")
    scan_id = upload(cf, case_id, blank.getvalue(), "公众意见.png", title="公众意见（扫描件）")
    ocr_event = OutboxEvent.kind == "ocr"
    url = f"/api/v1/casefiles/{case_id}/ocr-redo"

    # still queued: refused, naming the item; a malformed id names its field; nothing written
    r = client.post(url, json={"item_id": scan_id}, headers=token("admin"))
    assert r.status_code == 422 and "待识别" in r.json["errors"][0]["message"], r.json
    r = client.post(url, json={"item_id": "第一件"}, headers=token("admin"))
    assert r.status_code == 422 and r.json["errors"][0]["field"] == "item_id", r.json
    assert (
        client.post("/api/v1/casefiles/99999/ocr-redo", headers=token("admin")).status_code == 404
    )
    with cf.db.write() as s:  # as if it had failed again and again
        s.execute(update(OutboxEvent).where(ocr_event).values(attempts=5, last_error="坏"))
    r = client.post("/api/v1/casefiles/ocr-redo-failed", headers=token("clerk"))
    assert r.status_code == 403 and "管理员" in r.json["message"], r.json
    with cf.db.read() as s:
        assert s.scalar(select(func.count()).select_from(OutboxEvent).where(ocr_event)) == 1

    r = client.post(url, json={"item_id": scan_id}, headers=token("admin"))
    assert r.status_code == 200, r.json
    assert [(q["case"], q["item"], q["previous"], q["previous_label"])
            for q in r.json["queued"]] == [(case_id, scan_id, "failed", "识别失败")]  # fmt: skip
    r = client.post("/api/v1/casefiles/ocr-redo-failed", headers=token("admin"))
    assert r.status_code == 200 and r.json == {"queued": []}, r.json
    with cf.db.read() as s:
        entries = s.scalars(
            select(AuditEntry).where(AuditEntry.action == "casefile.ocr_redo")
        ).all()  # fmt: skip
        assert [(e.object_id, e.detail.get("via")) for e in entries] == [(str(case_id), "api")]
