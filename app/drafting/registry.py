"""What a draft's reference fields may name now, read from casefile's registry.

`unit`: the units of the drafting unit's government; `user`: active people holding the
field's role (in the drafting unit with `same_unit`); `adviser`: the 乙方 of the drafting
unit's engagement contracts in force (履行中 or 即将到期) today. Scoped by
`policy.reference_scope`; the web form, the API and the CLI all ask here through
`validate(..., refs)`, and the form lists the same choices.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.access.policy import Principal, reference_scope
from app.access.readers import allowed_readers
from app.drafting.models import IssuedDocument
from app.identity.models import RoleGrant, Unit, User
from app.registers.contracts import contract_register
from app.templating.references import RefChoice
from app.templating.render import chinese_date
from app.templating.schema import FieldSpec

IN_FORCE = ("active", "expiring")


class RegistryReferences:
    """`References` for a draft of `unit` made by `p`, evaluated on `today` (China time)."""

    def __init__(self, session: Session, p: Principal, unit: Unit, today: dt.date | None = None):
        self.session, self.p, self.unit, self.today = session, p, unit, today
        self.scope = reference_scope(p, unit.id)
        self._cache: dict[tuple, list[RefChoice]] = {}

    def choices(self, spec: FieldSpec) -> list[RefChoice]:
        key = (spec.type, spec.role, spec.same_unit)
        if key not in self._cache:
            found = {
                "unit": self._units,
                "user": self._users,
                "adviser": self._advisers,
            }[spec.type](spec)
            unique: dict[str, RefChoice] = {}
            for choice in found:
                unique.setdefault(choice.value, choice)  # a name is stored once, first wins
            self._cache[key] = list(unique.values())
        return self._cache[key]

    def _units(self, spec: FieldSpec) -> list[RefChoice]:
        units = self.session.scalars(
            select(Unit).where(Unit.id.in_(self.scope.units)).order_by(Unit.code)
        )
        return [RefChoice(u.name, u.name) for u in units]

    def _users(self, spec: FieldSpec) -> list[RefChoice]:
        in_units = {self.unit.id} if spec.same_unit else self.scope.people_units
        query = (
            select(User.name, Unit.name)
            .join(RoleGrant, RoleGrant.user_id == User.id)
            .join(Unit, Unit.id == RoleGrant.unit_id)
            .where(
                User.active.is_(True), RoleGrant.unit_id.in_(in_units), RoleGrant.role != "admin"
            )
            .order_by(Unit.code, User.name)
        )
        if spec.role:
            query = query.where(RoleGrant.role == spec.role)
        rows = self.session.execute(query).all()
        if spec.same_unit:
            return [RefChoice(name, name) for name, _ in rows]
        return [RefChoice(name, f"{name}（{unit}）") for name, unit in rows]

    def _advisers(self, spec: FieldSpec) -> list[RefChoice]:
        # every contract of the drafting unit, then 知悉范围: a restricted contract's adviser
        # is offered only to its readers
        register = contract_register(self.session, None, today=self.today, unit_code=self.unit.code)
        out = []
        for e in register.entries:
            if e.unit_id != self.unit.id or e.status not in IN_FORCE or not e.adviser:
                continue
            doc = self.session.get(IssuedDocument, e.document_id)
            readers = allowed_readers(self.session, doc.draft_id)
            if readers is not None and self.p.user.id not in readers:
                continue
            until = f"，至{chinese_date(e.end)}" if e.end else ""
            out.append(RefChoice(e.adviser, f"{e.adviser}（{e.service_type}{until}）"))
        return out
