"""Each of the four shipped samples issues cleanly, and its PDF/A rendition embeds its CJK fonts
and carries the Chinese text (real LibreOffice, real PDFs)."""

import json

import pytest
from conftest import REPO, as_user

from app.common.docx_text import docx_text
from app.drafting import drafts
from app.drafting.models import IssuedDocument
from app.jobs.outbox import drain
from app.renditions import embedded_fonts, extract_text, read_metadata
from app.renditions.models import Rendition

REVIEWER = {
    "adviser": "adviser",
    "public-lawyer": "lawyer",
    "office-head": "head",
    "signatory": "signatory",
}
TEMPLATES = ["commission-letter", "legality-review-opinion", "risk-notice", "engagement-contract"]


@pytest.mark.parametrize("template_id", TEMPLATES)
def test_sample_issues_and_its_pdf_embeds_cjk_fonts(cf, template_id):
    data = json.loads((REPO / "doc_templates" / template_id / "sample.json").read_text("utf-8"))
    with cf.db.write() as s:
        clerk = as_user(s, "clerk")
        d = drafts.create_draft(cf, s, clerk, template_id, data, "FZB")
        drafts.submit(cf, s, clerk, d.id)
        for step in drafts.template_of(cf, s, d).schema.review_chain:
            drafts.approve(cf, s, as_user(s, REVIEWER[step.role]), d.id)
        doc_id = drafts.issue(cf, s, clerk, d.id).id
    assert drain(cf, ("rendition",))["done"] == 1
    with cf.db.read() as s:
        doc = s.get(IssuedDocument, doc_id)
        rendition = s.query(Rendition).filter_by(document_id=doc_id).one()
        pdf = cf.blobs.get(rendition.pdf_sha256)
        docx = cf.blobs.get(doc.docx_sha256)
    fonts = embedded_fonts(pdf)
    assert fonts and all(embedded for _, embedded in fonts), fonts
    assert any("CJK" in name or "Ming" in name or "Kai" in name for name, _ in fonts), fonts
    text = "".join(extract_text(pdf).split())
    assert doc.number in text
    first_line = next(line for line in docx_text(docx).splitlines() if len(line.strip()) >= 8)
    assert "".join(first_line.split())[:8] in text
    meta = read_metadata(pdf)
    assert doc.docx_sha256 in str(meta) and doc.number in str(meta)
