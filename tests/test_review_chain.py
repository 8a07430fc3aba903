"""The review chain's additions: 会签 (co-sign), written opinions with files, notes that supersede,
the processing slip, work queues and e-mail notification. Both engines."""

from __future__ import annotations

import io
import zipfile

import mailutil
import pytest
from conftest import as_user, populated_store, sample, write_template
from sqlalchemy import select, text
from sqlalchemy.exc import DBAPIError

from app.access.policy import can
from app.common.docx_text import docx_text
from app.common.hashing import sha256_hex
from app.drafting import drafts
from app.drafting.models import (
    Draft,
    IssuedDocument,
    ProcessingSlip,
    ReviewOpinion,
    VersionCoSignUnit,
)
from app.drafting.opinions import MAX_OPINION_BYTES, OpinionFile
from app.drafting.slip import build_slip_docx, slip_data, slip_for_document
from app.errors import Forbidden, NotFound, ValidationFailed, WorkflowError
from app.identity.models import Unit, UserContact
from app.jobs.models import OutboxEvent
from app.jobs.outbox import drain

PDF = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj<<>>endobj\n%%EOF\n"


def _docx_bytes(text_: str = "书面意见") -> bytes:
    from docx import Document

    doc = Document()
    doc.add_paragraph(text_)
    out = io.BytesIO()
    doc.save(out)
    return out.getvalue()


CO_SIGN_CHAIN = [
    {"name": "office-check", "label": "法律顾问室把关", "role": "office-head"},
    {"name": "co-sign", "label": "会签", "role": "co-sign"},
    {"name": "sign-off", "label": "领导签发", "role": "signatory"},
]


@pytest.fixture
def cosign_cf(tmp_path, db_url):
    folder = write_template(
        tmp_path / "templates", "joint", ["{{ doc_number }}", "{{ subject }}", "{{ issue_date }}"],
        [{"name": "subject", "label": "事由", "type": "text", "required": True}],
        chain=CO_SIGN_CHAIN,
    )  # fmt: skip
    store = populated_store(tmp_path, db_url, templates_dir=folder)
    from app.identity.users import add_unit, add_user

    with store.db.write() as s:
        add_unit(s, "SFJ", "武阳市司法局", "GOV", "武司")
        add_user(
            s, "sf-head", "sf-head", "SFJ", ["office-head"], password="x" * 12, must_change=False
        )
        add_user(
            s, "sf-sign", "sf-sign", "SFJ", ["signatory"], password="x" * 12, must_change=False
        )
    yield store
    store.close()


def test_co_sign_needs_every_listed_unit(cosign_cf):
    cf = cosign_cf
    with cf.db.write() as s:
        clerk = as_user(s, "clerk")
        d = drafts.create_draft(cf, s, clerk, "joint", {"subject": "甲"}, "FZB")
        draft_id = d.id
    with pytest.raises(ValidationFailed, match="会签单位"):  # a co-sign chain needs units listed
        with cf.db.write() as s:
            drafts.submit(cf, s, as_user(s, "clerk"), draft_id)
    with pytest.raises(ValidationFailed, match="发文单位本身"):
        with cf.db.write() as s:
            drafts.edit_draft(cf, s, as_user(s, "clerk"), draft_id, {"subject": "甲"}, "", ["FZB"])
    with cf.db.write() as s:
        v2 = drafts.edit_draft(
            cf, s, as_user(s, "clerk"), draft_id, {"subject": "甲"}, "", ["ZRJ", "SFJ"]
        )
        assert v2.number == 2  # a change of co-signing units alone is a new version
        drafts.submit(cf, s, as_user(s, "clerk"), draft_id)
        draft = s.get(Draft, draft_id)
        # before its step, a co-signer may read but not act
        zr = as_user(s, "zr-head")
        assert can(s, zr, "draft.read", draft) and can(s, zr, "draft.review", draft)
        with pytest.raises(Forbidden):
            drafts.approve(cf, s, zr, draft_id)
        drafts.approve(cf, s, as_user(s, "head"), draft_id)
        assert draft_id in [x.id for x in drafts.queue(s, zr, cf)["waiting"]]
        assert draft_id not in [x.id for x in drafts.queue(s, as_user(s, "head2"), cf)["waiting"]]
        with pytest.raises(Forbidden, match="会签单位"):  # FZB's own signatory is not a co-signer
            drafts.approve(cf, s, as_user(s, "signatory"), draft_id)
        step = drafts.approve(cf, s, zr, draft_id, "自然资源局同意")
        zrj = s.scalars(select(Unit).where(Unit.code == "ZRJ")).one()
        assert (step.role, step.unit_id) == ("co-sign", zrj.id)  # who, for which unit
        assert "武阳市司法局" in drafts.pending_summary(cf, s, draft)
        with pytest.raises(WorkflowError):  # ZRJ has co-signed; nothing more for it to do
            drafts.approve(cf, s, zr, draft_id)
        drafts.approve(cf, s, as_user(s, "sf-sign"), draft_id, "司法局同意")
        assert drafts.pending_summary(cf, s, draft).startswith("待领导签发")
        drafts.approve(cf, s, as_user(s, "signatory"), draft_id)
        doc = drafts.issue(cf, s, as_user(s, "clerk"), draft_id)
        slip = slip_data(cf, s, doc)
    assert slip.co_sign_units == "武阳市自然资源局、武阳市司法局"
    with pytest.raises(DBAPIError, match="write-once"):
        with cf.db.write() as s:
            s.execute(text(f"DELETE FROM {VersionCoSignUnit.__tablename__}"))
    assert [(e.name, e.unit) for e in slip.approvals][1:3] == [
        ("zr-head", "武阳市自然资源局"),
        ("sf-sign", "武阳市司法局"),
    ]


def test_opinion_files_are_checked_by_content_and_recorded(cf):
    with cf.db.write() as s:
        clerk = as_user(s, "clerk")
        d = drafts.create_draft(cf, s, clerk, "commission-letter", sample(), "FZB")
        drafts.submit(cf, s, clerk, d.id)
        draft_id = d.id
    refused = [
        OpinionFile("意见.pdf", b"MZ\x90\x00"),  # an executable named .pdf
        OpinionFile("意见.docx", b"PK\x03\x04 not really a zip"),
        OpinionFile("意见.pdf", b""),
        OpinionFile("大.pdf", b"%PDF-" + b"0" * MAX_OPINION_BYTES),
    ]
    macro = io.BytesIO()
    with zipfile.ZipFile(macro, "w") as z:
        z.writestr("[Content_Types].xml", "application/vnd.ms-word.document.macroEnabled.main+xml")
        z.writestr("word/document.xml", "<w:document/>")
    refused.append(OpinionFile("宏.docx", macro.getvalue()))
    for upload in refused:
        with pytest.raises(ValidationFailed):
            with cf.db.write() as s:
                drafts.approve(cf, s, as_user(s, "head"), draft_id, "同意", opinion=upload)
    opinion = _docx_bytes()  # once: a DOCX written a second later has another zip timestamp
    with cf.db.write() as s:
        step = drafts.approve(
            cf, s, as_user(s, "head"), draft_id, "同意",
            opinion=OpinionFile("../../etc/意见书.DOCX", opinion),
        )  # fmt: skip
        row = s.scalars(select(ReviewOpinion).where(ReviewOpinion.step_id == step.id)).one()
        assert row.file_name == "意见书.docx" and row.media_type.endswith("document")
        assert cf.blobs.get(row.file_sha256) == opinion
        assert [x.decision for x in drafts.steps_of(s, s.get(Draft, draft_id))] == [
            "submit",
            "approve",
        ]
        step2 = drafts.approve(
            cf, s, as_user(s, "signatory"), draft_id, "", opinion=OpinionFile("a.pdf", PDF)
        )
        assert (
            drafts.opinions_of(s, s.get(Draft, draft_id))[step2.id].media_type == "application/pdf"
        )


def test_signed_opinions_never_change_and_a_note_supersedes(cf):
    with cf.db.write() as s:
        clerk = as_user(s, "clerk")
        d = drafts.create_draft(cf, s, clerk, "commission-letter", sample(), "FZB")
        drafts.submit(cf, s, clerk, d.id)
        step = drafts.approve(
            cf, s, as_user(s, "head"), d.id, "同意", opinion=OpinionFile("a.pdf", PDF)
        )
        draft_id, step_id = d.id, step.id
    for sql in (
        f"UPDATE review_steps SET comment = '改过' WHERE id = {step_id}",
        f"UPDATE review_opinions SET file_name = 'b.pdf' WHERE step_id = {step_id}",
        f"DELETE FROM review_opinions WHERE step_id = {step_id}",
    ):
        with pytest.raises(DBAPIError, match="write-once"):
            with cf.db.write() as s:
                s.execute(text(sql))
    with pytest.raises(Forbidden):  # nobody edits another's opinion, not even the office head
        with cf.db.write() as s:
            drafts.add_note(cf, s, as_user(s, "head2"), draft_id, step_id, "改")
    with pytest.raises(ValidationFailed):
        with cf.db.write() as s:
            drafts.add_note(cf, s, as_user(s, "head"), draft_id, step_id, " ")
    with pytest.raises(NotFound):
        with cf.db.write() as s:
            drafts.add_note(cf, s, as_user(s, "head"), draft_id, 999999, "x")
    with cf.db.write() as s:
        note = drafts.add_note(cf, s, as_user(s, "head"), draft_id, step_id, "更正：请附授权书")
        draft = s.get(Draft, draft_id)
        assert drafts.opinions_of(s, draft)[note.id].supersedes_step_id == step_id
        # a note is no approval and moves nothing
        tpl = drafts.template_of(cf, s, draft)
        states = drafts.chain_state(s, draft, tpl, drafts.current_version(s, draft))
        assert [len(x.approvals) for x in states] == [1, 0]
        assert s.get(drafts.ReviewStep, step_id).comment == "同意"


def test_the_slip_is_archived_after_issuance_and_reproducible(cf):
    from app.jobs.outbox import drain

    with cf.db.write() as s:
        clerk = as_user(s, "clerk")
        d = drafts.create_draft(cf, s, clerk, "commission-letter", sample(), "FZB")
        drafts.submit(cf, s, clerk, d.id)
        drafts.return_draft(cf, s, as_user(s, "head"), d.id, "请核对案号")
        drafts.edit_draft(cf, s, clerk, d.id, sample() | {"case_name": "原告李某诉某局"})
        drafts.submit(cf, s, clerk, d.id)
        drafts.approve(cf, s, as_user(s, "head2"), d.id, "同意")
        drafts.approve(cf, s, as_user(s, "signatory"), d.id, "同意签发")
        doc = drafts.issue(cf, s, clerk, d.id)
        doc_id = doc.id
    with cf.db.read() as s:  # before the outbox runs, the page builds the same slip from records
        early = slip_for_document(cf, s, s.get(IssuedDocument, doc_id))
    assert drain(cf, ("slip",))["done"] == 1  # archived right after the commit
    with cf.db.read() as s:
        doc = s.get(IssuedDocument, doc_id)
        row = s.scalars(select(ProcessingSlip).where(ProcessingSlip.document_id == doc_id)).one()
        stored = slip_for_document(cf, s, doc)
        assert sha256_hex(stored) == row.docx_sha256
        assert build_slip_docx(slip_data(cf, s, doc)) == stored == early
        body = docx_text(stored)
    for expected in (
        doc.number, doc.title, "发 文 稿 纸", "clerk", "head", "head2", "signatory",
        "请核对案号", "同意签发", "退回修改", doc.approved_sha256, doc.docx_sha256,
        "审核签批（均针对第2版）", "签发人",
    ):  # fmt: skip
        assert expected in body, expected
    # a later note shows on the history page, not on the archived slip
    with cf.db.write() as s:
        step = [
            x for x in drafts.steps_of(s, s.get(Draft, doc.draft_id)) if x.decision == "approve"
        ][0]
        drafts.add_note(cf, s, as_user(s, "head2"), doc.draft_id, step.id, "补充说明")
    with cf.db.read() as s:
        assert slip_for_document(cf, s, s.get(IssuedDocument, doc_id)) == stored
        assert build_slip_docx(slip_data(cf, s, s.get(IssuedDocument, doc_id))) == stored
    with pytest.raises(DBAPIError, match="write-once"):
        with cf.db.write() as s:
            s.execute(text("UPDATE processing_slips SET docx_sha256 = docx_sha256"))


@pytest.fixture
def smtp_server(cf, monkeypatch):
    with mailutil.smtp_server() as (port, received):
        mailutil.use_smtp(monkeypatch, cf, port)
        yield received


def _mail_events(cf) -> list[OutboxEvent]:
    with cf.db.read() as s:
        return list(s.scalars(select(OutboxEvent).where(OutboxEvent.kind == "mail")))


def test_email_goes_out_after_commit_only(cf, smtp_server):
    with cf.db.write() as s:
        for username in ("head", "head2", "clerk"):
            user = as_user(s, username).user
            s.add(UserContact(user_id=user.id, email=f"{username}@example.test"))
    with cf.db.write() as s:
        clerk = as_user(s, "clerk")
        d = drafts.create_draft(cf, s, clerk, "commission-letter", sample(), "FZB")
        drafts.submit(cf, s, clerk, d.id)
        draft_id = d.id
    assert smtp_server == []  # queued with the step, sent by the outbox worker
    assert drain(cf, ("mail",)) == {"done": 2, "retry": 0, "failed": 0}
    mails = mailutil.parsed(smtp_server)
    assert sorted(m["To"] for m in mails) == ["head2@example.test", "head@example.test"]
    assert "待您办理：法律顾问室把关" in mails[0]["Subject"]
    assert {m["From"] for m in mails} == {"casefile@example.test"}
    smtp_server.clear()
    with pytest.raises(ValidationFailed):  # a rolled-back step sends nothing
        with cf.db.write() as s:
            drafts.return_draft(cf, s, as_user(s, "head"), draft_id, "")
    assert len(_mail_events(cf)) == 2
    with cf.db.write() as s:
        drafts.return_draft(cf, s, as_user(s, "head"), draft_id, "请修改")
    assert drain(cf, ("mail",))["done"] == 1
    assert [m["To"] for m in mailutil.parsed(smtp_server)] == ["clerk@example.test"]


def test_without_smtp_no_mail_is_queued(cf):
    assert cf.settings.smtp_host is None
    with cf.db.write() as s:
        s.add(UserContact(user_id=as_user(s, "head").user.id, email="head@example.test"))
    with cf.db.write() as s:
        clerk = as_user(s, "clerk")
        d = drafts.create_draft(cf, s, clerk, "commission-letter", sample(), "FZB")
        drafts.submit(cf, s, clerk, d.id)
    assert _mail_events(cf) == []


def test_a_dead_mail_server_never_blocks_the_workflow(cf, monkeypatch, caplog):
    import socket

    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()  # nothing listens here
    mailutil.use_smtp(monkeypatch, cf, port)
    with cf.db.write() as s:
        s.add(UserContact(user_id=as_user(s, "head").user.id, email="head@example.test"))
    with cf.db.write() as s:
        clerk = as_user(s, "clerk")
        d = drafts.create_draft(cf, s, clerk, "commission-letter", sample(), "FZB")
        drafts.submit(cf, s, clerk, d.id)
    with cf.db.read() as s:
        assert s.get(Draft, d.id).status == "in_review"
    assert drain(cf, ("mail",)) == {"done": 0, "retry": 0, "failed": 1}
    assert "outbox event" in caplog.text and "(mail) failed" in caplog.text
    [event] = _mail_events(cf)
    assert event.processed_at is None and event.attempts == 1
    assert "ConnectionRefusedError" in event.last_error


def test_queue_ages_and_the_heads_unit_view(cf):
    import datetime as dt

    from app.web.drafts import age

    now = drafts.utcnow()
    assert age(now) == "刚刚"
    assert age(now - dt.timedelta(minutes=42)) == "42分钟"
    assert age(now - dt.timedelta(hours=5, minutes=3)) == "5小时"
    assert age(now - dt.timedelta(days=3, hours=2)) == "3天"
    with cf.db.write() as s:
        clerk = as_user(s, "clerk")
        a = drafts.create_draft(cf, s, clerk, "commission-letter", sample(), "FZB")
        drafts.submit(cf, s, clerk, a.id)
        b = drafts.create_draft(cf, s, clerk, "commission-letter", sample(), "FZB")
        drafts.submit(cf, s, clerk, b.id)
        drafts.approve(cf, s, as_user(s, "head"), b.id)
        q = drafts.queue(s, as_user(s, "head2"), cf)
        assert [x.id for x in q["waiting"]] == [a.id]  # b waits for the signatory now
        assert {x.id for x in q["unit_pending"]} == {a.id, b.id}
        assert drafts.pending_summary(cf, s, b) == "待领导签发（签发人）"
        assert [x.id for x in drafts.queue(s, as_user(s, "signatory"), cf)["waiting"]] == [b.id]
        assert drafts.queue(s, as_user(s, "zr-head"), cf)["unit_pending"] == []
