"""Queue mail in the caller's transaction; deliver it later with retries and back-off."""

from __future__ import annotations

import logging
import smtplib
import ssl
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.message import EmailMessage
from email.utils import format_datetime
from pathlib import Path
from typing import Callable, Iterable, Protocol

import jinja2
from sqlmodel import Session, delete, or_, select, update

from portal.mail.models import MailSenderHeartbeat, OutboxMessage

log = logging.getLogger(__name__)

# Seconds to wait after the 1st, 2nd, ... failed attempt; the last value repeats.
# A message is never dropped: an outage only delays it.
BACKOFF_SECONDS = (30, 60, 120, 300, 600, 1800, 3600)
CLAIM_SECONDS = 120


class Mailer:
    """Renders a mail template and writes the message to the outbox."""

    def __init__(self, template_dirs: Iterable[Path], context: dict):
        self.env = jinja2.Environment(
            loader=jinja2.FileSystemLoader([str(p) for p in template_dirs]),
            autoescape=False, undefined=jinja2.StrictUndefined, keep_trailing_newline=True,
        )
        self.context = context

    def render(self, template: str, **context) -> tuple[str, str]:
        """Return (subject, body); a template's first line is `Subject: ...`."""
        text = self.env.get_template(template).render(**self.context, **context)
        first, _, body = text.partition("\n")
        if not first.startswith("Subject: "):
            raise ValueError(f"mail template {template} must start with 'Subject: '")
        return first[len("Subject: "):].strip(), body.lstrip("\n")

    def queue(self, db: Session, to: str, template: str, now: datetime, **context) -> OutboxMessage:
        subject, body = self.render(template, **context)
        message = OutboxMessage(to_address=to, subject=subject, body_text=body,
                                created_at=now, next_attempt_at=now)
        db.add(message)
        return message


class Transport(Protocol):
    def deliver(self, message: EmailMessage) -> None: ...


def message_id(row: OutboxMessage, sender: str) -> str:
    """The same for every attempt at one outbox row, so a message retried after a timeout (the
    relay may have taken it after all) is recognisable as the same one, never a second mail."""
    domain = sender.rsplit("@", 1)[-1].strip("> ").lower() or "portal.invalid"
    return f"<outbox.{row.id}.{int(row.created_at.timestamp())}@{domain}>"


def build_email(row: OutboxMessage, sender: str) -> EmailMessage:
    message = EmailMessage()
    message["From"] = sender
    message["To"] = row.to_address
    message["Subject"] = row.subject
    message["Date"] = format_datetime(row.created_at)
    message["Message-ID"] = message_id(row, sender)
    message.set_content(row.body_text)
    return message


@dataclass
class SendReport:
    sent: int = 0
    failed: int = 0  # will be retried
    refused: int = 0  # refused for good by the mail server (a 5xx for that message)
    problem: str | None = None  # a sender-wide problem no retry fixes, e.g. the password is refused


def backoff_for(attempts: int) -> timedelta:
    return timedelta(seconds=BACKOFF_SECONDS[min(attempts, len(BACKOFF_SECONDS)) - 1])


class SenderProblem(Exception):
    """The mail server refuses the portal itself (credentials, sender address, TLS): every
    message would fail the same way, so the pass stops and the operator is told."""


def classify(error: Exception) -> str:
    """'retry' (an outage or a 4xx), 'refused' (a 5xx for this message) or 'sender' (see SenderProblem)."""
    if isinstance(error, (smtplib.SMTPAuthenticationError, smtplib.SMTPNotSupportedError,
                          ssl.SSLCertVerificationError)):
        return "sender"
    if isinstance(error, smtplib.SMTPSenderRefused):
        return "sender" if error.smtp_code >= 500 else "retry"
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        codes = [code for code, _ in error.recipients.values()]
        return "refused" if codes and min(codes) >= 500 else "retry"
    if isinstance(error, smtplib.SMTPResponseException):
        return "refused" if error.smtp_code >= 500 else "retry"
    return "retry"


def describe(error: Exception) -> str:
    if isinstance(error, smtplib.SMTPAuthenticationError):
        return (f"SMTP authentication refused ({error.smtp_code}): check SMTP_USERNAME and SMTP_PASSWORD")
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        return "recipient refused: " + "; ".join(f"{code} {text.decode(errors='replace')}"
                                                 for code, text in error.recipients.values())
    if isinstance(error, smtplib.SMTPResponseException):
        text = error.smtp_error.decode(errors="replace") if isinstance(error.smtp_error, bytes) else str(error.smtp_error)
        return f"{type(error).__name__} {error.smtp_code}: {text}"
    return f"{type(error).__name__}: {error}"


class OutboxSender:
    """Delivers due messages. Safe to run in several processes at once: each message is claimed
    with a conditional update before it is sent. An outcome that could not be written (the
    database went away just after the mail server took the message) is kept and written first
    on the next pass, so an outage does not send a message twice."""

    def __init__(self, session_factory: Callable[[], Session], transport: Transport, sender: str,
                 now: Callable[[], datetime]):
        self.session_factory, self.transport, self.sender, self.now = session_factory, transport, sender, now
        self.unrecorded: dict[int, tuple[str, str | None]] = {}

    def run_pass(self, batch: int = 50) -> SendReport:
        self._record_pending()
        report = SendReport()
        with self.session_factory() as db:
            at = self.now()
            due = db.exec(
                select(OutboxMessage.id)
                .where(OutboxMessage.sent_at.is_(None), OutboxMessage.failed_at.is_(None))
                .where(OutboxMessage.next_attempt_at <= at)
                .where(or_(OutboxMessage.claimed_until.is_(None), OutboxMessage.claimed_until < at))
                .order_by(OutboxMessage.next_attempt_at, OutboxMessage.id)
                .limit(batch)
            ).all()
        for message_id_ in due:
            with self.session_factory() as db:
                at = self.now()
                claimed = db.exec(
                    update(OutboxMessage)
                    .where(OutboxMessage.id == message_id_, OutboxMessage.sent_at.is_(None))
                    .where(or_(OutboxMessage.claimed_until.is_(None), OutboxMessage.claimed_until < at))
                    .values(claimed_until=at + timedelta(seconds=CLAIM_SECONDS))
                ).rowcount
                db.commit()
                if not claimed:
                    continue
                row = db.get(OutboxMessage, message_id_)
                email = build_email(row, self.sender)
            try:
                self.transport.deliver(email)
            except Exception as error:  # any transport failure: keep the mail, decide how to go on
                kind, detail = classify(error), describe(error)[:480]
                if kind == "sender":
                    self.unrecorded[message_id_] = ("release", detail)
                    self._record_pending()
                    report.problem = detail
                    log.error("mail sender stopped this pass: %s", detail)
                    return report
                self.unrecorded[message_id_] = (kind, detail)
                if kind == "refused":
                    report.refused += 1
                    log.error("mail %s refused for good by the mail server: %s", message_id_, detail)
                else:
                    report.failed += 1
                    log.warning("mail %s not sent, will retry: %s", message_id_, detail)
            else:
                self.unrecorded[message_id_] = ("sent", None)
                report.sent += 1
            self._record_pending()
        return report

    def _record_pending(self) -> None:
        """Write outcomes not yet written; raises (keeping them) if the database is away."""
        for message_id_, (outcome, detail) in list(self.unrecorded.items()):
            with self.session_factory() as db:
                row = db.get(OutboxMessage, message_id_)
                if row is not None:
                    at = self.now()
                    row.claimed_until = None
                    if outcome == "sent":
                        row.attempts += 1
                        row.sent_at, row.last_error = at, None
                    elif outcome == "refused":
                        row.attempts += 1
                        row.failed_at, row.last_error = at, f"refused for good: {detail}"[:500]
                    elif outcome == "retry":
                        row.attempts += 1
                        row.last_error = detail
                        row.next_attempt_at = at + backoff_for(row.attempts)
                    else:  # "release": the portal's own set-up is at fault, not this message
                        row.last_error = detail
                    db.add(row)
                    db.commit()
            del self.unrecorded[message_id_]


def send_due_messages(
    session_factory: Callable[[], Session], transport: Transport, sender: str,
    now: Callable[[], datetime], batch: int = 50,
) -> SendReport:
    """One pass of a fresh sender (see OutboxSender)."""
    return OutboxSender(session_factory, transport, sender, now).run_pass(batch)


def record_heartbeat(db: Session, name: str, started_at: datetime, now: datetime, report: SendReport | None,
                     problem: str | None) -> None:
    """Upsert this sender's row; rows of senders silent for a week are dropped."""
    row = db.get(MailSenderHeartbeat, name)
    if row is None:
        row = MailSenderHeartbeat(sender=name, started_at=started_at, beat_at=now)
    row.beat_at = now
    if report is not None:
        row.sent_total += report.sent
        row.failed_total += report.failed + report.refused
    row.problem = problem[:500] if problem else None
    db.add(row)
    db.exec(delete(MailSenderHeartbeat).where(MailSenderHeartbeat.beat_at < now - timedelta(days=7)))
    db.commit()


def latest_heartbeat(db: Session) -> MailSenderHeartbeat | None:
    return db.exec(select(MailSenderHeartbeat).order_by(MailSenderHeartbeat.beat_at.desc()).limit(1)).first()


def oldest_waiting(db: Session) -> datetime | None:
    """When the oldest message still waiting to go out was queued."""
    from sqlalchemy import func

    return db.exec(select(func.min(OutboxMessage.created_at))
                   .where(OutboxMessage.sent_at.is_(None), OutboxMessage.failed_at.is_(None))).one()


def pending_count(db: Session) -> int:
    from sqlalchemy import func

    return db.exec(select(func.count()).select_from(OutboxMessage)
                   .where(OutboxMessage.sent_at.is_(None), OutboxMessage.failed_at.is_(None))).one()
