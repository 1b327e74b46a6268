"""One-line helpers for tests: make users, log in, read the outbox, submit forms with CSRF."""

from __future__ import annotations

import re
from datetime import UTC, datetime

from sqlmodel import select

from portal.accounts.models import User, UserRole
from portal.mail.models import OutboxMessage

PASSWORD = "correct horse battery staple"
_CSRF = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"|name="csrf_token" value="([^"]+)"')


def services(app):
    return app.extensions["portal"]


def make_user(app, email="learner@example.gov", name="Pat Learner", password=PASSWORD, verified=True,
              roles=(), active=True, agency=None) -> User:
    s = services(app)
    now = s.clock.now()
    with s.database.session() as db:
        user = User(email=email.lower(), name=name, agency=agency, password_hash=s.hasher.hash(password),
                    created_at=now, password_changed_at=now, email_verified_at=now if verified else None,
                    is_active=active)
        db.add(user)
        db.flush()
        for role in roles:
            db.add(UserRole(user_id=user.id, role=role, granted_at=now))
        db.commit()
        return user


def get_user(app, email) -> User | None:
    with services(app).database.session() as db:
        return db.exec(select(User).where(User.email == email.lower())).first()


def csrf_token(client, path: str) -> str:
    page = client.get(path).get_data(as_text=True)
    match = _CSRF.search(page)
    assert match, f"no CSRF token on {path}"
    return match.group(1) or match.group(2)


def submit(client, path: str, data: dict, form_page: str | None = None, **kwargs):
    """POST a form the way a browser would: with the CSRF token of the page it is on."""
    token = csrf_token(client, form_page or path)
    return client.post(path, data={"csrf_token": token, **data}, **kwargs)


def log_in(client, email="learner@example.gov", password=PASSWORD, remember=False):
    data = {"email": email, "password": password}
    if remember:
        data["remember"] = "y"
    return submit(client, "/account/login", data)


def outbox(app, to: str | None = None) -> list[OutboxMessage]:
    with services(app).database.session() as db:
        statement = select(OutboxMessage).order_by(OutboxMessage.id)
        if to:
            statement = statement.where(OutboxMessage.to_address == to)
        return list(db.exec(statement).all())


def link_in(body: str, path_prefix: str) -> str:
    """The path of the first link in a mail body that starts with path_prefix."""
    match = re.search(r"https?://[^/\s]+(" + re.escape(path_prefix) + r"\S*)", body)
    assert match, f"no {path_prefix} link in:\n{body}"
    return match.group(1)


def utc(*args) -> datetime:
    return datetime(*args, tzinfo=UTC)


# -- more helpers for the foundation suite -------------------------------------

_CSRF_VALUE = re.compile(r'(name="csrf_token"[^>]*?value=")[^"]*(")|("X-CSRFToken": ")[^"]*(")')


def without_csrf(html: str) -> str:
    """A page with its CSRF tokens blanked, so two pages can be compared byte for byte."""
    return _CSRF_VALUE.sub(lambda m: (m.group(1) or m.group(3)) + "CSRF" + (m.group(2) or m.group(4)), html)


def clone_client(app, client):
    """A second browser holding a copy of every cookie the first one has now."""
    other = app.test_client()
    other._cookies.update(client._cookies)
    return other


def cookie_value(client, name: str) -> str | None:
    cookie = client.get_cookie(name)
    return cookie.value if cookie is not None else None


def session_data(app, client) -> dict:
    """The decoded Flask session of a test client (the signed `portal_session` cookie)."""
    value = cookie_value(client, app.config["SESSION_COOKIE_NAME"])
    if not value:
        return {}
    return dict(app.session_interface.get_signing_serializer(app).loads(value))


def set_cookie_headers(response, name: str) -> list[str]:
    return [h for h in response.headers.getlist("Set-Cookie") if h.startswith(name + "=")]


def table_names(app) -> list[str]:
    from sqlalchemy import inspect

    engine = services(app).database.engine
    return sorted(t for t in inspect(engine).get_table_names() if t != "alembic_version")


def row_counts(app) -> dict[str, int]:
    from sqlalchemy import text

    with services(app).database.engine.connect() as connection:
        return {t: connection.execute(text(f'SELECT COUNT(*) FROM "{t}"')).scalar_one() for t in table_names(app)}


def snapshot(app, ignore: dict[str, set[str]] | None = None) -> dict[str, list[str]]:
    """Every row of every table (minus the ignored columns), for before/after comparisons."""
    from sqlalchemy import text

    ignore = ignore or {}
    result = {}
    with services(app).database.engine.connect() as connection:
        for table in table_names(app):
            rows = connection.execute(text(f'SELECT * FROM "{table}"')).mappings().all()
            skip = ignore.get(table, set())
            result[table] = sorted(repr(sorted((k, v) for k, v in row.items() if k not in skip)) for row in rows)
    return result


def mails(app, to: str | None = None, subject_has: str | None = None) -> list[OutboxMessage]:
    found = outbox(app, to)
    return [m for m in found if subject_has is None or subject_has in m.subject]


def add_role(app, user_id: int, role: str) -> None:
    s = services(app)
    with s.database.session() as db:
        db.add(UserRole(user_id=user_id, role=role, granted_at=s.clock.now()))
        db.commit()


def issue_links(app) -> dict[str, str]:
    """Real verify, reset and change-email links, made the way users get them.

    Creates fresh@example.gov (unverified, via sign-up) and needs learner@example.gov."""
    anonymous = app.test_client()
    submit(anonymous, "/account/signup", {"name": "Fresh Person", "email": "fresh@example.gov", "agency": "",
                                          "password": PASSWORD, "confirm": PASSWORD})
    submit(anonymous, "/account/password/forgot", {"email": "learner@example.gov"})
    learner = app.test_client()
    log_in(learner, "learner@example.gov")
    submit(learner, "/account/profile/email", {"email": "changed@example.gov", "password": PASSWORD})
    submit(learner, "/account/logout", {}, form_page="/account/profile")
    return {
        "verify": link_in(outbox(app, "fresh@example.gov")[-1].body_text, "/account/verify/"),
        "reset": link_in(outbox(app, "learner@example.gov")[-1].body_text, "/account/password/reset/"),
        "confirm_email": link_in(outbox(app, "changed@example.gov")[-1].body_text, "/account/email/confirm/"),
    }


def path_for(app, rule, values: dict) -> str:
    """A URL for a url_map rule, its arguments taken from `values` by name, else simple stand-ins."""
    from werkzeug.routing import IntegerConverter

    args = {}
    for name in rule.arguments:
        if name in values:
            args[name] = values[name]
        elif isinstance(rule._converters.get(name), IntegerConverter):
            args[name] = 1
        else:
            args[name] = "x"
    with app.test_request_context():
        from flask import url_for

        return url_for(rule.endpoint, **args)
