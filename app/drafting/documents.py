"""Issued documents (已发文书): the one way to list, count and open them.

Lists and counts filter with `visible_documents` and a single read asks `can`, which applies
the same filter to one row; an inspector's read is audited here and nowhere else.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from app import audit
from app.access.policy import Principal, can, is_inspector_read, visible_documents
from app.common import media_types
from app.common.download import Download
from app.container import Casefile
from app.drafting import status as document_status
from app.drafting.models import IssuedDocument
from app.errors import NotFound, WorkflowError
from app.renditions.models import Rendition


class RenditionPending(WorkflowError):
    """The PDF rendition is not made yet: ask again later."""

    code = "rendition_pending"


@dataclass(frozen=True)
class DocumentPage:
    total: int
    page: int
    per_page: int
    documents: list[IssuedDocument]
    statuses: dict[int, str] = field(default_factory=dict)  # id → issued | superseded | revoked
    status: str | None = None  # the status filter it was asked for

    def status_of(self, doc: IssuedDocument) -> str:
        return self.statuses.get(doc.id, document_status.VALID)

    def status_label(self, doc: IssuedDocument) -> str:
        return document_status.label(self.status_of(doc))


def list_documents(
    session: Session, p: Principal, page: int = 1, per_page: int = 30, *, status: str | None = None
) -> DocumentPage:
    """The documents this principal may read, newest first, one page of them; `status` (有效,
    已被替代, 已撤销 or their keys) keeps only those, a bad one is refused naming `status`."""
    page, per_page = max(1, page), min(100, max(1, per_page))
    query = select(IssuedDocument).where(visible_documents(p))
    status = document_status.parse_status(status)
    if status:
        query = query.where(document_status.status_condition(status))
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    docs = list(
        session.scalars(
            query.options(selectinload(IssuedDocument.status_record))  # the status badges
            .order_by(IssuedDocument.issued_at.desc(), IssuedDocument.id.desc())
            .offset((page - 1) * per_page)
            .limit(per_page)
        )
    )
    for d in docs:
        _ = d.unit.name  # loaded while the session is open
    return DocumentPage(total=total, page=page, per_page=per_page, documents=docs,
                        statuses=document_status.statuses_of(session, [d.id for d in docs]),
                        status=status)  # fmt: skip


def count_documents(session: Session, p: Principal) -> int:
    return session.scalar(select(func.count(IssuedDocument.id)).where(visible_documents(p))) or 0


def open_document(
    session: Session,
    p: Principal,
    doc_id: int,
    action: str = "document.read",
    via: str = "",
    remote_addr: str = "",
) -> IssuedDocument:
    """The document, if this principal may read (or download) it; NotFound otherwise, so that
    a document one may not see is indistinguishable from one that does not exist. A read that
    only an inspector grant allows is written to the audit log (a download is audited by
    `document_file`, for everyone)."""
    doc = session.get(IssuedDocument, doc_id)
    if doc is None or not can(session, p, action, doc):
        raise NotFound(f"文书 {doc_id} 不存在或您无权查看")
    if action == "document.read" and is_inspector_read(p, doc.unit_id):
        detail = {"via": via} if via else {}
        audit.record(session, action, actor=p.user, object_type="document", object_id=doc.id,
                     detail=detail, remote_addr=remote_addr)  # fmt: skip
    return doc


def document_file(
    cf: Casefile,
    session: Session,
    p: Principal,
    doc_id: int,
    fmt: str = "docx",
    *,
    via: str = "",
    remote_addr: str = "",
) -> Download:
    """The issued DOCX (`fmt` "docx") or its PDF rendition ("pdf"), if `p` may download it
    (NotFound otherwise); a PDF not yet made is a conflict (409) to retry later. Every download
    is audited (document.download with the format and `via`)."""
    doc = open_document(session, p, doc_id, "document.download", via=via, remote_addr=remote_addr)
    if fmt == "pdf":
        rendition = session.scalars(
            select(Rendition).where(Rendition.document_id == doc.id)
        ).first()
        if rendition is None:
            raise RenditionPending("PDF 版式文件尚在生成中，请稍后再试")
        found = Download(cf.blobs.get(rendition.pdf_sha256), "application/pdf", f"{doc.number}.pdf")
    else:
        found = Download(cf.blobs.get(doc.docx_sha256), media_types.DOCX, f"{doc.number}.docx")
    detail = {"format": fmt} | ({"via": via} if via else {})
    audit.record(session, "document.download", actor=p.user, object_type="document",
                 object_id=doc.id, detail=detail, remote_addr=remote_addr)  # fmt: skip
    return found
