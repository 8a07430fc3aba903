"""Matters (法律事务): the flow 待指派 → 已指派 → 承办中 → 已反馈 → 办结 (or 退回), its refusals,
deadlines, files and audit, through the one service the web, the API and the CLI call."""

from __future__ import annotations

import datetime as dt

import pytest
from casefile_factories import make_docx
from conftest import as_user
from matterutil import CASE_NO, act, new_matter
from sqlalchemy import select, update

from app.audit.models import AuditEntry
from app.casefiles.attachments import inspect_upload
from app.errors import Forbidden, ValidationFailed, WorkflowError
from app.identity.models import User
from app.matters import service
from app.matters.models import Matter, MatterEvent


def test_a_matter_runs_from_registration_to_closing(cf):
    matter_id = new_matter(cf)
    with cf.db.read() as s:
        m = s.get(Matter, matter_id)
        assert m.status == "pending" and m.case_number == CASE_NO
        # 答辩期: 15 days from service
        assert (m.deadline_label, m.deadline) == ("答辩期", dt.date(2026, 11, 17))
    act(cf, "head", service.assign, matter_id, "lawyer", "请承办")
    with pytest.raises(ValidationFailed) as bad:
        act(cf, "lawyer", service.decline, matter_id, "  ")
    assert bad.value.errors[0]["field"] == "reason"
    act(cf, "lawyer", service.decline, matter_id, "与本人有利害关系，申请回避")
    with cf.db.read() as s:
        m = s.get(Matter, matter_id)
        assert m.status == "pending" and m.lawyer_id is None
    act(cf, "head", service.assign, matter_id, "lawyer")
    act(cf, "lawyer", service.accept, matter_id)
    checked = inspect_upload(
        make_docx("答辩状（初稿）"), "答辩状.docx", cf.settings.max_upload_bytes
    )
    with cf.db.write() as s:
        service.record_progress(cf, s, as_user(s, "lawyer"), matter_id, "已阅卷，起草答辩状",
                                checked)  # fmt: skip
        service.record_progress(cf, s, as_user(s, "lawyer"), matter_id, "已出庭，判决驳回原告诉请",
                                final=True)  # fmt: skip
    act(cf, "head", service.close, matter_id, "办结")
    with cf.db.read() as s:
        m = s.get(Matter, matter_id)
        assert m.status == "closed" and m.closed_at and m.reported_at
        kinds = [e.kind for e in service.events_of(s, m)]
        assert kinds == ["create", "assign", "decline", "assign", "accept", "note", "feedback",
                         "close"]  # fmt: skip
        note = next(e for e in service.events_of(s, m) if e.kind == "note")
        assert note.file_name == "答辩状.docx" and cf.blobs.get(note.file_sha256).startswith(b"PK")
        audited = list(s.scalars(select(AuditEntry.action).where(
            AuditEntry.object_type == "matter", AuditEntry.object_id == str(matter_id))))  # fmt: skip
        assert audited == [f"matter.{k}" for k in kinds]


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_bad_input_is_refused_by_field(cf):
    with pytest.raises(ValidationFailed) as bad:
        new_matter(cf, case_number="2026云01行初123号", kind="nope", served_on="2026-13-01")
    fields = {e["field"] for e in bad.value.errors}
    assert fields == {"case_number", "kind", "served_on"}
    assert "案号格式不正确" in next(e["message"] for e in bad.value.errors
                                   if e["field"] == "case_number")  # fmt: skip
    # an arbitration number passes the same check the commission letter uses
    assert new_matter(cf, kind="arbitration", case_number="昆仲字〔2026〕第88号")


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_only_the_head_assigns_and_only_the_lawyer_handles(cf):
    matter_id = new_matter(cf, user="clerk")
    with pytest.raises(Forbidden):
        act(cf, "clerk", service.assign, matter_id, "lawyer")
    with pytest.raises(ValidationFailed) as bad:  # not a public lawyer of the unit
        act(cf, "head", service.assign, matter_id, "clerk2")
    assert bad.value.errors[0]["field"] == "lawyer"
    act(cf, "head", service.assign, matter_id, "lawyer")
    with pytest.raises((Forbidden, WorkflowError)):
        act(cf, "adviser", service.accept, matter_id)
    with pytest.raises(WorkflowError):  # not yet accepted: no feedback
        with cf.db.write() as s:
            service.record_progress(cf, s, as_user(s, "lawyer"), matter_id, "反馈", final=True)
    with pytest.raises(WorkflowError):  # nothing reported: cannot close
        act(cf, "head", service.close, matter_id)
    with pytest.raises(ValidationFailed):
        act(cf, "head", service.return_matter, matter_id, "")
    act(cf, "head", service.return_matter, matter_id, "不属于法律事务，请业务科室自行办理")
    with cf.db.read() as s:
        m = s.get(Matter, matter_id)
        assert m.status == "returned" and m.return_reason.startswith("不属于")


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_an_adviser_is_assigned_only_where_the_unit_has_no_public_lawyer(cf):
    matter_id = new_matter(cf)
    with pytest.raises(ValidationFailed):
        act(cf, "head", service.assign, matter_id, "adviser")
    with cf.db.write() as s:
        s.scalars(select(User).where(User.username == "lawyer")).one().active = False
    act(cf, "head", service.assign, matter_id, "adviser")
    act(cf, "adviser", service.accept, matter_id)


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_deadlines_show_for_the_lawyer_the_head_and_the_inspector(cf):
    today = dt.date(2026, 11, 14)
    soon = new_matter(cf, served_on="2026-11-01")  # 答辩期 ends 11-16: in two days
    passed = new_matter(cf, served_on="2026-10-20")  # ended 11-04
    later = new_matter(cf, served_on="2026-11-13")  # ends 11-28: not yet shown
    none = new_matter(cf, served_on="")
    for m in (soon, passed, later, none):
        act(cf, "head", service.assign, m, "lawyer")
    act(cf, "lawyer", service.accept, soon)
    with cf.db.read() as s:
        for user in ("lawyer", "head", "inspector"):
            shown = [m.id for m in service.deadline_alerts(s, as_user(s, user), today=today)]
            assert shown == [passed, soon], user
        for user in ("clerk", "adviser", "zr-head"):  # not theirs to chase
            assert service.deadline_alerts(s, as_user(s, user), today=today) == [], user
        assert service.days_left(s.get(Matter, passed), today) == -10


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_a_decline_is_ruled_by_the_head(cf):
    matter_id = new_matter(cf)
    act(cf, "head", service.assign, matter_id, "lawyer")
    act(cf, "lawyer", service.decline, matter_id, "工作量已满")
    with cf.db.read() as s:
        declined = s.scalars(select(MatterEvent).where(MatterEvent.kind == "decline")).one().id
    with pytest.raises(Forbidden):
        act(cf, "lawyer", service.rule_decline, matter_id, declined, True)
    act(cf, "head", service.rule_decline, matter_id, declined, False, "无正当理由")
    with cf.db.read() as s:
        rule = s.scalars(select(MatterEvent).where(MatterEvent.kind == "rule")).one()
        assert rule.ruling_of == declined and rule.justified is False


def test_a_matters_history_is_write_once(cf):
    matter_id = new_matter(cf)
    with pytest.raises(Exception) as refused, cf.db.write() as s:  # noqa: B017 - driver errors differ
        s.execute(update(MatterEvent).where(MatterEvent.matter_id == matter_id)
                  .values(comment="改写"))  # fmt: skip
    assert "write-once" in str(refused.value)
