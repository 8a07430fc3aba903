"""Records beside the issued documents against the audit log (part of `casefile verify`'s
cross-check, see records.py):

- every document status (已被替代, 已撤销), revocation proposal and correction link has its event
  and agrees with it, and every such event's record exists (check_statuses);
- every entry of the normative-documents register has its `normative.register` event with its
  unified number, and each register sequence runs 1..last_value (check_normative).
"""

from __future__ import annotations

from collections import Counter, defaultdict

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.audit.models import AuditEntry
from app.drafting import status as document_status
from app.drafting.models import DocumentStatus, DraftCorrection, IssuedDocument, RevocationProposal
from app.identity.models import Unit
from app.registers.models import NormativeDocument, NormativeSequence
from app.registers.normative import REGISTER_ACTION
from app.registers.normative_numbers import raised_register_numbers
from app.registers.normative_rules import format_number as normative_number


def _events(session: Session, *actions: str) -> list[AuditEntry]:
    return list(
        session.scalars(
            select(AuditEntry).where(AuditEntry.action.in_(actions)).order_by(AuditEntry.seq)
        )
    )


def _int(value: str) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _by_detail(events: list[AuditEntry], key: str) -> dict:
    out: dict = defaultdict(list)
    for e in events:
        out[(e.detail or {}).get(key)].append(e)
    return out


def check_statuses(session: Session) -> list[str]:
    """Document statuses, revocation proposals and correction links ↔ their events."""
    problems = []
    numbers = dict(session.execute(select(IssuedDocument.id, IssuedDocument.number)).all())
    st = document_status

    def doc(doc_id) -> str:
        return f"文书 {numbers.get(_int(str(doc_id)), doc_id)}"

    status_events = _by_detail(_events(session, st.SUPERSEDE_ACTION, st.REVOKE_ACTION), "status_id")
    action_of = {st.SUPERSEDED: st.SUPERSEDE_ACTION, st.REVOKED: st.REVOKE_ACTION}
    for row in session.scalars(select(DocumentStatus).order_by(DocumentStatus.id)):
        label = f"{doc(row.document_id)}的状态「{st.label(row.status)}」"
        mine = status_events.pop(row.id, [])
        if not mine:
            problems.append(f"{label}：审计日志中没有这项决定的记录")
            continue
        e, d = mine[0], mine[0].detail or {}
        wrong = []
        if e.action != action_of.get(row.status) or e.object_id != str(row.document_id):
            wrong.append("状态或文书")
        if e.actor_id != row.decided_by:
            wrong.append("决定人")
        if d.get("effective_on") != row.effective_on.isoformat():
            wrong.append("生效日期")
        if row.status == st.SUPERSEDED and d.get("successor") != row.successor_id:
            wrong.append("替代文书")
        if row.status == st.REVOKED and (d.get("proposal") != row.proposal_id
                                         or d.get("reason") != row.reason):  # fmt: skip
            wrong.append("撤销申请或理由")
        if wrong:
            problems.append(f"{label}：" + "、".join(wrong) + f"与审计日志第 {e.seq} 条不符")
    for lost in status_events.values():
        for e in lost:
            problems.append(f"{doc(e.object_id)}：审计日志第 {e.seq} 条记录了它的状态变化，"
                            "档案库中却没有这条状态记录——状态记录被删除")  # fmt: skip

    proposals = _by_detail(_events(session, st.PROPOSE_ACTION), "proposal")
    for row in session.scalars(select(RevocationProposal).order_by(RevocationProposal.id)):
        mine = proposals.pop(row.id, [])
        e = mine[0] if mine else None
        if (
            e is None
            or e.actor_id != row.proposed_by
            or (e.detail or {}).get("reason") != row.reason
        ):
            problems.append(f"{doc(row.document_id)}的撤销申请（{row.id}）："
                            + ("审计日志中没有它的记录" if e is None
                               else f"提出人或理由与审计日志第 {e.seq} 条不符"))  # fmt: skip
    for lost in proposals.values():
        problems += [f"{doc(e.object_id)}：审计日志第 {e.seq} 条记录的撤销申请在档案库中已不存在"
                     for e in lost]  # fmt: skip

    corrections = _by_detail(_events(session, st.CORRECT_ACTION), "draft")
    for row in session.scalars(select(DraftCorrection).order_by(DraftCorrection.id)):
        mine = corrections.pop(row.draft_id, [])
        if not mine or mine[0].object_id != str(row.document_id):
            problems.append(f"{doc(row.document_id)}的更正稿（草稿 {row.draft_id}）："
                            "审计日志中没有相符的起草更正记录")  # fmt: skip
    for lost in corrections.values():
        problems += [f"{doc(e.object_id)}：审计日志第 {e.seq} 条记录的更正稿在档案库中已不存在"
                     for e in lost]  # fmt: skip
    # a supersession must come from a correction of that very document
    links = dict(
        session.execute(select(DraftCorrection.draft_id, DraftCorrection.document_id)).all()
    )
    drafts_of = dict(session.execute(select(IssuedDocument.id, IssuedDocument.draft_id)).all())
    for row in session.scalars(
        select(DocumentStatus).where(DocumentStatus.status == st.SUPERSEDED)
    ):
        if links.get(drafts_of.get(row.successor_id)) != row.document_id:
            problems.append(f"{doc(row.document_id)}：记为被 {doc(row.successor_id)} 替代，"
                            "但后者不是它的更正稿")  # fmt: skip
    return problems


def check_normative(session: Session) -> list[str]:
    """Register entries ↔ their `normative.register` events, and each unified-number sequence
    1..last_value, every number given once (or raised past by `numbers confirm`)."""
    problems = []
    units = {u.id: u for u in session.scalars(select(Unit))}
    raised = raised_register_numbers(session)
    events: dict[str, list[AuditEntry]] = defaultdict(list)
    for e in _events(session, REGISTER_ACTION):
        events[e.object_id].append(e)
    by_key: dict[tuple[int, int], list[NormativeDocument]] = defaultdict(list)
    for entry in session.scalars(select(NormativeDocument).order_by(NormativeDocument.id)):
        by_key[(entry.unit_id, entry.number_year)].append(entry)
        mine = events.pop(str(entry.id), [])
        label = f"规范性文件 {entry.number}"
        if not mine:
            problems.append(f"{label}：审计日志中没有它的登记记录（{REGISTER_ACTION}）")
        elif (mine[0].detail or {}).get("number") != entry.number:
            problems.append(f"{label}：统一编号与审计日志第 {mine[0].seq} 条"
                            f"（{(mine[0].detail or {}).get('number')}）不符")  # fmt: skip
        unit = units.get(entry.unit_id)
        code = (unit.doc_code or unit.code) if unit else ""
        if entry.number != normative_number(code, entry.number_year, entry.number_seq):
            problems.append(f"{label}：编号与其序列号不符")
    for lost in events.values():
        for e in lost:
            problems.append(f"规范性文件 {(e.detail or {}).get('number', '')}：审计日志第 {e.seq} 条"
                            "记录了它的登记，登记簿中却没有——登记被删除")  # fmt: skip
    for row in session.scalars(select(NormativeSequence).order_by(NormativeSequence.id)):
        unit = units.get(row.unit_id)
        name = f"规范性文件统一编号序列 {row.year} 年（{unit.name if unit else row.unit_id}）"
        counts = Counter(e.number_seq for e in by_key.pop((row.unit_id, row.year), []))
        extra = raised.get((row.unit_id, row.year), set())  # given before a restore
        missing = [n for n in range(1, row.last_value + 1) if n not in counts and n not in extra]
        if missing:
            problems.append(f"{name}：已编到 {row.last_value} 号，但第 "
                            f"{'、'.join(map(str, missing[:20]))} 号没有登记——编号不连续")  # fmt: skip
        twice = [n for n, c in counts.items() if c > 1 or n > row.last_value]
        if twice:
            problems.append(f"{name}：第 {'、'.join(map(str, sorted(twice)))} 号重复或超出序列")
    for (unit_id, year), orphans in by_key.items():
        problems.append(f"规范性文件统一编号序列 {year} 年（{unit_id}）不存在，"
                        f"但已有 {'、'.join(e.number for e in orphans)}")  # fmt: skip
    return problems
