"""An outbox event that keeps failing is reported by `casefile verify` (app/jobs/stuck.py), not
retried in silence: an index that stays locked, or any event failed five times. Both engines."""

from __future__ import annotations

import datetime as dt

from conftest import issue_quick
from sqlalchemy import select, update

from app.db.base import utcnow
from app.integrity.verify import verify_store
from app.jobs.models import OutboxEvent
from app.jobs.outbox import drain
from app.jobs.stuck import STUCK_AFTER, stuck_events
from app.search import IndexBusy


def _age(cf, by: dt.timedelta) -> None:
    with cf.db.write() as s:
        for event in s.scalars(select(OutboxEvent)):
            event.created_at -= by


def test_an_index_event_blocked_for_ten_minutes_is_reported(quick_cf, monkeypatch):
    doc = issue_quick(quick_cf, "狮山大道拓宽工程")

    def locked(_docs):
        raise IndexBusy("检索索引正被其他进程写入，请稍后再试。", ["write lock held"])

    monkeypatch.setattr(quick_cf.search, "index", locked)
    assert drain(quick_cf, ("index",))["retry"] == 1
    assert stuck_events(quick_cf) == []  # a few seconds of a busy index is normal
    assert not [p for p in verify_store(quick_cf).problems if "后台任务" in p]

    _age(quick_cf, STUCK_AFTER + dt.timedelta(minutes=1))
    [stuck] = stuck_events(quick_cf)
    assert stuck.kind == "index" and stuck.attempts == 0
    assert doc.number in stuck.description and "检索索引更新" in stuck.description
    assert "正被其他进程写入" in stuck.description and "请管理员重建检索索引" in stuck.description
    report = verify_store(quick_cf)
    assert stuck.description in report.problems and not report.ok

    monkeypatch.undo()  # the lock is free again: the event goes through and is no longer stuck
    with quick_cf.db.write() as s:
        s.execute(update(OutboxEvent).values(available_at=utcnow()))
    assert drain(quick_cf, ("index",))["done"] == 1
    assert stuck_events(quick_cf) == []


def test_an_event_failed_five_times_is_reported_by_casefile_verify(cf, run_cli):
    with cf.db.write() as s:
        s.add_all(
            [
                OutboxEvent(kind="index", payload={"attachment_id": 404}, attempts=5,
                            last_error="OSError: [Errno 28] No space left on device"),
                OutboxEvent(kind="rendition", payload={"document_id": 404}, attempts=4,
                            last_error="ConversionError: boom"),  # not yet
                OutboxEvent(kind="mail", payload={"to": "x@example.test"}, attempts=5,
                            last_error="given up: refused", processed_at=utcnow()),  # closed
            ]
        )  # fmt: skip
    [stuck] = stuck_events(cf)
    assert stuck.attempts == 5 and "已失败 5 次" in stuck.description
    assert "材料编号 404" in stuck.description and "No space left" in stuck.description
    code, out, _err = run_cli("verify")
    assert code == 1
    assert stuck.description in out


def test_the_checks_page_shows_stuck_work_to_administrators_only(quick_cf, monkeypatch):
    from webutil import logged_in

    from app import create_app

    app = create_app({"TESTING": True}, casefile=quick_cf)

    doc = issue_quick(quick_cf, "狮山大道拓宽工程")

    def locked(_docs):
        raise IndexBusy("检索索引正被其他进程写入，请稍后再试。", ["write lock held"])

    monkeypatch.setattr(quick_cf.search, "index", locked)
    drain(quick_cf, ("index",))
    _age(quick_cf, STUCK_AFTER + dt.timedelta(minutes=1))
    admin = logged_in(app, "admin").get("/archive/checks").get_data(as_text=True)
    assert "后台任务" in admin and doc.number in admin
    inspector = logged_in(app, "inspector").get("/archive/checks").get_data(as_text=True)
    assert "后台任务" not in inspector
