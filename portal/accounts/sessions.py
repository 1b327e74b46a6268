"""Server-side log-in sessions: the cookie carries a random token, the database decides.

Ending a session in the database makes any copy of its cookie worthless.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta

from sqlalchemy import bindparam, func
from sqlalchemy.exc import OperationalError
from sqlmodel import Session, select, update

from portal.accounts.models import LoginSession, User, UserRole

# Writing last_seen on every request would turn every page view into a write.
LAST_SEEN_GRANULARITY = timedelta(minutes=5)
# However busy, a session ends this long after log-in (SESSION_ABSOLUTE_DAYS).
DEFAULT_ABSOLUTE = timedelta(days=30)


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def start_login_session(
    db: Session, user: User, now: datetime, *, remember: bool, idle: timedelta,
    remember_for: timedelta, user_agent: str = "", absolute: timedelta = DEFAULT_ABSOLUTE,
) -> str:
    """Record a new signed-in browser and return its token (shown once, never stored)."""
    token = secrets.token_urlsafe(32)
    db.add(LoginSession(
        token_hash=hash_token(token), user_id=user.id, remember=remember, created_at=now,
        last_seen_at=now, expires_at=now + min(remember_for if remember else idle, absolute),
        user_agent=user_agent[:200],
    ))
    user.last_login_at = now
    db.add(user)
    return token


# Built once, as every signed-in request runs it: building a select costs more than running it.
_ROLES = select(func.aggregate_strings(UserRole.role, ",")).where(UserRole.user_id == User.id).scalar_subquery()
_SESSION_BY_TOKEN = (select(LoginSession, User, _ROLES).join(User, User.id == LoginSession.user_id)
                     .where(LoginSession.token_hash == bindparam("token_hash")))


def resolve_login_session(
    db: Session, token: str, now: datetime, *, idle: timedelta, absolute: timedelta = DEFAULT_ABSOLUTE
) -> tuple[User, LoginSession, set[str]] | None:
    """Find the active user behind a token and their roles, sliding the idle expiry forward,
    never past `absolute` after log-in: a session in constant use still ends then.

    The roles come in the same statement: every signed-in page needs them for its menu."""
    if not token or len(token) > 100:
        return None
    row = db.exec(_SESSION_BY_TOKEN, params={"token_hash": hash_token(token)}).first()
    if row is None:
        return None
    login, user, role_names = row
    if (login.ended_at is not None or login.expires_at <= now or now >= login.created_at + absolute
            or not user.is_active):
        return None
    if now - login.last_seen_at >= LAST_SEEN_GRANULARITY:
        _touch(db, login, now, idle, absolute)
    return user, login, set(role_names.split(",")) if role_names else set()


def _touch(db: Session, login: LoginSession, now: datetime, idle: timedelta, absolute: timedelta) -> None:
    """Slide the idle expiry forward, best effort: a page view must never fail for it.

    The read transaction ends first: on SQLite a write that follows reads fails at once,
    without waiting, if another write committed in between; a fresh transaction waits its
    turn on the busy timeout. If the database stays busy past that, the touch is skipped
    and the next request tries again (it is at most minutes late)."""
    expires_at = min(login.expires_at if login.remember else now + idle, login.created_at + absolute)
    db.commit()
    try:
        db.exec(update(LoginSession).where(LoginSession.id == login.id)
                .values(last_seen_at=now, expires_at=expires_at))
        db.commit()
    except OperationalError:
        db.rollback()


def end_login_session(db: Session, token: str, now: datetime) -> None:
    db.exec(
        update(LoginSession)
        .where(LoginSession.token_hash == hash_token(token), LoginSession.ended_at.is_(None))
        .values(ended_at=now)
    )


def end_all_login_sessions(db: Session, user_id: int, now: datetime, *, keep_token: str | None = None) -> int:
    """End every session of a user (but the one given); returns how many ended."""
    statement = update(LoginSession).where(
        LoginSession.user_id == user_id, LoginSession.ended_at.is_(None)
    )
    if keep_token:
        statement = statement.where(LoginSession.token_hash != hash_token(keep_token))
    return db.exec(statement.values(ended_at=now)).rowcount
