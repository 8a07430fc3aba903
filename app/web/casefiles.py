"""Case files (案卷): pages for clerks, archivists and inspectors."""

from __future__ import annotations

import io

from flask import Blueprint, abort, flash, g, redirect, render_template, request, send_file, url_for
from sqlalchemy import select

from app.casefiles import service as service
from app.casefiles.attachments import inspect_upload
from app.casefiles.export import export_download
from app.casefiles.models import KINDS, RETENTION, ROLES
from app.casefiles.ocr import failed_offer, needs_ocr, redo_ocr
from app.common import media_types
from app.errors import Forbidden, NotFound, ValidationFailed, WorkflowError
from app.identity.models import Unit
from app.integrity.checks import CHECKS, LABELS, archive_checks_for
from app.registers.compliance import CATEGORIES, compliance_report_for
from app.registers.compliance import to_xlsx as compliance_xlsx
from app.web.common import cf, login_required, remote_addr
from app.web.nav import require

bp = Blueprint("casefiles", __name__)


def _case(s, case_id: int, action: str = "casefile.read"):
    """The case file for `action`: NotFound (404) or Forbidden (403) with the reason otherwise."""
    return service.get_case_file(s, g.principal, case_id, action)


@bp.get("/casefiles")
@login_required
def index():
    require("casefile.read")
    status = request.args.get("status") or None
    with cf().db.read() as s:
        try:
            cases = service.list_case_files(s, g.principal, status)
        except ValidationFailed as exc:
            return render_template("error.html", title="查询条件有误", message=exc.message), 400
        for c in cases:
            _ = c.unit.name
        units = service.creatable_units(s, g.principal)
        return render_template("casefiles.html", cases=cases, status=status, can_create=bool(units))


@bp.route("/casefiles/new", methods=["GET", "POST"])
@login_required
def new():
    with cf().db.read() as s:
        units = service.creatable_units(s, g.principal)
    if not units:
        raise Forbidden("您无权建立案卷")
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
        except Forbidden:
            raise  # the 403 page with its reason (app/web/__init__.py)
        except WorkflowError as exc:
            flash(exc.message, "error")
        else:
            flash("案卷已建立，可以归入文书和上传材料。", "ok")
            return redirect(url_for("casefiles.show", case_id=case_id))
    return render_template("casefile_new.html", units=units, kinds=KINDS, retention=RETENTION,
                           form=form, dates=service.DATE_FIELDS)  # fmt: skip


@bp.get("/casefiles/<int:case_id>")
@login_required
def show(case_id: int, close_problems: list[dict] | None = None, status: int = 200):
    with cf().db.write() as s:
        view = service.open_case_file(s, g.principal, case_id, via="web", remote_addr=remote_addr())
        _ = view.case.creator.name
        return render_template("casefile.html", case=view.case, items=view.items,
                               refs=view.references, roles=ROLES, editable=view.may_edit,
                               ocr=view.ocr,
                               closable=view.may_close, hidden=view.hidden,
                               close_problems=close_problems or [],
                               close_confirmation=service.CLOSE_CONFIRMATION), status  # fmt: skip


def _may(case_id: int, action: str) -> None:
    """Refuse (404 / 403) before reading a form: a closed case file is 403 for its keepers."""
    with cf().db.read() as s:
        _case(s, case_id, action)


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
            doc_id = service.find_document_id(s, ref)
            item = service.add_document(s, g.principal, case_id, doc_id, role=request.form.get("role") or None,
                                        reply_to=_int(request.form.get("reply_to")), remote_addr=remote_addr())  # fmt: skip
            flash(f"已归入第{item.position}件：{item.title}", "ok")
    except Forbidden:
        raise  # a refusal is the 403 page with its reason, not a flash (app/web/__init__.py)
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
        # checked before the write transaction: a slow inspection blocks no other writer
        checked = inspect_upload(data, upload.filename, cf().settings.max_upload_bytes)
        with cf().db.write() as s:
            item = service.add_attachment(
                cf(), s, g.principal, case_id, checked, title=form.get("title"),
                role=form.get("role") or None, responsible=form.get("responsible", ""),
                doc_date=form.get("doc_date") or None, doc_number=form.get("doc_number", ""),
                reply_to=_int(form.get("reply_to")), remote_addr=remote_addr(),
            )  # fmt: skip
            scan = needs_ocr(checked.file_type, checked.text)
            flash(f"已上传第{item.position}件：{item.title}"
                  + ("。这是扫描件，正在后台识别其中的文字，完成后即可检索" if scan else ""), "ok")  # fmt: skip
    except Forbidden:
        raise  # a refusal is the 403 page with its reason, not a flash (app/web/__init__.py)
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
                                           default_fonds=cf().settings.fonds_code,
                                           confirmed=request.form.get("confirm") == "1")  # fmt: skip
            flash(
                f"案卷已归档，共 {len(refs)} 件，档号 {refs[0].reference} 至 {refs[-1].reference}",
                "ok",
            )
    except Forbidden:
        raise  # a refusal is the 403 page with its reason, not a flash (app/web/__init__.py)
    except WorkflowError as exc:
        if any(e.get("field") != "confirm" for e in exc.errors):  # what to fill in, with links
            return show(case_id, close_problems=exc.errors, status=exc.status)
        flash(exc.message, "error")
    return _redirect_back(case_id)


@bp.route("/casefiles/<int:case_id>/edit", methods=["GET", "POST"])
@login_required
def edit(case_id: int):
    """The case file's description (title, kind, people, dates, retention, note) until closing."""
    _may(case_id, "casefile.edit")
    errors, form = {}, request.form
    if request.method == "POST":
        fields = ("title", "kind", "responsible", "retention", "note", *service.DATE_FIELDS)
        try:
            with cf().db.write() as s:
                service.update_case_file(s, g.principal, case_id, remote_addr=remote_addr(),
                                         **{k: form.get(k, "") for k in fields})  # fmt: skip
        except Forbidden:
            raise
        except WorkflowError as exc:
            flash(exc.message, "error")
            errors = {e["field"]: e["message"] for e in exc.errors}
        else:
            flash("案卷信息已保存。", "ok")
            return _redirect_back(case_id)
    with cf().db.read() as s:
        case = _case(s, case_id)
        values = {
            k: getattr(case, k) or ""
            for k in ("title", "kind", "responsible", "retention", "note", *service.DATE_FIELDS)
        }
        values |= {k: v for k, v in form.items() if k in values}  # fmt: skip
        return render_template("casefile_edit.html", case=case, values=values, errors=errors,
                               kinds=KINDS, retention=RETENTION, dates=service.DATE_FIELDS), (
            422 if errors else 200)  # fmt: skip


@bp.route("/casefiles/<int:case_id>/items/<int:item_id>/edit", methods=["GET", "POST"])
@login_required
def edit_item(case_id: int, item_id: int):
    """An item's catalogue entry (题名, 责任者, 日期, 文号, 材料类别) until closing."""
    _may(case_id, "casefile.edit")
    errors, form = {}, request.form
    if request.method == "POST":
        try:
            with cf().db.write() as s:
                service.update_item(s, g.principal, case_id, item_id, remote_addr=remote_addr(),
                                    **{k: form.get(k, "") for k in service.ITEM_FIELDS})  # fmt: skip
        except Forbidden:
            raise
        except WorkflowError as exc:
            flash(exc.message, "error")
            errors = {e["field"]: e["message"] for e in exc.errors}
        else:
            flash("材料信息已保存。", "ok")
            return redirect(url_for("casefiles.show", case_id=case_id) + f"#item-{item_id}")
    with cf().db.read() as s:
        case = _case(s, case_id)
        view = service.case_file_contents(s, g.principal, case)
        item = next((i for i in view.items if i.id == item_id), None)
        if item is None or item.id in view.hidden:
            abort(404)
        values = {k: getattr(item, k) or "" for k in service.ITEM_FIELDS}
        values |= {k: v for k, v in form.items() if k in values}
        return render_template("casefile_item_edit.html", case=case, item=item, values=values,
                               errors=errors, roles=ROLES), (422 if errors else 200)  # fmt: skip


@bp.post("/casefiles/<int:case_id>/items/<int:item_id>/<any(remove, up, down):op>")
@login_required
def change_item(case_id: int, item_id: int, op: str):
    """Remove an item, or move it one place up or down, until closing."""
    _may(case_id, "casefile.edit")
    try:
        with cf().db.write() as s:
            if op == "remove":
                service.remove_item(s, g.principal, case_id, item_id, remote_addr())
                flash("已从案卷中移除该件；原文书或文件仍保存在档案库中。", "ok")
            else:
                current = service.case_file_contents(s, g.principal, _case(s, case_id))
                position = next((i.position for i in current.items if i.id == item_id), 0)
                target = position - 1 if op == "up" else position + 1
                service.move_item(s, g.principal, case_id, item_id, target, remote_addr())
    except Forbidden:
        raise
    except WorkflowError as exc:
        flash(exc.message, "error")
    return _redirect_back(case_id)


@bp.get("/casefiles/<int:case_id>/items/<int:item_id>/download")
@login_required
def download_item(case_id: int, item_id: int):
    """The original; `?copy=searchable`: a scan's PDF/A copy with its recognised text."""
    try:
        with cf().db.write() as s:
            data, mime, name = service.item_file(
                cf(), s, g.principal, case_id, item_id, remote_addr=remote_addr(),
                searchable=request.args.get("copy") == "searchable",
            )  # fmt: skip
    except NotFound:
        abort(404)
    return send_file(io.BytesIO(data), mimetype=mime, as_attachment=True, download_name=name)


@bp.get("/casefiles/<int:case_id>/<any('dossier.pdf', 'package.zip'):kind>")
@login_required
def export(case_id: int, kind: str):
    package = kind == "package.zip"
    try:
        found = export_download(cf(), g.principal, case_id, package=package,
                                remote_addr=remote_addr())  # fmt: skip
    except (Forbidden, NotFound):
        raise  # the 403 / 404 page with its reason (app/web/__init__.py)
    except WorkflowError as exc:  # e.g. nothing to export yet: shown on the case file page
        flash(exc.message, "error")
        return _redirect_back(case_id)
    return send_file(io.BytesIO(found.data), mimetype=found.media_type, as_attachment=package,
                     download_name=found.name)  # fmt: skip


@bp.get("/compliance")
@login_required
def compliance():
    """A bad filter is refused (400) with the form kept as typed and the reason shown."""
    args = request.args
    want_xlsx = args.get("format") == "xlsx"
    rows, errors = [], {}
    try:
        with cf().db.write() as s:
            rows = compliance_report_for(
                s, g.principal, unit_code=args.get("unit"), date_from=args.get("from"),
                date_to=args.get("to"), export=want_xlsx, via="web", remote_addr=remote_addr(),
            )  # fmt: skip
    except ValidationFailed as exc:
        errors = {e["field"]: e["message"] for e in exc.errors} or {"_": exc.message}
    if want_xlsx and not errors:
        return send_file(io.BytesIO(compliance_xlsx(rows)), as_attachment=True, download_name="合规检查.xlsx",
                         mimetype=media_types.XLSX)  # fmt: skip
    with cf().db.read() as s:
        readable = g.principal.readable_units()
        units = [u for u in s.scalars(select(Unit).order_by(Unit.code)) if u.id in readable]
    return render_template(
        "compliance.html", rows=rows, units=units, categories=CATEGORIES, args=args, errors=errors
    ), (400 if errors else 200)


@bp.get("/archive/checks")
@login_required
def checks():
    report = archive_checks_for(cf(), g.principal, via="web", remote_addr=remote_addr())
    with cf().db.read() as s:
        ocr_failed = failed_offer(s, g.principal)
    return render_template("casefile_checks.html", report=report, checks=CHECKS, labels=LABELS,
                           ocr_failed=ocr_failed)  # fmt: skip


@bp.post("/archive/checks/ocr-redo")
@login_required
def ocr_redo():
    """An administrator queues every 识别失败 scan for recognition again."""
    with cf().db.write() as s:
        queued = redo_ocr(s, g.principal, failed=True, via="web", remote_addr=remote_addr())
    flash(f"已重新排队识别 {len(queued)} 件扫描件" if queued else "没有识别失败的扫描件",
          "ok" if queued else "error")  # fmt: skip
    return redirect(url_for("casefiles.checks"))
