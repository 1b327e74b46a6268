"""Collect the readiness checks for one app: what it is configured to depend on."""

from __future__ import annotations

from flask import Flask

from portal.ops.health import Readiness, check_database, check_redis, timed


def expected_heads(app: Flask) -> frozenset[str]:
    """Read once per process: the migration scripts do not change while it runs."""
    heads = app.extensions.get("migration_heads")
    if heads is None:
        from portal import migrate

        heads = app.extensions["migration_heads"] = migrate.script_heads(app.extensions["plugins"])
    return heads


def readiness(app: Flask) -> Readiness:
    result = Readiness()
    database = app.extensions["portal"].database
    result.checks["database"], result.checks["migrations"] = check_database(database.engine,
                                                                            lambda: expected_heads(app))
    storage = app.config.get("RATELIMIT_STORAGE_URI", "memory://")
    if app.config.get("RATELIMIT_ENABLED", True) and storage.startswith(("redis://", "rediss://")):
        result.checks["redis"] = timed(lambda: check_redis(storage))
    return result
