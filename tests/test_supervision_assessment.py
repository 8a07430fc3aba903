"""Work records (服务记录), annual assessments (考核) and the quarterly ranking (排名)."""

from __future__ import annotations

import datetime as dt

import pytest
from casefile_factories import issue_template
from conftest import as_user, sample
from sqlalchemy import text

from app.common.clock import today_in_china
from app.errors import Forbidden, ValidationFailed
from app.supervision import assessment, pool, ranking, records
from app.supervision.models import PoolEntry

ENTRY = {"name": "云岭明德律师事务所", "kind": "律师事务所", "admitted_on": "2026-01-05",
         "proposed_by": "市律师协会", "criteria": "执业十年以上", "decision": "局务会议通过"}  # fmt: skip


@pytest.fixture
def entry_id(cf):
    with cf.db.write() as s:
        return pool.admit(s, as_user(s, "inspector"), ENTRY).id


def record(cf, user, unit, subject, kind="meeting", day=None, hours="2"):
    with cf.db.write() as s:
        return records.add_record(s, as_user(s, user), {
            "unit": unit, "subject": subject, "kind": kind, "matter": "列席常务会议",
            "served_on": (day or today_in_china()).isoformat(), "hours": hours}).id  # fmt: skip


def contract_in_force(cf, unit="FZB"):
    data = sample("engagement-contract")
    today = today_in_china()
    data["term"] = {"start": (today - dt.timedelta(days=100)).isoformat(),
                    "end": (today + dt.timedelta(days=200)).isoformat()}  # fmt: skip
    return issue_template(cf, "engagement-contract", data, unit=unit)


def test_services_are_counted_from_the_archive_and_by_hand(cf, entry_id):
    issue_template(cf, "legality-review-opinion", sample("legality-review-opinion"))
    issue_template(cf, "commission-letter", sample("commission-letter"))
    record(cf, "clerk", "FZB", f"entry:{entry_id}", kind="training", hours="3.5")
    with pytest.raises(ValidationFailed) as bad:
        record(cf, "clerk", "FZB", f"entry:{entry_id}", hours="30")
    assert bad.value.errors[0]["field"] == "hours"
    with pytest.raises(Forbidden):
        record(cf, "zr-clerk", "FZB", f"entry:{entry_id}")
    with cf.db.read() as s:
        summary = records.service_records(s, as_user(s, "inspector"), year=today_in_china().year)
        by_kind = summary.by_kind
        assert by_kind["法律培训"] == 1 and by_kind["代理诉讼"] == 1
        assert by_kind["出具合法性审查意见"] >= 1 and by_kind["审核文书"] >= 1
        assert summary.by_subject["张明远"] >= 1  # the commission letter's public lawyer
        assert str(summary.hours) == "3.5"
        # the other unit's clerk sees none of the legal office's services
        assert (
            records.service_records(s, as_user(s, "zr-clerk"), year=today_in_china().year).records
            == []
        )


def test_an_unfit_grade_suspends_the_pool_entry_and_the_signed_row_is_write_once(cf, entry_id):
    record(cf, "clerk", "FZB", f"entry:{entry_id}")
    year = today_in_china().year
    form = {"unit": "FZB", "subject": f"entry:{entry_id}", "year": year, "ability": 50,
            "quality": 55, "efficiency": 58, "comment": "多次未按期出具意见"}  # fmt: skip
    with cf.db.write() as s:
        with pytest.raises(Forbidden):
            assessment.save_assessment(s, as_user(s, "clerk"), form)
        row = assessment.save_assessment(s, as_user(s, "head"), form)
        assert row.grade == "不称职" and row.records["total"] == 1
        with pytest.raises(Forbidden):
            assessment.sign_assessment(s, as_user(s, "head"), row.id)
        assessment.sign_assessment(s, as_user(s, "signatory"), row.id)
        row_id = row.id
    with cf.db.read() as s:
        entry = s.get(PoolEntry, entry_id)
        assert entry.status == "suspended" and "不称职" in entry.status_reason
    with cf.db.write() as s, pytest.raises(ValidationFailed):
        assessment.save_assessment(s, as_user(s, "head"), form | {"ability": 99})
    with pytest.raises(Exception, match="write-once"), cf.db.write() as s:
        s.execute(text("UPDATE assessments SET grade = '优秀' WHERE id = :i"), {"i": row_id})


def test_a_fit_grade_keeps_the_entry(cf, entry_id):
    form = {"unit": "FZB", "subject": f"entry:{entry_id}", "year": 2026, "ability": 95,
            "quality": 92, "efficiency": 90}  # fmt: skip
    with cf.db.write() as s:
        row = assessment.save_assessment(s, as_user(s, "head"), form)
        assessment.sign_assessment(s, as_user(s, "signatory"), row.id)
        assert row.grade == "优秀" and s.get(PoolEntry, entry_id).status == "active"


def test_a_unit_without_an_adviser_in_force_is_flagged(cf):
    with cf.db.read() as s:
        units = {u.code: u.id for u in ranking.ranked_units(s, as_user(s, "inspector"))}
        before = ranking.units_without_adviser(s, as_user(s, "inspector"), set(units.values()))
    assert [u.code for u in before] == ["FZB", "ZRJ"]
    contract_in_force(cf)
    with cf.db.read() as s:
        after = ranking.units_without_adviser(s, as_user(s, "inspector"), set(units.values()))
    assert [u.code for u in after] == ["ZRJ"]


def test_ranking_order_follows_the_weights(cf, entry_id):
    contract_in_force(cf)  # the legal office is covered; the bureau is not
    for _ in range(2):
        record(cf, "zr-clerk", "ZRJ", f"entry:{entry_id}")  # the bureau delivers services
    today = today_in_china()
    quarter = (today.month - 1) // 3 + 1
    only = {k: 0 for k in ranking.INDICATORS}
    with cf.db.write() as s:
        p = as_user(s, "inspector")
        ranking.set_weights(s, p, only | {"coverage": 100})
        by_coverage = ranking.quarter_ranking(s, p, today.year, quarter)
        ranking.set_weights(s, p, only | {"services": 100})
        by_services = ranking.quarter_ranking(s, p, today.year, quarter)
        with pytest.raises(ValidationFailed):
            ranking.set_weights(s, p, only)
    assert [r.unit.code for r in by_coverage.rows] == ["FZB", "ZRJ"]
    assert [r.unit.code for r in by_services.rows] == ["ZRJ", "FZB"]
    assert by_services.rows[0].score == 100 and by_services.rows[1].score == 0
    assert [r.bottom for r in by_services.rows] == [False, True]
    with cf.db.write() as s:
        detail = ranking.drill(s, as_user(s, "inspector"), "ZRJ", "services", today.year, quarter)
        assert len(detail.rows) == 2 and detail.rows[0][1] == "列席会议"
        with pytest.raises(Forbidden):
            ranking.quarter_ranking(s, as_user(s, "zr-head"), today.year, quarter)
