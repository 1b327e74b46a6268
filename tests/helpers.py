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
