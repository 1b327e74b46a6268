"""Agency tables. Learner state stays in the core; these rows are the agency's own records."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import Index, Numeric, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from portal.common.db import UTCDateTime


class Agency(SQLModel, table=True):
    __tablename__ = "agency"

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=160, unique=True)
    chp_program_manager_email: str = Field(default="", max_length=254)
    # In-service hours each officer owes a training year (e.g. Utah's 40, July to June); 0: none set.
    annual_hours_required: int = Field(default=0)
    training_year_start_month: int = Field(default=1)
    created_at: datetime = Field(sa_type=UTCDateTime)


class AgencyMember(SQLModel, table=True):
    """A portal account in an agency. One agency per account; a member may leave."""

    __tablename__ = "agency_member"

    id: int | None = Field(default=None, primary_key=True)
    agency_id: int = Field(foreign_key="agency.id", index=True, ondelete="CASCADE")
    user_id: int = Field(foreign_key="user_account.id", unique=True, ondelete="CASCADE")
    role: str = Field(max_length=20)  # coordinator | officer
    joined_at: datetime = Field(sa_type=UTCDateTime)


class AgencyInvite(SQLModel, table=True):
    """A link a coordinator shares; each officer signs up on their own and joins with it."""

    __tablename__ = "agency_invite"

    id: int | None = Field(default=None, primary_key=True)
    agency_id: int = Field(foreign_key="agency.id", index=True, ondelete="CASCADE")
    token_hash: str = Field(max_length=64, unique=True)
    created_by: int | None = Field(default=None, foreign_key="user_account.id", ondelete="SET NULL")
    created_at: datetime = Field(sa_type=UTCDateTime)
    expires_at: datetime = Field(sa_type=UTCDateTime)
    revoked_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    # Single-use by default (docs/security.md): the first join uses it up. A multi-use link
    # lets anyone with it ask to join, and a coordinator approves each request.
    multi_use: bool = Field(default=False)
    used_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    used_by: int | None = Field(default=None, foreign_key="user_account.id", ondelete="SET NULL")


class AgencyJoinRequest(SQLModel, table=True):
    """Someone who opened a multi-use link and asked to join; a coordinator decides."""

    __tablename__ = "agency_join_request"
    __table_args__ = (UniqueConstraint("agency_id", "user_id", name="uq_agency_join_request"),)

    id: int | None = Field(default=None, primary_key=True)
    agency_id: int = Field(foreign_key="agency.id", index=True, ondelete="CASCADE")
    user_id: int = Field(foreign_key="user_account.id", ondelete="CASCADE")
    invite_id: int | None = Field(default=None, foreign_key="agency_invite.id", ondelete="SET NULL")
    requested_at: datetime = Field(sa_type=UTCDateTime)


class ChpAward(SQLModel, table=True):
    __tablename__ = "chp_award"
    __table_args__ = (UniqueConstraint("agency_id", "award_number", name="uq_chp_award_number"),)

    id: int | None = Field(default=None, primary_key=True)
    agency_id: int = Field(foreign_key="agency.id", index=True, ondelete="CASCADE")
    award_number: str = Field(max_length=60)
    award_date: date  # the date on the award congratulatory letter
    funded_positions: int
    mou_submitted_on: date | None = None
    created_at: datetime = Field(sa_type=UTCDateTime)


class SchoolResourceOfficer(SQLModel, table=True):
    __tablename__ = "chp_sro"

    id: int | None = Field(default=None, primary_key=True)
    award_id: int = Field(foreign_key="chp_award.id", index=True, ondelete="CASCADE")
    name: str = Field(max_length=120)
    role: str = Field(max_length=10)  # initial | backfill
    hire_date: date | None = None
    placement_date: date | None = None
    training_completed: date | None = None
    certificate_key: str | None = Field(default=None, max_length=200)
    certificate_filename: str | None = Field(default=None, max_length=200)
    expenses_submitted: date | None = None
    # Prior training: the fact sheet asks the agency to report it to the COPS Office
    # Response Center, which determines whether it satisfies the requirement.
    response_center_reported_on: date | None = None
    response_center_answer: str = Field(default="", max_length=20)  # "" | satisfied | retake
    created_at: datetime = Field(sa_type=UTCDateTime)


class TravelExpense(SQLModel, table=True):
    """One itemized line of a travel claim (transportation, lodging or M&IE)."""

    __tablename__ = "chp_travel_expense"

    id: int | None = Field(default=None, primary_key=True)
    sro_id: int = Field(foreign_key="chp_sro.id", index=True, ondelete="CASCADE")
    category: str = Field(max_length=20)
    description: str = Field(max_length=200)
    incurred_on: date
    amount: Decimal = Field(sa_type=Numeric(10, 2))


class ReminderSent(SQLModel, table=True):
    """One reminder mail, so that a second run on the same day sends nothing twice."""

    __tablename__ = "chp_reminder_sent"
    __table_args__ = (UniqueConstraint("subject_kind", "subject_id", "deadline", "days_before",
                                       name="uq_chp_reminder"),)

    id: int | None = Field(default=None, primary_key=True)
    subject_kind: str = Field(max_length=10)  # training | mou
    subject_id: int
    deadline: date
    days_before: int
    sent_at: datetime = Field(sa_type=UTCDateTime)


class AgencyChange(SQLModel, table=True):
    """One change to an agency record: who, when, and the fields before and after (JSON).
    The record may be gone; its history stays until the agency is deleted."""

    __tablename__ = "agency_change"
    __table_args__ = (Index("ix_agency_change_record", "agency_id", "record_kind", "record_id"),)

    id: int | None = Field(default=None, primary_key=True)
    agency_id: int = Field(foreign_key="agency.id", ondelete="CASCADE")
    record_kind: str = Field(max_length=20)  # agency | award | sro | member | expense | invite
    record_id: int
    action: str = Field(max_length=20)  # create | update | delete
    actor_id: int | None = Field(default=None, foreign_key="user_account.id", ondelete="SET NULL")
    changed_at: datetime = Field(sa_type=UTCDateTime)
    before: str = Field(default="", sa_type=Text)
    after: str = Field(default="", sa_type=Text)
