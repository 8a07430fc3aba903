"""规范性文件登记簿: the register page (filters, XLSX), registering an entry, an entry's page with
its later steps, and the yearly clean-up (app/registers/normative.py decides everything)."""

from __future__ import annotations

import io

from flask import Blueprint, flash, g, redirect, render_template, request, send_file, url_for
from sqlalchemy import select

from app.access.policy import can
from app.common import media_types
from app.common.clock import today_in_china
from app.errors import ValidationFailed
from app.identity.models import Unit
from app.registers import normative, normative_export, normative_rules
from app.web.common import cf, login_required, remote_addr
from app.web.nav import require

bp = Blueprint("normative", __name__)


def _units(s, action: str) -> list[Unit]:
    units = list(s.scalars(select(Unit).order_by(Unit.code)))
    if action == "read":
        readable = g.principal.readable_units()
        return [u for u in units if u.id in readable]
    return [u for u in units if can(s, g.principal, "normative.edit", u)]


def _errors(exc: ValidationFailed) -> dict[str, str]:
    return {e["field"]: e["message"] for e in exc.errors} or {"_": exc.message}


@bp.get("/normative")
@login_required
def index():
    """The register; a bad filter is refused (400) with the reason at its field."""
    require("normative.register")
    args = request.args
    want_xlsx = args.get("format") == "xlsx"
    register, errors = None, {}
    try:
        with cf().db.write() as s:
            register = normative.list_register(
                s, g.principal, unit_code=args.get("unit") or None, state=args.get("state") or None,
                year=args.get("year") or None, q=args.get("q", ""), problems=bool(args.get("problems")),
                export=want_xlsx, via="web", remote_addr=remote_addr(),
            )  # fmt: skip
            if want_xlsx:
                data = normative_export.to_xlsx(register.entries)
    except ValidationFailed as exc:
        errors = _errors(exc)
    if register is not None and want_xlsx:
        return send_file(io.BytesIO(data), as_attachment=True, mimetype=media_types.XLSX,
                         download_name=f"规范性文件登记簿-{register.today.isoformat()}.xlsx")  # fmt: skip
    with cf().db.read() as s:
        units, editable = _units(s, "read"), bool(_units(s, "edit"))
        return render_template(
            "normative.html", register=register, errors=errors, units=units, args=args,
            states=normative_rules.STATES, steps=normative_rules.STEPS, may_register=editable,
        ), (400 if errors else 200)  # fmt: skip


@bp.route("/normative/new", methods=["GET", "POST"])
@login_required
def new():
    errors: dict[str, str] = {}
    if request.method == "POST":
        try:
            with cf().db.write() as s:
                entry = normative.register_entry(
                    s, g.principal, request.form, unit_code=request.form.get("unit") or None,
                    via="web", remote_addr=remote_addr(), settings=cf().settings,
                )  # fmt: skip
                entry_id, number = entry.id, entry.number
            flash(f"已登记，统一编号 {number}。", "ok")
            return redirect(url_for("normative.show", entry_id=entry_id))
        except ValidationFailed as exc:
            errors = _errors(exc)
    with cf().db.read() as s:
        units = _units(s, "edit")
        if not units:
            return render_template("error.html", title="无权访问",
                                   message="您无权登记规范性文件"), 403  # fmt: skip
        return render_template(
            "normative_form.html", entry=None, values=request.form, errors=errors, units=units,
            fields=normative_rules.FIELDS, states=normative_rules.STATES, today=today_in_china(),
            current_values={},
        ), (422 if errors else 200)  # fmt: skip


@bp.route("/normative/<int:entry_id>", methods=["GET", "POST"])
@login_required
def show(entry_id: int):
    errors: dict[str, str] = {}
    if request.method == "POST":
        try:
            with cf().db.write() as s:
                values = {k: v for k, v in request.form.items() if k in normative_rules.FIELDS}
                normative.update_entry(s, g.principal, entry_id, values, via="web",
                                       remote_addr=remote_addr())  # fmt: skip
            flash("已保存。", "ok")
            return redirect(url_for("normative.show", entry_id=entry_id))
        except ValidationFailed as exc:
            errors = _errors(exc)
    with cf().db.read() as s:
        row = normative.entry_view(s, g.principal, entry_id)
        return render_template(
            "normative_form.html", entry=row.entry, row=row, values=request.form, errors=errors,
            fields=normative_rules.FIELDS, states=normative_rules.STATES, steps=normative_rules.STEPS,
            step_date=normative_rules.step_date, valid_years=normative_rules.valid_years(row.entry),
            may_edit=can(s, g.principal, "normative.edit", row.entry.unit), units=[],
            today=today_in_china(), current_values=_current(row),
        ), (422 if errors else 200)  # fmt: skip


def _current(row: normative.Entry) -> dict:
    """The form's values of a stored entry."""
    e = row.entry
    out = {name: getattr(e, name, None) for name in normative_rules.FIELDS}
    return out | {"case_file": e.case_file_id, "review_document": row.review_number,
                  "valid_years": normative_rules.valid_years(e)}  # fmt: skip


@bp.get("/normative/cleanup")
@login_required
def cleanup():
    """清理: what is in force at the end of a year, for review (XLSX with format=xlsx)."""
    year = request.args.get("year") or str(today_in_china().year)
    errors, rows = {}, []
    try:
        with cf().db.write() as s:
            rows = normative_export.cleanup(s, g.principal, year, unit_code=request.args.get("unit") or None,
                                     via="web", remote_addr=remote_addr())  # fmt: skip
            if request.args.get("format") == "xlsx":
                data = normative_export.to_xlsx([r.entry for r in rows], f"{year}年规范性文件清理",
                                         [r.advice for r in rows])  # fmt: skip
                return send_file(io.BytesIO(data), as_attachment=True, mimetype=media_types.XLSX,
                                 download_name=f"规范性文件清理-{year}.xlsx")  # fmt: skip
    except ValidationFailed as exc:
        errors = _errors(exc)
    return render_template("normative_cleanup.html", rows=rows, year=year, errors=errors,
                           states=normative_rules.STATES), (400 if errors else 200)  # fmt: skip
