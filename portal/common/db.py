"""Engine, sessions and transaction helpers for SQLite and PostgreSQL.

Services receive a `Session`; nothing here knows about requests.
"""

from __future__ import annotations

from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Iterator

from sqlalchemy import DateTime, create_engine, event
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.types import TypeDecorator
from sqlmodel import Session


class UTCDateTime(TypeDecorator):
    """Timezone-aware UTC datetimes on both databases (SQLite has no time zones)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


def make_engine(url: str, busy_timeout_ms: int = 5000) -> Engine:
    """Create an engine; SQLite gets WAL, a busy timeout and foreign keys; PostgreSQL a lock timeout."""
    if url.startswith("sqlite"):
        # SQLite connections are cheap; a roomy pool lets bursts queue on the database's own
        # busy timeout rather than on the pool.
        # hide_parameters: an error's message never carries the values (learners' addresses) into logs.
        engine = create_engine(
            url, pool_size=20, max_overflow=80, hide_parameters=True,
            connect_args={"check_same_thread": False, "timeout": busy_timeout_ms / 1000},
        )
        _configure_sqlite(engine, busy_timeout_ms)
        return engine
    # A write stuck behind another's lock fails after the same wait as on SQLite, so the
    # client gets a 503 with Retry-After instead of a request that hangs for ever. A URL that
    # sets its own lock_timeout (`?options=-c lock_timeout=…`) keeps it.
    connect_args = {} if "lock_timeout" in url else {"options": f"-c lock_timeout={int(busy_timeout_ms)}"}
    return create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=20, connect_args=connect_args,
                         hide_parameters=True)


def _configure_sqlite(engine: Engine, busy_timeout_ms: int) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record):
        # Let SQLAlchemy, not the sqlite3 module, decide when transactions begin.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA busy_timeout={int(busy_timeout_ms)}")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection):
        # Writes that must not race take the write lock up front, so two of them
        # queue on the busy timeout instead of failing halfway with SQLITE_BUSY.
        if connection.get_execution_options().get("immediate"):
            connection.exec_driver_sql("BEGIN IMMEDIATE")
        else:
            connection.exec_driver_sql("BEGIN")


class Database:
    """Owns the engine; hands out sessions."""

    def __init__(self, url: str, busy_timeout_ms: int = 5000):
        self.url = url
        self.engine = make_engine(url, busy_timeout_ms)
        self._immediate_engine = self.engine.execution_options(immediate=True)

    def session(self) -> Session:
        return Session(self.engine, expire_on_commit=False)

    @contextmanager
    def write_transaction(self) -> Iterator[Session]:
        """A session whose transaction holds the write lock from its first statement.

        On SQLite that is BEGIN IMMEDIATE; on PostgreSQL unique constraints and
        row locks do the same work, so this is an ordinary transaction there.
        """
        with Session(self._immediate_engine, expire_on_commit=False) as session:
            with session.begin():
                yield session

    @contextmanager
    def write_session(self) -> Iterator[Session]:
        """A session each of whose transactions takes the write lock at its start
        (BEGIN IMMEDIATE on SQLite), for services that commit as they go."""
        with Session(self._immediate_engine, expire_on_commit=False) as session:
            yield session

    def dispose(self) -> None:
        self.engine.dispose()


def is_lock_timeout(error: BaseException) -> bool:
    """True for "the database is busy" failures that a client should retry
    (PostgreSQL resolves a deadlock by failing one side, which may simply try again)."""
    if not isinstance(error, OperationalError):
        return False
    text = str(error.orig).lower() if error.orig else str(error).lower()
    return any(marker in text for marker in
               ("database is locked", "lock timeout", "could not obtain lock", "deadlock detected"))


_UNAVAILABLE = ("connection failed", "could not connect", "connection refused", "server closed the connection",
                "connection is closed", "terminating connection", "the database system is")


def is_unavailable(error: BaseException) -> bool:
    """True when the database could not be reached or dropped the connection (a restart,
    a failover): the request failed as a whole, and a retry in a moment should work."""
    if not isinstance(error, DBAPIError):
        return False
    if error.connection_invalidated:
        return True
    sqlstate = getattr(error.orig, "sqlstate", None) or ""
    if sqlstate.startswith("08") or sqlstate in {"57P01", "57P02", "57P03"}:  # connection, shutdown
        return True
    text = str(error.orig).lower() if error.orig else str(error).lower()
    return any(marker in text for marker in _UNAVAILABLE)

