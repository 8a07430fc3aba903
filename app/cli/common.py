"""What every command module shares: output, the acting user (`--as`), data files, CliError."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from app.access.policy import Principal, principal
from app.common.ids import MAX_ID
from app.drafting import drafts
from app.errors import NotFound
from app.identity import users as user_admin


class CliError(Exception):
    """A mistake on the command line itself (a missing option, an unreadable file)."""

    def __init__(self, message: str, errors: list[dict] | None = None, code: int = 2):
        super().__init__(message)
        self.message, self.errors, self.code = message, errors or [], code


def record_id(text: str) -> int:
    """An id on the command line (argparse type): 1 to MAX_ID, else a usage error that says so,
    never a database overflow."""
    if not (text.isascii() and text.isdigit()) or not 1 <= int(text) <= MAX_ID:
        raise argparse.ArgumentTypeError(f"“{text[:40]}”不是有效的编号（1 至 {MAX_ID} 之间的整数）")
    return int(text)


def out(args, payload: dict, lines: list[str]) -> None:
    """Print `payload` as JSON with --json, else the human-readable lines."""
    if args.json:
        print(json.dumps(payload, ensure_ascii=False, indent=2, default=str))
    else:
        for line in lines:
            print(line)


def confirmed(args, statement: str) -> bool:
    """The user's confirmation of an act that cannot be undone: --yes, or "是" typed at the
    prompt on a terminal; otherwise False, which the service refuses (exit 2)."""
    if getattr(args, "yes", False):
        return True
    if not sys.stdin.isatty():
        return False
    print(f"{statement}。", file=sys.stderr)
    try:
        answer = input("此操作不可撤销，确认请输入“是”：")
    except EOFError:
        return False
    return answer.strip() in {"是", "y", "yes"}


def acting_as(session, username: str | None) -> Principal | None:
    """The principal named by --as; None without it (the server operator)."""
    if username is None:
        return None
    try:
        user = user_admin.user_by_name(session, username)
    except NotFound as exc:
        raise CliError(f"--as：{exc.message}") from exc
    if not user.active:
        raise CliError(f"--as：用户“{username}”已停用")
    return principal(session, user)


def need_as(session, args) -> Principal:
    """The principal of a command that acts in a user's name and so needs --as."""
    p = acting_as(session, getattr(args, "as_user", None))
    if p is None:
        raise CliError("此命令需要 --as USER 指明以哪位用户的身份办理")
    return p


def read_file(path: str | Path, what: str = "") -> bytes:
    try:
        return Path(path).read_bytes()
    except OSError as exc:
        raise CliError(f"无法读取{what} {path}：{exc.strerror}") from exc


def read_data(path: str) -> object:
    """JSON from a file, or from stdin for '-'."""
    try:
        text = sys.stdin.read() if path == "-" else Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise CliError(f"无法读取数据文件 {path}：{exc.strerror}") from exc
    except UnicodeDecodeError as exc:
        raise CliError(f"数据文件 {path} 不是 UTF-8 编码") from exc
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise CliError(
            f"数据文件 {path} 不是有效的 JSON：第{exc.lineno}行第{exc.colno}列 {exc.msg}"
        ) from exc


def read_object(path: str, hint: str = "") -> dict:
    """A JSON object from a file (or stdin for '-'); `hint` says which keys it holds."""
    data = read_data(path)
    if not isinstance(data, dict):
        raise CliError(f"数据文件应为 JSON 对象{f'（{hint}）' if hint else ''}")
    return data


def step_lines(steps: list[dict]) -> list[str]:
    """The review steps of a draft or document, one line each (`draft show`, `document show`)."""
    out = []
    for s in steps:
        role = drafts.STEP_ROLE_LABELS.get(s["role"], s["role"])
        out.append(
            f"  {s['at']}  {drafts.DECISION_LABELS[s['decision']]:<4} {s['name']}（{role}）"
            f"  sha256 {s['version_sha256']}" + (f"  意见：{s['comment']}" if s["comment"] else "")
        )
    return out
