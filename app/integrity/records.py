"""Records against the audit log, and every 发文字号 sequence against the numbers issued.

The write-once triggers stop a change made through an ordinary connection; someone who lifts
them (SQLite: DROP TRIGGER; PostgreSQL: session_replication_role = replica) can change or
delete a row. Every act that makes a record writes its audit event in the same transaction,
and the hash chain makes the log evident to change, so:

- every issued document has its `document.issue` event and agrees with it (number, title,
  issuer, time, files, draft), and every such event's document exists;
- every review step has its `draft.submit` / `draft.approve` / `draft.return` / `draft.note`
  event (who, which step, which text), and every such event's step exists;
- every `casefile.add` event's item exists and holds what was filed;
- every number sequence runs 1..last_value, each number issued once (or raised past by an
  administrator after a restore: `numbers.raise` events);
- document statuses and the normative-documents register, likewise (status_records.py);
- matters (法律事务): their events, states and deployments (matter_records.py).

Every problem names the document by its 发文字号.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.audit.labels import action_label
from app.audit.models import AuditEntry
from app.casefiles.models import CaseFile, CaseFileItem
from app.drafting.models import Draft, IssuedDocument, NumberSequence, ReviewStep
from app.drafting.numbering import format_number
from app.drafting.sequences import RAISE_ACTION
from app.identity.models import Unit, User
from app.integrity.matter_records import check_matters
from app.integrity.status_records import check_normative, check_statuses

STEP_ACTIONS = {
    "draft.submit": "submit",
    "draft.approve": "approve",
    "draft.return": "return",
    "draft.note": "note",
    "draft.withdraw": "withdraw",
}
DECISIONS = {
    "submit": "提交审核",
    "approve": "同意",
    "return": "退回修改",
    "note": "补充意见",
    "withdraw": "撤回审核",
}
# Events written before `issued_at` was recorded in them: the event is written a moment after
# the record, in the same transaction.
ISSUED_AT_SLACK = dt.timedelta(minutes=10)


def _events(session: Session, *actions: str) -> list[AuditEntry]:
    return list(
        session.scalars(
            select(AuditEntry).where(AuditEntry.action.in_(actions)).order_by(AuditEntry.seq)
        )
    )


def _stamp(value: dt.datetime | None) -> str:
    return value.isoformat(timespec="microseconds") if value else ""


def issued_differences(doc: IssuedDocument, e: AuditEntry, users: dict[int, str]) -> list[str]:
    """What differs between an issued document and its `document.issue` event."""
    d = e.detail or {}
    out = []

    def differs(what: str, recorded, logged) -> None:
        out.append(
            f"{what}与审计日志不符（记录为「{recorded}」，审计日志第 {e.seq} 条为「{logged}」）"
        )

    if d.get("number") != doc.number:
        differs("发文字号", doc.number, d.get("number"))
    if "title" in d and d["title"] != doc.title:
        differs("标题", doc.title, d["title"])
    if e.actor_id != doc.issued_by:
        differs("发文人", users.get(doc.issued_by, doc.issued_by), e.actor or e.actor_id)
    if "issued_at" in d:
        if d["issued_at"] != _stamp(doc.issued_at):
            differs("发文时间", _stamp(doc.issued_at), d["issued_at"])
    elif doc.issued_at is None or abs(e.at - doc.issued_at) > ISSUED_AT_SLACK:
        differs("发文时间", _stamp(doc.issued_at), _stamp(e.at))
    if "issue_date" in d and d["issue_date"] != doc.issue_date.isoformat():
        differs("成文日期", doc.issue_date.isoformat(), d["issue_date"])
    if d.get("sha256") != doc.docx_sha256:
        differs("发文稿 SHA-256", doc.docx_sha256, d.get("sha256"))
    if d.get("approved_sha256") != doc.approved_sha256:
        differs("审核稿 SHA-256", doc.approved_sha256, d.get("approved_sha256"))
    if d.get("draft") != doc.draft_id:
        differs("草稿编号", doc.draft_id, d.get("draft"))
    return out


def check_issued(session: Session) -> list[str]:
    """Issued documents ↔ `document.issue` events."""
    problems = []
    users = dict(session.execute(select(User.id, User.username)).all())
    events: dict[str, list[AuditEntry]] = defaultdict(list)
    for e in _events(session, "document.issue"):
        events[e.object_id].append(e)
    for doc in session.scalars(select(IssuedDocument).order_by(IssuedDocument.id)):
        label = f"文书 {doc.number}"
        mine = events.pop(str(doc.id), [])
        if not mine:
            problems.append(f"{label}：审计日志中没有它的发文记录（document.issue）")
            continue
        problems += [f"{label}：{m}" for m in issued_differences(doc, mine[0], users)]
        if len(mine) > 1:
            problems.append(f"{label}：审计日志中有 {len(mine)} 条发文记录")
    for object_id, lost in events.items():
        for e in lost:
            number = (e.detail or {}).get("number", "（未知文号）")
            problems.append(
                f"文书 {number}：审计日志第 {e.seq} 条记录了它的发文（document {object_id}），"
                "档案库中却没有这份文书——已发文书被删除"
            )
    return problems


def _step_event_key(e: AuditEntry) -> tuple:
    d = e.detail or {}
    decision = STEP_ACTIONS[e.action]
    name = "submit" if decision == "submit" else d.get("step") if decision != "note" else None
    return decision, name, e.actor_id, d.get("sha256")


def _step_key(s: ReviewStep) -> tuple:
    name = None if s.decision == "note" else s.step_name
    return s.decision, name, s.user_id, s.version_sha256


def _step_id(e: AuditEntry) -> int | None:
    d = e.detail or {}
    if "step_id" in d:
        return d["step_id"]
    return d.get("step") if e.action == "draft.note" else None


def check_steps(session: Session) -> list[str]:
    """Review steps ↔ their events: who acted, in which step, on which text."""
    problems = []
    users = dict(session.execute(select(User.id, User.username)).all())
    numbers = dict(session.execute(select(IssuedDocument.draft_id, IssuedDocument.number)).all())
    titles = dict(session.execute(select(Draft.id, Draft.title)).all())

    def draft_label(draft_id: int) -> str:
        if draft_id in numbers:
            return f"文书 {numbers[draft_id]}"
        return f"草稿 {draft_id}「{titles.get(draft_id, '已不存在')}」"

    def step_label(s: ReviewStep) -> str:
        when = s.created_at.strftime("%Y-%m-%d %H:%M") if s.created_at else ""
        name = "" if s.decision in {"submit", "note", "withdraw"} else f"「{s.step_name}」"
        return f"{draft_label(s.draft_id)} 的办理记录（{DECISIONS.get(s.decision, s.decision)}{name}，{when}）"

    def who(user_id) -> str:
        return users.get(user_id, f"用户 {user_id}")

    events_by_draft: dict[int, list[AuditEntry]] = defaultdict(list)
    for e in _events(session, *STEP_ACTIONS):
        try:
            events_by_draft[int(e.object_id)].append(e)
        except ValueError:
            problems.append(
                f"审计日志第 {e.seq} 条（{action_label(e.action)}）的对象编号无效：{e.object_id!r}"
            )
    steps_by_draft: dict[int, list[ReviewStep]] = defaultdict(list)
    for s in session.scalars(select(ReviewStep).order_by(ReviewStep.id)):
        steps_by_draft[s.draft_id].append(s)

    for draft_id in sorted(set(events_by_draft) | set(steps_by_draft)):
        steps = {s.id: s for s in steps_by_draft.get(draft_id, [])}
        legacy: list[AuditEntry] = []
        for e in events_by_draft.get(draft_id, []):
            sid = _step_id(e)
            if sid is None:
                legacy.append(e)
                continue
            s = steps.pop(sid, None)
            if s is None:
                problems.append(
                    f"{draft_label(draft_id)}：审计日志第 {e.seq} 条记录的办理（{e.actor}，"
                    f"{DECISIONS[STEP_ACTIONS[e.action]]}）在档案库中已不存在——办理记录被删除"
                )
                continue
            if _step_key(s) != _step_event_key(e):
                problems.append(f"{step_label(s)}：{_step_diff(s, e, who)}")
        # events written before they named their step: match on who, decision, step and text
        unmatched = Counter(_step_event_key(e) for e in legacy)
        by_key = defaultdict(list)
        for e in legacy:
            by_key[_step_event_key(e)].append(e)
        left = []
        for s in steps.values():
            key = _step_key(s)
            if unmatched[key] > 0:
                unmatched[key] -= 1
                by_key[key].pop(0)
            else:
                left.append(s)
        spare = [e for es in by_key.values() for e in es]
        for s in left:
            near = next((e for e in spare if _step_event_key(e)[:2] == _step_key(s)[:2]), None)
            if near is None:
                problems.append(f"{step_label(s)}：审计日志中没有这次办理的记录")
                continue
            spare.remove(near)
            problems.append(f"{step_label(s)}：{_step_diff(s, near, who)}")
        for e in spare:
            problems.append(
                f"{draft_label(draft_id)}：审计日志第 {e.seq} 条记录的办理（{e.actor}，"
                f"{DECISIONS[STEP_ACTIONS[e.action]]}）在档案库中没有对应的办理记录"
            )
    return problems


def _step_diff(s: ReviewStep, e: AuditEntry, who) -> str:
    decision, name, user_id, sha = _step_event_key(e)
    parts = []
    if user_id != s.user_id:
        parts.append(
            f"办理人记录为 {who(s.user_id)}，审计日志第 {e.seq} 条为 {e.actor or who(user_id)}"
        )
    if decision != s.decision:
        parts.append(f"决定记录为「{s.decision}」，审计日志为「{decision}」")
    if name is not None and s.decision != "note" and name != s.step_name:
        parts.append(f"环节记录为「{s.step_name}」，审计日志为「{name}」")
    if sha != s.version_sha256:
        parts.append("所审核版本的 SHA-256 与审计日志不符")
    return "与审计日志不符：" + "；".join(parts or ["内容不一致"])


def check_filings(session: Session) -> list[str]:
    """Every `casefile.add` event's item exists and holds what was filed, unless a later
    `casefile.remove` event took it out of its (then open) case file."""
    problems = []
    numbers = dict(session.execute(select(IssuedDocument.id, IssuedDocument.number)).all())
    cases = dict(session.execute(select(CaseFile.id, CaseFile.title)).all())
    items = {i.id: i for i in session.scalars(select(CaseFileItem))}
    removed = {
        (e.object_id, (e.detail or {}).get("item")): e.seq
        for e in _events(session, "casefile.remove")
    }
    for e in _events(session, "casefile.add"):
        d = e.detail or {}
        if d.get("item") not in items and removed.get((e.object_id, d.get("item")), 0) > e.seq:
            continue  # filed, then removed before closing: both are on record
        what = (
            f"文书 {d.get('number') or numbers.get(d.get('document'), d.get('document'))}"
            if d.get("document") is not None
            else f"材料「{d.get('name', '')}」"
        )
        case = f"案卷 {e.object_id}「{cases.get(_int(e.object_id), '已不存在')}」"
        item = items.get(d.get("item"))
        if item is None:
            problems.append(
                f"{case}：审计日志第 {e.seq} 条记录归入了{what}，档案库中却没有这一件——卷内文件被删除"
            )
            continue
        wrong = []
        if str(item.case_file_id) != e.object_id:
            wrong.append("所属案卷")
        if d.get("document") is not None and item.document_id != d["document"]:
            wrong.append("所归入的文书")
        if d.get("attachment") is not None and item.attachment_id != d["attachment"]:
            wrong.append("所归入的材料")
        elif (
            d.get("sha256")
            and item.attachment is not None
            and item.attachment.sha256 != d["sha256"]
        ):
            wrong.append("材料的 SHA-256")
        if wrong:
            problems.append(
                f"{case}第{item.position}件（{what}）："
                + "、".join(wrong)
                + f"与审计日志第 {e.seq} 条不符"
            )
    return problems


def _int(value: str) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def raised_numbers(session: Session) -> dict[tuple[int, str, int], set[int]]:
    """Numbers an administrator raised a sequence past (sent out before a restore)."""
    out: dict[tuple[int, str, int], set[int]] = defaultdict(set)
    for e in _events(session, RAISE_ACTION):
        d = e.detail or {}
        try:
            key = (int(d["unit_id"]), str(d["code"]), int(d["year"]))
            out[key].update(range(int(d["from"]) + 1, int(d["to"]) + 1))
        except (KeyError, TypeError, ValueError):
            continue
    return out


def check_sequences(session: Session) -> list[str]:
    """Each (unit, code, year) sequence: numbers 1..last_value all issued, once each, no
    document beyond last_value or outside any sequence."""
    problems = []
    units = dict(session.execute(select(Unit.id, Unit.name)).all())
    raised = raised_numbers(session)
    docs: dict[tuple[int, str, int], list[IssuedDocument]] = defaultdict(list)
    for doc in session.scalars(select(IssuedDocument).order_by(IssuedDocument.id)):
        docs[(doc.unit_id, doc.number_code, doc.number_year)].append(doc)
        expected = format_number(doc.number_code, doc.number_year, doc.number_seq)
        if doc.number != expected:
            problems.append(f"文书 {doc.number}：文号与其序列号不符（应为 {expected}）")
    for row in session.scalars(select(NumberSequence).order_by(NumberSequence.id)):
        key = (row.unit_id, row.code, row.year)
        name = f"文号序列 {row.code}〔{row.year}〕（{units.get(row.unit_id, row.unit_id)}）"
        mine = docs.pop(key, [])
        counts = Counter(d.number_seq for d in mine)
        for n, c in sorted(counts.items()):
            if c > 1:
                problems.append(f"{name}：{format_number(row.code, row.year, n)} 被发出 {c} 次")
        extra = set(raised.get(key, ()))
        missing = [n for n in range(1, row.last_value + 1) if n not in counts and n not in extra]
        if missing:
            shown = "、".join(format_number(row.code, row.year, n) for n in missing[:20])
            more = f"等 {len(missing)} 个" if len(missing) > 20 else ""
            problems.append(
                f"{name}：已编到 {row.last_value} 号，但 {shown}{more}没有发文记录——"
                "文号不连续（已发文书被删除，或序列被改动）"
            )
        beyond = sorted(d.number for d in mine if d.number_seq > row.last_value)
        if beyond:
            problems.append(
                f"{name}：只编到 {row.last_value} 号，却已有 {'、'.join(beyond)}——序列被改小"
            )
    for key, orphans in docs.items():
        unit_id, code, year = key
        problems.append(
            f"文号序列 {code}〔{year}〕（{units.get(unit_id, unit_id)}）不存在，"
            f"但已有文书 {'、'.join(d.number for d in orphans)}"
        )
    return problems


def cross_check(session: Session) -> list[str]:
    return (
        check_issued(session)
        + check_steps(session)
        + check_filings(session)
        + check_sequences(session)
        + check_statuses(session)
        + check_normative(session)
        + check_matters(session)
    )
