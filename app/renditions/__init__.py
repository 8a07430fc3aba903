"""DOCX -> PDF/A-2b renditions through a warm LibreOffice; pypdf stamping and inspection.

See docs/renditions.md.
"""

from .converter import (
    ConversionError,
    Converter,
    ConverterUnavailable,
    OfficeSettings,
    check_docx,
    cold_convert,
    configure_office,
    get_converter,
    is_available,
)
from .pdf import (
    PdfError,
    embedded_fonts,
    extract_text,
    page_count,
    read_metadata,
    render_page_images,
    stamp_metadata,
)
from .service import Rendition, cached_preview_pdf, make_rendition, preview_pages, preview_pdf

__all__ = [
    "ConversionError",
    "Converter",
    "ConverterUnavailable",
    "OfficeSettings",
    "PdfError",
    "Rendition",
    "cached_preview_pdf",
    "check_docx",
    "cold_convert",
    "configure_office",
    "embedded_fonts",
    "extract_text",
    "get_converter",
    "is_available",
    "make_rendition",
    "page_count",
    "preview_pages",
    "preview_pdf",
    "read_metadata",
    "render_page_images",
    "stamp_metadata",
]
