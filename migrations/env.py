"""Alembic environment: the URL comes from the portal, the metadata from its models."""

from __future__ import annotations

import fcntl
import importlib
from contextlib import contextmanager

from alembic import context
from sqlalchemy import create_engine, pool, text

import portal.models  # noqa: F401  registers the core tables
from portal.config import load_config
from sqlmodel import SQLModel

config = context.config
url = config.attributes.get("database_url") or load_config()["DATABASE_URL"]
for module in config.attributes.get("model_modules", []):
    importlib.import_module(module)  # a feature plugin's own tables
target_metadata = SQLModel.metadata


def run_migrations_offline() -> None:
    context.configure(url=url, target_metadata=target_metadata, literal_binds=True,
                      render_as_batch=url.startswith("sqlite"))
    with context.begin_transaction():
        context.run_migrations()


# Any fixed number: every host running `portal db upgrade` takes the same PostgreSQL advisory lock.
MIGRATION_LOCK_KEY = 7_366_417_012


@contextmanager
def migration_lock(connection):
    """One upgrade at a time per database: a second host waits here, then finds the database
    at head and has nothing to do (two at once used to collide on CREATE TABLE)."""
    if connection.dialect.name == "postgresql":
        connection.execute(text("SELECT pg_advisory_lock(:key)"), {"key": MIGRATION_LOCK_KEY})
        connection.commit()
        try:
            yield
        finally:
            connection.rollback()
            connection.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": MIGRATION_LOCK_KEY})
            connection.commit()
    elif connection.dialect.name == "sqlite" and connection.engine.url.database not in (None, "", ":memory:"):
        with open(f"{connection.engine.url.database}.migrate-lock", "a") as lock_file:
            fcntl.flock(lock_file, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(lock_file, fcntl.LOCK_UN)
    else:
        yield


def run_migrations_online() -> None:
    engine = create_engine(url, poolclass=pool.NullPool)
    with engine.connect() as connection, migration_lock(connection):
        context.configure(connection=connection, target_metadata=target_metadata,
                          render_as_batch=connection.dialect.name == "sqlite", compare_type=True)
        with context.begin_transaction():
            context.run_migrations()
    engine.dispose()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
