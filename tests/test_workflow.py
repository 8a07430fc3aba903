"""Draft → review → issue: the rules, and that bad input writes nothing."""

import pytest
from conftest import as_user, sample
from sqlalchemy import func, select

from app.audit.models import AuditEntry
from app.drafting import drafts
from app.drafting.models import Draft, DraftVersion, IssuedDocument, NumberSequence
from app.errors import Forbidden, ValidationFailed, WorkflowError


def _counts(cf):
    with cf.db.read() as s:
        return tuple(
            s.scalar(select(func.count()).select_from(m))
            for m in (Draft, DraftVersion, IssuedDocument, NumberSequence, AuditEntry)
        )


def test_commission_letter_from_form_to_issued(cf):
    with cf.db.write() as s:
        clerk = as_user(s, "clerk")
        d = drafts.create_draft(cf, s, clerk, "commission-letter", sample(), "FZB")
        drafts.submit(cf, s, clerk, d.id)
        drafts.approve(cf, s, as_user(s, "head"), d.id, "同意")
        drafts.approve(cf, s, as_user(s, "signatory"), d.id, "同意签发")
        doc = drafts.issue(cf, s, clerk, d.id)
        steps = drafts.steps_of(s, d)
        v1 = drafts.current_version(s, d)
    assert doc.number == "武政法函〔2026〕1号" or doc.number.startswith("武政法函〔")
    assert [st.decision for st in steps] == ["submit", "approve", "approve"]
    assert {st.version_sha256 for st in steps} == {v1.docx_sha256} == {doc.approved_sha256}
    assert [st.role for st in steps] == ["drafter", "office-head", "signatory"]
    assert doc.docx_sha256 != doc.approved_sha256
    import io

    from docx import Document

    text = "\n".join(p.text for p in Document(io.BytesIO(cf.blobs.get(doc.docx_sha256))).paragraphs)
    assert doc.number in text


def test_invalid_input_writes_nothing(cf):
    before = _counts(cf)
    bad = sample() | {
        "lawyer_licence": "12345",
        "case_number": "2026云01行初123号",
        "addressee": "",
    }
    with pytest.raises(ValidationFailed) as err:
        with cf.db.write() as s:
            drafts.create_draft(cf, s, as_user(s, "clerk"), "commission-letter", bad, "FZB")
    fields = {e["field"] for e in err.value.errors}
    # malformed values stop the save; a missing one waits for submission (tests/test_forms.py)
    assert fields == {"lawyer_licence", "case_number"}
    assert _counts(cf) == before


def test_overlong_and_control_characters_are_refused(cf):
    for value in ("甲" * 61, "某法院\x00", "某法院\x1b[31m"):
        with pytest.raises(ValidationFailed):
            with cf.db.write() as s:
                drafts.create_draft(cf, s, as_user(s, "clerk"), "commission-letter",
                                    sample() | {"addressee": value}, "FZB")  # fmt: skip


def test_rules_of_the_chain(quick_cf):
    cf = quick_cf
    with cf.db.write() as s:
        clerk = as_user(s, "clerk")
        d = drafts.create_draft(cf, s, clerk, "quick", {"subject": "甲"}, "FZB")
        with pytest.raises(WorkflowError):  # not submitted yet
            drafts.approve(cf, s, as_user(s, "signatory"), d.id)
        drafts.submit(cf, s, clerk, d.id)
        with pytest.raises(WorkflowError):  # not approved yet
            drafts.issue(cf, s, clerk, d.id)
        with pytest.raises(Forbidden):  # wrong role for the step
            drafts.approve(cf, s, as_user(s, "head"), d.id)
        with pytest.raises(Forbidden):  # another unit's clerk cannot issue or review
            drafts.approve(cf, s, as_user(s, "zr-head"), d.id)
        draft_id = d.id
    # the drafter cannot approve, even when holding the step's role
    with cf.db.write() as s:
        from app.identity.users import grant_role

        grant_role(s, "clerk", "signatory", "FZB")
    with pytest.raises(Forbidden, match="起草人"):
        with cf.db.write() as s:
            drafts.approve(cf, s, as_user(s, "clerk"), draft_id)
    with cf.db.write() as s:
        drafts.approve(cf, s, as_user(s, "signatory"), draft_id)
        doc = drafts.issue(cf, s, as_user(s, "clerk2"), draft_id)
        assert doc.number.endswith("〕1号")
    with pytest.raises(WorkflowError, match="已经发文"):
        with cf.db.write() as s:
            drafts.issue(cf, s, as_user(s, "clerk"), draft_id)
    with pytest.raises(WorkflowError):
        with cf.db.write() as s:
            drafts.edit_draft(cf, s, as_user(s, "clerk"), draft_id, {"subject": "乙"})


def test_edit_voids_approvals_and_return_needs_a_comment(cf):
    with cf.db.write() as s:
        clerk = as_user(s, "clerk")
        d = drafts.create_draft(cf, s, clerk, "commission-letter", sample(), "FZB")
        drafts.submit(cf, s, clerk, d.id)
        drafts.approve(cf, s, as_user(s, "head"), d.id)
        draft_id = d.id
    with pytest.raises(ValidationFailed):
        with cf.db.write() as s:
            drafts.return_draft(cf, s, as_user(s, "signatory"), draft_id, "  ")
    with cf.db.write() as s:
        drafts.return_draft(cf, s, as_user(s, "signatory"), draft_id, "请核对案号")
        drafts.edit_draft(
            cf,
            s,
            as_user(s, "clerk"),
            draft_id,
            sample() | {"case_name": "原告李某某诉某市司法局行政处罚"},
        )
        drafts.submit(cf, s, as_user(s, "clerk"), draft_id)
        draft = s.get(Draft, draft_id)
        tpl = drafts.template_of(cf, s, draft)
        states = drafts.chain_state(s, draft, tpl, drafts.current_version(s, draft))
        assert [len(st.approvals) for st in states] == [0, 0]  # the v1 approval does not count
        # the signatory who returned at step 2 cannot now take step 1's place
        with pytest.raises(Forbidden):
            drafts.approve(cf, s, as_user(s, "signatory"), draft_id)
        drafts.approve(cf, s, as_user(s, "head2"), draft_id)
        drafts.approve(cf, s, as_user(s, "signatory"), draft_id)
        doc = drafts.issue(cf, s, as_user(s, "clerk"), draft_id)
        v2 = drafts.current_version(s, draft)
    assert v2.number == 2 and doc.approved_sha256 == v2.docx_sha256
