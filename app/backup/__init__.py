"""Online backup and restore of the archive: the records database first, then the blobs.

Blobs are written (fsynced, renamed) before the record that names them commits, so a copy of
the blobs taken after the database holds every file the database copy names. A backup folder:

    casefile-backup.json   what it is (engine, time, counts)
    casefile.db            SQLite: an online copy (sqlite3 backup API), safe while running
    casefile.dump          PostgreSQL: `pg_dump -Fc` (one consistent snapshot)
    blobs/                 the blob store, copied after the database
    audit-checkpoint.json  the checkpoint at backup time (for reference; restore keeps the live one)

Restoring puts the database back (SQLite: the live file is moved aside first; PostgreSQL: into
an empty database with `pg_restore`), adds the blobs the archive lacks (never overwriting one),
and marks the archive restored: issuing is refused until an administrator checks the last
numbers sent out and runs `casefile numbers confirm` (app/drafting/sequences.py).
"""

from __future__ import annotations

import datetime as dt
import json
import shutil
import sqlite3
import subprocess
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import text

from app.config import Settings
from app.container import Casefile
from app.db import Database
from app.integrity import checkpoint

MANIFEST = "casefile-backup.json"
SQLITE_FILE = "casefile.db"
PG_FILE = "casefile.dump"


class BackupError(Exception):
    """A backup or restore that cannot go ahead; the message says why, in Chinese."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


@dataclass
class BackupResult:
    folder: Path
    engine: str
    database_file: str
    blobs: int


def _sqlite_path(url: str) -> Path:
    return Path(url.split("///", 1)[-1])


def libpq_url(url: str) -> str:
    """The SQLAlchemy URL as pg_dump / pg_restore take it."""
    for prefix in ("postgresql+psycopg://", "postgresql+psycopg2://"):
        if url.startswith(prefix):
            return "postgresql://" + url[len(prefix) :]
    return url


def _run(args: list[str]) -> None:
    try:
        done = subprocess.run(args, capture_output=True, text=True, timeout=3600)
    except FileNotFoundError as exc:
        raise BackupError(
            f"找不到 {args[0]}：请安装与数据库服务器版本一致的 PostgreSQL 客户端"
        ) from exc
    if done.returncode != 0:
        raise BackupError(
            f"{args[0]} 失败（退出码 {done.returncode}）：{done.stderr.strip()[:500]}"
        )


def _copy_blobs(src: Path, dst: Path) -> int:
    """Copy every blob missing from dst (never overwrite: blobs are named by their content)."""
    n = 0
    if not src.is_dir():
        return 0
    for path in sorted(src.rglob("*")):
        rel = path.relative_to(src)
        if not path.is_file() or rel.parts[0] == "tmp":
            continue
        target = dst / rel
        if target.exists():
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.with_name(target.name + ".restoring")
        shutil.copy2(path, tmp)
        tmp.rename(target)
        n += 1
    return n


def backup(cf: Casefile, folder: Path) -> BackupResult:
    """Back up the archive into an empty (or new) folder while the service runs."""
    folder = Path(folder)
    if folder.exists() and any(folder.iterdir()):
        raise BackupError(f"备份目录 {folder} 不是空的，请指定一个新目录")
    folder.mkdir(parents=True, exist_ok=True)
    if cf.db.is_sqlite:
        name = SQLITE_FILE
        src = sqlite3.connect(_sqlite_path(cf.settings.database_url))
        dst = sqlite3.connect(folder / name)
        try:
            src.backup(dst)  # online: a consistent copy while others read and write
        finally:
            dst.close()
            src.close()
    else:
        name = PG_FILE
        _run(["pg_dump", "-Fc", "--no-owner", "-f", str(folder / name),
              "--dbname", libpq_url(cf.settings.database_url)])  # fmt: skip
    blobs = _copy_blobs(cf.settings.blobs_dir, folder / "blobs")  # after the database
    cp = checkpoint.path_of(cf.settings)
    if cp.exists():
        shutil.copy2(cp, folder / checkpoint.FILE_NAME)
    manifest = {
        "format": 1,
        "engine": "sqlite" if cf.db.is_sqlite else "postgresql",
        "database": name,
        "blobs": blobs,
        "created_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
    }
    (folder / MANIFEST).write_text(json.dumps(manifest, ensure_ascii=False, indent=2), "utf-8")
    return BackupResult(folder, manifest["engine"], name, blobs)


def restore(settings: Settings, folder: Path) -> BackupResult:
    """Restore a backup into the configured database (the service stopped; PostgreSQL: an
    empty database) and archive directory; then issuing waits for `numbers confirm`."""
    folder = Path(folder)
    try:
        manifest = json.loads((folder / MANIFEST).read_text("utf-8"))
    except (OSError, ValueError) as exc:
        raise BackupError(f"{folder} 不是 casefile 备份目录（没有可读的 {MANIFEST}）") from exc
    engine = "sqlite" if settings.database_url.startswith("sqlite") else "postgresql"
    if manifest.get("engine") != engine:
        raise BackupError(
            f"备份来自 {manifest.get('engine')}，而 CASEFILE_DATABASE_URL 指向 {engine}，不能直接恢复"
        )
    source = folder / manifest["database"]
    if not source.is_file():
        raise BackupError(f"备份中缺少数据库文件 {source}")
    if engine == "sqlite":
        target = _sqlite_path(settings.database_url)
        target.parent.mkdir(parents=True, exist_ok=True)
        stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%S")
        for suffix in ("", "-wal", "-shm"):
            old = Path(f"{target}{suffix}")
            if old.exists():
                old.rename(Path(f"{target}.before-restore-{stamp}{suffix}"))
        src, dst = sqlite3.connect(source), sqlite3.connect(target)
        try:
            src.backup(dst)
        finally:
            dst.close()
            src.close()
    else:
        db = Database(settings.database_url)
        try:
            with db.engine.connect() as conn:
                tables = conn.execute(
                    text("SELECT count(*) FROM pg_tables WHERE schemaname = 'public'")
                ).scalar_one()
        finally:
            db.dispose()
        if tables:
            raise BackupError(
                "目标数据库不是空的：请新建一个空数据库，把 CASEFILE_DATABASE_URL 指向它后再恢复"
            )
        _run(["pg_restore", "--no-owner", "--exit-on-error",
              "--dbname", libpq_url(settings.database_url), str(source)])  # fmt: skip
    blobs = _copy_blobs(folder / "blobs", settings.blobs_dir)
    if not checkpoint.path_of(settings).exists() and (folder / checkpoint.FILE_NAME).exists():
        # the live checkpoint is gone with the archive: the backup's is the best left
        shutil.copy2(folder / checkpoint.FILE_NAME, checkpoint.path_of(settings))
    checkpoint.mark_restored(settings, {
        "restored_from": str(folder), "backup_created_at": manifest.get("created_at"),
        "restored_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
    })  # fmt: skip
    return BackupResult(folder, engine, manifest["database"], blobs)
