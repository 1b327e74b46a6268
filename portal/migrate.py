"""Alembic, driven from Python: `portal db upgrade` and the tests use this.

Feature plugins add their own version folders and model modules through the
`portal_migration_dirs` and `portal_model_modules` hooks.
"""

from __future__ import annotations

import os
from pathlib import Path

from alembic import command
from alembic.config import Config

# Inside the package (a link to the top-level migrations/ in a source tree), so an installed
# wheel can upgrade a database as well as an editable install.
MIGRATIONS_DIR = Path(__file__).parent / "migrations"


def plugin_migration_parts(pm=None) -> tuple[list[str], list[str]]:
    """Version folders and model modules of installed feature plugins."""
    from portal.plugins.manager import collect, get_plugin_manager

    if pm is None:
        from portal.config import read_settings

        pm, _ = get_plugin_manager(safe_mode=read_settings()["PORTAL_SAFE_MODE"])
    dirs = sorted(str(d) for d in collect(pm.hook.portal_migration_dirs()))
    modules = sorted(collect(pm.hook.portal_model_modules()))
    return dirs, modules


def alembic_config(database_url: str, pm=None) -> Config:
    dirs, modules = plugin_migration_parts(pm)
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.set_main_option("path_separator", "os")
    config.set_main_option("version_locations", os.pathsep.join([str(MIGRATIONS_DIR / "versions"), *dirs]))
    config.attributes["database_url"] = database_url
    config.attributes["model_modules"] = modules
    return config


def upgrade(database_url: str, revision: str = "heads", pm=None) -> None:
    command.upgrade(alembic_config(database_url, pm), revision)


def downgrade(database_url: str, revision: str, pm=None) -> None:
    command.downgrade(alembic_config(database_url, pm), revision)


def current(database_url: str, pm=None) -> None:
    command.current(alembic_config(database_url, pm), verbose=False)


def script_heads(pm=None) -> frozenset[str]:
    """The revisions a fully migrated database is at: core and every loaded plugin branch."""
    from alembic.script import ScriptDirectory

    return frozenset(ScriptDirectory.from_config(alembic_config("sqlite://", pm)).get_heads())


def branch_names(pm=None) -> list[str]:
    """Branch labels: `core` and one per plugin that has migrations."""
    from alembic.script import ScriptDirectory

    script = ScriptDirectory.from_config(alembic_config("sqlite://", pm))
    labels = {label for revision in script.walk_revisions() for label in revision.branch_labels}
    return sorted(labels, key=lambda label: (label != "core", label))
