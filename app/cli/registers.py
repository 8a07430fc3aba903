"""`casefile contracts` (聘任合同台账) and `casefile normative list | show | register | update |
cleanup` (规范性文件登记簿)."""

from __future__ import annotations

from pathlib import Path

from app.cli.common import CliError, acting_as, need_as, out, read_object, record_id
from app.container import Casefile
from app.presenters.contracts import contract_register_payload
from app.registers import normative, normative_export
from app.registers.contracts import STATUS_LABELS, contract_register_for


def cmd_contracts(cf: Casefile, args) -> int:
    """聘任合同台账: `--expiring DAYS` lists the contracts ending within DAYS days."""
    with cf.db.write() as s:
        register = contract_register_for(
            s, acting_as(s, args.as_user), unit_code=args.unit, window=args.window,
            status=args.status, expiring=args.expiring, via="cli",
        )  # fmt: skip
    lines = [
        f"法律顾问聘任合同台账（{register.today.isoformat()}，提前 {register.window} 日提醒）：共 {len(register.entries)} 份"
        + (f"；{register.due} 份即将到期且尚未续聘" if register.due else "")
    ]  # fmt: skip
    for e in register.entries:
        term = f"{e.start} 至 {e.end}" if e.start and e.end else "期限不明"
        renewed = f"  已续聘：{e.renewed_by}" if e.renewed_by else ""
        lines.append(f"  {e.number}  {e.unit_name}  {e.adviser}  {e.service_type}  {term}  "
                     f"{e.status_label}（{e.remaining_label}）{renewed}")  # fmt: skip
    out(args, contract_register_payload(register), lines)
    return 0


def _entry_line(row: normative.Entry) -> str:
    e = row.entry
    problems = "；".join(f.label for f in row.findings)
    return (f"  {e.number}  {e.title}  [{e.unit.code} {row.state_label}]"
            f"  公布 {e.published_on or '—'}  备案号 {e.filing_number or '—'}"
            f"  有效期至 {e.valid_until or '—'}" + (f"  问题：{problems}" if problems else ""))  # fmt: skip


def _write_xlsx(path: str, data: bytes) -> None:
    try:
        Path(path).write_bytes(data)
    except OSError as exc:
        raise CliError(f"无法写入 {path}：{exc.strerror}") from exc


def cmd_normative_list(cf: Casefile, args) -> int:
    with cf.db.write() as s:
        found = normative.list_register(
            s, acting_as(s, args.as_user), unit_code=args.unit, state=args.state, year=args.year,
            q=args.q or "", problems=args.problems, export=bool(args.xlsx), via="cli",
        )  # fmt: skip
        lines = [f"规范性文件登记簿（{found.today.isoformat()}）：共 {len(found.entries)} 件"]
        lines += [_entry_line(row) for row in found.entries]
        if args.xlsx:
            _write_xlsx(args.xlsx, normative_export.to_xlsx(found.entries))
            lines.append(f"已导出：{args.xlsx}")
        payload = found.as_dict()
    out(args, payload, lines)
    return 0


def cmd_normative_show(cf: Casefile, args) -> int:
    with cf.db.read() as s:
        row = normative.entry_view(s, acting_as(s, args.as_user), args.id)
        payload = row.as_dict()
    lines = [f"{payload['number']}  {payload['title']}（{payload['state_label']}）"]
    lines += [f"  {st['label']}：{st['date'] or '未记录'}" for st in payload["steps"]]
    lines += [f"  问题：{f['label']}：{f['detail']}" for f in payload["findings"]]
    out(args, payload, lines)
    return 0


def cmd_normative_register(cf: Casefile, args) -> int:
    data = read_object(args.data, "字段见 casefile normative show --json")
    with cf.db.write() as s:
        p = need_as(s, args)
        if args.id is None:
            found = normative.register_entry(s, p, data, unit_code=args.unit, via="cli",
                                             settings=cf.settings)  # fmt: skip
        else:
            found = normative.update_entry(s, p, args.id, data, via="cli")
        payload = normative.entry_view(s, p, found.id).as_dict()
    verb = "已登记" if args.id is None else "已更新"
    out(args, payload, [f"{verb}：{payload['number']}  {payload['title']}"])
    return 0


def cmd_normative_cleanup(cf: Casefile, args) -> int:
    with cf.db.write() as s:
        rows = normative_export.cleanup(s, acting_as(s, args.as_user), args.year, unit_code=args.unit,
                                 via="cli")  # fmt: skip
        lines = [f"{args.year} 年规范性文件清理：{len(rows)} 件有效文件待评估"]
        lines += [_entry_line(r.entry) + f"  → {r.advice}" for r in rows]
        if args.xlsx:
            _write_xlsx(args.xlsx, normative_export.to_xlsx([r.entry for r in rows],
                                                     f"{args.year}年规范性文件清理",
                                                     [r.advice for r in rows]))  # fmt: skip
            lines.append(f"已导出：{args.xlsx}")
        payload = {"year": args.year, "entries": [r.entry.as_dict() | {"advice": r.advice}
                                                  for r in rows]}  # fmt: skip
    out(args, payload, lines)
    return 0


def register(sub, common, acting) -> None:
    group = sub.add_parser("normative", help="规范性文件登记簿")
    cmds = group.add_subparsers(dest="command", required=True)
    p = cmds.add_parser("list", parents=[common, acting], help="查看登记簿（可筛选）")
    p.add_argument("--unit")
    p.add_argument("--state", help="有效、失效、废止或已修改")
    p.add_argument("--year", help="登记年度")
    p.add_argument("--q", help="标题或统一登记编号中的文字")
    p.add_argument("--problems", action="store_true", help="只看有问题的条目")
    p.add_argument("--xlsx", help="同时导出为 电子表格")
    p.set_defaults(func=cmd_normative_list)
    p = cmds.add_parser("show", parents=[common, acting])
    p.add_argument("id", type=record_id)
    p.set_defaults(func=cmd_normative_show)
    p = cmds.add_parser("register", parents=[common, acting],
                        help="按 JSON 数据文件登记（编统一登记编号）")  # fmt: skip
    p.add_argument("--data", required=True, help="JSON 数据文件（“-”表示从标准输入读取）")
    p.add_argument("--unit")
    p.set_defaults(func=cmd_normative_register, id=None)
    p = cmds.add_parser("update", parents=[common, acting],
                        help="按 JSON 数据文件记录公布、备案、有效期或状态")  # fmt: skip
    p.add_argument("id", type=record_id)
    p.add_argument("--data", required=True, help="JSON 数据文件（“-”表示从标准输入读取）")
    p.set_defaults(func=cmd_normative_register, unit=None)
    p = cmds.add_parser("cleanup", parents=[common, acting], help="年度清理")
    p.add_argument("--year", required=True)
    p.add_argument("--unit")
    p.add_argument("--xlsx", help="同时导出为 电子表格")
    p.set_defaults(func=cmd_normative_cleanup)

    p = sub.add_parser(
        "contracts",
        parents=[common, acting],
        help="聘任合同台账",
    )
    which = p.add_mutually_exclusive_group()
    which.add_argument("--expiring", type=int,
                       help="只看聘期在这么多天内届满的合同")  # fmt: skip
    which.add_argument("--window", type=int,
                       help="聘期届满前多少天起算“即将到期”（默认 60）")  # fmt: skip
    p.add_argument("--status", choices=list(STATUS_LABELS))
    p.add_argument("--unit", help="单位代码（含下级单位）")
    p.set_defaults(func=cmd_contracts)
