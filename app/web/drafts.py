"""Templates, the draft form, the draft page with its review actions, version downloads and the
print preview (the history and the processing slip are in app/web/history.py)."""

from __future__ import annotations

import datetime as dt
import io

from flask import Blueprint, abort, flash, g, redirect, render_template, request, send_file, url_for
from sqlalchemy import select
from sqlalchemy.orm import object_session

from app.access.policy import can
from app.common.ids import in_range
from app.db.base import utcnow
from app.drafting import drafts, history
from app.drafting import status as document_status
from app.drafting.models import Draft, IssuedDocument, ReviewOpinion, ReviewStep
from app.drafting.opinions import MAX_OPINION_BYTES, OpinionFile
from app.drafting.registry import RegistryReferences
from app.errors import Forbidden, WorkflowError
from app.identity.models import Unit
from app.matters import service as matter_service
from app.renditions import ConversionError, cached_preview_pdf
from app.templating.schema import REFERENCE_TYPES
from app.web.common import cf, login_required, remote_addr
from app.web.forms import blank_row, form_to_data, row_action, rows_for_form
from app.web.nav import require
from app.web.supervision import engagement_initial_data

bp = Blueprint("drafts", __name__)


def _errors_by_field(exc: WorkflowError) -> dict[str, str]:
    return {e["field"]: e["message"] for e in exc.errors}


@bp.app_template_filter("age")
def age(value: dt.datetime | None) -> str:
    """How long something has waited, as a clerk says it: 刚刚, 40分钟, 5小时, 3天."""
    if value is None:
        return ""
    seconds = max(0, int((utcnow() - value).total_seconds()))
    if seconds < 120:
        return "刚刚"
    if seconds < 3600:
        return f"{seconds // 60}分钟"
    if seconds < 86400:
        return f"{seconds // 3600}小时"
    return f"{seconds // 86400}天"


@bp.app_template_global("where_it_stands")
def where_it_stands(draft: Draft) -> str:
    """The queue's 当前环节 column (the draft is still attached to the page's session)."""
    return drafts.pending_summary(cf(), object_session(draft), draft)


@bp.app_template_global("step_opinions")
def step_opinions(draft: Draft) -> dict:
    return drafts.opinions_of(object_session(draft), draft)


bp.add_app_template_global(drafts.STEP_ROLE_LABELS, "STEP_ROLE_LABELS")


def _drafting_units(s):
    ids = g.principal.units_with("clerk", "adviser", "public-lawyer", "office-head")
    return list(s.scalars(select(Unit).where(Unit.id.in_(ids or {-1})).order_by(Unit.code)))


@bp.get("/templates")
@login_required
def templates():
    require("draft.create")
    with cf().db.read() as s:
        rows = [cf().catalog.load(r) for r in cf().catalog.latest_versions(s) if r.active]
        return render_template("templates.html", templates=rows, can_draft=bool(_drafting_units(s)))


def _co_sign_choices(tpl) -> list[Unit]:
    if not any(st.role == drafts.CO_SIGN for st in tpl.schema.review_chain):
        return []
    with cf().db.read() as s:
        return list(s.scalars(select(Unit).order_by(Unit.code)))


def _reference_choices(tpl, units, unit_code: str) -> dict[str, list]:
    """The <select> entries of each reference field ("list.column" inside a list), for the
    drafting unit; only a unit offered on the page, so a form never lists another unit's staff."""
    specs = [(f.name, f) for f in tpl.schema.fields] + [
        (f"{f.name}.{sub.name}", sub) for f in tpl.schema.fields for sub in f.fields
    ]
    specs = [(key, spec) for key, spec in specs if spec.type in REFERENCE_TYPES]
    unit_id = next((u.id for u in units if u.code == unit_code), None)
    if not specs or unit_id is None:
        return {}
    with cf().db.read() as s:
        refs = RegistryReferences(s, g.principal, s.get(Unit, unit_id))
        return {key: refs.choices(spec) for key, spec in specs}


def _form_page(tpl, data, errors, units, unit_code, action, draft=None, co_sign=(),
               error_list=(), message="", progress=None):  # fmt: skip
    """The draft form; `error_list` (field, label, message) feeds the error summary at the top,
    `progress` the 已填写 line (a draft being edited, or a form sent back)."""
    missing = drafts.missing_fields(tpl, progress) if progress is not None else []
    return render_template(
        "draft_form.html", tpl=tpl, data=data, errors=errors, units=units, unit_code=unit_code,
        action=action, draft=draft, rows_for_form=rows_for_form, blank_row=blank_row,
        co_sign_choices=_co_sign_choices(tpl), co_sign=set(co_sign),
        ref_choices=_reference_choices(tpl, units, unit_code), returned=_returned(draft),
        error_list=list(error_list), message=message, progress=progress, missing=missing,
    )  # fmt: skip


def _returned(draft: Draft | None):
    """The return the drafter is answering, shown at the top of the edit form."""
    if draft is None:
        return None
    with cf().db.read() as s:
        return drafts.return_notice(cf(), s, s.get(Draft, draft.id))


def _refused_page(tpl, data, exc: WorkflowError, units, unit_code, action, **kwargs):
    """The form again with what was refused: each field's reason beside it and all of them in
    the summary; the web's 422 (bad input) or 409 (a conflict)."""
    if not exc.errors:
        flash(exc.message, "error")  # nothing to point at: the reason on its own
    page = _form_page(tpl, data, _errors_by_field(exc), units, unit_code, action,
                      error_list=exc.errors, message=exc.message,
                      progress=drafts.progress(tpl, data), **kwargs)  # fmt: skip
    return page, exc.status


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
        raise Forbidden("您在任何单位都没有起草文书的权限")
    unit_code = request.values.get("unit") or units[0].code
    action = url_for(".new", template_id=template_id)
    if request.method == "GET":
        initial, unit_code = engagement_initial_data(template_id, unit_code)
        return _form_page(tpl, initial, {}, units, unit_code, action)
    co_sign = request.form.getlist("co_sign_units")
    moved = row_action(tpl.schema, request.form)
    if moved is not None:
        return _form_page(tpl, moved, {}, units, unit_code, action, co_sign=co_sign)
    data = form_to_data(tpl.schema, request.form)
    try:
        with cf().db.write() as s:
            draft = drafts.create_draft(
                cf(), s, g.principal, template_id, data, unit_code, remote_addr(), co_sign
            )
            if request.form.get("submit_now"):
                drafts.submit(cf(), s, g.principal, draft.id, remote_addr=remote_addr())
            draft_id = draft.id
    except Forbidden:
        raise  # a refusal is the 403 page with its reason, not a flash (app/web/__init__.py)
    except WorkflowError as exc:
        return _refused_page(tpl, data, exc, units, unit_code, action, co_sign=co_sign)
    flash("草稿已保存。" + ("已提交审核。" if request.form.get("submit_now") else ""), "ok")
    return redirect(url_for(".show", draft_id=draft_id))


def _visible_draft(s, draft_id: int) -> Draft:
    return drafts.open_draft(s, g.principal, draft_id)


@bp.get("/drafts/<int:draft_id>")
@login_required
def show(draft_id: int):
    with cf().db.read() as s:
        draft = _visible_draft(s, draft_id)
        tpl = drafts.template_of(cf(), s, draft)
        version = drafts.current_version(s, draft)
        states = drafts.chain_state(s, draft, tpl, version)
        pending = drafts.pending_step(states) if draft.status == "in_review" else None
        history_ = drafts.steps_of(s, draft)
        versions = history.versions_of(s, draft)
        p = g.principal
        try:
            slot = drafts.review_slot(s, p, draft, states)
        except WorkflowError as exc:
            slot, why_not = None, exc.message
        else:
            why_not = ""
        document = (
            draft.status == "issued"
            and s.scalars(select(IssuedDocument).where(IssuedDocument.draft_id == draft.id)).first()
        )
        for step in history_:
            _ = step.user.name
        _ = draft.unit.name, draft.creator.name
        units = {u.id: u.name for u in s.scalars(select(Unit))}
        co_sign = [units[u] for u in drafts.co_sign_unit_ids(s, version)]
        mine = [st for st in history_ if st.user_id == p.user.id
                and st.decision not in {"submit", "withdraw"}]  # fmt: skip
        may_edit = can(s, p, "draft.edit", draft)
        progress = (
            drafts.completeness(cf(), s, draft, version)
            if draft.status in {"draft", "returned"}
            else None
        )
        return render_template(
            "draft.html", draft=draft, tpl=tpl, version=version, states=states, pending=pending,
            history=history_, versions=versions, may_review=slot is not None, slot=slot,
            why_not=why_not, document=document, units=units, co_sign=co_sign, my_steps=mine,
            corrects=document_status.correction_target(s, draft.id),
            matters=matter_service.matters_of_draft(s, p, draft.id),
            opinions=drafts.opinions_of(s, draft), max_opinion_mb=MAX_OPINION_BYTES // 2**20,
            may_edit=may_edit, may_submit=can(s, p, "draft.submit", draft)
            and draft.status in {"draft", "returned"},
            may_issue=draft.status == "approved" and can(s, p, "draft.issue", draft),
            fields=tpl.schema.fields,
            step_labels={st.name: st.label for st in tpl.schema.review_chain},
            returned=drafts.return_notice(cf(), s, draft),
            may_withdraw=may_edit and not drafts.withdraw_refusal(draft, states),
            may_delete=may_edit and not drafts.delete_refusal(s, draft),
            approve_confirmation=drafts.APPROVE_CONFIRMATION,
            issue_confirmation=drafts.ISSUE_CONFIRMATION,
            progress=progress,
            missing=drafts.missing_fields(tpl, progress) if progress is not None else [],
        )  # fmt: skip


@bp.route("/drafts/<int:draft_id>/edit", methods=["GET", "POST"])
@login_required
def edit(draft_id: int):
    with cf().db.read() as s:
        draft = _visible_draft(s, draft_id)
        if not can(s, g.principal, "draft.edit", draft):
            raise Forbidden("只有起草人可以修改草稿，已发文的不能再改")
        tpl = drafts.template_of(cf(), s, draft)
        version = drafts.current_version(s, draft)
        current = version.data
        codes = {u.id: u.code for u in s.scalars(select(Unit))}
        current_co_sign = [codes[u] for u in drafts.co_sign_unit_ids(s, version)]
        units = [draft.unit]
        _ = draft.unit.name
        progress = drafts.completeness(cf(), s, draft, version)
    action = url_for(".edit", draft_id=draft_id)
    if request.method == "GET":
        return _form_page(tpl, current, {}, units, draft.unit.code, action, draft=draft,
                          co_sign=current_co_sign, progress=progress)  # fmt: skip
    co_sign = request.form.getlist("co_sign_units") if _co_sign_choices(tpl) else None
    moved = row_action(tpl.schema, request.form)
    if moved is not None:
        return _form_page(tpl, moved, {}, units, draft.unit.code, action, draft=draft,
                          co_sign=co_sign or ())  # fmt: skip
    data = form_to_data(tpl.schema, request.form)
    try:
        with cf().db.write() as s:
            drafts.edit_draft(cf(), s, g.principal, draft_id, data, remote_addr(), co_sign)
            if request.form.get("submit_now"):
                drafts.submit(cf(), s, g.principal, draft_id, remote_addr=remote_addr())
    except Forbidden:
        raise  # a refusal is the 403 page with its reason, not a flash (app/web/__init__.py)
    except WorkflowError as exc:
        return _refused_page(tpl, data, exc, units, draft.unit.code, action, draft=draft,
                             co_sign=co_sign or ())  # fmt: skip
    if request.form.get("submit_now"):
        flash("已保存为新版本并重新提交审核。各审核环节将对新版本重新审核。", "ok")
    else:
        flash("已保存为新版本。此前的审核意见针对旧版本；修改完成后请点击“提交审核”。", "ok")
    return redirect(url_for(".show", draft_id=draft_id))


def _opinion_upload() -> OpinionFile | None:
    upload = request.files.get("opinion_file")
    if upload is None or not upload.filename:
        return None
    return OpinionFile(upload.filename, upload.read(MAX_OPINION_BYTES + 1))


@bp.post(
    "/drafts/<int:draft_id>/<any(submit, approve, return, issue, note, withdraw, delete):action>"
)
@login_required
def act(draft_id: int, action: str):
    comment = request.form.get("comment", "")
    confirmed = request.form.get("confirm") == "1"  # the checkbox of an irreversible act
    with cf().db.read() as s:
        _visible_draft(s, draft_id)  # 404 for whoever may not read it, before anything else
    try:
        opinion = _opinion_upload() if action in {"approve", "return", "note"} else None
        if opinion is not None:
            opinion.checked()  # before the write transaction: a slow check blocks no writer
        with cf().db.write() as s:
            if action == "submit":
                drafts.submit(cf(), s, g.principal, draft_id, comment, remote_addr())
                message = "已提交审核。"
            elif action == "approve":
                drafts.approve(cf(), s, g.principal, draft_id, comment, remote_addr(),
                               opinion=opinion, confirmed=confirmed)  # fmt: skip
                message = "已审核同意。"
            elif action == "withdraw":
                drafts.withdraw(cf(), s, g.principal, draft_id, comment, remote_addr())
                message = "已撤回，草稿回到未提交状态，可修改后重新提交审核。"
            elif action == "delete":
                drafts.delete_draft(s, g.principal, draft_id, remote_addr())
                message = "草稿已删除。"
            elif action == "return":
                drafts.return_draft(cf(), s, g.principal, draft_id, comment, remote_addr(),
                                    opinion=opinion)  # fmt: skip
                message = "已退回起草人修改。"
            elif action == "note":
                supersedes = request.form.get("supersedes", type=int) or 0
                supersedes = supersedes if in_range(supersedes) else 0  # 0: no such step
                drafts.add_note(cf(), s, g.principal, draft_id, supersedes, comment,
                                remote_addr(), opinion=opinion)  # fmt: skip
                message = "补充意见已记录；原意见保持不变。"
            else:
                doc = drafts.issue(cf(), s, g.principal, draft_id, remote_addr(),
                                   confirmed=confirmed)  # fmt: skip
                message = f"已发文：{doc.number}。发文稿纸已同时生成归档。"
                doc_id = doc.id
    except Forbidden:
        raise  # a refusal is the 403 page with its reason, not a flash (app/web/__init__.py)
    except WorkflowError as exc:
        # fields the message names already (every missing one at submission) are not repeated
        detail = "；".join(
            f"{e['label']}：{e['message']}" if e.get("label") else e["message"]
            for e in exc.errors
            if not e.get("label") or e["label"] not in exc.message
        )
        flash(exc.message + (f"（{detail}）" if detail and detail != exc.message else ""), "error")
        return redirect(url_for(".show", draft_id=draft_id))
    flash(message, "ok")
    if action == "issue":
        return redirect(url_for("documents.show", doc_id=doc_id))
    if action == "delete":
        return redirect(url_for("main.home"))
    return redirect(url_for(".show", draft_id=draft_id))


@bp.get("/drafts/<int:draft_id>/opinions/<int:step_id>")
@login_required
def opinion_file(draft_id: int, step_id: int):
    with cf().db.read() as s:
        draft = _visible_draft(s, draft_id)
        step = s.get(ReviewStep, step_id)
        row = s.scalars(select(ReviewOpinion).where(ReviewOpinion.step_id == step_id)).first()
        if step is None or step.draft_id != draft.id or row is None or not row.file_sha256:
            abort(404)
        data, name, media = cf().blobs.get(row.file_sha256), row.file_name, row.media_type
    return send_file(io.BytesIO(data), mimetype=media, as_attachment=True, download_name=name)


@bp.get("/drafts/<int:draft_id>/versions/<int:number>.docx")
@login_required
def version_docx(draft_id: int, number: int):
    with cf().db.read() as s:
        found = history.version_file(cf(), s, g.principal, draft_id, number)
    return send_file(io.BytesIO(found.data), mimetype=found.media_type, as_attachment=True,
                     download_name=found.name)  # fmt: skip


@bp.get("/drafts/<int:draft_id>/preview.pdf")
@login_required
def preview(draft_id: int):
    """The current version as it will print (LibreOffice, same fonts as the rendition)."""
    with cf().db.read() as s:
        draft = _visible_draft(s, draft_id)
        version = drafts.current_version(s, draft)
        sha = version.docx_sha256
    try:
        pdf = cached_preview_pdf(
            cf().blobs.get(sha), cf().settings.archive_dir / "cache" / "previews"
        )
    except ConversionError as exc:
        return render_template(
            "error.html",
            title="暂时无法预览",
            message=f"版式预览暂不可用（{exc}），可先下载 DOCX 查看。",
        ), 503
    return send_file(
        io.BytesIO(pdf), mimetype="application/pdf", download_name=f"草稿{draft_id}-预览.pdf"
    )
