"""Issued documents as JSON."""

from __future__ import annotations

from app.container import Casefile
from app.drafting import drafts, status
from app.drafting.models import Draft, IssuedDocument
from app.drafting.slip import slip_record
from app.identity.models import User
from app.presenters.drafts import step_payload
from app.templating.models import TemplateVersion


def document_payload(cf: Casefile, session, doc: IssuedDocument) -> dict:
    tv = session.get(TemplateVersion, doc.template_version_id)
    draft = session.get(Draft, doc.draft_id)
    issuer = session.get(User, doc.issued_by)
    return {
        "id": doc.id,
        "number": doc.number,
        "title": doc.title,
        "unit": doc.unit.code,
        "unit_name": doc.unit.name,
        "template": tv.template_id,
        "template_version": tv.version,
        "template_sha256": tv.docx_sha256,
        "issue_date": doc.issue_date.isoformat(),
        "issued_at": doc.issued_at.isoformat(timespec="seconds") + "Z",
        "issued_by": issuer.username,
        "sha256": doc.docx_sha256,
        "approved_sha256": doc.approved_sha256,
        "slip_sha256": slip.docx_sha256 if (slip := slip_record(session, doc)) else None,
        "draft": draft.id,
        "steps": [step_payload(s) for s in drafts.steps_of(session, draft)],
    } | status.status_view(session, doc).as_dict()
