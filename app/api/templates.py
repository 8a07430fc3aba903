"""Templates: what a draft can be made from, with its fields and review chain."""

from __future__ import annotations

from flask import jsonify

from app.api.base import cf
from app.api.contract import route
from app.api.schemas import Template, TemplateList
from app.errors import NotFound
from app.presenters.templates import template_payload


@route("GET", "/templates", tag="模板", summary="模板列表", ok=TemplateList)
def templates():
    with cf().db.read() as s:
        out = [template_payload(cf().catalog.load(row)) for row in cf().catalog.latest_versions(s)]
    return jsonify({"templates": out})


@route("GET", "/templates/<template_id>", tag="模板", summary="一个模板的字段与审核流程",
       ok=Template, errors=(404,))  # fmt: skip
def template(template_id: str):
    with cf().db.read() as s:
        row = cf().catalog.latest_row(s, template_id)
        if row is None:
            raise NotFound(f"模板“{template_id}”不存在")
        return jsonify(template_payload(cf().catalog.load(row)))
