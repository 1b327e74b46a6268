"""Which provider organization's packs a provider-role account may report on."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import UniqueConstraint
from sqlmodel import Field, SQLModel

from portal.common.db import UTCDateTime


class ProviderStaff(SQLModel, table=True):
    __tablename__ = "provider_staff"
    __table_args__ = (UniqueConstraint("user_id", "provider_name", name="uq_provider_staff"),)

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="user_account.id", index=True, ondelete="CASCADE")
    provider_name: str = Field(max_length=200)
    granted_at: datetime = Field(sa_type=UTCDateTime)
