"""File storage in the database, and the database layer's own promises: SQLite in WAL mode
with a busy timeout and foreign keys, and write transactions that take the lock up front."""

from __future__ import annotations

import hashlib
import threading
from datetime import timedelta

import pytest
from sqlalchemy import event, text
from sqlalchemy.exc import IntegrityError, OperationalError

from portal.accounts.models import UserRole
from portal.common.db import Database, is_lock_timeout
from portal.common.storage import DatabaseStorage, StoredFile
from portal.support.models import ContactRequest
from tests.helpers import services

ALL_BYTES = bytes(range(256)) * 64 + b"\x00\xff\x00"


# -- DatabaseStorage ----------------------------------------------------------------------------

def test_put_get_info_delete_round_trip(app):
    s = services(app)
    storage = s.storage
    now = s.clock.now()
    with s.database.session() as db:
        info = storage.put(db, "certificates/1.pdf", ALL_BYTES, "application/pdf", now)
        db.commit()
    assert (info.key, info.size, info.content_type) == ("certificates/1.pdf", len(ALL_BYTES), "application/pdf")
    assert info.sha256 == hashlib.sha256(ALL_BYTES).hexdigest()

    with s.database.session() as db:
        got = storage.get(db, "certificates/1.pdf")
        assert got is not None
        got_info, data = got
        assert data == ALL_BYTES and isinstance(data, bytes)
        assert got_info.sha256 == info.sha256 and got_info.size == len(ALL_BYTES)
        assert abs(got_info.created_at - now) < timedelta(seconds=1)
        assert storage.info(db, "certificates/1.pdf") == got_info
        assert storage.delete(db, "certificates/1.pdf") is True
        db.commit()

    with s.database.session() as db:
        assert storage.get(db, "certificates/1.pdf") is None
        assert storage.info(db, "certificates/1.pdf") is None
        assert storage.delete(db, "certificates/1.pdf") is False


def test_put_replaces_a_file_under_the_same_key(app):
    s = services(app)
    storage = DatabaseStorage()
    with s.database.session() as db:
        storage.put(db, "k", b"first version", "text/plain", s.clock.now())
        db.commit()
    with s.database.session() as db:
        storage.put(db, "k", b"\x00second\x00", "application/octet-stream", s.clock.now())
        db.commit()
    with s.database.session() as db:
        info, data = storage.get(db, "k")
        assert data == b"\x00second\x00"
        assert (info.size, info.content_type) == (len(b"\x00second\x00"), "application/octet-stream")
        assert info.sha256 == hashlib.sha256(b"\x00second\x00").hexdigest()
        assert db.exec(text("SELECT COUNT(*) FROM stored_file")).scalar_one() == 1


def test_empty_and_large_files(app):
    s = services(app)
    big = bytes(range(256)) * 8192  # 2 MiB
    with s.database.session() as db:
        s.storage.put(db, "empty", b"", "application/octet-stream", s.clock.now())
        s.storage.put(db, "big", big, "application/octet-stream", s.clock.now())
        db.commit()
    with s.database.session() as db:
        assert s.storage.get(db, "empty")[1] == b""
        assert s.storage.get(db, "big")[1] == big


def test_a_put_that_is_not_committed_leaves_nothing(app):
    s = services(app)
    with s.database.session() as db:
        s.storage.put(db, "draft", b"data", "text/plain", s.clock.now())
        db.rollback()
    with s.database.session() as db:
        assert s.storage.get(db, "draft") is None
        assert db.get(StoredFile, "draft") is None


# -- the database layer -------------------------------------------------------------------------

def test_foreign_keys_are_enforced(app):
    s = services(app)
    with s.database.session() as db:
        db.add(UserRole(user_id=987654, role="admin", granted_at=s.clock.now()))
        with pytest.raises(IntegrityError):
            db.commit()


# These tests are about SQLite itself, so they are generated for the SQLite backend only
# (never collected, and never skipped, for PostgreSQL).
SQLITE_ONLY = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)


@pytest.fixture
def sqlite_url(database_url):
    assert database_url.startswith("sqlite")
    return database_url


@SQLITE_ONLY
def test_sqlite_runs_in_wal_mode_with_busy_timeout_and_foreign_keys(sqlite_url, make_app):
    app = make_app(SQLITE_BUSY_TIMEOUT_MS=1234)
    with services(app).database.engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA journal_mode").scalar().lower() == "wal"
        assert connection.exec_driver_sql("PRAGMA busy_timeout").scalar() == 1234
        assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1


def test_a_write_waits_for_a_lock_only_as_long_as_the_setting_says(make_app, database_url):
    """SQLite's busy timeout, and PostgreSQL's lock_timeout, both come from the one setting."""
    app = make_app(SQLITE_BUSY_TIMEOUT_MS=1234)
    with services(app).database.engine.connect() as connection:
        if connection.dialect.name == "postgresql":
            assert connection.exec_driver_sql("SHOW lock_timeout").scalar() == "1234ms"
        else:
            assert connection.exec_driver_sql("PRAGMA busy_timeout").scalar() == 1234


@SQLITE_ONLY
def test_sqlite_pragmas_hold_on_every_pooled_connection(sqlite_url):
    database = Database(sqlite_url, busy_timeout_ms=777)
    try:
        connections = [database.engine.connect() for _ in range(3)]
        for connection in connections:
            assert connection.exec_driver_sql("PRAGMA busy_timeout").scalar() == 777
            assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        for connection in connections:
            connection.close()
    finally:
        database.dispose()


def _statements(database: Database) -> list[str]:
    seen: list[str] = []

    @event.listens_for(database.engine, "before_cursor_execute")
    def _record(conn, cursor, statement, parameters, context, executemany):
        seen.append(statement.strip().upper())

    return seen


def _contact(n: int, now) -> ContactRequest:
    return ContactRequest(name=f"Writer {n}", email=f"w{n}@example.gov", subject="s", message="m", created_at=now)


def _count(database: Database) -> int:
    with database.engine.connect() as connection:
        return connection.exec_driver_sql("SELECT COUNT(*) FROM contact_request").scalar()


@SQLITE_ONLY
def test_write_transaction_begins_immediate_on_sqlite(sqlite_url, clock):
    database = Database(sqlite_url)
    try:
        seen = _statements(database)
        with database.write_transaction() as db:
            db.add(_contact(1, clock.now()))
        assert "BEGIN IMMEDIATE" in seen
        assert seen.index("BEGIN IMMEDIATE") < next(i for i, s in enumerate(seen) if s.startswith("INSERT"))
        seen.clear()
        with database.session() as db:
            db.exec(text("SELECT 1"))
        assert "BEGIN IMMEDIATE" not in seen  # ordinary sessions stay deferred
        assert _count(database) == 1
    finally:
        database.dispose()


def _hold_write_lock(database: Database, clock, holding: threading.Event, release: threading.Event, errors: list):
    try:
        with database.write_transaction() as db:
            db.add(_contact(1, clock.now()))
            db.flush()
            holding.set()
            release.wait(timeout=30)
    except Exception as error:  # pragma: no cover - reported by the test
        errors.append(error)
        holding.set()


@SQLITE_ONLY
def test_a_second_writer_waits_and_then_fails_cleanly_with_database_is_locked(sqlite_url, clock):
    database = Database(sqlite_url, busy_timeout_ms=100)
    holding, release, errors = threading.Event(), threading.Event(), []
    holder = threading.Thread(target=_hold_write_lock, args=(database, clock, holding, release, errors))
    holder.start()
    try:
        assert holding.wait(timeout=10) and not errors
        seen = _statements(database)
        progress = []
        with pytest.raises(OperationalError) as raised:
            with database.write_transaction() as db:
                db.add(_contact(2, clock.now()))
                db.flush()  # the first statement needs the lock
                progress.append("wrote")
        assert "database is locked" in str(raised.value)
        assert is_lock_timeout(raised.value)
        assert progress == []
        assert "BEGIN IMMEDIATE" in seen and not any(s.startswith("INSERT") for s in seen)
    finally:
        release.set()
        holder.join(timeout=10)
    assert not errors
    assert _count(database) == 1  # the holder's row only; nothing partial from the second writer
    database.dispose()


@SQLITE_ONLY
def test_a_second_writer_proceeds_once_the_first_commits(sqlite_url, clock):
    database = Database(sqlite_url, busy_timeout_ms=10_000)
    holding, release, errors = threading.Event(), threading.Event(), []
    holder = threading.Thread(target=_hold_write_lock, args=(database, clock, holding, release, errors))
    holder.start()
    assert holding.wait(timeout=10) and not errors
    done = threading.Event()
    second_errors = []

    def second_writer():
        try:
            with database.write_transaction() as db:
                db.add(_contact(2, clock.now()))
        except Exception as error:  # pragma: no cover - reported by the test
            second_errors.append(error)
        done.set()

    writer = threading.Thread(target=second_writer)
    writer.start()
    assert not done.wait(timeout=0.2)  # blocked behind the holder's lock...
    release.set()
    holder.join(timeout=10)
    assert done.wait(timeout=10)  # ...and through as soon as it is free
    writer.join(timeout=10)
    assert not errors and not second_errors
    assert _count(database) == 2
    database.dispose()
