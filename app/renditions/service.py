"""What the rest of casefile calls: the issued-document rendition and the draft preview.

Contract with the outbox (app/jobs/outbox.py):

- ``make_rendition(...)`` is called for an outbox entry of an issued document. It returns a
  ``Rendition`` (store ``pdf`` as a blob, keyed by ``sha256``) or raises:
  - ``ConverterUnavailable``: LibreOffice is not installed here. Leave the entry queued and
    retry later (the service keeps running; renditions catch up once it is installed).
  - ``ConversionError``: this attempt failed (timeout, crash twice, unloadable document, fonts
    not embedded). Count the attempt and retry with back-off; after a few attempts flag it
    for an administrator.
- ``preview_pdf`` / ``preview_pages`` render a draft exactly as it will print, without
  metadata stamping (the draft has no number yet).
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from pathlib import Path

from .converter import ConversionError, Converter, get_converter
from .pdf import embedded_fonts, page_count, render_page_images, stamp_metadata


@dataclass(frozen=True)
class Rendition:
    pdf: bytes
    sha256: str  # of the PDF bytes
    docx_sha256: str
    pages: int
    fonts: list[tuple[str, bool]]


def make_rendition(
    docx_bytes: bytes,
    *,
    number: str,
    template_id: str,
    template_version: str | int,
    title: str,
    converter: Converter | None = None,
) -> Rendition:
    """PDF/A-2b rendition of an issued DOCX, stamped with number, DOCX sha256 and template."""
    docx_sha = hashlib.sha256(docx_bytes).hexdigest()
    raw = (converter or get_converter()).convert(docx_bytes)
    pdf = stamp_metadata(
        raw,
        number=number,
        docx_sha256=docx_sha,
        template_id=template_id,
        template_version=template_version,
        title=title,
    )
    fonts = embedded_fonts(pdf)
    missing = [name for name, emb in fonts if not emb]
    if missing:
        raise ConversionError(f"fonts not embedded in the rendition: {', '.join(missing)}")
    return Rendition(
        pdf=pdf,
        sha256=hashlib.sha256(pdf).hexdigest(),
        docx_sha256=docx_sha,
        pages=page_count(pdf),
        fonts=fonts,
    )


def preview_pdf(docx_bytes: bytes, *, converter: Converter | None = None) -> bytes:
    """The draft as it will print (same converter, same fonts, same PDF/A settings)."""
    return (converter or get_converter()).convert(docx_bytes)


def preview_pages(
    docx_bytes: bytes,
    *,
    dpi: int = 80,
    max_pages: int | None = 20,
    converter: Converter | None = None,
) -> list[bytes]:
    """PNG images of the draft's pages (first ``max_pages``)."""
    pdf = preview_pdf(docx_bytes, converter=converter)
    return render_page_images(pdf, dpi, first_page=1 if max_pages else None, last_page=max_pages)


def cached_preview_pdf(docx_bytes: bytes, cache_dir: Path) -> bytes:
    """preview_pdf, kept in cache_dir under the DOCX's sha256 (derived data, safe to delete).

    Raises ConversionError (or ConverterUnavailable) when LibreOffice cannot convert."""
    cache = Path(cache_dir) / f"{hashlib.sha256(docx_bytes).hexdigest()}.pdf"
    try:
        return cache.read_bytes()
    except FileNotFoundError:
        pass
    pdf = preview_pdf(docx_bytes)
    cache.parent.mkdir(parents=True, exist_ok=True)
    tmp = cache.with_name(f".{cache.name}.{os.getpid()}.tmp")
    tmp.write_bytes(pdf)
    tmp.replace(cache)
    return pdf
