"""What makes an uploaded file unsafe to keep, decided in one place: every upload (case-file
material, a reviewer's written opinion, a template) and `verify`'s security check ask here, so
nothing is accepted that `verify` will later call bad.

- A PDF with active content: JavaScript (/JavaScript, /JS), a Launch action, or actions run by
  themselves on opening or on an event (/AA, an /OpenAction of those kinds).
- A ZIP container (DOCX, OFD) that expands far beyond its size (a "zip bomb"): bounded by the
  member count, the total uncompressed size and the size of each XML part, read from the zip's
  central directory without extracting anything.
"""

from __future__ import annotations

import io
import zipfile

MAX_ZIP_MEMBERS = 2_000
MAX_EXPANDED_BYTES = 50 * 1024 * 1024  # all members together, uncompressed
MAX_XML_PART_BYTES = 20 * 1024 * 1024  # one XML part, uncompressed
MAX_PDF_OBJECTS = 200_000  # objects visited looking for actions: a bound on the walk itself

_ACTION_KINDS = {"/JavaScript": "JavaScript 脚本", "/Launch": "启动外部程序的动作（/Launch）"}


def pdf_active_content(data: bytes) -> str | None:
    """What active content a PDF holds, in Chinese (e.g. "PDF 含有 JavaScript 脚本"), or None.

    Two looks: the raw bytes for the long names (as written in the file), then the object
    graph read with pypdf, which also sees names written with #xx escapes and objects packed
    in compressed object streams. Stream contents (page text, images) are never searched, so a
    page that merely prints "/JS" is not refused."""
    for raw, what in ((b"/JavaScript", "JavaScript 脚本"), (b"/Launch", _ACTION_KINDS["/Launch"])):
        if raw in data:
            return f"PDF 含有{what}"
    found = _pdf_actions(data)
    return f"PDF 含有{found}" if found else None


def _pdf_actions(data: bytes) -> str | None:
    from pypdf import PdfReader  # lazy: only PDF uploads and verify need pypdf
    from pypdf.generic import ArrayObject, DictionaryObject, IndirectObject

    try:
        reader = PdfReader(io.BytesIO(data), strict=False)
        if reader.is_encrypted:
            return None  # refused as encrypted by the upload check; unreadable here
        stack: list = [reader.trailer]
        seen: set[tuple[int, int]] = set()
        while stack and len(seen) < MAX_PDF_OBJECTS:
            obj = stack.pop()
            if isinstance(obj, IndirectObject):
                key = (obj.idnum, obj.generation)
                if key in seen:
                    continue
                seen.add(key)
                obj = obj.get_object()
            if isinstance(obj, DictionaryObject):  # a stream's dictionary too, not its data
                for name, value in obj.items():
                    if name in ("/JS", "/JavaScript"):
                        return _ACTION_KINDS["/JavaScript"]
                    if name == "/AA":
                        return "打开或操作时自动执行的动作（/AA）"
                    if name == "/S" and value in _ACTION_KINDS:
                        return _ACTION_KINDS[value]
                    stack.append(value)
            elif isinstance(obj, ArrayObject):
                stack.extend(obj)
    except Exception:  # noqa: BLE001 - a broken PDF is refused (or reported) as broken elsewhere
        return None
    return None


def zip_expansion_problem(data: bytes) -> str | None:
    """Why a ZIP container (DOCX, OFD) expands too far, in Chinese, or None.

    First the central directory's declared sizes (nothing extracted); then, only when those are
    within bounds, every member is inflated in chunks and its CRC checked: `zipfile` never
    inflates a member beyond its declared size, so a member that lies about its size fails its
    CRC here instead of inflating without bound in a later reader (LibreOffice)."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            members = zf.infolist()
            problem = _declared_size_problem(members)
            if problem is None and zf.testzip() is not None:
                problem = "压缩包已损坏（校验失败）"
            return problem
    except (zipfile.BadZipFile, zipfile.LargeZipFile, NotImplementedError, EOFError) as exc:
        return f"压缩包已损坏或使用了不支持的压缩方式（{type(exc).__name__}）"
    except (ValueError, OSError, RuntimeError):  # RuntimeError: an encrypted member
        return "压缩包已损坏或已加密"


def _declared_size_problem(members: list[zipfile.ZipInfo]) -> str | None:
    if len(members) > MAX_ZIP_MEMBERS:
        return f"压缩包内文件过多（{len(members)} 个，上限 {MAX_ZIP_MEMBERS} 个）"
    total = sum(m.file_size for m in members)
    if total > MAX_EXPANDED_BYTES:
        return f"解压后内容过大（{total / 1048576:.0f} MB，上限 {MAX_EXPANDED_BYTES / 1048576:.0f} MB）"
    for m in members:
        if m.filename.lower().endswith((".xml", ".rels")) and m.file_size > MAX_XML_PART_BYTES:
            return (
                f"其中的 {m.filename[:80]} 解压后过大（{m.file_size / 1048576:.0f} MB，"
                f"上限 {MAX_XML_PART_BYTES / 1048576:.0f} MB）"
            )
    return None
