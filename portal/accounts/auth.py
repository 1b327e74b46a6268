"""Flask-Login wired to server-side sessions, and the access decorators views use."""

from __future__ import annotations

from datetime import timedelta
from functools import wraps

from flask import Flask, abort, current_app, request, session
from flask_login import LoginManager, current_user, login_user, logout_user

from portal.accounts.models import User
from portal.accounts.services import roles_of
from portal.accounts.sessions import end_login_session, resolve_login_session, start_login_session
from portal.common.web import db, now, services

login_manager = LoginManager()
login_manager.login_view = "accounts.login"
login_manager.login_message = "Please log in to see that page."
login_manager.login_message_category = "info"
login_manager.session_protection = None  # server-side sessions do this job


class SignedInUser:
    """The user of this request, with the token of their log-in session.

    `get_id()` returns the session token, so Flask-Login's cookies carry that
    token, never the user id, and ending the session in the database ends them.
    """

    is_authenticated = True
    is_active = True
    is_anonymous = False

    def __init__(self, user: User, token: str, roles: set[str] | None = None):
        self.user, self.token = user, token
        self._roles: set[str] | None = roles

    def get_id(self) -> str:
        return self.token

    def __getattr__(self, name):
        return getattr(self.user, name)

    @property
    def roles(self) -> set[str]:
        if self._roles is None:
            self._roles = roles_of(db(), self.user.id)
        return self._roles

    def has_role(self, *roles: str) -> bool:
        return bool(self.roles & set(roles))


@login_manager.user_loader
def _load_user(token: str) -> SignedInUser | None:
    found = resolve_login_session(db(), token, now(), idle=services().session_idle, absolute=_absolute())
    if not found:
        return None
    user, _login, roles = found
    return SignedInUser(user, token, roles)


def _absolute() -> timedelta:
    """SESSION_ABSOLUTE_DAYS: the most a log-in session lives, however busy."""
    return timedelta(days=current_app.config["SESSION_ABSOLUTE_DAYS"])


def sign_in(user: User, remember: bool) -> None:
    """Start a fresh session: a new identifier, and nothing kept from before log-in."""
    # End the read transaction first. On SQLite a write that follows reads fails at once,
    # without waiting, if another log-in committed in between; a write that starts its
    # own transaction waits its turn on the busy timeout.
    db().commit()
    token = start_login_session(
        db(), user, now(), remember=remember, idle=services().session_idle,
        remember_for=services().remember_for, absolute=_absolute(),
        user_agent=request.headers.get("User-Agent", ""),
    )
    db().commit()
    # Cleared only once the log-in is saved: if saving fails (the database is busy or
    # restarting), the browser keeps its session and form token, so trying again works.
    session.clear()
    login_user(SignedInUser(user, token), remember=remember, duration=services().remember_for)


def sign_out() -> None:
    if current_user.is_authenticated:
        end_login_session(db(), current_user.token, now())
        db().commit()
    session.clear()
    logout_user()  # after clear(): it leaves the flag that deletes the remember cookie


def role_required(*roles: str):
    """Signed in with one of these roles; others get 403, visitors go to log-in."""
    def decorator(view):
        @wraps(view)
        def wrapper(*args, **kwargs):
            if not current_user.is_authenticated:
                return login_manager.unauthorized()
            if not current_user.has_role(*roles):
                abort(403)
            return view(*args, **kwargs)
        return wrapper
    return decorator


def init_app(app: Flask) -> None:
    login_manager.init_app(app)
