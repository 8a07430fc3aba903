"""年度考核: the annual assessment of each adviser and public lawyer by the engaging unit.

The unit's office head fills it in (履职能力, 服务质量, 工作效率, each 0–100, and a grade),
prefilled with the year's service records; the unit's signatory confirms it, and from then on
the row is write-once (a database trigger). Confirmation feeds back to the pool: an 不称职
result suspends the adviser's entry.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from app import audit
from app.access.policy import Principal, can
from app.common.clock import utcnow
from app.errors import Forbidden, NotFound
from app.identity.models import Unit
from app.supervision import pool
from app.supervision.common import get_or_404, integer, period, refuse, text, unit_by_code
from app.supervision.models import ASSESSMENT_STATE_LABELS, GRADES, Assessment, PoolEntry
from app.supervision.records import collect, subject_choices, summarize


def grade_for(ability: int, quality: int, efficiency: int) -> str:
    """The grade the scores suggest: mean ≥ 90 优秀, ≥ 75 称职, ≥ 60 基本称职, else 不称职."""
    mean = (ability + quality + efficiency) / 3
    return (
        GRADES[0]
        if mean >= 90
        else GRADES[1]
        if mean >= 75
        else GRADES[2]
        if mean >= 60
        else GRADES[3]
    )


@dataclass(frozen=True)
class Prefill:
    unit: Unit
    subject: str
    subject_name: str
    year: int
    counts: dict  # the year's records: total, hours, by kind

    def as_dict(self) -> dict:
        return {"unit": self.unit.code, "subject": self.subject,
                "subject_name": self.subject_name, "year": self.year, "records": self.counts}  # fmt: skip


def prefill(session: Session, p: Principal, unit_code: str, subject: str, year) -> Prefill:
    """What the office head starts from: the subject's services in the unit that year."""
    unit = unit_by_code(session, unit_code)
    if not can(session, p, "assessment.conduct", unit):
        raise Forbidden(f"您无权对“{unit.name}”的法律顾问进行考核")
    y, _, start, end = period(year)
    choices = dict(subject_choices(session, p, unit))
    if subject not in choices:
        raise refuse("subject", "考核对象", "请从人才库或者本单位公职律师中选择考核对象")
    summary = summarize([r for r in collect(session, {unit.id}, start, end)
                         if r.subject_key == subject])  # fmt: skip
    counts = {"total": len(summary.records), "hours": str(summary.hours),
              "by_kind": summary.by_kind}  # fmt: skip
    return Prefill(unit, subject, choices[subject].split("（")[0], y, counts)


def save_assessment(
    session: Session, p: Principal, data: dict, remote_addr: str = ""
) -> Assessment:
    """Create or correct (while unconfirmed) the assessment of data["subject"] by data["unit"]
    for data["year"]; the year's records are stored with it as it was assessed."""
    pre = prefill(session, p, data.get("unit") or "", text(data.get("subject"), "subject",
                  "考核对象", required=True), data.get("year"))  # fmt: skip
    scores = {name: integer(data.get(name), name, label, 0, 100) for name, label in
              (("ability", "履职能力"), ("quality", "服务质量"), ("efficiency", "工作效率"))}  # fmt: skip
    grade = text(data.get("grade"), "grade", "考核等次") or grade_for(**scores)
    if grade not in GRADES:
        raise refuse("grade", "考核等次", "考核等次应为：" + "、".join(GRADES))
    comment = text(data.get("comment"), "comment", "考核意见", limit=2000)
    found = session.scalars(select(Assessment).where(
        Assessment.unit_id == pre.unit.id, Assessment.year == pre.year,
        Assessment.subject_key == pre.subject)).first()  # fmt: skip
    if found is not None and found.state == "signed":
        raise refuse(
            "subject", "考核对象", f"{pre.subject_name}的{pre.year}年度考核已确认，不能更改"
        )
    kind, _, ident = pre.subject.partition(":")
    row = found or Assessment(unit_id=pre.unit.id, year=pre.year, subject_key=pre.subject,
                              created_by=p.user.id, state="draft")  # fmt: skip
    row.subject_name = pre.subject_name
    row.entry_id = int(ident) if kind == "entry" else None
    row.user_id = int(ident) if kind == "user" else None
    row.ability, row.quality, row.efficiency = (
        scores["ability"],
        scores["quality"],
        scores["efficiency"],
    )
    row.grade, row.comment, row.records = grade, comment, pre.counts
    session.add(row)
    session.flush()
    audit.record(session, "assessment.save", actor=p.user, object_type="assessment",
                 object_id=row.id, detail={"unit": pre.unit.code, "year": pre.year,
                                           "subject": pre.subject_name, "grade": grade, **scores},
                 remote_addr=remote_addr)  # fmt: skip
    return row


def visible_assessment(session: Session, p: Principal, assessment_id) -> Assessment:
    row = get_or_404(session, Assessment, assessment_id, "考核")
    if row.unit_id not in p.readable_units():
        raise NotFound("考核不存在，或您无权查看")
    return row


def sign_assessment(
    session: Session, p: Principal, assessment_id, remote_addr: str = ""
) -> Assessment:
    """The unit's signatory confirms; an 不称职 adviser's pool entry is suspended."""
    row = visible_assessment(session, p, assessment_id)
    if not can(session, p, "assessment.sign", session.get(Unit, row.unit_id)):
        raise Forbidden("您无权确认该考核结果")
    if row.state == "signed":
        raise refuse("assessment", "考核", "该考核已确认")
    if row.created_by == p.user.id:
        raise Forbidden("考核评议人不能确认本人填写的考核")
    row.state, row.signed_by, row.signed_at = "signed", p.user.id, utcnow()
    session.flush()
    audit.record(session, "assessment.sign", actor=p.user, object_type="assessment",
                 object_id=row.id, detail={"grade": row.grade, "year": row.year,
                                           "subject": row.subject_name}, remote_addr=remote_addr)  # fmt: skip
    if row.grade == "不称职" and row.entry_id is not None:
        unit = session.get(Unit, row.unit_id)
        pool.suspend_after_assessment(session, p, session.get(PoolEntry, row.entry_id),
                                      f"{row.year}年度{unit.name}考核不称职")  # fmt: skip
    return row


def list_assessments(session: Session, p: Principal, *, year=None,
                     unit_code: str | None = None) -> list[Assessment]:  # fmt: skip
    units = p.readable_units()
    if unit_code:
        units &= p.subtree({unit_by_code(session, unit_code).id})
    query = select(Assessment).where(Assessment.unit_id.in_(units or {-1}))
    if year not in (None, ""):
        query = query.where(Assessment.year == period(year)[0])
    return list(session.scalars(query.order_by(Assessment.year.desc(), Assessment.unit_id,
                                               Assessment.id)))  # fmt: skip


def assessment_dict(a: Assessment, unit_name: str = "") -> dict:
    return {"id": a.id, "unit_name": unit_name, "year": a.year, "subject": a.subject_key,
            "subject_name": a.subject_name, "ability": a.ability, "quality": a.quality,
            "efficiency": a.efficiency, "grade": a.grade, "comment": a.comment,
            "records": a.records, "state": a.state,
            "state_label": ASSESSMENT_STATE_LABELS[a.state],
            "signed_at": a.signed_at.isoformat() if isinstance(a.signed_at, dt.datetime) else None}  # fmt: skip
