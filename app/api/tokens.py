"""API tokens: a username and password in exchange for a bearer token."""

from __future__ import annotations

from flask import jsonify

from app.api.base import cf, error_response, remote_addr
from app.api.contract import request_body, route
from app.api.schemas import Token, TokenRequest
from app.identity import users


@route("POST", "/tokens", tag="令牌", summary="以用户名和密码取得 API 令牌", ok=Token,
       status=201, body=TokenRequest, errors=(401,), public=True)  # fmt: skip
def create_token():
    """The token is shown once; failed attempts count towards the login lockout."""
    body = request_body()
    with cf().db.write() as s:
        user, error = users.authenticate(s, body.username, body.password, remote_addr())
        if user is None:
            return error_response(401, "unauthorized", error)
        token = users.create_token(s, user, body.label)
    return jsonify({"token": token, "username": body.username}), 201
