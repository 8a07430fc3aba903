"""聘任合同台账 (the register of engagement contracts) over the API: the register service."""

from __future__ import annotations

from flask import g, jsonify

from app.api.base import cf, remote_addr
from app.api.contract import route
from app.api.links import document_links
from app.api.schemas import ContractRegister, ContractsQuery
from app.presenters.contracts import contract_register_payload
from app.registers.contracts import contract_register_for


@route("GET", "/contracts", tag="聘任合同台账", summary="聘任合同台账", ok=ContractRegister,
       query=ContractsQuery, errors=(403,))  # fmt: skip
def contracts(query: ContractsQuery):
    """`expiring=N` is short for `status=expiring&window=N`."""
    with cf().db.write() as s:
        register = contract_register_for(
            s, g.principal, unit_code=query.unit, window=query.window, status=query.status,
            expiring=query.expiring, via="api", remote_addr=remote_addr(),
        )  # fmt: skip
        payload = contract_register_payload(register)
    for entry in payload["contracts"]:
        entry["links"] = document_links(entry["document_id"])
    return jsonify(payload)
