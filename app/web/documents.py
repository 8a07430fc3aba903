"""Issued documents: list, page, download (always through the access policy)."""

from __future__ import annotations

import io

from flask import (
    Blueprint,
    flash,
    g,
    jsonify,
    redirect,
    render_template,
    request,
    send_file,
    url_for,
)
from sqlalchemy import select

from app import audit
from app.access.policy import can
from app.drafting import corrections, documents
from app.drafting import status as document_status
from app.drafting.models import IssuedDocument
from app.drafting.slip import issued_slip, slip_for_document
from app.errors import ValidationFailed
from app.matters import service as matter_service
from app.renditions import ConversionError, cached_preview_pdf
from app.renditions.models import Rendition
from app.search.service import similar_documents
from app.templating.models import TemplateVersion
from app.web.common import cf, login_required, page_arg, remote_addr
from app.web.nav import require
from app.web.search import hit_url

bp = Blueprint("documents", __name__)
PER_PAGE = 30


def list_filters(s, action: str) -> tuple[documents.DocumentFilter, dict]:
    """The list filter from the query string, and what the filter bar needs to show it; a bad
    value is shown at the bar (the list then stays unfiltered)."""
    args = request.args
    try:
        filters, errors = documents.document_filter(
            s, doc_type=args.get("type"), unit=args.get("unit"), year=args.get("year"),
            sort=args.get("sort"), status=args.get("status"),
        ), []  # fmt: skip
    except ValidationFailed as exc:
        filters, errors = documents.DocumentFilter(), exc.errors
    context = {"filters": filters, "filter_errors": errors, "args": args, "action": action,
               "choices": documents.filter_choices(s), "sort_labels": documents.SORT_LABELS}  # fmt: skip
    return filters, context


@bp.get("/documents")
@login_required
def index():
    require("document.read")
    page = page_arg()
    with cf().db.read() as s:
        filters, context = list_filters(s, url_for("documents.index"))
        listing = documents.list_documents(s, g.principal, page, PER_PAGE, filters)
        docs, total = listing.documents, listing.total
        query = {
            k: v
            for k, v in request.args.items()
            if k in {"type", "unit", "year", "sort", "status"} and v
        }
        return render_template(
            "documents.html", docs=docs, page=page, total=total, per_page=PER_PAGE, query=query,
            **context,
        ), (400 if context["filter_errors"] else 200)  # fmt: skip


@bp.get("/documents/lookup")
@login_required
def lookup():
    """The picker's answers as you type (JSON): documents this user may read whose number (any
    bracket style) or title holds `q`, through the documents service's list rule."""
    require("document.read")
    with cf().db.read() as s:
        found = documents.lookup_documents(s, g.principal, request.args.get("q", ""), limit=10)
        return jsonify([{"id": d.id, "number": d.number, "title": d.title, "unit": d.unit.name,
                         "issue_date": d.issue_date.isoformat()} for d in found])  # fmt: skip


def _readable(s, doc_id: int, action: str = "document.read") -> IssuedDocument:
    return documents.open_document(
        s, g.principal, doc_id, action, via="web", remote_addr=remote_addr()
    )


@bp.get("/documents/<int:doc_id>")
@login_required
def show(doc_id: int):
    return _show(doc_id)


def _show(doc_id: int, errors: dict[str, str] | None = None, code: int = 200):
    with cf().db.write() as s:
        doc = _readable(s, doc_id)
        state = document_status.status_view(s, doc)
        p = g.principal
        correction = corrections.open_correction(s, doc.id)
        acts = {  # what this user may do to it here (not `may`: the templates' policy function)
            "correct": state.in_force and can(s, p, "document.correct", doc)
            and correction is None,
            "revoke": state.in_force and can(s, p, "document.revoke", doc),
        }  # fmt: skip
        draft = doc.draft
        tv = s.get(TemplateVersion, doc.template_version_id)
        slip = issued_slip(cf(), s, doc)  # the review chain and who issued it (never changes)
        rendition = s.scalars(select(Rendition).where(Rendition.document_id == doc.id)).first()
        _ = doc.unit.name
        similar = similar_documents(cf(), s, g.principal, doc.id)  # documents and attachments
        return render_template("document.html", doc=doc, tv=tv, slip=slip,
                               draft=draft, rendition=rendition, similar=similar,
                               may_read_draft=can(s, g.principal, "draft.read", draft),
                               hit_url=hit_url, state=state, acts=acts, correction=correction,
                               matters=matter_service.matters_of_document(s, p, doc),
                               errors=errors or {},
                               reason=request.form.get("reason", "")), code  # fmt: skip


@bp.post("/documents/<int:doc_id>/correct")
@login_required
def correct(doc_id: int):
    """起草更正文书: a new draft prefilled from this document, opened for editing."""
    with cf().db.write() as s:
        draft = corrections.start_correction(cf(), s, g.principal, doc_id, via="web",
                                             remote_addr=remote_addr())  # fmt: skip
        draft_id = draft.id
    flash(
        "已根据原文书起草更正稿：请修改需要更正的内容后提交审核；发文后原文书将显示为“已被替代”。",
        "ok",
    )
    return redirect(url_for("drafts.edit", draft_id=draft_id))


@bp.post("/documents/<int:doc_id>/revoke")
@login_required
def revoke(doc_id: int):
    """提出撤销 (with the reason), or 确认撤销 (`confirm`): one office head and one signatory."""
    try:
        with cf().db.write() as s:
            if request.form.get("confirm"):
                document_status.confirm_revocation(s, g.principal, doc_id, via="web",
                                                   remote_addr=remote_addr())  # fmt: skip
                message = "已确认撤销：该文书现为“已撤销”。"
            else:
                document_status.propose_revocation(s, g.principal, doc_id,
                                                   request.form.get("reason", ""), via="web",
                                                   remote_addr=remote_addr())  # fmt: skip
                message = "已提出撤销，待另一位负责人或签发人确认后生效。"
    except ValidationFailed as exc:
        return _show(doc_id, {e["field"]: e["message"] for e in exc.errors}, 422)
    flash(message, "ok")
    return redirect(url_for("documents.show", doc_id=doc_id))


@bp.get("/documents/<int:doc_id>/pdf")
@login_required
def download_pdf(doc_id: int):
    with cf().db.write() as s:
        found = documents.document_file(cf(), s, g.principal, doc_id, "pdf", via="web",
                                        remote_addr=remote_addr())  # fmt: skip
    return send_file(io.BytesIO(found.data), mimetype=found.media_type, as_attachment=False,
                     download_name=found.name)  # fmt: skip


@bp.get("/documents/<int:doc_id>/download")
@login_required
def download(doc_id: int):
    with cf().db.write() as s:
        found = documents.document_file(cf(), s, g.principal, doc_id, "docx", via="web",
                                        remote_addr=remote_addr())  # fmt: skip
    return send_file(io.BytesIO(found.data), mimetype=found.media_type, as_attachment=True,
                     download_name=found.name)  # fmt: skip


@bp.get("/documents/<int:doc_id>/slip.pdf")
@login_required
def slip_pdf(doc_id: int):
    """The processing slip printed as PDF (made from the archived slip DOCX, cached by hash)."""
    with cf().db.write() as s:
        doc = _readable(s, doc_id, "document.download")
        docx = slip_for_document(cf(), s, doc)
        audit.record(s, "document.download", actor=g.user, object_type="document", object_id=doc.id,
                     detail={"format": "slip-pdf"}, remote_addr=remote_addr())  # fmt: skip
        name = f"{doc.number}-发文稿纸.pdf"
    try:
        pdf = cached_preview_pdf(docx, cf().settings.archive_dir / "cache" / "slips")
    except ConversionError as exc:
        return render_template(
            "error.html",
            title="暂时无法生成 PDF",
            message=f"PDF 转换暂不可用（{exc}），可先下载 DOCX 打印。",
        ), 503
    return send_file(io.BytesIO(pdf), mimetype="application/pdf", download_name=name)
