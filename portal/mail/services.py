"""Queue mail in the caller's transaction; deliver it later with retries and back-off."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from pathlib import Path
from typing import Callable, Iterable, Protocol

import jinja2
from sqlmodel import Session, or_, select, update

from portal.mail.models import OutboxMessage

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


def build_email(row: OutboxMessage, sender: str) -> EmailMessage:
    message = EmailMessage()
    message["From"] = sender
    message["To"] = row.to_address
    message["Subject"] = row.subject
    message["Date"] = format_datetime(row.created_at)
    message["Message-ID"] = make_msgid(idstring=f"outbox.{row.id}", domain=sender.rsplit("@", 1)[-1].strip(">"))
    message.set_content(row.body_text)
    return message


@dataclass
class SendReport:
    sent: int = 0
    failed: int = 0


def backoff_for(attempts: int) -> timedelta:
    return timedelta(seconds=BACKOFF_SECONDS[min(attempts, len(BACKOFF_SECONDS)) - 1])


def send_due_messages(
    session_factory: Callable[[], Session], transport: Transport, sender: str,
    now: Callable[[], datetime], batch: int = 50,
) -> SendReport:
    """Deliver messages whose time has come. Safe to run in several processes at once:
    each message is claimed with a conditional update before it is sent."""
    report = SendReport()
    with session_factory() as db:
        due = db.exec(
            select(OutboxMessage.id)
            .where(OutboxMessage.sent_at.is_(None), OutboxMessage.next_attempt_at <= now())
            .where(or_(OutboxMessage.claimed_until.is_(None), OutboxMessage.claimed_until < now()))
            .order_by(OutboxMessage.next_attempt_at, OutboxMessage.id)
            .limit(batch)
        ).all()
    for message_id in due:
        with session_factory() as db:
            at = now()
            claimed = db.exec(
                update(OutboxMessage)
                .where(OutboxMessage.id == message_id, OutboxMessage.sent_at.is_(None))
                .where(or_(OutboxMessage.claimed_until.is_(None), OutboxMessage.claimed_until < at))
                .values(claimed_until=at + timedelta(seconds=CLAIM_SECONDS))
            ).rowcount
            db.commit()
            if not claimed:
                continue
            row = db.get(OutboxMessage, message_id)
            try:
                transport.deliver(build_email(row, sender))
            except Exception as error:  # any transport failure: keep the mail, try later
                row.attempts += 1
                row.last_error = f"{type(error).__name__}: {error}"[:500]
                row.next_attempt_at = now() + backoff_for(row.attempts)
                row.claimed_until = None
                report.failed += 1
                log.warning("mail %s to %s not sent (attempt %s): %s",
                            row.id, row.to_address, row.attempts, row.last_error)
            else:
                row.attempts += 1
                row.sent_at = now()
                row.claimed_until = None
                row.last_error = None
                report.sent += 1
            db.add(row)
            db.commit()
    return report


def pending_count(db: Session) -> int:
    from sqlalchemy import func

    return db.exec(select(func.count()).select_from(OutboxMessage).where(OutboxMessage.sent_at.is_(None))).one()
