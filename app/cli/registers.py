"""`casefile contracts`: the registers kept from the archive (聘任合同台账)."""

from __future__ import annotations

from app.cli.common import acting_as, out
from app.container import Casefile
from app.presenters.contracts import contract_register_payload
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


def register(sub, common, acting) -> None:
    p = sub.add_parser(
        "contracts",
        parents=[common, acting],
        help="register of engagement contracts (聘任合同台账)",
    )
    which = p.add_mutually_exclusive_group()
    which.add_argument("--expiring", type=int, metavar="DAYS",
                       help="only contracts whose term ends within DAYS days")  # fmt: skip
    which.add_argument("--window", type=int, metavar="DAYS",
                       help="days before the end of a term when a contract is 即将到期 (default 60)")  # fmt: skip
    p.add_argument("--status", choices=list(STATUS_LABELS))
    p.add_argument("--unit", metavar="CODE", help="unit code (with its sub-units)")
    p.set_defaults(func=cmd_contracts)
