"""Public lawyers' matters (法律事务): the list, registration, one matter and its actions, the
deployment picker (调配), the decision list (决策事项清单), the counts and the lawyer's profile.
Each view calls one service of app/matters; refusals are the 403/404 pages, bad input is a
flash on the matter's page (or the form again with the reason at its field)."""

from __future__ import annotations

import datetime as dt
import io

from flask import Blueprint, flash, g, redirect, render_template, request, send_file, url_for
from sqlalchemy import select

from app.access.policy import can
from app.casefiles.attachments import inspect_upload
from app.drafting.models import IssuedDocument
from app.errors import Forbidden, NotFound, ValidationFailed, WorkflowError
from app.identity.models import Unit, User
from app.matters import decisions, deployment, letters, service
from app.matters.models import (
    DEPLOYMENT_LABELS,
    EVENT_LABELS,
    KINDS,
    PARTY_ROLES,
    REPRESENTED,
    STATUS_LABELS,
    Matter,
)
from app.matters.stats import matter_counts, require_counts_reader
from app.web.common import cf, login_required, remote_addr
from app.web.nav import require

bp = Blueprint("matters", __name__)
FORM_FIELDS = ("unit", "kind", "title", "parties", "party_role", "case_number", "body",
               "specialty", "served_on", "deadline", "deadline_label", "note")  # fmt: skip


@bp.app_template_global()
def matter_deadlines() -> list[dict]:
    """For the partial (matters page): the caller's matters whose deadline is near or passed."""
    p = g.get("principal")
    if p is None:
        return []
    with cf().db.read() as s:
        return deadline_rows(s, p)


def deadline_rows(s, p) -> list[dict]:
    """The partial's rows, in the caller's session (the home page reads everything in one)."""
    out = []
    for m in service.deadline_alerts(s, p):
        left = service.days_left(m)
        out.append({"id": m.id, "title": m.title, "unit": m.unit.name,
                    "label": m.deadline_label or "办理期限", "deadline": m.deadline,
                    "left": left, "status": STATUS_LABELS[m.status],
                    "lawyer": m.lawyer.name if m.lawyer else "未指派"})  # fmt: skip
    return out


@bp.app_context_processor
def _labels() -> dict:
    return {"MATTER_KINDS": KINDS, "MATTER_STATUS": STATUS_LABELS}


@bp.get("/matters")
@login_required
def index():
    require("matter.read")  # the menu's rule and reason (app/web/nav.py)
    args = request.args
    with cf().db.read() as s:
        try:
            query = service.find_matters(s, g.principal, status=args.get("status") or None,
                                         kind=args.get("kind") or None,
                                         unit_code=args.get("unit") or None,
                                         mine=args.get("mine") == "1")  # fmt: skip
        except ValidationFailed as exc:
            return render_template("error.html", title="查询条件有误", message=exc.message), 400
        matters = list(s.scalars(query.limit(500)))
        for m in matters:
            _ = m.unit.name, m.lawyer and m.lawyer.name
        requests = deployment.pending_requests(s, g.principal)
        for r in requests:
            _ = s.get(Matter, r.matter_id).title
        reqs = [
            (r, s.get(Matter, r.matter_id), s.get(Unit, r.requesting_unit_id)) for r in requests
        ]
        return render_template("matters.html", matters=matters, args=args, requests=reqs,
                               can_create=bool(service.creatable_units(s, g.principal)),
                               today=service.today_in_china())  # fmt: skip


@bp.route("/matters/new", methods=["GET", "POST"])
@login_required
def new():
    with cf().db.read() as s:
        units = service.creatable_units(s, g.principal)
        cases = service.case_file_choices(s, g.principal, units)
    if not units:
        raise Forbidden("您无权登记法律事务")
    form, errors = request.form, {}
    if request.method == "POST":
        try:
            with cf().db.write() as s:
                values = {k: form.get(k, "") for k in FORM_FIELDS}
                case = (form.get("case_file") or "").strip()
                if case and not _record_id(case):
                    raise ValidationFailed("案卷编号应为数字", [
                        {"field": "case_file", "label": "案卷", "message": "应为案卷编号（数字）"}])  # fmt: skip
                matter = service.create_matter(
                    s, g.principal, unit_code=values.pop("unit"), **values,
                    case_file_id=int(case) if case else None,
                    remote_addr=remote_addr(), via="web",
                )  # fmt: skip
                matter_id = matter.id
        except ValidationFailed as exc:
            errors = {e["field"]: e["message"] for e in exc.errors} or {"_": exc.message}
        else:
            flash("法律事务已登记，待指派。", "ok")
            return redirect(url_for("matters.show", matter_id=matter_id))
    return render_template("matter_new.html", units=units, kinds=KINDS, roles=PARTY_ROLES,
                           cases=cases, form=form, errors=errors), (422 if errors else 200)  # fmt: skip


@bp.get("/matters/<int:matter_id>")
@login_required
def show(matter_id: int):
    p = g.principal
    with cf().db.write() as s:
        m = service.open_matter(s, p, matter_id, via="web", remote_addr=remote_addr())
        events = service.events_of(s, m)
        for e in events:
            _ = e.user.name
        names = {u.id: u.name for u in s.scalars(select(User))}
        units = {u.id: u.name for u in s.scalars(select(Unit))}
        deployments = deployment.deployments_of(s, m)
        open_request = next((d for d in deployments if d.status == "requested"), None)
        may_run, may_handle = can(s, p, "matter.assign", m), can(s, p, "matter.handle", m)
        has_lawyer = service.has_public_lawyer(s, m.unit_id)
        rulings = {e.ruling_of: e.justified for e in events if e.kind == "rule"}
        return render_template(
            "matter.html", m=m, events=events, names=names, unit=m.unit, unit_names=units,
            docs=service.documents_of(s, p, m), deployments=deployments,
            open_request=open_request,
            open_request_unit=units.get(open_request.upper_unit_id) if open_request else "",
            parent_unit=units.get(m.unit.parent_id, ""),
            lawyers=service.assignable_lawyers(s, m) if may_run else [],
            has_lawyer=has_lawyer, may_run=may_run, may_handle=may_handle,
            may_letter=m.kind in REPRESENTED and m.letter_draft_id is None
            and m.status in ("handling", "reported")
            and bool(p.units_with("clerk", "office-head", "public-lawyer", "adviser")),
            letter=service.letter_of(s, p, m),
            next_step=_next_step(m, may_run, may_handle, has_lawyer, open_request, units),
            rulings=rulings, event_labels=EVENT_LABELS, deployment_labels=DEPLOYMENT_LABELS,
            days_left=service.days_left(m), case_file=service.case_file_of(s, p, m),
        )  # fmt: skip


def _next_step(m: Matter, may_run: bool, may_handle: bool, has_lawyer: bool, open_request,
               units: dict[int, str]) -> str:  # fmt: skip
    """What happens next, for whoever has nothing to do on the matter now (no dead end)."""
    lawyer = m.lawyer.name if m.lawyer else "承办人"
    if m.status == "pending" and not may_run:
        if open_request is not None:
            return (f"已向{units.get(open_request.upper_unit_id, '上级单位')}申请调配公职律师，"
                    "等待上级单位法律顾问室负责人选派。")  # fmt: skip
        return "待本单位法律顾问室负责人指派承办人" + (
            "。" if has_lawyer else "；本单位没有公职律师，由负责人向上级单位申请调配。"
        )
    if m.status == "assigned" and not may_handle:
        return f"已指派{lawyer}，等待其接受指派。"
    if m.status == "handling" and not may_handle:
        return f"{lawyer}正在承办，办理完毕后提交办理反馈。"
    if m.status == "reported" and not may_run:
        return "承办人已提交办理反馈，待本单位法律顾问室负责人办结。"
    return ""


def _record_id(value) -> int:
    """A record id from a form (0 when it is not one: the service then finds nothing)."""
    text = (value or "").strip()
    return int(text) if text.isascii() and text.isdigit() and len(text) < 18 else 0


def _back(matter_id: int):
    return redirect(url_for("matters.show", matter_id=matter_id))


def _act(matter_id: int, call, ok: str):
    """Run one service call; a refusal is the 403/404 page, anything else a flash."""
    try:
        with cf().db.write() as s:
            call(s)
    except (Forbidden, NotFound):
        raise
    except WorkflowError as exc:
        flash(exc.message, "error")
    else:
        flash(ok, "ok")
    return _back(matter_id)


def _upload():
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        return None
    data = upload.read(cf().settings.max_upload_bytes + 1)
    return inspect_upload(data, upload.filename, cf().settings.max_upload_bytes)


@bp.post("/matters/<int:matter_id>/<action>")
@login_required
def act(matter_id: int, action: str):
    p, form, addr = g.principal, request.form, remote_addr()
    kw = {"remote_addr": addr, "via": "web"}
    text = form.get("comment", "")
    simple = {
        "assign": (lambda s: service.assign(s, p, matter_id, form.get("lawyer", ""), text, **kw),
                   "已指派，等待承办人接受。"),
        "accept": (lambda s: service.accept(s, p, matter_id, text, **kw), "已接受指派，开始承办。"),
        "decline": (lambda s: service.decline(s, p, matter_id, form.get("reason", ""), **kw),
                    "已拒绝指派，事务退回待指派。"),
        "close": (lambda s: service.close(s, p, matter_id, text, **kw), "法律事务已办结。"),
        "return": (lambda s: service.return_matter(s, p, matter_id, form.get("reason", ""), **kw),
                   "法律事务已退回。"),
        "request": (lambda s: deployment.request_deployment(
            s, p, matter_id, specialty=form.get("specialty", ""), reason=form.get("reason", ""),
            **kw), "已向上级单位申请调配公职律师。"),
        "rule": (lambda s: service.rule_decline(
            s, p, matter_id, _record_id(form.get("event")), form.get("justified") == "1", text,
            **kw), "已认定拒绝理由。"),
    }  # fmt: skip
    if action in simple:
        call, ok = simple[action]
        return _act(matter_id, call, ok)
    if action == "link":
        ref = (form.get("document") or "").strip()
        with cf().db.read() as s:
            doc_id = s.scalar(select(IssuedDocument.id).where(IssuedDocument.number == ref))
        if doc_id is None and _record_id(ref):
            doc_id = _record_id(ref)
        if doc_id is None:
            flash("请填写已发文书的编号或发文字号", "error")
            return _back(matter_id)
        return _act(matter_id, lambda s: service.link_document(s, p, matter_id, doc_id, **kw),
                    "已关联文书。")  # fmt: skip
    if action in ("note", "feedback"):
        try:
            checked = _upload()  # before the write transaction
        except ValidationFailed as exc:
            flash(exc.message, "error")
            return _back(matter_id)
        final = action == "feedback"
        return _act(matter_id, lambda s: service.record_progress(
            cf(), s, p, matter_id, form.get("text", ""), checked, final=final, **kw),
            "已提交反馈。" if final else "已保存承办记录。")  # fmt: skip
    if action == "letter":
        try:
            with cf().db.write() as s:
                draft = letters.draft_letter(cf(), s, p, matter_id, remote_addr=addr, via="web")
                draft_id = draft.id
        except (Forbidden, NotFound):
            raise
        except WorkflowError as exc:
            flash(exc.message, "error")
            return _back(matter_id)
        flash("已根据本事务起草委托公函，请核对后提交审核。", "ok")
        return redirect(url_for("drafts.show", draft_id=draft_id))
    raise NotFound("没有这个操作")


@bp.get("/matters/<int:matter_id>/events/<int:event_id>/file")
@login_required
def event_file(matter_id: int, event_id: int):
    with cf().db.write() as s:
        data, name = service.event_file(cf(), s, g.principal, matter_id, event_id, remote_addr())
    return send_file(io.BytesIO(data), as_attachment=True, download_name=name,
                     mimetype="application/octet-stream")  # fmt: skip


@bp.route("/matters/deployments/<int:deployment_id>", methods=["GET", "POST"])
@login_required
def pick(deployment_id: int):
    p = g.principal
    if request.method == "POST":
        try:
            with cf().db.write() as s:
                d = deployment.deploy(s, p, deployment_id, request.form.get("lawyer", ""),
                                      request.form.get("comment", ""), remote_addr=remote_addr(),
                                      via="web")  # fmt: skip
                matter_id = d.matter_id
        except (Forbidden, NotFound):
            raise
        except WorkflowError as exc:
            flash(exc.message, "error")
        else:
            flash("已选派公职律师，等待其接受指派。", "ok")
            return redirect(url_for("matters.show", matter_id=matter_id))
    specialty = request.args.get("specialty")
    with cf().db.read() as s:
        d = deployment.get_deployment(s, p, deployment_id)
        found = deployment.candidates(s, p, deployment_id, specialty)
        m = s.get(Matter, d.matter_id)
        return render_template("matter_pick.html", d=d, m=m, unit=m.unit, candidates=found,
                               specialty=d.specialty if specialty is None else specialty)  # fmt: skip


@bp.route("/matters/decisions", methods=["GET", "POST"])
@login_required
def decision_list():
    p = g.principal
    with cf().db.read() as s:
        units = [u for u in s.scalars(select(Unit).order_by(Unit.code))
                 if can(s, p, "decision_list.manage", u)]  # fmt: skip
    if not units:
        raise Forbidden("只有法律顾问室负责人可以维护决策事项清单")
    if request.method == "POST":
        form = request.form
        try:
            with cf().db.write() as s:
                if form.get("remove"):
                    decisions.remove_entry(s, p, _record_id(form["remove"]), remote_addr())
                    flash("已移出清单。", "ok")
                else:
                    decisions.add_entry(cf(), s, p, form.get("unit", ""), form.get("template", ""),
                                        form.get("label", ""), remote_addr())  # fmt: skip
                    flash("已列入决策事项清单。", "ok")
        except (Forbidden, NotFound):
            raise
        except WorkflowError as exc:
            flash(exc.message, "error")
        return redirect(url_for("matters.decision_list"))
    with cf().db.read() as s:
        lists = [(u, [(e, decisions.chain_has_lawyer_step(cf(), s, e.template_id))
                      for e in decisions.decision_list(s, u.id)]) for u in units]  # fmt: skip
        templates = [(r.template_id, cf().catalog.load(r).schema.title)
                     for r in cf().catalog.latest_versions(s)]  # fmt: skip
        # the type by its title, never its id
        return render_template("matter_decisions.html", lists=lists, templates=templates,
                               titles=dict(templates))  # fmt: skip


@bp.get("/matters/stats")
@login_required
def stats():
    p, args = g.principal, request.args
    require_counts_reader(p)
    errors = {}
    dates = {}
    for key, label in (("from", "起始日期"), ("to", "截止日期")):
        try:
            dates[key] = dt.date.fromisoformat(args[key]) if args.get(key) else None
        except ValueError:
            errors[key] = f"{label}应为 YYYY-MM-DD 格式的日期"
    by = args.get("by") if args.get("by") in ("lawyer", "unit") else "lawyer"
    rows = []
    if not errors:
        with cf().db.read() as s:
            rows = matter_counts(s, p, by=by, start=dates["from"], end=dates["to"])
    return render_template("matter_stats.html", rows=rows, by=by, args=args,
                           errors=errors), (400 if errors else 200)  # fmt: skip


@bp.route("/matters/profile", methods=["GET", "POST"])
@login_required
def profile():
    p = g.principal
    with cf().db.read() as s:
        service.refuse_profile(s, p, p.user)  # 403 with the reason, before any form
    if request.method == "POST":
        form = request.form
        try:
            with cf().db.write() as s:
                service.save_profile(s, p, p.user.username, licence=form.get("licence", ""),
                                     phone=form.get("phone", ""),
                                     specialty=form.get("specialty", ""),
                                     remote_addr=remote_addr())  # fmt: skip
        except ValidationFailed as exc:
            flash(exc.message, "error")
        else:
            flash("执业信息已保存。", "ok")
        return redirect(url_for("matters.profile"))
    with cf().db.read() as s:
        return render_template("matter_profile.html", profile=service.profile_of(s, p.user.id))
