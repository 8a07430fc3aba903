"""JSON API /api/v1: token-authenticated; errors are JSON with a field-by-field list."""

from __future__ import annotations

import functools
import io

from flask import Blueprint, Flask, g, jsonify, request, send_file
from sqlalchemy import select

from app import audit
from app.access.policy import can, principal
from app.drafting import documents as document_service
from app.drafting import drafts
from app.drafting.models import Draft, IssuedDocument
from app.errors import Forbidden, NotFound, ValidationFailed, WorkflowError
from app.identity import users
from app.presenters.documents import document_payload
from app.presenters.drafts import draft_payload
from app.presenters.templates import template_payload
from app.web import cf, csrf, remote_addr
from app.web.drafts import DOCX_MIME

bp = Blueprint("api", __name__, url_prefix="/api/v1")


def _error(status: int, code: str, message: str, errors: list | None = None):
    return jsonify({"error": code, "message": message, "errors": errors or []}), status


def token_required(view):
    @functools.wraps(view)
    def wrapped(*args, **kwargs):
        header = request.headers.get("Authorization", "")
        if not header.startswith("Bearer "):
            return _error(
                401, "unauthorized", "缺少 API 令牌：请在 Authorization 头中使用 Bearer <token>"
            )
        with cf().db.read() as s:
            user = users.user_for_token(s, header[7:].strip())
            if user is None:
                return _error(401, "unauthorized", "API 令牌无效、已撤销或用户已停用")
            g.user = user
            g.principal = principal(s, user)
        return view(*args, **kwargs)

    return wrapped


def _json_body() -> dict:
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise ValidationFailed("请求体应为 JSON 对象（Content-Type: application/json）")
    return body


def _draft_json(s, draft: Draft) -> dict:
    return draft_payload(cf(), s, draft)


@bp.post("/tokens")
def create_token():
    body = request.get_json(silent=True) or {}
    username, password = str(body.get("username", ""))[:64], str(body.get("password", ""))[:256]
    with cf().db.write() as s:
        user, error = users.authenticate(s, username, password, remote_addr())
        if user is None:
            return _error(401, "unauthorized", error)
        token = users.create_token(s, user, str(body.get("label", "api"))[:100])
    return jsonify({"token": token, "username": username}), 201


@bp.get("/templates")
@token_required
def templates():
    with cf().db.read() as s:
        out = []
        for row in cf().catalog.latest_versions(s):
            tpl = cf().catalog.load(row)
            out.append(template_payload(tpl))
    return jsonify({"templates": out})


@bp.get("/templates/<template_id>")
@token_required
def template(template_id: str):
    with cf().db.read() as s:
        row = cf().catalog.latest_row(s, template_id)
        if row is None:
            raise NotFound(f"模板“{template_id}”不存在")
        return jsonify(template_payload(cf().catalog.load(row)))


@bp.post("/drafts")
@token_required
def create_draft():
    body = _json_body()
    with cf().db.write() as s:
        draft = drafts.create_draft(cf(), s, g.principal, str(body.get("template", "")),
                                    body.get("data"), body.get("unit"), remote_addr(),
                                    body.get("co_sign_units") or ())  # fmt: skip
        if body.get("submit"):
            drafts.submit(cf(), s, g.principal, draft.id, remote_addr=remote_addr())
        payload = _draft_json(s, draft)
    return jsonify(payload), 201


def _visible_draft(s, draft_id: int) -> Draft:
    draft = s.get(Draft, draft_id)
    if draft is None or not can(s, g.principal, "draft.read", draft):
        raise NotFound(f"草稿 {draft_id} 不存在或您无权查看")
    return draft


@bp.get("/drafts/<int:draft_id>")
@token_required
def get_draft(draft_id: int):
    with cf().db.read() as s:
        return jsonify(_draft_json(s, _visible_draft(s, draft_id)))


@bp.put("/drafts/<int:draft_id>")
@token_required
def edit_draft(draft_id: int):
    body = _json_body()
    with cf().db.write() as s:
        _visible_draft(s, draft_id)
        drafts.edit_draft(cf(), s, g.principal, draft_id, body.get("data"), remote_addr(),
                          body.get("co_sign_units"))  # fmt: skip
        return jsonify(_draft_json(s, s.get(Draft, draft_id)))


@bp.post("/drafts/<int:draft_id>/<any(submit, approve, return):action>")
@token_required
def decide(draft_id: int, action: str):
    body = request.get_json(silent=True) or {}
    comment = str(body.get("comment", "")) if isinstance(body, dict) else ""
    fn = {"submit": drafts.submit, "approve": drafts.approve, "return": drafts.return_draft}[action]
    with cf().db.write() as s:
        _visible_draft(s, draft_id)
        fn(cf(), s, g.principal, draft_id, comment, remote_addr())
        return jsonify(_draft_json(s, s.get(Draft, draft_id)))


@bp.post("/drafts/<int:draft_id>/issue")
@token_required
def issue(draft_id: int):
    with cf().db.write() as s:
        _visible_draft(s, draft_id)
        doc = drafts.issue(cf(), s, g.principal, draft_id, remote_addr())
        return jsonify(document_payload(cf(), s, doc)), 201


@bp.get("/drafts/<int:draft_id>/versions/<int:number>/download")
@token_required
def download_version(draft_id: int, number: int):
    from app.drafting.models import DraftVersion

    with cf().db.read() as s:
        draft = _visible_draft(s, draft_id)
        v = s.scalars(
            select(DraftVersion).where(
                DraftVersion.draft_id == draft.id, DraftVersion.number == number
            )
        ).first()
        if v is None:
            raise NotFound(f"草稿 {draft_id} 没有第{number}版")
        data = cf().blobs.get(v.docx_sha256)
    return send_file(
        io.BytesIO(data),
        mimetype=DOCX_MIME,
        as_attachment=True,
        download_name=f"draft-{draft_id}-v{number}.docx",
    )


@bp.get("/queue")
@token_required
def queue():
    with cf().db.read() as s:
        q = drafts.queue(s, g.principal, cf())
        return jsonify({k: [_draft_json(s, d) for d in v] for k, v in q.items()})


@bp.get("/documents")
@token_required
def documents():
    page = max(1, request.args.get("page", 1, type=int) or 1)
    per_page = min(100, max(1, request.args.get("per_page", 30, type=int) or 30))
    with cf().db.read() as s:
        listing = document_service.list_documents(s, g.principal, page, per_page)
        total, docs = listing.total, listing.documents
        return jsonify({"total": total, "page": page, "per_page": per_page,
                        "documents": [{"id": d.id, "number": d.number, "title": d.title, "unit": d.unit.code,
                                       "issue_date": d.issue_date.isoformat(), "sha256": d.docx_sha256} for d in docs]})  # fmt: skip


def _readable_document(s, doc_id: int, action: str) -> IssuedDocument:
    return document_service.open_document(
        s, g.principal, doc_id, action, via="api", remote_addr=remote_addr()
    )


@bp.get("/documents/<int:doc_id>")
@token_required
def document(doc_id: int):
    with cf().db.write() as s:
        doc = _readable_document(s, doc_id, "document.read")
        return jsonify(document_payload(cf(), s, doc))


@bp.get("/documents/<int:doc_id>/download")
@token_required
def download(doc_id: int):
    with cf().db.write() as s:
        doc = _readable_document(s, doc_id, "document.download")
        audit.record(s, "document.download", actor=g.user, object_type="document", object_id=doc.id,
                     detail={"via": "api"}, remote_addr=remote_addr())  # fmt: skip
        data, name = cf().blobs.get(doc.docx_sha256), f"{doc.number}.docx"
    return send_file(io.BytesIO(data), mimetype=DOCX_MIME, as_attachment=True, download_name=name)


@bp.get("/contracts")
@token_required
def contracts():
    """聘任合同台账. `expiring=N` is short for `status=expiring&window=N`."""
    from app.registers.contracts import contract_register, parse_window

    args = request.args
    status, window = args.get("status") or None, args.get("window")
    if args.get("expiring") is not None:
        if status or window is not None:
            raise ValidationFailed("expiring 不能与 status 或 window 同时使用")
        status, window = "expiring", args.get("expiring")
    with cf().db.write() as s:
        if not can(s, g.principal, "contract.register"):
            raise Forbidden("您无权查看聘任合同台账")
        name = "expiring" if "expiring" in args else "window"
        register = contract_register(s, g.principal, window=parse_window(window, name=name),
                                     unit_code=args.get("unit") or None, status=status)  # fmt: skip
        if g.principal.has("inspector"):
            audit.record(s, "contracts.read", actor=g.user, remote_addr=remote_addr(),
                         detail={"unit": args.get("unit"), "status": status, "window": register.window,
                                 "results": len(register.entries), "via": "api"})  # fmt: skip
        return jsonify(register.as_dict() | {"unit": args.get("unit") or None, "status": status})


@bp.get("/search")
@token_required
def search():
    from app.search import QuerySyntaxError, SearchUnavailable
    from app.web.search import TYPE_LABELS, hit_json, hit_links, query_from_args, run_search

    try:
        results = run_search(query_from_args(request.args), "api")
    except QuerySyntaxError as exc:
        return _error(
            422,
            "bad_query",
            f"检索式有误：{exc}",
            [{"field": "q", "label": "检索式", "message": str(exc)}],
        )
    except SearchUnavailable:
        return _error(503, "search_unavailable", "检索服务暂时不可用，请稍后再试")
    with cf().db.read() as s:
        links = hit_links(s, g.principal, results.hits)
    return jsonify({
        "total": results.total, "page": results.page, "per_page": results.per_page,
        "elapsed_ms": round(results.elapsed_ms, 1), "facets": results.facets,
        "type_labels": {t: TYPE_LABELS.get(t, t) for t in results.facets.get("doc_type", {})},
        "hits": [hit_json(h, links[h.doc_id]) for h in results.hits],
    })  # fmt: skip


@bp.get("/documents/<int:doc_id>/pdf")
@token_required
def download_pdf(doc_id: int):
    from app.renditions.models import Rendition

    with cf().db.write() as s:
        doc = _readable_document(s, doc_id, "document.download")
        rendition = s.scalars(select(Rendition).where(Rendition.document_id == doc.id)).first()
        if rendition is None:
            return _error(409, "rendition_pending", "PDF 版式文件尚在生成中，请稍后再试")
        audit.record(s, "document.download", actor=g.user, object_type="document", object_id=doc.id,
                     detail={"via": "api", "format": "pdf"}, remote_addr=remote_addr())  # fmt: skip
        data, name = cf().blobs.get(rendition.pdf_sha256), f"{doc.number}.pdf"
    return send_file(
        io.BytesIO(data), mimetype="application/pdf", as_attachment=True, download_name=name
    )


@bp.errorhandler(WorkflowError)
def _workflow_error(exc: WorkflowError):
    return jsonify(exc.as_dict()), exc.status


@bp.errorhandler(Forbidden)
def _forbidden(exc: Forbidden):
    return jsonify(exc.as_dict()), 403


def init_app(app: Flask) -> None:
    from app.api import casefiles  # noqa: F401 - adds the case-file endpoints to bp

    csrf.exempt(bp)
    app.register_blueprint(bp)
