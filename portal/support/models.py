"""Support records: the audit log of staff actions and contact requests."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Text
from sqlmodel import Field, SQLModel

from portal.common.db import UTCDateTime


class AuditEntry(SQLModel, table=True):
    """Who did what to whom, and when. Never updated or deleted by the portal."""

    __tablename__ = "audit_log"

    id: int | None = Field(default=None, primary_key=True)
    actor_id: int | None = Field(default=None, foreign_key="user_account.id", ondelete="SET NULL")
    action: str = Field(max_length=60)
    target_user_id: int | None = Field(
        default=None, foreign_key="user_account.id", index=True, ondelete="SET NULL"
    )
    detail: str = Field(default="", max_length=500)
    created_at: datetime = Field(sa_type=UTCDateTime, index=True)


class ContactRequest(SQLModel, table=True):
    __tablename__ = "contact_request"

    id: int | None = Field(default=None, primary_key=True)
    user_id: int | None = Field(default=None, foreign_key="user_account.id", ondelete="SET NULL")
    name: str = Field(max_length=120)
    email: str = Field(max_length=254)
    subject: str = Field(max_length=150)
    message: str = Field(sa_type=Text)
    created_at: datetime = Field(sa_type=UTCDateTime)
