"""服务记录: every service an adviser or public lawyer delivers, counted.

Two sources, one list. What casefile already knows is computed by query, never copied:
- 审核文书: each review step an adviser or public lawyer took on a draft (approve or return);
- 出具合法性审查意见: each issued legality-review opinion they approved in its chain;
- 代理诉讼: each issued commission letter (委托公函) naming a public lawyer.
The rest is entered by hand (meetings, consultations, negotiations, petitions and disputes,
trainings) with date, unit, matter and hours, in WorkRecord.

A service belongs to a subject: a pool entry (an external adviser; a casefile account linked
to the entry counts as the entry) or a user (a public lawyer). Records are listed for the units
whose documents the principal reads, so an inspector sees their subtree and a unit itself.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from sqlalchemy import and_, select
from sqlalchemy.orm import Session

from app import audit
from app.access.policy import Principal, can, pool_keepers
from app.common.clock import today_in_china
from app.drafting.facts import ADVISER_ROLES, named_lawyer
from app.drafting.models import Draft, DraftVersion, IssuedDocument, ReviewStep
from app.errors import Forbidden
from app.identity.models import RoleGrant, Unit, User
from app.supervision.common import date, period, refuse, text, unit_by_code
from app.supervision.models import PoolEntry, WorkRecord
from app.templating import doctypes
from app.templating.models import TemplateVersion

AUTO_KINDS = {"review": "审核文书", "opinion": "出具合法性审查意见", "litigation": "代理诉讼"}
MANUAL_KINDS = {"meeting": "列席会议", "consultation": "法律咨询", "negotiation": "参与谈判",
                "petition": "信访与矛盾纠纷化解", "training": "法律培训",
                "other": "其他法律事务"}  # fmt: skip
KIND_LABELS = AUTO_KINDS | MANUAL_KINDS
CHINA = dt.timedelta(hours=8)


@dataclass(frozen=True)
class ServiceRecord:
    source: str  # auto | manual
    kind: str
    served_on: dt.date
    unit_id: int
    unit_name: str
    subject_key: str  # entry:<id> | user:<id> | name:<name>
    subject_name: str
    matter: str
    hours: Decimal | None
    ref: str  # where it comes from: draft:<id>, document:<id>, record:<id>

    @property
    def kind_label(self) -> str:
        return KIND_LABELS[self.kind]

    @property
    def source_label(self) -> str:
        return "系统自动统计" if self.source == "auto" else "手工登记"

    def as_dict(self) -> dict:
        return {"source": self.source, "kind": self.kind, "kind_label": self.kind_label,
                "served_on": self.served_on.isoformat(), "unit_name": self.unit_name,
                "subject": self.subject_key, "subject_name": self.subject_name,
                "matter": self.matter, "hours": str(self.hours) if self.hours is not None else None,
                "ref": self.ref}  # fmt: skip


class Subjects:
    """Who a user id or a name stands for: the pool entry linked to the account, else the user."""

    def __init__(self, session: Session):
        self.entries = {e.id: e for e in session.scalars(select(PoolEntry))}
        self.by_user = {e.user_id: e for e in self.entries.values() if e.user_id}
        self.users = dict(session.execute(select(User.id, User.name)).all())

    def of_user(self, user_id: int) -> tuple[str, str]:
        entry = self.by_user.get(user_id)
        if entry is not None:
            return f"entry:{entry.id}", entry.name
        return f"user:{user_id}", self.users.get(user_id, "")

    def of_record(self, r: WorkRecord) -> tuple[str, str]:
        if r.entry_id is not None:
            return f"entry:{r.entry_id}", self.entries[r.entry_id].name
        return self.of_user(r.user_id)


def template_ids(session: Session, doc_type: str) -> list[str]:
    """The templates of a document type, looked up once per session (one request): the counts
    of the dashboard ask for them several times, and each registry lookup is a query."""
    cache = session.info.setdefault("supervision.template_ids", {})
    if doc_type not in cache:
        found = doctypes.registry_for(session).types.get(doc_type)
        cache[doc_type] = sorted(found.template_ids) if found else ["-"]
    return cache[doc_type]


def collect(session: Session, units: set[int], start: dt.date, end: dt.date) -> list[ServiceRecord]:
    """Every service delivered in `units` between `start` and `end` (both included)."""
    if not units:
        return []
    names = dict(session.execute(select(Unit.id, Unit.name)).all())
    subjects = Subjects(session)
    out: list[ServiceRecord] = []
    lo = dt.datetime.combine(start, dt.time()) - CHINA
    hi = dt.datetime.combine(end + dt.timedelta(days=1), dt.time()) - CHINA
    steps = session.execute(
        select(ReviewStep.draft_id, ReviewStep.user_id, ReviewStep.unit_id,
               ReviewStep.created_at, Draft.title)
        .join(Draft, Draft.id == ReviewStep.draft_id)
        .where(ReviewStep.role.in_(ADVISER_ROLES), ReviewStep.decision.in_(("approve", "return")),
               ReviewStep.unit_id.in_(units), ReviewStep.created_at >= lo,
               ReviewStep.created_at < hi)
    ).all()  # fmt: skip
    for draft_id, user_id, unit_id, at, title in steps:
        key, name = subjects.of_user(user_id)
        out.append(ServiceRecord("auto", "review", (at + CHINA).date(), unit_id, names[unit_id],
                                 key, name, title, None, f"draft:{draft_id}"))  # fmt: skip
    in_period = and_(IssuedDocument.unit_id.in_(units), IssuedDocument.issue_date >= start,
                     IssuedDocument.issue_date <= end)  # fmt: skip
    opinions = session.execute(
        select(IssuedDocument.id, IssuedDocument.unit_id, IssuedDocument.issue_date,
               IssuedDocument.title, ReviewStep.user_id)
        .join(TemplateVersion, TemplateVersion.id == IssuedDocument.template_version_id)
        .join(ReviewStep, ReviewStep.draft_id == IssuedDocument.draft_id)
        .where(in_period, TemplateVersion.template_id.in_(
                   template_ids(session, "legality-review-opinion")),
               ReviewStep.role.in_(ADVISER_ROLES), ReviewStep.decision == "approve")
        .distinct()
    ).all()  # fmt: skip
    for doc_id, unit_id, day, title, user_id in opinions:
        key, name = subjects.of_user(user_id)
        out.append(ServiceRecord("auto", "opinion", day, unit_id, names[unit_id], key, name,
                                 title, None, f"document:{doc_id}"))  # fmt: skip
    letters = session.execute(
        select(IssuedDocument.id, IssuedDocument.unit_id, IssuedDocument.issue_date,
               IssuedDocument.title, DraftVersion.data)
        .join(TemplateVersion, TemplateVersion.id == IssuedDocument.template_version_id)
        .join(DraftVersion, DraftVersion.id == IssuedDocument.approved_version_id)
        .where(in_period, TemplateVersion.template_id.in_(
            template_ids(session, "commission-letter")))
    ).all()  # fmt: skip
    lawyers = {(unit, name): uid for uid, unit, name in session.execute(
        select(User.id, RoleGrant.unit_id, User.name).join(RoleGrant, RoleGrant.user_id == User.id)
        .where(RoleGrant.role == "public-lawyer"))}  # fmt: skip
    for doc_id, unit_id, day, title, data in letters:
        lawyer = named_lawyer(data)
        if not lawyer:
            continue
        uid = lawyers.get((unit_id, lawyer))
        key, name = subjects.of_user(uid) if uid else (f"name:{lawyer}", lawyer)
        out.append(ServiceRecord("auto", "litigation", day, unit_id, names[unit_id], key, name,
                                 title, None, f"document:{doc_id}"))  # fmt: skip
    manual = session.scalars(select(WorkRecord).where(
        WorkRecord.unit_id.in_(units), WorkRecord.served_on >= start, WorkRecord.served_on <= end))  # fmt: skip
    for r in manual:
        key, name = subjects.of_record(r)
        out.append(ServiceRecord("manual", r.kind, r.served_on, r.unit_id, names[r.unit_id], key,
                                 name, r.matter, r.hours, f"record:{r.id}"))  # fmt: skip
    out.sort(key=lambda r: (r.served_on, r.unit_id, r.ref))
    return out


@dataclass(frozen=True)
class RecordSummary:
    records: list[ServiceRecord]
    by_subject: dict[str, int]  # subject name -> count
    by_unit: dict[str, int]
    by_kind: dict[str, int]  # kind label -> count
    by_quarter: dict[int, int]
    hours: Decimal

    def as_dict(self) -> dict:
        return {"total": len(self.records), "hours": str(self.hours),
                "by_subject": self.by_subject, "by_unit": self.by_unit, "by_kind": self.by_kind,
                "by_quarter": {str(q): n for q, n in self.by_quarter.items()},
                "records": [r.as_dict() for r in self.records]}  # fmt: skip


def summarize(records: list[ServiceRecord]) -> RecordSummary:
    def count(key) -> dict:
        return dict(Counter(key(r) for r in records).most_common())

    return RecordSummary(
        records=records, by_subject=count(lambda r: r.subject_name),
        by_unit=count(lambda r: r.unit_name), by_kind=count(lambda r: r.kind_label),
        by_quarter=dict(sorted(Counter((r.served_on.month - 1) // 3 + 1 for r in records).items())),
        hours=sum((r.hours for r in records if r.hours is not None), Decimal(0)),
    )  # fmt: skip


def service_records(session: Session, p: Principal, *, year, quarter=None,
                    unit_code: str | None = None, subject: str | None = None,
                    kind: str | None = None) -> RecordSummary:  # fmt: skip
    """The services delivered in the period in the units p reads, optionally of one unit (and
    its sub-units), one subject, one kind."""
    _, _, start, end = period(year, quarter)
    units = p.readable_units()
    if unit_code:
        root = unit_by_code(session, unit_code)
        units &= p.subtree({root.id})
    if kind and kind not in KIND_LABELS:
        raise refuse("kind", "服务类型", "服务类型应为：" + "、".join(KIND_LABELS.values()))
    records = collect(session, units, start, end)
    if subject:
        records = [r for r in records if r.subject_key == subject]
    if kind:
        records = [r for r in records if r.kind == kind]
    return summarize(records)


def subject_choices(session: Session, p: Principal, unit: Unit) -> list[tuple[str, str]]:
    """Whom a service in `unit` may be recorded for: the active entries of the pools the unit
    chooses from, and the unit's public lawyers; (key, label)."""
    keepers = pool_keepers(p)
    entries = session.scalars(select(PoolEntry).where(
        PoolEntry.keeper_unit_id.in_(keepers or {-1}), PoolEntry.status == "active")
        .order_by(PoolEntry.id))  # fmt: skip
    out = [(f"entry:{e.id}", f"{e.name}（{e.kind}）") for e in entries]
    lawyers = session.execute(
        select(User.id, User.name).join(RoleGrant, RoleGrant.user_id == User.id)
        .where(RoleGrant.unit_id == unit.id, RoleGrant.role == "public-lawyer", User.active)
        .order_by(User.id)
    ).all()  # fmt: skip
    return out + [(f"user:{uid}", f"{name}（公职律师）") for uid, name in lawyers]


def add_record(session: Session, p: Principal, data: dict, remote_addr: str = "") -> WorkRecord:
    """Enter a service by hand. An adviser or public lawyer who is not also a clerk or office
    head of the unit records only their own services."""
    unit = unit_by_code(session, data.get("unit") or "")
    if not can(session, p, "service.record", unit):
        raise Forbidden(f"您无权登记“{unit.name}”的服务记录")
    kind = text(data.get("kind"), "kind", "服务类型", required=True)
    if kind not in MANUAL_KINDS:
        raise refuse("kind", "服务类型", "服务类型应为：" + "、".join(MANUAL_KINDS.values()))
    key = text(data.get("subject"), "subject", "法律顾问或者公职律师", required=True)
    if key not in dict(subject_choices(session, p, unit)):
        raise refuse("subject", "法律顾问或者公职律师", "请从人才库或者本单位公职律师中选择")
    keeper_roles = p.units_with("clerk") | p.subtree(p.units_with("office-head"))
    if unit.id not in keeper_roles and key not in _own_keys(session, p):
        raise Forbidden("您只能登记本人提供的服务")
    try:
        hours = Decimal(str(data.get("hours", "")).strip())
    except InvalidOperation:
        hours = Decimal(-1)
    if not Decimal("0.5") <= hours <= Decimal(24) or hours != hours.quantize(Decimal("0.1")):
        raise refuse("hours", "用时（小时）", "用时应为 0.5 至 24 小时，最多一位小数")
    served_on = date(data.get("served_on"), "served_on", "服务日期")
    if served_on > today_in_china():
        raise refuse("served_on", "服务日期", "服务日期不能晚于今天")
    kind_of, _, ident = key.partition(":")
    record = WorkRecord(
        unit_id=unit.id, kind=kind, served_on=served_on, hours=hours, created_by=p.user.id,
        matter=text(data.get("matter"), "matter", "事项", required=True, limit=200),
        entry_id=int(ident) if kind_of == "entry" else None,
        user_id=int(ident) if kind_of == "user" else None,
    )  # fmt: skip
    session.add(record)
    session.flush()
    audit.record(session, "service.record", actor=p.user, object_type="work_record",
                 object_id=record.id, detail={"unit": unit.code, "service": MANUAL_KINDS[kind],
                                              "subject": _subject_name(session, key),
                                              "hours": str(hours)}, remote_addr=remote_addr)  # fmt: skip
    return record


def _own_keys(session: Session, p: Principal) -> set[str]:
    keys = {f"user:{p.user.id}"}
    keys |= {f"entry:{e}" for e in session.scalars(
        select(PoolEntry.id).where(PoolEntry.user_id == p.user.id))}  # fmt: skip
    return keys


def _subject_name(session: Session, key: str) -> str:
    kind, _, ident = key.partition(":")
    found = session.get(PoolEntry if kind == "entry" else User, int(ident))
    return found.name if found else ""
