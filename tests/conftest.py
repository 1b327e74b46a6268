"""Fixtures: every test that uses `app` runs on SQLite, and on PostgreSQL too when
PORTAL_TEST_DATABASE_URL is set (CI sets it; in CI its absence is an error)."""

from __future__ import annotations

import os
import shutil
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from portal import create_app, migrate
from portal.common.clock import FrozenClock
from portal.common.db import Database

PG_URL = os.environ.get("PORTAL_TEST_DATABASE_URL", "")
IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}
BACKENDS = ["sqlite"] + (["postgresql"] if PG_URL else [])


def pytest_configure(config):
    if IN_CI and not PG_URL:
        raise pytest.UsageError("CI must run the suite on PostgreSQL too: set PORTAL_TEST_DATABASE_URL.")


def pytest_report_header(config):
    return f"portal test databases: {', '.join(BACKENDS)}"


def _pg_url() -> str:
    from portal.config import normalise_database_url

    return normalise_database_url(PG_URL)


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory) -> Path:
    """A migrated SQLite database, copied for each test."""
    path = tmp_path_factory.mktemp("template") / "portal.db"
    migrate.upgrade(f"sqlite:///{path}")
    return path


@pytest.fixture(scope="session")
def pg_migrated() -> str:
    """A PostgreSQL database of this test session's own, so that two runs on one
    server (a developer's and CI's, or two helpers') never truncate each other's rows."""
    from sqlalchemy.engine import make_url

    base = make_url(_pg_url())
    name = f"{base.database}_{os.getpid()}"
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    url = base.set(database=name).render_as_string(hide_password=False)
    migrate.upgrade(url)
    yield url
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def _truncate_all(database: Database) -> None:
    with database.engine.begin() as connection:
        tables = [row[0] for row in connection.execute(text(
            "SELECT tablename FROM pg_tables WHERE schemaname = 'public' AND tablename <> 'alembic_version'"))]
        if tables:
            connection.execute(text(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE"))


@pytest.fixture(params=BACKENDS)
def database_url(request, tmp_path) -> str:
    if request.param == "sqlite":
        path = tmp_path / "portal.db"
        shutil.copy(request.getfixturevalue("sqlite_template"), path)
        return f"sqlite:///{path}"
    return request.getfixturevalue("pg_migrated")


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock(datetime(2026, 6, 15, 14, 0, tzinfo=UTC))


@pytest.fixture
def app_config(tmp_path, database_url) -> dict:
    return {
        "TESTING": True,
        "DATABASE_URL": database_url,
        "PORTAL_DATA_DIR": str(tmp_path / "data"),
        "PORTAL_BASE_URL": "https://portal.test",
        "SECRET_KEY": "test-secret-key",
        "ARGON2_TIME_COST": 1,
        "ARGON2_MEMORY_COST": 1024,
        "RATELIMIT_ENABLED": False,
        "MAIL_TRANSPORT": "file",
        "SUPPORT_EMAIL": "support@portal.test",
    }


@pytest.fixture
def app(app_config):
    app = create_app(app_config)
    yield app
    database = app.extensions["portal"].database
    if database.engine.dialect.name == "postgresql":
        _truncate_all(database)
    database.dispose()


@pytest.fixture
def frozen_app(app_config, clock):
    """The app on a clock that tests move by hand."""
    app = create_app({**app_config, "CLOCK": clock})
    yield app
    database = app.extensions["portal"].database
    if database.engine.dialect.name == "postgresql":
        _truncate_all(database)
    database.dispose()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


@pytest.fixture
def smtp_server():
    """A real SMTP server on loopback; messages land in `.messages`."""
    from tests.smtp import LoopbackSmtpServer

    server = LoopbackSmtpServer()
    server.start()
    yield server
    server.stop()


@pytest.fixture
def make_app(app_config):
    """Build an app on the test's database with some settings changed, e.g.
    `make_app(RATELIMIT_ENABLED=True)`; each one is cleaned up like `app`."""
    made = []

    def build(**overrides):
        built = create_app({**app_config, **overrides})
        made.append(built)
        return built

    yield build
    for built in made:
        database = built.extensions["portal"].database
        if database.engine.dialect.name == "postgresql":
            _truncate_all(database)
        database.dispose()
