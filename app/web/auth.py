"""Log in, log out, change password, set one's own e-mail address."""

from __future__ import annotations

from flask import Blueprint, flash, g, redirect, render_template, request, session, url_for

from app import audit
from app.errors import WorkflowError
from app.identity import users
from app.identity.models import User
from app.identity.passwords import check_password, hash_password, password_problem
from app.web.common import cf, login_required, remote_addr, safe_next

bp = Blueprint("auth", __name__)


@bp.route("/login", methods=["GET", "POST"])
def login():
    error = None
    if request.method == "POST":
        username = request.form.get("username", "")[:64]
        password = request.form.get("password", "")[:256]
        with cf().db.write() as s:
            user, error = users.authenticate(s, username, password, remote_addr())
            if user is not None:
                session.clear()  # a fresh session: no fixation of a pre-login cookie
                session["sid"] = users.start_session(s, user, remote_addr())
                session.permanent = True
        if error is None:
            return redirect(safe_next(request.args.get("next")))
    return render_template("login.html", error=error, username=request.form.get("username", "")), (
        401 if error else 200
    )


@bp.post("/logout")
def logout():
    if session.get("sid"):
        with cf().db.write() as s:
            user = users.session_user(s, session["sid"])
            if user:
                users.end_sessions(s, user.id, sid=session["sid"])
                audit.record(s, "logout", actor=user, remote_addr=remote_addr())
    session.clear()
    return redirect(url_for("auth.login"))


@bp.route("/password", methods=["GET", "POST"])
@login_required
def password():
    errors: dict[str, str] = {}
    if request.method == "POST":
        current = request.form.get("current", "")
        new = request.form.get("new", "")
        again = request.form.get("again", "")
        with cf().db.write() as s:
            user = s.get(User, g.user.id)
            if not check_password(user.password_hash, current):
                errors["current"] = "当前密码不正确"
            elif problem := password_problem(new):
                errors["new"] = problem
            elif new != again:
                errors["again"] = "两次输入的新密码不一致"
            elif new == current:
                errors["new"] = "新密码不能与当前密码相同"
            else:
                user.password_hash = hash_password(new)
                user.must_change_password = False
                ended = users.end_sessions(s, user.id, keep=session.get("sid"))
                audit.record(s, "password.change", actor=user, detail={"other_sessions_ended": ended},
                             remote_addr=remote_addr())  # fmt: skip
        if not errors:
            flash("密码已修改。", "ok")
            return redirect(url_for("main.home"))
    return _account_page(errors=errors)


def _account_page(errors: dict | None = None, email: str | None = None, email_error: str = ""):
    if email is None:
        with cf().db.read() as s:
            email = users.email_of(s, g.user.id)
    return render_template("password.html", errors=errors or {}, forced=g.user.must_change_password,
                           email=email, email_error=email_error)  # fmt: skip


@bp.post("/account/email")
@login_required
def email():
    """The address one's own review notifications are e-mailed to (empty: none)."""
    submitted = request.form.get("email", "")
    try:
        with cf().db.write() as s:
            stored = users.set_email(s, g.user.username, submitted, actor=g.user,
                                     remote_addr=remote_addr())  # fmt: skip
    except WorkflowError as exc:
        return _account_page(email=submitted, email_error=exc.message), 422
    flash(
        f"邮箱已设为 {stored}，待办提醒将发到这里。" if stored else "已清除邮箱，不再发邮件提醒。",
        "ok",
    )
    return redirect(url_for("auth.password"))
