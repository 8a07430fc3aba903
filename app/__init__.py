"""casefile: document generation, review chain and case-file archive for legal offices."""

from __future__ import annotations

from flask import Flask, request
from werkzeug.exceptions import HTTPException

from app.config import Settings
from app.container import Casefile, open_casefile


def create_app(config: dict | None = None, casefile: Casefile | None = None) -> Flask:
    """Flask app factory. `config` overrides Settings fields (tests pass their own)."""
    if casefile is None:
        overrides = {k: v for k, v in (config or {}).items() if k in Settings.__dataclass_fields__}
        casefile = open_casefile(Settings.from_env(**overrides))
    settings = casefile.settings
    app = Flask(__name__, template_folder="web/templates", static_folder="web/static")
    app.config.update(
        SECRET_KEY=settings.resolved_secret_key(),
        MAX_CONTENT_LENGTH=settings.max_upload_bytes,
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=settings.session_cookie_secure,
        SESSION_COOKIE_NAME="casefile_session",
        PERMANENT_SESSION_LIFETIME=8 * 3600,
        WTF_CSRF_TIME_LIMIT=None,
        JSON_AS_ASCII=False,
    )
    app.json.ensure_ascii = False
    if config:
        app.config.update({k: v for k, v in config.items() if k.isupper()})
    app.extensions["casefile"] = casefile

    # lazy: the command line and the workers import app.* without loading the web surfaces
    from app import api, web  # lazy: see above

    web.init_app(app)
    api.init_app(app)
    web.csrf.exempt(api.bp)  # the API authenticates each request with a bearer token, not a cookie

    def http_error(exc: HTTPException):
        """An HTTP error outside any view (no such URL, wrong method, too large, a crash):
        JSON under /api/, the error page elsewhere; each surface renders its own."""
        if request.path.startswith("/api/"):
            return api.http_error(exc)
        return web.http_error(exc)

    for status in (403, 404, 405, 413, 500):
        app.register_error_handler(status, http_error)
    return app
