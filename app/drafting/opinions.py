"""A reviewer's written opinion (书面意见): the step's comment, optionally with a PDF or DOCX file.

The file is checked by its content, not its name, stored in the write-once blob store, and its
sha256 recorded on a write-once row linked to the review step.
"""

from __future__ import annotations

import io
import re
import zipfile
from dataclasses import dataclass, field

from sqlalchemy.orm import Session

from app.blobs.store import store_blob
from app.common import media_types
from app.common.upload_safety import pdf_active_content, zip_expansion_problem
from app.container import Casefile
from app.drafting.models import ReviewOpinion, ReviewStep
from app.errors import ValidationFailed

MAX_OPINION_BYTES = 10 * 1024 * 1024
PDF_MEDIA = "application/pdf"
_UNSAFE_NAME = re.compile(r'[\x00-\x1f\x7f/\\:*?"<>|]+')


@dataclass(frozen=True)
class OpinionFile:
    name: str
    data: bytes
    _checked: list = field(default_factory=list, compare=False, repr=False)

    def checked(self) -> tuple[str, str]:
        """(media type, safe file name): `check_opinion_file`'s answer, computed once. The
        surfaces ask before they open the write transaction, so the check never holds it."""
        if not self._checked:
            self._checked.append(check_opinion_file(self))
        return self._checked[0]


def _refuse(message: str) -> ValidationFailed:
    return ValidationFailed(
        message, [{"field": "opinion_file", "label": "书面意见文件", "message": message}]
    )


def _is_docx(data: bytes) -> bool:
    if not data.startswith(b"PK\x03\x04"):
        return False
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as z:
            names = set(z.namelist())
            if "[Content_Types].xml" not in names or "word/document.xml" not in names:
                return False
            types = z.read("[Content_Types].xml")
    except (zipfile.BadZipFile, KeyError, ValueError):
        return False
    # a macro-enabled document (.docm) renamed to .docx is refused
    return b"macroEnabled" not in types and "word/vbaProject.bin" not in names


def check_opinion_file(upload: OpinionFile) -> tuple[str, str]:
    """(media type, safe file name), or ValidationFailed saying what is wrong."""
    if not upload.data:
        raise _refuse("上传的文件是空的")
    if len(upload.data) > MAX_OPINION_BYTES:
        raise _refuse("书面意见文件不能超过10MB")
    if upload.data.startswith(b"%PDF-"):
        media, suffix = PDF_MEDIA, ".pdf"
        problem = pdf_active_content(upload.data)
    elif _is_docx(upload.data):
        media, suffix = media_types.DOCX, ".docx"
        problem = zip_expansion_problem(upload.data)
    else:
        raise _refuse("书面意见文件只能是 PDF 或 Word（.docx）文件")
    if problem:  # the rules of every upload (app/common/upload_safety.py)
        raise _refuse(f"书面意见文件未被接收：{problem}")
    stem = _UNSAFE_NAME.sub("_", (upload.name or "").rsplit("/", 1)[-1]).strip(" ._")
    if stem.lower().endswith(suffix):
        stem = stem[: -len(suffix)]
    stem = stem[:150] or "书面意见"
    return media, stem + suffix


def attach_opinion(
    cf: Casefile,
    session: Session,
    step: ReviewStep,
    upload: OpinionFile | None,
    supersedes: ReviewStep | None = None,
) -> ReviewOpinion | None:
    """Record the file and/or supersession of a step (nothing when there is neither)."""
    if upload is None and supersedes is None:
        return None
    row = ReviewOpinion(step_id=step.id, supersedes_step_id=supersedes.id if supersedes else None)
    if upload is not None:
        media, name = upload.checked()
        row.file_sha256 = store_blob(session, cf.blobs, upload.data, media)
        row.file_name, row.media_type, row.size = name, media, len(upload.data)
    session.add(row)
    session.flush()
    return row
