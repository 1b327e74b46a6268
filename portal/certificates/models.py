"""Issued certificates. What they say is fixed at issue; the PDF is stored, not re-rendered."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Text
from sqlmodel import Field, SQLModel

from portal.common.db import UTCDateTime


class Certificate(SQLModel, table=True):
    __tablename__ = "certificate"

    id: int | None = Field(default=None, primary_key=True)
    number: str = Field(max_length=32, unique=True)
    enrollment_id: int = Field(foreign_key="enrollment.id", unique=True, ondelete="RESTRICT")
    user_id: int = Field(foreign_key="user_account.id", index=True, ondelete="RESTRICT")
    pack_id: str = Field(max_length=63)
    pack_version: str = Field(max_length=40)
    learner_name: str = Field(max_length=120)
    course_title: str = Field(max_length=200)
    provider_name: str = Field(max_length=200)
    completed_on: date
    session_year: int
    hours: float
    accreditation: str = Field(default="", sa_type=Text)  # one statement per line
    issued_at: datetime = Field(sa_type=UTCDateTime)
    status: str = Field(default="valid", max_length=10)
    pdf_key: str | None = Field(default=None, max_length=200)
