"""Dossier PDF (cover, 卷内文件目录, bookmarks) and transfer packages that import elsewhere."""

import io
import json
import zipfile

import pytest
from casefile_factories import (
    close,
    file_document,
    make_docx,
    make_pdf,
    make_png,
    make_text_pdf,
    new_case,
    upload,
)
from conftest import issue_quick, make_settings, populate
from pypdf import PdfReader
from sqlalchemy import select

from app.casefiles import export
from app.casefiles.models import ArchivalReference, Attachment, CaseFile, CaseFileItem
from app.container import open_casefile
from app.db import Database, migrate
from app.errors import ValidationFailed
from app.integrity.checks import run_checks
from app.jobs.models import OutboxEvent
from app.renditions import extract_text

pytestmark = pytest.mark.engine_neutral  # SQLite only: see tests/conftest.py

# LibreOffice is installed by `make test` (scripts/install-system-deps.sh); a missing one fails.


@pytest.fixture
def dossier_case(quick_cf):
    cf = quick_cf
    doc = issue_quick(cf, "城区停车收费调整")
    case = new_case(cf, decided_on="2026-11-20", meeting_on="2026-11-18")
    file_document(cf, case, doc.id, role="decision")
    upload(cf, case, make_docx("专家论证意见", "同意调整方案。"), "专家论证意见.docx", role="expert-opinion",
           title="专家论证意见")  # fmt: skip
    upload(cf, case, make_pdf(2), "会议纪要.pdf", role="minutes", title="市政府常务会议纪要")
    upload(
        cf,
        case,
        make_png(300, 200),
        "公众意见.png",
        role="public-comment",
        title="公众意见汇总（扫描件）",
    )
    upload(cf, case, make_text_pdf(), "minutes.pdf", role="minutes", title="会议记录（有文字层）")
    refs = close(cf, case)
    return cf, case, refs


@pytest.fixture
def fresh_store(tmp_path):
    """Another, empty store (SQLite) to import into."""
    url = f"sqlite:///{tmp_path / 'other' / 'archive' / 'casefile.db'}"
    store = open_casefile(make_settings(tmp_path / "other", url))
    migrate.upgrade(Database(url))
    populate(store)
    yield store
    store.close()


def test_dossier_pdf_has_cover_toc_bookmarks_matching_the_items(dossier_case):
    cf, case, refs = dossier_case
    dossier, package = export.export_case_file(cf, None, case)
    reader = PdfReader(io.BytesIO(dossier.pdf))
    outline = export.read_outline(dossier.pdf)
    assert [t for t, _ in outline[:2]] == ["封面", "卷内文件目录"]
    items = outline[2:]
    assert [t for t, _ in items] == [f"{e.position}. {e.title}" for e in dossier.entries]
    assert len(items) == 5
    # each bookmark points at the page the table of contents gives (labels number items from 1)
    for (_, page_index), entry in zip(items, dossier.entries, strict=True):
        assert page_index - dossier.front_pages + 1 == entry.first_page
        assert reader.page_labels[page_index] == str(entry.first_page)
    assert [e.pages_label for e in dossier.entries][1:] == ["2", "3–4", "5", "6"]
    assert len(reader.pages) == dossier.front_pages + dossier.item_pages
    front = extract_text(dossier.pdf).split("\f")[: dossier.front_pages]
    text = "".join(front).replace(" ", "").replace("\n", "")
    assert "卷内文件目录" in text and "永久" in text
    for entry, ref in zip(dossier.entries, refs, strict=True):
        assert entry.reference == ref and ref in text
    assert reader.metadata["/Title"] == "关于城区停车收费调整的重大行政决策"
    # the renditions it made are archived and pass the four checks
    assert run_checks(cf).ok, run_checks(cf).findings


def test_package_imports_into_a_fresh_store_with_every_hash_verified(
    dossier_case, fresh_store, tmp_path
):
    cf, case, refs = dossier_case
    _, package = export.export_case_file(cf, None, case)
    with zipfile.ZipFile(io.BytesIO(package)) as zf:
        names = set(zf.namelist())
        sums = zf.read("SHA256SUMS").decode()
        meta = json.loads(zf.read("items/0001/metadata.json"))
    assert {"casefile.json", "dossier.pdf", "items/0001/original.docx", "items/0001/rendition.pdf",
            "items/0003/original.pdf", "items/0004/original.png"} <= names  # fmt: skip
    assert len(sums.splitlines()) == len(names) - 1
    assert meta["archival_code"] == refs[0] and meta["retention_period"] == "永久"
    assert meta["document_number"] and meta["signatory"] == "signatory" and meta["issuing_unit"]

    result = export.import_package(fresh_store, package)
    assert result.references == refs and result.items == 5
    with fresh_store.db.read() as s:
        imported = s.get(CaseFile, result.case_file_id)
        assert (
            imported.status == "closed" and imported.title == "关于城区停车收费调整的重大行政决策"
        )
        assert sorted(r.reference for r in s.query(ArchivalReference)) == sorted(refs)
    assert run_checks(fresh_store).ok, run_checks(fresh_store).findings
    # the scans (a PDF without text, an image) are queued for recognition as their upload was
    assert _scan_positions(fresh_store, result.case_file_id) == _scan_positions(cf, case) == [3, 4]
    # (a PDF with text of its own is not a scan: its text is read as an upload's, for search)
    with fresh_store.db.read() as s:
        typed = s.scalars(
            select(Attachment).join(CaseFileItem, CaseFileItem.attachment_id == Attachment.id)
            .where(CaseFileItem.case_file_id == result.case_file_id, CaseFileItem.position == 5)
        ).one()  # fmt: skip
        assert typed.text == "Minutes of the standing meeting"
    with pytest.raises(ValidationFailed, match="已导入"):
        export.import_package(fresh_store, package)
    # the imported case file exports again, from its stored renditions
    again = export.build_dossier(fresh_store, result.case_file_id)
    assert [e.title for e in again.entries] == [
        e.title for e in export.build_dossier(cf, case).entries
    ]


def _scan_positions(store, case_id: int) -> list[int]:
    """The positions of the items whose attachment has a text-recognition ("ocr") event."""
    with store.db.read() as s:
        queued = {e.payload["attachment_id"] for e in s.scalars(
            select(OutboxEvent).where(OutboxEvent.kind == "ocr"))}  # fmt: skip
        items = s.scalars(select(CaseFileItem).where(CaseFileItem.case_file_id == case_id))
        return sorted(i.position for i in items if i.attachment_id in queued)


def test_a_tampered_package_is_refused_naming_the_file(dossier_case, fresh_store):
    cf, case, _ = dossier_case
    package = export.build_package(cf, case)  # without the dossier PDF: quicker
    src = zipfile.ZipFile(io.BytesIO(package))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as zf:
        for info in src.infolist():
            data = src.read(info)
            if info.filename == "items/0003/original.pdf":
                data = data.replace(b"/MediaBox", b"/MediaBoX", 1)
            zf.writestr(info, data)
    with pytest.raises(ValidationFailed, match="items/0003/original.pdf"):
        export.import_package(fresh_store, out.getvalue())
    with fresh_store.db.read() as s:
        assert s.query(CaseFile).count() == 0
