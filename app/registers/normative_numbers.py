"""Unified numbers (统一编号) of the normative-documents register and the audit checkpoint kept
outside the database (app/integrity/checkpoint.py), as for 发文字号 (app/drafting/sequences.py):
registering from a sequence behind the checkpoint (a database restored from an older backup)
is refused, since it would give a published number again, and each registration advances the
checkpoint once its transaction commits. `casefile numbers confirm` raises such a sequence."""

from __future__ import annotations

import logging

from sqlalchemy import event, select
from sqlalchemy.orm import Session

from app import audit
from app.audit.models import AuditEntry
from app.config import Settings
from app.errors import WorkflowError
from app.identity.models import Unit, User
from app.integrity import checkpoint
from app.integrity.checkpoint import CheckpointError
from app.registers.models import NormativeSequence

log = logging.getLogger(__name__)
RAISE_ACTION = "numbers.raise"  # as for 发文字号 (app/drafting/sequences.py)


def refuse_if_behind(settings: Settings, session: Session, unit: Unit, year: int) -> None:
    """WorkflowError while a restore is unconfirmed or the sequence is behind the checkpoint."""
    restored = checkpoint.restore_pending(settings)
    if restored is not None:
        raise WorkflowError(
            f"暂停登记：档案库已从备份恢复（{restored.get('restored_from', '')}），恢复后的数据库可能"
            "不知道此后已编出的统一编号。请管理员运行 casefile numbers confirm 确认后恢复登记"
        )
    try:
        last = checkpoint.normative_behind(settings, session, unit.id, year)
    except CheckpointError as exc:
        raise WorkflowError(
            f"暂停登记：{exc}。请管理员检查档案库后运行 casefile numbers confirm"
        ) from exc
    if last is not None:
        raise WorkflowError(
            f"暂停登记：{unit.name} {year} 年的规范性文件统一编号已编至 {last} 号（见审计检查点），"
            "而数据库中的序列落后于此，档案库可能是从备份恢复的。为避免重复使用已公布的编号，"
            "请管理员核实后运行 casefile numbers confirm"
        )


def advance_after_commit(
    settings: Settings, session: Session, unit: Unit, year: int, seq: int
) -> None:
    """Once the registering transaction commits, the checkpoint learns the head and the number
    (a crash in between leaves it one behind: `verify` catches up)."""
    new = checkpoint.Checkpoint(head=checkpoint.head_of(session), normative={(unit.id, year): seq},
                                units={unit.id: unit.code})  # fmt: skip

    def write(_session: Session) -> None:
        try:
            checkpoint.advance(settings, new)
        except (OSError, CheckpointError):
            log.exception("could not advance the audit checkpoint after registering %s", seq)

    event.listen(session, "after_commit", write, once=True)


def sequences_and_checkpoint(
    session: Session, cp: checkpoint.Checkpoint | None
) -> list[tuple[str, str, int, int, int | None]]:
    """`casefile numbers status`: every register sequence in the database or the checkpoint, as
    (unit code, the number's prefix as printed (武政规), year, last value, checkpoint's last)."""
    units = {u.id: u for u in session.scalars(select(Unit))}
    rows = {(r.unit_id, r.year): r.last_value for r in session.scalars(select(NormativeSequence))}
    seen = cp.normative if cp else {}
    out = []
    for unit_id, year in sorted(set(rows) | set(seen)):
        unit = units.get(unit_id)
        code = unit.code if unit else (cp.units.get(unit_id, "") if cp else "")
        prefix = f"{(unit.doc_code or unit.code) if unit else code}规"
        out.append((code, prefix, year, rows.get((unit_id, year), 0), seen.get((unit_id, year))))
    return out


def raise_to_checkpoint(
    session: Session, cp: checkpoint.Checkpoint, actor: User | None
) -> list[dict]:
    """`casefile numbers confirm`: raise each register sequence behind the checkpoint to the
    last unified number it saw given (audited as `numbers.raise`, register "normative"; verify
    counts the raised numbers as given, not as gaps)."""
    done = []
    units = {u.id: u for u in session.scalars(select(Unit))}
    for (unit_id, year), last in sorted(cp.normative.items()):
        if unit_id not in units:
            continue
        row = session.scalars(select(NormativeSequence).where(
            NormativeSequence.unit_id == unit_id, NormativeSequence.year == year)).first()  # fmt: skip
        if row is None:
            row = NormativeSequence(unit_id=unit_id, year=year, last_value=0)
            session.add(row)
            session.flush()
        if row.last_value >= last:
            continue
        before, row.last_value = row.last_value, last
        unit = units[unit_id]
        audit.record(session, RAISE_ACTION, actor=actor, object_type="normative_sequence",
                     object_id=row.id, detail={"register": "normative", "unit_id": unit_id,
                     "unit": unit.code, "year": year, "from": before, "to": last,
                     "reason": "checkpoint"})  # fmt: skip
        done.append({"register": "normative", "unit": unit.code, "year": year, "from": before,
                     "to": last})  # fmt: skip
    return done


def raised_register_numbers(session: Session) -> dict[tuple[int, int], set[int]]:
    """Unified numbers an administrator's confirmation raised a register sequence past."""
    out: dict[tuple[int, int], set[int]] = {}
    for e in session.scalars(select(AuditEntry).where(AuditEntry.action == RAISE_ACTION)):
        d = e.detail or {}
        if d.get("register") != "normative":
            continue
        try:
            key = (int(d["unit_id"]), int(d["year"]))
            out.setdefault(key, set()).update(range(int(d["from"]) + 1, int(d["to"]) + 1))
        except (KeyError, TypeError, ValueError):
            continue
    return out
