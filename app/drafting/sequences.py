"""Number sequences after a restore: never issue again a number already sent out.

A database restored from a backup has its sequences where they were when the backup was made;
the documents issued since were sent out under numbers the restored database does not know.
The audit checkpoint outside the database (app/integrity/checkpoint.py) remembers the last
number of every sequence, so issuing from a sequence behind it is refused until an
administrator either confirms the checkpoint's numbers (`casefile numbers confirm`: every
sequence is raised to them) or raises a sequence past the last number sent out
(`casefile numbers raise CODE YEAR N`), e.g. when the checkpoint itself came from the backup.
Both are audited (`numbers.raise`); `verify` counts raised numbers as sent out, not as gaps.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import event, select
from sqlalchemy.orm import Session

from app import audit
from app.audit.models import AuditEntry
from app.config import Settings
from app.drafting.models import NumberSequence
from app.errors import NotFound, ValidationFailed, WorkflowError
from app.identity.models import Unit, User
from app.integrity import checkpoint
from app.integrity.checkpoint import CheckpointError
from app.registers import normative_numbers

RAISE_ACTION = "numbers.raise"


def refuse_if_behind(
    settings: Settings, session: Session, unit: Unit, code: str, year: int
) -> None:
    """Raise WorkflowError when the archive was restored and not yet confirmed, or when the
    sequence is behind a number already sent out."""
    restored = checkpoint.restore_pending(settings)
    if restored is not None:
        raise WorkflowError(
            f"暂停发文：档案库已从备份恢复（{restored.get('restored_from', '')}），恢复后的数据库可能不知道"
            "此后已发出的文号。请管理员运行 casefile numbers status 核对各序列最后发出的文号，"
            "必要时 casefile numbers raise 调高，再运行 casefile numbers confirm 确认后恢复发文"
        )
    try:
        last = checkpoint.behind(settings, session, (unit.id, code, year))
    except CheckpointError as exc:
        raise WorkflowError(
            f"暂停发文：{exc}。无法确认已发出的文号，请管理员检查档案库后运行 "
            "casefile numbers confirm"
        ) from exc
    if last is not None:
        raise WorkflowError(
            f"暂停发文：{code}〔{year}〕已发出至 {last} 号（见审计检查点），而数据库中的文号序列落后于此，"
            "档案库可能是从备份恢复的。为避免重复使用已发出的文号，请管理员核实最后发出的文号后运行 "
            f"casefile numbers confirm，或 casefile numbers raise {code} {year} N 将序列调到已发出的最后一号"
        )


@dataclass
class SequenceState:
    unit: str
    code: str
    year: int
    last_value: int  # in the database
    checkpoint: int | None  # the last number the checkpoint saw sent out
    register: str = "dispatch"  # 发文字号; "normative": the register's 统一编号 (code: 武政规)

    @property
    def behind(self) -> bool:
        return self.checkpoint is not None and self.last_value < self.checkpoint

    def as_dict(self) -> dict:
        return {**vars(self), "behind": self.behind}


def status(settings: Settings, session: Session) -> tuple[list[SequenceState], str | None]:
    """Every sequence in the database or the checkpoint, 发文字号 then the normative register's
    统一编号; and why the checkpoint is unreadable."""
    try:
        cp = checkpoint.load(settings)
        error = None
    except CheckpointError as exc:
        cp, error = None, str(exc)
    units = dict(session.execute(select(Unit.id, Unit.code)).all())
    rows = {
        (r.unit_id, r.code, r.year): r.last_value for r in session.scalars(select(NumberSequence))
    }
    keys = set(rows) | set(cp.sequences if cp else ())
    out = [
        SequenceState(
            unit=units.get(k[0]) or (cp.units.get(k[0], "") if cp else ""),
            code=k[1],
            year=k[2],
            last_value=rows.get(k, 0),
            checkpoint=cp.sequences.get(k) if cp else None,
        )  # fmt: skip
        for k in sorted(keys)
    ]
    out += [
        SequenceState(unit, code, year, last, seen, register="normative")
        for unit, code, year, last, seen in normative_numbers.sequences_and_checkpoint(session, cp)
    ]
    return out, error


def _sequence(session: Session, unit_id: int, code: str, year: int) -> NumberSequence:
    query = select(NumberSequence).where(
        NumberSequence.unit_id == unit_id, NumberSequence.code == code, NumberSequence.year == year
    )
    if session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update()
    row = session.scalars(query).first()
    if row is None:
        row = NumberSequence(unit_id=unit_id, code=code, year=year, last_value=0)
        session.add(row)
        session.flush()
    return row


def _unit_for(session: Session, code: str, year: int, unit_code: str | None) -> Unit:
    if unit_code:
        unit = session.scalars(select(Unit).where(Unit.code == unit_code)).first()
        if unit is None:
            raise NotFound(f"单位“{unit_code}”不存在")
        return unit
    ids = set(
        session.scalars(
            select(NumberSequence.unit_id).where(
                NumberSequence.code == code, NumberSequence.year == year
            )
        )
    )
    units = [u for u in session.scalars(select(Unit)) if u.id in ids or (
        not ids and u.doc_code and code.startswith(u.doc_code))]  # fmt: skip
    if len(units) != 1:
        raise ValidationFailed(
            f"无法确定 {code}〔{year}〕属于哪个单位，请用 --unit 指明单位代码",
            [{"field": "unit", "label": "单位", "message": "请指明单位代码"}],
        )
    return units[0]


def raise_to(
    session: Session, unit: Unit, code: str, year: int, to: int, *, actor: User | None = None,
    reason: str = "",
) -> tuple[int, int]:  # fmt: skip
    """Set the sequence's last number to `to` (only upwards); returns (before, after)."""
    row = _sequence(session, unit.id, code, year)
    if to <= row.last_value:
        raise WorkflowError(
            f"{code}〔{year}〕已编到 {row.last_value} 号，只能调高到更大的号，不能调低或不变"
        )
    before, row.last_value = row.last_value, to
    audit.record(session, RAISE_ACTION, actor=actor, object_type="number_sequence",
                 object_id=row.id, detail={"unit_id": unit.id, "unit": unit.code, "code": code,
                 "year": year, "from": before, "to": to, "reason": reason})  # fmt: skip
    return before, to


def raise_sequence(
    settings: Settings, session: Session, code: str, year: int, to: int,
    unit_code: str | None = None, actor: User | None = None,
) -> tuple[int, int]:  # fmt: skip
    """`casefile numbers raise CODE YEAR N`: the last number sent out in that sequence is N."""
    if to < 1 or not 1900 <= year <= 9999:
        raise ValidationFailed(
            "文号和年份须为正整数", [{"field": "n", "label": "文号", "message": "须为正整数"}]
        )
    unit = _unit_for(session, code, year, unit_code)
    return raise_to(session, unit, code, year, to, actor=actor, reason="administrator")


def confirm(settings: Settings, session: Session, actor: User | None = None) -> list[dict]:
    """`casefile numbers confirm`: raise every sequence behind the checkpoint to it (the numbers
    it saw sent out, and the normative register's unified numbers); with an unreadable checkpoint, replace it with the database's state (the
    administrator has checked the last numbers sent out by other means). The checkpoint's head
    then moves to the database's own (audit entries lost with the restore are named in the
    `numbers.confirm` event and kept under "superseded"), and issuing resumes."""
    done = []
    try:
        cp = checkpoint.load(settings)
    except CheckpointError:
        cp = None
        checkpoint.advance(settings, checkpoint.snapshot(session), replace_unreadable=True)
    if cp is not None:
        units = {u.id: u for u in session.scalars(select(Unit))}
        for (unit_id, code, year), last in sorted(cp.sequences.items()):
            unit = units.get(unit_id)
            row = _sequence(session, unit_id, code, year) if unit else None
            if unit is None or row.last_value >= last:
                continue
            before, after = raise_to(session, unit, code, year, last, actor=actor,
                                     reason="checkpoint")  # fmt: skip
            done.append(
                {"unit": unit.code, "code": code, "year": year, "from": before, "to": after}
            )
        done += normative_numbers.raise_to_checkpoint(session, cp, actor)  # 统一编号 too
    lost = None
    if cp is not None and cp.head is not None:
        now = checkpoint.head_of(session)
        row = session.scalar(select(AuditEntry.entry_hash).where(AuditEntry.seq == cp.head.seq))
        if row != cp.head.entry_hash:
            lost = {"seq": cp.head.seq, "entry_hash": cp.head.entry_hash,
                    "restored_head": now.seq if now else 0}  # fmt: skip
    audit.record(session, "numbers.confirm", actor=actor, object_type="number_sequence",
                 detail={"raised": done, "lost_audit_head": lost,
                         "restore": checkpoint.restore_pending(settings)})  # fmt: skip
    head = checkpoint.head_of(session)

    def anchor(_session: Session) -> None:
        checkpoint.advance(settings, checkpoint.Checkpoint(head=head),
                           rebase="numbers confirm" if lost else "")  # fmt: skip
        checkpoint.clear_restored(settings)

    event.listen(session, "after_commit", anchor, once=True)
    return done
