"""Who can reach an agency's pages. Only the agency's coordinators; everyone else signed in
gets the same plain 404 as for an agency that does not exist (nothing about the agency in
it), anonymous visitors are sent to log in, one agency's records cannot be reached through
another agency's address, huge ids are 404s, and forms without a CSRF token change nothing."""

from __future__ import annotations

import io
import re
from datetime import date
from urllib.parse import parse_qs, urlsplit

import pytest

from tests.agencies.support import (PDF, AgencyInvite, AgencyMember, add_award, add_expense, add_invite, add_member,
                                    add_sro, agency_state, attach_certificate, get, new_agency, signed_in)
from tests.helpers import csrf_token, make_user, without_csrf

ELM = "Elm City Police Department"
# What must never show on a page for someone who is not Elm's coordinator.
ELM_SECRETS = (ELM, "2026-UL-WX-0042", "Ofc. Dana Park", "Ofc. Lee Grant", "Ofc. Rivera", "officer@example.gov",
               "pm@cops.example.gov", "Mileage")
MISSING = 999999

ROSTER = (b"officer,award_number,award_date,hire_date,role,placement_date,training_completed,expenses_submitted\n"
          b"J. Smith,2026-UL-WX-0042,2026-03-02,2026-04-15,initial,,,\n")


def sro_form(**more):
    return {"name": "Ofc. Changed", "role": "initial", "hire_date": "2026-04-15", "placement_date": "",
            "training_completed": "2026-06-01", "expenses_submitted": "", **more}


# name, method, path, form data (a function, so files are fresh for every request)
PAGES = [
    ("dashboard", "GET", "/agencies/{agency}", None),
    ("members", "GET", "/agencies/{agency}/members", None),
    ("new award form", "GET", "/agencies/{agency}/awards/new", None),
    ("award", "GET", "/agencies/{agency}/awards/{award}", None),
    ("new SRO form", "GET", "/agencies/{agency}/awards/{award}/sros/new", None),
    ("SRO", "GET", "/agencies/{agency}/sros/{sro}", None),
    ("claim", "GET", "/agencies/{agency}/sros/{sro}/claim", None),
    ("claim PDF", "GET", "/agencies/{agency}/sros/{sro}/claim.pdf", None),
    ("certificate", "GET", "/agencies/{agency}/sros/{sro}/certificate", None),
    ("certificate mail", "GET", "/agencies/{agency}/sros/{sro}/certificate-mail.eml", None),
    ("roster export", "GET", "/agencies/{agency}/roster/export.csv", None),
    ("create invite", "POST", "/agencies/{agency}/invites", lambda: {}),
    ("withdraw invite", "POST", "/agencies/{agency}/invites/{invite}/revoke", lambda: {}),
    ("change role", "POST", "/agencies/{agency}/members/{member}/role", lambda: {"role": "coordinator"}),
    ("roster import", "POST", "/agencies/{agency}/roster/import",
     lambda: {"as_of": "2026-06-15", "roster": (io.BytesIO(ROSTER), "roster.csv", "text/csv")}),
    ("add award", "POST", "/agencies/{agency}/awards/new",
     lambda: {"award_number": "NEW-1", "award_date": "2026-04-01", "funded_positions": "1", "mou_submitted_on": ""}),
    ("save MOU", "POST", "/agencies/{agency}/awards/{award}", lambda: {"mou_submitted_on": "2026-05-01"}),
    ("add SRO", "POST", "/agencies/{agency}/awards/{award}/sros/new",
     lambda: sro_form(role="backfill", placement_date="2026-05-01")),
    ("edit SRO", "POST", "/agencies/{agency}/sros/{sro}", lambda: sro_form()),
    ("upload certificate", "POST", "/agencies/{agency}/sros/{sro}",
     lambda: {**sro_form(name="Ofc. Dana Park"),
              "certificate": (io.BytesIO(PDF + b"new"), "c.pdf", "application/pdf")}),
    ("add expense", "POST", "/agencies/{agency}/sros/{sro}/claim",
     lambda: {"category": "lodging", "description": "Hotel", "incurred_on": "2026-06-01", "amount": "50.00"}),
    ("remove expense", "POST", "/agencies/{agency}/sros/{sro}/claim/{expense}/delete", lambda: {}),
]


@pytest.fixture
def world(frozen_app):
    """Elm (coordinator, officer, award, two SROs, certificate, expense, invitation), Oak with
    its own records, a plain learner and an administrator."""
    elm = new_agency(frozen_app)
    officer_member = add_member(frozen_app, elm, "officer@example.gov", name="Ofc. Rivera")
    award = add_award(frozen_app, elm)
    sro = add_sro(frozen_app, award, name="Ofc. Dana Park", hire_date=date(2026, 4, 15),
                  training_completed=date(2026, 6, 1))
    add_sro(frozen_app, award, name="Ofc. Lee Grant", role="backfill", placement_date=date(2026, 5, 1))
    attach_certificate(frozen_app, elm, sro)
    expense = add_expense(frozen_app, sro, "212.40", "transportation", "Mileage to the academy")
    invite, _ = add_invite(frozen_app, elm)
    oak = new_agency(frozen_app, name="Oak County Sheriff", coordinator="oak@example.gov",
                     coordinator_name="Capt. Oak", program_manager="oak-pm@cops.example.gov")
    oak_award = add_award(frozen_app, oak, number="OAK-1")
    oak_sro = add_sro(frozen_app, oak_award, name="Dep. Oakley", training_completed=date(2026, 6, 1))
    attach_certificate(frozen_app, oak, oak_sro)
    oak_expense = add_expense(frozen_app, oak_sro, "10.00", "mie", "Lunch")
    oak_invite, _ = add_invite(frozen_app, oak, by_email="oak@example.gov")
    oak_member = add_member(frozen_app, oak, "deputy@example.gov", name="Dep. Deputy")
    make_user(frozen_app, email="learner@example.gov", name="Pat Learner")
    make_user(frozen_app, email="admin@example.gov", name="Ada Admin", roles=("admin",))
    return {
        "elm": dict(agency=elm, award=award, sro=sro, expense=expense, invite=invite, member=officer_member),
        "oak": dict(agency=oak, award=oak_award, sro=oak_sro, expense=oak_expense, invite=oak_invite,
                    member=oak_member),
    }


def request(client, method, path, data_factory, with_csrf=True):
    if method == "GET":
        return client.get(path)
    data = dict(data_factory())
    if with_csrf:
        data["csrf_token"] = csrf_token(client, "/account/profile") if _signed_in(client) else \
            csrf_token(client, "/account/login")
    return client.post(path, data=data, content_type="multipart/form-data")


def _signed_in(client) -> bool:
    return "Log out" in client.get("/account/profile").get_data(as_text=True)


def body(response) -> str:
    return without_csrf(response.get_data(as_text=True))


def leaks(response) -> list[str]:
    """Which of Elm's names the response shows, outside the page header (where a signed-in
    officer sees their own name)."""
    text = response.get_data(as_text=True)
    main = re.search(r"<main\b.*?</main>", text, flags=re.S)
    shown = main.group(0) if main else text
    return [secret for secret in ELM_SECRETS if secret in shown]


def every(pages, check) -> None:
    """Run `check` on every page and report all the pages that fail, not just the first."""
    failures = []
    for page in pages:
        try:
            check(*page)
        except AssertionError as error:
            failures.append(f"{page[0]} ({page[1]} {page[2]}): {' '.join(str(error).split())[:300]}")
    assert not failures, "\n".join(failures)


# -- the coordinator reaches every page (so the refusals below mean something) -----------

def test_the_agencys_coordinator_reaches_every_page(frozen_app, world):
    client = signed_in(frozen_app, "coord@example.gov")

    def check(name, method, path, data):
        response = request(client, method, path.format(**world["elm"]), data)
        assert response.status_code == (200 if method == "GET" or name == "roster import" else 303), \
            response.get_data(as_text=True)[:400]

    every(PAGES, check)


# -- everyone else signed in: the same 404 as a missing agency ------------------------

@pytest.mark.parametrize("who", ["officer@example.gov", "oak@example.gov", "learner@example.gov",
                                 "admin@example.gov"],
                         ids=["officer of the agency", "coordinator of another agency", "learner", "admin"])
def test_others_get_the_same_404_as_for_a_missing_agency(frozen_app, world, who):
    client = signed_in(frozen_app, who)

    def check(name, method, path, data):
        before = agency_state(frozen_app)
        real = request(client, method, path.format(**world["elm"]), data)
        missing = request(client, method, path.format(**{**world["elm"], "agency": MISSING}), data)
        assert agency_state(frozen_app) == before, "something was written"
        assert (real.status_code, missing.status_code) == (404, 404)
        assert body(real) == body(missing), "the page differs from a missing agency's"
        assert leaks(real) == []

    every(PAGES, check)


# -- anonymous visitors: sent to log in --------------------------------------------------

def test_anonymous_visitors_are_sent_to_log_in(frozen_app, world):
    client = frozen_app.test_client()

    def check(name, method, path, data):
        before = agency_state(frozen_app)
        target = path.format(**world["elm"])
        response = request(client, method, target, data)
        assert agency_state(frozen_app) == before, "something was written"
        assert response.status_code == 302
        location = urlsplit(response.headers["Location"])
        assert location.path == "/account/login"
        assert parse_qs(location.query)["next"] == [target]
        # the same answer as for an agency that does not exist: nothing tells them Elm is there
        other = request(client, method, path.format(**{**world["elm"], "agency": MISSING}), data)
        assert other.status_code == 302
        assert leaks(response) == []

    every(PAGES, check)


# -- one agency's records through another agency's address ---------------------------

CROSS = [
    ("award", "GET", "/agencies/{oak}/awards/{award}", None),
    ("save MOU", "POST", "/agencies/{oak}/awards/{award}", lambda: {"mou_submitted_on": "2026-05-01"}),
    ("new SRO form", "GET", "/agencies/{oak}/awards/{award}/sros/new", None),
    ("add SRO", "POST", "/agencies/{oak}/awards/{award}/sros/new",
     lambda: sro_form(role="backfill", placement_date="2026-05-01")),
    ("SRO", "GET", "/agencies/{oak}/sros/{sro}", None),
    ("edit SRO", "POST", "/agencies/{oak}/sros/{sro}", lambda: sro_form()),
    ("claim", "GET", "/agencies/{oak}/sros/{sro}/claim", None),
    ("add expense", "POST", "/agencies/{oak}/sros/{sro}/claim",
     lambda: {"category": "lodging", "description": "Hotel", "incurred_on": "2026-06-01", "amount": "50.00"}),
    ("claim PDF", "GET", "/agencies/{oak}/sros/{sro}/claim.pdf", None),
    ("certificate", "GET", "/agencies/{oak}/sros/{sro}/certificate", None),
    ("certificate mail", "GET", "/agencies/{oak}/sros/{sro}/certificate-mail.eml", None),
    ("remove expense via Elm's SRO", "POST", "/agencies/{oak}/sros/{sro}/claim/{expense}/delete", lambda: {}),
    ("remove Elm's expense via Oak's SRO", "POST", "/agencies/{oak}/sros/{oak_sro}/claim/{expense}/delete",
     lambda: {}),
    ("withdraw Elm's invite", "POST", "/agencies/{oak}/invites/{invite}/revoke", lambda: {}),
    ("change Elm's member's role", "POST", "/agencies/{oak}/members/{member}/role", lambda: {"role": "coordinator"}),
]


def test_elms_records_cannot_be_reached_through_oaks_address(frozen_app, world):
    client = signed_in(frozen_app, "oak@example.gov")
    ids = {**world["elm"], "oak": world["oak"]["agency"], "oak_sro": world["oak"]["sro"]}
    missing = {key: (MISSING if key in ("award", "sro", "expense", "invite", "member") else value)
               for key, value in ids.items()}
    own = {**world["oak"], "oak": world["oak"]["agency"], "oak_sro": world["oak"]["sro"]}

    def check(name, method, path, data):
        before = agency_state(frozen_app)
        response = request(client, method, path.format(**ids), data)
        assert agency_state(frozen_app) == before, "something was written"
        assert response.status_code == 404
        assert leaks(response) == []
        # exactly as for an id that does not exist at all
        assert body(response) == body(request(client, method, path.format(**missing), data))
        # and Oak's own records answer at the same kind of address (the 404 is about Elm's ids)
        if method == "GET":
            assert request(client, method, path.format(**own), data).status_code == 200

    every(CROSS, check)


def test_nothing_of_elms_changed_hands(frozen_app, world):
    """After every cross-agency attempt, Elm's invitation still works and its officer is still an officer."""
    client = signed_in(frozen_app, "oak@example.gov")
    ids = {**world["elm"], "oak": world["oak"]["agency"], "oak_sro": world["oak"]["sro"]}
    for name, method, path, data in CROSS:
        request(client, method, path.format(**ids), data)
    assert get(frozen_app, AgencyInvite, world["elm"]["invite"]).revoked_at is None
    assert get(frozen_app, AgencyMember, world["elm"]["member"]).role == "officer"


# -- huge and impossible ids --------------------------------------------------------

HUGE = ["99999999999", "2147483648", "2147483647", "0"]


HUGE_PATHS = [
    ("GET", "/agencies/{huge}"),
    ("GET", "/agencies/{huge}/members"),
    ("GET", "/agencies/{huge}/roster/export.csv"),
    ("GET", "/agencies/{agency}/awards/{huge}"),
    ("GET", "/agencies/{agency}/awards/{huge}/sros/new"),
    ("GET", "/agencies/{agency}/sros/{huge}"),
    ("GET", "/agencies/{agency}/sros/{huge}/claim"),
    ("GET", "/agencies/{agency}/sros/{huge}/claim.pdf"),
    ("GET", "/agencies/{agency}/sros/{huge}/certificate"),
    ("GET", "/agencies/{agency}/sros/{huge}/certificate-mail.eml"),
    ("POST", "/agencies/{huge}/invites"),
    ("POST", "/agencies/{agency}/invites/{huge}/revoke"),
    ("POST", "/agencies/{agency}/members/{huge}/role"),
    ("POST", "/agencies/{agency}/sros/{sro}/claim/{huge}/delete"),
    ("POST", "/agencies/{agency}/sros/{huge}"),
]


@pytest.mark.parametrize("huge", HUGE)
def test_huge_ids_are_not_found(frozen_app, world, huge):
    """As the agency's own coordinator, so that the ids, not the access check, are what is tested."""
    client = signed_in(frozen_app, "coord@example.gov")

    def check(name, method, path):
        before = agency_state(frozen_app)
        response = request(client, method, path.format(huge=huge, **world["elm"]), lambda: {"role": "officer"})
        assert response.status_code == 404
        assert agency_state(frozen_app) == before

    every([(path, method, path) for method, path in HUGE_PATHS], check)


def test_negative_and_non_numeric_ids_are_not_found(frozen_app, world):
    client = signed_in(frozen_app, "coord@example.gov")
    for path in ("/agencies/-1", "/agencies/1.0", "/agencies/abc", f"/agencies/{world['elm']['agency']}/sros/-1",
                 "/agencies/0x1", "/agencies/%201"):
        assert client.get(path).status_code == 404, path


# -- forms without a CSRF token ------------------------------------------------------

def test_a_form_without_its_csrf_token_is_refused_and_changes_nothing(frozen_app, world):
    client = signed_in(frozen_app, "coord@example.gov")

    def check(name, method, path, data):
        before = agency_state(frozen_app)
        response = request(client, method, path.format(**world["elm"]), data, with_csrf=False)
        assert agency_state(frozen_app) == before, "something was written"
        assert response.status_code == 400

    every([p for p in PAGES if p[1] == "POST"], check)


@pytest.mark.parametrize("who, path, data", [
    ("admin@example.gov", "/agencies/create", {"name": "New Agency", "coordinator_email": "learner@example.gov"}),
    ("learner@example.gov", "/agencies/join/{token}", {}),
    ("officer@example.gov", "/agencies/leave", {}),
], ids=["create", "join", "leave"])
def test_the_membership_forms_need_their_csrf_token_too(frozen_app, world, who, path, data):
    _, token = add_invite(frozen_app, world["elm"]["agency"])
    client = signed_in(frozen_app, who)
    before = agency_state(frozen_app)
    response = client.post(path.format(token=token), data=data)
    assert response.status_code == 400
    assert agency_state(frozen_app) == before
    # with the token the same request goes through (so the 400 above was the missing token)
    token_data = {**data, "csrf_token": csrf_token(client, "/account/profile")}
    response = client.post(path.format(token=token), data=token_data)
    assert response.status_code == 303
    assert agency_state(frozen_app) != before


def test_a_token_from_another_session_is_refused(frozen_app, world):
    other = signed_in(frozen_app, "oak@example.gov")
    stolen = csrf_token(other, "/account/profile")
    client = signed_in(frozen_app, "coord@example.gov")
    before = agency_state(frozen_app)
    response = client.post(f"/agencies/{world['elm']['agency']}/invites", data={"csrf_token": stolen})
    assert response.status_code == 400
    assert agency_state(frozen_app) == before


def test_the_404_page_is_the_portals_plain_one(frozen_app, world):
    client = signed_in(frozen_app, "oak@example.gov")
    response = client.get(f"/agencies/{world['elm']['agency']}")
    assert response.status_code == 404
    assert re.search(r"<h1>Page not found</h1>", response.get_data(as_text=True))
