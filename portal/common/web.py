"""Request-side helpers shared by every blueprint: the request's database session,
the portal's services, and rendering one template as a full page or an htmx fragment."""

from __future__ import annotations

from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Iterator
from urllib.parse import urlsplit

from flask import current_app, g, make_response, render_template, request
from sqlalchemy.exc import DBAPIError
from sqlmodel import Session

from portal.accounts.passwords import Hasher
from portal.accounts.services import TokenLifetimes
from portal.common.clock import Clock
from portal.common.db import Database, is_unavailable
from portal.common.storage import DatabaseStorage
from portal.mail.services import Mailer


@dataclass
class Services:
    """Everything a view hands to the services; built once by create_app."""

    database: Database
    clock: Clock
    hasher: Hasher
    mailer: Mailer
    storage: DatabaseStorage
    lifetimes: TokenLifetimes
    session_idle: timedelta
    remember_for: timedelta


def services() -> Services:
    return current_app.extensions["portal"]


def db() -> Session:
    """The request's database session, opened on first use and closed at teardown."""
    if "db_session" not in g:
        g.db_session = services().database.session()
    return g.db_session


def close_db(_error=None) -> None:
    session = g.pop("db_session", None)
    if session is not None:
        try:
            session.close()
        except DBAPIError as error:
            # The database went away after the page was made (a restart): the rollback has
            # nothing to undo, so drop the dead connection and let the response stand.
            if not is_unavailable(error):
                raise
            session.invalidate()


@contextmanager
def writing() -> Iterator[Session]:
    """A session whose transactions take the write lock at once (BEGIN IMMEDIATE on SQLite),
    for writes that must not race. Afterwards the request's own session starts a new read,
    so it sees what was just written (SQLite keeps a read snapshot until it ends)."""
    if "db_session" in g:
        # Give the request's read connection back first: a request holding one connection
        # while waiting for a second could starve the pool under a burst. Commit, not
        # rollback: sessions keep their objects on commit, so nothing reloads mid-write.
        g.db_session.commit()
    with services().database.write_session() as session:
        yield session
    if "db_session" in g:
        g.db_session.rollback()


def now() -> datetime:
    return services().clock.now()


# Every request header that decides between a page and a fragment: a cache (the browser's
# own, on Back) must keep one copy per combination.
HTMX_VARY = ("HX-Request", "HX-Boosted", "HX-History-Restore-Request")


def is_htmx() -> bool:
    """An htmx request that wants a fragment. A boosted link and a history restore (Back after
    an htmx swap, when htmx's history cache misses) both want the whole page."""
    headers = request.headers
    return (headers.get("HX-Request") == "true" and headers.get("HX-Boosted") != "true"
            and headers.get("HX-History-Restore-Request") != "true")


def render(template: str, status: int = 200, **context):
    """Render a page template; for htmx requests its layout is the bare fragment."""
    layout = "layouts/fragment.html" if is_htmx() else "layouts/base.html"
    response = make_response(render_template(template, layout=layout, **context), status)
    response.vary.update(HTMX_VARY)
    return response


def render_page_or_fragment(page: str, fragment: str, target: str, **context):
    """An htmx request aimed at `target` gets only the fragment the page itself includes
    there; any other request gets the whole page. Either way the response varies on the htmx headers."""
    if is_htmx() and request.headers.get("HX-Target") == target:
        response = make_response(render_template(fragment, **context))
    else:
        response = render(page, **context)
    response.vary.update((*HTMX_VARY, "HX-Target"))
    return response


def safe_next(target: str | None, default: str) -> str:
    """Keep `next` redirects on this site: only a local path, never a host or scheme."""
    if not target or len(target) > 500:
        return default
    target = target.strip()
    if "\\" in target or any(ord(c) < 32 for c in target):
        return default
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return default
    return target
