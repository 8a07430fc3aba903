"""The inspector's dashboard (督导考核看板) and what each role's home page shows first.

The dashboard puts together, for the units the inspector supervises: the quarter's ranking
(units × indicators, each cell drilling down to its records), the trend of the scores over the
last four quarters, the units without an adviser in force, contracts about to expire and
filings overdue. Reading it is an inspector's read, so it is audited.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app import audit
from app.access.policy import Principal, can, supervised_units
from app.common.clock import today_in_china
from app.identity.models import Unit
from app.registers.contracts import ContractEntry, ContractRegister, contract_register
from app.supervision import charts, reports
from app.supervision.common import period, quarter_bounds
from app.supervision.filing import FilingRow, filing_rows
from app.supervision.models import Assessment
from app.supervision.ranking import (
    INDICATORS,
    Ranking,
    gather,
    quarter_ranking,
    ranked_units,
    units_without_adviser,
)
from app.supervision.records import collect


def current_quarter(today: dt.date) -> tuple[int, int]:
    return today.year, (today.month - 1) // 3 + 1


def previous_quarters(year: int, quarter: int, n: int) -> list[tuple[int, int]]:
    out = []
    for _ in range(n):
        out.append((year, quarter))
        year, quarter = (year - 1, 4) if quarter == 1 else (year, quarter - 1)
    return out[::-1]


@dataclass
class Dashboard:
    ranking: Ranking
    trend_labels: list[str]
    trend: list[tuple[str, list[float]]]
    uncovered: list[Unit]
    expiring: list[ContractEntry]
    overdue: list[FilingRow]
    bars_svg: str
    trend_svg: str
    report_period: reports.Period | None = None  # the half-yearly report due next
    report_rows: list[reports.Submission] | None = None  # who has submitted it

    def as_dict(self) -> dict:
        return {"ranking": self.ranking.as_dict(),
                "trend": {"quarters": self.trend_labels,
                          "units": {name: [round(v, 2) for v in values] for name, values in self.trend}},
                "without_adviser": [u.code for u in self.uncovered],
                "expiring": [e.as_dict() for e in self.expiring],
                "overdue_filings": [f.as_dict() for f in self.overdue],
                "reports": {"period": self.report_period.as_dict() if self.report_period else None,
                            "units": [r.as_dict() for r in self.report_rows or []]}}  # fmt: skip


def dashboard(session: Session, p: Principal, year=None, quarter=None, *,
              today: dt.date | None = None, via: str = "", remote_addr: str = "") -> Dashboard:  # fmt: skip
    today = today or today_in_china()
    if year in (None, "") and quarter in (None, ""):
        year, quarter = current_quarter(today)
    y, q, _, _ = period(year, quarter if quarter not in (None, "") else 0)
    quarters = previous_quarters(y, q, 4)
    first, last = quarter_bounds(*quarters[0])[0], quarter_bounds(y, q)[1]
    units, facts = gather(session, p, first, last, today)  # one gathering for four quarters
    history = [quarter_ranking(session, p, qy, qq, today=today, facts=(units, facts))
               for qy, qq in quarters]  # fmt: skip
    ranking = history[-1]
    names = [r.unit.name for r in ranking.rows]
    scores = {name: [] for name in names}
    for past in history:
        by_name = {r.unit.name: r.score for r in past.rows}
        for name in names:
            scores[name].append(by_name.get(name, 0.0))
    labels = [f"{qy}年第{qq}季度" for qy, qq in quarters]
    ids = {u.id for u in units}
    register = facts.register
    expiring = [e for e in register.entries
                if e.unit_id in ids and e.status == "expiring" and not e.renewed_by]  # fmt: skip
    overdue = [f for f in filing_rows(session, p, today=today, units=ids, register=register)
               if f.overdue]  # fmt: skip
    board = Dashboard(
        ranking=ranking, trend_labels=labels, trend=list(scores.items()),
        uncovered=units_without_adviser(session, p, ids, today, register), expiring=expiring,
        overdue=overdue,
        bars_svg=charts.score_bars([(r.unit.name, r.score, r.bottom) for r in ranking.rows]),
        trend_svg=charts.trend_lines(labels, list(scores.items())),
    )  # fmt: skip
    board.report_period, board.report_rows = reports.submissions(session, p, today=today)
    audit.record(session, "supervision.dashboard", actor=p.user,
                 detail={"year": ranking.year, "quarter": ranking.quarter,
                         "units": len(ranking.rows), "via": via}, remote_addr=remote_addr)  # fmt: skip
    return board


def ranking_table(ranking: Ranking) -> tuple[list[str], list[list]]:
    columns = ["名次", "单位", *INDICATORS.values(), "得分", "是否后5位"]
    rows = [[r.rank, r.unit.name, *(r.raw[k] for k in INDICATORS), round(r.score, 2),
             "是" if r.bottom else ""] for r in ranking.rows]  # fmt: skip
    return columns, rows


@dataclass
class HomeNotes:
    """What a role needs first, in one place for the home page's partial."""

    is_inspector: bool = False
    uncovered: list[Unit] | None = None  # inspector: units without an adviser in force
    to_register: int = 0  # inspector: filings waiting for the bureau
    overdue: int = 0  # filings overdue (inspector: in the subtree; unit: its own)
    returned: int = 0  # unit: filings returned to it
    own_unit_uncovered: list[Unit] | None = None  # clerk / office head: their unit
    to_sign: int = 0  # signatory: assessments awaiting confirmation
    my_services: int | None = None  # adviser / public lawyer: services this year
    reports_due: list | None = None  # the half-yearly reports not yet submitted (reports.Reminder)


def home_notes(session: Session, p: Principal, today: dt.date | None = None,
               register: ContractRegister | None = None) -> HomeNotes:  # fmt: skip
    """`register`: the contracts register p reads today, if the caller has it already (the
    home page's reminder); otherwise read once here, for every note that needs it."""
    today = today or (register.today if register is not None else today_in_china())
    notes = HomeNotes()

    def contracts() -> ContractRegister:
        nonlocal register
        if register is None:
            register = contract_register(session, p, today=today)
        return register

    if can(session, p, "supervision.dashboard"):
        notes.is_inspector = True
        units = supervised_units(p)
        ranked = {u.id for u in ranked_units(session, p)}
        notes.uncovered = units_without_adviser(session, p, ranked, today, contracts())
        rows = filing_rows(session, p, today=today, units=units, register=contracts())
        notes.to_register = sum(1 for r in rows if r.state == "pending")
        notes.overdue = sum(1 for r in rows if r.overdue)
        notes.reports_due = reports.reminders(session, p, ranked, today)
    own = p.units_with("clerk", "office-head")
    if own:
        rows = filing_rows(session, p, today=today, units=own, register=contracts())
        notes.returned = sum(1 for r in rows if r.state == "returned")
        if not notes.is_inspector:
            notes.overdue = sum(1 for r in rows if r.overdue)
        notes.own_unit_uncovered = units_without_adviser(session, p, own, today, contracts())
        if not notes.is_inspector:  # the unit's half-yearly report, for its clerks and head
            notes.reports_due = reports.reminders(session, p, own, today)
    signing = p.units_with("signatory")
    if signing:
        notes.to_sign = session.scalar(select(func.count()).select_from(Assessment).where(
            Assessment.unit_id.in_(signing), Assessment.state == "draft")) or 0  # fmt: skip
    mine = p.units_with("adviser", "public-lawyer")
    if mine:
        start = dt.date(today.year, 1, 1)
        keys = {f"user:{p.user.id}"}
        notes.my_services = sum(1 for r in collect(session, mine, start, today)
                                if r.subject_key in keys or r.subject_name == p.user.name)  # fmt: skip
    return notes
