"""法律顾问聘任合同台账: the register page, its XLSX export, and the reminder on the home page."""

from __future__ import annotations

import io

from flask import Blueprint, abort, flash, g, render_template, request, send_file
from sqlalchemy import select

from app import audit
from app.access.policy import Principal, can
from app.errors import ValidationFailed
from app.identity.models import Unit
from app.registers.contracts import (
    DEFAULT_WINDOW,
    STATUS_LABELS,
    ContractRegister,
    contract_register,
    parse_window,
    to_xlsx,
)
from app.web import cf, login_required, remote_addr

bp = Blueprint("contracts", __name__)
XLSX_MIME = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def reminder(session, p: Principal) -> ContractRegister | None:
    """The home page's notice: contracts ending within the default window, not yet renewed."""
    if not can(session, p, "contract.register"):
        return None
    return contract_register(session, p, window=DEFAULT_WINDOW)


@bp.get("/contracts")
@login_required
def index():
    args = request.args
    status = args.get("status") if args.get("status") in STATUS_LABELS else None
    unit = args.get("unit") or None
    with cf().db.write() as s:
        if not can(s, g.principal, "contract.register"):
            abort(403)
        try:
            window = parse_window(args.get("window"))
        except ValidationFailed as exc:
            flash(exc.message, "error")
            window = DEFAULT_WINDOW
        try:
            register = contract_register(s, g.principal, window=window, unit_code=unit,
                                         status=status)  # fmt: skip
        except ValidationFailed as exc:
            flash(exc.message, "error")
            register = contract_register(s, g.principal, window=window, status=status)
        want_xlsx = args.get("format") == "xlsx"
        if g.principal.has("inspector"):
            audit.record(s, "contracts.export" if want_xlsx else "contracts.read", actor=g.user,
                         detail={"unit": unit, "status": status, "window": window,
                                 "results": len(register.entries)}, remote_addr=remote_addr())  # fmt: skip
        readable = g.principal.readable_units()
        units = [u for u in s.scalars(select(Unit).order_by(Unit.code)) if u.id in readable]
    if want_xlsx:
        return send_file(io.BytesIO(to_xlsx(register)), as_attachment=True, mimetype=XLSX_MIME,
                         download_name=f"聘任合同台账-{register.today.isoformat()}.xlsx")  # fmt: skip
    return render_template("contracts.html", register=register, units=units, unit=unit,
                           status=status, statuses=STATUS_LABELS)  # fmt: skip
