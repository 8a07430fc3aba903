"""Admin pages: units and users (disable, never delete; grant roles), and the audit log."""

from __future__ import annotations

import csv
import datetime as dt
import io

from flask import Blueprint, Response, abort, flash, g, redirect, render_template, request, url_for
from sqlalchemy import func, select

from app import audit
from app.audit import labels as audit_labels
from app.audit.models import AuditEntry
from app.errors import NotFound, ValidationFailed, WorkflowError
from app.identity import users as user_admin
from app.identity.models import ROLES, Unit, User
from app.templating.models import TemplateVersion
from app.templating.upload import MAX_TEMPLATE_BYTES, add_template, check_template
from app.web.common import cf, format_cst, login_required, page_arg, remote_addr
from app.web.nav import require

bp = Blueprint("admin", __name__, url_prefix="/admin")
PER_PAGE = 50


def _require(action: str) -> None:
    require(action)  # the policy's rule and reason, as the menu shows it (app/web/nav.py)


@bp.route("/units", methods=["GET", "POST"])
@login_required
def units():
    _require("unit.manage")
    errors: dict[str, str] = {}
    if request.method == "POST":
        f = request.form
        try:
            with cf().db.write() as s:
                user_admin.add_unit(s, f.get("code", "").strip(), f.get("name", ""), f.get("parent") or None,
                                    f.get("doc_code", "").strip() or None, actor=g.user)  # fmt: skip
            flash(f"已添加单位 {f.get('name')}", "ok")
            return redirect(url_for(".units"))
        except WorkflowError as exc:
            errors = {e["field"]: e["message"] for e in exc.errors} or {"_": exc.message}
    with cf().db.read() as s:
        rows = list(s.scalars(select(Unit).order_by(Unit.code)))
        by_id = {u.id: u for u in rows}
    return render_template(
        "admin_units.html", units=rows, by_id=by_id, errors=errors, form=request.form
    ), (422 if errors else 200)


@bp.route("/users", methods=["GET", "POST"])
@login_required
def users():
    _require("user.manage")
    errors: dict[str, str] = {}
    created = None
    if request.method == "POST":
        f = request.form
        try:
            with cf().db.write() as s:
                user, password = user_admin.add_user(s, f.get("username", ""), f.get("name", ""), f.get("unit", ""),
                                                     f.getlist("role"), actor=g.user, email=f.get("email"))  # fmt: skip
                created = (user.username, password)
        except WorkflowError as exc:
            errors = {e["field"]: e["message"] for e in exc.errors} or {"_": exc.message}
    return _users_page(errors=errors, created=created, form=request.form)


def _users_page(errors: dict | None = None, created: tuple | None = None, form=None,
                email_error: tuple[str, str, str] | None = None):  # fmt: skip
    """The user list and forms; email_error is (username, submitted value, message)."""
    with cf().db.read() as s:
        rows = list(s.scalars(select(User).order_by(User.username)))
        units = {u.id: u for u in s.scalars(select(Unit).order_by(Unit.code))}
        emails = user_admin.emails(s)
    return render_template("admin_users.html", users=rows, units=units, roles=ROLES, errors=errors or {},
                           created=created, form=form or {}, emails=emails, email_error=email_error
                           ), (422 if errors or email_error else 200)  # fmt: skip


@bp.post("/users/<username>/email")
@login_required
def user_email(username: str):
    """Set or clear the address a user's review notifications are e-mailed to."""
    _require("user.manage")
    submitted = request.form.get("email", "")
    try:
        with cf().db.write() as s:
            email = user_admin.set_email(
                s, username, submitted, actor=g.user, remote_addr=remote_addr()
            )
    except NotFound:
        abort(404)
    except WorkflowError as exc:
        return _users_page(email_error=(username, submitted, exc.message))
    flash(f"已将 {username} 的邮箱设为 {email}" if email else f"已清除 {username} 的邮箱", "ok")
    return redirect(url_for(".users"))


@bp.post("/users/<username>/<any(disable, enable):action>")
@login_required
def user_action(username: str, action: str):
    _require("user.manage")
    try:
        with cf().db.write() as s:
            if username == g.user.username and action == "disable":
                raise WorkflowError("不能停用自己的账户")
            user_admin.set_active(s, username, action == "enable", actor=g.user)
        flash(f"已{'启用' if action == 'enable' else '停用'} {username}", "ok")
    except WorkflowError as exc:
        flash(exc.message, "error")
    return redirect(url_for(".users"))


@bp.post("/grant")
@login_required
def grant():
    _require("user.manage")
    f = request.form
    try:
        with cf().db.write() as s:
            user_admin.grant_role(
                s, f.get("username", ""), f.get("role", ""), f.get("unit", ""), actor=g.user
            )
        flash(f"已为 {f.get('username')} 授予角色", "ok")
    except WorkflowError as exc:
        flash(exc.message, "error")
    return redirect(url_for(".users"))


def _audit_query(args):
    query = select(AuditEntry)
    if args.get("actor"):
        query = query.where(AuditEntry.actor == args["actor"].strip().lower())
    if args.get("action"):
        query = query.where(AuditEntry.action.startswith(args["action"].strip()))
    kind, _, ident = (args.get("object") or "").partition(
        ":"
    )  # "document:12" (links, old bookmarks)
    kind, ident = args.get("object_type") or kind, args.get("object_id") or ident
    if kind.strip():
        query = query.where(AuditEntry.object_type == kind.strip())
    if ident.strip():
        query = query.where(AuditEntry.object_id == ident.strip())
    for name, op in (("from", "ge"), ("to", "le")):
        value = args.get(name)
        if value:
            try:
                day = dt.date.fromisoformat(value)
                # dates are China time; stored times are UTC (0001-01-01 has no UTC edge)
                edge = dt.datetime.combine(
                    day, dt.time.min if op == "ge" else dt.time.max
                ) - dt.timedelta(hours=8)
            except (ValueError, OverflowError):
                continue  # not a date: the filter is ignored, as the form shows it
            query = query.where(AuditEntry.at >= edge if op == "ge" else AuditEntry.at <= edge)
    return query


@bp.get("/audit")
@login_required
def audit_log():
    _require("audit.read")
    page = page_arg()
    with cf().db.write() as s:
        query = _audit_query(request.args)
        total = s.scalar(select(func.count()).select_from(query.subquery()))
        rows = list(
            s.scalars(
                query.order_by(AuditEntry.seq.desc()).offset((page - 1) * PER_PAGE).limit(PER_PAGE)
            )
        )
        audit.record(s, "audit.view", actor=g.user, detail={k: v for k, v in request.args.items()},
                     remote_addr=remote_addr())  # fmt: skip
        names = _audit_names(s)
    args = {k: v for k, v in request.args.items() if k != "page"}
    return render_template(
        "admin_audit.html", rows=rows, total=total, page=page, per_page=PER_PAGE, args=args,
        action_label=audit_labels.action_label,
        object_label=lambda kind, ident: audit_labels.object_label(kind, ident, names),
        detail_text=lambda detail: audit_labels.detail_text(detail, names),
        actions=audit_labels.ACTION_LABELS, objects=audit_labels.OBJECT_LABELS,
    )  # fmt: skip


def _audit_names(s) -> dict[str, str]:
    return audit_labels.store_names(cf().catalog, s)


@bp.get("/audit.csv")
@login_required
def audit_csv():
    _require("audit.read")
    out = io.StringIO()
    out.write("\ufeff")  # Excel/WPS open UTF-8 CSV correctly with a BOM
    writer = csv.writer(out)
    writer.writerow(
        [
            "序号",
            "时间（北京时间）",
            "用户",
            "操作",
            "操作代码",
            "对象类型",
            "对象",
            "详情",
            "来源地址",
            "前序哈希",
            "本条哈希",
        ]
    )
    with cf().db.write() as s:
        names = _audit_names(s)
        for e in s.scalars(_audit_query(request.args).order_by(AuditEntry.seq)).yield_per(1000):
            detail = audit_labels.detail_text(e.detail, names)
            writer.writerow([e.seq, format_cst(e.at), e.actor, audit_labels.action_label(e.action),
                             e.action, audit_labels.OBJECT_LABELS.get(e.object_type, e.object_type),
                             e.object_id, _csv_safe(detail), e.remote_addr, e.prev_hash,
                             e.entry_hash])  # fmt: skip
        audit.record(s, "audit.export", actor=g.user, detail={k: v for k, v in request.args.items()},
                     remote_addr=remote_addr())  # fmt: skip
    return Response(out.getvalue(), mimetype="text/csv; charset=utf-8",
                    headers={"Content-Disposition": "attachment; filename=audit-log.csv"})  # fmt: skip


def _csv_safe(value: str) -> str:
    """Neutralise spreadsheet formulas in exported text (CSV injection)."""
    return "'" + value if value[:1] in ("=", "+", "-", "@", "\t", "\r") else value


@bp.route("/templates", methods=["GET", "POST"])
@login_required
def templates():
    """Upload a new template or a new version; checked before anything is stored."""
    _require("template.manage")
    report = None
    form_error = None
    if request.method == "POST":
        files = {k: request.files.get(k) for k in ("docx", "schema", "sample")}
        blobs = {k: (f.read(MAX_TEMPLATE_BYTES + 1) if f and f.filename else None)
                 for k, f in files.items()}  # fmt: skip
        template_id = (request.form.get("template_id") or "").strip()
        try:
            # checked before the write transaction: rendering the sample blocks no writer
            checked = check_template(template_id, blobs["docx"], blobs["schema"], blobs["sample"])
            with cf().db.write() as s:
                upload = add_template(cf(), s, g.principal, template_id, blobs["docx"],
                                      blobs["schema"], blobs["sample"], via="web",
                                      remote_addr=remote_addr(), report=checked)  # fmt: skip
        except ValidationFailed as exc:
            form_error = exc.message
        else:
            report = upload.report
            if upload.ok:
                flash(f"模板“{template_id}”第{upload.version}版已上传，可以立即使用。", "ok")
                return redirect(url_for(".templates"))
    with cf().db.read() as s:
        rows = list(
            s.scalars(
                select(TemplateVersion).order_by(
                    TemplateVersion.template_id, TemplateVersion.version.desc()
                )
            )
        )
    status = 422 if (form_error or (report and not report.ok)) else 200
    return render_template("admin_templates.html", rows=rows, report=report, form_error=form_error,
                           form=request.form), status  # fmt: skip
