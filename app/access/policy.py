"""The access policy: every "may this user do X to this" and "which of these may this user see".

Default deny. `can(session, p, action, obj)` answers for one object; `visible_documents`,
`visible_case_files` and `search_scope` answer for lists, counts, exports and search, from the
same rules (a single read of a document is the SQL filter applied to that one row, so the two
cannot disagree). Web, API, CLI, services and search all ask here; nothing else decides access.
The role table in docs/security.md is checked against `ROLE_TABLE` by a test.

Long module: the single-object answers and the list conditions of every rule stay side by side, so that they cannot drift apart.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable
from dataclasses import dataclass, field

from sqlalchemy import ColumnElement, and_, false, or_, select
from sqlalchemy.orm import Session

from app.access.matters import (
    MATTER_ACTIONS,
    held_attachments,
    held_matter_documents,
    held_matters,
    may_act_on_matter,
    may_keep_profile,
    visible_matters,
)
from app.access.readers import allowed_readers, documents_visible_to
from app.access.roles import NO, ROLE_TABLE
from app.access.scope import SearchScope
from app.access.supervision import can_supervise, pool_keepers, supervised_units  # noqa: F401
from app.casefiles.models import CaseFile
from app.drafting.models import (
    Draft,
    DraftVersion,
    IssuedDocument,
    ReviewStep,
    VersionCoSignUnit,
)
from app.identity.models import Unit, User, all_units
from app.matters.models import Matter
from app.templating.models import TemplateVersion

DRAFTING_ROLES = {"clerk", "adviser", "public-lawyer", "office-head"}
UNIT_READERS = {"clerk", "office-head", "signatory"}
# Issuing (allocating the number and sending out in the unit's name) is the legal office's act.
ISSUING_ROLES = {"clerk", "office-head"}
REVIEWER_ROLES = {"adviser", "public-lawyer", "office-head", "signatory"}
CO_SIGN_ROLES = ("office-head", "signatory")  # who may co-sign (会签) for a listed unit
REVOKING_ROLES = ("office-head", "signatory")  # 撤销: one proposes, the other confirms
# Advisers and public lawyers read what their units have said before: the issued documents of
# the types the template registry marks as precedent (legality-review opinions, risk notices).
PRECEDENT_ROLES = ("adviser", "public-lawyer")
# Which types are precedent comes from the template registry (`document_type.precedent` in each
# schema), handed over through the session (see app.templating.doctypes.bind_catalog); these are
# the shipped ones, for a session without a registry (maintenance scripts, some tests).
DEFAULT_PRECEDENT_TEMPLATES = frozenset({"legality-review-opinion", "risk-notice"})
PRECEDENT_KEY = "precedent_reading"


@dataclass(frozen=True)
class Principal:
    """What the policy needs to know about a user, resolved once per request."""

    user: User
    grants: frozenset[tuple[int, str]]  # (unit_id, role)
    children: dict[int, list[int]]
    precedent_templates: frozenset[str] = field(default=DEFAULT_PRECEDENT_TEMPLATES)
    precedent_types: frozenset[str] = field(default=DEFAULT_PRECEDENT_TEMPLATES)

    def has(self, role: str) -> bool:
        return any(r == role for _, r in self.grants)

    def units_with(self, *roles: str) -> set[int]:
        return {u for u, r in self.grants if r in roles}

    def subtree(self, unit_ids: set[int]) -> set[int]:
        out, stack = set(), list(unit_ids)
        while stack:
            uid = stack.pop()
            if uid in out:
                continue
            out.add(uid)
            stack.extend(self.children.get(uid, ()))
        return out

    def readable_units(self) -> set[int]:
        """Units whose drafts and documents this user reads by role."""
        if not self.user.active:
            return set()
        direct = self.units_with("clerk", "signatory")
        heads = self.subtree(self.units_with("office-head"))
        inspected = self.subtree(self.units_with("inspector"))
        return direct | heads | inspected

    def precedent_units(self) -> set[int]:
        """Units whose issued precedent documents this user reads as adviser or public lawyer."""
        return self.units_with(*PRECEDENT_ROLES) if self.user.active else set()

    def role_in_unit(self, role: str, unit_id: int) -> bool:
        if role == "adviser":
            return (unit_id, "adviser") in self.grants or (unit_id, "public-lawyer") in self.grants
        return (unit_id, role) in self.grants


def principal(session: Session, user: User) -> Principal:
    children: dict[int, list[int]] = {}
    for uid, parent in session.execute(select(Unit.id, Unit.parent_id)):
        if parent is not None:
            children.setdefault(parent, []).append(uid)
    grants = frozenset((g.unit_id, g.role) for g in user.grants)
    templates = types = DEFAULT_PRECEDENT_TEMPLATES
    reading = session.info.get(PRECEDENT_KEY)
    if reading is not None and any(r in PRECEDENT_ROLES for _, r in grants):
        templates, types = reading(session)
    return Principal(
        user=user,
        grants=grants,
        children=children,
        precedent_templates=templates,
        precedent_types=types,
    )


# ---- which objects may this user see (lists, counts, exports) --------------------------------


def visible_documents(p: Principal) -> ColumnElement[bool]:
    """SQL condition on IssuedDocument: the documents this principal may read.

    Readers of the unit (clerks, signatories, office heads and inspectors over their subtree),
    whoever drafted, reviewed, co-signed or issued it, and the advisers and public lawyers of
    the unit for its precedent types; 知悉范围 restrictions win over all of these."""
    if not p.user.active:
        return false()
    return _visible_documents(
        p.user.id, tuple(sorted(p.readable_units())), tuple(sorted(p.precedent_units())),
        tuple(sorted(p.precedent_templates)),
    )  # fmt: skip


@functools.lru_cache(maxsize=512)
def _visible_documents(
    user_id: int, readable: tuple[int, ...], precedent: tuple[int, ...],
    precedent_templates: tuple[str, ...],
) -> ColumnElement[bool]:  # fmt: skip
    # A pure function of its arguments (an expression is immutable), so built once for each
    # and reused by every request of the same user with the same rights: building it costs
    # about a millisecond, which lists and `can` would otherwise pay on every call.
    doc = IssuedDocument
    ways: list[ColumnElement[bool]] = [
        doc.issued_by == user_id,
        select(Draft.id).where(Draft.id == doc.draft_id, Draft.created_by == user_id).exists(),
        select(ReviewStep.id)
        .where(ReviewStep.draft_id == doc.draft_id, ReviewStep.user_id == user_id)
        .exists(),
    ]
    if readable:
        ways.append(doc.unit_id.in_(readable))
    ways.append(doc.id.in_(held_matter_documents(user_id)))
    if precedent and precedent_templates:
        ways.append(
            and_(
                doc.unit_id.in_(precedent),
                doc.template_version_id.in_(
                    select(TemplateVersion.id).where(
                        TemplateVersion.template_id.in_(precedent_templates)
                    )
                ),
            )
        )
    return and_(or_(*ways), documents_visible_to(user_id))


def visible_case_files(p: Principal) -> ColumnElement[bool]:
    """SQL condition on CaseFile: the case files this principal may read."""
    if not p.user.active:
        return false()
    return _visible_case_files(p.user.id, tuple(sorted(p.readable_units())))


@functools.lru_cache(maxsize=512)
def _visible_case_files(user_id: int, readable: tuple[int, ...]) -> ColumnElement[bool]:
    # built once per user and rights, like _visible_documents
    ways: list[ColumnElement[bool]] = [
        CaseFile.created_by == user_id,
        CaseFile.id.in_(held_matters(user_id, Matter.case_file_id)),
    ]
    if readable:
        ways.append(CaseFile.unit_id.in_(readable))
    return or_(*ways)


def readable_case_files(session: Session, p: Principal, case_ids: Iterable[int]) -> set[int]:
    """Which of these case files the principal may read: `can(…, "casefile.read", …)` for
    many in one statement (a search page's attachments)."""
    ids = set(case_ids)
    if not ids or not p.user.active:
        return set()
    return set(
        session.scalars(select(CaseFile.id).where(CaseFile.id.in_(ids), visible_case_files(p)))
    )


def search_scope(session: Session, p: Principal) -> SearchScope:
    """The search engine's scope for a user, from the same rules as `visible_documents`."""
    if not p.user.active:
        return SearchScope(units=frozenset(), user_id=None)  # reads nothing
    codes = {u.id: u.code for u in all_units(session)}
    readable = p.readable_units()
    precedent = frozenset(
        (codes[u], t) for u in p.precedent_units() if u in codes for t in p.precedent_types
    )
    if p.has("inspector") and readable >= set(codes):
        return SearchScope(units=None, user_id=p.user.id, precedent=precedent)
    documents = frozenset(session.scalars(held_matter_documents(p.user.id)))
    attachments = frozenset(session.scalars(held_attachments(p.user.id)))
    return SearchScope(
        units=frozenset(codes[i] for i in readable if i in codes),
        user_id=p.user.id,
        precedent=precedent,
        documents=documents,
        attachments=attachments,
    )


# ---- may this user do X to this object --------------------------------------------------------


def can(session: Session, p: Principal, action: str, obj: object = None) -> bool:
    """May this principal do `action` on `obj`? Default deny."""
    if not p.user.active:
        return False
    if action in {"document.read", "document.download"}:
        assert isinstance(obj, IssuedDocument)
        found = session.scalar(
            select(IssuedDocument.id).where(IssuedDocument.id == obj.id, visible_documents(p))
        )
        return found is not None
    if action == "document.correct":
        # 更正: draft in the document's unit, from a document one reads
        assert isinstance(obj, IssuedDocument)
        return any((obj.unit_id, r) in p.grants for r in DRAFTING_ROLES) and can(
            session, p, "document.read", obj
        )
    if action == "document.revoke":
        # 撤销: an office head and a signatory of the document's unit decide it together
        assert isinstance(obj, IssuedDocument)
        return any((obj.unit_id, r) in p.grants for r in REVOKING_ROLES) and can(
            session, p, "document.read", obj
        )
    if action in {"casefile.read", "casefile.export"}:
        assert isinstance(obj, CaseFile)
        found = session.scalar(
            select(CaseFile.id).where(CaseFile.id == obj.id, visible_case_files(p))
        )
        return found is not None
    if action == "matter.read":
        assert isinstance(obj, Matter)
        found = session.scalar(select(Matter.id).where(Matter.id == obj.id, visible_matters(p)))
        return found is not None
    if not _can(session, p, action, obj):
        return False
    # 知悉范围: a restricted draft is readable only by its readers, on top of every rule above.
    if isinstance(obj, Draft):
        allowed = allowed_readers(session, obj.id)
        if allowed is not None and p.user.id not in allowed:
            return False
    return True


# rights a menu or a button offers before there is an object, and the role-table column that
# holds them (units, users and templates are managed under one right: 管理单位、用户和模板)
ROLE_TABLE_COLUMNS = {"unit.manage": "user.manage", "template.manage": "user.manage"}


def may(p: Principal, action: str) -> bool:
    """May this principal do `action` on something at all? For menus and buttons shown before
    there is an object (起草文书, 已发文书, 案卷, 检索 ...): true when one of the user's roles holds
    the right in the role table (whatever its scope); `can()` still decides each object."""
    if not p.user.active:
        return False
    column = ROLE_TABLE_COLUMNS.get(action, action)
    roles = {r for _, r in p.grants}
    if any(column in ROLE_TABLE.get(r, {}) for r in roles):
        return any(ROLE_TABLE.get(r, {}).get(column, NO) != NO for r in roles)
    return _can(None, p, action, None)  # type: ignore[arg-type]  # object-free rights only


REFUSALS = {  # how a refusal by `may` reads, on every surface
    "draft.create": "您在任何单位都没有起草文书的权限",
    "document.read": "您的角色不能阅读已发文书",
    "casefile.read": "您的角色不能查看案卷",
    "contract.register": "您无权查看聘任合同台账",
    "archive.compliance": "您无权查看合规检查",
    "archive.checks": "您无权查看档案四性检测",
    "audit.read": "只有管理员和督查人员可以查看审计日志",
    "unit.manage": "只有管理员可以管理单位",
    "user.manage": "只有管理员可以管理用户和角色",
    "template.manage": "只有管理员可以管理模板",
    "matter.read": "您的角色不能查看法律事务",
    "pool.read": "您无权查阅法律顾问人才库",
}


def _can(session: Session, p: Principal, action: str, obj: object) -> bool:
    user = p.user
    if action == "draft.create":
        assert isinstance(obj, Unit)
        return any((obj.id, r) in p.grants for r in DRAFTING_ROLES)
    if action in {"draft.read", "draft.download"}:
        assert isinstance(obj, Draft)
        if obj.status == "deleted":  # deleted by its drafter before submission: gone for all
            return False
        if obj.created_by == user.id:
            return True
        if obj.unit_id in p.readable_units():
            return True
        # reviewers of the unit see drafts in review there; anyone who acted on it keeps access
        if obj.status in {"in_review", "approved"} and any(
            (obj.unit_id, r) in p.grants for r in REVIEWER_ROLES
        ):
            return True
        if obj.status in {"in_review", "approved"} and is_co_signer(session, p, obj):
            return True
        return _reviewed(session, user, obj.id)
    if action in {"draft.edit", "draft.submit"}:
        assert isinstance(obj, Draft)
        return obj.created_by == user.id and obj.status not in {"issued", "deleted"}
    if action == "draft.review":
        # the step's role and the no-self-approval rules are checked in the workflow
        assert isinstance(obj, Draft)
        return any((obj.unit_id, r) in p.grants for r in REVIEWER_ROLES) or is_co_signer(
            session, p, obj
        )
    if action == "draft.issue":
        assert isinstance(obj, Draft)
        return any((obj.unit_id, r) in p.grants for r in ISSUING_ROLES)
    if action == "draft.restrict":
        assert isinstance(obj, Draft)
        return obj.created_by == user.id or (obj.unit_id, "office-head") in p.grants
    if action in {"unit.manage", "user.manage", "template.manage"}:
        return p.has("admin")
    if action == "audit.read":
        return p.has("admin") or p.has("inspector")
    if action == "contract.register":
        # 聘任合同台账: for those who read a unit's documents; rows come through the scope
        return bool(p.readable_units())
    if action == "normative.register":
        # 规范性文件登记簿: for those who read a unit's documents; rows come through the scope
        return bool(p.readable_units())
    if action == "normative.edit":
        # 统一登记、编号 and the later steps: the unit's legal office
        assert isinstance(obj, Unit)
        return any((obj.id, r) in p.grants for r in ISSUING_ROLES)
    if action == "casefile.create":
        assert isinstance(obj, Unit)
        return bool(
            {obj.id} & (p.units_with(*DRAFTING_ROLES) | p.subtree(p.units_with("office-head")))
        )
    if action in {"casefile.edit", "casefile.close"}:
        assert isinstance(obj, CaseFile)
        if obj.status != "open":
            return False
        keepers = p.units_with("clerk") | p.subtree(p.units_with("office-head"))
        return obj.created_by == user.id or obj.unit_id in keepers
    if action in MATTER_ACTIONS:
        return may_act_on_matter(p, action, obj)
    if action == "lawyer.profile":  # 执业信息
        return may_keep_profile(session, p, obj)
    if action == "archive.compliance":
        return p.has("inspector") or p.has("office-head")
    if action == "archive.checks":
        return p.has("admin") or p.has("inspector")
    if action in {"archive.import", "archive.ocr"}:  # import a package; recognise scans again
        return p.has("admin")
    return can_supervise(p, action, obj)


def _reviewed(session: Session, user: User, draft_id: int) -> bool:
    found = session.scalar(
        select(ReviewStep.id)
        .where(ReviewStep.draft_id == draft_id, ReviewStep.user_id == user.id)
        .limit(1)
    )
    return found is not None


def is_co_signer(session: Session, p: Principal, draft: Draft) -> bool:
    """会签: does p hold a co-signing role in a unit listed on the draft's current version?"""
    units = p.units_with(*CO_SIGN_ROLES)
    if not units:
        return False
    found = session.scalar(
        select(VersionCoSignUnit.id)
        .join(DraftVersion, DraftVersion.id == VersionCoSignUnit.version_id)
        .where(
            DraftVersion.draft_id == draft.id,
            DraftVersion.number == draft.current_version,
            VersionCoSignUnit.unit_id.in_(units),
        )
        .limit(1)
    )
    return found is not None


def is_inspector_read(p: Principal, unit_id: int) -> bool:
    """True when the read is allowed only through an inspector grant (it must be audited)."""
    other = p.units_with("clerk", "signatory") | p.subtree(p.units_with("office-head"))
    return unit_id not in other and unit_id in p.subtree(p.units_with("inspector"))


@dataclass(frozen=True)
class ReferenceScope:
    """What a draft may name in its reference fields (unit, user, adviser)."""

    units: frozenset[int]  # `unit` fields: the units of the drafting unit's government
    people_units: frozenset[int]  # `user` fields: people holding a role in these units


def reference_scope(p: Principal, drafting_unit_id: int) -> ReferenceScope:
    """Units of the drafting unit's government (its parent, or itself at the top, and every
    unit below: unit names are no secret, the 会签 picker lists them too); people of the
    drafting unit and of the units whose documents the principal already reads, so a
    drafter never learns the staff of a unit closed to them."""
    parent = next((u for u, kids in p.children.items() if drafting_unit_id in kids), None)
    units = p.subtree({parent if parent is not None else drafting_unit_id})
    people = {drafting_unit_id} | p.readable_units()
    return ReferenceScope(units=frozenset(units), people_units=frozenset(people))
