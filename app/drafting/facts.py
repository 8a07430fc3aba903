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


def computed(conn: Connection | Session, batch: int = 2000):
    """The facts of every issued document recomputed from the records, in batches of rows
    (dicts of the table's columns, plus the document's number)."""
    last = 0
    while True:
        part = conn.execute(
            select(IssuedDocument.id, IssuedDocument.draft_id, IssuedDocument.unit_id,
                   IssuedDocument.template_version_id, IssuedDocument.issue_date,
                   IssuedDocument.number, DraftVersion.data)
            .join(DraftVersion, DraftVersion.id == IssuedDocument.approved_version_id)
            .where(IssuedDocument.id > last).order_by(IssuedDocument.id).limit(batch)
        ).all()  # fmt: skip
        if not part:
            return
        advisers = dict(conn.execute(_advisers([d.draft_id for d in part])).all())
        yield [{"document_id": d.id, "unit_id": d.unit_id,
                "template_version_id": d.template_version_id, "issue_date": d.issue_date,
                "advisers": advisers.get(d.draft_id, 0),
                "lawyer_named": bool(named_lawyer(d.data)), "number": d.number}
               for d in part]  # fmt: skip
        last = part[-1].id


def rebuild(conn: Connection | Session) -> int:
    """Recompute the facts of every issued document from the records; returns how many."""
    conn.execute(delete(IssuedDocumentFacts))
    done = 0
    for rows in computed(conn):
        conn.execute(insert(IssuedDocumentFacts), [
            {k: v for k, v in r.items() if k != "number"} for r in rows])  # fmt: skip
        done += len(rows)
    return done


FIELDS = {"unit_id": "发文单位", "template_version_id": "模板版本", "issue_date": "成文日期",
          "advisers": "审核的法律顾问人数", "lawyer_named": "是否载明受委托律师"}  # fmt: skip


def problems(session: Session) -> list[str]:
    """Where the stored facts differ from the records (part of `casefile verify`): a figure
    of the dashboard changed in the database, or a document issued without its facts."""
    stored = {r.document_id: r for r in session.scalars(select(IssuedDocumentFacts))}
    found = []
    for rows in computed(session):
        for want in rows:
            label = f"文书 {want['number']}（document {want['document_id']}）"
            have = stored.pop(want["document_id"], None)
            if have is None:
                found.append(f"{label}: 缺少督导统计依据")
                continue
            for key, name in FIELDS.items():
                if getattr(have, key) != want[key]:
                    found.append(f"{label}: 督导统计依据的{name}与记录不符"
                                 f"（{getattr(have, key)}，应为 {want[key]}）")  # fmt: skip
    found += [f"督导统计依据指向不存在的文书（document {k}）" for k in sorted(stored)]
    return found
