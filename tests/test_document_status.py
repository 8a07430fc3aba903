"""Supersede and revoke (替代、撤销): the status is a record beside the issued document, shown on
its page, in lists, search results and facets, the contracts register, the case file and the
dossier's 卷内文件目录; verify still reproduces every issued document; both engines."""

from __future__ import annotations

import datetime as dt

import pytest
from casefile_factories import file_document, new_case
from conftest import as_user, issue_letter, reopen_audit_log, sample
from sqlalchemy import select, text
from webutil import api_client, logged_in, post_form

from app.casefiles.contents import items_of
from app.casefiles.export import STATUS_NOTES, _front_docx, dossier_note
from app.casefiles.models import CaseFile
from app.common.docx_text import docx_text
from app.drafting import corrections, drafts
from app.drafting import status as document_status
from app.drafting.documents import document_filter, list_documents
from app.drafting.models import DocumentStatus, IssuedDocument
from app.errors import Forbidden, NotFound, ValidationFailed, WorkflowError
from app.integrity import status_records
from app.integrity.verify import verify_store
from app.jobs.models import OutboxEvent
from app.jobs.outbox import drain
from app.search.indexing import expected_fingerprints
from app.search.service import run_search, search_query

CHAIN = ("head", "signatory")  # the commission letter's review chain


def correct(cf, doc_id: int, user: str = "clerk", **changes) -> IssuedDocument:
    """Draft a correction of `doc_id`, change `changes`, review and issue it."""
    with cf.db.write() as s:
        clerk = as_user(s, user)
        draft = corrections.start_correction(cf, s, clerk, doc_id, via="test")
        data = dict(drafts.current_version(s, draft).data) | (
            changes or {"contact_phone": "0871-63101235"}
        )
        drafts.edit_draft(cf, s, clerk, draft.id, data)
        drafts.submit(cf, s, clerk, draft.id)
        for reviewer in CHAIN:
            drafts.approve(cf, s, as_user(s, reviewer), draft.id)
        doc = drafts.issue(cf, s, clerk, draft.id)
        return doc


def revoke(cf, doc_id: int, reason: str = "依据的规定已废止", first="head", second="signatory"):
    with cf.db.write() as s:
        document_status.propose_revocation(s, as_user(s, first), doc_id, reason)
    with cf.db.write() as s:
        return document_status.confirm_revocation(s, as_user(s, second), doc_id).id


def status_of(cf, doc_id: int) -> str:
    with cf.db.read() as s:
        return document_status.status_view(s, s.get(IssuedDocument, doc_id)).status


def test_a_correction_supersedes_on_issue_and_links_both_ways(cf):
    old = issue_letter(cf)
    with cf.db.write() as s:
        draft = corrections.start_correction(cf, s, as_user(s, "clerk"), old.id)
        # prefilled with what the reviewers approved for the old document
        assert drafts.current_version(s, draft).data == sample()
        assert document_status.correction_target(s, draft.id).id == old.id
    # a second correction while one is on its way is refused
    with cf.db.write() as s, pytest.raises(WorkflowError, match="更正草稿"):
        corrections.start_correction(cf, s, as_user(s, "clerk"), old.id)
    assert status_of(cf, old.id) == "issued"  # not before the correction is issued
    with cf.db.write() as s:
        clerk = as_user(s, "clerk")
        data = dict(drafts.current_version(s, draft).data) | {
            "case_name": "原告李某某诉某市司法局政府信息公开（更正）"
        }
        drafts.edit_draft(cf, s, clerk, draft.id, data)
        drafts.submit(cf, s, clerk, draft.id)
        for reviewer in CHAIN:
            drafts.approve(cf, s, as_user(s, reviewer), draft.id)
        new = drafts.issue(cf, s, clerk, draft.id)
    with cf.db.read() as s:
        old_view = document_status.status_view(s, s.get(IssuedDocument, old.id))
        new_view = document_status.status_view(s, s.get(IssuedDocument, new.id))
    assert (old_view.status, old_view.label) == ("superseded", "已被替代")
    assert old_view.successor.number == new.number and old_view.effective_on == new.issue_date
    assert new_view.status == "issued" and new_view.predecessor.number == old.number
    # the old row is untouched: still the same bytes, and verify reproduces both
    with cf.db.read() as s:
        assert s.get(IssuedDocument, old.id).docx_sha256 == old.docx_sha256
    report = verify_store(cf)
    assert report.ok, report.problems
    # a superseded document is neither corrected nor revoked again
    with cf.db.write() as s, pytest.raises(WorkflowError, match="已被替代"):
        corrections.start_correction(cf, s, as_user(s, "clerk"), old.id)
    with cf.db.write() as s, pytest.raises(WorkflowError, match="已被替代"):
        document_status.propose_revocation(s, as_user(s, "head"), old.id, "理由")


def test_status_records_are_write_once(cf):
    old = issue_letter(cf)
    correct(cf, old.id)
    with pytest.raises(Exception, match="write-once"):
        with cf.db.write() as s:
            s.execute(text("UPDATE document_statuses SET status = 'revoked'"))
    with pytest.raises(Exception, match="write-once"):
        with cf.db.write() as s:
            s.execute(text("DELETE FROM document_statuses"))


def test_a_correction_of_a_document_revoked_meanwhile_is_not_issued(cf):
    old = issue_letter(cf)
    with cf.db.write() as s:
        clerk = as_user(s, "clerk")
        draft = corrections.start_correction(cf, s, clerk, old.id)
        drafts.submit(cf, s, clerk, draft.id)
        for reviewer in CHAIN:
            drafts.approve(cf, s, as_user(s, reviewer), draft.id)
    revoke(cf, old.id)
    with cf.db.write() as s, pytest.raises(WorkflowError, match="已撤销"):
        drafts.issue(cf, s, as_user(s, "clerk"), draft.id)
    with cf.db.read() as s:  # no number consumed, the old document stays revoked
        assert (
            s.scalar(select(IssuedDocument.id).where(IssuedDocument.draft_id == draft.id)) is None
        )
    assert status_of(cf, old.id) == "revoked"
    assert verify_store(cf).ok


def test_revocation_needs_an_office_head_and_a_signatory_with_a_reason(cf):
    doc = issue_letter(cf)
    with cf.db.write() as s, pytest.raises(Forbidden):
        document_status.propose_revocation(s, as_user(s, "clerk"), doc.id, "理由")
    with cf.db.write() as s, pytest.raises(ValidationFailed) as refused:
        document_status.propose_revocation(s, as_user(s, "head"), doc.id, "   ")
    assert refused.value.errors[0]["field"] == "reason"
    with cf.db.write() as s, pytest.raises(WorkflowError, match="没有待确认"):
        document_status.confirm_revocation(s, as_user(s, "signatory"), doc.id)
    with cf.db.write() as s:
        document_status.propose_revocation(s, as_user(s, "head"), doc.id, "委托事项已终结")
    with cf.db.write() as s, pytest.raises(WorkflowError, match="已有撤销申请"):
        document_status.propose_revocation(s, as_user(s, "signatory"), doc.id, "另一理由")
    with cf.db.write() as s, pytest.raises(WorkflowError, match="不能自己确认"):
        document_status.confirm_revocation(s, as_user(s, "head"), doc.id)
    with cf.db.write() as s, pytest.raises(Forbidden, match="签发人确认"):
        document_status.confirm_revocation(s, as_user(s, "head2"), doc.id)  # same role
    assert status_of(cf, doc.id) == "issued"
    with cf.db.write() as s:
        document_status.confirm_revocation(s, as_user(s, "signatory"), doc.id)
    with cf.db.read() as s:
        view = document_status.status_view(s, s.get(IssuedDocument, doc.id))
    assert (view.status, view.reason, view.proposer, view.decided_by) == (
        "revoked", "委托事项已终结", "head", "signatory")  # fmt: skip
    assert verify_store(cf).ok


def test_lists_filter_and_show_the_status(cf):
    a, b, c = issue_letter(cf), issue_letter(cf), issue_letter(cf)
    new = correct(cf, a.id)
    revoke(cf, b.id)
    with cf.db.read() as s:
        clerk = as_user(s, "clerk")
        listing = list_documents(s, clerk)
        assert {d.id: listing.status_of(d) for d in listing.documents} == {
            a.id: "superseded", b.id: "revoked", c.id: "issued", new.id: "issued"}  # fmt: skip

        def only(status):
            return [
                d.id
                for d in list_documents(
                    s, clerk, 1, 30, document_filter(s, status=status)
                ).documents
            ]

        assert set(only("有效")) == {c.id, new.id}
        assert only("superseded") == [a.id]
        assert only("已撤销") == [b.id]
        with pytest.raises(ValidationFailed) as refused:
            document_filter(s, status="作废了")
        assert refused.value.errors[0]["field"] == "status"


def test_search_carries_the_status_through_the_outbox(cf):
    a, b = issue_letter(cf), issue_letter(cf)
    drain(cf, ("index",))

    def search(q: str = "", **kw):
        with cf.db.write() as s:
            return run_search(cf, s, as_user(s, "clerk"), search_query(q, **kw), via="test")

    assert search().facets["status"] == {"issued": 2}
    new = correct(cf, a.id)
    revoke(cf, b.id)
    drain(cf, ("index",))
    found = search()
    assert found.facets["status"] == {"issued": 1, "superseded": 1, "revoked": 1}
    by_id = {h.record_id: h for h in found.hits}
    assert (by_id[a.id].status, by_id[a.id].status_label) == ("superseded", "已被替代")
    assert by_id[b.id].status_label == "已撤销" and by_id[new.id].status_label == "有效"
    assert [h.record_id for h in search("状态:有效").hits] == [new.id]
    assert [h.record_id for h in search("状态:已被替代").hits] == [a.id]
    assert [h.record_id for h in search(status="已撤销").hits] == [b.id]
    with pytest.raises(ValidationFailed) as refused:
        search_query(status="过期")
    assert refused.value.errors[0]["field"] == "status"
    # verify compares the index's fingerprints: up to date after the drain
    assert not [w for w in verify_store(cf).warnings if "索引" in w]


def test_a_status_change_queues_a_reindex_and_changes_the_fingerprint(cf):
    a = issue_letter(cf)
    drain(cf, ("index",))
    before = dict(cf.search.stored_hashes())[str(a.id)]
    revoke(cf, a.id)
    with cf.db.read() as s:
        queued = [e.payload for e in s.scalars(select(OutboxEvent).where(
            OutboxEvent.kind == "index", OutboxEvent.processed_at.is_(None)))]  # fmt: skip
    assert queued == [{"document_id": a.id}]
    drain(cf, ("index",))
    after = dict(cf.search.stored_hashes())[str(a.id)]
    with cf.db.read() as s:
        assert after != before and after == expected_fingerprints(s)[str(a.id)]
    assert verify_store(cf, write_checkpoint=False).warnings == []


def test_case_file_and_dossier_index_show_the_status(cf):
    a, b = issue_letter(cf), issue_letter(cf)
    case = new_case(cf)
    file_document(cf, case, a.id)
    file_document(cf, case, b.id)
    new = correct(cf, a.id)
    revoke(cf, b.id)
    with cf.db.read() as s:
        items = items_of(s, s.get(CaseFile, case))
        notes = [dossier_note(i) for i in items]
        assert notes == [f"{STATUS_NOTES['superseded']}，由 {new.number} 替代", "已撤销"]
        from app.casefiles.export import DossierEntry  # noqa: PLC0415 (test-only helper)

        entries = [DossierEntry(i.position, "", i.doc_number, i.responsible, i.title, "", 1, 1,
                                note) for i, note in zip(items, notes, strict=True)]  # fmt: skip
        _cover, toc = _front_docx(s.get(CaseFile, case), s.get(CaseFile, case).unit, entries, [], 2)
    toc_text = docx_text(toc)
    assert f"（已被替代，由 {new.number} 替代）" in toc_text and "（已撤销）" in toc_text


def test_web_pages_show_and_do_it(cf, app):
    a, b = issue_letter(cf), issue_letter(cf)
    case = new_case(cf)
    file_document(cf, case, a.id)
    clerk = logged_in(app, "clerk")
    page = f"/documents/{a.id}"
    html = clerk.get(page).get_data(as_text=True)
    assert "起草更正文书" in html and "提出撤销" not in html  # a clerk corrects, never revokes
    r = post_form(clerk, page, f"/documents/{a.id}/correct", {"correct": "1"})
    assert r.status_code == 302 and "/edit" in r.headers["Location"]
    draft_id = int(r.headers["Location"].split("/drafts/")[1].split("/")[0])
    html = clerk.get(f"/drafts/{draft_id}").get_data(as_text=True)
    assert a.number in html and "更正稿，发文后原文书将显示为“已被替代”" in html
    with cf.db.write() as s:
        c = as_user(s, "clerk")
        drafts.submit(cf, s, c, draft_id)
        for reviewer in CHAIN:
            drafts.approve(cf, s, as_user(s, reviewer), draft_id)
        new = drafts.issue(cf, s, c, draft_id)
    html = clerk.get(page).get_data(as_text=True)
    assert "本文书已被替代" in html and new.number in html and "起草更正文书" not in html
    assert f"对 <a href=\"/documents/{a.id}\">{a.number}</a> 的更正" in clerk.get(
        f"/documents/{new.id}").get_data(as_text=True)  # fmt: skip
    listing = clerk.get("/documents").get_data(as_text=True)
    assert listing.count("已被替代") == 2  # the badge, and the filter's option
    only = clerk.get("/documents?status=superseded").get_data(as_text=True)
    assert a.number in only and b.number not in only
    assert clerk.get("/documents?status=过期").status_code == 400  # a bad filter, as the others
    assert "已被替代" in clerk.get("/").get_data(as_text=True)
    assert "已被替代" in clerk.get(f"/casefiles/{case}").get_data(as_text=True)
    # revoke: the head proposes (reason required), the signatory confirms
    head, signatory = logged_in(app, "head"), logged_in(app, "signatory")
    page_b = f"/documents/{b.id}"
    r = post_form(head, page_b, f"/documents/{b.id}/revoke", {"propose": "1", "reason": ""})
    assert r.status_code == 422 and "撤销理由" in r.get_data(as_text=True)
    r = post_form(head, page_b, f"/documents/{b.id}/revoke", {"propose": "1", "reason": "已失效"})
    assert r.status_code == 302
    assert "确认撤销" in signatory.get(page_b).get_data(as_text=True)
    r = post_form(signatory, page_b, f"/documents/{b.id}/revoke", {"confirm": "1"})
    assert r.status_code == 302
    html = clerk.get(page_b).get_data(as_text=True)
    assert "本文书已撤销" in html and "已失效" in html
    # search page: badge and the status facet, filter by it
    drain(cf, ("index",))
    html = clerk.get("/search?q=委托").get_data(as_text=True)
    assert "已被替代</span>" in html and "状态</h3>" in html and "已撤销</a>" in html
    html = clerk.get("/search?q=委托&status=有效").get_data(as_text=True)
    assert new.number in html and a.number not in html


def test_api_status_correction_and_revocation(cf):
    doc = issue_letter(cf)
    client, token = api_client(cf)
    clerk, head, signatory = token("clerk"), token("head"), token("signatory")
    r = client.get(f"/api/v1/documents/{doc.id}", headers=clerk)
    assert (r.json["status"], r.json["status_label"], r.json["superseded_by"]) == (
        "issued", "有效", None)  # fmt: skip
    r = client.post(f"/api/v1/documents/{doc.id}/revocation", json={"reason": "理由"},
                    headers=clerk)  # fmt: skip
    assert r.status_code == 403
    r = client.post(f"/api/v1/documents/{doc.id}/revocation", json={"reason": ""}, headers=head)
    assert r.status_code == 422 and r.json["errors"][0]["field"] == "reason"
    r = client.post(f"/api/v1/documents/{doc.id}/revocation", json={"reason": "已终结"},
                    headers=head)  # fmt: skip
    assert r.status_code == 200 and r.json["revocation_pending"]["reason"] == "已终结"
    r = client.post(f"/api/v1/documents/{doc.id}/revocation/confirm", headers=signatory)
    assert r.status_code == 200 and r.json["status"] == "revoked"
    r = client.get("/api/v1/documents?status=已撤销", headers=clerk)
    assert [d["status_label"] for d in r.json["documents"]] == ["已撤销"]
    r = client.post(f"/api/v1/documents/{doc.id}/correction", headers=clerk)
    assert r.status_code == 409
    other = issue_letter(cf)
    r = client.post(f"/api/v1/documents/{other.id}/correction", headers=clerk)
    assert r.status_code == 201 and r.json["status"] == "draft"


def test_cli_shows_and_revokes(cf, run_cli):
    doc = issue_letter(cf)
    code, out, err = run_cli("document", "revoke", str(doc.id), "--reason", "已终结",
                             "--as", "head")  # fmt: skip
    assert code == 0, err
    code, out, err = run_cli("document", "revoke", str(doc.id), "--confirm", "--as", "head")
    assert code == 2 and "不能自己确认" in err
    code, out, err = run_cli("document", "revoke", str(doc.id), "--confirm", "--as", "signatory")
    assert code == 0, err
    code, out, err = run_cli("document", "show", str(doc.id), "--as", "clerk")
    assert code == 0 and "已撤销" in out


def test_integrity_cross_checks_status_records(cf):
    a, b = issue_letter(cf), issue_letter(cf)
    correct(cf, a.id)
    revoke(cf, b.id)
    with cf.db.read() as s:
        assert status_records.check_statuses(s) == []
    # someone lifts the trigger and deletes a status: the audit log still knows
    with cf.db.engine.begin() as conn:
        if cf.db.is_sqlite:
            conn.execute(text("DROP TRIGGER document_statuses_no_delete"))
        else:
            conn.execute(text("ALTER TABLE document_statuses DISABLE TRIGGER "
                              "document_statuses_write_once"))  # fmt: skip
        conn.execute(text("DELETE FROM document_statuses WHERE document_id = :d"), {"d": b.id})
    with cf.db.read() as s:
        problems = status_records.check_statuses(s)
    assert any(b.number in p and "状态记录被删除" in p for p in problems), problems
    assert not verify_store(cf, write_checkpoint=False).ok
    _ = reopen_audit_log  # (the audit log itself stays untouched here)


def test_a_superseded_contract_ends_in_the_register(cf):
    from app.registers.contracts import contract_register

    data = sample("engagement-contract")
    start, end = dt.date(2026, 1, 1), dt.date(2030, 12, 31)
    data["term"] = {"start": start.isoformat(), "end": end.isoformat()}
    with cf.db.write() as s:
        clerk = as_user(s, "clerk")
        d = drafts.create_draft(cf, s, clerk, "engagement-contract", data, "FZB")
        drafts.submit(cf, s, clerk, d.id)
        for step in drafts.template_of(cf, s, d).schema.review_chain:
            reviewer = {"adviser": "adviser", "office-head": "head", "signatory": "signatory"}
            drafts.approve(cf, s, as_user(s, reviewer[step.role]), d.id)
        old = drafts.issue(cf, s, clerk, d.id)
        c = corrections.start_correction(cf, s, clerk, old.id)
        drafts.submit(cf, s, clerk, c.id)
        for step in drafts.template_of(cf, s, c).schema.review_chain:
            drafts.approve(cf, s, as_user(s, reviewer[step.role]), c.id)
        new = drafts.issue(cf, s, clerk, c.id)
    with cf.db.read() as s:
        reg = contract_register(s, as_user(s, "clerk"), today=dt.date(2030, 12, 1))
    by_id = {e.document_id: e for e in reg.entries}
    assert by_id[old.id].status == "superseded" and by_id[old.id].status_label == "已被替代"
    assert by_id[old.id].ended_on == new.issue_date and by_id[old.id].superseded_by == new.number
    assert by_id[old.id].days_remaining is None and not by_id[old.id].renewed_by
    assert by_id[new.id].status == "expiring"  # the correction carries the term on
    assert reg.due == 1 and reg.counts["superseded"] == 1  # the old one is not reminded of
    assert by_id[old.id].as_dict()["superseded_by"] == new.number
    with cf.db.read() as s:
        assert s.scalar(select(DocumentStatus.successor_id).where(
            DocumentStatus.document_id == old.id)) == new.id  # fmt: skip
    _ = NotFound


def test_demo_has_a_superseded_and_a_revoked_document_and_register_entries(demo_copy):
    from demostore import open_demo_store  # lazy: only this test opens the demo store

    from app.registers import normative  # lazy: only this test reads the register

    store = open_demo_store(demo_copy)  # `casefile verify` on it: tests/test_cli.py
    try:
        with store.db.write() as s:
            states = {r.status for r in s.scalars(select(DocumentStatus))}
            assert states == {"superseded", "revoked"}
            register = normative.list_register(
                s, as_user(s, "inspector"), today=dt.date(2026, 12, 1)
            )
            assert len(register.entries) == 3
            found = {f.category for e in register.entries for f in e.findings}
            assert found == {"normative_filing_overdue", "normative_expired"}
    finally:
        store.close()
