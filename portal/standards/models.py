"""Tables for imported packages, cmi5 registrations and sessions, and the xAPI LRS.

Package files themselves live in `stored_file` (key `std/<package uid>/<path>`), so every
host serves them; these tables hold what the portal needs to launch and track them.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index, LargeBinary, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from portal.common.db import UTCDateTime


class StdPackage(SQLModel, table=True):
    """One uploaded cmi5 or SCORM 1.2 package: a draft until it is published."""

    __tablename__ = "std_package"

    id: int | None = Field(default=None, primary_key=True)
    uid: str = Field(max_length=36, unique=True, index=True)
    standard: str = Field(max_length=10)  # cmi5 | scorm12
    status: str = Field(max_length=10, default="draft")  # draft | published
    title: str = Field(max_length=300)
    description: str = Field(default="", sa_type=Text)
    publisher_id: str = Field(max_length=2000)  # the course id the package declares
    structure: str = Field(sa_type=Text)  # JSON: the parsed course structure
    filename: str = Field(max_length=300)
    file_count: int = 0
    total_bytes: int = 0
    provider_name: str = Field(max_length=200)
    uploaded_by: int | None = Field(default=None, foreign_key="user_account.id", ondelete="SET NULL")
    created_at: datetime = Field(sa_type=UTCDateTime)
    published_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class StdRegistration(SQLModel, table=True):
    """A learner's enrollment in one package: the cmi5 registration."""

    __tablename__ = "std_registration"
    __table_args__ = (UniqueConstraint("package_id", "user_id", name="uq_std_registration"),)

    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(max_length=36, unique=True, index=True)
    package_id: int = Field(foreign_key="std_package.id", index=True, ondelete="CASCADE")
    user_id: int = Field(foreign_key="user_account.id", index=True, ondelete="CASCADE")
    actor: str = Field(sa_type=Text)  # JSON xAPI Agent
    satisfied_nodes: str = Field(default="[]", sa_type=Text)  # JSON list of satisfied block/course ids
    created_at: datetime = Field(sa_type=UTCDateTime)


class StdRegistrationAu(SQLModel, table=True):
    """Where one registration stands on one AU (or SCO)."""

    __tablename__ = "std_registration_au"
    __table_args__ = (UniqueConstraint("registration_id", "au_index", name="uq_std_registration_au"),)

    id: int | None = Field(default=None, primary_key=True)
    registration_id: int = Field(foreign_key="std_registration.id", index=True, ondelete="CASCADE")
    au_index: int
    completed: bool = False
    passed: bool = False
    satisfied: bool = False
    waived: bool = False
    waived_reason: str = Field(default="", max_length=40)
    score_scaled: float | None = None
    seconds: int = 0  # time spent, from the sessions' durations


class StdSession(SQLModel, table=True):
    """One launch: one learner, one AU, one attempt, with its own tokens."""

    __tablename__ = "std_session"

    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(max_length=36, unique=True, index=True)  # the cmi5 session id
    registration_id: int = Field(foreign_key="std_registration.id", index=True, ondelete="CASCADE")
    au_index: int
    launch_mode: str = Field(max_length=10)
    content_key: str = Field(max_length=64, unique=True, index=True)  # the path files are served under
    fetch_key_hash: str = Field(max_length=64, index=True)
    auth_key_hash: str | None = Field(default=None, max_length=64, index=True)
    fetched: bool = False
    launch_data_fetched: bool = False
    learner_prefs_fetched: bool = False
    initialized: bool = False
    terminated: bool = False
    abandoned: bool = False
    completed: bool = False
    passed: bool = False
    failed: bool = False
    context_template: str = Field(sa_type=Text)
    created_at: datetime = Field(sa_type=UTCDateTime)
    last_request_at: datetime = Field(sa_type=UTCDateTime)


class XapiStatement(SQLModel, table=True):
    """A stored xAPI 1.0.3 statement; `seq` gives the stored order."""

    __tablename__ = "xapi_statement"
    __table_args__ = (
        Index("ix_xapi_statement_registration_seq", "registration", "seq"),
        Index("ix_xapi_statement_activity_seq", "activity_id", "seq"),
    )

    seq: int | None = Field(default=None, primary_key=True)
    statement_id: str = Field(max_length=36, unique=True, index=True)
    registration: str = Field(default="", max_length=36)
    verb_id: str = Field(max_length=2000, index=True)
    activity_id: str = Field(default="", max_length=2000)
    agent_key: str = Field(max_length=500, index=True)
    voided: bool = False
    stored: datetime = Field(sa_type=UTCDateTime)
    body: str = Field(sa_type=Text)


class XapiDocument(SQLModel, table=True):
    """A state, agent profile or activity profile document."""

    __tablename__ = "xapi_document"
    __table_args__ = (UniqueConstraint("kind", "activity_id", "agent_key", "registration", "doc_id",
                                       name="uq_xapi_document"),)

    id: int | None = Field(default=None, primary_key=True)
    kind: str = Field(max_length=16)  # state | agent_profile | activity_profile
    activity_id: str = Field(default="", max_length=2000)
    agent_key: str = Field(default="", max_length=500)
    registration: str = Field(default="", max_length=36)
    doc_id: str = Field(max_length=500)
    content_type: str = Field(max_length=200)
    etag: str = Field(max_length=64)
    body: bytes = Field(sa_type=LargeBinary)
    updated: datetime = Field(sa_type=UTCDateTime)
