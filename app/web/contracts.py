"""法律顾问聘任合同台账: the register page and its XLSX export (app/registers/contracts.py)."""

from __future__ import annotations

import io

from flask import Blueprint, g, render_template, request, send_file
from sqlalchemy import select

from app.common import media_types
from app.errors import ValidationFailed
from app.identity.models import Unit
from app.registers.contracts import (
    DEFAULT_WINDOW,
    STATUS_LABELS,
    contract_register_for,
    to_xlsx,
)
from app.web.common import cf, login_required, remote_addr

bp = Blueprint("contracts", __name__)


@bp.get("/contracts")
@login_required
def index():
    """A bad filter is refused (400) with the form kept as typed and the reason at its field."""
    args = request.args
    unit, status, window = args.get("unit") or None, args.get("status") or None, args.get("window")
    want_xlsx = args.get("format") == "xlsx"
    register, errors = None, {}
    try:
        with cf().db.write() as s:
            register = contract_register_for(
                s, g.principal, unit_code=unit, window=window, status=status, export=want_xlsx,
                via="web", remote_addr=remote_addr(),
            )  # fmt: skip
    except ValidationFailed as exc:
        errors = {e["field"]: e["message"] for e in exc.errors} or {"_": exc.message}
    if register is not None and want_xlsx:
        return send_file(io.BytesIO(to_xlsx(register)), as_attachment=True, mimetype=media_types.XLSX,
                         download_name=f"聘任合同台账-{register.today.isoformat()}.xlsx")  # fmt: skip
    with cf().db.read() as s:
        readable = g.principal.readable_units()
        units = [u for u in s.scalars(select(Unit).order_by(Unit.code)) if u.id in readable]
    return render_template(
        "contracts.html", register=register, errors=errors, units=units, unit=unit,
        status=status, statuses=STATUS_LABELS,
        window=register.window if register else (window or DEFAULT_WINDOW),
    ), (400 if errors else 200)  # fmt: skip
