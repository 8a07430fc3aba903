"""Small factories for case-file tests: real DOCX, PDF and PNG files, issued documents."""

from __future__ import annotations

import io

from conftest import as_user
from docx import Document
from PIL import Image
from pypdf import PdfWriter
from pypdf.generic import DictionaryObject, NameObject, StreamObject

from app.casefiles import service as casefiles
from app.drafting import drafts
from app.drafting.restrictions import restrict


def make_docx(*lines: str) -> bytes:
    doc = Document()
    for line in lines or ("专家论证意见",):
        doc.add_paragraph(line)
    buf = io.BytesIO()
    doc.save(buf)
    return buf.getvalue()


def make_pdf(pages: int = 1, password: str | None = None) -> bytes:
    writer = PdfWriter()
    for _ in range(pages):
        writer.add_blank_page(595, 842)
    if password:
        writer.encrypt(password)
    buf = io.BytesIO()
    writer.write(buf)
    return buf.getvalue()


def make_text_pdf(line: str = "Minutes of the standing meeting") -> bytes:
    """A one-page PDF with a line of its own text (Helvetica, ASCII): not a scan."""
    writer = PdfWriter()
    page = writer.add_blank_page(595, 842)
    font = DictionaryObject({NameObject("/Type"): NameObject("/Font"),
                             NameObject("/Subtype"): NameObject("/Type1"),
                             NameObject("/BaseFont"): NameObject("/Helvetica")})  # fmt: skip
    page[NameObject("/Resources")] = DictionaryObject(
        {NameObject("/Font"): DictionaryObject({NameObject("/F1"): font})})  # fmt: skip
    content = StreamObject()
    content.set_data(f"BT /F1 14 Tf 72 760 Td ({line}) Tj ET".encode("ascii"))
    page.replace_contents(content)
    buf = io.BytesIO()
    writer.write(buf)
    return buf.getvalue()


def make_png(w: int = 120, h: int = 80) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (w, h), (200, 30, 30)).save(buf, format="PNG")
    return buf.getvalue()


REVIEWERS = {"adviser": "adviser", "public-lawyer": "lawyer", "office-head": "head",
             "signatory": "signatory"}  # fmt: skip


def issue_template(cf, template_id: str, data: dict, unit: str = "FZB", restricted_to=()):
    """Issue a shipped template through its whole review chain; optionally restricted
    (知悉范围) to the named users first."""
    with cf.db.write() as s:
        clerk = as_user(s, "clerk")
        d = drafts.create_draft(cf, s, clerk, template_id, data, unit)
        if restricted_to:
            restrict(s, clerk, d.id, list(restricted_to))
        drafts.submit(cf, s, clerk, d.id)
        for step in drafts.template_of(cf, s, d).schema.review_chain:
            drafts.approve(cf, s, as_user(s, REVIEWERS[step.role]), d.id, comment="同意。")
        return drafts.issue(cf, s, clerk, d.id)


def new_case(cf, title: str = "关于城区停车收费调整的重大行政决策", user: str = "clerk", **kw):
    values = dict(kind="major-decision", unit_code="FZB", retention="Y", responsible="李文书")
    values.update(kw)
    with cf.db.write() as s:
        return casefiles.create_case_file(s, as_user(s, user), title=title, **values).id


def upload(cf, case_id: int, data: bytes, name: str, user: str = "clerk", **kw):
    with cf.db.write() as s:
        kw.setdefault("doc_date", "2026-11-01")
        kw.setdefault("responsible", "市发展改革委")
        return casefiles.add_attachment(cf, s, as_user(s, user), case_id, data, name, **kw).id


def file_document(cf, case_id: int, doc_id: int, user: str = "clerk", **kw):
    with cf.db.write() as s:
        return casefiles.add_document(s, as_user(s, user), case_id, doc_id, **kw).id


def close(cf, case_id: int, user: str = "clerk"):
    with cf.db.write() as s:
        refs = casefiles.close_case_file(
            s, as_user(s, user), case_id, default_fonds=cf.settings.fonds_code
        )
        return [r.reference for r in refs]
