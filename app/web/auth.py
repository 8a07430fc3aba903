"""Log in, log out, change password."""

from __future__ import annotations

from flask import Blueprint, flash, g, redirect, render_template, request, session, url_for

from app import audit
from app.auth import users
from app.auth.passwords import check_password, hash_password, password_problem
from app.db.models import User
from app.web import cf, login_required, remote_addr, safe_next

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
    return render_template("password.html", errors=errors, forced=g.user.must_change_password)
