"""Collect the readiness checks for one app: what it is configured to depend on."""

from __future__ import annotations

from flask import Flask

from portal.ops.health import Check, Readiness, check_database, check_mail_sender, check_redis, timed


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
    max_silence = app.config.get("MAIL_SENDER_MAX_SILENCE", 120)
    if max_silence and result.checks["migrations"].ok:
        result.checks["mail_sender"] = timed(lambda: mail_sender_check(app, max_silence))
    return result


def mail_sender_check(app: Flask, max_silence: int) -> Check:
    """A sender that has run must keep beating; one that never ran matters once mail waits."""
    from sqlalchemy.exc import SQLAlchemyError

    from portal.mail.services import latest_heartbeat, oldest_waiting

    s = app.extensions["portal"]
    now = s.clock.now()
    try:
        with s.database.session() as db:
            beat = latest_heartbeat(db)
            waiting_since = oldest_waiting(db)
    except SQLAlchemyError as error:
        return Check(False, f"unknown: {type(error).__name__}")
    if beat is None and (waiting_since is None or (now - waiting_since).total_seconds() <= max_silence):
        return Check(True, "no sender has run yet; nothing has waited long")
    check = check_mail_sender(beat.beat_at if beat else None, now, max_silence)
    if check.ok and beat.problem:
        return Check(False, beat.problem)
    if waiting_since is not None:
        waited = int((now - waiting_since).total_seconds())
        check.detail += f"; oldest waiting mail queued {waited} s ago"
        if check.ok and waited > max_silence:
            # The sender is alive but mail is not going out (the mail server is down or slow).
            return Check(False, "mail is not going out: " + check.detail)
    return check
