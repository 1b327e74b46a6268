"""Shared set-up for the agencies plugin tests: agencies, members, awards and SROs written
straight to the database (the tests that are about a page go through the page instead),
and small readers for what the pages and the database hold afterwards."""

from __future__ import annotations

import html
import re
from html.parser import HTMLParser
from datetime import date, timedelta
from decimal import Decimal

from sqlalchemy import text
from sqlmodel import select

from portal_agencies import services as agencies
from portal_agencies.models import (Agency, AgencyInvite, AgencyMember, ChpAward, ReminderSent,
                                    SchoolResourceOfficer, TravelExpense)
from tests.helpers import get_user, log_in, make_user, services

# The frozen clock of tests/conftest.py: 2026-06-15 14:00 UTC is 10:00 in New York.
TODAY = date(2026, 6, 15)

AGENCY_TABLES = ("agency", "agency_member", "agency_invite", "chp_award", "chp_sro", "chp_travel_expense",
                 "chp_reminder_sent", "agency_change", "agency_join_request")

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + bytes(range(64))
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + bytes(range(40)) + b"\xff\xd9"


def now(app):
    return services(app).clock.now()


def signed_in(app, email):
    client = app.test_client()
    response = log_in(client, email)
    assert response.status_code == 302, response.get_data(as_text=True)[:300]
    return client


def new_agency(app, name="Elm City Police Department", coordinator="coord@example.gov",
               coordinator_name="Lt. Coordinator", program_manager="pm@cops.example.gov") -> int:
    """An agency and its coordinator (an account made first, confirmed), as an admin would make it."""
    user = get_user(app, coordinator) or make_user(app, email=coordinator, name=coordinator_name)
    with services(app).database.session() as db:
        agency = agencies.create_agency(db, name, db.merge(user), now(app), program_manager)
        return agency.id


def add_member(app, agency_id, email, name="Ofc. Rivera", role="officer", **user_args) -> int:
    user = get_user(app, email) or make_user(app, email=email, name=name, **user_args)
    with services(app).database.session() as db:
        member = AgencyMember(agency_id=agency_id, user_id=user.id, role=role, joined_at=now(app))
        db.add(member)
        db.commit()
        return member.id


def add_award(app, agency_id, number="2026-UL-WX-0042", award_date=date(2026, 3, 2), funded=2,
              mou=None) -> int:
    with services(app).database.session() as db:
        award = ChpAward(agency_id=agency_id, award_number=number, award_date=award_date, funded_positions=funded,
                         mou_submitted_on=mou, created_at=now(app))
        db.add(award)
        db.commit()
        return award.id


def add_sro(app, award_id, name="Ofc. Dana Park", role="initial", **dates) -> int:
    with services(app).database.session() as db:
        sro = SchoolResourceOfficer(award_id=award_id, name=name, role=role, created_at=now(app), **dates)
        db.add(sro)
        db.commit()
        return sro.id


def add_expense(app, sro_id, amount="100.00", category="lodging", description="Hotel",
                incurred_on=date(2026, 6, 1)) -> int:
    with services(app).database.session() as db:
        expense = TravelExpense(sro_id=sro_id, category=category, description=description,
                                incurred_on=incurred_on, amount=Decimal(amount))
        db.add(expense)
        db.commit()
        return expense.id


def add_invite(app, agency_id, by_email="coord@example.gov") -> tuple[int, str]:
    """An invitation made the way the members page makes one; returns its id and token."""
    by = get_user(app, by_email)
    with services(app).database.session() as db:
        token = agencies.create_invite(db, db.get(Agency, agency_id), by.id if by else None, now(app))
        invite = db.exec(select(AgencyInvite).where(AgencyInvite.agency_id == agency_id)
                         .order_by(AgencyInvite.id.desc())).first()
        return invite.id, token


def attach_certificate(app, agency_id, sro_id, data=PDF, content_type="application/pdf", ext=".pdf") -> str:
    key = f"agencies/{agency_id}/sro/{sro_id}/certificate{ext}"
    with services(app).database.session() as db:
        services(app).storage.put(db, key, data, content_type, now(app))
        sro = db.get(SchoolResourceOfficer, sro_id)
        sro.certificate_key, sro.certificate_filename = key, f"nasro-certificate-{sro_id}{ext}"
        db.add(sro)
        db.commit()
    return key


# -- reading back -------------------------------------------------------------

def rows(app, model, **where) -> list:
    with services(app).database.session() as db:
        statement = select(model)
        for name, value in where.items():
            statement = statement.where(getattr(model, name) == value)
        return list(db.exec(statement.order_by(model.id)).all())


def get(app, model, id_):
    with services(app).database.session() as db:
        return db.get(model, id_)


def member_of(app, email) -> AgencyMember | None:
    user = get_user(app, email)
    with services(app).database.session() as db:
        return agencies.membership_of_user_id(db, user.id)


def agency_state(app) -> dict[str, list[tuple]]:
    """Every row of every agency table, and of the stored files and outbox: what a refused
    request must leave exactly as it was."""
    tables = (*AGENCY_TABLES, "stored_file", "mail_outbox")
    state = {}
    with services(app).database.engine.connect() as connection:
        for table in tables:
            result = connection.execute(text(f'SELECT * FROM "{table}"'))
            state[table] = sorted(repr(tuple(row)) for row in result)
    return state


def count(app, table) -> int:
    with services(app).database.engine.connect() as connection:
        return connection.execute(text(f'SELECT COUNT(*) FROM "{table}"')).scalar_one()


def page_text(response) -> str:
    """The page's visible text, tags removed and entities decoded, spaces collapsed."""
    body = response.get_data(as_text=True)
    body = re.sub(r"<(script|style)\b.*?</\1>", " ", body, flags=re.S)
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", body)).split())


def flashes(client) -> str:
    """The text of the next page a redirect leads to (where the flash is shown)."""
    return page_text(client.get("/agencies/"))


def field_error(response, field: str) -> str:
    """The error message shown under the form field `field` ("" when it has none)."""
    body = response.get_data(as_text=True)
    match = re.search(r'<p class="error" id="' + re.escape(field) + r'-error">(.*?)</p>', body, flags=re.S)
    return " ".join(html.unescape(match.group(1)).split()) if match else ""


def form_error(response) -> str:
    """The text of the form's error summary ("" when there is none)."""
    body = response.get_data(as_text=True)
    match = re.search(r'<div class="error-summary" role="alert">(.*?)</div>', body, flags=re.S)
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", match.group(1))).split()) if match else ""


class _Tables(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.tables: list[list[tuple[str, list[str]]]] = []
        self._row: list[str] | None = None
        self._cell: list[str] | None = None
        self._row_class = ""

    def handle_starttag(self, tag, attrs):
        if tag == "table":
            self.tables.append([])
        elif tag == "tr" and self.tables:
            self._row, self._row_class = [], dict(attrs).get("class") or ""
        elif tag in ("td", "th") and self._row is not None:
            self._cell = []

    def handle_endtag(self, tag):
        if tag in ("td", "th") and self._cell is not None:
            self._row.append(" ".join("".join(self._cell).split()))
            self._cell = None
        elif tag == "tr" and self._row is not None:
            self.tables[-1].append((self._row_class, self._row))
            self._row = None

    def handle_data(self, data):
        if self._cell is not None:
            self._cell.append(data)


def table_rows(response, table: int = 0, with_class: bool = False) -> list:
    """The rows of the page's `table`-th table, each a list of its cells' text (header row
    included); with_class, (class of the <tr>, cells) pairs."""
    parser = _Tables()
    parser.feed(response.get_data(as_text=True))
    found = parser.tables[table]
    return found if with_class else [cells for _, cells in found]


def days(n: int) -> timedelta:
    return timedelta(days=n)


__all__ = ["Agency", "AgencyInvite", "AgencyMember", "ChpAward", "ReminderSent", "SchoolResourceOfficer",
           "TravelExpense"]
