"""`casefile numbers status | raise | confirm`: number sequences after a restore (发文字号, and
the 统一编号 of the normative-documents register: status lists them, confirm raises them).

Issuing from a sequence behind the audit checkpoint (a database restored from an older backup)
is refused until the administrator confirms the checkpoint's last numbers or raises the
sequence past the last number sent out (app/drafting/sequences.py).
"""

from __future__ import annotations

from app.cli.common import out
from app.container import Casefile
from app.drafting import sequences

# what a sequence numbers, and what a sequence behind the checkpoint holds back
KINDS = {
    "dispatch": ("发文字号", "  ✗ 落后于已发出的文号，暂停发文"),
    "normative": ("统一编号", "  ✗ 落后于已编出的规范性文件统一编号，暂停登记"),
}


def cmd_status(cf: Casefile, args) -> int:
    with cf.db.read() as session:
        rows, error = sequences.status(cf.settings, session)
    payload = {"sequences": [r.as_dict() for r in rows], "checkpoint_error": error}
    lines = [f"审计检查点无法读取：{error}"] if error else []
    for r in rows:
        seen = "—" if r.checkpoint is None else f"{r.checkpoint}号"
        kind, mark = KINDS[r.register]
        lines.append(
            f"{kind}  {r.unit:<10} {r.code}〔{r.year}〕  数据库已编到 {r.last_value}号  检查点 {seen}"
            + (mark if r.behind else "")
        )
    if not rows:
        lines.append("尚无文号序列。")
    out(args, payload, lines)
    return 1 if error or any(r.behind for r in rows) else 0


def cmd_raise(cf: Casefile, args) -> int:
    with cf.db.write() as session:
        before, after = sequences.raise_sequence(
            cf.settings, session, args.code, args.year, args.n, unit_code=args.unit
        )
    out(args, {"code": args.code, "year": args.year, "from": before, "to": after}, [
        f"已将 {args.code}〔{args.year}〕的序列从 {before} 号调到 {after} 号，下一份文书编为 {after + 1} 号。"
    ])  # fmt: skip
    return 0


def cmd_confirm(cf: Casefile, args) -> int:
    with cf.db.write() as session:
        done = sequences.confirm(cf.settings, session)
    lines = [
        f"已将 {d['code']}〔{d['year']}〕（{d['unit']}）从 {d['from']} 号调到检查点记录的 {d['to']} 号"
        for d in done
    ] or ["各文号序列均不落后于审计检查点，无需调整。"]
    out(args, {"raised": done}, lines)
    return 0


def register(sub, common, acting) -> None:
    group = sub.add_parser("numbers", help="恢复备份后的发文字号和规范性文件统一编号序列")
    cmds = group.add_subparsers(dest="command", required=True)
    cmds.add_parser("status", parents=[common], help="各序列：数据库与审计检查点对照").set_defaults(
        func=cmd_status
    )
    p = cmds.add_parser("raise", parents=[common], help="登记某机关代字某年度已发出的最后一个号")
    p.add_argument("code", metavar="机关代字", help="如 武政法审")
    p.add_argument("year", type=int, help="如 2026")
    p.add_argument("n", type=int, help="已发出的最后一个号")
    p.add_argument("--unit", help="单位代码（多个单位共用该代字时）")
    p.set_defaults(func=cmd_raise)
    cmds.add_parser(
        "confirm", parents=[common], help="把各序列调到审计检查点记录的号"
    ).set_defaults(func=cmd_confirm)
