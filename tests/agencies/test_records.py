"""An agency's CHP records through its coordinator's pages: awards, SROs, certificates and
the mail that sends them, travel claims, the dashboard, and the roster import and export.
The clock is frozen on 2026-06-15 (10:00 in New York)."""

from __future__ import annotations

import csv
import email
import email.policy
import io
from datetime import date
from decimal import Decimal

import pytest
from pypdf import PdfReader

from portal.common.storage import StoredFile
from tests.agencies.support import (JPEG, PDF, PNG, ChpAward, SchoolResourceOfficer, TravelExpense, add_award,
                                    add_expense, add_sro, agency_state, attach_certificate, count, field_error,
                                    form_error, get, new_agency, page_text, rows, signed_in, table_rows)
from tests.helpers import csrf_token, submit, utc

ELM = "Elm City Police Department"
AWARD = "2026-UL-WX-0042"


@pytest.fixture
def agency(frozen_app) -> int:
    return new_agency(frozen_app)


@pytest.fixture
def coord(frozen_app, agency):
    return signed_in(frozen_app, "coord@example.gov")


# -- awards -----------------------------------------------------------------------

def post_award(client, agency_id, **fields):
    data = {"award_number": AWARD, "award_date": "2026-03-02", "funded_positions": "2", "mou_submitted_on": ""}
    data.update(fields)
    return submit(client, f"/agencies/{agency_id}/awards/new", data)


def test_a_coordinator_records_an_award(frozen_app, agency, coord):
    response = post_award(coord, agency)
    assert response.status_code == 303
    [award] = rows(frozen_app, ChpAward)
    assert (award.agency_id, award.award_number, award.award_date, award.funded_positions, award.mou_submitted_on) \
        == (agency, AWARD, date(2026, 3, 2), 2, None)
    assert response.headers["Location"].endswith(f"/agencies/{agency}/awards/{award.id}")
    page = page_text(coord.get(response.headers["Location"]))
    assert f"Award {AWARD} recorded. The MOU is due May 31, 2026." in page   # 2 March + 90 days


def test_award_numbers_are_unique_within_an_agency(frozen_app, agency, coord):
    assert post_award(coord, agency).status_code == 303
    before = agency_state(frozen_app)
    response = post_award(coord, agency, award_date="2026-04-01")
    assert response.status_code == 422
    assert field_error(response, "award_number") == "This agency already has an award with that number."
    assert agency_state(frozen_app) == before


def test_another_agency_may_use_the_same_award_number(frozen_app, agency, coord):
    assert post_award(coord, agency).status_code == 303
    oak = new_agency(frozen_app, name="Oak County Sheriff", coordinator="oak@example.gov")
    assert post_award(signed_in(frozen_app, "oak@example.gov"), oak).status_code == 303
    assert sorted(a.agency_id for a in rows(frozen_app, ChpAward, award_number=AWARD)) == sorted([agency, oak])


@pytest.mark.parametrize("positions", ["1", "500"])
def test_funded_positions_from_1_to_500_are_accepted(frozen_app, agency, coord, positions):
    assert post_award(coord, agency, funded_positions=positions).status_code == 303
    assert rows(frozen_app, ChpAward)[0].funded_positions == int(positions)


@pytest.mark.parametrize("positions", ["0", "501", "-1", "2.5", "many", ""])
def test_funded_positions_outside_1_to_500_are_refused(frozen_app, agency, coord, positions):
    response = post_award(coord, agency, funded_positions=positions)
    assert response.status_code == 422
    assert field_error(response, "funded_positions")
    assert count(frozen_app, "chp_award") == 0


def test_an_award_date_in_the_future_is_refused(frozen_app, agency, coord):
    response = post_award(coord, agency, award_date="2026-06-16")
    assert response.status_code == 422
    assert field_error(response, "award_date") == "The award letter date cannot be in the future."
    assert count(frozen_app, "chp_award") == 0
    assert post_award(coord, agency, award_date="2026-06-15").status_code == 303   # today is fine


def test_tomorrow_is_judged_in_the_portals_time_zone(frozen_app, clock, agency):
    clock.set(utc(2026, 6, 16, 3, 30))  # 23:30 on 15 June in New York: 16 June is still tomorrow
    coord = signed_in(frozen_app, "coord@example.gov")
    response = post_award(coord, agency, award_date="2026-06-16")
    assert response.status_code == 422
    assert field_error(response, "award_date") == "The award letter date cannot be in the future."
    assert count(frozen_app, "chp_award") == 0
    clock.set(utc(2026, 6, 16, 4, 30))  # 00:30 on 16 June in New York
    assert post_award(coord, agency, award_date="2026-06-16").status_code == 303


def test_an_mou_date_in_the_future_is_refused(frozen_app, agency, coord):
    response = post_award(coord, agency, mou_submitted_on="2026-06-16")
    assert response.status_code == 422
    assert field_error(response, "mou_submitted_on") == "The MOU submission date cannot be in the future."
    assert count(frozen_app, "chp_award") == 0


def test_an_mou_before_the_award_letter_is_refused(frozen_app, agency, coord):
    response = post_award(coord, agency, mou_submitted_on="2026-03-01")
    assert response.status_code == 422
    assert field_error(response, "mou_submitted_on") == "The MOU submission date is before the award letter date."
    assert count(frozen_app, "chp_award") == 0
    assert post_award(coord, agency, mou_submitted_on="2026-03-02").status_code == 303   # the same day is fine


def test_the_mou_date_is_checked_when_it_is_added_later(frozen_app, agency, coord):
    award_id = add_award(frozen_app, agency)
    path = f"/agencies/{agency}/awards/{award_id}"
    for bad, message in [("2026-03-01", "The MOU submission date is before the award letter date."),
                         ("2026-06-16", "The MOU submission date cannot be in the future.")]:
        response = submit(coord, path, {"mou_submitted_on": bad})
        assert response.status_code == 422
        assert field_error(response, "mou_submitted_on") == message
        assert get(frozen_app, ChpAward, award_id).mou_submitted_on is None
    assert submit(coord, path, {"mou_submitted_on": "2026-05-20"}).status_code == 303
    assert get(frozen_app, ChpAward, award_id).mou_submitted_on == date(2026, 5, 20)


# -- SROs -------------------------------------------------------------------------

def sro_data(**fields):
    data = {"name": "Ofc. Dana Park", "role": "initial", "hire_date": "", "placement_date": "",
            "training_completed": "", "expenses_submitted": ""}
    data.update(fields)
    return data


def post_sro(client, agency_id, award_id, **fields):
    return submit(client, f"/agencies/{agency_id}/awards/{award_id}/sros/new", sro_data(**fields))


def test_a_coordinator_adds_an_sro(frozen_app, agency, coord):
    award_id = add_award(frozen_app, agency)
    response = post_sro(coord, agency, award_id, hire_date="2026-04-15")
    assert response.status_code == 303
    [sro] = rows(frozen_app, SchoolResourceOfficer)
    assert (sro.award_id, sro.name, sro.role, sro.hire_date) == (award_id, "Ofc. Dana Park", "initial",
                                                                 date(2026, 4, 15))
    page = page_text(coord.get(f"/agencies/{agency}/sros/{sro.id}"))
    assert "Due October 15, 2026" in page      # hire + 6 months comes before award + 9 months


def test_initial_sros_cannot_outnumber_the_funded_positions(frozen_app, agency, coord):
    award_id = add_award(frozen_app, agency, funded=1)
    assert post_sro(coord, agency, award_id, name="Ofc. First").status_code == 303
    before = agency_state(frozen_app)
    response = post_sro(coord, agency, award_id, name="Ofc. Second")
    assert response.status_code == 422
    assert field_error(response, "role") == "This award funds 1 SRO position; record a replacement as a backfill."
    assert agency_state(frozen_app) == before
    # a replacement is recorded as a backfill
    assert post_sro(coord, agency, award_id, name="Ofc. Second", role="backfill",
                    placement_date="2026-05-01").status_code == 303


def test_editing_a_backfill_into_an_initial_sro_cannot_exceed_the_funded_positions(frozen_app, agency, coord):
    """The limit on initial SROs holds however the record gets there, not only when it is added."""
    award_id = add_award(frozen_app, agency, funded=1)
    add_sro(frozen_app, award_id, name="Ofc. First")
    backfill = add_sro(frozen_app, award_id, name="Ofc. Second", role="backfill", placement_date=date(2026, 5, 1))
    before = agency_state(frozen_app)
    response = submit(coord, f"/agencies/{agency}/sros/{backfill}",
                      sro_data(name="Ofc. Second", role="initial", placement_date="2026-05-01"))
    assert agency_state(frozen_app) == before
    assert response.status_code == 422
    assert [s.role for s in rows(frozen_app, SchoolResourceOfficer)] == ["initial", "backfill"]


def test_a_backfill_sro_needs_the_placement_date(frozen_app, agency, coord):
    award_id = add_award(frozen_app, agency)
    response = post_sro(coord, agency, award_id, role="backfill")
    assert response.status_code == 422
    assert field_error(response, "placement_date") == "A backfill SRO needs the date placed in the school."
    assert count(frozen_app, "chp_sro") == 0


def test_a_completion_date_in_the_future_is_refused(frozen_app, agency, coord):
    award_id = add_award(frozen_app, agency)
    response = post_sro(coord, agency, award_id, training_completed="2026-06-16")
    assert response.status_code == 422
    assert "training_completed is after the as-of date" in field_error(response, "training_completed")
    assert count(frozen_app, "chp_sro") == 0


def test_expenses_submitted_before_completion_are_refused(frozen_app, agency, coord):
    award_id = add_award(frozen_app, agency)
    response = post_sro(coord, agency, award_id, training_completed="2026-06-01", expenses_submitted="2026-05-31")
    assert response.status_code == 422
    assert "expenses_submitted is before training_completed" in field_error(response, "expenses_submitted")
    assert count(frozen_app, "chp_sro") == 0


def test_expenses_without_a_completion_date_are_refused(frozen_app, agency, coord):
    award_id = add_award(frozen_app, agency)
    response = post_sro(coord, agency, award_id, expenses_submitted="2026-06-01")
    assert response.status_code == 422
    assert "expenses_submitted" in field_error(response, "expenses_submitted")
    assert count(frozen_app, "chp_sro") == 0


def test_a_refused_edit_leaves_the_record_as_it_was(frozen_app, agency, coord):
    award_id = add_award(frozen_app, agency)
    sro_id = add_sro(frozen_app, award_id, hire_date=date(2026, 4, 15))
    before = agency_state(frozen_app)
    response = submit(coord, f"/agencies/{agency}/sros/{sro_id}",
                      sro_data(name="Renamed", hire_date="2026-04-15", training_completed="2026-07-01"))
    assert response.status_code == 422
    assert "training_completed" in field_error(response, "training_completed")
    assert agency_state(frozen_app) == before
    # a good edit is saved
    response = submit(coord, f"/agencies/{agency}/sros/{sro_id}",
                      sro_data(name="Ofc. Dana Park", hire_date="2026-04-15", training_completed="2026-06-01"))
    assert response.status_code == 303
    assert get(frozen_app, SchoolResourceOfficer, sro_id).training_completed == date(2026, 6, 1)


# -- certificates -----------------------------------------------------------------

def upload(client, agency_id, award_id, data, filename, content_type, **fields):
    path = f"/agencies/{agency_id}/awards/{award_id}/sros/new"
    return client.post(path, data={"csrf_token": csrf_token(client, path),
                                   **sro_data(training_completed="2026-06-01", **fields),
                                   "certificate": (io.BytesIO(data), filename, content_type)},
                       content_type="multipart/form-data")


@pytest.mark.parametrize("data, filename, content_type, ext",
                         [(PDF, "certificate.pdf", "application/pdf", ".pdf"),
                          (PNG, "scan.png", "image/png", ".png"),
                          (JPEG, "photo.jpg", "image/jpeg", ".jpg")], ids=["pdf", "png", "jpeg"])
def test_a_certificate_is_stored_in_the_database(frozen_app, agency, coord, data, filename, content_type, ext):
    award_id = add_award(frozen_app, agency)
    response = upload(coord, agency, award_id, data, filename, content_type)
    assert response.status_code == 303, page_text(response)[:500]
    [sro] = rows(frozen_app, SchoolResourceOfficer)
    assert sro.certificate_key == f"agencies/{agency}/sro/{sro.id}/certificate{ext}"
    assert sro.certificate_filename == f"nasro-certificate-{sro.id}{ext}"
    stored = get(frozen_app, StoredFile, sro.certificate_key)
    assert (stored.content_type, stored.size, bytes(stored.data)) == (content_type, len(data), data)
    # downloaded as it was uploaded
    download = coord.get(f"/agencies/{agency}/sros/{sro.id}/certificate")
    assert download.status_code == 200
    assert download.mimetype == content_type
    assert download.data == data
    assert download.headers["Content-Disposition"] == f'attachment; filename="nasro-certificate-{sro.id}{ext}"'


@pytest.mark.parametrize("data, filename, content_type, message", [
    (b"just some text", "notes.txt", "text/plain", "The certificate must be a PDF, PNG or JPEG file."),
    (b"<svg xmlns='http://www.w3.org/2000/svg'/>", "c.svg", "image/svg+xml",
     "The certificate must be a PDF, PNG or JPEG file."),
    (b"MZ\x90\x00 not a pdf", "certificate.pdf", "application/pdf", "That file is not the kind its name says it is."),
    (PDF, "certificate.png", "image/png", "That file is not the kind its name says it is."),
    (PNG, "photo.jpg", "image/jpeg", "That file is not the kind its name says it is."),
], ids=["text", "svg", "exe-as-pdf", "pdf-as-png", "png-as-jpeg"])
def test_a_certificate_that_is_not_a_pdf_png_or_jpeg_is_refused(frozen_app, agency, coord, data, filename,
                                                                 content_type, message):
    award_id = add_award(frozen_app, agency)
    before = agency_state(frozen_app)
    response = upload(coord, agency, award_id, data, filename, content_type)
    assert response.status_code == 422
    assert field_error(response, "certificate") == message
    assert agency_state(frozen_app) == before


def test_a_certificate_over_5_mb_is_refused(frozen_app, agency, coord):
    award_id = add_award(frozen_app, agency)
    before = agency_state(frozen_app)
    big = PDF + b"0" * (5 * 1024 * 1024 + 1 - len(PDF))
    response = upload(coord, agency, award_id, big, "certificate.pdf", "application/pdf")
    assert response.status_code == 422
    assert field_error(response, "certificate") == "The certificate file is larger than 5 MB."
    assert agency_state(frozen_app) == before
    exactly = PDF + b"0" * (5 * 1024 * 1024 - len(PDF))
    assert upload(coord, agency, award_id, exactly, "certificate.pdf", "application/pdf").status_code == 303


def test_a_refused_certificate_leaves_an_existing_record_alone(frozen_app, agency, coord):
    award_id = add_award(frozen_app, agency)
    sro_id = add_sro(frozen_app, award_id, training_completed=date(2026, 6, 1))
    attach_certificate(frozen_app, agency, sro_id)
    before = agency_state(frozen_app)
    path = f"/agencies/{agency}/sros/{sro_id}"
    response = coord.post(path, data={"csrf_token": csrf_token(coord, path),
                                      **sro_data(name="Renamed", training_completed="2026-06-01"),
                                      "certificate": (io.BytesIO(b"GIF89a"), "c.gif", "image/gif")},
                          content_type="multipart/form-data")
    assert response.status_code == 422
    assert agency_state(frozen_app) == before
    assert count(frozen_app, "stored_file") == 1


def test_no_certificate_means_no_download(frozen_app, agency, coord):
    award_id = add_award(frozen_app, agency)
    sro_id = add_sro(frozen_app, award_id, training_completed=date(2026, 6, 1))
    assert coord.get(f"/agencies/{agency}/sros/{sro_id}/certificate").status_code == 404
    assert coord.get(f"/agencies/{agency}/sros/{sro_id}/certificate-mail.eml").status_code == 404


def test_the_prepared_mail_carries_the_certificate_to_the_program_manager_and_the_response_center(
        frozen_app, agency, coord):
    award_id = add_award(frozen_app, agency)
    sro_id = add_sro(frozen_app, award_id, training_completed=date(2026, 6, 1))
    attach_certificate(frozen_app, agency, sro_id, data=PDF)
    response = coord.get(f"/agencies/{agency}/sros/{sro_id}/certificate-mail.eml")
    assert response.status_code == 200
    assert response.mimetype == "message/rfc822"
    assert response.headers["Content-Disposition"] == f'attachment; filename="certificate-mail-{sro_id}.eml"'
    message = email.message_from_bytes(response.data, policy=email.policy.default)
    to = [address.addr_spec for address in message["To"].addresses]
    assert sorted(to) == sorted(["pm@cops.example.gov", "AskCopsRC@usdoj.gov"])
    assert message["From"].addresses[0].addr_spec == "coord@example.gov"
    assert "Ofc. Dana Park" in message["Subject"] and AWARD in message["Subject"]
    [attachment] = list(message.iter_attachments())
    assert attachment.get_filename() == f"nasro-certificate-{sro_id}.pdf"
    assert attachment.get_content_type() == "application/pdf"
    assert attachment.get_content() == PDF
    assert "Ofc. Dana Park" in message.get_body(preferencelist=("plain",)).get_content()


def test_without_a_program_manager_the_mail_goes_to_the_response_center(frozen_app):
    agency = new_agency(frozen_app, program_manager="")
    coord = signed_in(frozen_app, "coord@example.gov")
    award_id = add_award(frozen_app, agency)
    sro_id = add_sro(frozen_app, award_id, training_completed=date(2026, 6, 1))
    attach_certificate(frozen_app, agency, sro_id, data=PNG, content_type="image/png", ext=".png")
    message = email.message_from_bytes(coord.get(f"/agencies/{agency}/sros/{sro_id}/certificate-mail.eml").data,
                                       policy=email.policy.default)
    assert [a.addr_spec for a in message["To"].addresses] == ["AskCopsRC@usdoj.gov"]
    [attachment] = list(message.iter_attachments())
    assert attachment.get_content_type() == "image/png" and attachment.get_content() == PNG


def test_no_mail_before_the_course_is_completed(frozen_app, agency, coord):
    award_id = add_award(frozen_app, agency)
    sro_id = add_sro(frozen_app, award_id)
    attach_certificate(frozen_app, agency, sro_id)
    assert coord.get(f"/agencies/{agency}/sros/{sro_id}/certificate-mail.eml").status_code == 404
    assert coord.get(f"/agencies/{agency}/sros/{sro_id}/certificate").status_code == 200


# -- travel claims ----------------------------------------------------------------

@pytest.fixture
def claim(frozen_app, agency):
    award_id = add_award(frozen_app, agency)
    sro_id = add_sro(frozen_app, award_id, hire_date=date(2026, 4, 15), training_completed=date(2026, 6, 5))
    return f"/agencies/{agency}/sros/{sro_id}/claim", sro_id


def post_expense(client, path, amount, category="lodging", description="Hotel, 4 nights", incurred_on="2026-06-01"):
    return submit(client, path, {"category": category, "description": description, "incurred_on": incurred_on,
                                 "amount": amount})


def test_an_amount_with_a_dollar_sign_and_commas_is_read(frozen_app, coord, claim):
    path, sro_id = claim
    response = post_expense(coord, path, "$1,234.50")
    assert response.status_code == 303
    [expense] = rows(frozen_app, TravelExpense)
    assert (expense.sro_id, expense.amount, expense.category) == (sro_id, Decimal("1234.50"), "lodging")


@pytest.mark.parametrize("amount", ["abc", "0", "0.00", "-5", "1.234", "NaN", "Infinity", "100001"])
def test_an_amount_that_is_not_dollars_and_cents_is_refused(frozen_app, coord, claim, amount):
    path, _ = claim
    response = post_expense(coord, path, amount)
    assert response.status_code == 422
    assert field_error(response, "amount").startswith("Enter an amount")
    assert count(frozen_app, "chp_travel_expense") == 0


def test_the_worksheet_keeps_a_running_total_and_warns_over_1000(frozen_app, coord, claim):
    path, _ = claim
    for kind, text, day, amount in [("mie", "M&IE, 5 days", "2026-06-05", "295.00"),
                                    ("transportation", "Mileage to the academy", "2026-06-01", "212.40"),
                                    ("lodging", "Hotel, 4 nights at GSA rate", "2026-06-01", "640.00")]:
        assert post_expense(coord, path, amount, kind, text, day).status_code == 303
        page = coord.get(path)
        if amount == "212.40":
            assert "over the $1000.00 limit" not in page_text(page)
    table = table_rows(page)
    assert table[1:] == [
        ["June 1, 2026", "Transportation", "Mileage to the academy", "$212.40", "$212.40", "Remove"],
        ["June 1, 2026", "Lodging", "Hotel, 4 nights at GSA rate", "$640.00", "$852.40", "Remove"],
        ["June 5, 2026", "Meals and incidental expenses (M&IE)", "M&IE, 5 days", "$295.00", "$1147.40", "Remove"],
        ["Total", "$1147.40", "Reimbursable: $1000.00", ""],
    ]
    text = page_text(page)
    assert "The total is $1147.40, $147.40 over the $1000.00 limit." in text
    assert "Itemized expenses are due to NASRO by July 5, 2026" in text   # 30 days after 5 June


def test_exactly_1000_is_not_over_the_limit(frozen_app, coord, claim):
    path, sro_id = claim
    add_expense(frozen_app, sro_id, "600.00")
    add_expense(frozen_app, sro_id, "400.00")
    text = page_text(coord.get(path))
    assert "over the $1000.00 limit" not in text
    assert "Reimbursable: $1000.00" in text


def test_an_expense_can_be_removed(frozen_app, coord, claim):
    path, sro_id = claim
    keep = add_expense(frozen_app, sro_id, "10.00")
    gone = add_expense(frozen_app, sro_id, "20.00")
    response = submit(coord, f"{path}/{gone}/delete", {}, form_page=path)
    assert response.status_code == 303
    assert [e.id for e in rows(frozen_app, TravelExpense)] == [keep]


def test_a_backfill_sro_has_no_claim(frozen_app, agency, coord):
    award_id = add_award(frozen_app, agency)
    sro_id = add_sro(frozen_app, award_id, name="Ofc. Lee Grant", role="backfill", placement_date=date(2026, 5, 1))
    path = f"/agencies/{agency}/sros/{sro_id}/claim"
    response = post_expense(coord, path, "100.00")
    assert count(frozen_app, "chp_travel_expense") == 0
    assert "there is no reimbursement claim" in form_error(response)
    assert response.status_code == 409


def test_the_printable_claim_has_the_lines_and_the_total(frozen_app, coord, claim):
    path, sro_id = claim
    add_expense(frozen_app, sro_id, "212.40", "transportation", "Mileage to the academy", date(2026, 6, 1))
    add_expense(frozen_app, sro_id, "640.00", "lodging", "Hotel, 4 nights", date(2026, 6, 1))
    add_expense(frozen_app, sro_id, "295.00", "mie", "M&IE, 5 days", date(2026, 6, 5))
    response = coord.get(path + ".pdf")
    assert response.status_code == 200
    assert response.mimetype == "application/pdf"
    text = " ".join(page.extract_text() for page in PdfReader(io.BytesIO(response.data)).pages)
    text = " ".join(text.split())
    assert ELM in text and "Ofc. Dana Park" in text and AWARD in text
    assert "Mileage to the academy" in text and "$212.40" in text
    assert "Total $1147.40" in text
    assert "Reimbursable (limit $1000.00 per SRO) $1000.00" in text
    assert "exceeds the $1000.00 limit by $147.40" in text


# -- the dashboard ----------------------------------------------------------------

def test_the_dashboard_puts_overdue_first_then_the_soonest_then_what_is_met(frozen_app, agency, coord):
    old = add_award(frozen_app, agency, number="2025-OLD", award_date=date(2025, 6, 1), funded=1,
                    mou=date(2025, 7, 1))
    new = add_award(frozen_app, agency, number="2026-NEW", award_date=date(2026, 3, 2), funded=3)
    add_sro(frozen_app, new, name="Lee", hire_date=None)                                     # 2026-12-02
    add_sro(frozen_app, new, name="Baker", role="backfill", placement_date=date(2026, 6, 1))  # 2027-03-01
    add_sro(frozen_app, new, name="Diaz", training_completed=date(2026, 5, 1))             # met
    add_sro(frozen_app, old, name="Olsen")                                                   # 2026-03-01
    add_sro(frozen_app, new, name="Sato", hire_date=date(2026, 1, 1))                        # 2026-07-01
    table = table_rows(coord.get(f"/agencies/{agency}"), with_class=True)
    assert [(cls, cells[:4]) for cls, cells in table[1:]] == [
        ("status-overdue", ["Overdue by 106 days", "Olsen (initial) training", "2025-OLD", "March 1, 2026"]),
        # Diaz completed the course on 1 May: itemized expenses were due to NASRO 30 days later.
        ("status-overdue", ["Overdue by 15 days", "Diaz: itemized expenses to NASRO", "2026-NEW", "May 31, 2026"]),
        ("status-overdue", ["Overdue by 15 days", "MOU", "2026-NEW", "May 31, 2026"]),
        ("status-due", ["Due in 16 days", "Sato (initial) training", "2026-NEW", "July 1, 2026"]),
        ("status-due", ["Due in 170 days", "Lee (initial) training", "2026-NEW", "December 2, 2026"]),
        ("status-due", ["Due in 259 days", "Baker (backfill) training", "2026-NEW", "March 1, 2027"]),
        ("status-met", ["Met", "MOU", "2025-OLD", "August 30, 2025"]),
        ("status-met", ["Met", "Diaz (initial) training", "2026-NEW", "December 2, 2026"]),
    ]


def test_the_dashboard_shows_each_claim_total(frozen_app, agency, coord):
    award = add_award(frozen_app, agency)
    sro_id = add_sro(frozen_app, award, name="Park", training_completed=date(2026, 6, 1))
    add_sro(frozen_app, award, name="Grant", role="backfill", placement_date=date(2026, 6, 1))
    add_expense(frozen_app, sro_id, "700.00")
    add_expense(frozen_app, sro_id, "400.50")
    claims = {cells[1]: cells[4] for cells in table_rows(coord.get(f"/agencies/{agency}"))[1:]}
    assert claims["Park (initial) training"] == "$1100.50 (over $1000.00)"
    assert claims["Grant (backfill) training"] == "Agency pays"


# -- the roster import and export -------------------------------------------------

ROSTER = ("officer,award_number,award_date,hire_date,role,placement_date,training_completed,expenses_submitted,unit\n"
          "J. Smith,2026-UL-WX-0042,2026-03-02,2026-04-15,initial,,,,North\n"
          "K. Wrong,2026-UL-WX-0042,2026-13-01,,initial,,,,South\n")


def import_roster(client, agency_id, data: bytes, as_of="2026-06-15", download=False, filename="roster.csv"):
    path = f"/agencies/{agency_id}/roster/import"
    form = {"csrf_token": csrf_token(client, f"/agencies/{agency_id}"), "as_of": as_of,
            "roster": (io.BytesIO(data), filename, "text/csv")}
    if download:
        form["download"] = "1"
    return client.post(path, data=form, content_type="multipart/form-data")


def test_an_imported_roster_is_shown_with_the_computed_columns(frozen_app, agency, coord):
    response = import_roster(coord, agency, ROSTER.encode())
    assert response.status_code == 200
    table = table_rows(response)
    assert table[0] == ["officer", "award_number", "award_date", "hire_date", "role", "placement_date",
                        "training_completed", "expenses_submitted", "unit", "training_due", "training_status",
                        "days_left", "prior_training", "mou_due", "expenses_due", "records_keep_until", "error"]
    smith, wrong = table[1], table[2]
    assert smith[8:] == ["North", "2026-10-15", "due", "122", "", "2026-05-31", "", "", ""]
    assert wrong[8] == "South" and wrong[10] == "error"
    assert "award_date" in wrong[16] and "2026-13-01" in wrong[16]
    assert "Some rows have errors" in page_text(response)


def test_an_imported_roster_can_be_downloaded(frozen_app, agency, coord):
    response = import_roster(coord, agency, ROSTER.encode(), download=True)
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    assert response.headers["Content-Disposition"] == 'attachment; filename="roster-report-2026-06-15.csv"'
    report = list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))
    assert [(r["officer"], r["unit"], r["training_due"], r["training_status"]) for r in report] == [
        ("J. Smith", "North", "2026-10-15", "due"), ("K. Wrong", "South", "", "error")]


def test_the_as_of_date_defaults_to_today(frozen_app, agency, coord):
    response = import_roster(coord, agency, ROSTER.encode(), as_of="", download=True)
    assert response.headers["Content-Disposition"] == 'attachment; filename="roster-report-2026-06-15.csv"'
    assert "J. Smith,2026-UL-WX-0042,2026-03-02,2026-04-15,initial,,,,North,2026-10-15,due,122," \
        in response.get_data(as_text=True)


def test_a_roster_with_a_byte_order_mark_and_crlf_is_read(frozen_app, agency, coord):
    data = b"\xef\xbb\xbf" + ROSTER.replace("\n", "\r\n").encode()
    table = table_rows(import_roster(coord, agency, data))
    assert table[0][0] == "officer" and table[1][0] == "J. Smith"


@pytest.mark.parametrize("data, message", [
    ("officer,award_number\nJosé,1\n".encode("latin-1"), "The roster must be a CSV file saved as UTF-8 text."),
    (ROSTER.encode("utf-16"), "The roster must be a CSV file saved as UTF-8 text."),
    (b"officer,award_number,award_date\nJ. Smith,1,2026-03-02\n", "the header is missing the columns"),
    (b"", "the file is empty"),
    (b"\n\n", "the file is empty"),
    (ROSTER.encode() + b"x" * 140_000 + b"\n", "the file is not valid CSV"),
], ids=["latin-1", "utf-16", "missing-columns", "empty", "blank-lines", "huge-cell"])
def test_a_bad_roster_file_gets_a_clear_message(frozen_app, agency, coord, data, message):
    before = agency_state(frozen_app)
    response = import_roster(coord, agency, data)
    assert response.status_code == 303
    assert response.headers["Location"].endswith(f"/agencies/{agency}")
    assert message in page_text(coord.get(response.headers["Location"]))
    assert agency_state(frozen_app) == before


def test_checking_without_a_file_gets_a_clear_message(frozen_app, agency, coord):
    response = submit(coord, f"/agencies/{agency}/roster/import", {"as_of": ""}, form_page=f"/agencies/{agency}")
    assert response.status_code == 303
    assert "Choose a roster CSV file to check." in page_text(coord.get(response.headers["Location"]))


def test_a_roster_over_2_mb_gets_a_clear_message(frozen_app, agency, coord):
    data = (ROSTER + "x" * (2 * 1024 * 1024)).encode()
    response = import_roster(coord, agency, data)
    assert response.status_code == 303
    assert "The roster is larger than 2 MB." in page_text(coord.get(response.headers["Location"]))


def test_the_export_has_this_agencys_sros_with_the_computed_columns(frozen_app, agency, coord):
    award = add_award(frozen_app, agency)
    add_sro(frozen_app, award, name="Ofc. Dana Park", hire_date=date(2026, 4, 15))
    add_sro(frozen_app, award, name="Ofc. Lee Grant", role="backfill", placement_date=date(2026, 5, 1))
    add_sro(frozen_app, award, name="Ofc. Early", training_completed=date(2026, 5, 1),
            expenses_submitted=date(2026, 5, 20))
    oak = new_agency(frozen_app, name="Oak County Sheriff", coordinator="oak@example.gov")
    add_sro(frozen_app, add_award(frozen_app, oak, number="OAK-1"), name="Dep. Elsewhere")
    response = coord.get(f"/agencies/{agency}/roster/export.csv")
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    assert response.headers["Content-Disposition"] == 'attachment; filename="sro-roster-2026-06-15.csv"'
    report = list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))
    got = {r["officer"]: (r["award_number"], r["role"], r["training_due"], r["training_status"], r["days_left"],
                          r["mou_due"], r["expenses_due"], r["records_keep_until"], r["error"]) for r in report}
    assert got == {
        "Ofc. Dana Park": (AWARD, "initial", "2026-10-15", "due", "122", "2026-05-31", "", "", ""),
        "Ofc. Lee Grant": (AWARD, "backfill", "2027-02-01", "due", "231", "2026-05-31", "", "", ""),
        "Ofc. Early": (AWARD, "initial", "2026-12-02", "met", "", "2026-05-31", "2026-05-31", "2029-05-20", ""),
    }
    assert "Dep. Elsewhere" not in response.get_data(as_text=True)
