"""The half-yearly report (法律顾问工作情况报告): its figures equal the records they come from, it
is issued like any document, and the inspector sees who has submitted."""

from __future__ import annotations

import datetime as dt

import pytest
from casefile_factories import issue_template
from conftest import as_user, sample
from test_supervision_assessment import ENTRY, contract_in_force, record

from app.common.clock import today_in_china
from app.drafting import drafts
from app.errors import Forbidden, ValidationFailed
from app.supervision import filing, pool, reports
from app.supervision.records import service_records

NARRATIVE = {"work_summary": "法律顾问列席常务会议并审查文件。", "problems": "送审时间偏紧。",
             "next_steps": "提前报送审查材料。"}  # fmt: skip


def test_the_report_counts_the_records_and_is_issued_like_any_document(cf):
    today = today_in_china()
    period = reports.Period(today.year, 1 if today.month <= 6 else 2)
    with cf.db.write() as s:
        entry = pool.admit(s, as_user(s, "inspector"), ENTRY).id
    contract = contract_in_force(cf)  # signed today, in force
    with cf.db.write() as s:
        filing.register_filing(s, as_user(s, "inspector"), contract.id, "武司备〔2026〕1号")
    issue_template(cf, "legality-review-opinion", sample("legality-review-opinion"))  # adviser
    issue_template(cf, "commission-letter", sample("commission-letter"))  # public lawyer 张明远
    record(cf, "clerk", "FZB", f"entry:{entry}", kind="meeting", hours="2")
    record(cf, "clerk", "FZB", f"entry:{entry}", kind="training", hours="1.5")
    record(cf, "zr-clerk", "ZRJ", f"entry:{entry}", kind="consultation")  # another unit's
    with cf.db.read() as s:
        with pytest.raises(Forbidden):
            reports.prefill(s, as_user(s, "zr-clerk"), "FZB", period.year, period.half)
        with pytest.raises(ValidationFailed) as bad:
            reports.prefill(s, as_user(s, "clerk"), "FZB", period.year, "三季度")
        assert bad.value.errors[0]["field"] == "half"
        data = reports.prefill(s, as_user(s, "clerk"), "FZB", period.year, period.half)
        # the same records as the records page lists for the unit and period
        listed = service_records(s, as_user(s, "inspector"), year=period.year, unit_code="FZB")
        in_period = [r for r in listed.records if period.start <= r.served_on <= period.end]
    assert data["service_count"] == len(in_period) == 5  # review, opinion, letter, 2 by hand
    assert {r["kind"]: r["count"] for r in data["services"]} == {
        "审核文书": 1, "出具合法性审查意见": 1, "代理诉讼": 1, "列席会议": 1, "法律培训": 1}  # fmt: skip
    assert [r["hours"] for r in data["services"]][-2:] == ["2", "1.5"]
    assert data["service_hours"] == "3.5"
    assert (data["review_count"], data["opinion_count"], data["litigation_count"]) == (1, 1, 1)
    assert (data["adviser_count"], data["contract_count"], data["filed_count"]) == (1, 1, 1)
    assert data["public_lawyer_count"] == 1 and data["matters_handled"] == 0
    assert data["advisers"][0]["employer"] == "武阳市人民政府法律顾问室"
    assert data["addressee"] == "武阳市司法局"
    assert [r["unit_name"] for r in data["unit_rows"]] == ["武阳市人民政府法律顾问室"]
    assert (data["report_year"], data["half"]) == (period.year, reports.HALVES[period.half - 1])

    due = period.due
    with cf.db.write() as s:
        clerk = as_user(s, "clerk")
        reminded = reports.reminders(s, clerk, clerk.units_with("clerk"),
                                     today=due - dt.timedelta(days=10))  # fmt: skip
        assert [r.period for r in reminded][-1] == period and reminded[-1].days_left == 10
        draft = reports.start_report(cf, s, as_user(s, "clerk"), {
            "unit": "FZB", "year": period.year, "half": period.half, **NARRATIVE})  # fmt: skip
        draft_id = draft.id
        _, rows = reports.submissions(s, as_user(s, "inspector"), period.year, period.half,
                                      today=due)  # fmt: skip
        assert {r.unit.code: r.state for r in rows} == {"FZB": "drafting", "ZRJ": "missing"}
        with pytest.raises(Forbidden):
            reports.submissions(s, as_user(s, "clerk"), period.year, period.half)
    with cf.db.write() as s:
        drafts.submit(cf, s, as_user(s, "clerk"), draft_id)
        drafts.approve(cf, s, as_user(s, "head"), draft_id)
        drafts.approve(cf, s, as_user(s, "signatory"), draft_id)
        doc = drafts.issue(cf, s, as_user(s, "clerk"), draft_id, issue_date=min(today, due))
        number = doc.number
    with cf.db.read() as s:
        _, rows = reports.submissions(s, as_user(s, "inspector"), period.year, period.half,
                                      today=due + dt.timedelta(days=1))  # fmt: skip
        states = {r.unit.code: (r.state, r.number, r.late) for r in rows}
        assert states == {"FZB": ("submitted", number, False), "ZRJ": ("missing", "", True)}
        assert number.startswith("武政法报〔")
        left = reports.reminders(s, as_user(s, "inspector"), {r.unit.id for r in rows},
                                 today=due + dt.timedelta(days=1))  # fmt: skip
        assert [(r.period, [u.code for u in r.missing], r.overdue) for r in left] == [
            (period, ["ZRJ"], True)]  # fmt: skip
