"""Templates, the draft form, the draft page with its review actions, version downloads."""

from __future__ import annotations

import io

from flask import Blueprint, abort, flash, g, redirect, render_template, request, send_file, url_for
from sqlalchemy import select

from app.auth.policy import can
from app.db.models import Draft, DraftVersion, Unit
from app.web import cf, login_required, remote_addr
from app.web.forms import form_to_data, rows_for_form
from app.workflow import drafts
from app.workflow.errors import WorkflowError

bp = Blueprint("drafts", __name__)

DOCX_MIME = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


def _errors_by_field(exc: WorkflowError) -> dict[str, str]:
    return {e["field"]: e["message"] for e in exc.errors}


def _drafting_units(s):
    ids = g.principal.units_with("clerk", "adviser", "public-lawyer", "office-head")
    return list(s.scalars(select(Unit).where(Unit.id.in_(ids or {-1})).order_by(Unit.code)))


@bp.get("/templates")
@login_required
def templates():
    with cf().db.read() as s:
        rows = [cf().catalog.load(r) for r in cf().catalog.latest_versions(s) if r.active]
        return render_template("templates.html", templates=rows, can_draft=bool(_drafting_units(s)))


def _form_page(tpl, data, errors, units, unit_code, action, extra_rows=None, draft=None):
    extra_rows = extra_rows or {}
    return render_template(
        "draft_form.html", tpl=tpl, data=data, errors=errors, units=units, unit_code=unit_code,
        action=action, draft=draft, rows_for_form=rows_for_form, extra_rows=extra_rows,
    )  # fmt: skip


def _add_row_request(tpl) -> dict[str, int]:
    target = request.form.get("add_row")
    if target and tpl.schema.field(target) and tpl.schema.field(target).type == "list":
        return {target: 1}
    return {}


@bp.route("/drafts/new/<template_id>", methods=["GET", "POST"])
@login_required
def new(template_id: str):
    with cf().db.read() as s:
        row = cf().catalog.latest_row(s, template_id)
        if row is None:
            abort(404)
        tpl = cf().catalog.load(row)
        units = _drafting_units(s)
    if not units:
        abort(403)
    unit_code = request.form.get("unit") or units[0].code
    if request.method == "GET":
        return _form_page(tpl, {}, {}, units, unit_code, url_for(".new", template_id=template_id))
    data = form_to_data(tpl.schema, request.form)
    extra = _add_row_request(tpl)
    if extra:
        return _form_page(
            tpl, data, {}, units, unit_code, url_for(".new", template_id=template_id), extra
        )
    try:
        with cf().db.write() as s:
            draft = drafts.create_draft(
                cf(), s, g.principal, template_id, data, unit_code, remote_addr()
            )
            if request.form.get("submit_now"):
                drafts.submit(cf(), s, g.principal, draft.id, remote_addr=remote_addr())
            draft_id = draft.id
    except WorkflowError as exc:
        flash(exc.message, "error")
        page = _form_page(tpl, data, _errors_by_field(exc), units, unit_code,
                          url_for(".new", template_id=template_id))  # fmt: skip
        return page, exc.status
    flash("草稿已保存。" + ("已提交审核。" if request.form.get("submit_now") else ""), "ok")
    return redirect(url_for(".show", draft_id=draft_id))


def _visible_draft(s, draft_id: int) -> Draft:
    draft = s.get(Draft, draft_id)
    if draft is None or not can(s, g.principal, "draft.read", draft):
        abort(404)
    return draft


@bp.get("/drafts/<int:draft_id>")
@login_required
def show(draft_id: int):
    with cf().db.read() as s:
        draft = _visible_draft(s, draft_id)
        tpl = drafts.template_of(cf(), s, draft)
        version = drafts.current_version(s, draft)
        states = drafts.chain_state(s, draft, tpl, version)
        pending = drafts.pending_step(states) if draft.status == "in_review" else None
        history = drafts.steps_of(s, draft)
        versions = list(
            s.scalars(
                select(DraftVersion)
                .where(DraftVersion.draft_id == draft.id)
                .order_by(DraftVersion.number)
            )
        )
        p = g.principal
        may_review = (
            pending is not None
            and p.role_in_unit(pending.step.role, draft.unit_id)
            and p.user.id not in {v.created_by for v in versions}
            and not any(a.user_id == p.user.id for a in pending.approvals)
        )
        document = (
            draft.status == "issued"
            and s.scalars(
                select(drafts.IssuedDocument).where(drafts.IssuedDocument.draft_id == draft.id)
            ).first()
        )
        for step in history:
            _ = step.user.name
        _ = draft.unit.name, draft.creator.name
        return render_template(
            "draft.html", draft=draft, tpl=tpl, version=version, states=states, pending=pending,
            history=history, versions=versions, may_review=may_review, document=document,
            may_edit=can(s, p, "draft.edit", draft), may_submit=can(s, p, "draft.submit", draft)
            and draft.status in {"draft", "returned"},
            may_issue=draft.status == "approved" and can(s, p, "draft.issue", draft),
            fields=tpl.schema.fields,
        )  # fmt: skip


@bp.route("/drafts/<int:draft_id>/edit", methods=["GET", "POST"])
@login_required
def edit(draft_id: int):
    with cf().db.read() as s:
        draft = _visible_draft(s, draft_id)
        if not can(s, g.principal, "draft.edit", draft):
            abort(403)
        tpl = drafts.template_of(cf(), s, draft)
        current = drafts.current_version(s, draft).data
        units = [draft.unit]
        _ = draft.unit.name
    action = url_for(".edit", draft_id=draft_id)
    if request.method == "GET":
        return _form_page(tpl, current, {}, units, draft.unit.code, action, draft=draft)
    data = form_to_data(tpl.schema, request.form)
    extra = _add_row_request(tpl)
    if extra:
        return _form_page(tpl, data, {}, units, draft.unit.code, action, extra, draft=draft)
    try:
        with cf().db.write() as s:
            drafts.edit_draft(cf(), s, g.principal, draft_id, data, remote_addr())
            if request.form.get("submit_now"):
                drafts.submit(cf(), s, g.principal, draft_id, remote_addr=remote_addr())
    except WorkflowError as exc:
        flash(exc.message, "error")
        return _form_page(
            tpl, data, _errors_by_field(exc), units, draft.unit.code, action, draft=draft
        ), exc.status
    flash("已保存为新版本。此前的审核意见针对旧版本，修改后需重新提交审核。", "ok")
    return redirect(url_for(".show", draft_id=draft_id))


@bp.post("/drafts/<int:draft_id>/<any(submit, approve, return, issue):action>")
@login_required
def act(draft_id: int, action: str):
    comment = request.form.get("comment", "")
    try:
        with cf().db.write() as s:
            _visible_draft(s, draft_id)
            if action == "submit":
                drafts.submit(cf(), s, g.principal, draft_id, comment, remote_addr())
                message = "已提交审核。"
            elif action == "approve":
                drafts.approve(cf(), s, g.principal, draft_id, comment, remote_addr())
                message = "已审核同意。"
            elif action == "return":
                drafts.return_draft(cf(), s, g.principal, draft_id, comment, remote_addr())
                message = "已退回起草人修改。"
            else:
                doc = drafts.issue(cf(), s, g.principal, draft_id, remote_addr())
                message = f"已发文：{doc.number}"
                doc_id = doc.id
    except WorkflowError as exc:
        detail = "；".join(e["message"] for e in exc.errors)
        flash(exc.message + (f"（{detail}）" if detail and detail != exc.message else ""), "error")
        return redirect(url_for(".show", draft_id=draft_id))
    flash(message, "ok")
    if action == "issue":
        return redirect(url_for("documents.show", doc_id=doc_id))
    return redirect(url_for(".show", draft_id=draft_id))


@bp.get("/drafts/<int:draft_id>/versions/<int:number>.docx")
@login_required
def version_docx(draft_id: int, number: int):
    with cf().db.read() as s:
        draft = _visible_draft(s, draft_id)
        version = s.scalars(
            select(DraftVersion).where(
                DraftVersion.draft_id == draft.id, DraftVersion.number == number
            )
        ).first()
        if version is None:
            abort(404)
        data = cf().blobs.get(version.docx_sha256)
        name = f"草稿{draft.id}-第{number}版.docx"
    return send_file(io.BytesIO(data), mimetype=DOCX_MIME, as_attachment=True, download_name=name)


@bp.get("/drafts/<int:draft_id>/preview.pdf")
@login_required
def preview(draft_id: int):
    """The current version as it will print (LibreOffice, same fonts as the rendition)."""
    from app.renditions import ConversionError, preview_pdf

    with cf().db.read() as s:
        draft = _visible_draft(s, draft_id)
        version = drafts.current_version(s, draft)
        sha = version.docx_sha256
    cache = cf().settings.archive_dir / "cache" / "previews" / f"{sha}.pdf"
    if not cache.exists():
        try:
            pdf = preview_pdf(cf().blobs.get(sha))
        except ConversionError as exc:
            return render_template(
                "error.html",
                title="暂时无法预览",
                message=f"版式预览暂不可用（{exc}），可先下载 DOCX 查看。",
            ), 503
        cache.parent.mkdir(parents=True, exist_ok=True)
        tmp = cache.with_suffix(".tmp")
        tmp.write_bytes(pdf)
        tmp.replace(cache)
    return send_file(cache, mimetype="application/pdf", download_name=f"草稿{draft_id}-预览.pdf")
