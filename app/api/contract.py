"""The API contract: every route declares its input and output models once, with `route()`; the
same declaration validates the request and writes the OpenAPI 3.1 document.

Models are pydantic classes (their JSON Schema is draft 2020-12, the dialect of OpenAPI 3.1);
the document is built by walking the app's url_map, so a route can only be served if it was
declared here, and every declared route appears in the document.

Long module: declaring, validating and documenting a route are one mechanism, kept together.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from typing import Any

from flask import Flask, current_app, request
from pydantic import BaseModel, ConfigDict, ValidationError
from pydantic.json_schema import models_json_schema

from app.api.base import bp, token_required
from app.common.ids import MAX_ID, RecordId
from app.errors import ValidationFailed


class Body(BaseModel):
    """A JSON request body: types are strict (a number is not a string), unknown keys ignored."""

    model_config = ConfigDict(strict=True, extra="ignore")


class Query(BaseModel):
    """Query-string parameters: strings converted to the declared types, unknown keys ignored."""

    model_config = ConfigDict(extra="ignore")


class Reply(BaseModel):
    """A JSON response; the API returns these keys (extra keys are not an error)."""


class FieldError(Reply):
    """One bad field of a request."""

    field: str
    message: str
    label: str | None = None


class Error(Reply):
    """Every error of the API: a code, a message in Chinese, and the bad fields, if any."""

    error: str
    message: str
    errors: list[FieldError]


@dataclass(frozen=True)
class Binary:
    """A file response: its media types and what it is."""

    media_types: tuple[str, ...]
    description: str


@dataclass(frozen=True)
class Operation:
    method: str
    rule: str
    endpoint: str
    tag: str
    summary: str
    description: str
    ok: type[BaseModel] | Binary | str
    status: int
    body: type[BaseModel] | None
    body_required: bool
    form: type[BaseModel] | None
    query: type[BaseModel] | None
    errors: tuple[int, ...]
    public: bool


ERROR_TEXT = {
    401: "缺少、无效或已撤销的 API 令牌",
    403: "无权执行此操作",
    404: "对象不存在或您无权查看",
    409: "与当前状态冲突（如草稿不在可操作的环节）",
    413: "上传内容过大",
    422: "请求内容有误：errors 逐项列出字段与原因",
    503: "服务暂时不可用",
}


def route(
    method: str,
    rule: str,
    *,
    tag: str,
    summary: str,
    ok: type[BaseModel] | Binary | str,
    status: int = 200,
    body: type[BaseModel] | None = None,
    body_required: bool = True,
    form: type[BaseModel] | None = None,
    query: type[BaseModel] | None = None,
    errors: tuple[int, ...] = (),
    public: bool = False,
    endpoint: str | None = None,
):
    """Declare and register an API route.

    A `query` model is validated before the view runs and passed to it as `query`; the view
    reads its `body` with `request_body()` after its own access checks (a refusal comes before
    any complaint about the content). `form` documents a multipart alternative to the JSON body.
    A bad value is a 422 naming the field. Unless `public`, the route needs a token.
    """

    def decorate(view):
        op = Operation(
            method=method.upper(), rule=rule, endpoint=endpoint or view.__name__, tag=tag,
            summary=summary, description=(view.__doc__ or "").strip(), ok=ok, status=status,
            body=body, body_required=body_required, form=form, query=query,
            errors=_implied_errors(errors, public=public, body=body, query=query, form=form),
            public=public,
        )  # fmt: skip

        @functools.wraps(view)
        def handler(**kwargs):
            refuse_nul({k: v for k, v in kwargs.items() if isinstance(v, str)})  # path values
            if query is not None:
                kwargs["query"] = validate(query, _query_values(query))
            return view(**kwargs)

        wrapped = handler if public else token_required(handler)
        wrapped.operation = op
        bp.add_url_rule(rule, op.endpoint, wrapped, methods=[op.method])
        return view

    return decorate


def _implied_errors(errors, *, public, body, query, form) -> tuple[int, ...]:
    """The route's own errors plus those its declaration implies: 401 without a token, 422
    for bad input, 413 for a body over the upload limit."""
    implied = set(errors) | ({401} if not public else set())
    implied |= {422} if body or query or form else set()
    implied |= {413} if body or form else set()
    return tuple(sorted(implied))


# ---- request validation -----------------------------------------------------------------


def request_body() -> Any:
    """The JSON body of this request, validated against its route's `body` model."""
    op = current_app.view_functions[request.endpoint].operation
    return validate(op.body, json_object(required=op.body_required))


MESSAGES = {
    "missing": "必填",
    "string_type": "应为字符串",
    "int_type": "应为整数",
    "int_parsing": "应为整数",
    "int_from_float": "应为整数",
    "bool_type": "应为 true 或 false",
    "bool_parsing": "应为 true 或 false",
    "dict_type": "应为 JSON 对象",
    "model_type": "应为 JSON 对象",
    "model_attributes_type": "应为 JSON 对象",
    "list_type": "应为数组",
    "string_too_long": "不能超过 {max_length} 个字符",
    "string_too_short": "至少 {min_length} 个字符",
    "too_long": "不能超过 {max_length} 项",
    "too_short": "至少 {min_length} 项",
    "greater_than_equal": "不能小于 {ge}",
    "less_than_equal": "不能大于 {le}",
    "literal_error": "取值无效（可选：{expected}）",
    "string_pattern_mismatch": "格式不正确",
    "recursion_loop": "嵌套过深",
}


def validate(model: type[BaseModel], data: Any) -> BaseModel:
    """`data` as an instance of `model`, or ValidationFailed naming each bad field in Chinese."""
    refuse_nul(data, model)
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise invalid([_field_error(model, e) for e in exc.errors()]) from None


NUL_MESSAGE = "不能含有空字符（U+0000）"


def refuse_nul(data: Any, model: type[BaseModel] | None = None) -> None:
    """Text with U+0000 is refused by field: PostgreSQL cannot store it, and no form needs it."""
    bad, stack = [], [((), data)]
    while stack:
        path, value = stack.pop()
        if isinstance(value, str):
            if "\x00" in value:
                bad.append(path)
        elif isinstance(value, dict):
            for key, item in value.items():
                stack.append(((*path, str(key)), item))
                if "\x00" in str(key):
                    bad.append((*path, str(key)))
        elif isinstance(value, list | tuple):
            stack.extend(((*path, str(i)), item) for i, item in enumerate(value))
    if bad:
        fields = model.model_fields if model else {}
        raise invalid([{"field": ".".join(p) or "body",
                        "label": (fields[p[0]].title if p and p[0] in fields else None)
                        or (p[0] if p else "body"),
                        "message": NUL_MESSAGE} for p in sorted(set(bad))])  # fmt: skip


def invalid(errors: list[dict], what: str = "请求内容有误") -> ValidationFailed:
    return ValidationFailed(f"{what}：" + "；".join(e.get("label") or e["field"] for e in errors),
                            errors)  # fmt: skip


def _field_error(model: type[BaseModel], error: dict) -> dict:
    loc = [str(p) for p in error["loc"]]
    name = loc[0] if loc else "body"
    info = model.model_fields.get(name)
    template = MESSAGES.get(error["type"], "格式不正确")
    try:
        message = template.format(**error.get("ctx", {}))
    except (KeyError, IndexError):
        message = template
    return {"field": ".".join(loc) or "body", "label": (info.title if info else None) or name,
            "message": message}  # fmt: skip


def json_object(required: bool = True) -> dict:
    """The request's JSON object; {} for an absent optional body; else ValidationFailed."""
    try:
        data = request.get_json(silent=True)
    except RecursionError:  # json.loads gives up on deep nesting with this, not a ValueError
        raise ValidationFailed(
            "请求体嵌套过深", [{"field": "body", "message": "嵌套过深"}]
        ) from None
    if data is None and not required and not request.get_data(cache=True):
        return {}
    if not isinstance(data, dict):
        raise ValidationFailed("请求体应为 JSON 对象（Content-Type: application/json）",
                               [{"field": "body", "message": "应为 JSON 对象"}])  # fmt: skip
    return data


def _query_values(model: type[BaseModel]) -> dict:
    """Query arguments: lists for list-typed fields, the first value otherwise."""
    out = {}
    for name, info in model.model_fields.items():
        key = info.alias or name
        if key not in request.args:
            continue
        if getattr(info.annotation, "__origin__", None) in (list, tuple, frozenset):
            out[key] = request.args.getlist(key)
        else:
            out[key] = request.args.get(key)
    return out


# ---- the OpenAPI document ------------------------------------------------------------------

_PARAM = re.compile(r"<(?:(?P<conv>\w+)(?:\((?P<args>[^)]*)\))?:)?(?P<name>\w+)>")


def operations(app: Flask) -> list[tuple[Any, Operation]]:
    """(werkzeug rule, operation) for every API route of `app`, in url_map order."""
    out = []
    for rule in app.url_map.iter_rules():
        op = getattr(app.view_functions.get(rule.endpoint), "operation", None)
        if op is not None:
            out.append((rule, op))
    return out


def openapi_document(
    app: Flask, *, title: str, version: str, description: str, tags: tuple[str, ...] = ()
) -> dict:
    """The OpenAPI 3.1 document of the API routes registered on `app`; `tags` in the order
    the documentation page shows them."""
    ops = operations(app)
    models: list[tuple[type[BaseModel], str]] = []
    for _, op in ops:
        models += [(m, "validation") for m in (op.body, op.form) if m is not None]
        if isinstance(op.ok, type):
            models.append((op.ok, "serialization"))
    models.append((Error, "serialization"))
    refs, defs = models_json_schema(
        list(dict.fromkeys(models)), ref_template="#/components/schemas/{model}"
    )
    components = defs.get("$defs", {})
    paths: dict[str, dict] = {}
    for rule, op in ops:
        path, params = _path(rule.rule, op)
        item = {
            "operationId": op.endpoint,
            "tags": [op.tag],
            "summary": op.summary,
            "parameters": params + _query_params(op),
            "responses": _responses(op, refs),
        }
        if op.description:
            item["description"] = op.description
        body = _request_body(op, refs)
        if body:
            item["requestBody"] = body
        item["security"] = [] if op.public else [{"bearerAuth": []}]
        paths.setdefault(path, {})[op.method.lower()] = item
    return {
        "openapi": "3.1.0",
        "info": {"title": title, "version": version, "description": description},
        "tags": [{"name": t} for t in dict.fromkeys(tags + tuple(op.tag for _, op in ops))],
        "servers": [{"url": "/"}],
        "paths": paths,
        "components": {
            "schemas": components,
            "securitySchemes": {
                "bearerAuth": {
                    "type": "http",
                    "scheme": "bearer",
                    "description": "POST /api/v1/tokens 取得的 API 令牌（cf_ 开头）",
                }
            },
        },
    }


def _path(rule: str, op: Operation) -> tuple[str, list[dict]]:
    params = []

    def replace(m: re.Match) -> str:
        name, conv = m["name"], m["conv"] or "default"
        if conv in ("id", "int"):
            schema: dict = {"type": "integer", "minimum": 1, "maximum": MAX_ID}
        elif conv == "any":
            schema = {"type": "string",
                      "enum": [a.strip().strip("'\"") for a in m["args"].split(",")]}  # fmt: skip
        else:
            schema = {"type": "string", "pattern": "^[^/]+$"}
        params.append({"name": name, "in": "path", "required": True, "schema": schema})
        return "{" + name + "}"

    return _PARAM.sub(replace, rule), params


def _query_params(op: Operation) -> list[dict]:
    if op.query is None:
        return []
    schema = op.query.model_json_schema()
    required = set(schema.get("required", []))
    out = []
    for name, prop in schema["properties"].items():
        param = {"name": name, "in": "query", "required": name in required, "schema": prop}
        if prop.get("description"):
            param["description"] = prop["description"]
        if prop.get("type") == "array":
            param |= {"style": "form", "explode": True}
        out.append(param)
    return out


def _json(model, refs, mode) -> dict:
    return {"schema": refs[(model, mode)]}


def _request_body(op: Operation, refs) -> dict | None:
    content = {}
    if op.body is not None:
        content["application/json"] = _json(op.body, refs, "validation")
    if op.form is not None:
        content["multipart/form-data"] = _json(op.form, refs, "validation")
    if not content:
        return None
    return {"required": op.body_required, "content": content}


def _responses(op: Operation, refs) -> dict:
    if isinstance(op.ok, Binary):
        ok = {
            "description": op.ok.description,
            "content": {t: {"schema": {"type": "string", "format": "binary"}}
                        for t in op.ok.media_types},
        }  # fmt: skip
    elif isinstance(op.ok, str):  # a document that is not one of the API's models
        schema = {"type": "object"} if op.ok.endswith("json") else {"type": "string"}
        ok = {"description": op.summary, "content": {op.ok: {"schema": schema}}}
    else:
        ok = {"description": (op.ok.__doc__ or "").strip().splitlines()[0],
              "content": {"application/json": _json(op.ok, refs, "serialization")}}  # fmt: skip
    out = {str(op.status): ok}
    for status in op.errors:
        out[str(status)] = {
            "description": ERROR_TEXT.get(status, "错误"),
            "content": {"application/json": _json(Error, refs, "serialization")},
        }
    return out


def init_app(app: Flask) -> None:
    app.url_map.converters["id"] = RecordId
