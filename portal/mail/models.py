"""The outbox: every message the portal will send, kept until delivered."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Text
from sqlmodel import Field, SQLModel

from portal.common.db import UTCDateTime


class OutboxMessage(SQLModel, table=True):
    __tablename__ = "mail_outbox"

    id: int | None = Field(default=None, primary_key=True)
    to_address: str = Field(max_length=254)
    subject: str = Field(max_length=200)
    body_text: str = Field(sa_type=Text)
    created_at: datetime = Field(sa_type=UTCDateTime)
    attempts: int = Field(default=0)
    next_attempt_at: datetime = Field(sa_type=UTCDateTime, index=True)
    claimed_until: datetime | None = Field(default=None, sa_type=UTCDateTime)
    sent_at: datetime | None = Field(default=None, sa_type=UTCDateTime, index=True)
    last_error: str | None = Field(default=None, max_length=500)
    # Set when the mail server refused this message for good (a 5xx for it): never retried.
    failed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class MailSenderHeartbeat(SQLModel, table=True):
    """One row per running mail sender (host:pid), written on every pass: /readyz, /metrics and
    the admin page read the newest to tell a dead or stuck sender from a quiet one."""

    __tablename__ = "mail_sender_heartbeat"

    sender: str = Field(primary_key=True, max_length=120)
    started_at: datetime = Field(sa_type=UTCDateTime)
    beat_at: datetime = Field(sa_type=UTCDateTime, index=True)
    sent_total: int = Field(default=0)
    failed_total: int = Field(default=0)
    # A problem no retry will fix (say, the SMTP password is refused), until a pass succeeds.
    problem: str | None = Field(default=None, max_length=500)
