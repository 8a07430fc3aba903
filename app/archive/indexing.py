"""What the search engine sees of an issued document: its full text (from the DOCX, not the
PDF) and its metadata."""

from __future__ import annotations

import io

from docx import Document
from sqlalchemy.orm import Session

from app.auth.restrictions import allowed_readers
from app.db.models import Draft, DraftVersion, IssuedDocument, TemplateVersion, User
from app.search import IndexDoc
from app.services import Casefile
from app.workflow import drafts

PARTY_FIELDS = (
    "party_a",
    "party_b",
    "adviser_name",
    "requesting_unit",
    "lawyer_name",
    "counterparty",
)


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
    conclusion = (
        str(data.get("conclusion") or "") if tv.template_id == "legality-review-opinion" else ""
    )
    return IndexDoc(
        doc_id=str(doc.id),
        number=doc.number,
        title=doc.title,
        doc_type=tv.template_id,
        unit_code=doc.unit.code,
        unit_name=doc.unit.name,
        issued_on=doc.issue_date,
        body=docx_text(cf.blobs.get(doc.docx_sha256)),
        parties=parties,
        addressee=str(data.get("addressee") or ""),
        reviewers=tuple(reviewers),
        signatory=signatory,
        conclusion=conclusion,
        status="issued",
        restricted_to=tuple(sorted(allowed_readers(session, doc.draft_id) or ())),
        content_hash=doc.docx_sha256,
    )


def iter_index_docs(cf: Casefile):
    """Every issued document as the search engine sees it, from the archive (source of truth)."""
    from sqlalchemy import select

    with cf.db.read() as session:
        for doc in session.scalars(select(IssuedDocument).order_by(IssuedDocument.id)).yield_per(
            200
        ):
            yield index_doc_for(cf, session, doc)


def rebuild_index(cf: Casefile) -> int:
    """Rebuild the whole index beside the live one and swap it in (`casefile reindex`)."""
    count = cf.search.rebuild(iter_index_docs(cf))
    cf.reset_search()  # reopen: drop handles on the files of the index that was replaced
    return count
