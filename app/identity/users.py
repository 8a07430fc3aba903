"""Managing units and users (admin pages and CLI). Users are disabled, never deleted."""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import secrets

from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload

from app import audit
from app.common.text import check_text
from app.db.base import utcnow
from app.errors import NotFound, ValidationFailed, WorkflowError
from app.identity.models import ROLES, ApiToken, RoleGrant, Unit, User, UserContact, UserSession
from app.identity.passwords import check_password, generate_password, hash_password

UNIT_CODE_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,31}$")
USERNAME_RE = re.compile(r"^[a-z0-9][a-z0-9._-]{1,63}$")
# Strict on purpose (no email-validator package): ASCII dot-atom local part, a dotted host name
# of LDH labels, an alphabetic or punycode top-level label. Nothing that could break a mail header.
_ATOM = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+"
_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
EMAIL_RE = re.compile(
    rf"(?P<local>{_ATOM}(?:\.{_ATOM})*)@(?P<domain>(?:{_LABEL}\.)+(?:[A-Za-z]{{2,63}}|xn--[A-Za-z0-9-]{{1,59}}))",
    re.ASCII,
)
MAX_FAILED_LOGINS = 5
LOCKOUT = dt.timedelta(minutes=15)


def _invalid(field: str, label: str, message: str) -> ValidationFailed:
    return ValidationFailed(message, [{"field": field, "label": label, "message": message}])


def unit_by_code(session: Session, code: str) -> Unit:
    unit = session.scalars(select(Unit).where(Unit.code == code)).first()
    if unit is None:
        raise NotFound(f"单位代码“{code}”不存在")
    return unit


def add_unit(
    session: Session, code: str, name: str, parent_code: str | None = None,
    doc_code: str | None = None, actor: User | None = None,
) -> Unit:  # fmt: skip
    if not UNIT_CODE_RE.match(code or ""):
        raise _invalid("code", "单位代码", "单位代码只能包含字母、数字、-和_，最长32位")
    name = check_text(name, "name", "单位名称")
    if not name or len(name) > 100:
        raise _invalid("name", "单位名称", "请填写单位名称（不超过100字）")
    if doc_code is not None and not re.fullmatch(r"[\u4e00-\u9fff]{1,10}", doc_code):
        raise _invalid("doc_code", "机关代字", "机关代字应为1到10个汉字，如“武政法”")
    if session.scalars(select(Unit).where(Unit.code == code)).first():
        raise WorkflowError(f"单位代码“{code}”已存在")
    parent = unit_by_code(session, parent_code) if parent_code else None
    unit = Unit(code=code, name=name, parent_id=parent.id if parent else None, doc_code=doc_code)
    session.add(unit)
    session.flush()
    audit.record(session, "unit.add", actor=actor, object_type="unit", object_id=unit.id,
                 detail={"code": code, "name": name, "parent": parent_code, "doc_code": doc_code})  # fmt: skip
    return unit


def add_user(
    session: Session, username: str, name: str, unit_code: str, roles: list[str],
    password: str | None = None, actor: User | None = None, must_change: bool = True,
    email: str | None = None,
) -> tuple[User, str]:  # fmt: skip
    """Create a user holding `roles` in their unit; returns the user and the password."""
    username = (username or "").strip().lower()
    if not USERNAME_RE.match(username):
        raise _invalid("username", "用户名", "用户名应为2到64位小写字母、数字、点、横线或下划线")
    name = check_text(name, "name", "姓名")
    if not name or len(name) > 50:
        raise _invalid("name", "姓名", "请填写姓名（不超过50字）")
    bad = [r for r in roles if r not in ROLES]
    if bad or not roles:
        raise _invalid(
            "role", "角色", f"角色无效：{', '.join(bad) or '未指定'}；可选：{', '.join(ROLES)}"
        )
    email = clean_email(email)
    if session.scalars(select(User).where(User.username == username)).first():
        raise WorkflowError(f"用户名“{username}”已存在")
    unit = unit_by_code(session, unit_code)
    password = password or generate_password()
    user = User(username=username, name=name, unit_id=unit.id, password_hash=hash_password(password),
                must_change_password=must_change)  # fmt: skip
    session.add(user)
    session.flush()
    for role in dict.fromkeys(roles):
        session.add(RoleGrant(user_id=user.id, unit_id=unit.id, role=role))
    if email:
        session.add(UserContact(user_id=user.id, email=email))
    session.flush()
    session.refresh(user)
    detail = {"username": username, "unit": unit_code, "roles": roles}
    audit.record(session, "user.add", actor=actor, object_type="user", object_id=user.id,
                 detail=detail | ({"email": email} if email else {}))  # fmt: skip
    return user, password


def clean_email(value: str | None) -> str:
    """The address to store ("" for none): trimmed, host name in lower case. Raises
    ValidationFailed (field `email`) for anything that is not a plain ASCII address."""
    value = (value or "").strip()
    if not value:
        return ""
    if len(value) > 254:
        raise _invalid("email", "邮箱", "邮箱地址过长（最多254个字符）")
    match = EMAIL_RE.fullmatch(value)
    if match is None or len(match["local"]) > 64:
        raise _invalid("email", "邮箱", "邮箱地址格式不正确，应形如 li.wen@wuyang.gov.cn")
    return f"{match['local']}@{match['domain'].lower()}"


def email_of(session: Session, user_id: int) -> str:
    contact = session.get(UserContact, user_id)
    return contact.email if contact is not None else ""


def emails(session: Session) -> dict[int, str]:
    """Every user's address, by user id (those without one are absent)."""
    return {
        uid: email for uid, email in session.execute(select(UserContact.user_id, UserContact.email))
    }


def set_email(session: Session, username: str, email: str | None, actor: User | None = None,
              remote_addr: str = "") -> str:  # fmt: skip
    """Set (or, when empty, remove) where a user's notifications go; returns the stored address.
    A change is audited as `user.email` with the old and new address."""
    user = user_by_name(session, username)
    email = clean_email(email)
    contact = session.get(UserContact, user.id)
    previous = contact.email if contact is not None else ""
    if email == previous:
        return email
    if not email:
        session.delete(contact)
    elif contact is None:
        session.add(UserContact(user_id=user.id, email=email))
    else:
        contact.email = email
    session.flush()
    audit.record(session, "user.email", actor=actor, object_type="user", object_id=user.id,
                 detail={"username": user.username, "email": email, "previous": previous},
                 remote_addr=remote_addr)  # fmt: skip
    return email


def grant_role(
    session: Session, username: str, role: str, unit_code: str, actor: User | None = None
) -> None:
    user = user_by_name(session, username)
    if role not in ROLES:
        raise _invalid("role", "角色", f"角色无效：{role}")
    unit = unit_by_code(session, unit_code)
    exists = session.scalars(
        select(RoleGrant).where(
            RoleGrant.user_id == user.id, RoleGrant.unit_id == unit.id, RoleGrant.role == role
        )
    ).first()
    if not exists:
        session.add(RoleGrant(user_id=user.id, unit_id=unit.id, role=role))
        session.flush()
    audit.record(session, "user.grant", actor=actor, object_type="user", object_id=user.id,
                 detail={"role": role, "unit": unit_code})  # fmt: skip


def set_active(session: Session, username: str, active: bool, actor: User | None = None) -> User:
    user = user_by_name(session, username)
    user.active = active
    audit.record(session, "user.enable" if active else "user.disable", actor=actor,
                 object_type="user", object_id=user.id)  # fmt: skip
    return user


def user_by_name(session: Session, username: str) -> User:
    user = session.scalars(
        select(User).where(User.username == (username or "").strip().lower())
    ).first()
    if user is None:
        raise NotFound(f"用户“{username}”不存在")
    return user


def authenticate(
    session: Session, username: str, password: str, remote_addr: str = ""
) -> tuple[User | None, str | None]:
    """(user, None) on success; (None, Chinese message) otherwise. Records the attempt."""
    user = session.scalars(
        select(User).where(User.username == (username or "").strip().lower())
    ).first()
    now = utcnow()
    if user is None:
        audit.record(
            session,
            "login.failed",
            detail={"username": (username or "")[:64]},
            remote_addr=remote_addr,
        )
        return None, "用户名或密码错误"
    if user.locked_until and user.locked_until > now:
        minutes = max(1, int((user.locked_until - now).total_seconds() // 60) + 1)
        audit.record(session, "login.locked", actor=user, remote_addr=remote_addr)
        return None, f"连续登录失败次数过多，账户已锁定，请{minutes}分钟后再试或联系管理员"
    if not check_password(user.password_hash, password or ""):
        user.failed_logins += 1
        if user.failed_logins >= MAX_FAILED_LOGINS:
            user.locked_until = now + LOCKOUT
            user.failed_logins = 0
        audit.record(session, "login.failed", actor=user, remote_addr=remote_addr)
        return None, "用户名或密码错误"
    if not user.active:
        audit.record(session, "login.disabled", actor=user, remote_addr=remote_addr)
        return None, "该账户已停用，请联系管理员"
    user.failed_logins = 0
    user.locked_until = None
    audit.record(session, "login", actor=user, remote_addr=remote_addr)
    return user, None


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def create_token(session: Session, user: User, label: str = "") -> str:
    label = check_text(label, "label", "令牌用途", max_length=100)
    token = "cf_" + secrets.token_urlsafe(32)
    session.add(ApiToken(user_id=user.id, token_hash=token_hash(token), label=label))
    audit.record(session, "token.create", actor=user, object_type="user", object_id=user.id,
                 detail={"label": label})  # fmt: skip
    return token


def user_for_token(session: Session, token: str) -> User | None:
    row = session.scalars(
        select(ApiToken).where(
            ApiToken.token_hash == token_hash(token), ApiToken.revoked_at.is_(None)
        )
    ).first()
    if row is None:
        return None
    user = session.get(User, row.user_id)
    return user if user and user.active else None


SESSION_LIFETIME = dt.timedelta(hours=8)


def start_session(session: Session, user: User, remote_addr: str = "") -> str:
    """A new login session; returns the random id for the cookie (only its hash is stored)."""
    sid = secrets.token_urlsafe(32)
    session.add(UserSession(sid_hash=token_hash(sid), user_id=user.id, expires_at=utcnow() + SESSION_LIFETIME,
                            remote_addr=remote_addr[:64]))  # fmt: skip
    return sid


def session_user(session: Session, sid: str | None) -> User | None:
    if not sid:
        return None
    # one statement for the session, its user, their unit and their grants: every page asks
    rows = (
        session.execute(
            select(UserSession, User)
            .join(User, User.id == UserSession.user_id)
            .where(UserSession.sid_hash == token_hash(sid))
            .options(joinedload(User.unit), joinedload(User.grants))
        )
        .unique()
        .all()
    )
    if not rows:
        return None
    row, user = rows[0]
    if row.revoked_at is not None or row.expires_at <= utcnow():
        return None
    return user if user.active else None


def end_sessions(
    session: Session, user_id: int, sid: str | None = None, keep: str | None = None
) -> int:
    """Revoke one session (sid) or all of a user's sessions except `keep`."""
    query = select(UserSession).where(
        UserSession.user_id == user_id, UserSession.revoked_at.is_(None)
    )
    if sid is not None:
        query = query.where(UserSession.sid_hash == token_hash(sid))
    n = 0
    for row in session.scalars(query):
        if keep is not None and row.sid_hash == token_hash(keep):
            continue
        row.revoked_at = utcnow()
        n += 1
    return n
