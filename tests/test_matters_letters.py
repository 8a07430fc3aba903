"""The matter's commission letter (委托公函), the decision list (决策事项清单) blocking sign-off
and reported by compliance, and the counts for assessment."""

from __future__ import annotations

import datetime as dt

import pytest
from conftest import as_user, populated_store, write_template
from matterutil import CASE_NO, act, new_matter
from sqlalchemy import select, update

from app.drafting import drafts
from app.drafting.models import IssuedDocument
from app.errors import Forbidden, WorkflowError
from app.matters import decisions, letters, service
from app.matters.models import Matter, MatterEvent
from app.matters.stats import matter_counts
from app.registers.compliance import compliance_findings


def test_the_commission_letter_is_drafted_from_the_matter_and_links_back(cf):
    matter_id = new_matter(cf)
    act(cf, "head", service.assign, matter_id, "lawyer")
    with pytest.raises(WorkflowError):  # not accepted yet
        with cf.db.write() as s:
            letters.draft_letter(cf, s, as_user(s, "head"), matter_id)
    act(cf, "lawyer", service.accept, matter_id)
    with cf.db.write() as s:
        service.save_profile(s, as_user(s, "lawyer"), "lawyer", licence="15301202610123456",
                             phone="13808712345", specialty="行政诉讼")  # fmt: skip
        draft = letters.draft_letter(cf, s, as_user(s, "head"), matter_id)
        data = drafts.current_version(s, draft).data
        draft_id = draft.id
    assert data["case_number"] == CASE_NO and data["addressee"] == "武阳市中级人民法院"
    assert data["party_role"] == "被告" and data["proceeding_type"] == "行政诉讼"
    assert data["lawyer_name"] == "张明远" and data["lawyer_licence"] == "15301202610123456"
    assert data["lawyer_unit"] == "武阳市人民政府法律顾问室"
    assert data["case_name"] == "李某诉武阳市人民政府政府信息公开"
    with cf.db.write() as s:
        assert s.get(Matter, matter_id).letter_draft_id == draft_id
        with pytest.raises(WorkflowError):  # one letter per matter
            letters.draft_letter(cf, s, as_user(s, "head"), matter_id)
    # through the unchanged chain (把关, 签发), then it is one of the matter's documents
    with cf.db.write() as s:
        drafts.submit(cf, s, as_user(s, "head"), draft_id)
        drafts.approve(cf, s, as_user(s, "head2"), draft_id)
        drafts.approve(cf, s, as_user(s, "signatory"), draft_id)
        doc_id = drafts.issue(cf, s, as_user(s, "clerk"), draft_id).id
    with cf.db.read() as s:
        m = s.get(Matter, matter_id)
        assert [d.id for d in service.documents_of(s, as_user(s, "lawyer"), m)] == [doc_id]
        assert any(e.kind == "letter" for e in service.events_of(s, m))


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_no_letter_for_a_matter_without_representation(cf):
    matter_id = new_matter(cf, kind="contract-review", case_number="", served_on="")
    act(cf, "head", service.assign, matter_id, "lawyer")
    act(cf, "lawyer", service.accept, matter_id)
    with pytest.raises(WorkflowError), cf.db.write() as s:
        letters.draft_letter(cf, s, as_user(s, "head"), matter_id)


@pytest.fixture
def listed_cf(tmp_path, db_url):
    folder = tmp_path / "templates"
    body = ["{{ doc_number }}", "{{ subject }}", "{{ issue_date }}"]
    field = [{"name": "subject", "label": "事由", "type": "text", "required": True}]
    write_template(folder, "plain", body, field, chain=[
        {"name": "office-check", "label": "法律顾问室把关", "role": "office-head"},
        {"name": "sign-off", "label": "领导签发", "role": "signatory"}])  # fmt: skip
    write_template(folder, "heard", body, field, suffix="听", chain=[
        {"name": "adviser-review", "label": "法律顾问审核", "role": "adviser"},
        {"name": "sign-off", "label": "领导签发", "role": "signatory"}])  # fmt: skip
    store = populated_store(tmp_path, db_url, templates_dir=folder)
    yield store
    store.close()


def _through(cf, template: str, reviewers: list[str], issue: bool = True):
    with cf.db.write() as s:
        d = drafts.create_draft(cf, s, as_user(s, "clerk"), template, {"subject": "甲"}, "FZB")
        drafts.submit(cf, s, as_user(s, "clerk"), d.id)
        draft_id = d.id
    for reviewer in reviewers:
        with cf.db.write() as s:
            drafts.approve(cf, s, as_user(s, reviewer), draft_id)
    if issue:
        with cf.db.write() as s:
            return drafts.issue(cf, s, as_user(s, "clerk"), draft_id).id
    return draft_id


def test_the_decision_list_blocks_sign_off_and_compliance_reports_what_went_without(listed_cf):
    cf = listed_cf
    before = _through(cf, "plain", ["head", "signatory"])  # issued before it was listed
    with pytest.raises(Forbidden), cf.db.write() as s:
        decisions.add_entry(cf, s, as_user(s, "clerk"), "FZB", "plain")
    with cf.db.write() as s:
        head = as_user(s, "head")
        decisions.add_entry(cf, s, head, "FZB", "plain", "重大合同")
        decisions.add_entry(cf, s, head, "FZB", "heard")
        assert not decisions.chain_has_lawyer_step(cf, s, "plain")
        assert decisions.chain_has_lawyer_step(cf, s, "heard")
    blocked = _through(cf, "plain", ["head"], issue=False)
    with pytest.raises(WorkflowError) as refused, cf.db.write() as s:
        drafts.approve(cf, s, as_user(s, "signatory"), blocked)
    assert "决策事项清单" in refused.value.message
    heard = _through(cf, "heard", ["lawyer", "signatory"])  # the lawyer's step: signed off
    with cf.db.read() as s:
        found = [f for f in compliance_findings(s, as_user(s, "inspector"))
                 if f.category == "decision_unreviewed"]  # fmt: skip
        numbers = {f.document_number for f in found}
        assert numbers == {s.get(IssuedDocument, before).number}
        assert s.get(IssuedDocument, heard).number not in numbers
        # nobody outside FZB's readers sees the finding
        assert not [f for f in compliance_findings(s, as_user(s, "zr-head"))
                    if f.category == "decision_unreviewed"]  # fmt: skip
    # taken off the list, the draft goes to sign-off again
    with cf.db.write() as s:
        entry = decisions.decision_list(s, s.get(IssuedDocument, before).unit_id)[0]
        decisions.remove_entry(s, as_user(s, "head"), entry.id)
        drafts.approve(cf, s, as_user(s, "signatory"), blocked)


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_counts_for_assessment_per_lawyer_and_unit_and_period(cf):
    on_time, late, open_ = (new_matter(cf) for _ in range(3))
    declined = new_matter(cf)
    for m in (on_time, late, open_):
        act(cf, "head", service.assign, m, "lawyer")
        act(cf, "lawyer", service.accept, m)
    for m in (on_time, late):
        with cf.db.write() as s:
            service.record_progress(cf, s, as_user(s, "lawyer"), m, "已办", final=True)
        act(cf, "head", service.close, m)
    act(cf, "head", service.assign, declined, "lawyer")
    act(cf, "lawyer", service.decline, declined, "工作量已满")
    act(cf, "head", service.assign, declined, "lawyer")
    act(cf, "lawyer", service.decline, declined, "出差")
    with cf.db.write() as s:
        first, second = s.scalars(select(MatterEvent.id).where(MatterEvent.kind == "decline")
                                  .order_by(MatterEvent.id)).all()  # fmt: skip
        head = as_user(s, "head")
        service.rule_decline(s, head, declined, first, True)
        service.rule_decline(s, head, declined, second, True)
        service.rule_decline(s, head, declined, second, False)  # the later ruling wins
        # the deadline 2026-11-17: on_time reported the day before, late a week after
        for m, day in ((on_time, 16), (late, 24)):
            at = dt.datetime(2026, 11, day, 2, 0)
            s.execute(update(Matter).where(Matter.id == m).values(reported_at=at, closed_at=at))
    with cf.db.read() as s:
        (row,) = matter_counts(s, as_user(s, "head"), by="lawyer")
        assert (row.name, row.handled, row.on_time, row.overdue) == ("张明远", 2, 1, 1)
        assert (row.declined_with_cause, row.declined_without_cause) == (1, 1)
        (unit_row,) = matter_counts(s, None, by="unit")
        assert unit_row.handled == 2 and unit_row.declined_without_cause == 1
        november = matter_counts(s, None, by="lawyer", start=dt.date(2026, 11, 20),
                                 end=dt.date(2026, 11, 30))  # fmt: skip
        assert november[0].handled == 1 and november[0].overdue == 1
        # what a reader outside the unit may not see is not counted for them
        assert matter_counts(s, as_user(s, "zr-head"), by="lawyer") == []
