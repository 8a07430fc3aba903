"""Text recognition of scanned material (OCR, 文字识别), offline.

The engine is RapidOCR (PP-OCRv4 models, shipped inside the rapidocr-onnxruntime wheel, run by
onnxruntime on the CPU): chosen over Debian's tesseract-ocr with chi_sim by the figures of
bench/ocr.py (docs/performance.md). This package knows nothing of case files: it turns an
uploaded file's bytes into page images (pages.py), reads each page (engine.py) and writes the
PDF/A copy with an invisible text layer (pdfa.py); app/casefiles/ocr.py is the service that
stores and indexes the result, run by the outbox (app/jobs/outbox.py, kind "ocr").
"""

from app.ocr.engine import ENGINE_NAME, EngineUnavailable, Line, PageText, read_page
from app.ocr.pages import page_images
from app.ocr.pdfa import PageScan, encode_page, searchable_pdf

__all__ = [
    "ENGINE_NAME",
    "EngineUnavailable",
    "Line",
    "PageScan",
    "PageText",
    "encode_page",
    "page_images",
    "read_page",
    "searchable_pdf",
]
