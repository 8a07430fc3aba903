"""Irreversible acts ask for confirmation, and what a drafter can still undo (issue 12, points 5,
7 and 8): 同意 and 发文 need the user's confirmation, which the service enforces (the web's
checkbox, the CLI's --yes, an API call being its own); a drafter withdraws (撤回) a submitted draft
before its first approval and deletes a draft never submitted, on every surface, audited."""

from __future__ import annotations

import pytest
from conftest import as_user, sample
from sqlalchemy import select
from webutil import api_client, csrf_from, post_form
from webutil import logged_in as _client

from app import create_app
from app.audit.models import AuditEntry
from app.drafting import drafts
from app.drafting.models import Draft, IssuedDocument
from app.errors import ValidationFailed, WorkflowError
from app.integrity.records import check_steps

pytestmark = pytest.mark.engine_neutral  # SQLite only: see tests/conftest.py

SQLITE = pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)


def _draft(cf, submit: bool = True) -> int:
    with cf.db.write() as s:
        clerk = as_user(s, "clerk")
        d = drafts.create_draft(cf, s, clerk, "commission-letter", sample(), "FZB")
        if submit:
            drafts.submit(cf, s, clerk, d.id)
        return d.id


def _status(cf, draft_id: int) -> str:
    with cf.db.read() as s:
        return s.get(Draft, draft_id).status


def _actions(cf, draft_id: int) -> list[str]:
    with cf.db.read() as s:
        return list(
            s.scalars(
                select(AuditEntry.action)
                .where(AuditEntry.object_type == "draft", AuditEntry.object_id == str(draft_id))
                .order_by(AuditEntry.seq)
            )
        )


@SQLITE
def test_web_approve_and_issue_need_the_confirmation_checkbox(cf):
    app = create_app({"TESTING": True}, casefile=cf)
    draft_id = _draft(cf)
    url = f"/drafts/{draft_id}"
    head = _client(app, "head")
    page = head.get(url).get_data(as_text=True)
    # the form says what cannot be undone, with a required checkbox of a stable name and id
    assert 'id="confirm-approve" name="confirm" value="1" required' in page
    assert drafts.APPROVE_CONFIRMATION in page and 'id="approve-button"' in page
    assert "formnovalidate" in page  # 退回修改 does not need the checkbox

    r = post_form(head, url, url + "/approve", {"comment": "同意"})  # no checkbox
    assert r.status_code == 302
    page = head.get(url).get_data(as_text=True)
    assert "此操作不可撤销" in page and _status(cf, draft_id) == "in_review"
    assert "draft.approve" not in _actions(cf, draft_id)

    assert post_form(head, url, url + "/approve", {"confirm": "1"}).status_code == 302
    signatory = _client(app, "signatory")
    assert post_form(signatory, url, url + "/approve", {"confirm": "1"}).status_code == 302
    assert _status(cf, draft_id) == "approved"

    clerk = _client(app, "clerk")
    page = clerk.get(url).get_data(as_text=True)
    assert 'id="confirm-issue" name="confirm" value="1" required' in page
    assert drafts.ISSUE_CONFIRMATION in page
    r = post_form(clerk, url, url + "/issue", {})
    assert r.status_code == 302 and r.headers["Location"].endswith(url)
    with cf.db.read() as s:
        assert s.scalar(select(IssuedDocument.id)) is None  # no number was allocated
    r = post_form(clerk, url, url + "/issue", {"confirm": "1"})
    assert r.status_code == 302 and "/documents/" in r.headers["Location"]


@SQLITE
def test_the_service_refuses_an_unconfirmed_approval_after_the_access_check(cf):
    draft_id = _draft(cf)
    with cf.db.write() as s, pytest.raises(ValidationFailed) as refused:
        drafts.approve(cf, s, as_user(s, "head"), draft_id, confirmed=False)
    assert refused.value.errors[0]["field"] == "confirm"
    # who may not approve hears why, not "please confirm"
    with cf.db.write() as s, pytest.raises(WorkflowError) as refused:
        drafts.approve(cf, s, as_user(s, "clerk"), draft_id, confirmed=False)
    assert refused.value.errors == [] and "没有审核权限" in refused.value.message


@SQLITE
def test_cli_approve_and_issue_need_yes_when_not_on_a_terminal(cf, run_cli):
    draft_id = str(_draft(cf))
    code, _, err = run_cli("draft", "approve", draft_id, "--as", "head")
    assert code == 2 and "此操作不可撤销" in err and "--yes" in err
    assert _status(cf, int(draft_id)) == "in_review"
    assert run_cli("draft", "approve", draft_id, "--as", "head", "--yes")[0] == 0
    assert run_cli("draft", "approve", draft_id, "--as", "signatory", "--yes")[0] == 0
    code, _, err = run_cli("draft", "issue", draft_id, "--as", "clerk")
    assert code == 2 and "发文字号" in err
    code, out, _ = run_cli("draft", "issue", draft_id, "--as", "clerk", "--yes")
    assert code == 0 and "已发文" in out


@SQLITE
def test_withdraw_before_the_first_approval_on_web_api_and_cli(cf, run_cli):
    app = create_app({"TESTING": True}, casefile=cf)
    clerk = _client(app, "clerk")
    # web
    draft_id = _draft(cf)
    url = f"/drafts/{draft_id}"
    page = clerk.get(url).get_data(as_text=True)
    assert 'id="withdraw-button"' in page and "撤回审核" in page
    assert post_form(clerk, url, url + "/withdraw", {}).status_code == 302
    assert _status(cf, draft_id) == "draft"
    assert "draft.withdraw" in _actions(cf, draft_id)
    with cf.db.read() as s:  # the submission stays on record, then the withdrawal
        steps = [st.decision for st in drafts.steps_of(s, s.get(Draft, draft_id))]
    assert steps == ["submit", "withdraw"]
    # a withdrawn draft is a draft again: it can be resubmitted and approved
    with cf.db.write() as s:
        drafts.submit(cf, s, as_user(s, "clerk"), draft_id)
        drafts.approve(cf, s, as_user(s, "head"), draft_id)
    page = clerk.get(url).get_data(as_text=True)
    assert 'id="withdraw-button"' not in page  # after the first approval: no more
    r = post_form(clerk, url, url + "/withdraw", {})
    assert r.status_code == 302 and _status(cf, draft_id) == "in_review"
    assert "已有审核人同意，不能再撤回" in clerk.get(url).get_data(as_text=True)
    # only the drafter
    other = _draft(cf)
    head = _client(app, "head")
    token = csrf_from(head, f"/drafts/{other}")
    assert head.post(f"/drafts/{other}/withdraw", data={"csrf_token": token}).status_code == 403

    # API
    client, token = api_client(cf)
    r = client.post(f"/api/v1/drafts/{other}/withdraw", headers=token("clerk"))
    assert r.status_code == 200 and r.json["status"] == "draft"
    r = client.post(f"/api/v1/drafts/{other}/withdraw", headers=token("clerk"))
    assert r.status_code == 409 and "不在审核中" in r.json["message"]

    # CLI
    third = str(_draft(cf))
    code, out, _ = run_cli("draft", "withdraw", third, "--as", "clerk")
    assert code == 0 and "撤回审核" in out and _status(cf, int(third)) == "draft"
    code, _, err = run_cli("draft", "withdraw", third, "--as", "clerk")
    assert code == 2 and "不在审核中" in err
    # every step still matches its audit event (verify's records check knows the new step)
    with cf.db.read() as s:
        assert check_steps(s) == []


@SQLITE
def test_delete_a_never_submitted_draft_on_web_api_and_cli(cf, run_cli):
    app = create_app({"TESTING": True}, casefile=cf)
    clerk = _client(app, "clerk")
    draft_id = _draft(cf, submit=False)
    url = f"/drafts/{draft_id}"
    assert 'id="delete-button"' in clerk.get(url).get_data(as_text=True)
    r = post_form(clerk, url, url + "/delete", {})
    assert r.status_code == 302 and r.headers["Location"].endswith("/")
    assert _status(cf, draft_id) == "deleted" and "draft.delete" in _actions(cf, draft_id)
    assert clerk.get(url).status_code == 404
    assert f'href="/drafts/{draft_id}"' not in clerk.get("/").get_data(as_text=True)

    # a draft once submitted (even withdrawn since) keeps its reviewed versions: no delete
    submitted = _draft(cf)
    with cf.db.write() as s:
        drafts.withdraw(cf, s, as_user(s, "clerk"), submitted)
    surl = f"/drafts/{submitted}"
    assert 'id="delete-button"' not in clerk.get(surl).get_data(as_text=True)
    post_form(clerk, surl, surl + "/delete", {})
    assert _status(cf, submitted) == "draft"

    client, token = api_client(cf)
    fresh = _draft(cf, submit=False)
    assert client.delete(f"/api/v1/drafts/{fresh}", headers=token("head")).status_code == 403
    r = client.delete(f"/api/v1/drafts/{fresh}", headers=token("clerk"))
    assert r.status_code == 200 and r.json["status"] == "deleted"
    assert client.get(f"/api/v1/drafts/{fresh}", headers=token("clerk")).status_code == 404
    r = client.delete(f"/api/v1/drafts/{submitted}", headers=token("clerk"))
    assert r.status_code == 409 and "不能删除" in r.json["message"]

    last = str(_draft(cf, submit=False))
    code, out, _ = run_cli("draft", "delete", last, "--as", "clerk")
    assert code == 0 and _status(cf, int(last)) == "deleted"
    code, _, err = run_cli("draft", "delete", str(submitted), "--as", "clerk")
    assert code == 2 and "不能删除" in err
