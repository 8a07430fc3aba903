"""The access policy: `can(session, user, action, obj)` answers every access question.

Default deny. Every view, API endpoint, CLI command, search and download asks here.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.drafting.models import Draft, IssuedDocument, ReviewStep
from app.identity.models import Unit, User

DRAFTING_ROLES = {"clerk", "adviser", "public-lawyer", "office-head"}
UNIT_READERS = {"clerk", "office-head", "signatory"}
ISSUING_ROLES = {"clerk", "office-head"}
REVIEWER_ROLES = {"adviser", "public-lawyer", "office-head", "signatory"}


@dataclass(frozen=True)
class Principal:
    """What the policy needs to know about a user, resolved once per request."""

    user: User
    grants: frozenset[tuple[int, str]]  # (unit_id, role)
    children: dict[int, list[int]]

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
        direct = self.units_with("clerk", "signatory")
        heads = self.subtree(self.units_with("office-head"))
        inspected = self.subtree(self.units_with("inspector"))
        return direct | heads | inspected

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
    return Principal(user=user, grants=grants, children=children)


def _reviewed(session: Session, user: User, draft_id: int) -> bool:
    return (
        session.scalar(
            select(ReviewStep.id)
            .where(ReviewStep.draft_id == draft_id, ReviewStep.user_id == user.id)
            .limit(1)
        )
        is not None
    )


def _co_signer(session: Session, p: Principal, draft: Draft) -> bool:
    """会签 (issue 4): office heads and signatories of a unit listed on the draft to co-sign."""
    from app.drafting.drafts import is_co_signer

    return is_co_signer(session, p, draft)


def can(session: Session, p: Principal, action: str, obj: object = None) -> bool:
    """May this principal do `action` on `obj`? Default deny."""
    if not _can(session, p, action, obj):
        return False
    # 知悉范围: a restricted draft or document is readable only by the named users, on top of
    # every rule above (inspectors included).
    draft_id = (
        obj.id
        if isinstance(obj, Draft)
        else obj.draft_id
        if isinstance(obj, IssuedDocument)
        else None
    )
    if draft_id is not None:
        from app.drafting.restrictions import allowed_readers

        allowed = allowed_readers(session, draft_id)
        if allowed is not None and p.user.id not in allowed:
            return False
    return True


def _can(session: Session, p: Principal, action: str, obj: object) -> bool:
    user = p.user
    if not user.active:
        return False
    if action == "draft.create":
        assert isinstance(obj, Unit)
        return any((obj.id, r) in p.grants for r in DRAFTING_ROLES)
    if action in {"draft.read", "draft.download"}:
        assert isinstance(obj, Draft)
        if obj.created_by == user.id:
            return True
        if obj.unit_id in p.readable_units():
            return True
        # reviewers of the unit see drafts in review there; anyone who acted on it keeps access
        if obj.status in {"in_review", "approved"} and any(
            (obj.unit_id, r) in p.grants for r in REVIEWER_ROLES
        ):
            return True
        if obj.status in {"in_review", "approved"} and _co_signer(session, p, obj):
            return True
        return _reviewed(session, user, obj.id)
    if action in {"draft.edit", "draft.submit"}:
        assert isinstance(obj, Draft)
        return obj.created_by == user.id and obj.status != "issued"
    if action == "draft.review":
        # the step's role and the no-self-approval rules are checked in the workflow
        assert isinstance(obj, Draft)
        return any((obj.unit_id, r) in p.grants for r in REVIEWER_ROLES) or _co_signer(
            session, p, obj
        )
    if action == "draft.issue":
        assert isinstance(obj, Draft)
        return obj.created_by == user.id or any((obj.unit_id, r) in p.grants for r in ISSUING_ROLES)
    if action in {"document.read", "document.download"}:
        assert isinstance(obj, IssuedDocument)
        if obj.unit_id in p.readable_units():
            return True
        if obj.issued_by == user.id:
            return True
        draft = session.get(Draft, obj.draft_id)
        if draft is not None and draft.created_by == user.id:
            return True
        return _reviewed(session, user, obj.draft_id)
    if action in {"unit.manage", "user.manage", "template.manage"}:
        return p.has("admin")
    if action == "audit.read":
        return p.has("admin") or p.has("inspector")
    if action == "contract.register":
        # 聘任合同台账: for those who read a unit's documents; rows are checked one by one
        return bool(p.readable_units())
    # --- case files (issue 7): rules live in app/archive/casefiles.py until folded in here ---
    if action.startswith(("casefile.", "archive.")):
        from app.casefiles.service import casefile_policy

        return casefile_policy(session, p, action, obj)
    return False


def is_inspector_read(p: Principal, unit_id: int) -> bool:
    """True when the read is allowed only through an inspector grant (it must be audited)."""
    other = p.units_with("clerk", "signatory") | p.subtree(p.units_with("office-head"))
    return unit_id not in other and unit_id in p.subtree(p.units_with("inspector"))


def search_scope(session: Session, p: Principal):
    """The search engine's scope for a user: the units they read, their id for restricted
    documents. Applied inside the engine, so results, counts, facets and snippets agree."""
    from app.search import SearchScope

    readable = p.readable_units() if p.user.active else set()
    all_units = {u.id: u.code for u in session.scalars(select(Unit))}
    if p.has("inspector") and readable >= set(all_units):
        return SearchScope(units=None, user_id=p.user.id)
    return SearchScope(
        units=frozenset(all_units[i] for i in readable if i in all_units), user_id=p.user.id
    )


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
    people = {drafting_unit_id} | (p.readable_units() if p.user.active else set())
    return ReferenceScope(units=frozenset(units), people_units=frozenset(people))
