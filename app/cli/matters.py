"""`casefile matter ...`: public lawyers' matters (法律事务), deployments (调配), the decision list
(决策事项清单) and the counts for assessment, through the services the web and the API use."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from app.casefiles.attachments import inspect_upload
from app.cli.common import CliError, acting_as, need_as, out, read_file, record_id
from app.container import Casefile
from app.matters import decisions, deployment, letters, service
from app.matters.models import KINDS, STATUS_LABELS
from app.matters.stats import matter_counts
from app.presenters.matters import deployment_payload, event_payload, matter_payload, matter_summary


def _show(s, p, matter_id: int) -> dict:
    m = service.get_matter(s, p, matter_id)
    return matter_payload(s, m, service.events_of(s, m), service.documents_of(s, p, m),
                          deployment.deployments_of(s, m))  # fmt: skip


def _line(m: dict) -> str:
    due = f"  {m['deadline_label']} {m['deadline']}" if m["deadline"] else ""
    return (f"{m['id']:>5}  {m['title']}  [{m['kind_label']} {m['unit']} {m['status_label']}"
            f" 承办人：{m['lawyer_name'] or '—'}]{due}")  # fmt: skip


def cmd_new(cf: Casefile, args) -> int:
    with cf.db.write() as s:
        p = need_as(s, args)
        m = service.create_matter(
            s, p, unit_code=args.unit or p.user.unit.code, kind=args.kind, title=args.title,
            parties=args.parties or "", party_role=args.party_role or "",
            case_number=args.case_number or "", body=args.body or "",
            specialty=args.specialty or "", served_on=args.served, deadline=args.deadline,
            deadline_label=args.deadline_label or "", note=args.note or "",
            case_file_id=args.case_file, via="cli",
        )  # fmt: skip
        payload = matter_summary(s, m)
    out(args, payload, [f"已登记法律事务 {payload['id']}（待指派）", _line(payload)])
    return 0


def cmd_list(cf: Casefile, args) -> int:
    with cf.db.read() as s:
        p = acting_as(s, args.as_user)
        query = service.find_matters(s, p, status=args.status, kind=args.kind,
                                     unit_code=args.unit, mine=args.mine)  # fmt: skip
        rows = [matter_summary(s, m) for m in s.scalars(query)]
    out(args, {"matters": rows}, [_line(r) for r in rows] or ["（没有可查看的法律事务）"])
    return 0


def cmd_show(cf: Casefile, args) -> int:
    with cf.db.write() as s:
        p = acting_as(s, args.as_user)
        service.open_matter(s, p, args.matter, via="cli")
        payload = _show(s, p, args.matter)
    lines = [_line(payload)] + [
        f"  {e['at']}  {e['kind_label']}  {e['user']}  {e['comment']}" for e in payload["events"]
    ]
    out(args, payload, lines)
    return 0


def _act(cf: Casefile, args, call, message: str) -> int:
    with cf.db.write() as s:
        p = need_as(s, args)
        call(s, p)
        payload = _show(s, p, args.matter)
    out(args, payload, [message, _line(payload)])
    return 0


def cmd_assign(cf, args):
    return _act(cf, args, lambda s, p: service.assign(s, p, args.matter, args.lawyer,
                                                      args.comment or "", via="cli"), "已指派")  # fmt: skip


def cmd_accept(cf, args):
    return _act(cf, args, lambda s, p: service.accept(s, p, args.matter, args.comment or "",
                                                      via="cli"), "已接受指派")  # fmt: skip


def cmd_decline(cf, args):
    return _act(cf, args, lambda s, p: service.decline(s, p, args.matter, args.reason, via="cli"),
                "已拒绝指派")  # fmt: skip


def cmd_close(cf, args):
    return _act(cf, args, lambda s, p: service.close(s, p, args.matter, args.comment or "",
                                                     via="cli"), "已办结")  # fmt: skip


def cmd_return(cf, args):
    return _act(cf, args, lambda s, p: service.return_matter(s, p, args.matter, args.reason,
                                                             via="cli"), "已退回")  # fmt: skip


def cmd_progress(cf: Casefile, args) -> int:
    checked = None
    if args.file:
        path = Path(args.file)
        checked = inspect_upload(read_file(path, "文件"), path.name, cf.settings.max_upload_bytes)
    final = args.command == "feedback"
    with cf.db.write() as s:
        event = service.record_progress(cf, s, need_as(s, args), args.matter, args.text, checked,
                                        final=final, via="cli")  # fmt: skip
        payload = event_payload(s, event)
    out(args, payload, ["已提交反馈" if final else "已保存承办记录"])
    return 0


def cmd_request(cf: Casefile, args) -> int:
    with cf.db.write() as s:
        d = deployment.request_deployment(s, need_as(s, args), args.matter,
                                          specialty=args.specialty or "", reason=args.reason or "",
                                          via="cli")  # fmt: skip
        payload = deployment_payload(s, d)
    out(args, payload, [f"已申请调配（申请编号 {payload['id']}），等待上级单位选派"])
    return 0


def cmd_candidates(cf: Casefile, args) -> int:
    with cf.db.read() as s:
        found = deployment.candidates(s, need_as(s, args), args.deployment, args.specialty)
        rows = [{"lawyer": c.user.username, "name": c.user.name, "unit": c.unit.code,
                 "specialty": c.specialty, "load": c.load} for c in found]  # fmt: skip
    out(args, {"candidates": rows}, [
        f"  {r['lawyer']}  {r['name']}（{r['unit']}）专长：{r['specialty'] or '—'}  在办：{r['load']}"
        for r in rows] or ["（没有符合条件的公职律师）"])  # fmt: skip
    return 0


def cmd_deploy(cf: Casefile, args) -> int:
    with cf.db.write() as s:
        d = deployment.deploy(s, need_as(s, args), args.deployment, args.lawyer,
                              args.comment or "", via="cli")  # fmt: skip
        payload = deployment_payload(s, d)
    out(args, payload, [f"已选派 {payload['lawyer']}，等待其接受指派"])
    return 0


def cmd_letter(cf: Casefile, args) -> int:
    with cf.db.write() as s:
        draft = letters.draft_letter(cf, s, need_as(s, args), args.matter, via="cli")
        payload = {"draft_id": draft.id, "matter_id": args.matter}
    out(args, payload, [f"已起草委托公函：草稿 {draft.id}"])
    return 0


def _day(text: str | None, field: str, label: str) -> dt.date | None:
    if not text:
        return None
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise CliError(f"{label}应为 YYYY-MM-DD 格式的日期",
                       [{"field": field, "label": label, "message": "应为 YYYY-MM-DD"}]) from None  # fmt: skip


def cmd_stats(cf: Casefile, args) -> int:
    start, end = _day(args.date_from, "from", "起始日期"), _day(args.date_to, "to", "截止日期")
    with cf.db.read() as s:
        rows = [r.as_dict() for r in matter_counts(s, acting_as(s, args.as_user), by=args.by,
                                                   start=start, end=end)]  # fmt: skip
    out(args, {"by": args.by, "rows": rows}, [
        f"  {r['name']}：办结 {r['handled']}（按期 {r['on_time']}，逾期 {r['overdue']}），"
        f"拒绝 有正当理由 {r['declined_with_cause']} / 无正当理由 {r['declined_without_cause']}"
        f" / 待认定 {r['declined_unruled']}，调入 {r['deployed_in']}，调出 {r['deployed_out']}"
        for r in rows] or ["（所选期间没有可统计的法律事务）"])  # fmt: skip
    return 0


def cmd_decisions(cf: Casefile, args) -> int:
    with cf.db.write() as s:
        p = need_as(s, args)
        if args.add:
            decisions.add_entry(cf, s, p, args.unit or p.user.unit.code, args.add, args.label or "")
        if args.remove:
            decisions.remove_entry(s, p, args.remove)
        unit = decisions.managed_unit(s, p, args.unit or p.user.unit.code)
        rows = [{"id": e.id, "template": e.template_id, "label": e.label}
                for e in decisions.decision_list(s, unit.id)]  # fmt: skip
    out(args, {"unit": unit.code, "entries": rows},
        [f"  {r['id']}  {r['label']}（{r['template']}）" for r in rows] or ["（清单为空）"])  # fmt: skip
    return 0


def cmd_profile(cf: Casefile, args) -> int:
    with cf.db.write() as s:
        p = need_as(s, args)
        profile = service.save_profile(s, p, args.user or p.user.username, licence=args.licence or "",
                                       phone=args.phone or "", specialty=args.specialty or "")  # fmt: skip
        payload = {"licence": profile.licence, "phone": profile.phone,
                   "specialty": profile.specialty}  # fmt: skip
    out(args, payload, ["执业信息已保存"])
    return 0


def register(sub, common, acting) -> None:
    """Add `casefile matter ...` to the top-level subparsers."""
    group = sub.add_parser("matter", help="公职律师法律事务").add_subparsers(
        dest="command", required=True
    )
    p = group.add_parser("new", parents=[common, acting], help="登记法律事务")
    p.add_argument("--kind", required=True, choices=list(KINDS))
    p.add_argument("--title", required=True)
    p.add_argument("--unit", help="单位代码（默认为办理人所在单位）")
    for name in ("parties", "party-role", "case-number", "body", "specialty", "deadline-label",
                 "note"):  # fmt: skip
        p.add_argument(f"--{name}", dest=name.replace("-", "_"))
    p.add_argument("--served")
    p.add_argument("--deadline")
    p.add_argument("--case-file", dest="case_file", type=record_id)
    p.set_defaults(func=cmd_new)

    p = group.add_parser("list", parents=[common, acting])
    p.add_argument("--status", choices=list(STATUS_LABELS))
    p.add_argument("--kind", choices=list(KINDS))
    p.add_argument("--unit")
    p.add_argument("--mine", action="store_true")
    p.set_defaults(func=cmd_list)

    for name, func, extra in (
        ("show", cmd_show, ()), ("assign", cmd_assign, ("lawyer", "comment")),
        ("accept", cmd_accept, ("comment",)), ("decline", cmd_decline, ("reason",)),
        ("close", cmd_close, ("comment",)), ("return", cmd_return, ("reason",)),
        ("note", cmd_progress, ("text", "file")), ("feedback", cmd_progress, ("text", "file")),
        ("request", cmd_request, ("specialty", "reason")), ("letter", cmd_letter, ()),
    ):  # fmt: skip
        p = group.add_parser(name, parents=[common, acting])
        p.add_argument("matter", type=record_id)
        for option in extra:
            p.add_argument(f"--{option}", required=option in {"lawyer", "reason", "text"}
                           and name not in {"request"})  # fmt: skip
        p.set_defaults(func=func)

    p = group.add_parser("candidates", parents=[common, acting], help="可调配的律师")
    p.add_argument("deployment", type=record_id)
    p.add_argument("--specialty")
    p.set_defaults(func=cmd_candidates)

    p = group.add_parser("deploy", parents=[common, acting], help="调配公职律师")
    p.add_argument("deployment", type=record_id)
    p.add_argument("--lawyer", required=True)
    p.add_argument("--comment")
    p.set_defaults(func=cmd_deploy)

    p = group.add_parser("stats", parents=[common, acting], help="考核用的统计")
    p.add_argument("--by", choices=["lawyer", "unit"], default="lawyer")
    p.add_argument("--from", dest="date_from")
    p.add_argument("--to", dest="date_to")
    p.set_defaults(func=cmd_stats)

    p = group.add_parser("decisions", parents=[common, acting], help="决策事项清单")
    p.add_argument("--unit")
    p.add_argument("--add")
    p.add_argument("--label")
    p.add_argument("--remove", type=record_id)
    p.set_defaults(func=cmd_decisions)

    p = group.add_parser("profile", parents=[common, acting], help="执业证号、电话、专业领域")
    p.add_argument("--user")
    p.add_argument("--licence")
    p.add_argument("--phone")
    p.add_argument("--specialty")
    p.set_defaults(func=cmd_profile)
