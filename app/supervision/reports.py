"""法律顾问工作情况报告: the half-yearly report each unit sends the justice bureau (上半年 by
30 June, 下半年 by 20 December), a document of the `adviser-work-report` type.

casefile fills the report's figures and tables from the period's records (`figures`): the
advisers in force (the contracts register), public lawyers, contracts signed and filed, the
services (records.collect: reviews, opinions, commission letters and hand-entered ones), the
legality-review opinions issued and the matters closed, for the unit and the units below it,
with one row per unit. The unit writes the narrative sections; the report then goes through
its review chain and is issued like any document. The inspector sees, per period, which units
have submitted (`submissions`); home pages remind of the deadline (`reminders`).
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.access.policy import Principal, can, visible_documents
from app.common.clock import today_in_china
from app.container import Casefile
from app.drafting import drafts
from app.drafting.models import Draft, DraftVersion, IssuedDocument
from app.errors import Forbidden
from app.identity.models import RoleGrant, Unit, User
from app.matters.stats import matter_counts
from app.registers.contracts import ENDED, ContractEntry, contract_register
from app.supervision.common import integer, refuse, unit_by_code
from app.supervision.filing import filing_rows
from app.supervision.ranking import opinion_rows, ranked_units
from app.supervision.records import KIND_LABELS, MANUAL_KINDS, collect, template_ids
from app.templating.models import TemplateVersion

REPORT = "adviser-work-report"  # the template (and search type) of the report
HALVES = ("上半年", "下半年")
DUE = {1: (6, 30), 2: (12, 20)}  # month, day: 上半年 by 30 June, 下半年 by 20 December
REMIND_DAYS = 30  # home pages remind this many days before the deadline
NARRATIVE = ("work_summary", "problems", "next_steps", "contact_name", "contact_phone", "cc")
STATE_LABELS = {"submitted": "已报送", "in_review": "审核中", "drafting": "起草中",
                "missing": "未报送"}  # fmt: skip


@dataclass(frozen=True)
class Period:
    year: int
    half: int  # 1 上半年, 2 下半年

    @property
    def label(self) -> str:
        return f"{self.year}年{HALVES[self.half - 1]}"

    @property
    def start(self) -> dt.date:
        return dt.date(self.year, 1 if self.half == 1 else 7, 1)

    @property
    def end(self) -> dt.date:
        return dt.date(self.year, 6, 30) if self.half == 1 else dt.date(self.year, 12, 31)

    @property
    def due(self) -> dt.date:
        return dt.date(self.year, *DUE[self.half])

    def previous(self) -> Period:
        return Period(self.year, 1) if self.half == 2 else Period(self.year - 1, 2)

    def as_dict(self) -> dict:
        return {"year": self.year, "half": self.half, "label": self.label,
                "start": self.start.isoformat(), "end": self.end.isoformat(),
                "due": self.due.isoformat()}  # fmt: skip


def parse_period(year, half) -> Period:
    """The period from user input: a year and 1, 2, 上半年 or 下半年 (refused by field name)."""
    y = integer(year, "year", "报告年度", 2000, 2100)
    text = str(half).strip() if half is not None else ""
    if text in HALVES:
        return Period(y, HALVES.index(text) + 1)
    if text in ("1", "2"):
        return Period(y, int(text))
    raise refuse("half", "报告期", "报告期应为上半年（1）或者下半年（2）")


def current_period(today: dt.date) -> Period:
    """The period whose report is due next: 上半年 until 30 June, 下半年 until 20 December."""
    if today <= Period(today.year, 1).due:
        return Period(today.year, 1)
    if today <= Period(today.year, 2).due:
        return Period(today.year, 2)
    return Period(today.year + 1, 1)


def _fmt_hours(value: Decimal) -> str:
    text = str(value.quantize(Decimal("0.1")))
    return text[:-2] if text.endswith(".0") else text


def _cn_date(day: dt.date) -> str:
    return f"{day.year}年{day.month}月{day.day}日"


def _in_force(c: ContractEntry, start: dt.date, end: dt.date) -> bool:
    """A contract whose term (until the day it ended, if superseded or revoked) meets the period."""
    if not (c.start and c.end):
        return False
    last = c.end
    if c.status in ENDED and c.ended_on is not None:
        last = min(last, c.ended_on - dt.timedelta(days=1))
    return c.start <= end and last >= start


def supervising_body(session: Session, unit: Unit) -> str:
    """To whom the report goes: the justice bureau of the nearest government above the unit
    whose inspectors supervise it (武阳市人民政府 → 武阳市司法局)."""
    inspected = set(session.scalars(select(RoleGrant.unit_id).where(RoleGrant.role == "inspector")))
    current = session.get(Unit, unit.parent_id) if unit.parent_id else unit
    while current is not None:
        if current.id in inspected:
            name = current.name
            return name.replace("人民政府", "司法局") if "人民政府" in name else name
        current = session.get(Unit, current.parent_id) if current.parent_id else None
    return ""


def figures(session: Session, p: Principal, unit: Unit, period: Period) -> dict:
    """The report's figures and tables for `unit` and the units below it, from the records of
    the period as `p` reads them: the data of the template's prefilled fields."""
    units = p.subtree({unit.id})
    start, end = period.start, period.end
    register = contract_register(session, p, today=end)
    in_force = [c for c in register.entries if c.unit_id in units and _in_force(c, start, end)]
    advisers: dict[tuple[int, str], list[ContractEntry]] = {}
    for c in in_force:
        advisers.setdefault((c.unit_id, c.adviser), []).append(c)
    signed = [c for c in register.entries if c.unit_id in units and start <= c.issue_date <= end]
    registered = {f.document_id for f in filing_rows(session, p, units=units, register=register)
                  if f.state == "registered"}  # fmt: skip
    lawyers = set(session.execute(
        select(RoleGrant.unit_id, User.id).join(User, User.id == RoleGrant.user_id)
        .where(RoleGrant.role == "public-lawyer", RoleGrant.unit_id.in_(units), User.active)
    ).all())  # fmt: skip
    services = collect(session, units, start, end)
    opinions = opinion_rows(session, units, start, end)
    handled = sum(r.handled for r in matter_counts(session, p, by="unit", start=start, end=end,
                                                    unit_ids=units))  # fmt: skip
    kinds = Counter(r.kind for r in services)
    hours: dict[str, Decimal] = {}
    for r in services:
        if r.hours is not None:
            hours[r.kind] = hours.get(r.kind, Decimal(0)) + r.hours
    names = {u.id: u for u in session.scalars(select(Unit).where(Unit.id.in_(units)))}
    per_unit = {uid: Counter() for uid in names}
    for (uid, _), _rows in advisers.items():
        per_unit[uid]["advisers"] += 1
    for r in services:
        per_unit[r.unit_id]["services"] += 1
        per_unit[r.unit_id]["litigation"] += r.kind == "litigation"
    for row in opinions:
        per_unit[row[1]]["opinions"] += 1
    for c in signed:
        per_unit[c.unit_id]["contracts"] += 1
    return {
        "report_year": period.year,
        "half": HALVES[period.half - 1],
        "adviser_count": len(advisers),
        "public_lawyer_count": len({uid for _, uid in lawyers}),
        "contract_count": len(signed),
        "filed_count": sum(1 for c in signed if c.document_id in registered),
        "service_count": len(services),
        "service_hours": _fmt_hours(sum(hours.values(), Decimal(0))),
        "review_count": kinds["review"],
        "opinion_count": len(opinions),
        "litigation_count": kinds["litigation"],
        "matters_handled": handled,
        "advisers": [
            {
                "name": adviser,
                "employer": names[uid].name,
                "term": f"{_cn_date(min(c.start for c in rows))}至{_cn_date(max(c.end for c in rows))}",
            }
            for (uid, adviser), rows in sorted(
                advisers.items(), key=lambda kv: (names[kv[0][0]].code, kv[0][1])
            )
        ],  # fmt: skip
        "services": [
            {
                "kind": label,
                "count": kinds[kind],
                "hours": _fmt_hours(hours[kind]) if kind in MANUAL_KINDS and kind in hours else "",
            }
            for kind, label in KIND_LABELS.items()
            if kinds[kind]
        ],  # fmt: skip
        "unit_rows": [
            {
                "unit_name": names[uid].name,
                "advisers": per_unit[uid]["advisers"],
                "services": per_unit[uid]["services"],
                "opinions": per_unit[uid]["opinions"],
                "contracts": per_unit[uid]["contracts"],
                "litigation": per_unit[uid]["litigation"],
            }
            for uid in sorted(names, key=lambda i: names[i].code)
        ],  # fmt: skip
    }


def _drafting_unit(session: Session, p: Principal, unit_code: str | None) -> Unit:
    unit = unit_by_code(session, unit_code) if unit_code else session.get(Unit, p.user.unit_id)
    if not can(session, p, "draft.create", unit):
        raise Forbidden(f"您在“{unit.name}”没有起草文书的权限")
    return unit


def prefill(session: Session, p: Principal, unit_code: str | None, year, half) -> dict:
    """The report's initial data: the figures of the period, the addressee, empty narrative."""
    period = parse_period(year, half)
    unit = _drafting_unit(session, p, unit_code)
    return {"addressee": supervising_body(session, unit), **figures(session, p, unit, period)}


def start_report(cf: Casefile, session: Session, p: Principal, data: dict,
                 remote_addr: str = "") -> Draft:  # fmt: skip
    """A draft report of data["unit"] for data["year"], data["half"]: the figures as casefile
    counts them, the narrative (and addressee, contact, 抄送) as given."""
    found = prefill(session, p, data.get("unit") or None, data.get("year"), data.get("half"))
    found |= {k: data[k] for k in ("addressee", *NARRATIVE) if data.get(k) not in (None, "")}
    unit = _drafting_unit(session, p, data.get("unit") or None)
    return drafts.create_draft(cf, session, p, REPORT, found, unit.code, remote_addr)


@dataclass(frozen=True)
class Submission:
    unit: Unit
    state: str  # submitted | in_review | drafting | missing
    number: str
    issue_date: dt.date | None
    document_id: int | None
    late: bool  # submitted after the deadline, or still missing after it

    @property
    def state_label(self) -> str:
        return STATE_LABELS[self.state]

    def as_dict(self) -> dict:
        return {"unit": self.unit.code, "unit_name": self.unit.name, "state": self.state,
                "state_label": self.state_label, "number": self.number or None,
                "issue_date": self.issue_date.isoformat() if self.issue_date else None,
                "document_id": self.document_id, "late": self.late}  # fmt: skip


def _of_period(year, half, period: Period) -> bool:
    return str(year) == str(period.year) and half == HALVES[period.half - 1]


def unit_states(session: Session, p: Principal, units: set[int], period: Period,
                today: dt.date) -> dict[int, Submission]:  # fmt: skip
    """Where each unit's report of the period stands: issued (its first), in review, being
    drafted, or missing."""
    return states_of_periods(session, p, units, [period], today)[0]


def states_of_periods(session: Session, p: Principal, units: set[int], periods: list[Period],
                      today: dt.date) -> list[dict[int, Submission]]:  # fmt: skip
    """`unit_states` of several periods (a home page's two reminders), reading the reports
    once: their period fields only, not their whole data."""
    if not periods:
        return []
    ids = template_ids(session, REPORT)
    year, half = DraftVersion.data["report_year"].as_string(), DraftVersion.data["half"].as_string()
    issued = session.execute(
        select(IssuedDocument.id, IssuedDocument.unit_id, IssuedDocument.number,
               IssuedDocument.issue_date, year, half)
        .join(TemplateVersion, TemplateVersion.id == IssuedDocument.template_version_id)
        .join(DraftVersion, DraftVersion.id == IssuedDocument.approved_version_id)
        .where(TemplateVersion.template_id.in_(ids), IssuedDocument.unit_id.in_(units or {-1}),
               visible_documents(p))
        .order_by(IssuedDocument.issue_date, IssuedDocument.id)
    ).all()  # fmt: skip
    pending = session.execute(
        select(Draft.unit_id, Draft.status, year, half)
        .join(TemplateVersion, TemplateVersion.id == Draft.template_version_id)
        .join(DraftVersion, (DraftVersion.draft_id == Draft.id)
              & (DraftVersion.number == Draft.current_version))
        .where(TemplateVersion.template_id.in_(ids), Draft.unit_id.in_(units or {-1}),
               Draft.status.in_(("draft", "in_review", "returned", "approved")))
    ).all()  # fmt: skip
    names = {u.id: u for u in session.scalars(select(Unit).where(Unit.id.in_(units or {-1})))}
    result = []
    for period in periods:
        out: dict[int, Submission] = {}
        for doc_id, unit_id, number, day, y, h in issued:
            if unit_id not in out and _of_period(y, h, period):
                out[unit_id] = Submission(names[unit_id], "submitted", number, day, doc_id,
                                          day > period.due)  # fmt: skip
        for unit_id, status, y, h in pending:
            if _of_period(y, h, period) and (
                unit_id not in out or out[unit_id].state == "drafting"
            ):
                state = "in_review" if status in ("in_review", "approved") else "drafting"
                out[unit_id] = Submission(names[unit_id], state, "", None, None, today > period.due)
        for unit_id, unit in names.items():
            out.setdefault(unit_id, Submission(unit, "missing", "", None, None, today > period.due))
        result.append(out)
    return result


def submissions(session: Session, p: Principal, year=None, half=None, *,
                today: dt.date | None = None) -> tuple[Period, list[Submission]]:  # fmt: skip
    """Which of the units an inspector supervises have submitted the period's report."""
    if not can(session, p, "supervision.dashboard"):
        raise Forbidden("您无权查看各单位工作情况报告的报送情况")
    today = today or today_in_china()
    period = (current_period(today) if year in (None, "") and half in (None, "")
              else parse_period(year, half))  # fmt: skip
    units = ranked_units(session, p)  # refuses whoever is not an inspector
    states = unit_states(session, p, {u.id for u in units}, period, today)
    order = {"missing": 0, "drafting": 1, "in_review": 2, "submitted": 3}
    return period, sorted(states.values(), key=lambda s: (order[s.state], s.unit.code))


def submissions_table(period: Period, rows: list[Submission]) -> tuple[list[str], list[list]]:
    columns = ["单位", "报告期", "报送状态", "发文字号", "报送日期", "是否逾期"]
    return columns, [[s.unit.name, period.label, s.state_label, s.number, s.issue_date,
                      "是" if s.late else ""] for s in rows]  # fmt: skip


@dataclass(frozen=True)
class Reminder:
    period: Period
    missing: list[Unit]  # the units whose report is not issued yet
    overdue: bool
    days_left: int


def reminders(session: Session, p: Principal, units: set[int],
              today: dt.date | None = None) -> list[Reminder]:  # fmt: skip
    """What a home page reminds of for `units`: the previous period's report while it is still
    missing after its deadline, and the current period's within REMIND_DAYS of its deadline."""
    today = today or today_in_china()
    current = current_period(today)
    periods = [current.previous()] if today > current.previous().due else []
    if (current.due - today).days <= REMIND_DAYS:
        periods.append(current)
    out = []
    for period, states in zip(periods, states_of_periods(session, p, units, periods, today),
                              strict=True):  # fmt: skip
        missing = [s.unit for s in states.values() if s.state != "submitted"]
        if missing:
            out.append(Reminder(period, sorted(missing, key=lambda u: u.code),
                                today > period.due, (period.due - today).days))  # fmt: skip
    return out
