"""Send the e-mails drafting queued as "mail" outbox events (app/drafting/notify.py).

Runs in the outbox worker after the commit, never on a request thread. Every connect and every
reply is bounded by Settings.smtp_timeout, so a dead or hanging server costs the worker at most
that per step of an attempt; the failure is raised, and the outbox records it (last_error,
attempts) and tries again later with back-off. A server that does not answer fails one
message per round (Unreachable), not every message that is due.
"""

from __future__ import annotations

import logging
import smtplib
from email.message import EmailMessage

from app.config import Settings
from app.container import Casefile
from app.jobs.errors import GiveUp, Unreachable
from app.jobs.models import OutboxEvent

log = logging.getLogger("casefile.mail")


class Undeliverable(GiveUp):
    """The server refused the address for good (5xx): retrying cannot help."""


def message(settings: Settings, payload: dict) -> EmailMessage:
    msg = EmailMessage()
    msg["From"], msg["To"], msg["Subject"] = settings.smtp_sender, payload["to"], payload["subject"]
    msg.set_content(payload["body"])
    return msg


def send(settings: Settings, msg: EmailMessage) -> None:
    """Deliver *msg* to the configured server. Raises Undeliverable (the address is refused
    for good), Unreachable (no connection, no answer in time, a refusing greeting) or
    SMTPException (any other refusal)."""
    server = f"{settings.smtp_host}:{settings.smtp_port}"
    conn = smtplib.SMTP(timeout=settings.smtp_timeout)
    try:
        try:
            conn.connect(settings.smtp_host, settings.smtp_port)
            conn.send_message(msg)
        except smtplib.SMTPRecipientsRefused as exc:
            if all(code >= 500 for code, _ in exc.recipients.values()):
                raise Undeliverable(f"address refused for good: {exc.recipients}") from exc
            raise
        except smtplib.SMTPConnectError as exc:  # a greeting that turns us away
            raise Unreachable(f"mail server {server} refused the connection: {exc}") from exc
        except smtplib.SMTPServerDisconnected as exc:  # incl. no answer within the timeout
            raise Unreachable(f"mail server {server} unreachable: {exc}") from exc
        except smtplib.SMTPException:
            raise  # the server answered, with an error: an ordinary failure
        except OSError as exc:  # refused, timed out while connecting, no route
            raise Unreachable(
                f"mail server {server} unreachable: {type(exc).__name__}: {exc}"
            ) from exc
        try:
            conn.quit()
        except (OSError, smtplib.SMTPException):
            pass  # the server took the message; a lost goodbye must not send it twice
    finally:
        conn.close()


def handle_mail(cf: Casefile, event: OutboxEvent) -> None:
    """The outbox handler of kind "mail": one message to one address."""
    settings = cf.settings
    if not settings.smtp_host:
        # e-mail was switched off after this was queued: nowhere to send it
        log.warning("e-mail is off (CASEFILE_SMTP_HOST unset); outbox event %s dropped", event.id)
        return
    send(settings, message(settings, event.payload))
    log.info("e-mail sent to %s (outbox event %s)", event.payload["to"], event.id)
