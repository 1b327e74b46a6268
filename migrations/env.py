"""Alembic environment: the URL comes from the portal, the metadata from its models."""

from __future__ import annotations

import importlib

from alembic import context
from sqlalchemy import create_engine, pool

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


def run_migrations_online() -> None:
    engine = create_engine(url, poolclass=pool.NullPool)
    with engine.connect() as connection:
        context.configure(connection=connection, target_metadata=target_metadata,
                          render_as_batch=connection.dialect.name == "sqlite", compare_type=True)
        with context.begin_transaction():
            context.run_migrations()
    engine.dispose()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
