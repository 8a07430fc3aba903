"""What every page module shares: the store of the running app, the login guard, the CSRF
protection, the caller's address and China-time display."""

from __future__ import annotations

import datetime as dt
import functools
from urllib.parse import urlsplit

from flask import current_app, g, redirect, request, url_for
from flask_wtf.csrf import CSRFProtect

from app.common.clock import CHINA_TZ
from app.container import Casefile
from app.errors import ValidationFailed

csrf = CSRFProtect()


def cf() -> Casefile:
    return current_app.extensions["casefile"]


def login_required(view):
    @functools.wraps(view)
    def wrapped(*args, **kwargs):
        if g.get("principal") is None:
            return redirect(url_for("auth.login", next=request.full_path.rstrip("?")))
        if g.user.must_change_password and request.endpoint not in {"auth.password", "auth.logout"}:
            return redirect(url_for("auth.password"))
        return view(*args, **kwargs)

    return wrapped


def safe_next(target: str | None) -> str:
    """Only same-site relative paths; anything else (//evil, https://evil, \\evil) goes home."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return url_for("main.home")
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return url_for("main.home")
    return target


def format_cst(value: dt.datetime | None) -> str:
    """Stored naive UTC → China Standard Time for display."""
    if value is None:
        return ""
    return value.replace(tzinfo=dt.UTC).astimezone(CHINA_TZ).strftime("%Y-%m-%d %H:%M")


def remote_addr() -> str:
    return (request.remote_addr or "")[:64]


MAX_PAGE = 100_000


def page_arg() -> int:
    """The `page` of a list (1 when absent); anything but a whole number from 1 to MAX_PAGE is
    refused with a message that names it (a 422 page), never passed on to the database."""
    raw = (request.args.get("page") or "").strip()
    if not raw:
        return 1
    if not raw.isascii() or not raw.isdigit() or not 1 <= int(raw) <= MAX_PAGE:
        message = f"页码应为 1 至 {MAX_PAGE} 之间的整数"
        raise ValidationFailed(message, [{"field": "page", "label": "页码", "message": message}])
    return int(raw)
