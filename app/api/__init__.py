"""JSON API /api/v1: one module per resource, each route declared once in app/api/contract.py
(request validation and the OpenAPI document come from that declaration); token-authenticated;
errors are JSON with a field-by-field list."""

from __future__ import annotations

from flask import Flask
from werkzeug.exceptions import HTTPException

from app.api import (  # noqa: F401 - each module adds its routes to bp
    casefiles,
    contract,
    contracts,
    docs,
    documents,
    drafts,
    matters,
    normative,
    search,
    supervision,
    templates,
    tokens,
)
from app.api.base import bp, error_response
from app.errors import WorkflowError

HTTP_ERRORS = {
    400: ("bad_request", "请求格式有误"),
    403: ("forbidden", "您无权执行此操作"),
    404: ("not_found", "接口不存在"),
    405: ("method_not_allowed", "不支持该请求方法"),
    413: ("too_large", "上传内容过大"),
    500: ("internal", "服务器内部错误，已记录，请联系管理员"),
}


@bp.errorhandler(WorkflowError)
def _workflow_error(exc: WorkflowError):
    return error_response(exc.status, exc.code, exc.message, exc.errors)


@bp.errorhandler(HTTPException)
def http_error(exc: HTTPException):
    """An HTTP error as the API's JSON: raised inside an API view (a malformed multipart body,
    a too large upload), or under /api/ outside any view (create_app routes it here)."""
    code, message = HTTP_ERRORS.get(exc.code or 500, ("error", exc.name))
    return error_response(exc.code or 500, code, message)


def init_app(app: Flask) -> None:
    contract.init_app(app)
    app.register_blueprint(bp)
