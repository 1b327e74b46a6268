"""Correcting and deleting awards, SROs, members and claim lines, each with its change history
(who, when, before and after) and every agency action in the portal's audit log (issue 17:
before, awards and SROs could not be corrected or deleted, a member could not be removed,
and no agency action reached the audit log). The clock is frozen on 2026-06-15."""

from __future__ import annotations

import json
from datetime import date

import pytest

from portal.support.models import AuditEntry
from portal_agencies.models import AgencyChange, AgencyMember
from tests.agencies.support import (ChpAward, SchoolResourceOfficer, TravelExpense, add_award, add_expense,
                                    add_invite, add_member, add_sro, agency_state, attach_certificate, count,
                                    get, new_agency, page_text, rows, signed_in)
from tests.helpers import get_user, submit

AWARD = "2026-UL-WX-0042"


@pytest.fixture
def agency(frozen_app) -> int:
    return new_agency(frozen_app)


@pytest.fixture
def coord(frozen_app, agency):
    return signed_in(frozen_app, "coord@example.gov")


def audit_actions(app) -> list[str]:
    """The agency actions in the audit log after the two of new_agency() (agency, coordinator)."""
    found = [entry.action for entry in rows(app, AuditEntry) if entry.action.startswith("agency.")]
    assert found[:2] == ["agency.agency.create", "agency.member.create"]
    return found[2:]


def flashes(client, agency_id) -> str:
    return page_text(client.get(f"/agencies/{agency_id}/members"))


def award_form(**fields):
    data = {"award_number": AWARD, "award_date": "2026-03-02", "funded_positions": "2", "mou_submitted_on": ""}
    data.update(fields)
    return data


# -- awards ------------------------------------------------------------------------------------

def test_a_coordinator_corrects_an_award_and_the_change_is_in_its_history(frozen_app, agency, coord):
    award_id = add_award(frozen_app, agency, number=AWARD, award_date=date(2026, 3, 2), funded=2)
    response = submit(coord, f"/agencies/{agency}/awards/{award_id}/edit",
                      award_form(award_date="2026-03-12", funded_positions="3"))
    assert response.status_code == 303
    award = get(frozen_app, ChpAward, award_id)
    assert (award.award_date, award.funded_positions) == (date(2026, 3, 12), 3)
    [change] = rows(frozen_app, AgencyChange, record_kind="award", record_id=award_id)
    assert change.action == "update" and change.actor_id == get_user(frozen_app, "coord@example.gov").id
    assert json.loads(change.before)["award_date"] == "2026-03-02"
    assert json.loads(change.after)["award_date"] == "2026-03-12"
    assert audit_actions(frozen_app) == ["agency.award.update"]
    page = page_text(coord.get(f"/agencies/{agency}/awards/{award_id}"))
    assert "Lt. Coordinator changed the record: award date 2026-03-02 → 2026-03-12; funded positions 2 → 3" in page


def test_an_award_cannot_fund_fewer_positions_than_its_initial_sros(frozen_app, agency, coord):
    award_id = add_award(frozen_app, agency, funded=2)
    add_sro(frozen_app, award_id, name="A")
    add_sro(frozen_app, award_id, name="B")
    before = agency_state(frozen_app)
    response = submit(coord, f"/agencies/{agency}/awards/{award_id}/edit", award_form(funded_positions="1"))
    assert response.status_code == 422
    assert "it cannot fund fewer positions" in page_text(response)
    assert agency_state(frozen_app) == before


def test_an_award_with_sros_is_not_deleted_and_an_empty_one_is(frozen_app, agency, coord):
    full = add_award(frozen_app, agency, number="FULL")
    add_sro(frozen_app, full)
    empty = add_award(frozen_app, agency, number="EMPTY")
    before = agency_state(frozen_app)
    response = submit(coord, f"/agencies/{agency}/awards/{full}/delete", {}, form_page=f"/agencies/{agency}/awards/{full}")
    assert response.status_code == 303
    assert "Award FULL still has 1 SRO record; delete or correct them first." in flashes(coord, agency)
    assert agency_state(frozen_app) == before
    response = submit(coord, f"/agencies/{agency}/awards/{empty}/delete", {},
                      form_page=f"/agencies/{agency}/awards/{empty}")
    assert response.status_code == 303
    assert get(frozen_app, ChpAward, empty) is None
    [change] = rows(frozen_app, AgencyChange, record_kind="award", record_id=empty)
    assert change.action == "delete" and json.loads(change.before)["award_number"] == "EMPTY"


def test_the_mou_date_is_in_the_history_and_the_audit_log(frozen_app, agency, coord):
    award_id = add_award(frozen_app, agency)
    submit(coord, f"/agencies/{agency}/awards/{award_id}", {"mou_submitted_on": "2026-05-01"})
    assert get(frozen_app, ChpAward, award_id).mou_submitted_on == date(2026, 5, 1)
    assert audit_actions(frozen_app) == ["agency.award.update"]
    assert "mou submitted on — → 2026-05-01" in page_text(coord.get(f"/agencies/{agency}/awards/{award_id}"))


# -- SROs --------------------------------------------------------------------------------------

def sro_form(**fields):
    data = {"name": "Ofc. Dana Park", "role": "initial", "hire_date": "", "placement_date": "",
            "training_completed": "", "expenses_submitted": ""}
    data.update(fields)
    return data


def test_correcting_an_sro_keeps_who_when_before_and_after(frozen_app, agency, coord):
    award_id = add_award(frozen_app, agency)
    sro_id = add_sro(frozen_app, award_id)
    response = submit(coord, f"/agencies/{agency}/sros/{sro_id}", sro_form(hire_date="2026-04-01"))
    assert response.status_code == 303
    [change] = rows(frozen_app, AgencyChange, record_kind="sro", record_id=sro_id)
    assert (json.loads(change.before)["hire_date"], json.loads(change.after)["hire_date"]) == (None, "2026-04-01")
    assert change.changed_at is not None
    page = page_text(coord.get(f"/agencies/{agency}/sros/{sro_id}"))
    assert "Lt. Coordinator changed the record: hire date — → 2026-04-01" in page
    # Saving the same values again is not a change.
    submit(coord, f"/agencies/{agency}/sros/{sro_id}", sro_form(hire_date="2026-04-01"))
    assert len(rows(frozen_app, AgencyChange, record_kind="sro", record_id=sro_id)) == 1
    assert audit_actions(frozen_app) == ["agency.sro.update"]


def test_deleting_an_sro_removes_its_claim_and_certificate_and_keeps_its_history(frozen_app, agency, coord):
    award_id = add_award(frozen_app, agency)
    sro_id = add_sro(frozen_app, award_id, training_completed=date(2026, 6, 1))
    add_expense(frozen_app, sro_id)
    attach_certificate(frozen_app, agency, sro_id)
    response = submit(coord, f"/agencies/{agency}/sros/{sro_id}/delete", {}, form_page=f"/agencies/{agency}/sros/{sro_id}")
    assert response.status_code == 303
    assert get(frozen_app, SchoolResourceOfficer, sro_id) is None
    assert rows(frozen_app, TravelExpense) == [] and count(frozen_app, "stored_file") == 0
    [change] = rows(frozen_app, AgencyChange, record_kind="sro", record_id=sro_id)
    assert change.action == "delete" and json.loads(change.before)["name"] == "Ofc. Dana Park"
    assert audit_actions(frozen_app) == ["agency.sro.delete"]


def test_another_agencys_records_cannot_be_corrected_or_deleted(frozen_app, agency, coord):
    other = new_agency(frozen_app, name="Oak Town PD", coordinator="oak@example.gov")
    award_id = add_award(frozen_app, other)
    sro_id = add_sro(frozen_app, award_id)
    member_id = add_member(frozen_app, other, "oak-officer@example.gov")
    before = agency_state(frozen_app)
    token_page = f"/agencies/{agency}/awards/new"
    for path in (f"/agencies/{other}/awards/{award_id}/edit", f"/agencies/{agency}/awards/{award_id}/edit",
                 f"/agencies/{agency}/awards/{award_id}/delete", f"/agencies/{agency}/sros/{sro_id}/delete",
                 f"/agencies/{agency}/members/{member_id}/remove"):
        assert submit(coord, path, award_form(), form_page=token_page).status_code == 404, path
    assert agency_state(frozen_app) == before


# -- members -----------------------------------------------------------------------------------

def test_a_coordinator_removes_a_member_but_never_the_last_coordinator(frozen_app, agency, coord):
    member_id = add_member(frozen_app, agency, "rivera@example.gov")
    response = submit(coord, f"/agencies/{agency}/members/{member_id}/remove", {},
                      form_page=f"/agencies/{agency}/members")
    assert response.status_code == 303
    assert get(frozen_app, AgencyMember, member_id) is None
    assert get_user(frozen_app, "rivera@example.gov").is_active  # the account stays
    [me] = rows(frozen_app, AgencyMember, agency_id=agency)
    response = submit(coord, f"/agencies/{agency}/members/{me.id}/remove", {}, form_page=f"/agencies/{agency}/members")
    assert "An agency needs at least one coordinator." in flashes(coord, agency)
    assert get(frozen_app, AgencyMember, me.id) is not None
    [entry] = [e for e in rows(frozen_app, AuditEntry) if e.action == "agency.member.delete"]
    assert entry.target_user_id == get_user(frozen_app, "rivera@example.gov").id


# -- every agency action reaches the audit log ---------------------------------------------------

def test_every_agency_action_reaches_the_audit_log(frozen_app, agency, coord):
    submit(coord, f"/agencies/{agency}/awards/new", award_form())
    [award] = rows(frozen_app, ChpAward)
    submit(coord, f"/agencies/{agency}/awards/{award.id}/sros/new", sro_form())
    [sro] = rows(frozen_app, SchoolResourceOfficer)
    submit(coord, f"/agencies/{agency}/sros/{sro.id}/claim",
           {"category": "lodging", "description": "Hotel", "incurred_on": "2026-06-01", "amount": "80.00"})
    [expense] = rows(frozen_app, TravelExpense)
    submit(coord, f"/agencies/{agency}/sros/{sro.id}/claim/{expense.id}/delete", {},
           form_page=f"/agencies/{agency}/sros/{sro.id}/claim")
    submit(coord, f"/agencies/{agency}/invites", {}, form_page=f"/agencies/{agency}/members")
    invite_id, token = add_invite(frozen_app, agency)
    submit(coord, f"/agencies/{agency}/invites/{invite_id}/revoke", {}, form_page=f"/agencies/{agency}/members")
    member_id = add_member(frozen_app, agency, "rivera@example.gov")
    submit(coord, f"/agencies/{agency}/members/{member_id}/role", {"role": "coordinator"},
           form_page=f"/agencies/{agency}/members")
    assert audit_actions(frozen_app) == [
        "agency.award.create", "agency.sro.create", "agency.expense.create", "agency.expense.delete",
        "agency.invite.create", "agency.invite.create", "agency.invite.update", "agency.member.update",
    ]
    entries = [e for e in rows(frozen_app, AuditEntry) if e.action == "agency.member.update"]
    assert entries[0].detail.endswith(": role")


def test_joining_with_an_invitation_reaches_the_audit_log(frozen_app, agency):
    from tests.helpers import make_user

    make_user(frozen_app, email="rivera@example.gov", name="Ofc. Rivera")
    _, token = add_invite(frozen_app, agency)
    officer = signed_in(frozen_app, "rivera@example.gov")
    assert submit(officer, f"/agencies/join/{token}", {}).status_code == 303
    [entry] = [e for e in rows(frozen_app, AuditEntry) if e.action == "agency.member.create" and e.actor_id
               == get_user(frozen_app, "rivera@example.gov").id]
    assert "joined with an invitation" in entry.detail
