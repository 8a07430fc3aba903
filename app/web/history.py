"""The history page (timeline and diffs between versions) and the processing slip (发文稿纸) of
drafts and documents."""

from __future__ import annotations

import io

from flask import Blueprint, abort, g, render_template, request, send_file
from sqlalchemy import select

from app.access.policy import can
from app.common import media_types
from app.drafting import documents, drafts, history
from app.drafting.models import Draft, IssuedDocument
from app.drafting.slip import issued_slip, slip_for_document
from app.identity.models import Unit
from app.web.common import cf, login_required, remote_addr

bp = Blueprint("history", __name__)


def _history_page(s, draft: Draft, doc: IssuedDocument | None):
    versions = history.versions_of(s, draft)
    texts = {str(v.number): v.docx_sha256 for v in versions}
    if doc is not None:
        texts["issued"] = doc.docx_sha256
    default_b = "issued" if doc is not None else str(versions[-1].number)
    default_a = str(versions[-2].number) if len(versions) > 1 and doc is None else "1"
    if doc is not None:
        approved = next(v for v in versions if v.id == doc.approved_version_id)
        default_a = str(approved.number)
    a = request.args.get("a", default_a)
    b = request.args.get("b", default_b)
    if a not in texts or b not in texts:
        abort(404)
    diff = history.text_diff(history.blob_text(cf(), texts[a]), history.blob_text(cf(), texts[b]))
    tpl = drafts.template_of(cf(), s, draft)
    version = drafts.current_version(s, draft)
    _ = draft.unit.name, draft.creator.name
    return render_template(
        "history.html", draft=draft, doc=doc, versions=versions, a=a, b=b, diff=diff,
        changed=any(line.kind not in {"same", "skip"} for line in diff), timeline=history.timeline(cf(), s, draft),
        states=drafts.chain_state(s, draft, tpl, version), tpl=tpl,
        slip=issued_slip(cf(), s, doc) if doc is not None else None,
        units={u.id: u.name for u in s.scalars(select(Unit))},
    )  # fmt: skip


@bp.get("/drafts/<int:draft_id>/history")
@login_required
def draft_history(draft_id: int):
    with cf().db.read() as s:
        draft = drafts.open_draft(s, g.principal, draft_id)
        doc = s.scalars(select(IssuedDocument).where(IssuedDocument.draft_id == draft.id)).first()
        if doc is not None and not can(s, g.principal, "document.read", doc):
            doc = None
        return _history_page(s, draft, doc)


def _readable_document(s, doc_id: int) -> IssuedDocument:
    return documents.open_document(s, g.principal, doc_id, via="web", remote_addr=remote_addr())


@bp.get("/documents/<int:doc_id>/history")
@login_required
def document_history(doc_id: int):
    with cf().db.write() as s:
        doc = _readable_document(s, doc_id)
        return _history_page(s, s.get(Draft, doc.draft_id), doc)


@bp.get("/documents/<int:doc_id>/slip")
@login_required
def slip(doc_id: int):
    """发文稿纸 as a printable page; the archived DOCX is one click away."""
    with cf().db.write() as s:
        doc = _readable_document(s, doc_id)
        return render_template("slip.html", doc=doc, slip=issued_slip(cf(), s, doc))


@bp.get("/documents/<int:doc_id>/slip.docx")
@login_required
def slip_docx(doc_id: int):
    with cf().db.write() as s:
        doc = _readable_document(s, doc_id)
        data, name = slip_for_document(cf(), s, doc), f"发文稿纸-{doc.number}.docx"
    return send_file(
        io.BytesIO(data), mimetype=media_types.DOCX, as_attachment=True, download_name=name
    )
