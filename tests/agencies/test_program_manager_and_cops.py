"""The CHP Program Manager's address can be set after the agency is created, and the
certificate copy mail then goes to it (issue 17: it could not, so copies went to AskCopsRC
only); prior training within 12 months is a COPS Office Response Center task until the
coordinator records the date reported and the answer (issue 17: it counted as met at once
and nothing tracked the report). The clock is frozen on 2026-06-15."""

from __future__ import annotations

import email
import email.policy
from datetime import date

import pytest

from portal.support.models import AuditEntry
from tests.agencies.support import (Agency, SchoolResourceOfficer, add_award, add_sro, attach_certificate, field_error,
                                    get, new_agency, page_text, rows, signed_in, table_rows)
from tests.helpers import submit


@pytest.fixture
def agency(frozen_app) -> int:
    return new_agency(frozen_app, program_manager="")


@pytest.fixture
def coord(frozen_app, agency):
    return signed_in(frozen_app, "coord@example.gov")


def mail_to(coord, agency, sro_id) -> list[str]:
    message = email.message_from_bytes(coord.get(f"/agencies/{agency}/sros/{sro_id}/certificate-mail.eml").data,
                                       policy=email.policy.default)
    return [a.addr_spec for a in message["To"].addresses]


def test_the_program_manager_address_is_set_later_and_the_copy_goes_to_it(frozen_app, agency, coord):
    award_id = add_award(frozen_app, agency)
    sro_id = add_sro(frozen_app, award_id, training_completed=date(2026, 6, 1))
    attach_certificate(frozen_app, agency, sro_id)
    assert mail_to(coord, agency, sro_id) == ["AskCopsRC@usdoj.gov"]
    assert "No CHP Program Manager address is set" in page_text(coord.get(f"/agencies/{agency}/sros/{sro_id}"))
    response = submit(coord, f"/agencies/{agency}/settings", {"program_manager_email": "PM@cops.example.GOV"})
    assert response.status_code == 303
    assert get(frozen_app, Agency, agency).chp_program_manager_email == "pm@cops.example.gov"
    # Prepared again, the copy goes to both.
    assert mail_to(coord, agency, sro_id) == ["pm@cops.example.gov", "AskCopsRC@usdoj.gov"]
    assert "No CHP Program Manager address is set" not in page_text(coord.get(f"/agencies/{agency}/sros/{sro_id}"))
    assert [e.action for e in rows(frozen_app, AuditEntry)][-1] == "agency.agency.update"
    assert "chp program manager email — → pm@cops.example.gov" in page_text(coord.get(f"/agencies/{agency}/settings"))


def test_a_bad_address_is_refused_and_another_agency_is_404(frozen_app, agency, coord):
    response = submit(coord, f"/agencies/{agency}/settings", {"program_manager_email": "not an address"})
    assert response.status_code == 422
    assert field_error(response, "program_manager_email")
    assert get(frozen_app, Agency, agency).chp_program_manager_email == ""
    other = new_agency(frozen_app, name="Oak Town PD", coordinator="oak@example.gov")
    assert coord.get(f"/agencies/{other}/settings").status_code == 404


# -- prior training and the COPS Office Response Center -------------------------------------------

def sro_form(**fields):
    data = {"name": "Ofc. Dana Park", "role": "initial", "hire_date": "", "placement_date": "",
            "training_completed": "2025-11-03", "expenses_submitted": "", "response_center_reported_on": "",
            "response_center_answer": ""}
    data.update(fields)
    return data


def dashboard_rows(coord, agency):
    return [cells[:2] for cells in table_rows(coord.get(f"/agencies/{agency}"))[1:]]


def test_prior_training_is_a_response_center_task_until_its_answer_is_recorded(frozen_app, agency, coord):
    award_id = add_award(frozen_app, agency, award_date=date(2026, 3, 2), mou=date(2026, 4, 1))
    # Completed 3 November 2025, within the 12 months before the award date: accepted.
    sro_id = add_sro(frozen_app, award_id, training_completed=date(2025, 11, 3))
    assert ["To do", "Ofc. Dana Park: report the prior training to the COPS Office Response Center"] \
        in dashboard_rows(coord, agency)
    assert "To do: report this prior training" in page_text(coord.get(f"/agencies/{agency}/sros/{sro_id}"))
    # A date alone does not close the task: the answer is what COPS determines.
    submit(coord, f"/agencies/{agency}/sros/{sro_id}", sro_form(response_center_reported_on="2026-06-10"))
    assert ["To do", "Ofc. Dana Park: report the prior training to the COPS Office Response Center"] \
        in dashboard_rows(coord, agency)
    submit(coord, f"/agencies/{agency}/sros/{sro_id}",
           sro_form(response_center_reported_on="2026-06-10", response_center_answer="satisfied"))
    sro = get(frozen_app, SchoolResourceOfficer, sro_id)
    assert (sro.response_center_reported_on, sro.response_center_answer) == (date(2026, 6, 10), "satisfied")
    rows_now = dashboard_rows(coord, agency)
    assert all("Response Center" not in cells[1] for cells in rows_now)
    assert ["Met", "Ofc. Dana Park (initial) training"] in rows_now


def test_when_cops_answers_retake_the_deadline_stands(frozen_app, agency, coord):
    award_id = add_award(frozen_app, agency, award_date=date(2026, 3, 2), mou=date(2026, 4, 1))
    sro_id = add_sro(frozen_app, award_id, training_completed=date(2025, 11, 3))
    submit(coord, f"/agencies/{agency}/sros/{sro_id}",
           sro_form(response_center_reported_on="2026-06-10", response_center_answer="retake"))
    # Award 2 March 2026 + 9 months = 2 December 2026: 170 days from 15 June.
    assert ["Due in 170 days", "Ofc. Dana Park (initial) training"] in dashboard_rows(coord, agency)
    assert "the officer must take the course" in page_text(coord.get(f"/agencies/{agency}/sros/{sro_id}"))


@pytest.mark.parametrize("fields,field,words", [
    ({"response_center_answer": "satisfied"}, "response_center_reported_on", "Give the date"),
    ({"response_center_reported_on": "2026-06-16"}, "response_center_reported_on", "cannot be in the future"),
    ({"response_center_answer": "maybe"}, "response_center_answer", ""),
])
def test_bad_response_center_entries_are_refused(frozen_app, agency, coord, fields, field, words):
    award_id = add_award(frozen_app, agency, award_date=date(2026, 3, 2))
    sro_id = add_sro(frozen_app, award_id, training_completed=date(2025, 11, 3))
    response = submit(coord, f"/agencies/{agency}/sros/{sro_id}", sro_form(**fields))
    assert response.status_code == 422
    assert words in field_error(response, field) and field_error(response, field)
    assert get(frozen_app, SchoolResourceOfficer, sro_id).response_center_answer == ""
