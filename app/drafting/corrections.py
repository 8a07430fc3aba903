"""Correcting an issued document (更正): a new draft prefilled with the document's approved data,
reviewed like any other, that supersedes the document when it is issued (status.py)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from app import audit
from app.access.policy import Principal, can
from app.container import Casefile
from app.drafting import drafts, status
from app.drafting.models import Draft, DraftCorrection, DraftVersion, IssuedDocument
from app.errors import Forbidden, NotFound, WorkflowError
from app.templating.models import TemplateVersion


def open_correction(session: Session, doc_id: int) -> Draft | None:
    """A correction of this document still on its way (not issued), if any."""
    return session.scalars(
        select(Draft)
        .join(DraftCorrection, DraftCorrection.draft_id == Draft.id)
        .where(DraftCorrection.document_id == doc_id, Draft.status != "issued")
        .order_by(Draft.id)
    ).first()


def start_correction(
    cf: Casefile, session: Session, p: Principal, doc_id: int, *, via: str = "",
    remote_addr: str = "",
) -> Draft:  # fmt: skip
    """A draft of the same template (its latest version) and unit, prefilled with the data
    every reviewer approved for the document; issuing it supersedes the document."""
    doc = session.get(IssuedDocument, doc_id)
    if doc is None or not can(session, p, "document.read", doc):
        raise NotFound(f"文书 {doc_id} 不存在或您无权查看")
    if not can(session, p, "document.correct", doc):
        raise Forbidden("您在该文书的单位没有起草文书的权限，不能起草更正文书")
    status.refuse_if_closed(session, doc)
    pending = open_correction(session, doc.id)
    if pending is not None:
        raise WorkflowError(f"该文书已有更正草稿在办理中（草稿 {pending.id}「{pending.title}」）")
    template_id = session.scalar(
        select(TemplateVersion.template_id).where(TemplateVersion.id == doc.template_version_id)
    )
    data = dict(session.get(DraftVersion, doc.approved_version_id).data or {})
    draft = drafts.create_draft(cf, session, p, template_id, data, doc.unit.code,
                                remote_addr=remote_addr)  # fmt: skip
    session.add(DraftCorrection(draft_id=draft.id, document_id=doc.id, created_by=p.user.id))
    session.flush()
    audit.record(session, status.CORRECT_ACTION, actor=p.user, object_type="document",
                 object_id=doc.id, detail={"number": doc.number, "draft": draft.id, "via": via},
                 remote_addr=remote_addr)  # fmt: skip
    return draft
