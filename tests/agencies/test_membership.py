"""Agencies and their members: administrators create agencies; officers join with an
invitation link on the account they made themselves; members leave; an agency always keeps a
coordinator; the members page shows each member's training."""

from __future__ import annotations

import re
from datetime import date, timedelta
from urllib.parse import parse_qs, urlsplit

import pytest

from portal.certificates.models import Certificate
from portal.learning.models import Enrollment
from tests.agencies.support import (Agency, AgencyInvite, AgencyMember, add_invite, add_member, agency_state, count,
                                    get, member_of, new_agency, page_text, rows, signed_in,
                                    table_rows)
from tests.helpers import PASSWORD, csrf_token, get_user, link_in, make_user, outbox, services, submit, utc

ELM = "Elm City Police Department"


@pytest.fixture
def admin(frozen_app):
    make_user(frozen_app, email="admin@example.gov", name="Ada Admin", roles=("admin",))
    return signed_in(frozen_app, "admin@example.gov")


def create(client, name=ELM, coordinator="coord@example.gov", program_manager="PM@cops.example.gov"):
    return submit(client, "/agencies/create", {"name": name, "coordinator_email": coordinator,
                                               "program_manager_email": program_manager}, form_page="/agencies/")


# -- creating agencies ----------------------------------------------------------

def test_an_admin_creates_an_agency_with_a_confirmed_coordinator(frozen_app, admin):
    coordinator = make_user(frozen_app, email="coord@example.gov", name="Lt. Coordinator")
    response = create(admin)
    assert response.status_code == 303
    assert urlsplit(response.headers["Location"]).path == "/agencies/"
    assert f"{ELM} was created with coord@example.gov as its coordinator." in page_text(admin.get("/agencies/"))
    [agency] = rows(frozen_app, Agency)
    assert agency.name == ELM
    assert agency.chp_program_manager_email == "pm@cops.example.gov"
    [member] = rows(frozen_app, AgencyMember)
    assert (member.agency_id, member.user_id, member.role) == (agency.id, coordinator.id, "coordinator")
    # the admin sees the agency listed; the coordinator lands on its dashboard
    assert ELM in page_text(admin.get("/agencies/"))
    coord = signed_in(frozen_app, "coord@example.gov")
    assert urlsplit(coord.get("/agencies/").headers["Location"]).path == f"/agencies/{agency.id}"


@pytest.mark.parametrize("who", ["learner", "coordinator", "officer"])
def test_only_admins_create_agencies(frozen_app, who):
    agency_id = new_agency(frozen_app, name="Oak County Sheriff", coordinator="oak@example.gov")
    add_member(frozen_app, agency_id, "officer@example.gov")
    make_user(frozen_app, email="learner@example.gov")
    make_user(frozen_app, email="coord@example.gov", name="Lt. Coordinator")
    email = {"learner": "learner@example.gov", "coordinator": "oak@example.gov",
             "officer": "officer@example.gov"}[who]
    client = signed_in(frozen_app, email)
    before = agency_state(frozen_app)
    response = submit(client, "/agencies/create", {"name": ELM, "coordinator_email": "coord@example.gov"},
                      form_page="/account/profile")
    assert response.status_code == 403
    assert agency_state(frozen_app) == before
    assert "Create an agency" not in page_text(client.get("/agencies/"))


def test_anonymous_visitors_cannot_create_agencies(frozen_app):
    make_user(frozen_app, email="coord@example.gov")
    client = frozen_app.test_client()
    token = csrf_token(client, "/account/login")
    response = client.post("/agencies/create", data={"csrf_token": token, "name": ELM,
                                                     "coordinator_email": "coord@example.gov"})
    assert response.status_code == 302
    assert urlsplit(response.headers["Location"]).path == "/account/login"
    assert count(frozen_app, "agency") == 0


def test_the_coordinator_must_already_have_an_account(frozen_app, admin):
    response = create(admin, coordinator="nobody@example.gov")
    assert response.status_code == 422
    assert "No account uses that email. The coordinator signs up first." in page_text(response)
    assert count(frozen_app, "agency") == 0 and count(frozen_app, "agency_member") == 0


def test_the_coordinator_account_must_be_confirmed(frozen_app, admin):
    make_user(frozen_app, email="coord@example.gov", verified=False)
    response = create(admin)
    assert response.status_code == 422
    assert "must be active and confirmed" in page_text(response)
    assert count(frozen_app, "agency") == 0 and count(frozen_app, "agency_member") == 0


def test_the_coordinator_account_must_be_active(frozen_app, admin):
    make_user(frozen_app, email="coord@example.gov", active=False)
    response = create(admin)
    assert response.status_code == 422
    assert count(frozen_app, "agency") == 0 and count(frozen_app, "agency_member") == 0


@pytest.mark.parametrize("again", [ELM, "  Elm City   Police Department "])
def test_a_duplicate_agency_name_is_refused(frozen_app, admin, again):
    make_user(frozen_app, email="coord@example.gov")
    make_user(frozen_app, email="second@example.gov")
    assert create(admin).status_code == 303
    before = agency_state(frozen_app)
    response = create(admin, name=again, coordinator="second@example.gov")
    assert response.status_code == 422
    assert "An agency with that name already exists." in page_text(response)
    assert agency_state(frozen_app) == before
    assert member_of(frozen_app, "second@example.gov") is None


def test_a_coordinator_of_one_agency_cannot_coordinate_a_second(frozen_app, admin):
    make_user(frozen_app, email="coord@example.gov")
    assert create(admin).status_code == 303
    before = agency_state(frozen_app)
    response = create(admin, name="Oak County Sheriff")
    assert response.status_code == 422
    assert "That account already belongs to an agency." in page_text(response)
    assert agency_state(frozen_app) == before


# -- joining with an invitation -------------------------------------------------

def invite_link(frozen_app, agency_id, coordinator="coord@example.gov") -> str:
    """The link the members page shows after 'Create an invitation link'."""
    coord = signed_in(frozen_app, coordinator)
    response = submit(coord, f"/agencies/{agency_id}/invites", {}, form_page=f"/agencies/{agency_id}/members")
    assert response.status_code == 303
    page = page_text(coord.get(response.headers["Location"]))  # the link rides in the session, not the address
    link = re.search(r"Invitation link: https://portal\.test(/agencies/join/\S+)", page).group(1)
    return link


def test_an_officer_joins_with_the_invitation_link(frozen_app):
    agency_id = new_agency(frozen_app)
    officer = make_user(frozen_app, email="officer@example.gov", name="Ofc. Rivera")
    link = invite_link(frozen_app, agency_id)
    client = signed_in(frozen_app, "officer@example.gov")
    page = client.get(link)
    assert page.status_code == 200
    assert f"Join {ELM}" in page_text(page)
    response = submit(client, link, {})
    assert response.status_code == 303
    member = member_of(frozen_app, "officer@example.gov")
    assert (member.agency_id, member.user_id, member.role) == (agency_id, officer.id, "officer")
    assert f"You have joined {ELM}" in page_text(client.get(response.headers["Location"]))
    # the coordinator sees the new member
    assert "Ofc. Rivera" in page_text(signed_in(frozen_app, "coord@example.gov").get(f"/agencies/{agency_id}/members"))
    # the link was single-use: it is spent, and using it again changes nothing
    assert submit(client, link, {}).status_code == 404
    assert count(frozen_app, "agency_member") == 2


def test_only_a_hash_of_the_invitation_token_is_stored(frozen_app):
    agency_id = new_agency(frozen_app)
    token = invite_link(frozen_app, agency_id).rsplit("/", 1)[1]
    [invite] = rows(frozen_app, AgencyInvite)
    assert token not in repr(agency_state(frozen_app))
    assert len(invite.token_hash) == 64 and invite.token_hash != token
    assert invite.expires_at - invite.created_at == timedelta(days=14)


def test_opening_the_link_changes_nothing(frozen_app):
    agency_id = new_agency(frozen_app)
    make_user(frozen_app, email="officer@example.gov")
    _, token = add_invite(frozen_app, agency_id)
    client = signed_in(frozen_app, "officer@example.gov")
    before = agency_state(frozen_app)
    for _ in range(2):
        assert client.get(f"/agencies/join/{token}").status_code == 200
    assert agency_state(frozen_app) == before
    assert member_of(frozen_app, "officer@example.gov") is None


def test_anonymous_visitors_are_sent_to_log_in_and_come_back(frozen_app):
    agency_id = new_agency(frozen_app)
    make_user(frozen_app, email="officer@example.gov")
    _, token = add_invite(frozen_app, agency_id)
    link = f"/agencies/join/{token}"
    client = frozen_app.test_client()
    response = client.get(link)
    assert response.status_code == 302
    location = urlsplit(response.headers["Location"])
    assert location.path == "/account/login"
    assert parse_qs(location.query)["next"] == [link]
    assert count(frozen_app, "agency_member") == 1
    # logging in from there returns to the link, which then offers to join
    login = submit(client, response.headers["Location"], {"email": "officer@example.gov", "password": PASSWORD})
    assert urlsplit(login.headers["Location"]).path == link
    assert f"Join {ELM}" in page_text(client.get(link))


def test_a_new_officer_signs_up_confirms_and_joins(frozen_app):
    """Nobody registers an officer: they make their own account, confirm it, then use the link."""
    agency_id = new_agency(frozen_app)
    _, token = add_invite(frozen_app, agency_id)
    link = f"/agencies/join/{token}"
    client = frozen_app.test_client()
    login_page = client.get(link).headers["Location"]
    signup = submit(client, "/account/signup", {"name": "Ofc. New Hire", "email": "new@example.gov", "agency": "",
                                                "password": PASSWORD, "confirm": PASSWORD})
    assert signup.status_code == 302
    assert member_of(frozen_app, "new@example.gov") is None
    verify = link_in(outbox(frozen_app, "new@example.gov")[-1].body_text, "/account/verify/")
    assert submit(client, verify, {}).status_code == 302
    response = submit(client, login_page, {"email": "new@example.gov", "password": PASSWORD})
    assert urlsplit(response.headers["Location"]).path == link
    assert submit(client, link, {}).status_code == 303
    member = member_of(frozen_app, "new@example.gov")
    assert (member.agency_id, member.role) == (agency_id, "officer")


def test_an_unconfirmed_account_cannot_join(frozen_app):
    agency_id = new_agency(frozen_app)
    make_user(frozen_app, email="officer@example.gov", verified=False)
    _, token = add_invite(frozen_app, agency_id)
    client = signed_in(frozen_app, "officer@example.gov")
    response = submit(client, f"/agencies/join/{token}", {})
    assert response.status_code == 403
    assert "Confirm your email address before you join an agency." in page_text(response)
    assert member_of(frozen_app, "officer@example.gov") is None


def test_the_link_works_for_fourteen_days(frozen_app, clock):
    agency_id = new_agency(frozen_app)
    make_user(frozen_app, email="officer@example.gov")
    _, token = add_invite(frozen_app, agency_id)
    clock.advance(days=13, hours=23)
    client = signed_in(frozen_app, "officer@example.gov")
    assert submit(client, f"/agencies/join/{token}", {}).status_code == 303
    assert member_of(frozen_app, "officer@example.gov").agency_id == agency_id


def test_an_expired_link_no_longer_works(frozen_app, clock):
    agency_id = new_agency(frozen_app)
    make_user(frozen_app, email="officer@example.gov")
    _, token = add_invite(frozen_app, agency_id)
    clock.advance(days=15)
    client = signed_in(frozen_app, "officer@example.gov")
    page = client.get(f"/agencies/join/{token}")
    assert page.status_code == 404
    assert "This invitation no longer works" in page_text(page)
    assert ELM not in page_text(page)
    response = client.post(f"/agencies/join/{token}",
                           data={"csrf_token": csrf_token(client, "/account/profile")})
    assert response.status_code == 404
    assert member_of(frozen_app, "officer@example.gov") is None
    # the coordinator's members page no longer lists it
    assert "Withdraw" not in page_text(signed_in(frozen_app, "coord@example.gov").get(f"/agencies/{agency_id}/members"))


def test_a_withdrawn_link_no_longer_works(frozen_app):
    agency_id = new_agency(frozen_app)
    make_user(frozen_app, email="officer@example.gov")
    invite_id, token = add_invite(frozen_app, agency_id)
    coord = signed_in(frozen_app, "coord@example.gov")
    response = submit(coord, f"/agencies/{agency_id}/invites/{invite_id}/revoke", {},
                      form_page=f"/agencies/{agency_id}/members")
    assert response.status_code == 303
    assert get(frozen_app, AgencyInvite, invite_id).revoked_at is not None
    client = signed_in(frozen_app, "officer@example.gov")
    assert client.get(f"/agencies/join/{token}").status_code == 404
    response = client.post(f"/agencies/join/{token}", data={"csrf_token": csrf_token(client, "/account/profile")})
    assert response.status_code == 404
    assert "This invitation no longer works" in page_text(response)
    assert member_of(frozen_app, "officer@example.gov") is None


@pytest.mark.parametrize("token", ["not-a-real-token", "x" * 101])
def test_a_made_up_link_no_longer_works(frozen_app, token):
    new_agency(frozen_app)
    make_user(frozen_app, email="officer@example.gov")
    client = signed_in(frozen_app, "officer@example.gov")
    response = client.get(f"/agencies/join/{token}")
    assert response.status_code == 404
    assert "This invitation no longer works" in page_text(response)


def test_a_member_of_another_agency_cannot_join_a_second(frozen_app):
    elm = new_agency(frozen_app)
    oak = new_agency(frozen_app, name="Oak County Sheriff", coordinator="oak@example.gov")
    add_member(frozen_app, oak, "officer@example.gov")
    _, token = add_invite(frozen_app, elm)
    client = signed_in(frozen_app, "officer@example.gov")
    before = agency_state(frozen_app)
    response = submit(client, f"/agencies/join/{token}", {})
    assert response.status_code == 409
    assert "You already belong to another agency. Leave it first" in page_text(response)
    assert agency_state(frozen_app) == before
    assert member_of(frozen_app, "officer@example.gov").agency_id == oak


def test_a_coordinator_of_another_agency_cannot_join_either(frozen_app):
    elm = new_agency(frozen_app)
    oak = new_agency(frozen_app, name="Oak County Sheriff", coordinator="oak@example.gov")
    _, token = add_invite(frozen_app, elm)
    client = signed_in(frozen_app, "oak@example.gov")
    assert submit(client, f"/agencies/join/{token}", {}).status_code == 409
    member = member_of(frozen_app, "oak@example.gov")
    assert (member.agency_id, member.role) == (oak, "coordinator")


# -- leaving, and keeping a coordinator -----------------------------------------

def leave(client):
    return submit(client, "/agencies/leave", {}, form_page="/account/profile")


def test_a_member_can_leave(frozen_app):
    agency_id = new_agency(frozen_app)
    add_member(frozen_app, agency_id, "officer@example.gov")
    client = signed_in(frozen_app, "officer@example.gov")
    assert f"Leave {ELM}" in page_text(client.get("/agencies/"))
    response = leave(client)
    assert response.status_code == 303
    assert member_of(frozen_app, "officer@example.gov") is None
    assert "You have left the agency." in page_text(client.get(response.headers["Location"]))
    # ...and may then join another agency with its link
    oak = new_agency(frozen_app, name="Oak County Sheriff", coordinator="oak@example.gov")
    _, token = add_invite(frozen_app, oak, by_email="oak@example.gov")
    assert submit(client, f"/agencies/join/{token}", {}).status_code == 303
    assert member_of(frozen_app, "officer@example.gov").agency_id == oak


def test_the_only_coordinator_cannot_leave(frozen_app):
    agency_id = new_agency(frozen_app)
    add_member(frozen_app, agency_id, "officer@example.gov")
    client = signed_in(frozen_app, "coord@example.gov")
    before = agency_state(frozen_app)
    response = submit(client, "/agencies/leave", {}, form_page=f"/agencies/{agency_id}")
    assert response.status_code == 303
    assert agency_state(frozen_app) == before
    assert "You are the agency's only coordinator." in page_text(client.get(f"/agencies/{agency_id}"))


def role_change(client, agency_id, member_id, role):
    return submit(client, f"/agencies/{agency_id}/members/{member_id}/role", {"role": role},
                  form_page=f"/agencies/{agency_id}/members")


def test_the_only_coordinator_cannot_be_demoted(frozen_app):
    agency_id = new_agency(frozen_app)
    [coordinator] = rows(frozen_app, AgencyMember, role="coordinator")
    client = signed_in(frozen_app, "coord@example.gov")
    response = role_change(client, agency_id, coordinator.id, "officer")
    assert response.status_code == 303
    assert get(frozen_app, AgencyMember, coordinator.id).role == "coordinator"
    assert "An agency needs at least one coordinator." in page_text(client.get(response.headers["Location"]))


def test_with_a_second_coordinator_the_first_can_step_down_and_leave(frozen_app):
    agency_id = new_agency(frozen_app)
    officer_id = add_member(frozen_app, agency_id, "officer@example.gov")
    [first] = rows(frozen_app, AgencyMember, role="coordinator")
    client = signed_in(frozen_app, "coord@example.gov")
    assert role_change(client, agency_id, officer_id, "coordinator").status_code == 303
    assert get(frozen_app, AgencyMember, officer_id).role == "coordinator"
    assert role_change(client, agency_id, first.id, "officer").status_code == 303
    assert get(frozen_app, AgencyMember, first.id).role == "officer"
    # the new coordinator is now the only one: they cannot leave, the former one can
    second = signed_in(frozen_app, "officer@example.gov")
    leave(second)
    assert get(frozen_app, AgencyMember, officer_id) is not None
    assert leave(client).status_code == 303
    assert member_of(frozen_app, "coord@example.gov") is None


def test_an_unknown_role_is_refused(frozen_app):
    agency_id = new_agency(frozen_app)
    officer_id = add_member(frozen_app, agency_id, "officer@example.gov")
    client = signed_in(frozen_app, "coord@example.gov")
    assert role_change(client, agency_id, officer_id, "admin").status_code == 404
    assert get(frozen_app, AgencyMember, officer_id).role == "officer"


# -- the members page -----------------------------------------------------------

def give_training(app, email, *, certificate: bool):
    """Two enrollments, one passed (with a certificate when asked), written as the core writes them."""
    user = get_user(app, email)
    s = services(app)
    at = s.clock.now()
    with s.database.session() as db:
        passed = Enrollment(user_id=user.id, pack_id="intro-sro-programs", pack_version="1.0.0", session_year=2026,
                            enrolled_at=at - timedelta(days=20), passed_at=at - timedelta(days=14))
        open_ = Enrollment(user_id=user.id, pack_id="inperson-sro-basic", pack_version="1.0.0", session_year=2026,
                           enrolled_at=at - timedelta(days=3))
        db.add_all([passed, open_])
        db.flush()
        if certificate:
            db.add(Certificate(number=f"PSTP-2026-AB{user.id:02d}-CD{user.id:02d}", enrollment_id=passed.id,
                               user_id=user.id, pack_id="intro-sro-programs", pack_version="1.0.0",
                               learner_name=user.name, course_title="Introduction to SRO Programs",
                               provider_name="Training Portal", completed_on=date(2026, 6, 1), session_year=2026,
                               hours=2.0, issued_at=utc(2026, 6, 1, 15)))
        db.commit()


def roster(response) -> dict[str, list[str]]:
    """The members table: name -> [email, role, enrollments, completions, certificates]."""
    table = table_rows(response)
    assert table[0][:6] == ["Name", "Email", "Role", "Enrollments", "Completions", "Certificates"]
    return {cells[0]: cells[1:6] for cells in table[1:]}


def test_the_members_page_shows_enrollments_completions_and_certificates(frozen_app):
    agency_id = new_agency(frozen_app)
    add_member(frozen_app, agency_id, "rivera@example.gov", name="Ofc. Rivera")
    add_member(frozen_app, agency_id, "zed@example.gov", name="Ofc. Zed Quinn")
    oak = new_agency(frozen_app, name="Oak County Sheriff", coordinator="oak@example.gov")
    add_member(frozen_app, oak, "stranger@example.gov", name="Dep. Stranger")
    make_user(frozen_app, email="loner@example.gov", name="Unaffiliated Learner")
    give_training(frozen_app, "rivera@example.gov", certificate=True)
    give_training(frozen_app, "stranger@example.gov", certificate=True)
    give_training(frozen_app, "loner@example.gov", certificate=True)

    response = signed_in(frozen_app, "coord@example.gov").get(f"/agencies/{agency_id}/members")
    rivera_id = get_user(frozen_app, "rivera@example.gov").id
    assert roster(response) == {
        "Lt. Coordinator": ["coord@example.gov", "Coordinator", "0", "0", "—"],
        "Ofc. Rivera": ["rivera@example.gov", "Officer", "2", "1",
                        f"Introduction to SRO Programs (June 1, 2026, PSTP-2026-AB{rivera_id:02d}-CD{rivera_id:02d})"],
        "Ofc. Zed Quinn": ["zed@example.gov", "Officer", "0", "0", "—"],
    }
    # nobody outside the agency, anywhere on the page
    page = page_text(response)
    for outsider in ("Dep. Stranger", "stranger@example.gov", "Unaffiliated Learner", "loner@example.gov"):
        assert outsider not in page


def test_the_members_page_shows_a_certificate_earned_through_the_course(frozen_app):
    """The whole learner journey (tests/learning/journey.py), then the coordinator's view."""
    from tests.learning.journey import COURSE, certificate_number, complete_all_lessons, enroll, take_test

    agency_id = new_agency(frozen_app)
    add_member(frozen_app, agency_id, "learner@example.gov", name="Pat Learner")
    client = signed_in(frozen_app, "learner@example.gov")
    assert enroll(client).status_code in (302, 303)
    take_test(client, frozen_app, "pre")
    complete_all_lessons(client, frozen_app)
    take_test(client, frozen_app, "post", right=True)
    response = submit(client, f"/learn/{COURSE}/honor-code", {"answer": "yes"})
    number = certificate_number(client.get(response.location).get_data(as_text=True))
    [certificate] = rows(frozen_app, Certificate)
    assert certificate.number == number
    members = roster(signed_in(frozen_app, "coord@example.gov").get(f"/agencies/{agency_id}/members"))
    completed = f"{certificate.completed_on:%B %-d, %Y}"
    assert members["Pat Learner"] == ["learner@example.gov", "Officer", "1", "1",
                                      f"{certificate.course_title} ({completed}, {number})"]
