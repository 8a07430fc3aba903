"""The 督导考核 rules of the access policy: whose adviser pool (人才库) a user reads, which
units' filings, work records, assessments and ranking an inspector keeps, and the supervision
actions of can() (`can_supervise`). Kept beside policy.py, which hands these actions here.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from app.drafting.models import IssuedDocument
from app.identity.models import Unit

if TYPE_CHECKING:
    from app.access.policy import Principal

POOL_READERS = ("clerk", "office-head", "signatory", "inspector")
SERVICE_RECORDERS = ("clerk", "adviser", "public-lawyer")


def supervised_units(p: Principal) -> set[int]:
    """Units whose pool, filings and ranking p keeps: an inspector's subtree."""
    return p.subtree(p.units_with("inspector")) if p.user.active else set()


def pool_keepers(p: Principal) -> set[int]:
    """Units whose adviser pool (人才库) p reads: those at or above a unit where p holds a
    reading role (a unit chooses from its government's pool), and an inspector's subtree."""
    if not p.user.active:
        return set()
    parents = {kid: parent for parent, kids in p.children.items() for kid in kids}
    out = set(supervised_units(p))
    for unit in p.units_with(*POOL_READERS):
        while unit is not None and unit not in out:
            out.add(unit)
            unit = parents.get(unit)
    return out


def can_supervise(p: Principal, action: str, obj: object) -> bool:
    if action == "pool.read":
        return bool(p.units_with(*POOL_READERS))
    if action == "supervision.dashboard":
        return p.has("inspector")
    if action in {"pool.manage", "filing.register", "filing.submit"}:
        assert isinstance(obj, Unit | IssuedDocument)
        unit_id = obj.id if isinstance(obj, Unit) else obj.unit_id
        if action == "filing.submit":  # the unit's legal office sends its contracts
            return unit_id in p.units_with("clerk") | p.subtree(p.units_with("office-head"))
        return unit_id in supervised_units(p)
    if action == "service.record":
        assert isinstance(obj, Unit)
        return any((obj.id, r) in p.grants for r in SERVICE_RECORDERS) or obj.id in p.subtree(
            p.units_with("office-head")
        )
    if action == "assessment.conduct":
        assert isinstance(obj, Unit)
        return (obj.id, "office-head") in p.grants
    if action == "assessment.sign":
        assert isinstance(obj, Unit)
        return (obj.id, "signatory") in p.grants
    return False
