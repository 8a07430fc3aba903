"""Case files (案卷): pages for clerks, archivists and inspectors."""

from __future__ import annotations

import io

from flask import Blueprint, abort, flash, g, redirect, render_template, request, send_file, url_for
from sqlalchemy import select

from app import audit
from app.access.policy import can
from app.casefiles import service as service
from app.casefiles.models import KINDS, RETENTION, ROLES
from app.drafting.models import IssuedDocument
from app.errors import Forbidden, NotFound, WorkflowError
from app.identity.models import Unit
from app.web import cf, login_required, remote_addr

bp = Blueprint("casefiles", __name__)


def _case(s, case_id: int, action: str = "casefile.read"):
    try:
        return service.get_case_file(s, g.principal, case_id, action)
    except NotFound:
        abort(404)
    except Forbidden:
        abort(403)


@bp.get("/casefiles")
@login_required
def index():
    status = request.args.get("status") or None
    with cf().db.read() as s:
        cases = service.list_case_files(
            s, g.principal, status if status in ("open", "closed") else None
        )
        for c in cases:
            _ = c.unit.name
        units = [u for u in s.scalars(select(Unit).order_by(Unit.code))
                 if can(s, g.principal, "casefile.create", u)]  # fmt: skip
        return render_template("casefiles.html", cases=cases, status=status, can_create=bool(units))


@bp.route("/casefiles/new", methods=["GET", "POST"])
@login_required
def new():
    with cf().db.read() as s:
        units = [u for u in s.scalars(select(Unit).order_by(Unit.code))
                 if can(s, g.principal, "casefile.create", u)]  # fmt: skip
    if not units:
        abort(403)
    form = request.form
    if request.method == "POST":
        try:
            with cf().db.write() as s:
                case = service.create_case_file(
                    s, g.principal, title=form.get("title", ""), kind=form.get("kind", ""),
                    unit_code=form.get("unit", ""), retention=form.get("retention", ""),
                    responsible=form.get("responsible", ""), note=form.get("note", ""),
                    remote_addr=remote_addr(),
                    **{k: form.get(k) for k in service.DATE_FIELDS},
                )  # fmt: skip
                case_id = case.id
        except WorkflowError as exc:
            flash(exc.message, "error")
        else:
            flash("案卷已建立，可以归入文书和上传材料。", "ok")
            return redirect(url_for("casefiles.show", case_id=case_id))
    return render_template("casefile_new.html", units=units, kinds=KINDS, retention=RETENTION,
                           form=form, dates=service.DATE_FIELDS)  # fmt: skip


@bp.get("/casefiles/<int:case_id>")
@login_required
def show(case_id: int):
    with cf().db.write() as s:
        case = _case(s, case_id)
        service.record_read(s, g.principal, case, "casefile.read", remote_addr=remote_addr())
        items = service.items_of(s, case)
        refs = service.references_of(s, case)
        for item in items:
            _ = item.document.number if item.document_id else item.attachment.file_type
        _ = case.unit.name, case.creator.name
        editable = can(s, g.principal, "casefile.edit", case)
        hidden = {i.id for i in service.hidden_items(s, g.principal, items)}
        return render_template("casefile.html", case=case, items=items, refs=refs, roles=ROLES,
                               editable=editable, closable=can(s, g.principal, "casefile.close", case),
                               hidden=hidden)  # fmt: skip


def _may(case_id: int, action: str) -> None:
    """Refuse (404 / 403) before reading a form: a closed case file is 403 for its keepers."""
    with cf().db.read() as s:
        case = _case(s, case_id)
        if not can(s, g.principal, action, case):
            abort(403)


def _redirect_back(case_id: int):
    return redirect(url_for("casefiles.show", case_id=case_id))


def _int(value) -> int | None:
    try:
        return int(value) if value not in (None, "") else None
    except ValueError:
        return None


@bp.post("/casefiles/<int:case_id>/documents")
@login_required
def add_document(case_id: int):
    _may(case_id, "casefile.edit")
    ref = (request.form.get("document") or "").strip()
    try:
        with cf().db.write() as s:
            doc_id = _int(ref)
            if doc_id is None:
                doc_id = s.scalar(select(IssuedDocument.id).where(IssuedDocument.number == ref))
            if doc_id is None:
                raise NotFound(f"没有发文字号为“{ref}”的文书")
            item = service.add_document(s, g.principal, case_id, doc_id, role=request.form.get("role") or None,
                                        reply_to=_int(request.form.get("reply_to")), remote_addr=remote_addr())  # fmt: skip
            flash(f"已归入第{item.position}件：{item.title}", "ok")
    except WorkflowError as exc:
        flash(exc.message, "error")
    return _redirect_back(case_id)


@bp.post("/casefiles/<int:case_id>/attachments")
@login_required
def upload(case_id: int):
    _may(case_id, "casefile.edit")
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        flash("请选择要上传的文件", "error")
        return _redirect_back(case_id)
    data = upload.read(cf().settings.max_upload_bytes + 1)
    form = request.form
    try:
        with cf().db.write() as s:
            item = service.add_attachment(
                cf(), s, g.principal, case_id, data, upload.filename, title=form.get("title"),
                role=form.get("role") or None, responsible=form.get("responsible", ""),
                doc_date=form.get("doc_date") or None, doc_number=form.get("doc_number", ""),
                reply_to=_int(form.get("reply_to")), remote_addr=remote_addr(),
            )  # fmt: skip
            flash(f"已上传第{item.position}件：{item.title}", "ok")
    except WorkflowError as exc:
        flash(exc.message, "error")
    return _redirect_back(case_id)


@bp.post("/casefiles/<int:case_id>/close")
@login_required
def close(case_id: int):
    _may(case_id, "casefile.close")
    try:
        with cf().db.write() as s:
            refs = service.close_case_file(s, g.principal, case_id, remote_addr=remote_addr(),
                                           default_fonds=cf().settings.fonds_code)  # fmt: skip
            flash(
                f"案卷已归档，共 {len(refs)} 件，档号 {refs[0].reference} 至 {refs[-1].reference}",
                "ok",
            )
    except WorkflowError as exc:
        flash(exc.message, "error")
    return _redirect_back(case_id)


@bp.get("/casefiles/<int:case_id>/items/<int:item_id>/download")
@login_required
def download_item(case_id: int, item_id: int):
    try:
        with cf().db.write() as s:
            data, mime, name = service.item_file(cf(), s, g.principal, case_id, item_id,
                                                 remote_addr=remote_addr())  # fmt: skip
    except NotFound:
        abort(404)
    return send_file(io.BytesIO(data), mimetype=mime, as_attachment=True, download_name=name)


@bp.get("/casefiles/<int:case_id>/dossier.pdf")
@bp.get("/casefiles/<int:case_id>/package.zip")
@login_required
def export(case_id: int):
    from app.casefiles.export import export_case_file

    package = request.path.endswith(".zip")
    with cf().db.read() as s:
        case = _case(s, case_id, "casefile.export")
        base = case.title[:60]
    try:
        dossier, data = export_case_file(cf(), g.principal, case_id, want_pdf=not package,
                                         want_package=package, remote_addr=remote_addr())  # fmt: skip
    except WorkflowError as exc:
        flash(exc.message, "error")
        return _redirect_back(case_id)
    if package:
        return send_file(io.BytesIO(data), mimetype="application/zip", as_attachment=True,
                         download_name=f"{base}（移交包）.zip")  # fmt: skip
    return send_file(io.BytesIO(dossier.pdf), mimetype="application/pdf", as_attachment=False,
                     download_name=f"{base}.pdf")  # fmt: skip


@bp.get("/compliance")
@login_required
def compliance():
    from app.registers.compliance import CATEGORIES, compliance_findings, to_xlsx

    args = request.args
    unit = args.get("unit") or None
    with cf().db.write() as s:
        if not can(s, g.principal, "archive.compliance"):
            abort(403)
        try:
            rows = compliance_findings(s, g.principal, unit_code=unit, date_from=args.get("from") or None,
                                       date_to=args.get("to") or None)  # fmt: skip
        except ValueError:
            flash("日期格式应为 YYYY-MM-DD", "error")
            rows = []
        want_xlsx = args.get("format") == "xlsx"
        if g.principal.has("inspector"):
            audit.record(s, "compliance.export" if want_xlsx else "compliance.read", actor=g.user,
                         detail={"unit": unit, "from": args.get("from"), "to": args.get("to"),
                                 "results": len(rows)}, remote_addr=remote_addr())  # fmt: skip
        readable = g.principal.readable_units()
        units = [u for u in s.scalars(select(Unit).order_by(Unit.code)) if u.id in readable]
    if want_xlsx:
        return send_file(io.BytesIO(to_xlsx(rows)), as_attachment=True, download_name="合规检查.xlsx",
                         mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")  # fmt: skip
    return render_template(
        "compliance.html", rows=rows, units=units, categories=CATEGORIES, args=args
    )


@bp.get("/archive/checks")
@login_required
def checks():
    from app.integrity.checks import CHECKS, LABELS, run_checks

    with cf().db.write() as s:
        if not can(s, g.principal, "archive.checks"):
            abort(403)
        audit.record(s, "archive.checks", actor=g.user, remote_addr=remote_addr())
    report = run_checks(cf(), p=g.principal)
    return render_template("casefile_checks.html", report=report, checks=CHECKS, labels=LABELS)
