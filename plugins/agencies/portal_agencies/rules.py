"""The rules of the COPS Hiring Program (CHP) School Resource Officer training mandate.

This is the one rules engine used by the pages, the reminders and the roster report.
It is pure Python (standard library only): no Flask, no database.

Source: COPS Office fact sheet "COPS Hiring Program School Resource Officer Mandatory
Training" (cops.usdoj.gov). The rules, as this module applies them:

* MOU: "must be submitted within 90 days of the date shown on the award congratulatory
  letter" (the award date).
* Initial SRO: "Training must be completed no later than nine months after the date shown
  on the award congratulatory letter or six months from the SRO hire date, whichever
  comes first."
* Backfill SRO: "the recipient agrees to pay for the new SRO who is assigned to backfill
  this position ... The new SRO must complete the training no later than nine months
  after being placed in the school."
* Prior training: "If the officer has completed 40-hour basic training within the 12
  months prior to the award date, the condition has been fulfilled. Any longer than 12
  months will require the officer to retake the course." The recipient "should contact
  the COPS Office Response Center ... and provide the location and date of the training".
* Reimbursement: "NASRO will reimburse allowable travel costs up to $1,000 per CHP-funded
  SRO", using GSA per diem rates (transportation, hotel, and M&IE).
* Expenses: "After the course is successfully completed, the agency must submit itemized
  expenses to NASRO for reimbursement within 30 days and retain the documentation for
  three years."

A deadline day itself is on time: something done on its due date is `met`.
"""

from __future__ import annotations

import calendar
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal, InvalidOperation
from enum import StrEnum

# -- the numbers in the rules ------------------------------------------------------------

MOU_DAYS = 90
"""The MOU is due within 90 days of the award letter date."""

INITIAL_AWARD_MONTHS = 9
"""An initial SRO's training is due at most 9 months after the award letter date..."""

INITIAL_HIRE_MONTHS = 6
"""...or 6 months after the SRO's hire date, whichever comes first."""

BACKFILL_MONTHS = 9
"""A backfill SRO's training is due 9 months after placement in the school."""

PRIOR_TRAINING_MONTHS = 12
"""Training completed within the 12 months before the reference date counts."""

EXPENSES_DAYS = 30
"""Itemized expenses are due to NASRO within 30 days of completing the course."""

RECORDS_MONTHS = 36
"""Expense documentation is kept for three years after it is submitted."""

REIMBURSEMENT_CAP = Decimal("1000.00")
"""NASRO reimburses allowable travel costs up to $1,000 per CHP-funded SRO."""

REMINDER_OFFSETS: tuple[int, ...] = (30, 14, 3)
"""Reminders go out exactly this many days before a deadline."""
reminder_offsets = REMINDER_OFFSETS

RESPONSE_CENTER_PHONE = "800-421-6770"
RESPONSE_CENTER_EMAIL = "AskCopsRC@usdoj.gov"
RESPONSE_CENTER_REMINDER = (
    "The officer completed a basic SRO course within the 12 months before the reference date. "
    "The agency should contact the COPS Office Response Center "
    f"({RESPONSE_CENTER_PHONE}, {RESPONSE_CENTER_EMAIL}) and provide the location and date of the "
    "training, so that the COPS Office can confirm that the training requirement has been satisfied."
)
"""Shown whenever prior training is accepted (fact sheet: the recipient should contact the
Response Center, which determines whether the requirement has been satisfied)."""

BACKFILL_PAYS_MESSAGE = (
    "Backfill SRO: the agency pays for the 40-hour basic training course; "
    "NASRO does not reimburse travel costs for a backfill SRO."
)

EARLIEST_YEAR = 1900
LATEST_YEAR = 2999
"""Dates outside these years are typing mistakes (e.g. 0206-05-31), not dates of training."""


# -- the vocabulary ---------------------------------------------------------------------

class Role(StrEnum):
    INITIAL = "initial"
    BACKFILL = "backfill"


class Status(StrEnum):
    MET = "met"
    MET_LATE = "met-late"
    DUE = "due"
    OVERDUE = "overdue"


class PriorTraining(StrEnum):
    ACCEPTED = "accepted"
    TOO_OLD = "too-old"


class ExpenseCategory(StrEnum):
    TRANSPORTATION = "transportation"
    LODGING = "lodging"
    MIE = "mie"  # meals and incidental expenses


class RuleError(ValueError):
    """An impossible input. `column` names the input at fault; `message` says what is
    wrong and itself names the column, so it can be shown on its own."""

    def __init__(self, column: str, message: str):
        super().__init__(message)
        self.column = column
        self.message = message

    def __str__(self) -> str:
        return self.message


@dataclass(frozen=True)
class DeadlineStatus:
    """Where one deadline stands on the as-of date. `days_left` is due minus as-of, set
    only for `due` (0 on the due day) and `overdue` (negative)."""

    due: date
    status: Status
    days_left: int | None


@dataclass(frozen=True)
class SroEvaluation:
    """Everything the rules say about one CHP-funded SRO on the as-of date."""

    role: Role
    training_due: date
    training_status: Status
    days_left: int | None
    prior_training: PriorTraining | None
    mou_due: date | None
    expenses_due: date | None
    records_keep_until: date | None
    reimbursable: bool
    messages: tuple[str, ...]


@dataclass(frozen=True)
class Expense:
    """One itemized travel expense, at the GSA per diem rates the agency entered."""

    category: ExpenseCategory
    amount: Decimal
    description: str = ""

    def __post_init__(self):
        try:
            category = ExpenseCategory(str(self.category).strip().lower())
        except ValueError:
            raise RuleError("category", f"category: {self.category!r} is not one of "
                            f"{', '.join(c.value for c in ExpenseCategory)}") from None
        object.__setattr__(self, "category", category)
        object.__setattr__(self, "amount", parse_money("amount", self.amount))


@dataclass(frozen=True)
class Reimbursement:
    """The itemized total against the $1,000 cap."""

    total: Decimal
    over_cap_by: Decimal
    reimbursable: Decimal
    messages: tuple[str, ...]

    @property
    def over_cap(self) -> bool:
        return self.over_cap_by > 0


# -- dates ------------------------------------------------------------------------------

def add_months(d: date, months: int) -> date:
    """The same day of the month `months` later (earlier when negative), or the last day of
    the target month when it is shorter: 31 May + 9 months = 28 Feb (29 Feb in a leap year).
    Used for "nine months after", "six months from", "12 months prior" and "three years"."""
    index = d.year * 12 + (d.month - 1) + months
    year, month0 = divmod(index, 12)
    month = month0 + 1
    last_day = calendar.monthrange(year, month)[1]
    return date(year, month, min(d.day, last_day))


_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


def parse_date(column: str, value: object) -> date | None:
    """A date from a form or a CSV cell: YYYY-MM-DD (surrounding spaces ignored), a `date`,
    or empty/None for unknown. Anything else is a RuleError naming the column."""
    if value is None:
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    text = str(value).strip()
    if not text:
        return None
    if not _ISO_DATE.fullmatch(text):
        raise RuleError(column, f"{column}: {text!r} is not a date in the form YYYY-MM-DD")
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise RuleError(column, f"{column}: {text} is not a real date") from None


def parse_role(value: object) -> Role:
    """`initial` or `backfill`, in any case, surrounding spaces ignored."""
    if isinstance(value, Role):
        return value
    text = "" if value is None else str(value).strip()
    if not text:
        raise RuleError("role", "role is empty; expected initial or backfill")
    try:
        return Role(text.lower())
    except ValueError:
        raise RuleError("role", f"role: {text!r} is not initial or backfill") from None


def _check_range(column: str, d: date | None) -> None:
    if d is not None and not EARLIEST_YEAR <= d.year <= LATEST_YEAR:
        raise RuleError(column, f"{column}: {d.isoformat()} is outside the years {EARLIEST_YEAR}-{LATEST_YEAR}")


# -- deadlines --------------------------------------------------------------------------

def deadline_status(due: date, completed: date | None, as_of: date) -> DeadlineStatus:
    """met: done on or before the due date (the due day itself is on time); met-late: done
    after it; due: not done and as-of <= due; overdue: not done and as-of > due.
    days_left = due - as_of, only for due and overdue."""
    if completed is not None:
        return DeadlineStatus(due, Status.MET if completed <= due else Status.MET_LATE, None)
    days_left = (due - as_of).days
    return DeadlineStatus(due, Status.DUE if days_left >= 0 else Status.OVERDUE, days_left)


def mou_due(award_date: date) -> date:
    """The MOU "must be submitted within 90 days of the date shown on the award
    congratulatory letter": award date + 90 days."""
    return award_date + timedelta(days=MOU_DAYS)


def mou_status(award_date: date, submitted: date | None, as_of: date) -> DeadlineStatus:
    """The MOU's standing on the as-of date (met / met-late / due / overdue). A submission
    date after the as-of date is impossible."""
    if submitted is not None and submitted > as_of:
        raise RuleError("mou_submitted", "mou_submitted is after the as-of date")
    return deadline_status(mou_due(award_date), submitted, as_of)


def initial_training_due(award_date: date, hire_date: date | None = None) -> date:
    """Initial SRO: "no later than nine months after the date shown on the award
    congratulatory letter or six months from the SRO hire date, whichever comes first".
    With the hire date unknown, nine months after the award date."""
    by_award = add_months(award_date, INITIAL_AWARD_MONTHS)
    if hire_date is None:
        return by_award
    return min(by_award, add_months(hire_date, INITIAL_HIRE_MONTHS))


def backfill_training_due(placement_date: date) -> date:
    """Backfill SRO: "no later than nine months after being placed in the school"."""
    return add_months(placement_date, BACKFILL_MONTHS)


def training_reference_date(role: Role, award_date: date | None, placement_date: date | None) -> date | None:
    """The date prior training is measured back from: the award date for an initial SRO,
    the placement date for a backfill SRO."""
    return placement_date if role is Role.BACKFILL else award_date


def prior_training(completed: date | None, reference: date | None) -> PriorTraining | None:
    """Training completed before the reference date "within the 12 months prior" counts
    (accepted) — the same calendar date a year earlier is within them, i.e.
    add_months(reference, -12) <= completed; anything older is too-old and the officer
    must retake the course. None when there is no completion or it is on/after the
    reference date (then it is ordinary training, judged against the due date)."""
    if completed is None or reference is None or completed >= reference:
        return None
    if add_months(reference, -PRIOR_TRAINING_MONTHS) <= completed:
        return PriorTraining.ACCEPTED
    return PriorTraining.TOO_OLD


# -- expenses ---------------------------------------------------------------------------

def expenses_due(completed: date) -> date:
    """Itemized expenses go to NASRO "within 30 days" of completing the course."""
    return completed + timedelta(days=EXPENSES_DAYS)


def expenses_apply(role: Role, award_date: date | None, completed: date | None) -> bool:
    """Expenses are claimed only for an initial SRO whose training was completed on or
    after the award date (a backfill SRO's agency pays; training before the award was not
    funded by it)."""
    return role is Role.INITIAL and award_date is not None and completed is not None and completed >= award_date


def records_keep_until(submitted: date) -> date:
    """The agency must "retain the documentation for three years" after submitting it."""
    return add_months(submitted, RECORDS_MONTHS)


def parse_money(column: str, value: object) -> Decimal:
    """A non-negative amount in dollars and cents ("125", "1,234.50", "$80.25")."""
    if isinstance(value, float):
        raise TypeError("amounts must be Decimal, int or str, not float")
    text = str(value).strip().replace(",", "").removeprefix("$").strip() if value is not None else ""
    if not text:
        raise RuleError(column, f"{column} is empty; enter an amount in dollars and cents")
    try:
        amount = Decimal(text)
    except InvalidOperation:
        raise RuleError(column, f"{column}: {str(value).strip()!r} is not an amount") from None
    if not amount.is_finite():
        raise RuleError(column, f"{column}: {str(value).strip()!r} is not an amount")
    if amount < 0:
        raise RuleError(column, f"{column}: {amount} is negative")
    if amount != amount.quantize(Decimal("0.01")):
        raise RuleError(column, f"{column}: {amount} has more than two decimal places")
    return amount.quantize(Decimal("0.01"))


def total_expenses(expenses: Iterable[Expense]) -> Decimal:
    """The sum of the itemized expenses (transportation, lodging, M&IE), in Decimal."""
    return sum((e.amount for e in expenses), Decimal("0.00")).quantize(Decimal("0.01"))


def amount_over_cap(total: Decimal) -> Decimal:
    """How far the total exceeds the $1,000 cap (0.00 when it does not)."""
    return max(total - REIMBURSEMENT_CAP, Decimal("0.00"))


def is_over_cap(total: Decimal) -> bool:
    """Whether the total exceeds the $1,000 cap ($1,000.00 exactly is not over)."""
    return total > REIMBURSEMENT_CAP


def reimbursable_amount(total: Decimal, role: Role | str = Role.INITIAL) -> Decimal:
    """NASRO reimburses "up to $1,000 per CHP-funded SRO": min(total, 1000). A backfill
    SRO's agency pays, so nothing is reimbursable for one."""
    if parse_role(role) is Role.BACKFILL:
        return Decimal("0.00")
    return min(total, REIMBURSEMENT_CAP)


def _dollars(amount: Decimal) -> str:
    return f"${amount:,.2f}"


def reimbursement(expenses: Iterable[Expense], role: Role | str = Role.INITIAL) -> Reimbursement:
    """The itemized total, how far it is over the cap, what NASRO reimburses, and why."""
    role = parse_role(role)
    total = total_expenses(expenses)
    over = amount_over_cap(total)
    messages: list[str] = []
    if role is Role.BACKFILL:
        messages.append(BACKFILL_PAYS_MESSAGE)
    elif over > 0:
        messages.append(
            f"Itemized expenses total {_dollars(total)}, which is {_dollars(over)} over the "
            f"{_dollars(REIMBURSEMENT_CAP)} cap; NASRO reimburses at most {_dollars(REIMBURSEMENT_CAP)}."
        )
    return Reimbursement(total, over, reimbursable_amount(total, role), tuple(messages))


# -- reminders --------------------------------------------------------------------------

def reminder_due(deadline: date, as_of: date) -> int | None:
    """The reminder due on the as-of date: 30, 14 or 3 when the deadline is exactly that
    many days away, otherwise None."""
    days = (deadline - as_of).days
    return days if days in REMINDER_OFFSETS else None


OVERDUE_EVERY_DAYS = 7
"""An open deadline that has passed is mailed once a week until it is met."""


def reminder_owed(deadline: date, as_of: date) -> int | None:
    """The one reminder owed on the as-of date, as the key it is recorded under:

    * before the deadline, the latest of the 30/14/3-day reminders whose day has come (so a
      run after missed days sends the one that matters now, not three at once): the
      smallest offset >= the days left; None when more than 30 days are left;
    * after it, the overdue notice of the current week: -1 for days 1-7 overdue, -2 for
      days 8-14, and so on (a notice a week until the deadline is met).

    A reminder stays owed from its day until it is sent; recording the key makes it sent."""
    days = (deadline - as_of).days
    if days >= 0:
        owed = [offset for offset in REMINDER_OFFSETS if days <= offset]
        return min(owed) if owed else None
    return -(1 + (-days - 1) // OVERDUE_EVERY_DAYS)


def training_reminder(evaluation: SroEvaluation) -> int | None:
    """The training reminder due on the evaluation's as-of date: only while the training
    is still `due` (not completed and not yet overdue)."""
    if evaluation.training_status is not Status.DUE or evaluation.days_left is None:
        return None
    return evaluation.days_left if evaluation.days_left in REMINDER_OFFSETS else None


# -- one SRO ----------------------------------------------------------------------------

def _validate(role: Role, award_date: date | None, hire_date: date | None, placement_date: date | None,
              training_completed: date | None, expenses_submitted: date | None, as_of: date) -> None:
    """Raise a RuleError for inputs that cannot be true."""
    if as_of is None:
        raise TypeError("as_of is required")
    for column, value in (("award_date", award_date), ("hire_date", hire_date),
                          ("placement_date", placement_date), ("training_completed", training_completed),
                          ("expenses_submitted", expenses_submitted), ("as_of", as_of)):
        if value is not None and (not isinstance(value, date) or isinstance(value, datetime)):
            raise TypeError(f"{column} must be a datetime.date or None, not {type(value).__name__}")
        _check_range(column, value)
    if role is Role.INITIAL and award_date is None:
        raise RuleError("award_date", "award_date is required for an initial SRO")
    if role is Role.BACKFILL and placement_date is None:
        raise RuleError("placement_date", "placement_date is required for a backfill SRO")
    if training_completed is not None and training_completed > as_of:
        raise RuleError("training_completed",
                        f"training_completed is after the as-of date ({training_completed} > {as_of})")
    if expenses_submitted is not None:
        if training_completed is None:
            raise RuleError("expenses_submitted", "expenses_submitted is given but training_completed is empty")
        if expenses_submitted < training_completed:
            raise RuleError("expenses_submitted",
                            "expenses_submitted is before training_completed "
                            f"({expenses_submitted} < {training_completed})")
        if expenses_submitted > as_of:
            raise RuleError("expenses_submitted",
                            f"expenses_submitted is after the as-of date ({expenses_submitted} > {as_of})")


def evaluate_sro(role: Role | str, award_date: date | None, hire_date: date | None, placement_date: date | None,
                 training_completed: date | None, expenses_submitted: date | None, as_of: date) -> SroEvaluation:
    """Apply every rule to one SRO. Raises RuleError(column, message) for impossible input:
    an unknown role, an initial SRO without award_date, a backfill SRO without
    placement_date, training_completed after as_of, expenses_submitted before
    training_completed (or without it, or after as_of)."""
    role = parse_role(role)
    _validate(role, award_date, hire_date, placement_date, training_completed, expenses_submitted, as_of)
    messages: list[str] = []

    if role is Role.INITIAL:
        due = initial_training_due(award_date, hire_date)
    else:
        due = backfill_training_due(placement_date)
        messages.append(BACKFILL_PAYS_MESSAGE)

    reference = training_reference_date(role, award_date, placement_date)
    prior = prior_training(training_completed, reference)
    reference_name = "placement date" if role is Role.BACKFILL else "award date"
    if prior is PriorTraining.ACCEPTED:
        standing = DeadlineStatus(due, Status.MET, None)
        messages.append(RESPONSE_CENTER_REMINDER)
    elif prior is PriorTraining.TOO_OLD:
        standing = deadline_status(due, None, as_of)
        messages.append(
            f"Training completed on {training_completed} is more than 12 months before the {reference_name} "
            f"{reference} (the earliest that counts is {add_months(reference, -PRIOR_TRAINING_MONTHS)}); "
            "the officer must retake the course."
        )
    else:
        standing = deadline_status(due, training_completed, as_of)

    if standing.status is Status.OVERDUE:
        messages.append(f"Training was due on {due} and is {-standing.days_left} days overdue.")
    elif standing.status is Status.MET_LATE:
        messages.append(f"Training was completed on {training_completed}, {(training_completed - due).days} days "
                        f"after it was due on {due}.")

    claim_due = expenses_due(training_completed) if expenses_apply(role, award_date, training_completed) else None
    if claim_due is not None:
        if expenses_submitted is not None and expenses_submitted > claim_due:
            messages.append(f"Itemized expenses were submitted on {expenses_submitted}, "
                            f"{(expenses_submitted - claim_due).days} days after they were due on {claim_due}.")
        elif expenses_submitted is None and as_of > claim_due:
            messages.append(f"Itemized expenses were due to NASRO on {claim_due} and have not been submitted.")

    return SroEvaluation(
        role=role,
        training_due=due,
        training_status=standing.status,
        days_left=standing.days_left,
        prior_training=prior,
        mou_due=mou_due(award_date) if award_date is not None else None,
        expenses_due=claim_due,
        records_keep_until=records_keep_until(expenses_submitted) if expenses_submitted is not None else None,
        reimbursable=role is Role.INITIAL and prior is not PriorTraining.ACCEPTED,
        messages=tuple(messages),
    )
