"""The roll-call log: who showed which episode to how many officers, and when."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Index, UniqueConstraint
from sqlmodel import Field, SQLModel

from portal.common.db import UTCDateTime


class RollCallShowing(SQLModel, table=True):
    __tablename__ = "rollcall_showing"
    __table_args__ = (Index("ix_rollcall_trainer_date", "trainer_id", "shown_on"),
                      Index("ix_rollcall_trainer_agency", "trainer_id", "agency_key"))

    id: int | None = Field(default=None, primary_key=True)
    trainer_id: int = Field(foreign_key="user_account.id", ondelete="CASCADE")
    pack_id: str = Field(max_length=63)
    pack_version: str = Field(max_length=40)
    episode_id: str = Field(max_length=63)
    series_title: str = Field(max_length=200)
    episode_title: str = Field(max_length=200)
    shown_on: date
    agency: str = Field(max_length=160)
    agency_key: str = Field(max_length=160)  # case-folded in Python: SQLite's lower() knows only A-Z
    officers_present: int
    # How many addresses the trainer listed, not how many matched accounts: showing the
    # matches would tell the trainer which addresses have accounts.
    addresses_listed: int = Field(default=0)
    notes: str = Field(default="", max_length=1000)
    created_at: datetime = Field(sa_type=UTCDateTime)


class RollCallAttendee(SQLModel, table=True):
    """A portal account that was present; the showing appears in their training history."""

    __tablename__ = "rollcall_attendee"
    __table_args__ = (UniqueConstraint("showing_id", "user_id", name="uq_rollcall_attendee"),)

    id: int | None = Field(default=None, primary_key=True)
    showing_id: int = Field(foreign_key="rollcall_showing.id", ondelete="CASCADE")
    user_id: int = Field(foreign_key="user_account.id", index=True, ondelete="CASCADE")
