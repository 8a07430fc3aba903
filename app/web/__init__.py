"""Server-side pages (zh-CN). All assets are served from app/web/static (offline intranets).

One module per area, each with its blueprint; app/web/common.py holds what they share.
"""

from __future__ import annotations

import itertools

from flask import Flask, g, render_template, request, session
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

from app.access.policy import principal
from app.common.ids import RecordId
from app.drafting.drafts import DECISION_LABELS, STATUS_LABELS
from app.errors import Forbidden, NotFound, WorkflowError
from app.identity.models import ROLE_LABELS
from app.identity.users import session_user
from app.templating.render import chinese_date
from app.web import (
    admin,
    auth,
    casefiles,
    contracts,
    documents,
    drafts,
    history,
    main,
    nav,
    restrictions,
    search,
)
from app.web.common import cf, csrf, format_cst, login_required, remote_addr, safe_next

# app/api still imports these from here; they live in app/web/common.py.
__all__ = ["cf", "csrf", "format_cst", "init_app", "login_required", "remote_addr", "safe_next"]

HTTP_ERRORS = {  # status: (title, message) of the error page
    403: ("无权访问", "您没有权限执行此操作。"),
    404: ("未找到", "您要找的页面不存在，或您无权查看。"),
    405: ("请求方式不正确", "请通过页面上的按钮操作。"),
    413: ("文件过大", "上传的内容超过了大小限制。"),
    500: ("系统错误", "服务器内部错误，请稍后重试或联系管理员。"),
}


def http_error(exc: HTTPException):
    """An HTTP error as the web's page (create_app routes every one outside /api/ here)."""
    status = exc.code or 500
    title, message = HTTP_ERRORS.get(status, ("出错了", exc.description or ""))
    return render_template("error.html", title=title, message=message), status


CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)
BLUEPRINTS = (
    auth,
    main,
    drafts,
    history,
    documents,
    search,
    casefiles,
    contracts,
    admin,
    restrictions,
)


def _load_user() -> None:
    g.user = g.principal = None
    if request.blueprint == "api" or request.endpoint == "static":
        return
    sid = session.get("sid")
    if sid is None:
        return
    with cf().db.read() as s:
        user = session_user(s, sid)
        if user is None:
            session.clear()
            return
        _ = user.unit.name  # used by every page header; load before the session closes
        g.user = user
        g.principal = principal(s, user)


def _refuse_nul():
    """Text with U+0000 in a query or a form is refused (400): PostgreSQL cannot store or
    compare it, and no page needs it."""
    if request.path.startswith("/api/") or request.endpoint == "static":
        return None  # the API refuses NUL by field (app/api/contract.py)
    values = itertools.chain(request.args.items(multi=True), request.form.items(multi=True))
    if any("\x00" in (key or "") or "\x00" in (value or "") for key, value in values):
        message = "请求中含有空字符（U+0000），请检查输入内容。"
        return render_template("error.html", title="请求内容有误", message=message), 400
    return None


def _security_headers(response):
    response.headers.setdefault("Content-Security-Policy", CSP)
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("X-Frame-Options", "DENY")
    response.headers.setdefault("Referrer-Policy", "same-origin")
    if request.endpoint != "static":
        response.headers.setdefault("Cache-Control", "no-store")
    return response


def init_app(app: Flask) -> None:
    csrf.init_app(app)
    app.before_request(_refuse_nul)
    app.before_request(_load_user)
    app.after_request(_security_headers)
    app.jinja_env.filters.update(cst=format_cst, cndate=chinese_date)
    app.jinja_env.globals.update(
        ROLE_LABELS=ROLE_LABELS, STATUS_LABELS=STATUS_LABELS, DECISION_LABELS=DECISION_LABELS
    )
    # the menu and the buttons come from the access policy (app/web/nav.py)
    app.jinja_env.globals.update(
        nav_menu=nav.menu, SEARCH_ACTION=nav.SEARCH_ACTION,
        may=lambda action: nav.allowed(g.get("principal"), action),
    )  # fmt: skip

    # every <int:...> of a page is a record id: one beyond the database's range is no page (404)
    app.url_map.converters["int"] = RecordId
    for module in BLUEPRINTS:
        app.register_blueprint(module.bp)

    @app.errorhandler(CSRFError)
    def _csrf(_exc):
        return render_template(
            "error.html", title="页面已过期", message="表单已过期或来源不明，请返回重新操作。"
        ), 400

    # A service's refusal reads the same on every page: 403 (404) with its reason, never a
    # redirect. The API blueprint answers these in JSON with its own handler.
    @app.errorhandler(Forbidden)
    def _refused(exc: Forbidden):
        return render_template("error.html", title="无权访问", message=exc.message), 403

    @app.errorhandler(NotFound)
    def _missing(exc: NotFound):
        return render_template("error.html", title="未找到", message=exc.message), 404

    @app.errorhandler(WorkflowError)
    def _conflict(exc: WorkflowError):  # what a page does not answer itself (409, 422)
        return render_template("error.html", title="无法办理", message=exc.message), exc.status
