"""聘任合同台账 (the register of engagement contracts) over the API."""

from __future__ import annotations

from flask import g, jsonify

from app import audit
from app.access.policy import can
from app.api.base import cf, remote_addr
from app.api.contract import route
from app.api.links import document_links
from app.api.schemas import ContractRegister, ContractsQuery
from app.errors import Forbidden, ValidationFailed
from app.registers.contracts import contract_register, parse_window


@route("GET", "/contracts", tag="聘任合同台账", summary="聘任合同台账", ok=ContractRegister,
       query=ContractsQuery, errors=(403,))  # fmt: skip
def contracts(query: ContractsQuery):
    """`expiring=N` is short for `status=expiring&window=N`."""
    status, window, unit = query.status or None, query.window, query.unit or None
    name = "window"
    if query.expiring is not None:
        if status or window is not None:
            raise ValidationFailed("expiring 不能与 status 或 window 同时使用")
        status, window, name = "expiring", query.expiring, "expiring"
    with cf().db.write() as s:
        if not can(s, g.principal, "contract.register"):
            raise Forbidden("您无权查看聘任合同台账")
        register = contract_register(s, g.principal, window=parse_window(window, name=name),
                                     unit_code=unit, status=status)  # fmt: skip
        if g.principal.has("inspector"):
            audit.record(s, "contracts.read", actor=g.user, remote_addr=remote_addr(),
                         detail={"unit": unit, "status": status, "window": register.window,
                                 "results": len(register.entries), "via": "api"})  # fmt: skip
        payload = register.as_dict() | {"unit": unit, "status": status}
    for entry in payload["contracts"]:
        entry["links"] = document_links(entry["document_id"])
    return jsonify(payload)
