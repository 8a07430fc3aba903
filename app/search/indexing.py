"""What the search engine sees of an issued document (its full text from the DOCX, not the
PDF, and its metadata, including the case files it is filed in) and of an uploaded attachment
(its extracted text and what text recognition read in it, its item's title and 档号, its case
files).

Search document ids: an issued document is ``str(document.id)``, an attachment
``f"att-{attachment.id}"`` (see ``attachment_doc_id`` / ``parse_doc_id``).
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.access.policy import readable_case_files
from app.access.readers import allowed_readers
from app.casefiles.models import (
    ArchivalReference,
    Attachment,
    AttachmentOcr,
    CaseFile,
    CaseFileItem,
)
from app.common.clock import CHINA_TZ
from app.common.docx_text import docx_text
from app.container import Casefile
from app.drafting import drafts, status
from app.drafting.models import Draft, DraftVersion, IssuedDocument
from app.identity.models import Unit, User
from app.search import IndexDoc
from app.templating import doctypes
from app.templating.models import TemplateVersion

ATTACHMENT_PREFIX = "att-"
ATTACHMENT_TYPE = doctypes.ATTACHMENT_TYPE  # IndexDoc.doc_type of an attachment
ATTACHMENT_STATUS = "filed"

PARTY_FIELDS = (
    "party_a",
    "party_b",
    "adviser_name",
    "requesting_unit",
    "lawyer_name",
    "counterparty",
)


# ---- search document ids --------------------------------------------------------------------


def attachment_doc_id(attachment_id: int) -> str:
    return f"{ATTACHMENT_PREFIX}{attachment_id}"


def parse_doc_id(doc_id: str) -> tuple[str, int] | None:
    """("document", id) or ("attachment", id) for a search document id; None if neither."""
    if doc_id.isdigit():
        return "document", int(doc_id)
    rest = doc_id.removeprefix(ATTACHMENT_PREFIX)
    if rest != doc_id and rest.isdigit():
        return "attachment", int(rest)
    return None


# ---- filings: which case files hold a document or an attachment ---------------------------


@dataclass(frozen=True)
class Filing:
    item_id: int
    case_file_id: int
    case_title: str
    item_title: str
    reference: str  # 档号 of the item, "" until its case file is closed


def filings(
    session: Session, kind: str, ids: Iterable[int] | None = None
) -> dict[int, list[Filing]]:
    """{document or attachment id: its filings, in filing order}, for `kind` "document" or
    "attachment"; all of them when `ids` is None.

    Only case files of the record's own unit count. Search shows a record to the readers of its
    unit; every one of them may read a case file of that unit, but not necessarily one of
    another unit (a document filed into a parent unit's case file), whose title must then not
    reach them through the index."""
    if kind == "document":
        key, owner = CaseFileItem.document_id, IssuedDocument
    elif kind == "attachment":
        key, owner = CaseFileItem.attachment_id, Attachment
    else:
        raise ValueError(kind)
    query = (
        select(key, CaseFileItem.id, CaseFile.id, CaseFile.title, CaseFileItem.title,
               ArchivalReference.reference)
        .join(CaseFile, CaseFile.id == CaseFileItem.case_file_id)
        .join(owner, owner.id == key)
        .outerjoin(ArchivalReference, ArchivalReference.item_id == CaseFileItem.id)
        .where(key.is_not(None), owner.unit_id == CaseFile.unit_id)
        .order_by(CaseFileItem.id)
    )  # fmt: skip
    if ids is not None:
        query = query.where(key.in_(list(ids)))
    out: dict[int, list[Filing]] = {}
    for owner_id, item_id, case_id, case_title, item_title, reference in session.execute(query):
        out.setdefault(owner_id, []).append(
            Filing(item_id, case_id, case_title, item_title, reference or "")
        )
    return out


def _unique(values: Iterable[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(v for v in values if v))


def document_case_files(found: list[Filing]) -> tuple[str, ...]:
    """IndexDoc.case_files of a document: each case file's title, then the item's 档号."""
    return _unique(v for f in found for v in (f.case_title, f.reference))


def index_fingerprint(content_sha256: str, *metadata: str) -> str:
    """IndexDoc.content_hash, which `casefile verify` compares with the index: the file's
    sha256 alone while no archive metadata goes with it (so indexes of unfiled documents stay
    valid), else a hash of the file and that metadata, so a filing, a closing (档号) or a case
    file renamed that the index missed shows up as stale."""
    if not any(metadata):
        return content_sha256
    h = hashlib.sha256(content_sha256.encode())
    for value in metadata:
        h.update(b"\x1f" + value.encode())
    return h.hexdigest()


def _attachment_fields(original_name: str, found: list[Filing]) -> tuple[str, str, tuple[str, ...]]:
    """(title, number, case_files) of an attachment: the title and 档号 of its first item
    (the file name when it has none), the titles of its case files."""
    first = found[0] if found else None
    title = (first.item_title if first else "") or original_name
    number = first.reference if first else ""
    return title, number, _unique(f.case_title for f in found)


def expected_fingerprints(session: Session) -> dict[str, str]:
    """{search doc_id: content_hash} of everything the index should hold, without reading a
    file (for `casefile verify`)."""
    out: dict[str, str] = {}
    doc_filings = filings(session, "document")
    rows = session.execute(select(IssuedDocument.id, IssuedDocument.docx_sha256)).all()
    states = status.statuses_of(session, [doc_id for doc_id, _ in rows])
    for doc_id, sha in rows:
        out[str(doc_id)] = index_fingerprint(
            sha, *document_case_files(doc_filings.get(doc_id, [])), *_status_mark(states[doc_id])
        )
    att_filings = filings(session, "attachment")
    for att_id, sha, name, copy_sha in session.execute(
        select(Attachment.id, Attachment.sha256, Attachment.original_name, AttachmentOcr.pdf_sha256)
        .outerjoin(AttachmentOcr, AttachmentOcr.attachment_id == Attachment.id)
    ):  # fmt: skip
        _title, number, case_files = _attachment_fields(name, att_filings.get(att_id, []))
        out[attachment_doc_id(att_id)] = index_fingerprint(
            sha, number, *case_files, *_ocr_mark(copy_sha)
        )
    return out


def _ocr_mark(copy_sha256: str | None) -> tuple[str, ...]:
    """Recognised text in IndexDoc.content_hash, named by the copy that carries it: an index
    that missed the text shows up as stale (nothing when recognition found no text)."""
    return (f"ocr:{copy_sha256}",) if copy_sha256 else ()


def _status_mark(state: str) -> tuple[str, ...]:
    """The status in IndexDoc.content_hash: nothing while the document is in force (so indexes
    made before statuses existed stay valid), else a mark that a missed re-index shows up."""
    return () if state == status.VALID else (f"status:{state}",)


# ---- IndexDoc of an issued document and of an attachment -----------------------------------


def index_doc_for(cf: Casefile, session: Session, doc: IssuedDocument) -> IndexDoc:
    tv = session.get(TemplateVersion, doc.template_version_id)
    draft = session.get(Draft, doc.draft_id)
    version = session.get(DraftVersion, doc.approved_version_id)
    data = version.data or {}
    steps = drafts.steps_of(session, draft)
    reviewers = []
    signatory = ""
    for s in steps:
        if s.decision != "approve":
            continue
        user = session.get(User, s.user_id)
        if user.name not in reviewers:
            reviewers.append(user.name)
        if s.role == "signatory":
            signatory = user.name
    parties = tuple(
        str(data[k]) for k in PARTY_FIELDS if isinstance(data.get(k), str) and data.get(k)
    )
    doc_type = doctypes.registry(cf.catalog, session).of_template(tv.template_id)
    conclusion = str(data.get(doc_type.conclusion_field) or "") if doc_type.conclusion_field else ""
    case_files = document_case_files(filings(session, "document", [doc.id]).get(doc.id, []))
    state = status.statuses_of(session, [doc.id])[doc.id]
    return IndexDoc(
        doc_id=str(doc.id),
        number=doc.number,
        title=doc.title,
        doc_type=doc_type.search_type,
        unit_code=doc.unit.code,
        unit_name=doc.unit.name,
        issued_on=doc.issue_date,
        body=docx_text(cf.blobs.get(doc.docx_sha256)),
        case_files=case_files,
        parties=parties,
        addressee=str(data.get("addressee") or ""),
        reviewers=tuple(reviewers),
        signatory=signatory,
        conclusion=conclusion,
        status=state,
        restricted_to=tuple(sorted(allowed_readers(session, doc.draft_id) or ())),
        actors=tuple(sorted({draft.created_by, doc.issued_by, *(s.user_id for s in steps)})),
        content_hash=index_fingerprint(doc.docx_sha256, *case_files, *_status_mark(state)),
    )


def attachment_index_doc(session: Session, att: Attachment) -> IndexDoc:
    """An uploaded attachment as a search document of its own.

    Visibility: `restricted_to` stays empty. Case files (and so their attachments) are read by
    the readers of the case file's unit (casefile_policy: `unit_id in readable_units()`, plus
    the case file's creator), and an attachment belongs to that unit, so the unit scope of the
    search is exactly right; only a creator outside the unit does not find it by search."""
    found = filings(session, "attachment", [att.id]).get(att.id, [])
    title, number, case_files = _attachment_fields(att.original_name, found)
    ocr = session.scalars(
        select(AttachmentOcr).where(AttachmentOcr.attachment_id == att.id)
    ).first()
    recognised = ocr.text if ocr is not None and ocr.pdf_sha256 else ""
    unit = session.get(Unit, att.unit_id)
    uploaded = att.uploaded_at.replace(tzinfo=dt.UTC).astimezone(CHINA_TZ).date()
    return IndexDoc(
        doc_id=attachment_doc_id(att.id),
        number=number,
        title=title,
        doc_type=ATTACHMENT_TYPE,
        unit_code=unit.code,
        unit_name=unit.name,
        issued_on=uploaded,
        body="\n".join(t for t in (att.text, recognised) if t),
        case_files=case_files,
        status=ATTACHMENT_STATUS,
        restricted_to=(),
        content_hash=index_fingerprint(
            att.sha256, number, *case_files, *_ocr_mark(ocr.pdf_sha256 if ocr else None)
        ),
    )


def iter_index_docs(cf: Casefile):
    """Every issued document and every attachment as the search engine sees it, from the
    archive (source of truth)."""
    with cf.db.read() as session:
        for doc in session.scalars(select(IssuedDocument).order_by(IssuedDocument.id)).yield_per(
            200
        ):
            yield index_doc_for(cf, session, doc)
        for att in session.scalars(select(Attachment).order_by(Attachment.id)).yield_per(200):
            yield attachment_index_doc(session, att)


def rebuild_index(cf: Casefile) -> int:
    """Rebuild the whole index beside the live one and swap it in (`casefile reindex`)."""
    count = cf.search.rebuild(iter_index_docs(cf))
    cf.reset_search()  # reopen: drop handles on the files of the index that was replaced
    return count


def attachment_locations(session: Session, p, attachment_ids: Iterable[int]) -> dict[int, Filing]:
    """Where a user sees each attachment of a search result: its first filing in a case file
    they may read (`p` None: the operator, any). Attachments without one are left out."""

    out: dict[int, Filing] = {}
    ids = list(attachment_ids)
    if not ids:
        return out
    found = filings(session, "attachment", ids)
    cases = {f.case_file_id for fs in found.values() for f in fs}
    readable = cases if p is None else readable_case_files(session, p, cases)
    for att_id, fs in found.items():
        first = next((f for f in fs if f.case_file_id in readable), None)
        if first is not None:
            out[att_id] = first
    return out
