"""Counts for assessment (考核): matters handled, on time, declined with and without cause, per
lawyer, unit and period, from one function (`matter_counts`) that the supervision and
assessment package can call as it is. A deployed lawyer's matter counts for the requesting
unit (where the matter is) and, as `deployed_in` / `deployed_out`, for both units.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.access.policy import Principal, visible_matters
from app.common.clock import CHINA_TZ
from app.errors import Forbidden
from app.identity.models import Unit, User
from app.matters.models import Deployment, Matter, MatterEvent

GROUPS = ("lawyer", "unit")


def require_counts_reader(p: Principal) -> None:
    """The counts are for office heads and inspectors (rows still come through the scope)."""
    if not (p.has("office-head") or p.has("inspector")):
        raise Forbidden("只有法律顾问室负责人和督查人员可以查看统计")


@dataclass
class MatterCounts:
    """One row: a lawyer (or a unit) over the period."""

    key: int
    name: str
    handled: int = 0  # 办结 in the period
    on_time: int = 0  # of those, reported on or before the deadline (or with none)
    overdue: int = 0  # of those, reported after the deadline
    declined_with_cause: int = 0  # declines ruled justified
    declined_without_cause: int = 0  # declines ruled not justified (无正当理由)
    declined_unruled: int = 0  # declines the office head has not ruled on yet
    deployed_in: int = 0  # lawyers deployed into this unit (unit rows)
    deployed_out: int = 0  # lawyers of this unit deployed to another (unit rows; lawyer rows)
    matters: list[int] = field(default_factory=list)

    def as_dict(self) -> dict:
        return asdict(self)


def _china_day(at: dt.datetime) -> dt.date:
    return at.replace(tzinfo=dt.UTC).astimezone(CHINA_TZ).date()


def _in(day: dt.date | None, start: dt.date | None, end: dt.date | None) -> bool:
    return day is not None and (start is None or day >= start) and (end is None or day <= end)


def matter_counts(session: Session, p: Principal | None, *, by: str = "lawyer",
                  start: dt.date | None = None, end: dt.date | None = None,
                  unit_ids: set[int] | None = None) -> list[MatterCounts]:  # fmt: skip
    """Counts per lawyer (by="lawyer") or per unit (by="unit") for the period [start, end]
    (China dates, inclusive; None: open), over the matters `p` reads (None: all), optionally
    of some units only. A matter is handled when closed in the period; on time when its
    feedback came on or before its deadline; a decline counts in the period it was made, as
    its latest ruling says."""
    if by not in GROUPS:
        raise ValueError(by)
    query = select(Matter)
    if p is not None:
        query = query.where(visible_matters(p))
    if unit_ids is not None:
        query = query.where(Matter.unit_id.in_(unit_ids))
    matters = {m.id: m for m in session.scalars(query)}
    rows: dict[int, MatterCounts] = {}

    def row(key: int | None) -> MatterCounts | None:
        if key is None:
            return None
        if key not in rows:
            name = session.get(User, key).name if by == "lawyer" else session.get(Unit, key).name
            rows[key] = MatterCounts(key, name)
        return rows[key]

    for m in matters.values():
        if (
            m.status != "closed"
            or m.closed_at is None
            or not _in(_china_day(m.closed_at), start, end)
        ):
            continue
        r = row(m.lawyer_id if by == "lawyer" else m.unit_id)
        if r is None:
            continue
        r.handled += 1
        r.matters.append(m.id)
        reported = _china_day(m.reported_at) if m.reported_at else None
        if m.deadline is None or (reported is not None and reported <= m.deadline):
            r.on_time += 1
        else:
            r.overdue += 1
    events = list(session.scalars(select(MatterEvent).where(
        MatterEvent.matter_id.in_(list(matters) or [-1]),
        MatterEvent.kind.in_(("decline", "rule"))).order_by(MatterEvent.id)))  # fmt: skip
    rulings = {e.ruling_of: e.justified for e in events if e.kind == "rule"}  # latest wins
    for e in events:
        if e.kind != "decline" or not _in(_china_day(e.created_at), start, end):
            continue
        r = row(e.lawyer_id if by == "lawyer" else matters[e.matter_id].unit_id)
        ruling = rulings.get(e.id)
        if ruling is True:
            r.declined_with_cause += 1
        elif ruling is False:
            r.declined_without_cause += 1
        else:
            r.declined_unruled += 1
    for d in session.scalars(select(Deployment).where(
            Deployment.matter_id.in_(list(matters) or [-1]), Deployment.status == "deployed")):  # fmt: skip
        if d.decided_at is None or not _in(_china_day(d.decided_at), start, end):
            continue
        if by == "unit":
            row(d.requesting_unit_id).deployed_in += 1
            row(d.lawyer_unit_id).deployed_out += 1
        else:
            row(d.lawyer_id).deployed_out += 1
    return sorted(rows.values(), key=lambda r: (-r.handled, r.name, r.key))
