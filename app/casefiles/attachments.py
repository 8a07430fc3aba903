"""Uploaded material for case files: checked by content (never by name), size-limited, text
extracted for search. Anything encrypted, malformed or too large is refused with a message
that says why, before a byte is stored."""

from __future__ import annotations

import io
import re
import warnings
import zipfile
from dataclasses import dataclass

from app.common import media_types
from app.common.docx_text import docx_text
from app.errors import ValidationFailed

MEDIA_TYPES = {
    "pdf": "application/pdf",
    "docx": media_types.DOCX,
    "ofd": "application/ofd",
    "jpg": "image/jpeg",
    "png": "image/png",
}
TYPE_LABELS = {"pdf": "PDF", "docx": "DOCX", "ofd": "OFD", "jpg": "JPG", "png": "PNG"}
MAX_IMAGE_PIXELS = 80_000_000  # a 600-dpi A3 scan is about 70 megapixels
MAX_TEXT_CHARS = 2_000_000
_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # encrypted OOXML and old .doc live in OLE


@dataclass(frozen=True)
class InspectedFile:
    file_type: str
    media_type: str
    text: str
    pages: int | None


def refuse(name: str, reason: str) -> ValidationFailed:
    return ValidationFailed(
        f"文件“{name}”未被接收：{reason}", [{"field": "file", "label": "文件", "message": reason}]
    )


def sniff(data: bytes) -> str | None:
    """The file type by content: pdf, docx, ofd, jpg, png (None when none of these)."""
    head = data[:1024]
    if head.lstrip()[:5] == b"%PDF-":
        return "pdf"
    if head.startswith(b"\xff\xd8\xff"):
        return "jpg"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if head.startswith(b"PK\x03\x04"):
        try:
            with zipfile.ZipFile(io.BytesIO(data)) as zf:
                names = set(zf.namelist())
        except (zipfile.BadZipFile, ValueError, OSError):
            return None
        if "word/document.xml" in names and "[Content_Types].xml" in names:
            return "docx"
        if "OFD.xml" in names:
            return "ofd"
    return None


def inspect_upload(data: bytes, name: str, max_bytes: int) -> InspectedFile:
    """Check an upload and extract its text; raises ValidationFailed with the reason."""
    if not data:
        raise refuse(name, "文件为空")
    if len(data) > max_bytes:
        raise refuse(
            name, f"文件过大（{len(data) / 1048576:.1f} MB，上限 {max_bytes / 1048576:.0f} MB）"
        )
    if data.startswith(_OLE_MAGIC):
        raise refuse(name, "文件已加密或是旧版 Office 格式（.doc），请解除密码并另存为 DOCX 或 PDF")
    kind = sniff(data)
    if kind is None:
        raise refuse(name, "只接收 PDF、DOCX、OFD、JPG、PNG 文件（按文件内容判断，不看扩展名）")
    text, pages = {"pdf": _pdf, "docx": _docx, "ofd": _ofd, "jpg": _image, "png": _image}[kind](
        data, name
    )
    return InspectedFile(kind, MEDIA_TYPES[kind], text[:MAX_TEXT_CHARS], pages)


def _pdf(data: bytes, name: str) -> tuple[str, int]:
    from pypdf import PdfReader

    try:
        reader = PdfReader(io.BytesIO(data), strict=False)
        if reader.is_encrypted:
            raise refuse(name, "PDF 已加密，请提交未加密的文件")
        pages = len(reader.pages)
        if pages == 0:
            raise refuse(name, "PDF 没有页面")
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # pypdf warns about harmless oddities
            text = "\f".join(page.extract_text() or "" for page in reader.pages)
    except ValidationFailed:
        raise
    except Exception as exc:  # noqa: BLE001 - pypdf raises many types for broken files
        raise refuse(name, f"PDF 文件已损坏，无法打开（{type(exc).__name__}）") from None
    return text, pages


def _docx(data: bytes, name: str) -> tuple[str, None]:

    try:
        return docx_text(data), None
    except Exception as exc:  # noqa: BLE001
        raise refuse(name, f"DOCX 文件已损坏，无法打开（{type(exc).__name__}）") from None


def _ofd(data: bytes, name: str) -> tuple[str, None]:
    """OFD is stored as is; its text is the TextCode elements of its page contents."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            if zf.testzip() is not None:
                raise refuse(name, "OFD 文件已损坏（压缩包校验失败）")
            parts = []
            for info in zf.infolist():
                if re.search(r"Pages/[^/]+/Content\.xml$", info.filename) and info.file_size < 20e6:
                    xml = zf.read(info).decode("utf-8", "replace")
                    parts += re.findall(r"<(?:\w+:)?TextCode[^>]*>([^<]*)<", xml)
    except ValidationFailed:
        raise
    except (zipfile.BadZipFile, OSError, RuntimeError) as exc:  # RuntimeError: encrypted member
        raise refuse(name, f"OFD 文件已损坏或已加密（{exc}）") from None
    return "".join(parts), None


def _image(data: bytes, name: str) -> tuple[str, int]:
    from PIL import Image

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as img:
                w, h = img.size
                if w * h > MAX_IMAGE_PIXELS:
                    raise refuse(name, f"图片像素过多（{w}×{h}）")
                img.verify()
            with Image.open(io.BytesIO(data)) as img:
                img.load()  # verify() does not decode the pixels; a truncated file fails here
    except ValidationFailed:
        raise
    except Exception as exc:  # noqa: BLE001
        raise refuse(name, f"图片文件已损坏，无法打开（{type(exc).__name__}）") from None
    return "", 1


def image_to_pdf(data: bytes) -> bytes:
    """One PDF page holding the image, scaled to fit an A4 page."""
    from PIL import Image

    with Image.open(io.BytesIO(data)) as img:
        img = img.convert("RGB") if img.mode not in ("RGB", "L") else img
        w, h = img.size
        dpi = max(72.0 * w / 595, 72.0 * h / 842, 1.0)
        out = io.BytesIO()
        img.save(out, format="PDF", resolution=dpi)
        return out.getvalue()
