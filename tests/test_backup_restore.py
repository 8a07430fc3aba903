"""Backup and restore on both engines (issue 16, item 6): a restored archive never issues again
a number already sent out. SQLite is copied online with the sqlite3 backup API; PostgreSQL with
pg_dump -Fc and pg_restore into a fresh database (the client on this machine matches the
server's major version); then the blobs."""

from __future__ import annotations

import dataclasses
import shutil
import sqlite3
import subprocess
import uuid

import psycopg
import pytest
from conftest import PG_ADMIN_URL, _pg_conninfo, _sa_url, issue_quick

from app.backup import backup, libpq_url, restore
from app.container import open_casefile
from app.drafting import sequences
from app.errors import WorkflowError
from app.integrity import checkpoint
from app.integrity.verify import verify_store


@pytest.fixture
def restored_url(quick_cf):
    """Where the restore goes: the same SQLite file, or a new empty PostgreSQL database."""
    if quick_cf.db.is_sqlite:
        yield quick_cf.settings.database_url
        return
    name = f"cf_r_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    yield _sa_url(_pg_conninfo(name))
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _issue_more_then_restore(quick_cf, restored_url, tmp_path, by_hand: bool):
    for i in range(2):
        issue_quick(quick_cf, f"备份前{i}")
    assert verify_store(quick_cf).ok
    folder = tmp_path / "backup"
    if by_hand:  # the procedure in docs/admin-guide.md, step by step
        folder.mkdir()
        if quick_cf.db.is_sqlite:
            src = sqlite3.connect(quick_cf.settings.database_url.split("///", 1)[1])
            dst = sqlite3.connect(folder / "casefile.db")
            src.backup(dst)
            dst.close(), src.close()
        else:
            subprocess.run(["pg_dump", "-Fc", "-f", str(folder / "casefile.dump"), "--dbname",
                            libpq_url(quick_cf.settings.database_url)], check=True)  # fmt: skip
        shutil.copytree(quick_cf.settings.blobs_dir, folder / "blobs")
    else:
        backup(quick_cf, folder)
    sent = [issue_quick(quick_cf, f"备份后{i}") for i in range(2)]  # 3号 and 4号 go out
    quick_cf.close()
    settings = dataclasses.replace(quick_cf.settings, database_url=restored_url)
    if by_hand:
        if quick_cf.db.is_sqlite:
            db = settings.database_url.split("///", 1)[1]
            for suffix in ("-wal", "-shm"):
                shutil.rmtree(db + suffix, ignore_errors=True)
            src, dst = sqlite3.connect(folder / "casefile.db"), sqlite3.connect(db)
            src.backup(dst)
            dst.close(), src.close()
        else:
            subprocess.run(["pg_restore", "--no-owner", "--exit-on-error", "--dbname",
                            libpq_url(restored_url), str(folder / "casefile.dump")], check=True)  # fmt: skip
        for path in (folder / "blobs").rglob("*"):
            target = settings.blobs_dir / path.relative_to(folder / "blobs")
            if path.is_file() and not target.exists():
                shutil.copy2(path, target)
    else:
        restore(settings, folder)
    return open_casefile(settings), sent


def _refused(cf) -> str:
    with pytest.raises(WorkflowError) as info:
        issue_quick(cf, "恢复后")
    return info.value.message


def test_restore_by_hand_refuses_numbers_already_sent_until_raised(
    quick_cf, restored_url, tmp_path
):
    cf, sent = _issue_more_then_restore(quick_cf, restored_url, tmp_path, by_hand=True)
    try:
        message = _refused(cf)
        assert "暂停发文" in message and "4 号" in message and "numbers raise" in message
        report = verify_store(cf)
        assert any("检查点记录已发出至" in p for p in report.problems), report.problems
        code, year = sent[-1].number_code, sent[-1].number_year
        with cf.db.write() as s:
            assert sequences.raise_sequence(cf.settings, s, code, year, 4) == (2, 4)
        doc = issue_quick(cf, "恢复后")
        assert doc.number == sent[-1].number.replace("4号", "5号")
        # the raised numbers are not gaps; the lost audit tail is still named until confirmed
        problems = verify_store(cf).problems
        assert not any("文号不连续" in p for p in problems), problems
        assert any("末尾的记录被删除" in p or "链头哈希不符" in p for p in problems), problems
        with cf.db.write() as s:
            assert sequences.confirm(cf.settings, s) == []
        report = verify_store(cf)
        assert report.ok, report.problems
        assert checkpoint.load(cf.settings).superseded  # the lost head is kept, not forgotten
    finally:
        cf.close()


def test_restore_command_pauses_issuing_until_confirmed(quick_cf, restored_url, tmp_path):
    cf, sent = _issue_more_then_restore(quick_cf, restored_url, tmp_path, by_hand=False)
    try:
        assert "已从备份恢复" in _refused(cf)
        with cf.db.read() as s:
            rows, error = sequences.status(cf.settings, s)
        assert error is None and [(r.last_value, r.checkpoint, r.behind) for r in rows] == [
            (2, 4, True)
        ]
        with cf.db.write() as s:
            done = sequences.confirm(cf.settings, s)
        assert [(d["from"], d["to"]) for d in done] == [(2, 4)]
        assert checkpoint.restore_pending(cf.settings) is None
        doc = issue_quick(cf, "恢复后")
        assert doc.number == sent[-1].number.replace("4号", "5号")
        assert verify_store(cf).ok
    finally:
        cf.close()


def test_backup_and_numbers_commands(quick_cf, run_cli, tmp_path):
    year = str(issue_quick(quick_cf).number_year)
    code, out, _ = run_cli("backup", str(tmp_path / "bk"))
    assert code == 0 and "已备份" in out
    assert (tmp_path / "bk" / "casefile-backup.json").exists()
    code, _, err = run_cli("backup", str(tmp_path / "bk"))
    assert code == 2 and "不是空的" in err
    code, out, _ = run_cli("numbers", "status")
    assert code == 0 and "数据库已编到 1号" in out and "检查点 1号" in out
    code, out, _ = run_cli("verify")
    assert code == 0 and "审计日志链头" in out
    code, out, _ = run_cli("numbers", "raise", "武政法测", year, "1")
    assert code == 2
    code, out, _ = run_cli("numbers", "raise", "武政法测", year, "7")
    assert code == 0 and "下一份文书编为 8 号" in out
    assert issue_quick(quick_cf).number_seq == 8
