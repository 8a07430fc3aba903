"""规范性文件登记簿 over the API: list, one entry, register (统一编号), record later steps."""

from __future__ import annotations

from flask import g, jsonify

from app.api.base import cf, remote_addr
from app.api.contract import request_body, route
from app.api.schemas import (
    NormativeCreate,
    NormativeEntry,
    NormativeQuery,
    NormativeRegister,
    NormativeValues,
)
from app.registers import normative

TAG = "规范性文件登记簿"


@route("GET", "/normative-documents", tag=TAG, summary="规范性文件登记簿", ok=NormativeRegister,
       query=NormativeQuery, errors=(403,))  # fmt: skip
def normative_register(query: NormativeQuery):
    with cf().db.write() as s:
        found = normative.list_register(
            s, g.principal, unit_code=query.unit, state=query.state, year=query.year, q=query.q,
            problems=query.problems, via="api", remote_addr=remote_addr(),
        )  # fmt: skip
        return jsonify(found.as_dict())


@route("GET", "/normative-documents/<id:entry_id>", tag=TAG, summary="一件规范性文件的登记",
       ok=NormativeEntry, errors=(404,))  # fmt: skip
def normative_entry(entry_id: int):
    with cf().db.read() as s:
        return jsonify(normative.entry_view(s, g.principal, entry_id).as_dict())


def _given(body) -> dict:
    return {k: v for k, v in body.model_dump(exclude_unset=True).items() if k != "unit"}


@route("POST", "/normative-documents", tag=TAG, summary="统一登记并编号", ok=NormativeEntry,
       status=201, body=NormativeCreate, errors=(403, 409))  # fmt: skip
def create_normative():
    body = request_body()
    with cf().db.write() as s:
        found = normative.register_entry(s, g.principal, _given(body), unit_code=body.unit,
                                         via="api", remote_addr=remote_addr(),
                                         settings=cf().settings)  # fmt: skip
        return jsonify(normative.entry_view(s, g.principal, found.id).as_dict()), 201


@route("PATCH", "/normative-documents/<id:entry_id>", tag=TAG, body=NormativeValues,
       summary="补记公布、备案、有效期或状态", ok=NormativeEntry, errors=(403, 404))  # fmt: skip
def update_normative(entry_id: int):
    with cf().db.write() as s:
        normative.open_entry(s, g.principal, entry_id)  # a refusal before the body
        body = request_body()
        normative.update_entry(s, g.principal, entry_id, _given(body), via="api",
                               remote_addr=remote_addr())  # fmt: skip
        return jsonify(normative.entry_view(s, g.principal, entry_id).as_dict())
