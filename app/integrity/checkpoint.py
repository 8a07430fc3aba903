"""The audit checkpoint: the chain's head, the last 发文字号 of every sequence and the last
unified number (统一编号) of every normative-documents register sequence, kept outside the
database (archive/audit-checkpoint.json).

Someone who can lift the write-once triggers can also delete the last entries of the audit log,
or rewrite the last entry and its hash (the chain is not keyed), and the database alone would
not show it. The checkpoint remembers what the database had: `casefile verify` writes it when
the archive passes, issuance and registration advance it after each commit, and `verify` compares the
database with it (entries missing from the end, a head that changed, a sequence behind a number
already sent out). It only ever moves forward: a value is replaced by a larger one, never a
smaller one, so a database restored from an older backup shows up as behind it, and issuing
(or registering) from a sequence behind it is refused until an administrator raises the sequence
(app/drafting/sequences.py).

The file is as safe as the archive directory; `verify` prints the head for the operator to keep
somewhere else too (docs/security.md says what this proves and what it cannot).
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.audit.models import AuditEntry
from app.config import Settings
from app.db.base import utcnow
from app.drafting.models import IssuedDocument, NumberSequence
from app.identity.models import Unit
from app.registers.models import NormativeSequence

FILE_NAME = "audit-checkpoint.json"
RESTORE_MARKER = "restore-pending.json"  # written by a restore, removed by `numbers confirm`
FORMAT = 1

SeqKey = tuple[int, str, int]  # (unit id, code, year)
NormKey = tuple[int, int]  # (unit id, year): a register's unified-number sequence


class CheckpointError(ValueError):
    """The checkpoint file exists but cannot be read."""


@dataclass
class Head:
    seq: int
    entry_hash: str
    at: str = ""


@dataclass
class Checkpoint:
    head: Head | None = None
    sequences: dict[SeqKey, int] = field(default_factory=dict)  # the last number sent out
    normative: dict[NormKey, int] = field(default_factory=dict)  # the last 统一编号 given
    units: dict[int, str] = field(default_factory=dict)  # unit id -> code, for people
    documents: int = 0
    written_at: str = ""
    # heads given up when an administrator confirmed a restore: the entries after the restored
    # head are lost, and the checkpoint says so instead of forgetting it
    superseded: list[dict] = field(default_factory=list)

    def as_json(self) -> dict:
        return {
            "format": FORMAT,
            "written_at": self.written_at,
            "audit": None if self.head is None else vars(self.head),
            "documents": self.documents,
            "superseded": self.superseded,
            "sequences": [
                {"unit_id": u, "unit": self.units.get(u, ""), "code": c, "year": y, "last": n}
                for (u, c, y), n in sorted(self.sequences.items())
            ],
            "normative": [
                {"unit_id": u, "unit": self.units.get(u, ""), "year": y, "last": n}
                for (u, y), n in sorted(self.normative.items())
            ],
        }

    @classmethod
    def from_json(cls, raw: dict) -> Checkpoint:
        head = raw.get("audit")
        cp = cls(
            head=Head(int(head["seq"]), str(head["entry_hash"]), str(head.get("at", "")))
            if head
            else None,
            documents=int(raw.get("documents", 0)),
            written_at=str(raw.get("written_at", "")),
            superseded=list(raw.get("superseded", [])),
        )
        for s in raw.get("sequences", []):
            key = (int(s["unit_id"]), str(s["code"]), int(s["year"]))
            cp.sequences[key] = int(s["last"])
            cp.units[key[0]] = str(s.get("unit", ""))
        for s in raw.get("normative", []):  # absent from checkpoints written before it
            cp.normative[(int(s["unit_id"]), int(s["year"]))] = int(s["last"])
            cp.units.setdefault(int(s["unit_id"]), str(s.get("unit", "")))
        return cp


def path_of(settings: Settings) -> Path:
    return Path(settings.archive_dir) / FILE_NAME


def load(settings: Settings) -> Checkpoint | None:
    """The last checkpoint, None if there is none yet; CheckpointError if unreadable."""
    path = path_of(settings)
    try:
        raw = json.loads(path.read_text("utf-8"))
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as exc:
        raise CheckpointError(f"审计检查点文件 {path} 无法读取（{exc}）") from exc
    try:
        return Checkpoint.from_json(raw)
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise CheckpointError(f"审计检查点文件 {path} 格式不正确（{exc!r}）") from exc


def head_of(session: Session) -> Head | None:
    row = session.execute(
        select(AuditEntry.seq, AuditEntry.entry_hash, AuditEntry.at)
        .order_by(AuditEntry.seq.desc())
        .limit(1)
    ).first()
    if row is None:
        return None
    return Head(row.seq, row.entry_hash, row.at.isoformat(timespec="microseconds"))


def snapshot(session: Session) -> Checkpoint:
    """What the database holds now."""
    cp = Checkpoint(head=head_of(session), written_at=utcnow().isoformat(timespec="seconds"))
    cp.units = dict(session.execute(select(Unit.id, Unit.code)).all())
    for row in session.scalars(select(NumberSequence)):
        if row.last_value:
            cp.sequences[(row.unit_id, row.code, row.year)] = row.last_value
    for row in session.scalars(select(NormativeSequence)):
        if row.last_value:
            cp.normative[(row.unit_id, row.year)] = row.last_value
    cp.documents = session.scalar(select(func.count()).select_from(IssuedDocument)) or 0
    return cp


@contextlib.contextmanager
def _locked(settings: Settings):
    folder = Path(settings.archive_dir)
    folder.mkdir(parents=True, exist_ok=True)
    with open(folder / (FILE_NAME + ".lock"), "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def advance(
    settings: Settings, new: Checkpoint, *, replace_unreadable: bool = False, rebase: str = ""
) -> Checkpoint:
    """Merge `new` into the file: the later head, the larger last number of each sequence.
    Written atomically (temporary file, fsync, rename) under a file lock. `rebase` (the reason:
    an administrator confirmed a restore) takes `new`'s head even if it is behind, keeping the
    old head under "superseded"."""
    path = path_of(settings)
    with _locked(settings):
        try:
            old = load(settings)
        except CheckpointError:
            if not replace_unreadable:
                raise
            old = None
        merged = Checkpoint(written_at=new.written_at or utcnow().isoformat(timespec="seconds"))
        if old is not None:
            merged.head, merged.sequences = old.head, dict(old.sequences)
            merged.normative = dict(old.normative)
            merged.units, merged.documents = dict(old.units), old.documents
            merged.superseded = list(old.superseded)
        if rebase and merged.head is not None and merged.head != new.head:
            merged.superseded.append(
                {**vars(merged.head), "reason": rebase, "at": merged.written_at}
            )
            merged.head = None
        if new.head is not None and (merged.head is None or new.head.seq >= merged.head.seq):
            merged.head = new.head
        for key, last in new.sequences.items():
            merged.sequences[key] = max(last, merged.sequences.get(key, 0))
        for key, last in new.normative.items():
            merged.normative[key] = max(last, merged.normative.get(key, 0))
        merged.units.update({u: c for u, c in new.units.items() if c})
        merged.documents = max(merged.documents, new.documents)
        tmp = path.with_name(path.name + f".{os.getpid()}.tmp")
        with open(tmp, "w", encoding="utf-8") as fh:
            json.dump(merged.as_json(), fh, ensure_ascii=False, indent=2)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
        with contextlib.suppress(OSError):
            fd = os.open(path.parent, os.O_RDONLY)
            try:
                os.fsync(fd)
            finally:
                os.close(fd)
    return merged


def sequence_name(cp: Checkpoint | None, key: SeqKey, units: dict[int, str] | None = None) -> str:
    unit_id, code, year = key
    unit = (units or {}).get(unit_id) or (cp.units.get(unit_id) if cp else "") or unit_id
    return f"文号序列 {code}〔{year}〕（单位 {unit}）"


def compare(session: Session, cp: Checkpoint, *, chain_ok: bool = True) -> list[str]:
    """How the database falls short of the checkpoint. With a broken chain the head is not
    compared (the break is already named, entry by entry)."""
    problems = []
    if cp.head is not None and chain_ok:
        now = head_of(session)
        row = session.execute(
            select(AuditEntry.entry_hash).where(AuditEntry.seq == cp.head.seq)
        ).first()
        if now is None or now.seq < cp.head.seq:
            have = 0 if now is None else now.seq
            problems.append(
                f"审计日志末尾的记录被删除：检查点（{cp.written_at}）时已有 {cp.head.seq} 条，"
                f"现在只有 {have} 条"
            )
        elif row is None or row.entry_hash != cp.head.entry_hash:
            problems.append(
                f"审计日志第 {cp.head.seq} 条与检查点（{cp.written_at}）记录的链头哈希不符——"
                "该条及其后的日志被改写"
            )
    units = dict(session.execute(select(Unit.id, Unit.code)).all())
    db = {
        (r.unit_id, r.code, r.year): r.last_value for r in session.scalars(select(NumberSequence))
    }
    for key, last in sorted(cp.sequences.items()):
        have = db.get(key, 0)
        if have < last:
            problems.append(
                f"{sequence_name(cp, key, units)}：检查点记录已发出至 "
                f"{key[1]}〔{key[2]}〕{last}号，数据库只编到 {have} 号——已发文书被删除、序列被改小，"
                "或数据库是从较早的备份恢复的（恢复后请管理员运行 casefile numbers status 核对）"
            )
    registers = {
        (r.unit_id, r.year): r.last_value for r in session.scalars(select(NormativeSequence))
    }
    for (unit_id, year), last in sorted(cp.normative.items()):
        have = registers.get((unit_id, year), 0)
        if have < last:
            unit = units.get(unit_id) or cp.units.get(unit_id) or unit_id
            problems.append(
                f"规范性文件统一编号序列 {year} 年（单位 {unit}）：检查点记录已编至 {last} 号，"
                f"数据库只编到 {have} 号——登记被删除、序列被改小，或数据库是从较早的备份恢复的"
                "（恢复后请管理员运行 casefile numbers confirm）"
            )
    return problems


def normative_behind(settings: Settings, session: Session, unit_id: int, year: int) -> int | None:
    """The checkpoint's last unified number of this register sequence when the database is
    behind it (a restore from an older backup): registering would give a number again."""
    cp = load(settings)
    last = cp.normative.get((unit_id, year)) if cp else None
    if last is None:
        return None
    have = session.scalar(
        select(NormativeSequence.last_value).where(
            NormativeSequence.unit_id == unit_id, NormativeSequence.year == year
        )
    )
    return last if (have or 0) < last else None


def behind(settings: Settings, session: Session, key: SeqKey) -> int | None:
    """The checkpoint's last number of this sequence when the database is behind it."""
    cp = load(settings)
    if cp is None or key not in cp.sequences:
        return None
    unit_id, code, year = key
    have = session.scalar(
        select(NumberSequence.last_value).where(
            NumberSequence.unit_id == unit_id,
            NumberSequence.code == code,
            NumberSequence.year == year,
        )
    )
    last = cp.sequences[key]
    return last if (have or 0) < last else None


def mark_restored(settings: Settings, detail: dict) -> None:
    """After a restore: issuing waits until an administrator runs `casefile numbers confirm`."""
    path = Path(settings.archive_dir) / RESTORE_MARKER
    path.write_text(json.dumps(detail, ensure_ascii=False, indent=2), "utf-8")


def restore_pending(settings: Settings) -> dict | None:
    path = Path(settings.archive_dir) / RESTORE_MARKER
    try:
        return json.loads(path.read_text("utf-8"))
    except FileNotFoundError:
        return None
    except (OSError, ValueError):
        return {"restored_from": "（标记文件无法读取）"}


def clear_restored(settings: Settings) -> None:
    with contextlib.suppress(FileNotFoundError):
        (Path(settings.archive_dir) / RESTORE_MARKER).unlink()
