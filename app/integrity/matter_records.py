"""Matters (法律事务) against the audit log (part of `casefile verify`'s cross-check, see
records.py).

Every act on a matter writes a write-once `MatterEvent` and its audit event (`matter.<kind>`,
naming the event and the state it left the matter in) in one transaction; the matter and its
deployments (调配) carry only their current state. So:

- every matter event has its audit event, and they agree (act, matter, who, lawyer, file, and
  the state the matter was left in); every such audit event's matter event and matter exist;
- replaying a matter's events gives its current state and lawyer, and each deployment's state
  and lawyer; a matter agrees with its `matter.create` event (unit, kind, title).
"""

from __future__ import annotations

from collections import defaultdict

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.audit.models import AuditEntry
from app.identity.models import Unit, User
from app.matters.models import EVENT_LABELS, STATUS_LABELS, Deployment, Matter, MatterEvent
from app.matters.service import TRANSITIONS

# the state each act leaves a matter in (None: unchanged); registration and 选派 included
STATE_AFTER = {kind: to for kind, (_, to) in TRANSITIONS.items()} | {
    "create": "pending",
    "deploy": "assigned",
}
READS = {"matter.read", "matter.download"}  # audited reads: no matter event behind them


def _when(e: MatterEvent) -> str:
    return e.created_at.strftime("%Y-%m-%d %H:%M") if e.created_at else ""


def check_matters(session: Session) -> list[str]:
    """Matter events ↔ their audit events; each matter's and deployment's state ↔ its events."""
    problems: list[str] = []
    users = dict(session.execute(select(User.id, User.username)).all())
    units = dict(session.execute(select(Unit.id, Unit.code)).all())
    matters = {m.id: m for m in session.scalars(select(Matter))}
    audited: dict[object, list[AuditEntry]] = defaultdict(list)
    for e in session.scalars(
        select(AuditEntry)
        .where(AuditEntry.object_type == "matter", AuditEntry.action.not_in(READS))
        .order_by(AuditEntry.seq)
    ):
        audited[(e.detail or {}).get("event")].append(e)
    events: dict[int, list[MatterEvent]] = defaultdict(list)
    for ev in session.scalars(select(MatterEvent).order_by(MatterEvent.id)):
        events[ev.matter_id].append(ev)

    def name(matter_id) -> str:
        m = matters.get(matter_id)
        return f"法律事务 {matter_id}「{m.title}」" if m else f"法律事务 {matter_id}"

    for matter_id in sorted(set(events) | set(matters)):
        status, lawyer = None, None
        deployed: dict[int, tuple[str, int | None]] = {}  # deployment -> (state, lawyer)
        for ev in events.get(matter_id, []):
            label = (
                f"{name(matter_id)}的办理记录（{EVENT_LABELS.get(ev.kind, ev.kind)}，{_when(ev)}）"
            )
            status = STATE_AFTER.get(ev.kind) or status
            if ev.kind in ("assign", "deploy"):
                lawyer = ev.lawyer_id
            elif ev.kind in ("decline", "return"):
                lawyer = None
            mine = audited.pop(ev.id, [])
            if not mine:
                problems.append(f"{label}：审计日志中没有这次办理的记录")
                continue
            a, d = mine[0], mine[0].detail or {}
            wrong = []
            if a.action != f"matter.{ev.kind}":
                wrong.append("办理事项")
            if a.object_id != str(ev.matter_id):
                wrong.append("所属事务")
            if a.actor_id != ev.user_id:
                wrong.append(f"办理人（记录为 {users.get(ev.user_id, ev.user_id)}，"
                             f"审计日志为 {a.actor or a.actor_id}）")  # fmt: skip
            if d.get("status") != status:
                wrong.append("办理后的状态")
            if (d.get("sha256") or None) != (ev.file_sha256 or None):
                wrong.append("附件的 SHA-256")
            if ev.kind in ("assign", "deploy") and d.get("lawyer") != users.get(ev.lawyer_id):
                wrong.append("承办人")
            if wrong:
                problems.append(f"{label}：" + "、".join(wrong) + f"与审计日志第 {a.seq} 条不符")
            _replay_deployment(ev, d, deployed)
            if ev.kind == "create" and ev.matter_id in matters:
                m = matters[ev.matter_id]
                if (d.get("unit"), d.get("kind"), d.get("title")) != (
                    units.get(m.unit_id),
                    m.kind,
                    m.title,
                ):
                    problems.append(f"{name(matter_id)}：单位、类别或事由与审计日志第 {a.seq} 条"
                                    "（登记）不符")  # fmt: skip
        m = matters.get(matter_id)
        if m is None:
            problems.append(
                f"{name(matter_id)}：有办理记录，档案库中却没有这件事务——法律事务被删除"
            )
            continue
        if status is None:
            problems.append(f"{name(matter_id)}：没有登记记录，审计日志中也没有它的办理过程")
            continue
        if m.status != status:
            problems.append(
                f"{name(matter_id)}：状态记录为「{STATUS_LABELS.get(m.status, m.status)}」，"
                f"按办理记录应为「{STATUS_LABELS.get(status, status)}」——状态被改动"
            )
        if m.lawyer_id != lawyer:
            problems.append(
                f"{name(matter_id)}：承办人记录为 {users.get(m.lawyer_id, '无')}，"
                f"按办理记录应为 {users.get(lawyer, '无')}——承办人被改动"
            )
        problems += _check_deployments(session, name(matter_id), m.id, deployed, users)
    for event_id, lost in audited.items():
        for a in lost:
            what = (a.detail or {}).get("status")
            gone = "这件事务" if _int(a.object_id) not in matters else "这条办理记录"
            problems.append(
                f"{name(_int(a.object_id) or a.object_id)}：审计日志第 {a.seq} 条记录了办理"
                f"（{a.actor}，办理记录 {event_id}，办理后状态「{STATUS_LABELS.get(what, what)}」），"
                f"档案库中却没有{gone}——记录被删除"
            )
    return problems


def _replay_deployment(ev: MatterEvent, d: dict, deployed: dict) -> None:
    """What an act does to the matter's deployments (deployment.py, service.py)."""
    if ev.kind == "request" and d.get("deployment") is not None:
        deployed[d["deployment"]] = ("requested", None)
    elif ev.kind == "deploy" and d.get("deployment") is not None:
        deployed[d["deployment"]] = ("deployed", ev.lawyer_id)
    elif ev.kind == "decline":  # the upper unit picks again
        for k, (state, _) in deployed.items():
            if state == "deployed":
                deployed[k] = ("requested", None)
    elif ev.kind == "return":
        for k, (_, lawyer) in deployed.items():
            deployed[k] = ("withdrawn", lawyer)


def _check_deployments(session: Session, label: str, matter_id: int, deployed: dict,
                       users: dict) -> list[str]:  # fmt: skip
    problems = []
    rows = session.scalars(select(Deployment).where(Deployment.matter_id == matter_id))
    for row in rows:
        expected = deployed.pop(row.id, None)
        if expected is None:
            problems.append(f"{label}的调配申请 {row.id}：审计日志中没有申请调配的记录")
        elif (row.status, row.lawyer_id) != expected:
            problems.append(
                f"{label}的调配申请 {row.id}：状态或选派的公职律师（{users.get(row.lawyer_id, '无')}）"
                "与办理记录不符——调配记录被改动"
            )
    problems += [f"{label}：审计日志记录的调配申请 {k} 在档案库中已不存在" for k in deployed]
    return problems


def _int(value) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None
