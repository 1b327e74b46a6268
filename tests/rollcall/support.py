"""Shared helpers for the roll-call tests: the bundled series, logging a showing through
the real form, and reading the roll-call tables directly."""

from __future__ import annotations

import csv
import io
import re

from markupsafe import escape
from sqlalchemy import text

from tests.helpers import log_in, make_user, services, submit

SERIES = "rollcall-school-safety"
COURSE = "intro-sro-programs"
IN_PERSON = "inperson-sro-basic"
CSV_HEADER = ["date", "agency", "series", "episode", "officers_present", "portal_accounts_listed", "trainer",
              "notes", "logged_at"]


def series_pack(app):
    pack = app.extensions["packs"].get(SERIES)
    assert pack is not None and pack.kind == "video-series"
    return pack


def episode_ids(app) -> list[str]:
    return [e.id for e in series_pack(app).lessons]


def log_url(episode_id: str, pack_id: str = SERIES) -> str:
    return f"/series/{pack_id}/{episode_id}/log"


def trainer_client(app, email="trainer@example.gov", name="Sgt. Trainer", agency="Elm City PD"):
    """A signed-in client for a new trainer account."""
    user = make_user(app, email=email, name=name, agency=agency)
    client = app.test_client()
    response = log_in(client, email)
    assert response.status_code in (302, 303), response.status_code
    return user, client


def showing_form(**fields) -> dict:
    data = {"shown_on": "2026-06-15", "agency": "Elm City PD", "officers_present": "12", "attendees": "",
            "notes": ""}
    data.update(fields)
    return data


def post_showing(client, episode_id: str, pack_id: str = SERIES, **fields):
    """POST the log form the way a browser would, with a CSRF token from a real page.

    The token comes from the log form of the first episode of the bundled series, so
    that posting to an unknown episode or another pack still carries a valid token."""
    return submit(client, log_url(episode_id, pack_id), showing_form(**fields),
                  form_page=log_url(_first_episode(client)))


def _first_episode(client) -> str:
    pack = client.application.extensions["packs"].get(SERIES)
    return pack.lessons[0].id


def showings(app) -> list[dict]:
    with services(app).database.engine.connect() as connection:
        return [dict(r) for r in connection.execute(text("SELECT * FROM rollcall_showing ORDER BY id")).mappings()]


def attendee_user_ids(app, showing_id: int | None = None) -> list[int]:
    sql = "SELECT user_id FROM rollcall_attendee" + (" WHERE showing_id = :s" if showing_id else "") + \
          " ORDER BY user_id"
    with services(app).database.engine.connect() as connection:
        return [r[0] for r in connection.execute(text(sql), {"s": showing_id} if showing_id else {})]


def rollcall_rows(app) -> dict[str, list]:
    """Every row of both roll-call tables, for before/after comparisons."""
    with services(app).database.engine.connect() as connection:
        return {t: [tuple(r) for r in connection.execute(text(f"SELECT * FROM {t} ORDER BY id"))]
                for t in ("rollcall_showing", "rollcall_attendee")}


def csv_rows(response) -> tuple[list[str], list[dict]]:
    content = response.get_data(as_text=True)
    reader = csv.reader(io.StringIO(content))
    header = next(reader)
    return header, [dict(zip(header, row)) for row in reader]


def has_text(page: str, value: str) -> bool:
    """Whether `value` appears in the page as Jinja would write it (HTML-escaped)."""
    return str(escape(value)) in page


def error_texts(page: str) -> str:
    """The text of the form's error messages (field errors and the summary)."""
    parts = re.findall(r'<p class="error"[^>]*>(.*?)</p>', page, re.S)
    parts += re.findall(r'<div class="error-summary"[^>]*>(.*?)</div>', page, re.S)
    return " ".join(parts)
