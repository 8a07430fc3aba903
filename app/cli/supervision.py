"""`casefile supervision …`: the adviser pool, filings, work records, assessments, the
ranking, the dashboard and the half-yearly report (督导考核), through the services the web and
the API call."""

from __future__ import annotations

import json

from sqlalchemy import select

from app.cli.common import CliError, need_as, out, read_object, record_id
from app.container import Casefile
from app.identity.models import Unit
from app.presenters import supervision as present
from app.supervision import assessment, dashboard, filing, pool, ranking, records, reports
from app.supervision.export import table_xlsx


def cmd_pool(cf: Casefile, args) -> int:
    with cf.db.read() as s:
        rows = pool.list_pool(s, need_as(s, args), status=args.status, kind=args.kind,
                              specialty=args.specialty)  # fmt: skip
        payload = present.pool_payload(rows)
    lines = [f"法律顾问人才库：共 {len(rows)} 条"]
    for r in rows:
        engaged = "、".join(c.unit_name for c in r.engagements) or "未受聘"
        lines.append(
            f"  [{r.entry.id}] {r.entry.name}（{r.entry.kind}）{r.status_label}  聘任：{engaged}"
        )
    out(args, payload, lines)
    return 0


def cmd_pool_admit(cf: Casefile, args) -> int:
    data = read_object(args.data)
    with cf.db.write() as s:
        entry = pool.admit(s, need_as(s, args), data)
        payload = {"id": entry.id, "name": entry.name}
    out(args, payload, [f"已纳入人才库：[{payload['id']}] {payload['name']}"])
    return 0


def cmd_pool_status(cf: Casefile, args) -> int:
    with cf.db.write() as s:
        entry = pool.set_status(s, need_as(s, args), args.entry, args.status, args.reason or "")
        payload = {"id": entry.id, "status": entry.status}
    out(
        args,
        payload,
        [f"人才库条目 {payload['id']} 的状态已改为{pool.ENTRY_STATUS_LABELS[payload['status']]}"],
    )
    return 0


def cmd_engage(cf: Casefile, args) -> int:
    """The contract's prefilled data, for `casefile drafts new engagement-contract --data`."""
    with cf.db.read() as s:
        data = pool.engagement_prefill(s, need_as(s, args), args.entry, args.unit)
    print(json.dumps(data, ensure_ascii=False, indent=2))
    return 0


def cmd_filings(cf: Casefile, args) -> int:
    with cf.db.read() as s:
        rows = filing.filing_queue(s, need_as(s, args), state=args.state, overdue=args.overdue)
    lines = [f"合同备案：共 {len(rows)} 份，逾期 {sum(1 for r in rows if r.overdue)} 份"]
    for r in rows:
        late = f"  逾期 {r.days_late} 日" if r.overdue else ""
        lines.append(f"  [{r.document_id}] {r.number}  {r.unit_name}  {r.adviser}  {r.state_label}"
                     f"{'  ' + r.filing_number if r.filing_number else ''}{late}")  # fmt: skip
    out(args, present.filings_payload(rows), lines)
    return 0


def cmd_filing(cf: Casefile, args) -> int:
    with cf.db.write() as s:
        p = need_as(s, args)
        if args.action == "register":
            if not args.number:
                raise CliError("登记备案需要 --number 备案号")
            f = filing.register_filing(s, p, args.document, args.number, args.date)
        elif args.action == "return":
            f = filing.return_filing(s, p, args.document, args.reason or "")
        else:
            f = filing.resubmit_filing(s, p, args.document, args.reason or "")
        payload = {"document_id": f.document_id, "state": f.state, "filing_number": f.filing_number}
    out(
        args, payload, [f"聘任合同 {args.document}：{filing.FILING_STATE_LABELS[payload['state']]}"]
    )
    return 0


def cmd_records(cf: Casefile, args) -> int:
    with cf.db.read() as s:
        summary = records.service_records(s, need_as(s, args), year=args.year,
                                          quarter=args.quarter, unit_code=args.unit,
                                          subject=args.subject, kind=args.kind)  # fmt: skip
    lines = [f"服务记录：共 {len(summary.records)} 次，手工登记用时 {summary.hours} 小时"]
    lines += [f"  {k}：{v} 次" for k, v in summary.by_kind.items()]
    lines += [f"  {r.served_on}  {r.unit_name}  {r.subject_name}  {r.kind_label}  {r.matter}"
              for r in summary.records]  # fmt: skip
    out(args, present.records_payload(summary), lines)
    return 0


def cmd_record_add(cf: Casefile, args) -> int:
    data = {"unit": args.unit, "subject": args.subject, "kind": args.kind,
            "served_on": args.date, "matter": args.matter, "hours": args.hours}  # fmt: skip
    with cf.db.write() as s:
        rid = records.add_record(s, need_as(s, args), data).id
    out(args, {"id": rid}, [f"已登记服务记录 {rid}"])
    return 0


def cmd_assessments(cf: Casefile, args) -> int:
    with cf.db.read() as s:
        rows = assessment.list_assessments(s, need_as(s, args), year=args.year, unit_code=args.unit)
        names = dict(s.execute(select(Unit.id, Unit.name)).all())
        payload = present.assessments_payload(rows, names)
    lines = [f"年度考核：共 {len(rows)} 份"]
    lines += [f"  [{a['id']}] {a['year']} {a['unit_name']} {a['subject_name']} {a['grade']}"
              f"（{a['state_label']}）" for a in payload["assessments"]]  # fmt: skip
    out(args, payload, lines)
    return 0


def cmd_assess(cf: Casefile, args) -> int:
    data = {"unit": args.unit, "subject": args.subject, "year": args.year, "ability": args.ability,
            "quality": args.quality, "efficiency": args.efficiency, "grade": args.grade or "",
            "comment": args.comment or ""}  # fmt: skip
    with cf.db.write() as s:
        a = assessment.save_assessment(s, need_as(s, args), data)
        payload = {"id": a.id, "grade": a.grade, "state": a.state}
    out(args, payload, [f"考核 {payload['id']} 已保存：{payload['grade']}，待签发人确认"])
    return 0


def cmd_assess_sign(cf: Casefile, args) -> int:
    with cf.db.write() as s:
        a = assessment.sign_assessment(s, need_as(s, args), args.assessment)
        payload = {"id": a.id, "grade": a.grade, "state": a.state}
    out(args, payload, [f"考核 {payload['id']} 已确认：{payload['grade']}"])
    return 0


def _ranking_lines(r) -> list[str]:
    lines = [f"{r.label}考核排名（权重：" + "，".join(
        f"{label} {r.weights[k]}" for k, label in ranking.INDICATORS.items()) + "）"]  # fmt: skip
    for row in r.rows:
        cells = "  ".join(f"{label} {row.raw[k]}" for k, label in ranking.INDICATORS.items())
        lines.append(f"  {row.rank}. {row.unit.name}  {row.score:.1f} 分  {cells}"
                     + ("  【后5位】" if row.bottom else ""))  # fmt: skip
    return lines


def cmd_ranking(cf: Casefile, args) -> int:
    with cf.db.read() as s:
        r = ranking.quarter_ranking(s, need_as(s, args), args.year, args.quarter)
        lines, payload = _ranking_lines(r), present.ranking_payload(r)
    out(args, payload, lines)
    return 0


def cmd_weights(cf: Casefile, args) -> int:
    with cf.db.write() as s:
        p = need_as(s, args)
        current = ranking.weights(s, p)
        if args.set:
            pairs = dict(item.partition("=")[::2] for item in args.set)
            unknown = set(pairs) - set(ranking.INDICATORS)
            if unknown:
                raise CliError("未知的指标：" + "、".join(sorted(unknown)) + "；可用："
                               + "、".join(ranking.INDICATORS))  # fmt: skip
            current = ranking.set_weights(s, p, current | pairs)
    out(args, {"weights": current},
        [f"  {label}（{k}）：{current[k]}" for k, label in ranking.INDICATORS.items()])  # fmt: skip
    return 0


def cmd_dashboard(cf: Casefile, args) -> int:
    with cf.db.write() as s:
        board = dashboard.dashboard(s, need_as(s, args), args.year, args.quarter, via="cli")
        lines = _ranking_lines(board.ranking)
        lines.append(
            "没有在聘法律顾问的单位：" + ("、".join(u.name for u in board.uncovered) or "无")
        )
        lines.append(
            f"即将到期未续聘的合同：{len(board.expiring)} 份；逾期未备案：{len(board.overdue)} 份"
        )
        payload = present.dashboard_payload(board)
    out(args, payload, lines)
    return 0


def cmd_drill(cf: Casefile, args) -> int:
    with cf.db.write() as s:
        d = ranking.drill(s, need_as(s, args), args.unit, args.indicator, args.year, args.quarter,
                          via="cli")  # fmt: skip
        lines = [f"{d.unit.name} · {ranking.INDICATORS[d.indicator]} · {d.label}：{len(d.rows)} 条",
                 "  " + " | ".join(d.columns)]  # fmt: skip
        lines += ["  " + " | ".join(row) for row in d.rows]
        payload = present.drill_payload(d)
    out(args, payload, lines)
    return 0


def cmd_report_data(cf: Casefile, args) -> int:
    """The report's data prefilled from the period, for `casefile drafts new … --data`."""
    with cf.db.read() as s:
        data = reports.prefill(s, need_as(s, args), args.unit, args.year, args.half)
    print(json.dumps(data, ensure_ascii=False, indent=2))
    return 0


def cmd_report_start(cf: Casefile, args) -> int:
    narrative = read_object(args.data, "work_summary、problems、next_steps 等")
    with cf.db.write() as s:
        draft = reports.start_report(cf, s, need_as(s, args), narrative | {
            "unit": args.unit, "year": args.year, "half": args.half})  # fmt: skip
        payload = {"id": draft.id, "title": draft.title, "status": draft.status}
    out(args, payload, [f"已起草：[{payload['id']}] {payload['title']}（请提交审核）"])
    return 0


def cmd_reports(cf: Casefile, args) -> int:
    with cf.db.read() as s:
        period, rows = reports.submissions(s, need_as(s, args), args.year, args.half)
        payload = present.submissions_payload(period, rows)
    lines = [f"{period.label}法律顾问工作情况报告（{period.due.month}月{period.due.day}日前报送）："
             f"已报送 {payload['submitted']} 个单位，共 {len(rows)} 个"]  # fmt: skip
    for r in rows:
        lines.append(f"  {r.unit.name}  {r.state_label}" + (f"  {r.number}  {r.issue_date}"
                     if r.number else "") + ("  【逾期】" if r.late else ""))  # fmt: skip
    if args.xlsx:
        columns, table = reports.submissions_table(period, rows)
        try:
            with open(args.xlsx, "wb") as f:
                f.write(table_xlsx(f"工作情况报告-{period.label}", columns, table))
        except OSError as exc:
            raise CliError(f"无法写入 {args.xlsx}：{exc.strerror}") from exc
        lines.append(f"已导出：{args.xlsx}")
    out(args, payload, lines)
    return 0


def register(sub, common, acting) -> None:
    """Add `casefile supervision …` (every subcommand needs --as)."""
    group = sub.add_parser("supervision", help="督导考核：人才库、备案、服务记录、"
                           "年度考核、排名").add_subparsers(dest="command", required=True)  # fmt: skip
    both = [common, acting]

    p = group.add_parser("pool", parents=both, help="法律顾问人才库")
    p.add_argument("--status", choices=list(pool.ENTRY_STATUS_LABELS))
    p.add_argument("--kind", choices=list(pool.ENTRY_KINDS))
    p.add_argument("--specialty")
    p.set_defaults(func=cmd_pool)
    p = group.add_parser(
        "pool-admit", parents=both, help="入库（JSON 数据文件，或“-”从标准输入读取）"
    )
    p.add_argument("--data", required=True)
    p.set_defaults(func=cmd_pool_admit)
    p = group.add_parser("pool-status", parents=both, help="在库、暂停或出库，附理由")
    p.add_argument("entry", type=record_id)
    p.add_argument("--status", required=True, choices=list(pool.ENTRY_STATUS_LABELS))
    p.add_argument("--reason")
    p.set_defaults(func=cmd_pool_status)
    p = group.add_parser("engage", parents=both, help="预填的聘任合同数据")
    p.add_argument("entry", type=record_id)
    p.add_argument("--unit")
    p.set_defaults(func=cmd_engage)

    p = group.add_parser("filings", parents=both, help="合同备案")
    p.add_argument("--state", choices=list(filing.FILING_STATE_LABELS))
    p.add_argument("--overdue", action="store_true")
    p.set_defaults(func=cmd_filings)
    p = group.add_parser("filing", parents=both, help="备案登记、退回或重新报送")
    p.add_argument("action", choices=["register", "return", "resubmit"])
    p.add_argument("document", type=record_id)
    p.add_argument("--number", help="备案号（登记时）")
    p.add_argument("--date", help="备案日期（登记时；默认今天）")
    p.add_argument("--reason", help="退回原因（退回时）或说明（重新报送时）")
    p.set_defaults(func=cmd_filing)

    p = group.add_parser("records", parents=both, help="服务记录及统计")
    p.add_argument("--year", required=True)
    p.add_argument("--quarter")
    p.add_argument("--unit")
    p.add_argument("--subject")
    p.add_argument("--kind", choices=list(records.KIND_LABELS))
    p.set_defaults(func=cmd_records)
    p = group.add_parser("record-add", parents=both, help="手工登记一次服务")
    p.add_argument("--unit", required=True)
    p.add_argument("--subject", required=True)
    p.add_argument("--kind", required=True, choices=list(records.MANUAL_KINDS))
    p.add_argument("--date", required=True)
    p.add_argument("--matter", required=True, metavar="服务事项")
    p.add_argument("--hours", required=True)
    p.set_defaults(func=cmd_record_add)

    p = group.add_parser("assessments", parents=both, help="年度考核")
    p.add_argument("--year")
    p.add_argument("--unit")
    p.set_defaults(func=cmd_assessments)
    p = group.add_parser("assess", parents=both, help="填写（或更正）考核")
    p.add_argument("--unit", required=True)
    p.add_argument("--subject", required=True)
    p.add_argument("--year", required=True)
    for name in ("ability", "quality", "efficiency"):
        p.add_argument(f"--{name}", required=True, help="0 至 100")
    p.add_argument("--grade", choices=list(assessment.GRADES))
    p.add_argument("--comment")
    p.set_defaults(func=cmd_assess)
    p = group.add_parser("assess-sign", parents=both, help="确认考核（签发人）")
    p.add_argument("assessment", type=record_id)
    p.set_defaults(func=cmd_assess_sign)

    p = group.add_parser("ranking", parents=both, help="各单位的季度排名")
    p.add_argument("--year", required=True)
    p.add_argument("--quarter", required=True)
    p.set_defaults(func=cmd_ranking)
    p = group.add_parser("weights", parents=both, help="查看指标权重，或以 --set 指标=权重 设定")
    p.add_argument("--set", nargs="+")
    p.set_defaults(func=cmd_weights)
    p = group.add_parser("dashboard", parents=both, help="督导总览")
    p.add_argument("--year")
    p.add_argument("--quarter")
    p.set_defaults(func=cmd_dashboard)
    p = group.add_parser("drill", parents=both, help="排名表中某一格背后的记录")
    p.add_argument("--unit", required=True)
    p.add_argument("--indicator", required=True, choices=list(ranking.INDICATORS))
    p.add_argument("--year", required=True)
    p.add_argument("--quarter", required=True)
    p.set_defaults(func=cmd_drill)

    p = group.add_parser("reports", parents=both, help="半年报告的报送情况")
    p.add_argument("--year")
    p.add_argument("--half", help="1 为上半年，2 为下半年")
    p.add_argument("--xlsx", help="同时导出为 电子表格")
    p.set_defaults(func=cmd_reports)
    p = group.add_parser("report-data", parents=both, help="据服务记录汇总的报告数据")
    p.add_argument("--unit")
    p.add_argument("--year", required=True)
    p.add_argument("--half", required=True, help="1 为上半年，2 为下半年")
    p.set_defaults(func=cmd_report_data)
    p = group.add_parser("report-start", parents=both,
                         help="起草报告：数字取自服务记录，文字取自 --data")  # fmt: skip
    p.add_argument("--unit")
    p.add_argument("--year", required=True)
    p.add_argument("--half", required=True, help="1 为上半年，2 为下半年")
    p.add_argument("--data", required=True,
                   help="JSON 数据文件：工作总结、存在问题、下一步打算等（键名见用户手册）")  # fmt: skip
    p.set_defaults(func=cmd_report_start)
