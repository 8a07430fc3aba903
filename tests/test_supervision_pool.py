"""The adviser pool (人才库) and contract filing (备案): admission, scope, prefill, overdue."""

from __future__ import annotations

import datetime as dt

import pytest
from casefile_factories import issue_template
from conftest import PASSWORD, as_user, sample
from sqlalchemy import select

from app.audit.models import AuditEntry
from app.errors import Forbidden, NotFound, ValidationFailed
from app.identity.users import add_unit, add_user
from app.supervision import assessment, dashboard, filing, pool, ranking, records

ENTRY = {"name": "云岭明德律师事务所", "kind": "律师事务所", "firm": "",
         "specialties": "行政法、公司法", "contact": "0871-65123456",
         "admitted_on": "2026-01-05", "proposed_by": "市律师协会",
         "criteria": "执业十年以上，无不良记录", "decision": "2026年第1次局务会议通过"}  # fmt: skip


def admit(cf, user="inspector", **changes):
    with cf.db.write() as s:
        return pool.admit(s, as_user(s, user), ENTRY | changes).id


@pytest.fixture
def other_county(cf):
    with cf.db.write() as s:
        add_unit(s, "XC", "西城县人民政府", None, "西政")
        add_unit(s, "XC-FZB", "西城县法律顾问室", "XC", "西法")
        add_user(s, "xc-inspector", "西城督查", "XC", ["inspector"], password=PASSWORD,
                 must_change=False)  # fmt: skip
        add_user(s, "xc-clerk", "西城文书", "XC-FZB", ["clerk"], password=PASSWORD,
                 must_change=False)  # fmt: skip


def test_licence_must_be_17_digits_and_only_inspectors_admit(cf):
    with pytest.raises(ValidationFailed) as bad:
        admit(cf, kind="律师", name="李文静", licence="1530120191067890")
    assert bad.value.errors[0]["field"] == "licence"
    with pytest.raises(Forbidden):
        admit(cf, user="clerk")
    entry_id = admit(cf, kind="律师", name="李文静", licence="15301201910678901")
    with cf.db.read() as s:
        rows = pool.list_pool(s, as_user(s, "zr-clerk"))
        assert [r.entry.id for r in rows] == [entry_id]
        assert rows[0].entry.proposed_by == "市律师协会"
        assert s.scalars(select(AuditEntry.action).where(AuditEntry.action == "pool.admit")).all()


def test_another_county_sees_none_of_the_pool_or_filings(cf, other_county):
    entry_id = admit(cf)
    issue_template(cf, "engagement-contract", sample("engagement-contract"))
    with cf.db.read() as s:
        for user in ("xc-inspector", "xc-clerk"):
            p = as_user(s, user)
            assert pool.list_pool(s, p) == []
            with pytest.raises(NotFound):
                pool.visible_entry(s, p, entry_id)
        assert filing.filing_queue(s, as_user(s, "xc-inspector")) == []
        assert len(filing.filing_queue(s, as_user(s, "inspector"))) == 1
    with cf.db.write() as s, pytest.raises(NotFound):
        doc = filing.filing_queue(s, as_user(s, "inspector"))[0].document_id
        filing.register_filing(s, as_user(s, "xc-inspector"), doc, "西司备〔2026〕1号")
    with cf.db.write() as s:
        records.add_record(s, as_user(s, "clerk"), {
            "unit": "FZB", "subject": f"entry:{entry_id}", "kind": "meeting", "matter": "列席会议",
            "served_on": "2026-03-02", "hours": "2"})  # fmt: skip
        row = assessment.save_assessment(s, as_user(s, "head"), {
            "unit": "FZB", "subject": f"entry:{entry_id}", "year": 2026, "ability": 90,
            "quality": 90, "efficiency": 90})  # fmt: skip
        xc = as_user(s, "xc-inspector")
        assert records.service_records(s, xc, year=2026).records == []
        assert len(records.service_records(s, as_user(s, "inspector"), year=2026).records) == 1
        assert assessment.list_assessments(s, xc) == []
        with pytest.raises(NotFound):
            assessment.visible_assessment(s, xc, row.id)
        board = dashboard.dashboard(s, xc, 2026, 1)
        assert [r.unit.code for r in board.ranking.rows] == ["XC-FZB"]
        assert board.expiring == [] and board.overdue == []
        with pytest.raises(Forbidden):
            ranking.drill(s, xc, "FZB", "services", 2026, 1)


def test_prefill_takes_the_adviser_from_the_pool_and_the_unit_from_its_last_contract(cf):
    issue_template(cf, "engagement-contract", sample("engagement-contract"))
    entry_id = admit(cf, kind="律师", name="杨子涵", licence="15301202110456789",
                     firm="云岭明德律师事务所", contact="13708719988")  # fmt: skip
    with cf.db.read() as s:
        data = pool.engagement_prefill(s, as_user(s, "clerk"), entry_id, "FZB")
    assert data["adviser_name"] == "杨子涵" and data["adviser_kind"] == "律师"
    assert data["adviser_licence"] == "15301202110456789"
    assert data["client_uscc"] == sample("engagement-contract")["client_uscc"]
    assert "assigned_lawyers" not in data
    with cf.db.write() as s:
        pool.set_status(s, as_user(s, "inspector"), entry_id, "removed", "执业证被吊销")
    with cf.db.read() as s, pytest.raises(ValidationFailed):
        pool.engagement_prefill(s, as_user(s, "clerk"), entry_id, "FZB")


def test_the_pool_shows_current_engagements(cf):
    data = sample("engagement-contract")
    today = dt.date.today()
    data["term"] = {"start": (today - dt.timedelta(days=10)).isoformat(),
                    "end": (today + dt.timedelta(days=300)).isoformat()}  # fmt: skip
    issue_template(cf, "engagement-contract", data)
    admit(cf)
    with cf.db.read() as s:
        (row,) = pool.list_pool(s, as_user(s, "inspector"))
    assert [c.unit_name for c in row.engagements] == ["武阳市人民政府法律顾问室"]


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_a_filing_is_overdue_30_days_after_signing_until_registered(cf):
    doc = issue_template(cf, "engagement-contract", sample("engagement-contract"))
    signed = doc.issue_date
    with cf.db.read() as s:
        inspector = as_user(s, "inspector")
        (on_day,) = filing.filing_queue(s, inspector, today=signed + dt.timedelta(days=30))
        (late,) = filing.filing_queue(s, inspector, today=signed + dt.timedelta(days=31))
        assert not on_day.overdue and late.overdue and late.days_late == 1
        assert filing.filing_queue(s, as_user(s, "clerk"), overdue=True,
                                   today=signed + dt.timedelta(days=31))  # fmt: skip
    with cf.db.write() as s:
        with pytest.raises(Forbidden):
            filing.register_filing(s, as_user(s, "clerk"), doc.id, "武司备〔2026〕1号")
        filing.return_filing(s, as_user(s, "inspector"), doc.id, "缺少承办律师执业证复印件")
    with cf.db.read() as s:
        (row,) = filing.filing_queue(s, as_user(s, "clerk"))
        assert row.state_label == "已退回" and "复印件" in row.reason
    with cf.db.write() as s:
        filing.resubmit_filing(s, as_user(s, "clerk"), doc.id, "已补充")
        filing.register_filing(s, as_user(s, "inspector"), doc.id, "武司备〔2026〕1号",
                               filed_on=signed + dt.timedelta(days=40))  # fmt: skip
    with cf.db.read() as s:
        (row,) = filing.filing_queue(s, as_user(s, "inspector"),
                                     today=signed + dt.timedelta(days=60))  # fmt: skip
        assert row.state == "registered" and not row.overdue and not row.on_time
        assert row.days_late == 10
        actions = s.scalars(select(AuditEntry.action).where(AuditEntry.action.like("filing.%")))
        assert list(actions) == ["filing.return", "filing.resubmit", "filing.register"]
