"""The CHP School Resource Officer training rules, each pinned by worked examples.

Every expected value below was worked out by hand (the arithmetic is in the comments);
none is computed by calling the code under test."""

from __future__ import annotations

import sys
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

PLUGIN_DIR = Path(__file__).resolve().parents[2] / "plugins" / "agencies"
if str(PLUGIN_DIR) not in sys.path:
    sys.path.insert(0, str(PLUGIN_DIR))

from portal_agencies import rules  # noqa: E402
from portal_agencies.rules import (  # noqa: E402
    Expense,
    PriorTraining,
    Role,
    RuleError,
    Status,
    add_months,
    evaluate_sro,
)

D = date


# -- add_months -------------------------------------------------------------------------

@pytest.mark.parametrize(("start", "months", "expected"), [
    (D(2026, 1, 15), 9, D(2026, 10, 15)),   # Jan + 9 = Oct, day 15 exists
    (D(2026, 3, 1), 6, D(2026, 9, 1)),      # Mar + 6 = Sep
    (D(2026, 5, 31), 9, D(2027, 2, 28)),    # May + 9 = Feb 2027; 2027 not leap -> 28
    (D(2027, 5, 31), 9, D(2028, 2, 29)),    # May + 9 = Feb 2028; 2028 leap -> 29
    (D(2026, 8, 31), 6, D(2027, 2, 28)),    # Aug + 6 = Feb 2027 -> 28
    (D(2027, 8, 31), 6, D(2028, 2, 29)),    # Aug + 6 = Feb 2028 -> 29
    (D(2026, 1, 30), 1, D(2026, 2, 28)),    # Jan + 1 = Feb 2026 -> 28
    (D(2028, 1, 30), 1, D(2028, 2, 29)),    # Feb 2028 has 29 days
    (D(2026, 3, 31), 1, D(2026, 4, 30)),    # April has 30 days
    (D(2026, 11, 30), 3, D(2027, 2, 28)),   # Nov + 3 = Feb of the next year
    (D(2026, 12, 15), 1, D(2027, 1, 15)),   # Dec + 1 = Jan of the next year
    (D(2100, 5, 31), 9, D(2101, 2, 28)),    # 2101 not leap
    (D(2099, 5, 31), 9, D(2100, 2, 28)),    # 2100 divisible by 100, not by 400 -> not leap
    (D(2099, 5, 31), 0, D(2099, 5, 31)),    # zero months: unchanged
])
def test_add_months_keeps_the_day_or_takes_the_last_day_of_a_shorter_month(start, months, expected):
    assert add_months(start, months) == expected


@pytest.mark.parametrize(("start", "months", "expected"), [
    (D(2025, 2, 28), -12, D(2024, 2, 28)),  # a year back, Feb 28 exists
    (D(2024, 2, 29), -12, D(2023, 2, 28)),  # Feb 2023 has no 29th -> 28
    (D(2026, 3, 31), -1, D(2026, 2, 28)),   # Feb 2026 -> 28
    (D(2026, 1, 15), -1, D(2025, 12, 15)),  # back across a year end
    (D(2026, 1, 15), -12, D(2025, 1, 15)),
    (D(2025, 3, 1), -12, D(2024, 3, 1)),
])
def test_add_months_goes_back_for_negative_months(start, months, expected):
    assert add_months(start, months) == expected


@pytest.mark.parametrize(("start", "expected"), [
    (D(2026, 9, 10), D(2029, 9, 10)),   # 36 months = three years to the day
    (D(2028, 2, 29), D(2031, 2, 28)),   # 2031 not leap -> 28
    (D(2025, 2, 28), D(2028, 2, 28)),   # the 28th exists in a leap February too
])
def test_three_years_is_36_months(start, expected):
    assert add_months(start, 36) == expected
    assert rules.records_keep_until(start) == expected


# -- deadlines: the due day is on time ---------------------------------------------------

DUE = D(2026, 9, 1)


@pytest.mark.parametrize(("completed", "as_of", "status", "days_left"), [
    (D(2026, 9, 1), D(2026, 10, 1), Status.MET, None),        # done on the due day: on time
    (D(2026, 8, 1), D(2026, 10, 1), Status.MET, None),        # done early
    (D(2026, 9, 2), D(2026, 10, 1), Status.MET_LATE, None),   # one day late
    (None, D(2026, 9, 1), Status.DUE, 0),                     # due day itself, not done: still due, 0 left
    (None, D(2026, 9, 2), Status.OVERDUE, -1),                # Sep 1 - Sep 2 = -1
    (None, D(2026, 8, 2), Status.DUE, 30),                    # Aug 2 -> Aug 31 = 29, + 1 to Sep 1 = 30
    (None, D(2026, 10, 1), Status.OVERDUE, -30),              # Sep 1 -> Oct 1 = 30 days late
])
def test_deadline_status(completed, as_of, status, days_left):
    result = rules.deadline_status(DUE, completed, as_of)
    assert (result.due, result.status, result.days_left) == (DUE, status, days_left)


def test_statuses_are_the_documented_words():
    assert [s.value for s in Status] == ["met", "met-late", "due", "overdue"]
    assert [p.value for p in PriorTraining] == ["accepted", "too-old"]
    assert Status.MET_LATE == "met-late"


# -- the MOU: 90 days after the award letter ---------------------------------------------

@pytest.mark.parametrize(("award", "expected"), [
    # Jan 15 -> Jan 31 = 16; 90 - 16 = 74; - Feb 28 = 46; - Mar 31 = 15 -> Apr 15
    (D(2026, 1, 15), D(2026, 4, 15)),
    # leap year: 16; 74 - Feb 29 = 45; - Mar 31 = 14 -> Apr 14
    (D(2028, 1, 15), D(2028, 4, 14)),
    # Dec 15 -> Dec 31 = 16; 74 - Jan 31 = 43; - Feb 28 (2027) = 15 -> Mar 15
    (D(2026, 12, 15), D(2027, 3, 15)),
    # 16; 43; - Feb 29 (2028) = 14 -> Mar 14
    (D(2027, 12, 15), D(2028, 3, 14)),
    # Feb 1 -> Feb 28 = 27; + Mar 31 = 58; + Apr 30 = 88; + 2 -> May 2
    (D(2026, 2, 1), D(2026, 5, 2)),
])
def test_mou_is_due_90_days_after_the_award_letter(award, expected):
    assert rules.mou_due(award) == expected


@pytest.mark.parametrize(("submitted", "as_of", "status", "days_left"), [
    (D(2026, 4, 15), D(2026, 5, 1), Status.MET, None),       # on the 90th day: on time
    (D(2026, 4, 16), D(2026, 5, 1), Status.MET_LATE, None),  # the 91st day: late
    (None, D(2026, 4, 15), Status.DUE, 0),
    (None, D(2026, 3, 16), Status.DUE, 30),                  # Mar 16 -> Mar 31 = 15, + 15 = 30
    (None, D(2026, 4, 20), Status.OVERDUE, -5),              # Apr 15 - Apr 20 = -5
])
def test_mou_status(submitted, as_of, status, days_left):
    # award 2026-01-15 -> MOU due 2026-04-15 (worked out above)
    result = rules.mou_status(D(2026, 1, 15), submitted, as_of)
    assert (result.due, result.status, result.days_left) == (D(2026, 4, 15), status, days_left)


def test_an_mou_submitted_after_the_as_of_date_is_impossible():
    with pytest.raises(RuleError) as caught:
        rules.mou_status(D(2026, 1, 15), D(2026, 5, 2), D(2026, 5, 1))
    assert caught.value.column == "mou_submitted"


# -- initial SRO: the earlier of 9 months after award and 6 months after hire ------------

@pytest.mark.parametrize(("award", "hire", "expected"), [
    # 9 months after award = 2026-10-15; 6 months after hire = 2026-09-01 -> the earlier
    (D(2026, 1, 15), D(2026, 3, 1), D(2026, 9, 1)),
    # hire unknown -> 9 months after award: 2026-10-15
    (D(2026, 1, 15), None, D(2026, 10, 15)),
    # hire 2026-06-01 + 6 = 2026-12-01, later than 2026-10-15 -> 2026-10-15
    (D(2026, 1, 15), D(2026, 6, 1), D(2026, 10, 15)),
    # hire 2026-04-15 + 6 = 2026-10-15: both the same
    (D(2026, 1, 15), D(2026, 4, 15), D(2026, 10, 15)),
    # award 2026-05-31 + 9 = 2027-02-28; hire 2026-08-31 + 6 = 2027-02-28
    (D(2026, 5, 31), D(2026, 8, 31), D(2027, 2, 28)),
    # award 2027-05-31 + 9 = 2028-02-29 (leap); hire 2027-09-30 + 6 = 2028-03-30 -> Feb 29
    (D(2027, 5, 31), D(2027, 9, 30), D(2028, 2, 29)),
])
def test_initial_training_due(award, hire, expected):
    assert rules.initial_training_due(award, hire) == expected


@pytest.mark.parametrize(("placement", "expected"), [
    (D(2026, 8, 20), D(2027, 5, 20)),   # Aug + 9 = May of the next year
    (D(2026, 5, 31), D(2027, 2, 28)),   # month end, not leap
    (D(2027, 5, 31), D(2028, 2, 29)),   # month end, leap
])
def test_backfill_training_due_9_months_after_placement(placement, expected):
    assert rules.backfill_training_due(placement) == expected


# -- prior training: within the 12 months before the reference date ---------------------

@pytest.mark.parametrize(("completed", "reference", "expected"), [
    # 12 months before 2026-01-15 is 2025-01-15: the same calendar date a year earlier counts
    (D(2025, 1, 15), D(2026, 1, 15), PriorTraining.ACCEPTED),
    (D(2025, 1, 14), D(2026, 1, 15), PriorTraining.TOO_OLD),    # one day older
    (D(2026, 1, 14), D(2026, 1, 15), PriorTraining.ACCEPTED),   # the day before
    (D(2026, 1, 15), D(2026, 1, 15), None),                     # on the reference date: not prior
    (D(2026, 2, 1), D(2026, 1, 15), None),                      # after it: not prior
    (None, D(2026, 1, 15), None),
    # 29 Feb: 12 months before 2025-02-28 is 2024-02-28; 2024-02-29 is later -> accepted
    (D(2024, 2, 29), D(2025, 2, 28), PriorTraining.ACCEPTED),
    (D(2024, 2, 28), D(2025, 2, 28), PriorTraining.ACCEPTED),   # exactly 12 months
    (D(2024, 2, 27), D(2025, 2, 28), PriorTraining.TOO_OLD),
    # 12 months before 2025-03-01 is 2024-03-01; 2024-02-29 is a day older -> too-old
    (D(2024, 2, 29), D(2025, 3, 1), PriorTraining.TOO_OLD),
    # 12 months before 2024-02-29 is 2023-02-28 (no 29th in 2023)
    (D(2023, 2, 28), D(2024, 2, 29), PriorTraining.ACCEPTED),
    (D(2023, 2, 27), D(2024, 2, 29), PriorTraining.TOO_OLD),
])
def test_prior_training(completed, reference, expected):
    assert rules.prior_training(completed, reference) == expected


# -- evaluate_sro: initial SROs ----------------------------------------------------------

AWARD = D(2026, 1, 15)   # MOU due 2026-04-15; 9 months -> 2026-10-15
HIRE = D(2026, 3, 1)     # 6 months -> 2026-09-01, the earlier: training due 2026-09-01


def test_an_initial_sro_not_yet_trained_is_due():
    ev = evaluate_sro("initial", AWARD, HIRE, None, None, None, D(2026, 5, 30))
    assert ev.role is Role.INITIAL
    assert ev.training_due == D(2026, 9, 1)
    assert ev.training_status is Status.DUE
    # May 30 -> May 31 = 1; + Jun 30 + Jul 31 + Aug 31 = 93; + 1 to Sep 1 = 94
    assert ev.days_left == 94
    assert ev.prior_training is None
    assert ev.mou_due == D(2026, 4, 15)
    assert ev.expenses_due is None and ev.records_keep_until is None
    assert ev.reimbursable is True
    assert ev.messages == ()


def test_an_initial_sro_with_the_hire_date_unknown_has_9_months_from_the_award():
    ev = evaluate_sro("initial", AWARD, None, None, None, None, D(2026, 10, 1))
    assert ev.training_due == D(2026, 10, 15)
    assert (ev.training_status, ev.days_left) == (Status.DUE, 14)   # Oct 15 - Oct 1 = 14


def test_training_on_the_due_day_is_on_time():
    ev = evaluate_sro("initial", AWARD, HIRE, None, D(2026, 9, 1), None, D(2026, 9, 1))
    assert (ev.training_status, ev.days_left) == (Status.MET, None)
    # expenses due 30 days after completion: Sep 1 + 29 = Sep 30, + 1 = Oct 1
    assert ev.expenses_due == D(2026, 10, 1)


def test_training_one_day_after_the_due_day_is_late():
    ev = evaluate_sro("initial", AWARD, HIRE, None, D(2026, 9, 2), None, D(2026, 9, 2))
    assert (ev.training_status, ev.days_left) == (Status.MET_LATE, None)
    assert any("1 days after it was due on 2026-09-01" in m for m in ev.messages)
    # Sep 2 -> Sep 30 = 28; + 2 = Oct 2
    assert ev.expenses_due == D(2026, 10, 2)


def test_untrained_one_day_after_the_due_day_is_overdue():
    ev = evaluate_sro("initial", AWARD, HIRE, None, None, None, D(2026, 9, 2))
    assert (ev.training_status, ev.days_left) == (Status.OVERDUE, -1)
    assert any("1 days overdue" in m for m in ev.messages)


def test_completed_training_with_expenses_submitted():
    ev = evaluate_sro("initial", AWARD, HIRE, None, D(2026, 8, 20), D(2026, 9, 10), D(2026, 10, 1))
    assert ev.training_status is Status.MET
    # Aug 20 -> Aug 31 = 11; 30 - 11 = 19 -> Sep 19
    assert ev.expenses_due == D(2026, 9, 19)
    # 2026-09-10 + 3 years
    assert ev.records_keep_until == D(2029, 9, 10)
    assert ev.reimbursable is True
    assert ev.messages == ()


def test_expenses_submitted_late_are_reported():
    # completion 2026-08-20 -> expenses due 2026-09-19; submitted 2026-09-21 = 2 days late
    ev = evaluate_sro("initial", AWARD, HIRE, None, D(2026, 8, 20), D(2026, 9, 21), D(2026, 10, 1))
    assert ev.expenses_due == D(2026, 9, 19)
    assert any("2 days after they were due on 2026-09-19" in m for m in ev.messages)
    # submitted on the 30th day: on time, no message
    ev = evaluate_sro("initial", AWARD, HIRE, None, D(2026, 8, 20), D(2026, 9, 19), D(2026, 10, 1))
    assert ev.messages == ()


def test_expenses_not_submitted_after_their_due_date_are_reported():
    ev = evaluate_sro("initial", AWARD, HIRE, None, D(2026, 8, 20), None, D(2026, 9, 20))
    assert any("were due to NASRO on 2026-09-19 and have not been submitted" in m for m in ev.messages)
    ev = evaluate_sro("initial", AWARD, HIRE, None, D(2026, 8, 20), None, D(2026, 9, 19))
    assert ev.messages == ()


def test_training_on_the_award_date_itself_is_not_prior_and_has_expenses():
    ev = evaluate_sro("initial", AWARD, None, None, D(2026, 1, 15), None, D(2026, 1, 20))
    assert ev.prior_training is None
    assert ev.training_status is Status.MET
    # Jan 15 -> Jan 31 = 16; 30 - 16 = 14 -> Feb 14
    assert ev.expenses_due == D(2026, 2, 14)


@pytest.mark.parametrize(("completed", "expected"), [
    (D(2026, 2, 10), D(2026, 3, 12)),   # Feb 10 -> Feb 28 = 18; 30 - 18 = 12 -> Mar 12
    (D(2028, 2, 10), D(2028, 3, 11)),   # leap: Feb 10 -> Feb 29 = 19; 11 -> Mar 11
    (D(2026, 12, 15), D(2027, 1, 14)),  # Dec 15 -> Dec 31 = 16; 14 -> Jan 14
])
def test_expenses_due_30_days_after_completion(completed, expected):
    assert rules.expenses_due(completed) == expected


# -- evaluate_sro: prior training --------------------------------------------------------

def test_prior_training_exactly_12_months_before_the_award_is_accepted_and_met():
    # award 2026-01-15; 12 months earlier = 2025-01-15
    ev = evaluate_sro("initial", AWARD, None, None, D(2025, 1, 15), None, D(2026, 2, 1))
    assert ev.prior_training is PriorTraining.ACCEPTED
    assert (ev.training_status, ev.days_left) == (Status.MET, None)
    assert ev.training_due == D(2026, 10, 15)
    assert rules.RESPONSE_CENTER_REMINDER in ev.messages
    assert ev.expenses_due is None          # completed before the award: nothing to claim
    assert ev.reimbursable is False         # no course to pay travel for


def test_the_response_center_reminder_gives_phone_and_email():
    assert "800-421-6770" in rules.RESPONSE_CENTER_REMINDER
    assert "AskCopsRC@usdoj.gov" in rules.RESPONSE_CENTER_REMINDER
    assert "location and date" in rules.RESPONSE_CENTER_REMINDER


def test_prior_training_one_day_too_old_does_not_count_and_must_be_retaken():
    ev = evaluate_sro("initial", AWARD, None, None, D(2025, 1, 14), None, D(2026, 2, 1))
    assert ev.prior_training is PriorTraining.TOO_OLD
    assert ev.training_status is Status.DUE
    # Feb 1 -> Feb 28 = 27; + Mar 31 + Apr 30 + May 31 + Jun 30 + Jul 31 + Aug 31 + Sep 30 = 241;
    # + 15 to Oct 15 = 256
    assert ev.days_left == 256
    assert rules.RESPONSE_CENTER_REMINDER not in ev.messages
    assert any("must retake the course" in m and "2025-01-15" in m for m in ev.messages)
    assert ev.expenses_due is None
    assert ev.reimbursable is True          # the retaken course is reimbursable


def test_too_old_prior_training_goes_overdue_like_no_training():
    # due 2026-10-15; as of 2026-10-16 -> -1
    ev = evaluate_sro("initial", AWARD, None, None, D(2024, 6, 1), None, D(2026, 10, 16))
    assert (ev.prior_training, ev.training_status, ev.days_left) == (PriorTraining.TOO_OLD, Status.OVERDUE, -1)


def test_prior_training_on_29_february():
    # award 2025-02-28; 12 months earlier = 2024-02-28 <= 2024-02-29 -> accepted
    ev = evaluate_sro("initial", D(2025, 2, 28), None, None, D(2024, 2, 29), None, D(2025, 3, 1))
    assert (ev.prior_training, ev.training_status) == (PriorTraining.ACCEPTED, Status.MET)


# -- evaluate_sro: backfill SROs ---------------------------------------------------------

PLACED = D(2026, 8, 20)   # training due 2026-08-20 + 9 months = 2027-05-20


def test_a_backfill_sro_is_due_9_months_after_placement_and_the_agency_pays():
    ev = evaluate_sro("backfill", AWARD, None, PLACED, None, None, D(2026, 9, 1))
    assert ev.role is Role.BACKFILL
    assert ev.training_due == D(2027, 5, 20)
    # Sep 1 -> Sep 30 = 29; + Oct 31 + Nov 30 + Dec 31 + Jan 31 + Feb 28 + Mar 31 + Apr 30 = 241; + 20 = 261
    assert (ev.training_status, ev.days_left) == (Status.DUE, 261)
    assert ev.mou_due == D(2026, 4, 15)
    assert ev.reimbursable is False
    assert rules.BACKFILL_PAYS_MESSAGE in ev.messages


def test_a_backfill_sro_ignores_the_hire_date_and_has_no_expenses_due():
    ev = evaluate_sro("backfill", AWARD, D(2026, 8, 1), PLACED, D(2026, 10, 1), D(2026, 10, 5), D(2026, 11, 1))
    assert ev.training_due == D(2027, 5, 20)      # not hire + 6 months (2027-02-01)
    assert ev.training_status is Status.MET
    assert ev.expenses_due is None                # the agency pays: nothing to claim from NASRO
    assert ev.records_keep_until == D(2029, 10, 5)


def test_a_backfill_sro_without_an_award_date_has_no_mou_date():
    ev = evaluate_sro("backfill", None, None, PLACED, None, None, D(2026, 9, 1))
    assert ev.mou_due is None and ev.training_due == D(2027, 5, 20)


def test_backfill_prior_training_counts_back_from_the_placement_date():
    # award 2025-01-15, placed 2026-08-20; completed 2024-12-01.
    # From the award it would be within 12 months (2024-01-15 <= 2024-12-01), but a backfill
    # counts from placement: 12 months before 2026-08-20 = 2025-08-20 > 2024-12-01 -> too-old.
    ev = evaluate_sro("backfill", D(2025, 1, 15), None, PLACED, D(2024, 12, 1), None, D(2026, 9, 1))
    assert ev.prior_training is PriorTraining.TOO_OLD
    assert ev.training_status is Status.DUE
    assert any("placement date" in m for m in ev.messages)
    # 2025-08-20 is exactly 12 months before placement -> accepted, met
    ev = evaluate_sro("backfill", D(2025, 1, 15), None, PLACED, D(2025, 8, 20), None, D(2026, 9, 1))
    assert (ev.prior_training, ev.training_status) == (PriorTraining.ACCEPTED, Status.MET)
    assert rules.RESPONSE_CENTER_REMINDER in ev.messages
    # 2025-08-19 is one day older -> too-old
    ev = evaluate_sro("backfill", D(2025, 1, 15), None, PLACED, D(2025, 8, 19), None, D(2026, 9, 1))
    assert ev.prior_training is PriorTraining.TOO_OLD


def test_role_is_case_insensitive():
    assert evaluate_sro(" Initial ", AWARD, None, None, None, None, D(2026, 2, 1)).role is Role.INITIAL
    assert evaluate_sro("BACKFILL", None, None, PLACED, None, None, D(2026, 9, 1)).role is Role.BACKFILL


# -- impossible inputs -------------------------------------------------------------------

@pytest.mark.parametrize(("args", "column", "words"), [
    (("sergeant", AWARD, None, None, None, None, D(2026, 2, 1)), "role", "not initial or backfill"),
    (("", AWARD, None, None, None, None, D(2026, 2, 1)), "role", "role is empty"),
    (("initial", None, HIRE, None, None, None, D(2026, 2, 1)), "award_date", "required for an initial SRO"),
    (("backfill", AWARD, None, None, None, None, D(2026, 2, 1)), "placement_date", "required for a backfill SRO"),
    (("initial", AWARD, None, None, D(2026, 2, 2), None, D(2026, 2, 1)), "training_completed",
     "training_completed is after the as-of date"),
    (("initial", AWARD, None, None, D(2026, 3, 2), D(2026, 3, 1), D(2026, 4, 1)), "expenses_submitted",
     "expenses_submitted is before training_completed"),
    (("initial", AWARD, None, None, None, D(2026, 3, 1), D(2026, 4, 1)), "expenses_submitted",
     "training_completed is empty"),
    (("initial", AWARD, None, None, D(2026, 3, 2), D(2026, 4, 2), D(2026, 4, 1)), "expenses_submitted",
     "after the as-of date"),
    (("initial", D(206, 5, 31), None, None, None, None, D(2026, 4, 1)), "award_date", "outside the years"),
])
def test_impossible_inputs_raise_a_rule_error_naming_the_column(args, column, words):
    with pytest.raises(RuleError) as caught:
        evaluate_sro(*args)
    assert caught.value.column == column
    assert words in caught.value.message
    assert caught.value.message.startswith(column)   # the message names the column on its own
    assert str(caught.value) == caught.value.message


def test_completion_and_expenses_on_the_as_of_date_are_fine():
    ev = evaluate_sro("initial", AWARD, None, None, D(2026, 4, 1), D(2026, 4, 1), D(2026, 4, 1))
    assert ev.training_status is Status.MET
    assert ev.records_keep_until == D(2029, 4, 1)


@pytest.mark.parametrize(("text", "expected"), [
    ("2026-05-31", D(2026, 5, 31)),
    (" 2026-05-31 ", D(2026, 5, 31)),
    ("", None),
    ("   ", None),
    (None, None),
    (D(2026, 5, 31), D(2026, 5, 31)),
])
def test_parse_date_accepts_iso_dates_and_blanks(text, expected):
    assert rules.parse_date("hire_date", text) == expected


@pytest.mark.parametrize(("text", "words"), [
    ("2026-02-30", "not a real date"),
    ("2027-02-29", "not a real date"),          # 2027 is not a leap year
    ("31/05/2026", "not a date in the form YYYY-MM-DD"),
    ("20260531", "not a date in the form YYYY-MM-DD"),
    ("2026-5-31", "not a date in the form YYYY-MM-DD"),
    ("May 31, 2026", "not a date in the form YYYY-MM-DD"),
])
def test_parse_date_refuses_anything_else_naming_the_column(text, words):
    with pytest.raises(RuleError) as caught:
        rules.parse_date("hire_date", text)
    assert caught.value.column == "hire_date"
    assert caught.value.message.startswith("hire_date") and words in caught.value.message


def test_2028_02_29_is_a_real_date():
    assert rules.parse_date("award_date", "2028-02-29") == D(2028, 2, 29)


# -- reimbursement: up to $1,000, in Decimal ----------------------------------------------

def trip(*items: tuple[str, str]) -> list[Expense]:
    return [Expense(category, Decimal(amount)) for category, amount in items]


def test_expenses_under_the_cap_are_reimbursed_in_full():
    # 412.30 airfare + 3 nights at a 110.00 lodging rate (330.00) + 3 days at 59.00 M&IE (177.00)
    # = 412.30 + 330.00 + 177.00 = 919.30
    expenses = trip(("transportation", "412.30"), ("lodging", "330.00"), ("mie", "177.00"))
    assert rules.total_expenses(expenses) == Decimal("919.30")
    assert rules.is_over_cap(Decimal("919.30")) is False
    assert rules.amount_over_cap(Decimal("919.30")) == Decimal("0.00")
    result = rules.reimbursement(expenses, "initial")
    assert (result.total, result.over_cap_by, result.reimbursable, result.over_cap) == (
        Decimal("919.30"), Decimal("0.00"), Decimal("919.30"), False)
    assert result.messages == ()


def test_expenses_over_the_cap_are_reimbursed_up_to_1000_with_a_message():
    # 612.45 + 4 nights x 150.00 (600.00) + 4 days x 68.00 (272.00) = 1,484.45; over by 484.45
    expenses = trip(("transportation", "612.45"), ("lodging", "600.00"), ("mie", "272.00"))
    result = rules.reimbursement(expenses, "initial")
    assert result.total == Decimal("1484.45")
    assert result.over_cap_by == Decimal("484.45")
    assert result.reimbursable == Decimal("1000.00")
    assert result.over_cap is True
    assert result.messages == (
        "Itemized expenses total $1,484.45, which is $484.45 over the $1,000.00 cap; "
        "NASRO reimburses at most $1,000.00.",)


@pytest.mark.parametrize(("total", "over", "over_by", "reimbursable"), [
    ("1000.00", False, "0.00", "1000.00"),   # exactly the cap is not over it
    ("1000.01", True, "0.01", "1000.00"),    # one cent over
    ("999.99", False, "0.00", "999.99"),
    ("0.00", False, "0.00", "0.00"),
])
def test_the_cap_boundaries(total, over, over_by, reimbursable):
    assert rules.is_over_cap(Decimal(total)) is over
    assert rules.amount_over_cap(Decimal(total)) == Decimal(over_by)
    assert rules.reimbursable_amount(Decimal(total), "initial") == Decimal(reimbursable)


def test_totals_are_exact_decimals():
    # 0.10 + 0.20 = 0.30 exactly (binary floats would give 0.30000000000000004)
    assert rules.total_expenses(trip(("mie", "0.10"), ("mie", "0.20"))) == Decimal("0.30")
    assert isinstance(rules.total_expenses([]), Decimal) and rules.total_expenses([]) == Decimal("0.00")


def test_a_backfill_sro_gets_nothing_reimbursed():
    expenses = trip(("transportation", "412.30"), ("lodging", "330.00"), ("mie", "177.00"))
    result = rules.reimbursement(expenses, "backfill")
    assert result.total == Decimal("919.30")
    assert result.reimbursable == Decimal("0.00")
    assert result.messages == (rules.BACKFILL_PAYS_MESSAGE,)
    assert rules.reimbursable_amount(Decimal("919.30"), "backfill") == Decimal("0.00")


def test_the_cap_is_1000_dollars():
    assert rules.REIMBURSEMENT_CAP == Decimal("1000")


@pytest.mark.parametrize(("text", "expected"), [
    ("125", Decimal("125.00")),
    ("1,234.50", Decimal("1234.50")),
    ("$80.25", Decimal("80.25")),
    (Decimal("59"), Decimal("59.00")),
    (12, Decimal("12.00")),
])
def test_parse_money(text, expected):
    assert rules.parse_money("amount", text) == expected


@pytest.mark.parametrize(("text", "words"), [
    ("-5", "negative"),
    ("12.345", "more than two decimal places"),
    ("abc", "not an amount"),
    ("NaN", "not an amount"),
    ("", "is empty"),
])
def test_parse_money_refuses_bad_amounts(text, words):
    with pytest.raises(RuleError) as caught:
        rules.parse_money("amount", text)
    assert caught.value.column == "amount" and words in caught.value.message


def test_floats_are_refused_as_money():
    with pytest.raises(TypeError):
        rules.parse_money("amount", 0.1)


def test_an_expense_needs_a_known_category():
    with pytest.raises(RuleError) as caught:
        Expense("souvenirs", Decimal("5"))
    assert caught.value.column == "category"
    assert Expense("Lodging", "110").category is rules.ExpenseCategory.LODGING


# -- reminders: exactly 30, 14 and 3 days before ----------------------------------------

def test_the_reminder_offsets():
    assert rules.reminder_offsets == (30, 14, 3)


@pytest.mark.parametrize(("as_of", "expected"), [
    (D(2026, 8, 2), 30),     # Aug 2 -> Aug 31 = 29; + 1 = 30 days before Sep 1
    (D(2026, 8, 18), 14),    # Aug 18 -> Aug 31 = 13; + 1 = 14
    (D(2026, 8, 29), 3),     # Aug 29 -> Aug 31 = 2; + 1 = 3
    (D(2026, 8, 1), None),   # 31 days before
    (D(2026, 8, 3), None),   # 29
    (D(2026, 8, 17), None),  # 15
    (D(2026, 8, 19), None),  # 13
    (D(2026, 8, 28), None),  # 4
    (D(2026, 8, 30), None),  # 2
    (D(2026, 9, 1), None),   # the due day
    (D(2026, 9, 2), None),   # after it
])
def test_reminder_due(as_of, expected):
    assert rules.reminder_due(D(2026, 9, 1), as_of) == expected


def test_reminders_across_february():
    # leap: Jan 31 -> Feb 29 = 29; + 1 = 30 days before 2028-03-01
    assert rules.reminder_due(D(2028, 3, 1), D(2028, 1, 31)) == 30
    # not leap: Jan 31 -> Feb 28 = 28; + 1 = 29 -> none; the day before is 30
    assert rules.reminder_due(D(2027, 3, 1), D(2027, 1, 31)) is None
    assert rules.reminder_due(D(2027, 3, 1), D(2027, 1, 30)) == 30


def test_a_training_reminder_only_while_training_is_due():
    # due 2026-09-01; 2026-08-02 is 30 days before
    ev = evaluate_sro("initial", AWARD, HIRE, None, None, None, D(2026, 8, 2))
    assert rules.training_reminder(ev) == 30
    ev = evaluate_sro("initial", AWARD, HIRE, None, D(2026, 7, 1), None, D(2026, 8, 2))
    assert rules.training_reminder(ev) is None      # met: nothing to remind
    ev = evaluate_sro("initial", AWARD, HIRE, None, None, None, D(2026, 8, 3))
    assert rules.training_reminder(ev) is None      # 29 days before
