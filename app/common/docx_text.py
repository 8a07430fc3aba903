"""Plain text of a DOCX: what search indexes and what a dossier reads."""

from __future__ import annotations

import io

from docx import Document


def docx_text(data: bytes) -> str:
    """Paragraphs and table cells in document order, one line each."""
    doc = Document(io.BytesIO(data))
    lines: list[str] = []
    body = doc.element.body
    for child in body.iterchildren():
        tag = child.tag.rsplit("}", 1)[-1]
        if tag == "p":
            text = "".join(t.text or "" for t in child.iter() if t.tag.endswith("}t"))
            if text.strip():
                lines.append(text)
        elif tag == "tbl":
            for row in child.iter():
                if row.tag.endswith("}tc"):
                    text = "".join(t.text or "" for t in row.iter() if t.tag.endswith("}t"))
                    if text.strip():
                        lines.append(text)
    for section in doc.sections:
        for para in section.footer.paragraphs:
            _ = para  # page numbers only: not indexed
    return "\n".join(lines)
