"""`casefile backup DIR` and `casefile restore DIR`: the archive's online backup and its restore
(app/backup; docs/admin-guide.md has the procedure by hand for each engine)."""

from __future__ import annotations

from pathlib import Path

from app.backup import BackupError, backup, restore
from app.cli.common import CliError, out
from app.container import Casefile


def cmd_backup(cf: Casefile, args) -> int:
    try:
        result = backup(cf, Path(args.folder))
    except BackupError as exc:
        raise CliError(exc.message) from exc
    out(args, {"folder": str(result.folder), "engine": result.engine,
               "database": result.database_file, "blobs": result.blobs}, [
        f"已备份到 {result.folder}：数据库（{result.database_file}），随后 {result.blobs} 个文件。",
    ])  # fmt: skip
    return 0


def cmd_restore(cf: Casefile, args) -> int:
    cf.close()  # the restore replaces the database under this process's engine
    try:
        result = restore(cf.settings, Path(args.folder))
    except BackupError as exc:
        raise CliError(exc.message) from exc
    out(args, {"folder": str(result.folder), "engine": result.engine, "blobs": result.blobs,
               "issuing": "paused"}, [
        f"已从 {result.folder} 恢复数据库，补回 {result.blobs} 个文件。",
        "发文已暂停：请运行 casefile numbers status 核对各文号序列最后发出的号，必要时",
        "casefile numbers raise CODE YEAR N，然后 casefile numbers confirm，再运行 casefile verify。",
    ])  # fmt: skip
    return 0


def register(sub, common, acting) -> None:
    p = sub.add_parser("backup", parents=[common], help="在线备份：先数据库，后文件")
    p.add_argument("folder", help="新建的或空的文件夹")
    p.set_defaults(func=cmd_backup)
    p = sub.add_parser(
        "restore", parents=[common], help="恢复备份（须先停止服务；PostgreSQL 须为空库）"
    )
    p.add_argument("folder")
    p.set_defaults(func=cmd_restore, needs_store=False)
