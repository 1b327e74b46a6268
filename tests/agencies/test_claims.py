"""Travel claims follow the rules (issue 17): training taken before the award is not
reimbursable and the page says why (it used to say "Reimbursable: $800.00"); amounts are
parsed strictly as dollars and cents (`1e3` used to be $1,000.00 and `1,0,0` $100.00) and
stored as exact decimals; expense dates fall between the award letter date and today (2019
and 2031 used to be accepted). The clock is frozen on 2026-06-15."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from tests.agencies.support import (TravelExpense, add_award, add_expense, add_sro, agency_state, field_error,
                                    new_agency, page_text, rows, signed_in)
from tests.helpers import submit


@pytest.fixture
def agency(frozen_app) -> int:
    return new_agency(frozen_app)


@pytest.fixture
def coord(frozen_app, agency):
    return signed_in(frozen_app, "coord@example.gov")


def post_expense(client, path, amount="80.00", incurred_on="2026-06-01"):
    return submit(client, path, {"category": "lodging", "description": "Hotel", "incurred_on": incurred_on,
                                 "amount": amount})


def test_training_before_the_award_is_not_reimbursable_and_the_page_says_why(frozen_app, agency, coord):
    award_id = add_award(frozen_app, agency, award_date=date(2026, 3, 2))
    # Prior training within 12 months counts for the mandate, but it was not funded by this award.
    sro_id = add_sro(frozen_app, award_id, training_completed=date(2025, 11, 3))
    add_expense(frozen_app, sro_id, "800.00", incurred_on=date(2025, 11, 1))
    response = coord.get(f"/agencies/{agency}/sros/{sro_id}/claim")
    text = page_text(response)
    assert "Reimbursable: $0.00" in text
    assert "Reimbursable: $800.00" not in text
    assert ("Not reimbursable: The course was completed on November 3, 2025, before the award letter date "
            "(March 2, 2026): training taken before the award is not reimbursed by NASRO under this award.") in text
    before = agency_state(frozen_app)
    refused = post_expense(coord, f"/agencies/{agency}/sros/{sro_id}/claim")
    assert refused.status_code == 409
    assert agency_state(frozen_app) == before


def test_training_on_or_after_the_award_date_stays_reimbursable(frozen_app, agency, coord):
    award_id = add_award(frozen_app, agency, award_date=date(2026, 3, 2))
    sro_id = add_sro(frozen_app, award_id, training_completed=date(2026, 3, 2))
    add_expense(frozen_app, sro_id, "800.00")
    assert "Reimbursable: $800.00" in page_text(coord.get(f"/agencies/{agency}/sros/{sro_id}/claim"))


@pytest.mark.parametrize("amount", ["1e3", "1E3", "1,0,0", "1,00", "10,00.00", "NaN", "Infinity", "-5", "+5",
                                    "0x10", "1 000", "12.345", "$", "1.2.3", "١٢٣"])
def test_amounts_that_are_not_us_dollars_and_cents_are_refused(frozen_app, agency, coord, amount):
    award_id = add_award(frozen_app, agency)
    sro_id = add_sro(frozen_app, award_id)
    response = post_expense(coord, f"/agencies/{agency}/sros/{sro_id}/claim", amount)
    assert response.status_code == 422, amount
    assert field_error(response, "amount"), amount
    assert rows(frozen_app, TravelExpense) == []


@pytest.mark.parametrize("amount,stored", [("125", "125.00"), ("125.5", "125.50"), ("$1,250.00", "1250.00"),
                                           ("0.10", "0.10"), ("100,000", "100000.00"), (" $ 80.25 ", "80.25")])
def test_amounts_are_stored_exactly(frozen_app, agency, coord, amount, stored):
    award_id = add_award(frozen_app, agency)
    sro_id = add_sro(frozen_app, award_id)
    assert post_expense(coord, f"/agencies/{agency}/sros/{sro_id}/claim", amount).status_code == 303
    [expense] = rows(frozen_app, TravelExpense)
    assert expense.amount == Decimal(stored) and str(expense.amount) == stored


@pytest.mark.parametrize("incurred_on", ["2019-06-01", "2031-01-01", "2026-03-01", "2026-06-16"])
def test_expense_dates_outside_the_award_date_to_today_are_refused(frozen_app, agency, coord, incurred_on):
    award_id = add_award(frozen_app, agency, award_date=date(2026, 3, 2))
    sro_id = add_sro(frozen_app, award_id)
    response = post_expense(coord, f"/agencies/{agency}/sros/{sro_id}/claim", incurred_on=incurred_on)
    assert response.status_code == 422
    assert field_error(response, "incurred_on") == ("The date must be between the award letter date (March 2, 2026) "
                                                    "and today (June 15, 2026).")
    assert rows(frozen_app, TravelExpense) == []


def test_the_first_and_last_days_of_the_window_are_accepted(frozen_app, agency, coord):
    award_id = add_award(frozen_app, agency, award_date=date(2026, 3, 2))
    sro_id = add_sro(frozen_app, award_id)
    for day in ("2026-03-02", "2026-06-15"):
        assert post_expense(coord, f"/agencies/{agency}/sros/{sro_id}/claim", incurred_on=day).status_code == 303
    assert len(rows(frozen_app, TravelExpense)) == 2
