"""季度考核排名: the units an inspector supervises, ranked every quarter on weighted indicators,
with the bottom five marked; the coverage check (a unit without an adviser in force); and the
drill-down to the records behind every number.

Each indicator is a value in [0, 1] per unit: shares as they are, counts divided by the
highest count among the ranked units. The score is 100 × Σ weight × value / Σ weight. Every
number comes from the archive and the supervision records as the principal reads them.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session

from app import audit
from app.access.policy import Principal, can, supervised_units
from app.common.clock import today_in_china
from app.drafting.models import IssuedDocument
from app.errors import Forbidden
from app.identity.models import RoleGrant, Unit, User, all_units
from app.registers.contracts import ContractEntry, ContractRegister, contract_register
from app.supervision import counts
from app.supervision.common import integer, period, quarter_bounds, refuse, unit_by_code
from app.supervision.filing import filing_rows
from app.supervision.models import RankingWeight
from app.supervision.records import collect, template_ids
from app.templating.models import TemplateVersion

INDICATORS = {
    "coverage": "法律顾问覆盖",
    "public_lawyers": "公职律师配备",
    "legality_reviews": "合法性审查",
    "filing_on_time": "合同按时备案",
    "services": "服务次数",
}
DEFAULT_WEIGHTS = {"coverage": 30, "public_lawyers": 10, "legality_reviews": 20,
                   "filing_on_time": 20, "services": 20}  # fmt: skip
COUNTED = ("legality_reviews", "services")  # counted in the database, listed on a drill-down
BOTTOM = 5  # 季度考核排名后5位


def ranked_units(session: Session, p: Principal) -> list[Unit]:
    """The units an inspector ranks: those below their grants (a grant on a unit with nothing
    below it ranks that unit)."""
    if not can(session, p, "supervision.dashboard"):
        raise Forbidden("您无权查看督导考核看板")
    scope = supervised_units(p)
    below = scope - p.units_with("inspector") or scope
    return [u for u in all_units(session) if u.id in below]


def _weights_unit(p: Principal) -> int:
    return min(p.units_with("inspector"))


def weights(session: Session, p: Principal) -> dict[str, int]:
    if not can(session, p, "supervision.dashboard"):
        raise Forbidden("您无权查看督导考核看板")
    stored = dict(session.execute(select(RankingWeight.indicator, RankingWeight.weight).where(
        RankingWeight.unit_id == _weights_unit(p))).all())  # fmt: skip
    return {k: stored.get(k, v) for k, v in DEFAULT_WEIGHTS.items()}


def set_weights(
    session: Session, p: Principal, data: dict, remote_addr: str = ""
) -> dict[str, int]:
    """The inspector sets each indicator's weight (0–100; at least one above 0)."""
    if not can(session, p, "supervision.dashboard"):
        raise Forbidden("您无权设置考核权重")
    new = {k: integer(data.get(k, DEFAULT_WEIGHTS[k]), k, f"{label}权重", 0, 100)
           for k, label in INDICATORS.items()}  # fmt: skip
    if not any(new.values()):
        raise refuse("coverage", "权重", "至少一项指标的权重应大于 0")
    unit_id = _weights_unit(p)
    rows = {w.indicator: w for w in session.scalars(
        select(RankingWeight).where(RankingWeight.unit_id == unit_id))}  # fmt: skip
    for key, value in new.items():
        row = rows.get(key) or RankingWeight(unit_id=unit_id, indicator=key)
        row.weight, row.updated_by = value, p.user.id
        session.add(row)
    session.flush()
    audit.record(session, "ranking.weights", actor=p.user,
                 detail={INDICATORS[k]: v for k, v in new.items()}, remote_addr=remote_addr)  # fmt: skip
    return new


@dataclass
class RankRow:
    unit: Unit
    raw: dict[str, str]  # what each indicator shows (a share, a count)
    values: dict[str, float]  # in [0, 1]
    score: float = 0.0
    rank: int = 0
    bottom: bool = False

    def as_dict(self) -> dict:
        return {"unit": self.unit.code, "unit_name": self.unit.name, "raw": self.raw,
                "values": {k: round(v, 4) for k, v in self.values.items()},
                "score": round(self.score, 2), "rank": self.rank, "bottom": self.bottom}  # fmt: skip


@dataclass
class Ranking:
    year: int
    quarter: int
    weights: dict[str, int]
    rows: list[RankRow] = field(default_factory=list)

    @property
    def label(self) -> str:
        return f"{self.year}年第{self.quarter}季度"

    def as_dict(self) -> dict:
        return {"year": self.year, "quarter": self.quarter, "weights": self.weights,
                "indicators": INDICATORS, "rows": [r.as_dict() for r in self.rows]}  # fmt: skip


def _covered_days(contracts: list[ContractEntry], start: dt.date, end: dt.date) -> int:
    """Days between `start` and `end` on which at least one of the contracts was in its term."""
    spans = sorted((max(c.start, start), min(c.end, end)) for c in contracts
                   if c.start and c.end and max(c.start, start) <= min(c.end, end))  # fmt: skip
    days, reach = 0, None  # reach: the last day counted so far
    for lo, hi in spans:
        if reach is not None and lo <= reach:
            lo = reach + dt.timedelta(days=1)
        if lo <= hi:
            days += (hi - lo).days + 1
            reach = hi
    return days


def opinion_rows(session: Session, units: set[int], start: dt.date, end: dt.date) -> list:
    """The legality-review opinions issued in `units` between `start` and `end`: what a
    drill-down lists (counts.opinion_counts counts the same)."""
    return session.execute(
        select(IssuedDocument.id, IssuedDocument.unit_id, IssuedDocument.number,
               IssuedDocument.title, IssuedDocument.issue_date)
        .join(TemplateVersion, TemplateVersion.id == IssuedDocument.template_version_id)
        .where(TemplateVersion.template_id.in_(template_ids(session, "legality-review-opinion")),
               IssuedDocument.unit_id.in_(units or {-1}), IssuedDocument.issue_date >= start,
               IssuedDocument.issue_date <= end)
        .order_by(IssuedDocument.issue_date)
    ).all()  # fmt: skip


def _public_lawyers(session: Session, units: set[int]) -> list:
    return session.execute(
        select(RoleGrant.unit_id, User.id, User.name).join(User, User.id == RoleGrant.user_id)
        .where(RoleGrant.role == "public-lawyer", RoleGrant.unit_id.in_(units or {-1}), User.active)
    ).all()  # fmt: skip


class Facts:
    """What the rankings of the quarters between `start` and `end` read, gathered once (the
    dashboard ranks four quarters from one gathering): the contracts, filings and public
    lawyers of the ranked units as rows (a few per unit), the opinions and services as counts
    per unit and quarter, counted in the database (app/supervision/counts.py)."""

    def __init__(self, session: Session, p: Principal, units: list[Unit], start: dt.date,
                 end: dt.date, today: dt.date, register: ContractRegister | None = None):  # fmt: skip
        self.session, self.ids, self.today = session, {u.id for u in units}, today
        self.register = register or contract_register(session, p, today=today)
        self.contracts = [c for c in self.register.entries if c.unit_id in self.ids]
        self.filings = [f for f in filing_rows(session, p, today=today, units=self.ids,
                                               register=self.register)
                        if start <= f.signed_on <= end]  # fmt: skip
        self.lawyers = _public_lawyers(session, self.ids)
        self._counts: dict[tuple[dt.date, dt.date], dict[str, dict[int, int]]] = {}
        self.count_quarters(quarters_between(start, end))

    def count_quarters(self, periods: list[tuple[dt.date, dt.date]]) -> None:
        """Count opinions and services of every period not counted yet, one query a source."""
        todo = [p for p in periods if p not in self._counts]
        if not todo:
            return
        opinions = counts.opinion_counts(self.session, self.ids, todo)
        services = counts.service_counts(self.session, self.ids, todo)
        for i, p in enumerate(todo):
            self._counts[p] = {"legality_reviews": opinions[i], "services": services[i]}

    def count(self, indicator: str, unit_id: int, start: dt.date, end: dt.date) -> int:
        self.count_quarters([(start, end)])
        return self._counts[start, end][indicator].get(unit_id, 0)

    def of(self, unit_id: int, start: dt.date, end: dt.date) -> dict:
        """The rows behind the coverage, public-lawyer and filing indicators of one unit."""
        by = self._by_unit()
        contracts = [c for c in by["contracts"].get(unit_id, ()) if c.start and c.end
                     and c.start <= end and c.end >= start]  # fmt: skip
        filings = [f for f in by["filings"].get(unit_id, ()) if start <= f.signed_on <= end
                   and (f.state == "registered" or f.due_on < self.today)]  # fmt: skip
        return {"coverage": contracts, "public_lawyers": list(by["lawyers"].get(unit_id, ())),
                "filing_on_time": filings}  # fmt: skip

    def _by_unit(self) -> dict[str, dict[int, list]]:
        """Each list grouped by unit once, so a ranking of n units is not n scans of it."""
        if getattr(self, "_grouped", None) is None:
            grouped: dict[str, dict[int, list]] = {k: {} for k in (
                "contracts", "filings", "lawyers")}  # fmt: skip
            for key, items, unit in (
                ("contracts", self.contracts, lambda x: x.unit_id),
                ("filings", self.filings, lambda x: x.unit_id),
                ("lawyers", self.lawyers, lambda x: x[0]),
            ):  # fmt: skip
                for item in items:
                    grouped[key].setdefault(unit(item), []).append(item)
            self._grouped = grouped
        return self._grouped


def quarters_between(start: dt.date, end: dt.date) -> list[tuple[dt.date, dt.date]]:
    """The calendar quarters from the one holding `start` to the one holding `end`."""
    out, y, q = [], start.year, (start.month - 1) // 3 + 1
    while (y, q) <= (end.year, (end.month - 1) // 3 + 1):
        out.append(quarter_bounds(y, q))
        y, q = (y + 1, 1) if q == 4 else (y, q + 1)
    return out


def gather(session: Session, p: Principal, start: dt.date, end: dt.date,
           today: dt.date | None = None) -> tuple[list[Unit], Facts]:  # fmt: skip
    """The ranked units and their facts between `start` and `end`."""
    units = ranked_units(session, p)
    return units, Facts(session, p, units, start, end, today or today_in_china())


def quarter_ranking(session: Session, p: Principal, year, quarter, *,
                    today: dt.date | None = None, facts: tuple[list[Unit], Facts] | None = None,
                    ) -> Ranking:  # fmt: skip
    y, q, start, end = period(year, quarter if quarter not in (None, "") else 0)
    today = today or today_in_china()
    units, found = facts or gather(session, p, start, end, today)
    w = weights(session, p)
    until = min(end, today)
    days = max(0, (until - start).days + 1)
    per_unit = {u.id: found.of(u.id, start, end) for u in units}
    for u in units:
        per_unit[u.id] |= {k: found.count(k, u.id, start, end) for k in COUNTED}
    most = {k: max([per_unit[u.id][k] for u in units] + [0]) for k in COUNTED}
    ranking = Ranking(year=y, quarter=q, weights=w)
    for u in units:
        f = per_unit[u.id]
        covered = _covered_days(f["coverage"], start, until) if days else 0
        on_time = sum(1 for x in f["filing_on_time"] if x.on_time)
        due = len(f["filing_on_time"])
        values = {
            "coverage": covered / days if days else 0.0,
            "public_lawyers": 1.0 if f["public_lawyers"] else 0.0,
            "legality_reviews": f["legality_reviews"] / most["legality_reviews"] if most["legality_reviews"] else 0.0,
            "filing_on_time": on_time / due if due else 1.0,
            "services": f["services"] / most["services"] if most["services"] else 0.0,
        }  # fmt: skip
        raw = {
            "coverage": f"{round(100 * values['coverage'])}%",
            "public_lawyers": f"{len(f['public_lawyers'])} 人",
            "legality_reviews": f"{f['legality_reviews']} 件",
            "filing_on_time": f"{on_time}/{due}" if due else "无应备案",
            "services": f"{f['services']} 次",
        }
        total = sum(w.values())
        score = 100 * sum(w[k] * values[k] for k in INDICATORS) / total if total else 0.0
        ranking.rows.append(RankRow(unit=u, raw=raw, values=values, score=score))
    ranking.rows.sort(key=lambda r: (-round(r.score, 6), r.unit.code))
    marked = min(BOTTOM, len(ranking.rows) // 2)  # a small county is never all "bottom"
    for i, row in enumerate(ranking.rows, start=1):
        row.rank = i
        row.bottom = i > len(ranking.rows) - marked
    return ranking


DRILL_COLUMNS = {
    "coverage": ["发文字号", "法律顾问", "顾问类型", "聘任起始日期", "聘任截止日期", "状态"],
    "public_lawyers": ["姓名"],
    "legality_reviews": ["发文字号", "标题", "成文日期"],
    "filing_on_time": [
        "发文字号",
        "法律顾问",
        "签订日期",
        "备案期限",
        "备案状态",
        "备案号",
        "备案日期",
    ],
    "services": ["日期", "类型", "法律顾问或者公职律师", "事项", "用时（小时）", "来源"],
}


@dataclass(frozen=True)
class Drill:
    unit: Unit
    indicator: str
    label: str  # 2026年第3季度
    columns: list[str]
    rows: list[list[str]]
    links: list[int | None]  # the issued document behind each row, if any

    def as_dict(self) -> dict:
        return {"unit": self.unit.code, "unit_name": self.unit.name, "indicator": self.indicator,
                "indicator_label": INDICATORS[self.indicator], "period": self.label,
                "columns": self.columns, "rows": self.rows, "documents": self.links}  # fmt: skip


def drill(session: Session, p: Principal, unit_code: str, indicator: str, year, quarter, *,
          today: dt.date | None = None, via: str = "", remote_addr: str = "") -> Drill:  # fmt: skip
    """The records behind one cell of the ranking (audited: an inspector's read)."""
    ranked = {u.id for u in ranked_units(session, p)}  # a refusal before any complaint
    if indicator not in INDICATORS:
        raise refuse("indicator", "指标", "指标应为：" + "、".join(INDICATORS.values()))
    y, q, _, _ = period(year, quarter if quarter not in (None, "") else 0)
    unit = unit_by_code(session, unit_code)
    if unit.id not in ranked:
        raise Forbidden(f"“{unit.name}”不在您的督导范围内")
    _, _, start, end = period(y, q)
    if indicator == "legality_reviews":
        items = opinion_rows(session, {unit.id}, start, end)
    elif indicator == "services":
        items = collect(session, {unit.id}, start, end)
    else:
        facts = Facts(session, p, [unit], start, end, today or today_in_china())
        items = facts.of(unit.id, start, end)[indicator]
    rows: list[list[str]] = []
    links: list[int | None] = []
    for x in items:
        if indicator == "coverage":
            rows.append(
                [x.number, x.adviser, x.service_type, str(x.start), str(x.end), x.status_label]
            )
            links.append(x.document_id)
        elif indicator == "public_lawyers":
            rows.append([x[2]])
            links.append(None)
        elif indicator == "legality_reviews":
            rows.append([x[2], x[3], str(x[4])])
            links.append(x[0])
        elif indicator == "filing_on_time":
            rows.append([x.number, x.adviser, str(x.signed_on), str(x.due_on), x.state_label,
                         x.filing_number, str(x.filed_on or "")])  # fmt: skip
            links.append(x.document_id)
        else:
            rows.append([str(x.served_on), x.kind_label, x.subject_name, x.matter,
                         str(x.hours or ""), x.source_label])  # fmt: skip
            links.append(int(x.ref.split(":")[1]) if x.ref.startswith("document:") else None)
    audit.record(session, "supervision.drill", actor=p.user,
                 detail={"unit": unit.code, "indicator": INDICATORS[indicator], "year": y, "quarter": q,
                         "results": len(rows), "via": via}, remote_addr=remote_addr)  # fmt: skip
    return Drill(unit, indicator, f"{y}年第{q}季度", DRILL_COLUMNS[indicator], rows, links)


def units_without_adviser(session: Session, p: Principal, units: set[int],
                          today: dt.date | None = None,
                          register: ContractRegister | None = None) -> list[Unit]:  # fmt: skip
    """不断档: the units among `units` with no engagement contract in force today."""
    register = register or contract_register(session, p, today=today or today_in_china())
    covered = {c.unit_id for c in register.entries if c.status in {"active", "expiring"}}
    return [u for u in all_units(session) if u.id in units and u.id not in covered]
