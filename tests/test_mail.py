"""E-mail through the outbox (app/jobs/mail.py): a review step only queues its e-mail; the worker
sends it after the commit with a timeout, and a dead or hanging server costs the step nothing.
Real local TCP servers stand in for the mail server. Both engines."""

from __future__ import annotations

import datetime as dt
import time

import mailutil
import pytest
from conftest import as_user, sample
from sqlalchemy import select, update

from app.db.base import utcnow
from app.drafting import drafts
from app.identity.models import UserContact
from app.jobs.models import OutboxEvent
from app.jobs.outbox import Worker, drain


def _addresses(cf, *usernames):
    with cf.db.write() as s:
        for username in usernames:
            user = as_user(s, username).user
            s.add(UserContact(user_id=user.id, email=f"{username}@example.test"))


def _mail_events(cf) -> list[OutboxEvent]:
    with cf.db.read() as s:
        query = select(OutboxEvent).where(OutboxEvent.kind == "mail").order_by(OutboxEvent.id)
        return list(s.scalars(query))


def _make_due(cf) -> None:
    """As if the back-off had passed."""
    with cf.db.write() as s:
        s.execute(update(OutboxEvent).values(available_at=utcnow() - dt.timedelta(seconds=1)))


def test_a_hanging_mail_server_slows_no_review_step_and_the_worker_retries(cf, monkeypatch):
    _addresses(cf, "head", "signatory", "clerk")
    with cf.db.write() as s:
        d = drafts.create_draft(cf, s, as_user(s, "clerk"), "commission-letter", sample(), "FZB")
    with mailutil.silent_server() as (port, connections):
        mailutil.use_smtp(monkeypatch, cf, port)  # the default 10 s timeout
        # (a) the steps return at once: they only write outbox rows, in their own transaction
        for step in (
            lambda s: drafts.submit(cf, s, as_user(s, "clerk"), d.id),
            lambda s: drafts.approve(cf, s, as_user(s, "head"), d.id),
        ):
            started = time.monotonic()
            with cf.db.write() as s:
                step(s)
            assert time.monotonic() - started < 1.0
        assert connections == []  # nobody talked to the mail server on the request thread
        queued = _mail_events(cf)
        assert [e.payload["to"] for e in queued] == ["head@example.test", "signatory@example.test"]

        # (b) the worker's attempt times out, is recorded and is tried again later
        monkeypatch.setattr(cf.settings, "smtp_timeout", 0.3)
        started = time.monotonic()
        assert drain(cf, ("mail",)) == {"done": 0, "retry": 0, "failed": 1}
        assert time.monotonic() - started < 5  # cut off by the timeout
        assert len(connections) == 1  # a server that does not answer: the rest wait their turn
        assert [e.attempts for e in _mail_events(cf)] == [1, 0]
        assert drain(cf, ("mail",))["failed"] == 1  # the next round tries the next one
        assert len(connections) == 2
        for event in _mail_events(cf):
            assert event.processed_at is None and event.attempts == 1
            assert "timed out" in event.last_error
            assert event.available_at >= utcnow() + dt.timedelta(seconds=9)  # 10 s back-off
        assert drain(cf, ("mail",)) == {"done": 0, "retry": 0, "failed": 0}  # not due yet
        _make_due(cf)
        assert drain(cf, ("mail",))["failed"] == 1
        assert drain(cf, ("mail",))["failed"] == 1
        for event in _mail_events(cf):
            assert event.attempts == 2
            assert event.available_at >= utcnow() + dt.timedelta(seconds=19)  # doubled

    # (c) the server works again: each message is delivered once and its event closed
    with mailutil.smtp_server() as (port, received):
        mailutil.use_smtp(monkeypatch, cf, port)
        _make_due(cf)
        assert drain(cf, ("mail",)) == {"done": 2, "retry": 0, "failed": 0}
        assert drain(cf, ("mail",)) == {"done": 0, "retry": 0, "failed": 0}
        _make_due(cf)
        assert drain(cf, ("mail",)) == {"done": 0, "retry": 0, "failed": 0}  # processed
    subjects = {m["To"]: m["Subject"] for m in mailutil.parsed(received)}
    assert len(received) == 2 and sorted(subjects) == [
        "head@example.test",
        "signatory@example.test",
    ]
    assert "待您办理：领导签发" in subjects["signatory@example.test"]  # told after the head
    for event in _mail_events(cf):
        assert event.processed_at is not None and event.last_error is None


def test_the_background_worker_sends_the_mail(cf, monkeypatch):
    _addresses(cf, "head")
    with mailutil.smtp_server() as (port, received):
        mailutil.use_smtp(monkeypatch, cf, port)
        with cf.db.write() as s:
            clerk = as_user(s, "clerk")
            d = drafts.create_draft(cf, s, clerk, "commission-letter", sample(), "FZB")
            drafts.submit(cf, s, clerk, d.id)
        worker = Worker(cf, interval=0.05)
        worker.start()
        try:
            deadline = time.monotonic() + 30
            while not received and time.monotonic() < deadline:
                time.sleep(0.05)
        finally:
            worker.stop()
            worker.join(30)
    assert [m["To"] for m in mailutil.parsed(received)] == ["head@example.test"]
    [event] = _mail_events(cf)
    assert event.processed_at is not None


@pytest.mark.parametrize("reply, final", [(b"550 no such user", True), (b"450 try later", False)])
def test_a_refused_address_is_given_up_only_when_the_refusal_is_final(cf, monkeypatch, reply,
                                                                      final):  # fmt: skip
    _addresses(cf, "head")
    with mailutil.smtp_server(rcpt_reply=reply) as (port, received):
        mailutil.use_smtp(monkeypatch, cf, port)
        with cf.db.write() as s:
            clerk = as_user(s, "clerk")
            d = drafts.create_draft(cf, s, clerk, "commission-letter", sample(), "FZB")
            drafts.submit(cf, s, clerk, d.id)
        assert drain(cf, ("mail",))["failed"] == 1
    assert received == []
    [event] = _mail_events(cf)
    assert event.attempts == 1
    if final:  # kept with its error, never tried again
        assert event.processed_at is not None
        assert event.last_error.startswith("given up: address refused for good")
    else:  # a 4xx refusal is temporary: back-off and retry
        assert event.processed_at is None and "SMTPRecipientsRefused" in event.last_error


def test_mail_queued_before_e_mail_was_switched_off_is_dropped(cf, monkeypatch, caplog):
    _addresses(cf, "head")
    with mailutil.smtp_server() as (port, received):
        mailutil.use_smtp(monkeypatch, cf, port)
        with cf.db.write() as s:
            clerk = as_user(s, "clerk")
            d = drafts.create_draft(cf, s, clerk, "commission-letter", sample(), "FZB")
            drafts.submit(cf, s, clerk, d.id)
        monkeypatch.setattr(cf.settings, "smtp_host", None)
        assert drain(cf, ("mail",))["done"] == 1
    assert received == [] and "e-mail is off" in caplog.text


def test_two_workers_never_send_one_e_mail_twice(cf, monkeypatch):
    """A's claim leases the event: B does not see it; when A dies mid-way the lease ends and
    the event is taken over, once."""
    from app.jobs.outbox import _claim

    _addresses(cf, "head")
    with mailutil.smtp_server() as (port, received):
        mailutil.use_smtp(monkeypatch, cf, port)
        with cf.db.write() as s:
            clerk = as_user(s, "clerk")
            d = drafts.create_draft(cf, s, clerk, "commission-letter", sample(), "FZB")
            drafts.submit(cf, s, clerk, d.id)
        [claimed_by_a] = _claim(cf, ("mail",), 10)
        assert _claim(cf, ("mail",), 10) == []  # B leaves it to A
        assert drain(cf, ("mail",)) == {"done": 0, "retry": 0, "failed": 0}  # leased: not due
        _make_due(cf)  # A died mid-way: once the lease ends, the event is due again
        assert drain(cf, ("mail",))["done"] == 1
        _make_due(cf)
        assert _claim(cf, ("mail",), 10) == []  # done: nobody takes it again
    assert len(received) == 1
