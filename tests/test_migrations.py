"""Migrations build, from an empty database, exactly the schema the models describe."""

from __future__ import annotations

import importlib

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine, inspect

from portal import migrate


def model_metadata():
    import portal.models  # noqa: F401  every core table
    from sqlmodel import SQLModel

    for module in migrate.plugin_migration_parts()[1]:
        importlib.import_module(module)  # feature plugins' own tables
    return SQLModel.metadata


def schema_differences(url: str) -> list:
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            context = MigrationContext.configure(connection, opts={"compare_type": True,
                                                                   "compare_server_default": False})
            return compare_metadata(context, model_metadata())
    finally:
        engine.dispose()


def revisions_at(url: str) -> set[str]:
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            return set(MigrationContext.configure(connection).get_current_heads())
    finally:
        engine.dispose()


def script_heads(url: str) -> set[str]:
    return set(ScriptDirectory.from_config(migrate.alembic_config(url)).get_heads())


def tables(url: str) -> set[str]:
    engine = create_engine(url)
    try:
        return set(inspect(engine).get_table_names()) - {"alembic_version"}
    finally:
        engine.dispose()


def test_the_migrated_database_matches_the_models(database_url):
    """On each backend (the fixture's database was migrated from empty for this run)."""
    assert schema_differences(database_url) == []
    assert revisions_at(database_url) == script_heads(database_url)


def test_upgrade_from_empty_on_sqlite(tmp_path):
    url = f"sqlite:///{tmp_path / 'empty.db'}"
    assert tables(url) == set()
    migrate.upgrade(url)
    assert {"user_account", "login_session", "account_token", "mail_outbox", "audit_log", "contact_request",
            "stored_file", "user_role"} <= tables(url)
    assert tables(url) == {t.name for t in model_metadata().sorted_tables}
    assert schema_differences(url) == []
    assert revisions_at(url) == script_heads(url)


def test_upgrade_twice_is_harmless_and_downgrade_returns_to_empty(tmp_path):
    url = f"sqlite:///{tmp_path / 'roundtrip.db'}"
    migrate.upgrade(url)
    first = tables(url)
    migrate.upgrade(url)
    assert tables(url) == first
    migrate.downgrade(url, "base")
    assert tables(url) == set()
    migrate.upgrade(url)
    assert tables(url) == first
    assert schema_differences(url) == []


def test_every_model_table_is_created_by_a_migration(database_url):
    assert {t.name for t in model_metadata().sorted_tables} <= tables(database_url)
