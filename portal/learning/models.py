"""Learner state. Authored content stays in the pack; rows here hold only ids,
answers and times, each keyed by pack id and the pack version it was made on."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index, UniqueConstraint
from sqlmodel import Field, SQLModel

from portal.common.db import UTCDateTime

PRE, POST = "pre", "post"


class Enrollment(SQLModel, table=True):
    """One learner in one course for one annual session (a calendar year)."""

    __tablename__ = "enrollment"
    __table_args__ = (UniqueConstraint("user_id", "pack_id", "session_year", name="uq_enrollment_session"),
                      Index("ix_enrollment_pack_year", "pack_id", "session_year"))

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="user_account.id", index=True, ondelete="CASCADE")
    pack_id: str = Field(max_length=63)
    pack_version: str = Field(max_length=40)
    session_year: int
    enrolled_at: datetime = Field(sa_type=UTCDateTime)
    last_lesson_id: str | None = Field(default=None, max_length=63)
    last_activity_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    passed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    # Summaries kept current at each submission so that reports aggregate one row per
    # enrollment instead of every attempt. Never shown to the learner.
    pre_score: float | None = None
    best_post_score: float | None = None
    post_attempts: int = Field(default=0, sa_column_kwargs={"server_default": "0"})
    first_post_passed: bool | None = None


class LessonProgress(SQLModel, table=True):
    __tablename__ = "lesson_progress"
    __table_args__ = (UniqueConstraint("enrollment_id", "lesson_id", name="uq_lesson_progress"),)

    id: int | None = Field(default=None, primary_key=True)
    enrollment_id: int = Field(foreign_key="enrollment.id", index=True, ondelete="CASCADE")
    lesson_id: str = Field(max_length=63)
    pack_version: str = Field(max_length=40)
    video_position: float = Field(default=0.0)
    completed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    updated_at: datetime = Field(sa_type=UTCDateTime)
    # Time on the lesson page as the server saw it (visits signed at render, credited on each
    # heartbeat and on completion), never a figure the browser reports.
    seconds_spent: int = Field(default=0, sa_column_kwargs={"server_default": "0"})
    counted_until: datetime | None = Field(default=None, sa_type=UTCDateTime)


class Attempt(SQLModel, table=True):
    """One pre- or post-test attempt: the questions drawn, then the answers once submitted."""

    __tablename__ = "attempt"
    __table_args__ = (UniqueConstraint("enrollment_id", "kind", "number", name="uq_attempt_number"),
                      Index("ix_attempt_pack_kind", "pack_id", "kind", "submitted_at"))

    id: int | None = Field(default=None, primary_key=True)
    enrollment_id: int = Field(foreign_key="enrollment.id", index=True, ondelete="CASCADE")
    pack_id: str = Field(max_length=63)
    pack_version: str = Field(max_length=40)
    kind: str = Field(max_length=4)
    number: int
    started_at: datetime = Field(sa_type=UTCDateTime)
    submitted_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    correct_count: int | None = None
    question_count: int
    score: float | None = None  # percent; a pre-test score is never shown to the learner
    passed: bool | None = None


class AttemptItem(SQLModel, table=True):
    """One drawn question of an attempt and what the learner chose."""

    __tablename__ = "attempt_item"
    __table_args__ = (UniqueConstraint("attempt_id", "question_id", name="uq_attempt_item"),
                      Index("ix_attempt_item_question", "question_id"))

    id: int | None = Field(default=None, primary_key=True)
    attempt_id: int = Field(foreign_key="attempt.id", ondelete="CASCADE")
    position: int
    question_id: str = Field(max_length=63)
    choice_order: str = Field(max_length=200)  # the order the choices were shown in
    chosen: str | None = Field(default=None, max_length=200)
    correct: bool | None = None


class Attestation(SQLModel, table=True):
    """The learner's "Yes" to the honor code, with the version of the text they saw."""

    __tablename__ = "attestation"

    id: int | None = Field(default=None, primary_key=True)
    enrollment_id: int = Field(foreign_key="enrollment.id", unique=True, ondelete="CASCADE")
    text_version: str = Field(max_length=64)
    answer: str = Field(max_length=3)
    attested_at: datetime = Field(sa_type=UTCDateTime)


class ItemStat(SQLModel, table=True):
    """Running counts per question, course, session year and test, for item analysis."""

    __tablename__ = "item_stat"
    __table_args__ = (UniqueConstraint("pack_id", "session_year", "kind", "question_id", name="uq_item_stat"),)

    id: int | None = Field(default=None, primary_key=True)
    pack_id: str = Field(max_length=63)
    session_year: int
    kind: str = Field(max_length=4)
    question_id: str = Field(max_length=63)
    answered: int = Field(default=0)
    correct: int = Field(default=0)
