"""Uploaded material for case files: checked by content (never by name), size-limited, text
extracted for search. Anything encrypted, malformed, too large, expanding too far (DOCX, OFD)
or holding active content (a PDF's JavaScript or Launch action) is refused with a message
that says why, before a byte is stored.

`inspect_upload` is pure (no session): the surfaces run it before they open the write
transaction, so a slow inspection never holds SQLite's write lock (issue 16)."""

from __future__ import annotations

import io
import os
import re
import unicodedata
import warnings
import zipfile
from dataclasses import dataclass

from app.common import media_types
from app.common.docx_text import docx_text
from app.common.upload_safety import pdf_active_content, zip_expansion_problem
from app.errors import ValidationFailed

MEDIA_TYPES = {
    "pdf": "application/pdf",
    "docx": media_types.DOCX,
    "ofd": "application/ofd",
    "jpg": "image/jpeg",
    "png": "image/png",
    "tif": "image/tiff",
}
TYPE_LABELS = {
    "pdf": "PDF",
    "docx": "DOCX",
    "ofd": "OFD",
    "jpg": "JPG",
    "png": "PNG",
    "tif": "TIFF",
}
IMAGE_TYPES = frozenset({"jpg", "png", "tif"})
MAX_IMAGE_PAGES = 500  # a multi-page TIFF
MAX_IMAGE_PIXELS = 80_000_000  # a 600-dpi A3 scan is about 70 megapixels
MAX_TEXT_CHARS = 2_000_000
_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # encrypted OOXML and old .doc live in OLE


MAX_NAME_CHARS = 255  # Attachment.original_name
_NAME_JUNK = re.compile(r"[\x00-\x1f\x7f-\x9f\u200b-\u200f\u202a-\u202e\u2066-\u2069\ufeff]")


@dataclass(frozen=True)
class InspectedUpload:
    """An upload that passed every check, ready to store: its bytes, its cleaned name, the
    name as sent (for the audit log), and what inspection found."""

    data: bytes
    name: str
    sent_name: str
    file_type: str
    media_type: str
    text: str
    pages: int | None


def refuse(name: str, reason: str) -> ValidationFailed:
    return ValidationFailed(
        f"文件“{name}”未被接收：{reason}", [{"field": "file", "label": "文件", "message": reason}]
    )


def clean_file_name(name: str | None, file_type: str | None = None) -> str:
    """The one cleaning of an uploaded file's name: the last path component, without control,
    invisible or direction-changing characters; "", "." or ".." becomes 未命名 with the
    extension of its type; a long name is shortened keeping its extension."""
    name = unicodedata.normalize("NFC", name or "")
    name = _NAME_JUNK.sub("", name.replace("\\", "/")).rsplit("/", 1)[-1].strip()
    if not name.strip("."):
        name = "未命名" + (f".{file_type}" if file_type else "")
    if len(name) > MAX_NAME_CHARS:
        stem, ext = os.path.splitext(name)
        ext = ext if len(ext) <= 16 else ""
        name = stem[: MAX_NAME_CHARS - len(ext)].rstrip() + ext
    return name


def printable_name(name: str | None, limit: int = 1000) -> str:
    """A name as sent, for the audit log: control characters written as \\xNN (a JSON column
    on PostgreSQL cannot hold U+0000)."""
    text = "".join(c if c.isprintable() else f"\\x{ord(c):02x}" for c in (name or ""))
    return text[:limit]


def sniff(data: bytes) -> str | None:
    """The file type by content: pdf, docx, ofd, jpg, png, tif (None when none of these)."""
    head = data[:1024]
    if head.lstrip()[:5] == b"%PDF-":
        return "pdf"
    if head.startswith(b"\xff\xd8\xff"):
        return "jpg"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if head[:4] in (b"II*\x00", b"MM\x00*"):
        return "tif"
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


def inspect_upload(data: bytes, name: str | None, max_bytes: int) -> InspectedUpload:
    """Check an upload and extract its text (no database: run it before the write
    transaction); raises ValidationFailed with the reason."""
    shown = clean_file_name(name)
    if not data:
        raise refuse(shown, "文件为空")
    if len(data) > max_bytes:
        raise refuse(
            shown, f"文件过大（{len(data) / 1048576:.1f} MB，上限 {max_bytes / 1048576:.0f} MB）"
        )
    if data.startswith(_OLE_MAGIC):
        raise refuse(
            shown, "文件已加密或是旧版 Office 格式（.doc），请解除密码并另存为 DOCX 或 PDF"
        )
    kind = sniff(data)
    if kind is None:
        raise refuse(
            shown, "只接收 PDF、DOCX、OFD、JPG、PNG、TIFF 文件（按文件内容判断，不看扩展名）"
        )
    if kind in ("docx", "ofd"):
        problem = zip_expansion_problem(data)
        if problem:
            raise refuse(shown, f"{TYPE_LABELS[kind]} {problem}，请检查文件后重新上传")
    text, pages = read_content(data, kind, shown)
    if kind == "pdf":
        problem = pdf_active_content(data)
        if problem:
            raise refuse(shown, f"{problem}，存档文件不得含有可执行的内容；"
                                "请另存为不含脚本的 PDF（如 PDF/A）后重新上传")  # fmt: skip
    return InspectedUpload(data=data, name=clean_file_name(name, kind), sent_name=name or "",
                           file_type=kind, media_type=MEDIA_TYPES[kind],
                           text=text[:MAX_TEXT_CHARS], pages=pages)  # fmt: skip


def read_content(data: bytes, kind: str, name: str) -> tuple[str, int | None]:
    """The text (a PDF's pages apart by form feeds) and the page count (PDF, image; None for
    DOCX and OFD) of a file of this type; ValidationFailed when it cannot be read. The one
    reading of an upload and of a transfer package's originals."""
    reader = {"pdf": _pdf, "docx": _docx, "ofd": _ofd, "jpg": _image, "png": _image, "tif": _image}
    text, pages = reader[kind](data, name)
    return text[:MAX_TEXT_CHARS], pages


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
    from PIL import Image, ImageSequence

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as img:
                w, h = img.size
                if w * h > MAX_IMAGE_PIXELS:
                    raise refuse(name, f"图片像素过多（{w}×{h}）")
                frames = getattr(img, "n_frames", 1) if img.format == "TIFF" else 1
                if frames > MAX_IMAGE_PAGES:
                    raise refuse(name, f"图片页数过多（{frames} 页，上限 {MAX_IMAGE_PAGES} 页）")
                img.verify()
            with Image.open(io.BytesIO(data)) as img:
                for frame in ImageSequence.Iterator(img) if frames > 1 else [img]:  # TIFF pages
                    fw, fh = frame.size
                    if fw * fh > MAX_IMAGE_PIXELS:
                        raise refuse(name, f"图片像素过多（{fw}×{fh}）")
                    frame.load()  # verify() does not decode pixels; a truncated file fails here
    except ValidationFailed:
        raise
    except Exception as exc:  # noqa: BLE001
        raise refuse(name, f"图片文件已损坏，无法打开（{type(exc).__name__}）") from None
    return "", frames


def image_to_pdf(data: bytes) -> bytes:
    """One PDF page per image (a TIFF may hold several), each scaled to fit an A4 page."""
    from PIL import Image, ImageSequence

    with Image.open(io.BytesIO(data)) as img:
        pages = [f.convert("RGB") if f.mode not in ("RGB", "L") else f.copy()
                 for f in ImageSequence.Iterator(img)]  # fmt: skip
    w, h = pages[0].size
    dpi = max(72.0 * w / 595, 72.0 * h / 842, 1.0)
    out = io.BytesIO()
    pages[0].save(out, format="PDF", resolution=dpi, save_all=True, append_images=pages[1:])
    return out.getvalue()
