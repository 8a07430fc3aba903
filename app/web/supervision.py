"""督导考核 pages: the adviser pool, contract filings, work records, assessments, the
inspector's dashboard and its drill-down, the half-yearly report (services in app/supervision).

Long module: the pages of one feature, each a thin call of its service."""

from __future__ import annotations

import io

from flask import Blueprint, flash, g, redirect, render_template, request, send_file, url_for
from sqlalchemy import select

from app.access.policy import can, pool_keepers, supervised_units
from app.common import media_types
from app.common.clock import today_in_china
from app.errors import ValidationFailed
from app.identity.models import Unit
from app.supervision import assessment, dashboard, filing, pool, ranking, records, reports
from app.supervision.export import table_xlsx
from app.supervision.models import (
    ASSESSMENT_STATE_LABELS,
    ENTRY_KINDS,
    ENTRY_STATUS_LABELS,
    FILING_STATE_LABELS,
    GRADES,
)
from app.web.common import cf, login_required, remote_addr
from app.web.nav import require

bp = Blueprint("supervision", __name__)


def _errors(exc: ValidationFailed) -> dict[str, str]:
    return {e["field"]: e["message"] for e in exc.errors} or {"_": exc.message}


def _xlsx(title: str, columns: list[str], rows: list[list]):
    return send_file(io.BytesIO(table_xlsx(title, columns, rows)), as_attachment=True,
                     mimetype=media_types.XLSX, download_name=f"{title}.xlsx")  # fmt: skip


def _units(s, ids: set[int]) -> list[Unit]:
    return list(s.scalars(select(Unit).where(Unit.id.in_(ids or {-1})).order_by(Unit.code)))


def supervision_notes(s, register=None):
    """What the home page's partial shows first for the user's roles (`register`: the
    contracts register the home page read already)."""
    notes = dashboard.home_notes(s, g.principal, register=register)
    due = [u for r in notes.reports_due or [] for u in r.missing]
    for u in (notes.uncovered or []) + (notes.own_unit_uncovered or []) + due:
        _ = u.name
    return notes


def engagement_initial_data(template_id: str, unit_code: str) -> tuple[dict, str]:
    """An engagement contract chosen from the adviser pool (?pool_entry=) or renewing an
    expiring one (?renew=) starts prefilled (app/supervision/pool.py), and so does the
    half-yearly report of a period (?year=&half=, app/supervision/reports.py); else empty."""
    if template_id == reports.REPORT and request.args.get("year"):
        try:
            with cf().db.read() as s:
                return reports.prefill(s, g.principal, unit_code, request.args.get("year"),
                                       request.args.get("half")), unit_code  # fmt: skip
        except ValidationFailed as exc:
            flash(exc.message, "error")
            return {}, unit_code
    entry, renew = request.args.get("pool_entry"), request.args.get("renew")
    if template_id != pool.CONTRACT or not (entry or renew):
        return {}, unit_code
    try:
        with cf().db.read() as s:
            if renew:
                return pool.renewal_prefill(s, g.principal, renew)
            return pool.engagement_prefill(s, g.principal, entry, unit_code), unit_code
    except ValidationFailed as exc:
        flash(exc.message, "error")
        return {}, unit_code


@bp.get("/supervision")
@login_required
def index():
    require("pool.read")  # the menu entry's right: shown and served to the same users
    if g.principal.has("inspector"):
        return redirect(url_for(".dashboard_page"))
    return redirect(url_for(".pool_list"))


# ---- 人才库 -----------------------------------------------------------------------------------


@bp.route("/supervision/pool", methods=["GET", "POST"])
@login_required
def pool_list():
    args = request.args
    errors, form = {}, {}
    if request.method == "POST":
        form = request.form.to_dict()
        try:
            with cf().db.write() as s:
                entry = pool.admit(s, g.principal, form, remote_addr())
                entry_id = entry.id
            flash(f"已将“{form.get('name', '')}”纳入人才库。", "ok")
            return redirect(url_for(".pool_entry", entry_id=entry_id))
        except ValidationFailed as exc:
            errors = _errors(exc)
    try:
        with cf().db.read() as s:
            rows = pool.list_pool(s, g.principal, status=args.get("status") or None,
                                  kind=args.get("kind") or None,
                                  specialty=args.get("specialty") or None)  # fmt: skip
            keepers = _units(s, supervised_units(g.principal))
    except ValidationFailed as exc:
        rows, keepers, errors = [], [], _errors(exc)
    return render_template(
        "supervision_pool.html", rows=rows, errors=errors, form=form, keepers=keepers,
        kinds=ENTRY_KINDS, statuses=ENTRY_STATUS_LABELS, specialties=pool.SPECIALTIES,
        can_manage=bool(keepers),
    ), (422 if errors else 200)  # fmt: skip


@bp.get("/supervision/pool/<int:entry_id>")
@login_required
def pool_entry(entry_id: int):
    with cf().db.read() as s:
        entry = pool.visible_entry(s, g.principal, entry_id)
        row = next(r for r in pool.list_pool(s, g.principal) if r.entry.id == entry.id)
        keeper = s.get(Unit, entry.keeper_unit_id)
        manage = can(s, g.principal, "pool.manage", keeper)
        engage_units = [u for u in _units(s, g.principal.units_with("clerk", "office-head"))
                        if entry.keeper_unit_id in pool_keepers(g.principal)]  # fmt: skip
    return render_template("supervision_entry.html", row=row, manage=manage,
                           engage_units=engage_units, statuses=ENTRY_STATUS_LABELS)  # fmt: skip


@bp.post("/supervision/pool/<int:entry_id>/status")
@login_required
def pool_status(entry_id: int):
    try:
        with cf().db.write() as s:
            pool.set_status(s, g.principal, entry_id, request.form.get("status", ""),
                            request.form.get("reason", ""), remote_addr())  # fmt: skip
        flash("人才库状态已更新。", "ok")
    except ValidationFailed as exc:
        flash(exc.message, "error")
    return redirect(url_for(".pool_entry", entry_id=entry_id))


# ---- 合同备案 ---------------------------------------------------------------------------------


@bp.get("/supervision/filings")
@login_required
def filings():
    args = request.args
    errors, rows = {}, []
    try:
        with cf().db.read() as s:
            rows = filing.filing_queue(s, g.principal, state=args.get("state") or None,
                                       overdue=bool(args.get("overdue")))  # fmt: skip
            registrable = {
                r.document_id for r in rows if r.unit_id in supervised_units(g.principal)
            }
            submittable = {r.document_id for r in rows if r.unit_id in
                           g.principal.units_with("clerk") | g.principal.subtree(
                               g.principal.units_with("office-head"))}  # fmt: skip
    except ValidationFailed as exc:
        errors, registrable, submittable = _errors(exc), set(), set()
    if args.get("format") == "xlsx" and not errors:
        columns = ["发文字号", "聘任单位", "法律顾问", "签订日期", "备案期限", "备案状态", "备案号",
                   "备案日期", "逾期天数", "退回原因或者说明"]  # fmt: skip
        return _xlsx("合同备案", columns, [[r.number, r.unit_name, r.adviser, r.signed_on,
                     r.due_on, r.state_label, r.filing_number, r.filed_on, r.days_late, r.reason]
                     for r in rows])  # fmt: skip
    return render_template("supervision_filings.html", rows=rows, errors=errors,
                           states=FILING_STATE_LABELS, registrable=registrable,
                           submittable=submittable, days=filing.FILING_DAYS), (400 if errors else 200)  # fmt: skip


@bp.post("/supervision/filings/<int:doc_id>/<action>")
@login_required
def filing_act(doc_id: int, action: str):
    form = request.form
    try:
        with cf().db.write() as s:
            if action == "register":
                filing.register_filing(s, g.principal, doc_id, form.get("filing_number", ""),
                                       form.get("filed_on"), remote_addr())  # fmt: skip
                flash("已登记备案。", "ok")
            elif action == "return":
                filing.return_filing(s, g.principal, doc_id, form.get("reason", ""), remote_addr())
                flash("已退回聘任单位。", "ok")
            elif action == "resubmit":
                filing.resubmit_filing(s, g.principal, doc_id, form.get("note", ""), remote_addr())
                flash("已重新报送备案。", "ok")
            else:
                flash("无法识别的操作。", "error")
    except ValidationFailed as exc:
        flash(exc.message, "error")
    return redirect(url_for(".filings"))


# ---- 服务记录 ---------------------------------------------------------------------------------


@bp.route("/supervision/records", methods=["GET", "POST"])
@login_required
def records_page():
    args = request.args
    today = today_in_china()
    year, quarter = args.get("year") or today.year, args.get("quarter") or None
    errors, form, summary = {}, {}, None
    if request.method == "POST":
        form = request.form.to_dict()
        try:
            with cf().db.write() as s:
                records.add_record(s, g.principal, form, remote_addr())
            flash("服务记录已登记。", "ok")
            return redirect(url_for(".records_page", year=form.get("served_on", "")[:4] or year))
        except ValidationFailed as exc:
            errors = _errors(exc)
    try:
        with cf().db.read() as s:
            summary = records.service_records(s, g.principal, year=year, quarter=quarter,
                                              unit_code=args.get("unit") or None,
                                              subject=args.get("subject") or None,
                                              kind=args.get("kind") or None)  # fmt: skip
    except ValidationFailed as exc:
        errors |= _errors(exc)
    if args.get("format") == "xlsx" and summary is not None:
        columns = [
            "日期",
            "单位",
            "法律顾问或者公职律师",
            "服务类型",
            "事项",
            "用时（小时）",
            "来源",
        ]
        return _xlsx("服务记录", columns, [[r.served_on, r.unit_name, r.subject_name, r.kind_label,
                     r.matter, float(r.hours) if r.hours is not None else None, r.source_label]
                     for r in summary.records])  # fmt: skip
    with cf().db.read() as s:
        units = _units(s, g.principal.readable_units())
        record_units = [u for u in _units(s, set(u.id for u in s.scalars(select(Unit))))
                        if can(s, g.principal, "service.record", u)]  # fmt: skip
        chosen = next((u for u in record_units if u.code == form.get("unit")), None) or (
            record_units[0] if record_units else None
        )
        subjects = records.subject_choices(s, g.principal, chosen) if chosen else []
    return render_template(
        "supervision_records.html", summary=summary, errors=errors, form=form, units=units,
        record_units=record_units, subjects=subjects, kinds=records.KIND_LABELS,
        manual_kinds=records.MANUAL_KINDS, year=year, quarter=quarter, args=args,
    ), (422 if errors else 200)  # fmt: skip


# ---- 年度考核 ---------------------------------------------------------------------------------


@bp.route("/supervision/assessments", methods=["GET", "POST"])
@login_required
def assessments():
    args = request.args
    today = today_in_china()
    errors, form, pre = {}, {}, None
    if request.method == "POST":
        form = request.form.to_dict()
        try:
            with cf().db.write() as s:
                assessment.save_assessment(s, g.principal, form, remote_addr())
            flash("考核已保存，待签发人确认。", "ok")
            return redirect(url_for(".assessments", list_year=form.get("year")))
        except ValidationFailed as exc:
            errors = _errors(exc)
    elif args.get("subject"):
        form = args.to_dict()
    with cf().db.read() as s:
        conduct_units = [u for u in _units(s, g.principal.units_with("office-head"))]
        unit = next((u for u in conduct_units if u.code == form.get("unit")), None) or (
            conduct_units[0] if conduct_units else None
        )
        subjects = records.subject_choices(s, g.principal, unit) if unit else []
        if form.get("subject") and unit:
            try:
                pre = assessment.prefill(s, g.principal, unit.code, form["subject"],
                                         form.get("year") or today.year)  # fmt: skip
            except ValidationFailed as exc:
                errors |= _errors(exc)
        try:
            rows = assessment.list_assessments(s, g.principal, year=args.get("list_year") or None)
        except ValidationFailed as exc:
            rows, errors = [], errors | _errors(exc)
        names = {u.id: u.name for u in s.scalars(select(Unit))}
        signable = {a.id for a in rows if a.state == "draft"
                    and (a.unit_id, "signatory") in g.principal.grants}  # fmt: skip
    if args.get("format") == "xlsx":
        columns = ["年度", "聘任单位", "考核对象", "履职能力", "服务质量", "工作效率", "考核等次",
                   "服务次数", "状态"]  # fmt: skip
        return _xlsx("年度考核", columns, [[a.year, names[a.unit_id], a.subject_name, a.ability,
                     a.quality, a.efficiency, a.grade, (a.records or {}).get("total"),
                     ASSESSMENT_STATE_LABELS[a.state]] for a in rows])  # fmt: skip
    return render_template(
        "supervision_assessments.html", rows=rows, names=names, errors=errors, form=form,
        conduct_units=conduct_units, unit=unit, subjects=subjects, pre=pre, grades=GRADES,
        signable=signable, states=ASSESSMENT_STATE_LABELS, year=today.year,
    ), (422 if errors else 200)  # fmt: skip


@bp.post("/supervision/assessments/<int:assessment_id>/sign")
@login_required
def assessment_sign(assessment_id: int):
    try:
        with cf().db.write() as s:
            row = assessment.sign_assessment(s, g.principal, assessment_id, remote_addr())
            grade = row.grade
        flash(f"考核结果已确认（{grade}）。", "ok")
    except ValidationFailed as exc:
        flash(exc.message, "error")
    return redirect(url_for(".assessments"))


# ---- 看板、排名、下钻 ---------------------------------------------------------------------------


@bp.get("/supervision/dashboard")
@login_required
def dashboard_page():
    args = request.args
    errors, board, w = {}, None, {}
    try:
        with cf().db.write() as s:
            board = dashboard.dashboard(s, g.principal, args.get("year"), args.get("quarter"),
                                        via="web", remote_addr=remote_addr())  # fmt: skip
            w = ranking.weights(s, g.principal)
            for u in board.uncovered + [r.unit for r in board.report_rows or []]:
                _ = u.name
    except ValidationFailed as exc:
        errors = _errors(exc)
    if board is not None and args.get("format") == "xlsx":
        columns, rows = dashboard.ranking_table(board.ranking)
        return _xlsx(f"季度考核排名-{board.ranking.label}", columns, rows)
    return render_template("supervision_dashboard.html", board=board, errors=errors, weights=w,
                           indicators=ranking.INDICATORS, args=args), (400 if errors else 200)  # fmt: skip


@bp.post("/supervision/weights")
@login_required
def set_weights():
    try:
        with cf().db.write() as s:
            ranking.set_weights(s, g.principal, request.form.to_dict(), remote_addr())
        flash("考核指标权重已保存。", "ok")
    except ValidationFailed as exc:
        flash(exc.message, "error")
    return redirect(url_for(".dashboard_page", year=request.form.get("year") or None,
                            quarter=request.form.get("quarter") or None))  # fmt: skip


@bp.get("/supervision/drill")
@login_required
def drill():
    args = request.args
    try:
        with cf().db.write() as s:
            detail = ranking.drill(s, g.principal, args.get("unit", ""), args.get("indicator", ""),
                                   args.get("year"), args.get("quarter"), via="web",
                                   remote_addr=remote_addr())  # fmt: skip
            _ = detail.unit.name
    except ValidationFailed as exc:
        return render_template("error.html", title="查询条件有误", message=exc.message), 400
    if args.get("format") == "xlsx":
        return _xlsx(f"{detail.unit.name}-{ranking.INDICATORS[detail.indicator]}-{detail.label}",
                     detail.columns, detail.rows)  # fmt: skip
    return render_template("supervision_drill.html", d=detail, indicators=ranking.INDICATORS,
                           args=args)  # fmt: skip


# ---- 法律顾问工作情况报告 -------------------------------------------------------------------------


@bp.get("/supervision/reports")
@login_required
def reports_page():
    require("pool.read")
    args, today = request.args, today_in_china()
    errors, own, rows = {}, [], []
    period = reports.current_period(today)
    inspector = g.principal.has("inspector")
    try:
        if args.get("year") or args.get("half"):
            period = reports.parse_period(args.get("year"), args.get("half"))
        with cf().db.read() as s:
            units = _units(s, g.principal.units_with("clerk", "office-head"))
            states = reports.unit_states(s, g.principal, {u.id for u in units}, period, today)
            own = [(u, states[u.id], reports.figures(s, g.principal, u, period),
                    can(s, g.principal, "draft.create", u)) for u in units]  # fmt: skip
            if inspector:
                _, rows = reports.submissions(s, g.principal, period.year, period.half,
                                              today=today)  # fmt: skip
    except ValidationFailed as exc:
        errors = _errors(exc)
    if inspector and args.get("format") == "xlsx" and not errors:
        columns, table = reports.submissions_table(period, rows)
        return _xlsx(f"工作情况报告报送情况-{period.label}", columns, table)
    return render_template("supervision_reports.html", period=period, own=own, rows=rows,
                           inspector=inspector, errors=errors, halves=reports.HALVES,
                           template_id=reports.REPORT, today=today), (400 if errors else 200)  # fmt: skip
