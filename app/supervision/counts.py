"""Counting in the database: services and legality-review opinions per unit and period.

The ranking and the dashboard need numbers, not records: how many services each unit's
advisers delivered in a quarter, how many legality-review opinions it issued. Loading every
record into Python to count it took seconds at city scale (bench/supervision.py), so these
functions count with GROUP BY, each period a bucket of one CASE expression (one query per
source for the four quarters of the dashboard). They count exactly what `records.collect` and
`ranking.opinion_rows` list, by the same rules (tests/test_supervision_counts.py recounts a
small store both ways); those two remain what a drill-down shows. What an issued document
contributes (the advisers who approved an opinion, the lawyer a letter names) is fixed at issue
in `issued_document_facts` (app/drafting/facts.py), so the counts never join documents to
their review steps or read their data.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from sqlalchemy import and_, case, func, literal, select
from sqlalchemy.orm import Session

from app.drafting.facts import ADVISER_ROLES
from app.drafting.models import IssuedDocument, IssuedDocumentFacts, ReviewStep
from app.supervision.models import WorkRecord
from app.supervision.records import CHINA, template_ids
from app.templating.models import TemplateVersion

Period = tuple[dt.date, dt.date]  # first and last day, both included
Counts = list[dict[int, int]]  # per period (in the order asked): unit id -> count


def _utc_bounds(start: dt.date, end: dt.date) -> tuple[dt.datetime, dt.datetime]:
    """A period of China days as naive UTC bounds [lo, hi) of a timestamp column."""
    lo = dt.datetime.combine(start, dt.time()) - CHINA
    return lo, dt.datetime.combine(end + dt.timedelta(days=1), dt.time()) - CHINA


def _bucket(column, periods: Sequence[Period], utc: bool = False):
    """The index of the period `column` falls in (NULL outside every period)."""
    whens = []
    for i, (start, end) in enumerate(periods):
        if utc:
            lo, hi = _utc_bounds(start, end)
            whens.append((and_(column >= lo, column < hi), i))
        else:
            whens.append((and_(column >= start, column <= end), i))
    return case(*whens, else_=None)


def _in_any(column, periods: Sequence[Period], utc: bool = False):
    """From the first period's first day to the last one's last day, as one index range (a
    row in a gap between periods gets no bucket and is not counted)."""
    start, end = min(s for s, _ in periods), max(e for _, e in periods)
    if utc:
        lo, hi = _utc_bounds(start, end)
        return and_(column >= lo, column < hi)
    return and_(column >= start, column <= end)


def _tally(session: Session, inner, out: Counts) -> None:
    """Add up `inner` (unit_id, bucket, weight) rows into `out`, summed in the database."""
    sub = inner.subquery()
    rows = session.execute(select(sub.c.unit_id, sub.c.bucket, func.sum(sub.c.weight))
                           .group_by(sub.c.unit_id, sub.c.bucket)).all()  # fmt: skip
    for unit_id, bucket, n in rows:
        if bucket is not None and n:
            out[bucket][unit_id] = out[bucket].get(unit_id, 0) + int(n)


def _one():
    return literal(1).label("weight")


def opinion_counts(session: Session, units: set[int], periods: Sequence[Period]) -> Counts:
    """Legality-review opinions issued per unit in each period (the ranking's 合法性审查)."""
    out: Counts = [{} for _ in periods]
    if not units or not periods:
        return out
    doc = IssuedDocument
    _tally(session, select(doc.unit_id, _bucket(doc.issue_date, periods).label("bucket"), _one())
           .join(TemplateVersion, TemplateVersion.id == doc.template_version_id)
           .where(TemplateVersion.template_id.in_(template_ids(session, "legality-review-opinion")),
                  doc.unit_id.in_(units), _in_any(doc.issue_date, periods)), out)  # fmt: skip
    return out


def service_counts(session: Session, units: set[int], periods: Sequence[Period]) -> Counts:
    """Services delivered per unit in each period: what `records.collect` lists, counted."""
    out: Counts = [{} for _ in periods]
    if not units or not periods:
        return out
    step, facts = ReviewStep, IssuedDocumentFacts
    # 审核文书: each adviser or public lawyer's decision on a draft, on its China day
    _tally(session, select(step.unit_id, _bucket(step.created_at, periods, utc=True).label("bucket"),
                           _one())
           .where(step.role.in_(ADVISER_ROLES), step.decision.in_(("approve", "return")),
                  step.unit_id.in_(units), _in_any(step.created_at, periods, utc=True)), out)  # fmt: skip
    # 出具合法性审查意见: an issued opinion once per adviser who approved it in its chain, and
    # 代理诉讼: an issued commission letter naming a lawyer; both fixed at issue
    # (app/drafting/facts.py), so each is a sum over one index range
    in_periods = and_(facts.unit_id.in_(units), _in_any(facts.issue_date, periods))
    for doc_type, weight in (("legality-review-opinion", facts.advisers),
                             ("commission-letter", case((facts.lawyer_named, 1), else_=0))):  # fmt: skip
        _tally(session, select(facts.unit_id, _bucket(facts.issue_date, periods).label("bucket"),
                               weight.label("weight"))
               .join(TemplateVersion, TemplateVersion.id == facts.template_version_id)
               .where(in_periods,
                      TemplateVersion.template_id.in_(template_ids(session, doc_type))), out)  # fmt: skip
    # entered by hand
    rec = WorkRecord
    _tally(session, select(rec.unit_id, _bucket(rec.served_on, periods).label("bucket"), _one())
           .where(rec.unit_id.in_(units), _in_any(rec.served_on, periods)), out)  # fmt: skip
    return out
