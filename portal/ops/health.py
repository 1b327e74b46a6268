"""Readiness: each dependency the portal needs, checked quickly, with what is wrong in words.

`/readyz` answers 200 when every check passes and 503 (with Retry-After) naming the ones
that do not. No Flask here: the view passes in what to check.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import datetime
from typing import Callable

from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlalchemy.exc import SQLAlchemyError


@dataclass
class Check:
    ok: bool
    detail: str
    ms: float = 0.0


@dataclass
class Readiness:
    checks: dict[str, Check] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return all(check.ok for check in self.checks.values())

    def as_json(self) -> dict:
        return {"status": "ok" if self.ok else "unavailable",
                "checks": {name: {"ok": c.ok, "detail": c.detail, "ms": round(c.ms, 1)}
                           for name, c in self.checks.items()}}


def timed(run: Callable[[], Check]) -> Check:
    started = time.perf_counter()
    check = run()
    check.ms = (time.perf_counter() - started) * 1000
    return check


def check_database(engine: Engine, expected_heads: Callable[[], frozenset[str]]) -> tuple[Check, Check]:
    """The database answers, and its migrations are the ones this code expects."""
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
            try:
                current = frozenset(row[0] for row in connection.execute(text("SELECT version_num FROM alembic_version")))
            except SQLAlchemyError:
                current = frozenset()
    except SQLAlchemyError as error:
        reason = str(getattr(error, "orig", None) or error).strip().splitlines()[0][:200]
        return Check(False, f"unreachable: {reason}"), Check(False, "unknown: the database is unreachable")
    heads = expected_heads()
    if current == heads:
        return Check(True, "answers"), Check(True, "at " + ", ".join(sorted(heads)))
    missing = sorted(heads - current)
    if not current:
        return Check(True, "answers"), Check(False, "not migrated: run `portal db upgrade`")
    return Check(True, "answers"), Check(False, f"at {', '.join(sorted(current))}, expected "
                                                 f"{', '.join(sorted(heads))}: run `portal db upgrade`"
                                                 + ("" if missing else " (the database is newer than this code)"))


def check_redis(url: str) -> Check:
    import redis

    client = redis.Redis.from_url(url, socket_connect_timeout=0.5, socket_timeout=0.5)
    try:
        client.ping()
    except redis.RedisError as error:
        return Check(False, f"unreachable: {error}; rate limits are counted per process meanwhile")
    finally:
        client.close()
    return Check(True, "answers")


def check_mail_sender(last_beat: datetime | None, now: datetime, max_silence_seconds: int,
                      detail: str = "") -> Check:
    """The mail sender writes a heartbeat on every pass; silence means it is dead or stuck."""
    if last_beat is None:
        return Check(False, "no mail sender has ever run: start `portal mail send --watch` (or `portal serve`)")
    age = (now - last_beat).total_seconds()
    if age > max_silence_seconds:
        return Check(False, f"last heartbeat {int(age)} s ago (allowed {max_silence_seconds} s)"
                            + (f"; {detail}" if detail else ""))
    return Check(True, f"heartbeat {int(age)} s ago" + (f"; {detail}" if detail else ""))
