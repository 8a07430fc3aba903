"""The facts of an issued document that supervision counts, fixed when it is issued.

An issued opinion counts once for every adviser or public lawyer who approved it in its review
chain (出具合法性审查意见), and a commission letter counts when it names a lawyer (代理诉讼). Reading
that back for a city's year of documents meant joining every opinion to its review steps and
every letter to its JSON data on each dashboard (bench/supervision.py: most of its time on
PostgreSQL). The document and its chain never change once issued, so these two facts are
computed once, in the issuing transaction (`record`), into `issued_document_facts`;
`rebuild` recomputes every row from the records by the same rules (migration 0011, and bulk
loads that bypass issuing: bench/supervision.py and its tests).
"""

from __future__ import annotations

from sqlalchemy import delete, distinct, func, insert, select
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

from app.drafting.models import DraftVersion, IssuedDocument, IssuedDocumentFacts, ReviewStep

ADVISER_ROLES = ("adviser", "public-lawyer")  # whose review steps are services


def named_lawyer(data) -> str:
    """The lawyer a document's data names (a commission letter's lawyer_name), stripped; ""
    when it names none."""
    lawyer = data.get("lawyer_name") if isinstance(data, dict) else None
    return lawyer.strip() if isinstance(lawyer, str) else ""


def _advisers(draft_ids):
    """Distinct advisers and public lawyers who approved each draft: (draft_id, count)."""
    return (
        select(ReviewStep.draft_id, func.count(distinct(ReviewStep.user_id)))
        .where(ReviewStep.draft_id.in_(draft_ids), ReviewStep.role.in_(ADVISER_ROLES),
               ReviewStep.decision == "approve")
        .group_by(ReviewStep.draft_id)
    )  # fmt: skip


def record(session: Session, doc: IssuedDocument, data) -> None:
    """Write the facts of `doc`, just issued from a version holding `data`."""
    found = session.execute(_advisers([doc.draft_id])).first()
    session.add(IssuedDocumentFacts(
        document_id=doc.id, unit_id=doc.unit_id, template_version_id=doc.template_version_id,
        issue_date=doc.issue_date, advisers=found[1] if found else 0,
        lawyer_named=bool(named_lawyer(data))))  # fmt: skip


def rebuild(conn: Connection | Session, batch: int = 2000) -> int:
    """Recompute the facts of every issued document from the records, a batch of documents
    at a time (their data is read too); returns how many."""
    conn.execute(delete(IssuedDocumentFacts))
    done, last = 0, 0
    while True:
        part = conn.execute(
            select(IssuedDocument.id, IssuedDocument.draft_id, IssuedDocument.unit_id,
                   IssuedDocument.template_version_id, IssuedDocument.issue_date,
                   DraftVersion.data)
            .join(DraftVersion, DraftVersion.id == IssuedDocument.approved_version_id)
            .where(IssuedDocument.id > last).order_by(IssuedDocument.id).limit(batch)
        ).all()  # fmt: skip
        if not part:
            return done
        advisers = dict(conn.execute(_advisers([d.draft_id for d in part])).all())
        conn.execute(insert(IssuedDocumentFacts), [
            {"document_id": d.id, "unit_id": d.unit_id,
             "template_version_id": d.template_version_id, "issue_date": d.issue_date,
             "advisers": advisers.get(d.draft_id, 0), "lawyer_named": bool(named_lawyer(d.data))}
            for d in part])  # fmt: skip
        done, last = done + len(part), part[-1].id
