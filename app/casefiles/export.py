"""Dossier export (one PDF per case file) and transfer packages (ZIP) with their import.

Long module: the dossier and the transfer package share their item metadata and file layout, and the import reads exactly what the export writes.

The dossier PDF is a cover, the 卷内文件目录 (table of contents with page numbers) and every item
as PDF — renditions for documents and DOCX uploads, images as pages — with one bookmark per
item. Page labels number the items' pages from 1, so the 页号 in the table are the page
numbers a PDF viewer shows. It is the copy a reader opens, so a scan whose text was recognised
appears as its searchable PDF/A copy (the same page images with the text layer), the original
otherwise.

A transfer package holds the originals (the record: what the 档号 and its SHA-256 name), the
PDFs, a scan's searchable copy beside its original (`searchable.pdf`, with its own SHA-256 in
the item's metadata), a metadata file per item (GB/T 33480 core elements), casefile.json and a
SHA256SUMS manifest; `import_package` reads it into another store after checking every hash
(the receiving store recognises the scans itself: the copy is derived, not the record).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import json
import posixpath
import zipfile
from dataclasses import dataclass, field

from docx import Document
from docx.enum.section import WD_ORIENT
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_BREAK
from docx.oxml.ns import qn
from docx.shared import Cm, Pt
from pypdf import PdfReader, PdfWriter
from pypdf.constants import PageLabelStyle
from sqlalchemy import select
from sqlalchemy.orm import Session, object_session

from app import audit
from app.access.policy import Principal, can
from app.blobs.store import store_blob
from app.casefiles.attachments import IMAGE_TYPES, MEDIA_TYPES, image_to_pdf, read_content
from app.casefiles.contents import hidden_items, items_of, references_of
from app.casefiles.models import (
    KINDS,
    RETENTION,
    ROLES,
    ArchivalReference,
    Attachment,
    AttachmentRendition,
    CaseFile,
    CaseFileItem,
)
from app.casefiles.ocr import ocr_result, queue_ocr
from app.casefiles.service import get_case_file, queue_index
from app.common.download import Download
from app.common.hashing import sha256_hex
from app.common.text import printable, text_problem
from app.common.upload_safety import pdf_active_content, zip_expansion_problem
from app.container import Casefile
from app.drafting.models import DraftVersion, IssuedDocument, ReviewStep
from app.errors import Forbidden, ValidationFailed
from app.identity.models import Unit, User
from app.identity.users import add_unit
from app.renditions import ConversionError, get_converter, make_rendition
from app.renditions.models import Rendition
from app.templating.models import TemplateVersion

PACKAGE_FORMAT = "casefile-transfer/1"
MAX_PACKAGE_BYTES = 2 * 1024**3


class ExportError(ValidationFailed):
    """The dossier could not be made (e.g. LibreOffice missing): the message says why."""


# ---- renditions -----------------------------------------------------------------------------


def ensure_renditions(cf: Casefile, case_id: int, converter=None) -> int:
    """Make the PDF renditions the case file still lacks (documents whose outbox entry has not
    run yet, DOCX uploads). Conversions run outside any write transaction."""

    with cf.db.read() as s:
        case = s.get(CaseFile, case_id)
        todo = []
        for item in items_of(s, case):
            if item.document_id:
                if s.scalar(select(Rendition.id).where(Rendition.document_id == item.document_id)):
                    continue
                doc = item.document
                tv = s.get(TemplateVersion, doc.template_version_id)
                todo.append(("document", doc.id, doc.docx_sha256,
                             dict(number=doc.number, template_id=tv.template_id,
                                  template_version=tv.version, title=doc.title)))  # fmt: skip
            elif item.attachment.file_type == "docx":
                att = item.attachment
                if s.scalar(
                    select(AttachmentRendition.id).where(
                        AttachmentRendition.attachment_id == att.id
                    )
                ):
                    continue
                todo.append(("attachment", att.id, att.sha256,
                             dict(number=f"附件{att.id}", template_id="attachment",
                                  template_version=0, title=item.title)))  # fmt: skip
    made = 0
    for kind, obj_id, sha, meta in todo:
        try:
            rendition = make_rendition(cf.blobs.get(sha), converter=converter, **meta)
        except ConversionError as exc:
            raise ExportError(f"无法生成 PDF 版式文件（{meta['title']}）：{exc}") from exc
        with cf.db.write() as s:
            if kind == "document":
                if s.scalar(select(Rendition.id).where(Rendition.document_id == obj_id)):
                    continue
                pdf_sha = store_blob(s, cf.blobs, rendition.pdf, "application/pdf")
                s.flush()  # the blob row before the rows that name it
                s.add(Rendition(document_id=obj_id, pdf_sha256=pdf_sha,
                                docx_sha256=rendition.docx_sha256, pages=rendition.pages))  # fmt: skip
            else:
                if s.scalar(
                    select(AttachmentRendition.id).where(
                        AttachmentRendition.attachment_id == obj_id
                    )
                ):
                    continue
                pdf_sha = store_blob(s, cf.blobs, rendition.pdf, "application/pdf")
                s.flush()  # the blob row before the rows that name it
                s.add(AttachmentRendition(attachment_id=obj_id, pdf_sha256=pdf_sha,
                                          pages=rendition.pages))  # fmt: skip
        made += 1
    return made


def rendition_sha(session: Session, item: CaseFileItem) -> str | None:
    if item.document_id:
        r = session.scalars(
            select(Rendition).where(Rendition.document_id == item.document_id)
        ).first()
        return r.pdf_sha256 if r else None
    r = session.scalars(
        select(AttachmentRendition).where(AttachmentRendition.attachment_id == item.attachment_id)
    ).first()
    return r.pdf_sha256 if r else None


def searchable_sha(session: Session, item: CaseFileItem) -> str | None:
    """The sha256 of a scanned item's PDF/A copy with its text layer (None: not a scan, not
    recognised yet, or nothing recognised)."""
    if item.attachment_id is None:
        return None
    row = ocr_result(session, item.attachment_id)
    return row.pdf_sha256 if row is not None else None


def item_pdf(cf: Casefile, session: Session, item: CaseFileItem) -> bytes | None:
    """The item as PDF, as a reader opens it: a recognised scan's searchable copy, else the
    original PDF or image; the rendition of a document or DOCX; None for OFD (kept as is: it
    has no PDF here)."""
    if (copy := searchable_sha(session, item)) is not None:
        return cf.blobs.get(copy)
    if item.document_id is None and item.attachment.file_type in {"pdf", *IMAGE_TYPES}:
        data = cf.blobs.get(item.attachment.sha256)
        return data if item.attachment.file_type == "pdf" else image_to_pdf(data)
    if item.document_id is None and item.attachment.file_type == "ofd":
        return None
    sha = rendition_sha(session, item)
    if sha is None:
        raise ExportError(f"“{item.title}”还没有 PDF 版式文件")
    return cf.blobs.get(sha)


# ---- metadata (GB/T 33480 core elements that apply) -----------------------------------------

ELEMENT_NAMES = {
    "archival_code": "档号",
    "fonds_code": "全宗号",
    "category_code": "门类代码",
    "year": "年度",
    "retention_period": "保管期限",
    "organization_code": "机构代码",
    "item_number": "件号",
    "title": "题名",
    "document_number": "文号",
    "responsible_party": "责任者",
    "issuing_unit": "发文机关",
    "signatory": "签发人",
    "date": "日期",
    "addressee": "主送",
    "copies": "份数",
    "material_type": "材料类别",
    "format": "文件格式",
    "file_name": "计算机文件名",
    "file_size": "计算机文件大小",
    "sha256": "数字摘要（SHA-256）",
    "pages": "页数",
    "searchable_sha256": "可检索副本数字摘要（SHA-256）",
}


def item_metadata(session: Session, item: CaseFileItem, ref: ArchivalReference | None,
                  pages: int | None) -> dict:  # fmt: skip
    case = session.get(CaseFile, item.case_file_id)
    meta = {
        "archival_code": ref.reference if ref else None,
        "fonds_code": ref.fonds_code if ref else None,
        "category_code": ref.category_code if ref else case.category_code,
        "year": ref.year if ref else None,
        "retention_period": RETENTION[case.retention],
        "retention_code": case.retention,
        "organization_code": ref.org_code if ref else None,
        "item_number": f"{ref.seq:04d}" if ref else None,
        "position": item.position,
        "title": item.title,
        "document_number": item.doc_number or None,
        "responsible_party": item.responsible or None,
        "issuing_unit": None,
        "signatory": None,
        "date": item.doc_date.isoformat() if item.doc_date else None,
        "addressee": None,
        "copies": None,
        "material_type": ROLES.get(item.role, item.role),
        "role": item.role,
        "pages": pages,
    }
    if item.document_id:
        doc = item.document
        version = session.get(DraftVersion, doc.approved_version_id)
        data = version.data or {}
        signer = session.scalars(
            select(User).join(ReviewStep, ReviewStep.user_id == User.id).where(
                ReviewStep.draft_id == doc.draft_id, ReviewStep.role == "signatory",
                ReviewStep.decision == "approve",
            ).order_by(ReviewStep.id.desc())
        ).first()  # fmt: skip
        meta.update(
            document_number=doc.number, issuing_unit=doc.unit.name, responsible_party=doc.unit.name,
            signatory=signer.name if signer else None, date=doc.issue_date.isoformat(),
            addressee=str(data.get("addressee") or "") or None,
            copies=data.get("copies") if isinstance(data.get("copies"), int | str) else None,
            format="DOCX", file_name=f"{doc.number}.docx", sha256=doc.docx_sha256,
            media_type=MEDIA_TYPES["docx"],
        )  # fmt: skip
    else:
        att = item.attachment
        meta.update(format=att.file_type.upper(), file_name=att.original_name, file_size=att.size,
                    sha256=att.sha256, media_type=att.media_type)  # fmt: skip
    return meta


# ---- the dossier PDF ------------------------------------------------------------------------


STATUS_NOTES = {"superseded": "已被替代", "revoked": "已撤销"}


def dossier_note(item: CaseFileItem) -> str:
    """What the 卷内文件目录 says beside a filed document no longer in force (已被替代 with
    its successor's number, 已撤销), read from the status record beside the document."""
    record = item.document.status_record if item.document_id else None
    if record is None:
        return ""
    note = STATUS_NOTES.get(record.status, record.status)
    if record.successor_id:
        found = object_session(item).get(IssuedDocument, record.successor_id)
        note += f"，由 {found.number} 替代" if found else ""
    return note


@dataclass
class DossierEntry:
    position: int
    reference: str
    number: str
    responsible: str
    title: str
    date: str
    first_page: int | None  # in the items' page numbering (from 1); None: no pages (OFD)
    last_page: int | None
    note: str = ""

    @property
    def pages_label(self) -> str:
        if self.first_page is None:
            return "—"
        if self.first_page == self.last_page:
            return str(self.first_page)
        return f"{self.first_page}–{self.last_page}"


@dataclass
class Dossier:
    pdf: bytes
    entries: list[DossierEntry]
    front_pages: int  # cover + table of contents
    item_pages: int
    outline: list[tuple[str, int]] = field(default_factory=list)  # (title, 0-based page)


def _font(run, east_asian: str, size: float | None = None, bold: bool = False) -> None:
    run.font.name = east_asian
    rpr = run._element.get_or_add_rPr()
    fonts = rpr.find(qn("w:rFonts"))
    if fonts is None:
        fonts = rpr.makeelement(qn("w:rFonts"), {})
        rpr.append(fonts)
    for attr in ("w:eastAsia", "w:ascii", "w:hAnsi"):
        fonts.set(qn(attr), east_asian)
    if size:
        run.font.size = Pt(size)
    run.bold = bold


def _para(container, text: str, font: str = "宋体", size: float = 12, bold: bool = False,
          align=None, space_after: float = 6):  # fmt: skip
    p = container.add_paragraph()
    if align is not None:
        p.alignment = align
    p.paragraph_format.space_after = Pt(space_after)
    _font(p.add_run(printable(text)), font, size, bold)  # XML takes no U+FFFE, no controls
    return p


def _front_docx(case: CaseFile, unit: Unit, entries: list[DossierEntry], refs: list[str],
                total_item_pages: int) -> tuple[bytes, bytes]:  # fmt: skip
    """(cover DOCX, table-of-contents DOCX)."""
    cover = Document()
    sec = cover.sections[0]
    sec.orientation, sec.page_width, sec.page_height = WD_ORIENT.PORTRAIT, Cm(21), Cm(29.7)
    for side in ("left_margin", "right_margin", "top_margin", "bottom_margin"):
        setattr(sec, side, Cm(2.5))
    _para(cover, "", space_after=60)
    _para(cover, "案　卷", "黑体", 36, True, WD_ALIGN_PARAGRAPH.CENTER, 40)
    _para(cover, case.title, "宋体", 20, True, WD_ALIGN_PARAGRAPH.CENTER, 40)
    dates = [e.date for e in entries if e.date]
    rows = [
        ("立卷单位", unit.name),
        ("案卷类别", KINDS.get(case.kind, case.kind)),
        ("全宗号", case.fonds_code or "（未归档）"),
        ("档号", f"{refs[0]} 至 {refs[-1]}" if refs else "（归档时生成）"),
        ("起止日期", f"{min(dates)} 至 {max(dates)}" if dates else "—"),
        ("保管期限", RETENTION.get(case.retention, case.retention)),
        ("责任人", case.responsible or "—"),
        ("卷内文件", f"{len(entries)} 件，{total_item_pages} 页"),
        ("归档日期", case.closed_at.date().isoformat() if case.closed_at else "（未归档）"),
    ]
    table = cover.add_table(rows=len(rows), cols=2)
    table.style = "Table Grid"
    table.autofit = False
    table.columns[0].width, table.columns[1].width = Cm(3.5), Cm(11.5)
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    for row, (label, value) in zip(table.rows, rows, strict=True):
        row.cells[0].width, row.cells[1].width = Cm(3.5), Cm(11.5)
        for cell, text, bold in ((row.cells[0], label, True), (row.cells[1], value, False)):
            cell.paragraphs[0].paragraph_format.space_after = Pt(4)
            _font(cell.paragraphs[0].add_run(printable(text)), "宋体", 12, bold)

    toc = Document()
    sec = toc.sections[0]
    sec.page_width, sec.page_height = Cm(21), Cm(29.7)
    for side in ("left_margin", "right_margin"):
        setattr(sec, side, Cm(1.8))
    sec.top_margin, sec.bottom_margin = Cm(2), Cm(2)
    _para(toc, "卷内文件目录", "黑体", 18, True, WD_ALIGN_PARAGRAPH.CENTER, 12)
    _para(toc, f"案卷：{case.title}", "宋体", 10.5, False, None, 6)
    headers = ["序号", "档号", "文号", "责任者", "题名", "日期", "页号"]
    widths = [Cm(1.0), Cm(4.0), Cm(2.6), Cm(2.4), Cm(4.3), Cm(2.1), Cm(1.0)]
    table = toc.add_table(rows=1, cols=len(headers))
    table.style = "Table Grid"
    table.autofit = False
    for column, width in zip(table.columns, widths, strict=True):
        column.width = width  # the grid LibreOffice lays out by
    for cell, text, width in zip(table.rows[0].cells, headers, widths, strict=True):
        cell.width = width
        _font(cell.paragraphs[0].add_run(printable(text)), "黑体", 9.5, True)
    for e in entries:
        cells = table.add_row().cells
        values = [str(e.position), e.reference or "—", e.number or "—", e.responsible or "—",
                  e.title + (f"（{e.note}）" if e.note else ""), e.date or "—", e.pages_label]  # fmt: skip
        for cell, text, width in zip(cells, values, widths, strict=True):
            cell.width = width
            _font(cell.paragraphs[0].add_run(printable(text)), "宋体", 9)
    out = []
    for doc in (cover, toc):
        buf = io.BytesIO()
        doc.save(buf)
        out.append(buf.getvalue())
    return out[0], out[1]


def _placeholder_docx(entry: DossierEntry) -> bytes:
    doc = Document()
    _para(doc, "", space_after=120)
    _para(doc, entry.title, "黑体", 16, True, WD_ALIGN_PARAGRAPH.CENTER, 20)
    _para(doc, "此件为 OFD 版式文件，按原格式保存，见移交包中的原件。", "宋体", 12, False,
          WD_ALIGN_PARAGRAPH.CENTER)  # fmt: skip
    p = doc.paragraphs[-1]
    p.add_run().add_break(WD_BREAK.LINE)
    buf = io.BytesIO()
    doc.save(buf)
    return buf.getvalue()


def build_dossier(cf: Casefile, case_id: int, converter=None) -> Dossier:
    """The case file as one PDF (cover, 卷内文件目录, items, bookmarks)."""

    converter = converter or get_converter()
    ensure_renditions(cf, case_id, converter)
    with cf.db.read() as s:
        case = s.get(CaseFile, case_id)
        unit = s.get(Unit, case.unit_id)
        refs = references_of(s, case)
        parts: list[tuple[DossierEntry, PdfReader | None]] = []
        page = 1
        for item in items_of(s, case):
            pdf = item_pdf(cf, s, item)
            ref = refs.get(item.id)
            entry = DossierEntry(  # stored text may predate the text rule: printable()
                position=item.position, reference=ref.reference if ref else "",
                number=printable(item.doc_number), responsible=printable(item.responsible),
                title=printable(item.title),
                date=item.doc_date.isoformat() if item.doc_date else "", first_page=None,
                last_page=None,
            )  # fmt: skip
            entry.note = dossier_note(item)
            if pdf is None:
                entry.note = "、".join(filter(None, (entry.note, "OFD 原件")))
                try:
                    pdf = converter.convert(_placeholder_docx(entry))
                except ConversionError as exc:
                    raise ExportError(f"无法生成案卷 PDF：{exc}") from exc
            reader = PdfReader(io.BytesIO(pdf))
            entry.first_page, entry.last_page = page, page + len(reader.pages) - 1
            page += len(reader.pages)
            parts.append((entry, reader))
        entries = [e for e, _ in parts]
        ref_list = [e.reference for e in entries if e.reference]
        try:
            cover_docx, toc_docx = _front_docx(case, unit, entries, ref_list, page - 1)
            cover_pdf = PdfReader(io.BytesIO(converter.convert(cover_docx)))
            toc_pdf = PdfReader(io.BytesIO(converter.convert(toc_docx)))
        except ConversionError as exc:
            raise ExportError(f"无法生成案卷封面和目录：{exc}") from exc
        title, unit_name = printable(case.title), printable(unit.name)

    writer = PdfWriter()
    writer.append(cover_pdf, import_outline=False)
    writer.append(toc_pdf, import_outline=False)
    front = len(writer.pages)
    outline = [("封面", 0), ("卷内文件目录", len(cover_pdf.pages))]
    for entry, reader in parts:
        start = len(writer.pages)
        writer.append(reader, import_outline=False)
        label = f"{entry.position}. {entry.title}"
        outline.append((label, start))
    for label, index in outline:
        writer.add_outline_item(title=label, page_number=index)
    writer.set_page_label(0, len(cover_pdf.pages) - 1, prefix="封面")
    writer.set_page_label(len(cover_pdf.pages), front - 1, style=PageLabelStyle.LOWERCASE_ROMAN,
                          start=1)  # fmt: skip
    if len(writer.pages) > front:
        writer.set_page_label(front, len(writer.pages) - 1, style=PageLabelStyle.DECIMAL, start=1)
    writer.page_mode = "/UseOutlines"
    writer.add_metadata({
        "/Title": title, "/Author": unit_name, "/Subject": "案卷 " + (
            f"{ref_list[0]} 至 {ref_list[-1]}" if ref_list else str(case_id)),
        "/CasefileCaseFile": str(case_id), "/Producer": "casefile",
    })  # fmt: skip
    buf = io.BytesIO()
    writer.write(buf)
    return Dossier(buf.getvalue(), entries, front, page - 1, outline)


def read_outline(pdf: bytes) -> list[tuple[str, int]]:
    """Top-level bookmarks of a PDF as (title, 0-based page index)."""
    reader = PdfReader(io.BytesIO(pdf))
    return [
        (o.title, reader.get_destination_page_number(o))
        for o in reader.outline
        if not isinstance(o, list)
    ]


# ---- transfer package -----------------------------------------------------------------------

EXTENSIONS = {"pdf": "pdf", "docx": "docx", "ofd": "ofd", "jpg": "jpg", "png": "png", "tif": "tif"}


def build_package(cf: Casefile, case_id: int, dossier: Dossier | None = None) -> bytes:
    """ZIP: casefile.json, dossier.pdf, items/NNNN/{original.*, rendition.pdf, searchable.pdf,
    metadata.json}, SHA256SUMS over every other file. The original is the record; a scan's
    searchable copy (PDF/A-2b with the recognised text) comes beside it, never instead."""
    files: dict[str, bytes] = {}
    with cf.db.read() as s:
        case = s.get(CaseFile, case_id)
        unit = s.get(Unit, case.unit_id)
        refs = references_of(s, case)
        listing = []
        for item in items_of(s, case):
            folder = f"items/{item.position:04d}"
            if item.document_id:
                original, ext = cf.blobs.get(item.document.docx_sha256), "docx"
            else:
                original, ext = (
                    cf.blobs.get(item.attachment.sha256),
                    EXTENSIONS[item.attachment.file_type],
                )
            files[f"{folder}/original.{ext}"] = original
            r_sha = rendition_sha(s, item)
            pages = None
            if r_sha:
                pdf = cf.blobs.get(r_sha)
                files[f"{folder}/rendition.pdf"] = pdf
                pages = len(PdfReader(io.BytesIO(pdf)).pages)
            elif item.attachment_id:
                pages = item.attachment.pages
            meta = item_metadata(s, item, refs.get(item.id), pages)
            meta["original"] = f"{folder}/original.{ext}"
            meta["rendition"] = f"{folder}/rendition.pdf" if r_sha else None
            meta["rendition_sha256"] = r_sha
            copy_sha = searchable_sha(s, item)
            if copy_sha is not None:
                files[f"{folder}/searchable.pdf"] = cf.blobs.get(copy_sha)
            meta["searchable"] = f"{folder}/searchable.pdf" if copy_sha else None
            meta["searchable_sha256"] = copy_sha
            meta["element_names"] = ELEMENT_NAMES
            files[f"{folder}/metadata.json"] = _json(meta)
            listing.append({"position": item.position, "metadata": f"{folder}/metadata.json",
                            "archival_code": meta["archival_code"], "title": item.title})  # fmt: skip
        files["casefile.json"] = _json({
            "format": PACKAGE_FORMAT, "exported_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
            "case_file": {
                "id": case.id, "title": case.title, "kind": case.kind, "kind_label": KINDS.get(case.kind),
                "unit_code": unit.code, "unit_name": unit.name, "responsible": case.responsible,
                "received_on": _iso(case.received_on), "reviewed_on": _iso(case.reviewed_on),
                "meeting_on": _iso(case.meeting_on), "decided_on": _iso(case.decided_on),
                "retention": case.retention, "retention_label": RETENTION.get(case.retention),
                "category_code": case.category_code, "status": case.status,
                "fonds_code": case.fonds_code, "archive_year": case.archive_year,
                "closed_at": case.closed_at.isoformat() if case.closed_at else None, "note": case.note,
            },
            "items": listing,
        })  # fmt: skip
    if dossier is not None:
        files["dossier.pdf"] = dossier.pdf
    sums = "".join(f"{sha256_hex(data)}  {name}\n" for name, data in sorted(files.items()))
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in sorted(files.items()):
            zf.writestr(name, data)
        zf.writestr("SHA256SUMS", sums)
    return buf.getvalue()


def _refuse_bad_text(info: dict, metas: list[dict]) -> None:
    """A package's text is held to the one text rule before anything is written (its values
    are kept as they are: they are another archive's record)."""
    texts = [("案卷题名", info.get("title")), ("责任人", info.get("responsible")),
             ("备注", info.get("note")), ("单位名称", info.get("unit_name"))]  # fmt: skip
    for meta in metas:
        texts += [("题名", meta.get("title")), ("责任者", meta.get("responsible_party")),
                  ("文号", meta.get("document_number"))]  # fmt: skip
    for label, value in texts:
        problem = text_problem(value) if isinstance(value, str) else None
        if problem:
            raise ValidationFailed(f"移交包中的{label}“{printable(value)[:40]}”{problem}")


def _json(obj) -> bytes:
    return json.dumps(obj, ensure_ascii=False, indent=2, sort_keys=True).encode("utf-8")


def _iso(value: dt.date | None) -> str | None:
    return value.isoformat() if value else None


@dataclass
class ImportResult:
    case_file_id: int
    items: int
    verified_files: int
    references: list[str]


def _read_package(data: bytes) -> dict[str, bytes]:
    try:
        zf = zipfile.ZipFile(io.BytesIO(data))
    except zipfile.BadZipFile:
        raise ValidationFailed("移交包不是有效的 ZIP 文件") from None
    with zf:
        total = 0
        files = {}
        for info in zf.infolist():
            name = info.filename
            if info.is_dir():
                continue
            if name.startswith("/") or ".." in name.split("/") or posixpath.normpath(name) != name:
                raise ValidationFailed(f"移交包中有不安全的路径：{name}")
            total += info.file_size
            if total > MAX_PACKAGE_BYTES:
                raise ValidationFailed("移交包解压后过大")
            files[name] = zf.read(info)
    return files


def verify_package(data: bytes) -> tuple[dict[str, bytes], dict, list[dict]]:
    """Check every hash; returns (files, casefile.json, item metadata)."""
    files = _read_package(data)
    if "SHA256SUMS" not in files or "casefile.json" not in files:
        raise ValidationFailed("移交包缺少 SHA256SUMS 或 casefile.json")
    listed = {}
    for line in files["SHA256SUMS"].decode("utf-8").splitlines():
        if line.strip():
            sha, _, name = line.partition("  ")
            listed[name] = sha
    problems = []
    for name, sha in listed.items():
        if name not in files:
            problems.append(f"{name}：文件缺失")
        elif sha256_hex(files[name]) != sha:
            problems.append(f"{name}：SHA-256 与清单不符")
    for name in files:
        if name != "SHA256SUMS" and name not in listed:
            problems.append(f"{name}：不在校验清单中")
    manifest = json.loads(files["casefile.json"])
    if manifest.get("format") != PACKAGE_FORMAT:
        problems.append(f"casefile.json：不支持的格式 {manifest.get('format')!r}")
    metas = []
    for entry in manifest.get("items", []):
        meta = json.loads(files[entry["metadata"]]) if entry["metadata"] in files else None
        if meta is None:
            problems.append(f"{entry['metadata']}：文件缺失")
            continue
        original = files.get(meta["original"])
        if original is None or sha256_hex(original) != meta["sha256"]:
            problems.append(
                f"第{meta['position']}件「{meta['title']}」：原件与元数据中的 SHA-256 不符"
            )
        if meta.get("rendition") and (
            meta["rendition"] not in files
            or sha256_hex(files[meta["rendition"]]) != meta["rendition_sha256"]
        ):
            problems.append(
                f"第{meta['position']}件「{meta['title']}」：PDF 与元数据中的 SHA-256 不符"
            )
        if meta.get("searchable") and (
            meta["searchable"] not in files
            or sha256_hex(files[meta["searchable"]]) != meta.get("searchable_sha256")
        ):
            problems.append(
                f"第{meta['position']}件「{meta['title']}」：可检索副本与元数据中的 SHA-256 不符"
            )
        metas.append(meta)
    if problems:
        raise ValidationFailed("移交包校验未通过：" + "；".join(problems[:10]),
                               [{"field": "package", "message": p} for p in problems])  # fmt: skip
    return files, manifest, metas


def import_package(cf: Casefile, data: bytes, p: Principal | None = None) -> ImportResult:
    """Read a transfer package into this store as a closed case file; every hash is checked
    before anything is written, and each stored file is checked again after writing.
    Forbidden unless `p` may import (archive.import: administrators; None: the operator)."""

    if p is not None:
        with cf.db.read() as s:
            if not can(s, p, "archive.import"):
                raise Forbidden("只有管理员可以导入移交包")
    actor = p.user if p is not None else None
    files, manifest, metas = verify_package(data)
    texts: dict[str, str] = {}  # original's path -> its text, read as an upload's is
    for meta in metas:  # the rules of every upload: nothing verify would call unsafe
        kind = meta["original"].rsplit(".", 1)[-1]
        original = files[meta["original"]]
        problem = (pdf_active_content(original) if kind == "pdf"
                   else zip_expansion_problem(original) if kind in ("docx", "ofd") else None)  # fmt: skip
        if problem:
            raise ValidationFailed(f"移交包中的“{meta['original']}”未被接收：{problem}")
        texts[meta["original"]] = read_content(original, kind, meta["original"])[0]
    package_sha = sha256_hex(data)
    info = manifest["case_file"]
    _refuse_bad_text(info, metas)
    with cf.db.write() as s:
        if s.scalar(select(CaseFile.id).where(CaseFile.imported_from == package_sha)):
            raise ValidationFailed("此移交包已导入过")
        for meta in metas:
            if meta.get("archival_code") and s.scalar(
                select(ArchivalReference.id).where(
                    ArchivalReference.reference == meta["archival_code"]
                )
            ):
                raise ValidationFailed(f"档号 {meta['archival_code']} 在本库中已存在")
        user = actor or s.scalars(select(User).order_by(User.id)).first()
        if user is None:
            raise ValidationFailed("本库还没有用户，请先运行 casefile init")
        unit = s.scalars(select(Unit).where(Unit.code == info["unit_code"])).first()
        if unit is None:
            unit = add_unit(s, info["unit_code"], info["unit_name"], None, None)
        case = CaseFile(
            title=info["title"], kind=info["kind"], unit_id=unit.id, responsible=info.get("responsible") or "",
            received_on=_date(info.get("received_on")), reviewed_on=_date(info.get("reviewed_on")),
            meeting_on=_date(info.get("meeting_on")), decided_on=_date(info.get("decided_on")),
            retention=info["retention"], category_code=info.get("category_code") or "WS",
            status="open", note=info.get("note") or "", created_by=user.id, imported_from=package_sha,
        )  # fmt: skip
        s.add(case)
        s.flush()
        refs, items, scans = [], [], 0
        for meta in sorted(metas, key=lambda m: m["position"]):
            original = files[meta["original"]]
            file_type = meta["original"].rsplit(".", 1)[-1]
            sha = store_blob(s, cf.blobs, original, MEDIA_TYPES[file_type])
            s.flush()  # the blob row before the rows that name it
            text = texts[meta["original"]]
            att = Attachment(
                sha256=sha, size=len(original), media_type=MEDIA_TYPES[file_type], file_type=file_type,
                original_name=meta.get("file_name") or meta["original"].rsplit("/", 1)[-1],
                pages=meta.get("pages"), text=text, unit_id=unit.id, uploaded_by=user.id,
            )  # fmt: skip
            s.add(att)
            s.flush()
            scans += queue_ocr(s, att)  # a scan is read by the outbox, as an upload's is
            if meta.get("rendition"):
                pdf = files[meta["rendition"]]
                pdf_sha = store_blob(s, cf.blobs, pdf, "application/pdf")
                s.flush()  # the blob row before the rows that name it
                s.add(AttachmentRendition(attachment_id=att.id, pdf_sha256=pdf_sha,
                                          pages=len(PdfReader(io.BytesIO(pdf)).pages)))  # fmt: skip
            item = CaseFileItem(
                case_file_id=case.id, position=meta["position"], role=meta.get("role") or "other",
                title=meta["title"], attachment_id=att.id, responsible=meta.get("responsible_party") or "",
                doc_date=_date(meta.get("date")), doc_number=meta.get("document_number") or "",
                added_by=user.id,
            )  # fmt: skip
            s.add(item)
            s.flush()
            items.append(item)
            if meta.get("archival_code"):
                refs.append(ArchivalReference(
                    item_id=item.id, case_file_id=case.id, reference=meta["archival_code"],
                    fonds_code=meta["fonds_code"], category_code=meta["category_code"],
                    year=meta["year"], retention=meta["retention_code"],
                    org_code=meta["organization_code"], seq=int(meta["item_number"]), sha256=sha,
                ))  # fmt: skip
        for blob_sha in {sha256_hex(files[m["original"]]) for m in metas}:
            problem = cf.blobs.check(blob_sha)
            if problem:
                raise ValidationFailed(f"导入后校验失败：{blob_sha} {problem}")
        s.add_all(refs)
        queue_index(s, items)
        if info.get("status") == "closed":
            case.status, case.closed_at, case.closed_by = (
                "closed",
                _datetime(info.get("closed_at")),
                user.id,
            )
            case.archive_year, case.fonds_code = info.get("archive_year"), info.get("fonds_code")
        s.flush()
        audit.record(s, "casefile.import", actor=actor, object_type="case_file", object_id=case.id,
                     detail={"package_sha256": package_sha, "items": len(metas),
                             "source_case_file": info.get("id"),
                             **({"ocr": scans} if scans else {})})  # fmt: skip
        return ImportResult(case.id, len(metas), len(files) - 1, [r.reference for r in refs])


def _date(value) -> dt.date | None:
    return dt.date.fromisoformat(value) if value else None


def _datetime(value) -> dt.datetime | None:
    return dt.datetime.fromisoformat(value) if value else None


# ---- one call for the CLI and the web -------------------------------------------------------


def export_case_file(cf: Casefile, p: Principal | None, case_id: int, *, want_pdf: bool = True,
                     want_package: bool = True, remote_addr: str = "") -> tuple[Dossier | None, bytes | None]:  # fmt: skip
    """Check access, build what was asked for, and record the export in the audit log."""
    with cf.db.read() as s:
        case = get_case_file(s, p, case_id, "casefile.export")
        hidden = hidden_items(s, p, items_of(s, case))
        if hidden:
            # the dossier and the package carry every item in full
            raise Forbidden(
                "案卷中第" + "、".join(str(i.position) for i in hidden) + "件文书限定了知悉范围，"
                "您不在其中，不能导出整卷；请由知悉范围内的人员导出"
            )
    dossier = build_dossier(cf, case_id) if want_pdf or want_package else None
    package = build_package(cf, case_id, dossier) if want_package else None
    with cf.db.write() as s:
        audit.record(s, "casefile.export", actor=p.user if p else None, object_type="case_file",
                     object_id=case_id, remote_addr=remote_addr,
                     detail={"pdf": want_pdf, "package": want_package,
                             "package_sha256": sha256_hex(package) if package else None})  # fmt: skip
    return (dossier if want_pdf else None), package


def export_download(cf: Casefile, p: Principal | None, case_id: int, *, package: bool,
                    remote_addr: str = "") -> Download:  # fmt: skip
    """The dossier PDF (`package` False) or the transfer package (ZIP) of a case file, named
    after its title, through `export_case_file` (access, 知悉范围, audit)."""
    with cf.db.read() as s:
        base = get_case_file(s, p, case_id, "casefile.export").title[:60]
    dossier, data = export_case_file(cf, p, case_id, want_pdf=not package, want_package=package,
                                     remote_addr=remote_addr)  # fmt: skip
    if package:
        return Download(data, "application/zip", f"{base}（移交包）.zip")
    return Download(dossier.pdf, "application/pdf", f"{base}.pdf")


def package_digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()
