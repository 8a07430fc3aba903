"""The navigation bar, derived from the access policy: a user sees only what they may open.

One entry per feature: (label, endpoint, action). `menu()` keeps the entries whose action the
policy grants (`app.access.policy.may`); a page in the menu refuses the same users with the
same reason (`require`), so a link shown answers 200 and a link hidden answers 403.
A feature package adds its page by adding one line to NAV.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask import g, request, url_for

from app.access.policy import REFUSALS, Principal, may
from app.errors import Forbidden


@dataclass(frozen=True)
class NavEntry:
    label: str
    endpoint: str
    action: str | None  # None: every signed-in user


NAV: tuple[NavEntry, ...] = (
    NavEntry("工作台", "main.home", None),
    NavEntry("起草文书", "drafts.templates", "draft.create"),
    NavEntry("已发文书", "documents.index", "document.read"),
    NavEntry("案卷", "casefiles.index", "casefile.read"),
    NavEntry("聘任合同", "contracts.index", "contract.register"),
    NavEntry("合规检查", "casefiles.compliance", "archive.compliance"),
    NavEntry("四性检测", "casefiles.checks", "archive.checks"),
    NavEntry("审计日志", "admin.audit_log", "audit.read"),
    NavEntry("用户", "admin.users", "user.manage"),
    NavEntry("单位", "admin.units", "unit.manage"),
    NavEntry("模板", "admin.templates", "template.manage"),
)
SEARCH_ACTION = "document.read"  # the search box on every page: for those who read documents


def allowed(p: Principal | None, action: str | None) -> bool:
    return p is not None and (action is None or may(p, action))


def menu(p: Principal | None) -> list[tuple[str, str, bool]]:
    """(label, url, is the current page) of every entry the policy grants to `p`."""
    return [
        (e.label, url_for(e.endpoint), request.endpoint == e.endpoint)
        for e in NAV
        if allowed(p, e.action)
    ]


def require(action: str) -> None:
    """Refuse (403 with the policy's reason) a user who may not `action` anything."""
    if not allowed(g.get("principal"), action):
        raise Forbidden(REFUSALS.get(action, "您没有权限执行此操作"))
