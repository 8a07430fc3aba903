"""What every API module shares: the blueprint, the bearer-token guard, JSON errors, and the
request's container and address. The API imports no other surface (web, CLI)."""

from __future__ import annotations

import functools

from flask import Blueprint, current_app, g, jsonify, request

from app.access.policy import principal
from app.container import Casefile
from app.identity import users

bp = Blueprint("api", __name__, url_prefix="/api/v1")


def cf() -> Casefile:
    return current_app.extensions["casefile"]


def remote_addr() -> str:
    return (request.remote_addr or "")[:64]


def error_response(status: int, code: str, message: str, errors: list | None = None):
    """The one error shape of the API: {"error", "message", "errors": [{"field", "message"}]}."""
    return jsonify({"error": code, "message": message, "errors": errors or []}), status


def token_required(view):
    """Bearer-token authentication: sets g.user and g.principal, or answers 401."""

    @functools.wraps(view)
    def wrapped(*args, **kwargs):
        header = request.headers.get("Authorization", "")
        if not header.startswith("Bearer "):
            return error_response(
                401, "unauthorized", "缺少 API 令牌：请在 Authorization 头中使用 Bearer <token>"
            )
        with cf().db.read() as s:
            user = users.user_for_token(s, header[7:].strip())
            if user is None:
                return error_response(401, "unauthorized", "API 令牌无效、已撤销或用户已停用")
            g.user = user
            g.principal = principal(s, user)
        return view(*args, **kwargs)

    return wrapped
