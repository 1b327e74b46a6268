"""Agency rules that need the database: membership and invitations, awards and SROs,
travel claims, the dashboard, and reminders. Deadlines all come from rules.py."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal, InvalidOperation

from sqlalchemy import bindparam
from sqlalchemy.exc import IntegrityError
from sqlalchemy import update
from sqlmodel import Session, func, select

from portal.accounts.models import User
from portal.accounts.sessions import hash_token
from portal.certificates.models import Certificate
from portal.learning.models import Enrollment
from portal_agencies import history, rules
from portal_agencies.models import (Agency, AgencyInvite, AgencyJoinRequest, AgencyMember, ChpAward, ReminderSent,
                                    SchoolResourceOfficer, TravelExpense)

COORDINATOR, OFFICER = "coordinator", "officer"
INVITE_DAYS = 14
EXPENSE_CATEGORIES = {"transportation": "Transportation", "lodging": "Lodging",
                      "mie": "Meals and incidental expenses (M&IE)"}


class AgencyError(Exception):
    def __init__(self, message: str, field: str | None = None, status: int = 422):
        super().__init__(message)
        self.message, self.field, self.status = message, field, status


# -- membership -------------------------------------------------------------

# Built once: the navigation asks on every signed-in page.
_MEMBERSHIP = select(AgencyMember).where(AgencyMember.user_id == bindparam("user_id"))


def membership_of_user_id(db: Session, user_id: int) -> AgencyMember | None:
    return db.exec(_MEMBERSHIP, params={"user_id": user_id}).first()


def create_agency(db: Session, name: str, coordinator: User, now: datetime, program_manager_email: str = "",
                  actor_id: int | None = None) -> Agency:
    name = " ".join((name or "").split())
    if not name or len(name) > 160:
        raise AgencyError("Enter the agency's name (at most 160 characters).", "name")
    if not coordinator.is_verified or not coordinator.is_active:
        raise AgencyError("The coordinator's account must be active and confirmed.", "coordinator")
    if membership_of_user_id(db, coordinator.id):
        raise AgencyError("That account already belongs to an agency.", "coordinator")
    if db.exec(select(Agency.id).where(func.lower(Agency.name) == name.lower())).first() is not None:
        raise AgencyError("An agency with that name already exists.", "name")
    agency = Agency(name=name, chp_program_manager_email=program_manager_email.strip().lower(), created_at=now)
    db.add(agency)
    try:
        db.flush()
    except IntegrityError:
        db.rollback()
        raise AgencyError("An agency with that name already exists.", "name")
    member = AgencyMember(agency_id=agency.id, user_id=coordinator.id, role=COORDINATOR, joined_at=now)
    db.add(member)
    db.flush()
    history.record_change(db, agency_id=agency.id, kind="agency", record_id=agency.id, action="create",
                          actor_id=actor_id, now=now, after=history.snapshot("agency", agency), label=agency.name)
    history.record_change(db, agency_id=agency.id, kind="member", record_id=member.id, action="create",
                          actor_id=actor_id, now=now, after=history.snapshot("member", member),
                          target_user_id=coordinator.id)
    db.commit()
    return agency


def update_agency_settings(db: Session, agency: Agency, program_manager_email: str, actor_id: int | None,
                           now: datetime, annual_hours_required: int | None = None,
                           training_year_start_month: int | None = None) -> None:
    """The CHP Program Manager's address (certificate copies go to it and to AskCopsRC), and
    the in-service hours the agency requires of each officer a training year."""
    before = history.snapshot("agency", agency)
    agency.chp_program_manager_email = (program_manager_email or "").strip().lower()
    if annual_hours_required is not None:
        agency.annual_hours_required = annual_hours_required
    if training_year_start_month is not None:
        agency.training_year_start_month = training_year_start_month
    db.add(agency)
    history.record_change(db, agency_id=agency.id, kind="agency", record_id=agency.id, action="update",
                          actor_id=actor_id, now=now, before=before, after=history.snapshot("agency", agency),
                          label=agency.name)
    db.commit()


def account_notes(db: Session, user_id: int) -> list[dict]:
    """What support should know about an account's agency before acting on it."""
    member = membership_of_user_id(db, user_id)
    if member is None:
        return []
    agency = db.get(Agency, member.agency_id)
    notes = [{"text": f"{'Coordinator' if member.role == COORDINATOR else 'Officer'} of {agency.name} "
                      f"(member since {member.joined_at:%B %-d, %Y}).", "warning": False}]
    if member.role == COORDINATOR:
        others = db.exec(select(func.count()).select_from(AgencyMember).join(User, User.id == AgencyMember.user_id)
                         .where(AgencyMember.agency_id == agency.id, AgencyMember.role == COORDINATOR,
                                AgencyMember.user_id != user_id, User.is_active)).one()
        if not others:
            notes.append({"text": f"This is the only active coordinator of {agency.name}: deactivating the account "
                                  "leaves the agency with nobody to run its records or receive its CHP deadline "
                                  "reminders. Ask the agency to make another member a coordinator first.",
                          "warning": True})
    return notes


def coordinator_agency(db: Session, user_id: int, agency_id: int) -> Agency | None:
    """The agency if this user coordinates it; None answers exactly like a missing agency."""
    member = membership_of_user_id(db, user_id)
    if member is None or member.agency_id != agency_id or member.role != COORDINATOR:
        return None
    return db.get(Agency, agency_id)


def create_invite(db: Session, agency: Agency, by_user_id: int | None, now: datetime, multi_use: bool = False) -> str:
    token = secrets.token_urlsafe(24)
    invite = AgencyInvite(agency_id=agency.id, token_hash=hash_token(token), created_by=by_user_id, created_at=now,
                          expires_at=now + timedelta(days=INVITE_DAYS), multi_use=multi_use)
    db.add(invite)
    db.flush()
    history.record_change(db, agency_id=agency.id, kind="invite", record_id=invite.id, action="create",
                          actor_id=by_user_id, now=now, after=history.snapshot("invite", invite))
    db.commit()
    return token


def active_invites(db: Session, agency_id: int, now: datetime) -> list[AgencyInvite]:
    return list(db.exec(select(AgencyInvite).where(AgencyInvite.agency_id == agency_id,
                                                   AgencyInvite.revoked_at.is_(None),
                                                   AgencyInvite.expires_at > now,
                                                   AgencyInvite.multi_use | AgencyInvite.used_at.is_(None))
                        .order_by(AgencyInvite.created_at.desc())).all())


def revoke_invite(db: Session, agency_id: int, invite_id: int, now: datetime, actor_id: int | None = None) -> None:
    invite = db.get(AgencyInvite, invite_id)
    if invite is None or invite.agency_id != agency_id:
        raise AgencyError("There is no such invitation.", status=404)
    before = history.snapshot("invite", invite)
    invite.revoked_at = now
    history.record_change(db, agency_id=agency_id, kind="invite", record_id=invite.id, action="update",
                          actor_id=actor_id, now=now, before=before, after=history.snapshot("invite", invite))
    db.add(invite)
    db.commit()


def find_invite(db: Session, token: str, now: datetime) -> tuple[AgencyInvite, Agency] | None:
    if not token or len(token) > 100:
        return None
    invite = db.exec(select(AgencyInvite).where(AgencyInvite.token_hash == hash_token(token))).first()
    if invite is None or invite.revoked_at is not None or invite.expires_at <= now:
        return None
    if not invite.multi_use and invite.used_at is not None:  # single-use: spent by the first join
        return None
    return invite, db.get(Agency, invite.agency_id)


def join_with_invite(db: Session, token: str, user: User, now: datetime) -> tuple[Agency, bool]:
    """The officer, signed in to the account they made themselves, joins the agency.
    A single-use link is spent by this join (a second use finds it gone); a multi-use link
    files a request that a coordinator approves. Returns (agency, waiting for approval)."""
    found = find_invite(db, token, now)
    if found is None:
        raise AgencyError("This invitation has expired, was already used or was withdrawn. Ask your coordinator "
                          "for a new link.", status=404)
    invite, agency = found
    if not user.is_verified:
        raise AgencyError("Confirm your email address before you join an agency.", status=403)
    member = membership_of_user_id(db, user.id)
    if member is not None:
        if member.agency_id == agency.id:
            return agency, False
        raise AgencyError("You already belong to another agency. Leave it first, from your profile.", status=409)
    if invite.multi_use:
        if db.exec(select(AgencyJoinRequest).where(AgencyJoinRequest.agency_id == agency.id,
                                                   AgencyJoinRequest.user_id == user.id)).first() is None:
            db.add(AgencyJoinRequest(agency_id=agency.id, user_id=user.id, invite_id=invite.id, requested_at=now))
            history.record_change(db, agency_id=agency.id, kind="member", record_id=0, action="request",
                                  actor_id=user.id, now=now, after={"user_id": user.id}, target_user_id=user.id,
                                  label="asked to join with a multi-use link")
            try:
                db.commit()
            except IntegrityError:
                db.rollback()
        return agency, True
    # Spend the link in the same statement that checks it is unspent, so two people racing
    # with one single-use link cannot both join.
    spent = db.execute(update(AgencyInvite).where(AgencyInvite.id == invite.id, AgencyInvite.used_at.is_(None))
                    .values(used_at=now, used_by=user.id))
    if spent.rowcount != 1:
        db.rollback()
        raise AgencyError("This invitation was already used. Ask your coordinator for a new link.", status=404)
    joined = AgencyMember(agency_id=agency.id, user_id=user.id, role=OFFICER, joined_at=now)
    db.add(joined)
    try:
        db.flush()
        history.record_change(db, agency_id=agency.id, kind="member", record_id=joined.id, action="create",
                              actor_id=user.id, now=now, after=history.snapshot("member", joined),
                              target_user_id=user.id, label="joined with an invitation")
        db.commit()
    except IntegrityError:
        db.rollback()
        raise AgencyError("You already belong to an agency.", status=409)
    return agency, False


@dataclass
class JoinRequestRow:
    request: AgencyJoinRequest
    user: User


def join_requests(db: Session, agency_id: int) -> list[JoinRequestRow]:
    rows = db.exec(select(AgencyJoinRequest, User).join(User, User.id == AgencyJoinRequest.user_id)
                   .where(AgencyJoinRequest.agency_id == agency_id)
                   .order_by(AgencyJoinRequest.requested_at, AgencyJoinRequest.id)).all()
    return [JoinRequestRow(request, user) for request, user in rows]


def decide_join_request(db: Session, agency_id: int, request_id: int, approve: bool, actor_id: int,
                        now: datetime) -> User:
    """A coordinator approves (the person becomes an officer) or declines a join request."""
    request = db.get(AgencyJoinRequest, request_id)
    if request is None or request.agency_id != agency_id:
        raise AgencyError("There is no such request.", status=404)
    user = db.get(User, request.user_id)
    db.delete(request)
    if not approve:
        history.record_change(db, agency_id=agency_id, kind="member", record_id=0, action="decline",
                              actor_id=actor_id, now=now, before={"user_id": user.id}, target_user_id=user.id,
                              label="join request declined")
        db.commit()
        return user
    if membership_of_user_id(db, user.id) is not None:
        db.rollback()
        raise AgencyError(f"{user.name} already belongs to an agency.", status=409)
    joined = AgencyMember(agency_id=agency_id, user_id=user.id, role=OFFICER, joined_at=now)
    db.add(joined)
    db.flush()
    history.record_change(db, agency_id=agency_id, kind="member", record_id=joined.id, action="create",
                          actor_id=actor_id, now=now, after=history.snapshot("member", joined),
                          target_user_id=user.id, label="join request approved")
    db.commit()
    return user


def leave_agency(db: Session, user_id: int, now: datetime | None = None) -> None:
    member = membership_of_user_id(db, user_id)
    if member is None:
        raise AgencyError("You do not belong to an agency.", status=404)
    if member.role == COORDINATOR:
        others = db.exec(select(func.count()).select_from(AgencyMember).where(
            AgencyMember.agency_id == member.agency_id, AgencyMember.role == COORDINATOR,
            AgencyMember.user_id != user_id)).one()
        if not others:
            raise AgencyError("You are the agency's only coordinator. Make another member a coordinator first.",
                              status=409)
    if now is not None:
        history.record_change(db, agency_id=member.agency_id, kind="member", record_id=member.id, action="delete",
                              actor_id=user_id, now=now, before=history.snapshot("member", member),
                              target_user_id=user_id, label="left the agency")
    db.delete(member)
    db.commit()


def set_member_role(db: Session, agency_id: int, member_id: int, role: str, actor_id: int | None = None,
                    now: datetime | None = None) -> None:
    member = db.get(AgencyMember, member_id)
    if member is None or member.agency_id != agency_id or role not in (COORDINATOR, OFFICER):
        raise AgencyError("There is no such member.", status=404)
    if role == OFFICER and member.role == COORDINATOR:
        others = db.exec(select(func.count()).select_from(AgencyMember).where(
            AgencyMember.agency_id == agency_id, AgencyMember.role == COORDINATOR,
            AgencyMember.id != member_id)).one()
        if not others:
            raise AgencyError("An agency needs at least one coordinator.", status=409)
    before = history.snapshot("member", member)
    member.role = role
    db.add(member)
    if now is not None:
        history.record_change(db, agency_id=agency_id, kind="member", record_id=member.id, action="update",
                              actor_id=actor_id, now=now, before=before, after=history.snapshot("member", member),
                              target_user_id=member.user_id)
    db.commit()


@dataclass
class RosterRow:
    member: AgencyMember
    user: User
    enrollments: int
    completions: int
    certificates: list[Certificate]
    hours_this_year: float = 0.0


def training_year(start_month: int, today: date) -> tuple[date, date]:
    """The training year holding today: from the 1st of its start month, for 12 months."""
    year = today.year if today.month >= start_month else today.year - 1
    first = date(year, start_month, 1)
    return first, rules.add_months(first, 12) - timedelta(days=1)


def with_annual_hours(rows: list[RosterRow], agency: Agency, today: date) -> tuple[list[RosterRow], date, date]:
    """Each member's certificate hours in the current training year; when the agency sets a
    requirement, those furthest behind it first."""
    first, last = training_year(agency.training_year_start_month, today)
    for row in rows:
        row.hours_this_year = sum(c.hours for c in row.certificates
                                  if c.status == "valid" and first <= c.completed_on <= last)
    if agency.annual_hours_required:
        rows = sorted(rows, key=lambda r: (r.hours_this_year - agency.annual_hours_required, r.user.name))
    return rows, first, last


def roster(db: Session, agency_id: int) -> list[RosterRow]:
    """Members with their enrollments, completions and certificates, in four queries."""
    rows = db.exec(select(AgencyMember, User).join(User, User.id == AgencyMember.user_id)
                   .where(AgencyMember.agency_id == agency_id).order_by(User.name, User.id)).all()
    ids = [user.id for _, user in rows]
    if not ids:
        return []
    enrolled = dict(db.exec(select(Enrollment.user_id, func.count()).where(Enrollment.user_id.in_(ids))
                            .group_by(Enrollment.user_id)).all())
    passed = dict(db.exec(select(Enrollment.user_id, func.count()).where(
        Enrollment.user_id.in_(ids), Enrollment.passed_at.is_not(None)).group_by(Enrollment.user_id)).all())
    certificates: dict[int, list[Certificate]] = {}
    for certificate in db.exec(select(Certificate).where(Certificate.user_id.in_(ids))
                               .order_by(Certificate.completed_on.desc())).all():
        certificates.setdefault(certificate.user_id, []).append(certificate)
    return [RosterRow(member, user, enrolled.get(user.id, 0), passed.get(user.id, 0), certificates.get(user.id, []))
            for member, user in rows]


# -- awards and SROs --------------------------------------------------------

def add_award(db: Session, agency: Agency, award_number: str, award_date: date, funded_positions: int,
              mou_submitted_on: date | None, now: datetime, today: date, actor_id: int | None = None) -> ChpAward:
    award_number = (award_number or "").strip()
    if not award_number or len(award_number) > 60:
        raise AgencyError("Enter the award number (at most 60 characters).", "award_number")
    if not 1 <= funded_positions <= 500:
        raise AgencyError("Funded SRO positions must be between 1 and 500.", "funded_positions")
    if mou_submitted_on and mou_submitted_on < award_date:
        raise AgencyError("The MOU submission date is before the award letter date.", "mou_submitted_on")
    if mou_submitted_on and mou_submitted_on > today:
        raise AgencyError("The MOU submission date cannot be in the future.", "mou_submitted_on")
    if award_date > today:
        raise AgencyError("The award letter date cannot be in the future.", "award_date")
    award = ChpAward(agency_id=agency.id, award_number=award_number, award_date=award_date,
                     funded_positions=funded_positions, mou_submitted_on=mou_submitted_on, created_at=now)
    db.add(award)
    try:
        db.flush()
        history.record_change(db, agency_id=agency.id, kind="award", record_id=award.id, action="create",
                              actor_id=actor_id, now=now, after=history.snapshot("award", award),
                              label=award_number)
        db.commit()
    except IntegrityError:
        db.rollback()
        raise AgencyError("This agency already has an award with that number.", "award_number")
    return award


def award_of(db: Session, agency_id: int, award_id: int) -> ChpAward | None:
    award = db.get(ChpAward, award_id)
    return award if award is not None and award.agency_id == agency_id else None


def sro_of(db: Session, agency_id: int, sro_id: int) -> tuple[SchoolResourceOfficer, ChpAward] | None:
    sro = db.get(SchoolResourceOfficer, sro_id)
    award = db.get(ChpAward, sro.award_id) if sro else None
    return (sro, award) if award is not None and award.agency_id == agency_id else None


def save_sro(db: Session, award: ChpAward, sro: SchoolResourceOfficer | None, *, name: str, role: str,
             hire_date: date | None, placement_date: date | None, training_completed: date | None,
             expenses_submitted: date | None, today: date, now: datetime,
             actor_id: int | None = None, response_center_reported_on: date | None = None,
             response_center_answer: str = "") -> SchoolResourceOfficer:
    name = " ".join((name or "").split())
    if not name or len(name) > 120:
        raise AgencyError("Enter the officer's name.", "name")
    if role not in ("initial", "backfill"):
        raise AgencyError("Choose initial or backfill.", "role")
    if role == "backfill" and placement_date is None:
        raise AgencyError("A backfill SRO needs the date placed in the school.", "placement_date")
    if role == "initial" and (sro is None or sro.role != "initial"):
        initial = db.exec(select(func.count()).select_from(SchoolResourceOfficer).where(
            SchoolResourceOfficer.award_id == award.id, SchoolResourceOfficer.role == "initial")).one()
        if initial >= award.funded_positions:
            raise AgencyError(f"This award funds {award.funded_positions} SRO position"
                              f"{'s' if award.funded_positions != 1 else ''}; record a replacement as a backfill.",
                              "role")
    try:
        rules.evaluate_sro(role, award.award_date, hire_date, placement_date, training_completed,
                           expenses_submitted, today)
    except rules.RuleError as error:
        raise AgencyError(error.message, getattr(error, "column", None))
    if response_center_answer not in ("", "satisfied", "retake"):
        raise AgencyError("Choose the COPS Office's answer from the list.", "response_center_answer")
    if response_center_answer and response_center_reported_on is None:
        raise AgencyError("Give the date the prior training was reported to the Response Center.",
                          "response_center_reported_on")
    if response_center_reported_on is not None and response_center_reported_on > today:
        raise AgencyError("The date reported cannot be in the future.", "response_center_reported_on")
    before = history.snapshot("sro", sro) if sro is not None else None
    sro = sro or SchoolResourceOfficer(award_id=award.id, name=name, role=role, created_at=now)
    sro.name, sro.role, sro.hire_date, sro.placement_date = name, role, hire_date, placement_date
    sro.training_completed, sro.expenses_submitted = training_completed, expenses_submitted
    sro.response_center_reported_on, sro.response_center_answer = response_center_reported_on, response_center_answer
    db.add(sro)
    db.flush()
    history.record_change(db, agency_id=award.agency_id, kind="sro", record_id=sro.id,
                          action="update" if before is not None else "create", actor_id=actor_id, now=now,
                          before=before, after=history.snapshot("sro", sro), label=name)
    db.commit()
    return sro


def sros_of_award(db: Session, award_id: int) -> list[SchoolResourceOfficer]:
    return list(db.exec(select(SchoolResourceOfficer).where(SchoolResourceOfficer.award_id == award_id)
                        .order_by(SchoolResourceOfficer.name, SchoolResourceOfficer.id)).all())


# -- travel claims ----------------------------------------------------------

_AMOUNT_CHARACTERS = set("0123456789,.")


def parse_amount(text: str) -> Decimal:
    """Dollars and cents as typed in the U.S.: 125, 125.50, $1,250.00. Digit grouping is
    checked by babel's strict parser (1,0,0 is refused, not read as 100); exponents (1e3),
    signs, NaN and more than two decimal places are refused too."""
    from babel.numbers import NumberFormatError, parse_decimal

    cleaned = (text or "").strip().removeprefix("$").strip()
    if not cleaned or not set(cleaned) <= _AMOUNT_CHARACTERS or not cleaned[0].isdigit():
        raise AgencyError("Enter an amount in dollars and cents, like 125.50 or 1,250.00.", "amount")
    try:
        amount = parse_decimal(cleaned, locale="en_US", strict=True)
    except NumberFormatError:
        raise AgencyError(f"{cleaned} is not an amount: write it like 125.50 or 1,250.00 (commas only between "
                          "groups of three digits).", "amount")
    if amount <= 0 or amount > Decimal("100000") or amount != amount.quantize(Decimal("0.01")):
        raise AgencyError("Enter an amount in dollars and cents, more than zero.", "amount")
    return amount.quantize(Decimal("0.01"))


def claim_blocker(sro: SchoolResourceOfficer, award: ChpAward) -> str | None:
    """Why nothing of this SRO's travel is reimbursable, or None when the claim stands."""
    if sro.role == "backfill":
        return "A backfill SRO's training is paid by the agency: there is no reimbursement claim."
    if sro.training_completed is not None and sro.training_completed < award.award_date:
        return (f"The course was completed on {sro.training_completed:%B %-d, %Y}, before the award letter date "
                f"({award.award_date:%B %-d, %Y}): training taken before the award is not reimbursed by NASRO "
                "under this award.")
    return None


def expense_window(award: ChpAward, today: date) -> tuple[date, date]:
    """Travel for the course is claimed from the award letter date to today."""
    return award.award_date, today


def add_expense(db: Session, sro: SchoolResourceOfficer, category: str, description: str, incurred_on: date,
                amount: Decimal, *, agency_id: int | None = None, actor_id: int | None = None,
                now: datetime | None = None, today: date | None = None) -> TravelExpense:
    award = db.get(ChpAward, sro.award_id)
    blocker = claim_blocker(sro, award)
    if blocker:
        raise AgencyError(blocker, status=409)
    if category not in EXPENSE_CATEGORIES:
        raise AgencyError("Choose transportation, lodging or M&IE.", "category")
    description = " ".join((description or "").split())
    if not description or len(description) > 200:
        raise AgencyError("Describe the expense (at most 200 characters).", "description")
    if today is not None:
        first, last = expense_window(award, today)
        if not first <= incurred_on <= last:
            raise AgencyError(f"The date must be between the award letter date ({first:%B %-d, %Y}) and today "
                              f"({last:%B %-d, %Y}).", "incurred_on")
    expense = TravelExpense(sro_id=sro.id, category=category, description=description, incurred_on=incurred_on,
                            amount=amount)
    db.add(expense)
    if agency_id is not None and now is not None:
        db.flush()
        history.record_change(db, agency_id=agency_id, kind="expense", record_id=expense.id, action="create",
                              actor_id=actor_id, now=now, after=history.snapshot("expense", expense),
                              label=f"claim of SRO {sro.id}")
    db.commit()
    return expense


def expenses_of(db: Session, sro_id: int) -> list[TravelExpense]:
    return list(db.exec(select(TravelExpense).where(TravelExpense.sro_id == sro_id)
                        .order_by(TravelExpense.incurred_on, TravelExpense.id)).all())


def delete_expense(db: Session, sro_id: int, expense_id: int, *, agency_id: int | None = None,
                   actor_id: int | None = None, now: datetime | None = None) -> None:
    expense = db.get(TravelExpense, expense_id)
    if expense is None or expense.sro_id != sro_id:
        raise AgencyError("There is no such expense.", status=404)
    if agency_id is not None and now is not None:
        history.record_change(db, agency_id=agency_id, kind="expense", record_id=expense.id, action="delete",
                              actor_id=actor_id, now=now, before=history.snapshot("expense", expense),
                              label=f"claim of SRO {sro_id}")
    db.delete(expense)
    db.commit()


# -- dashboard and reminders ------------------------------------------------

URGENCY = {"overdue": 0, "due": 1, "task": 2, "error": 3, "met-late": 4, "met": 5}


@dataclass
class DashboardItem:
    kind: str  # training | mou | expenses
    award: ChpAward
    sro: SchoolResourceOfficer | None
    due: date | None
    status: str
    days_left: int | None
    evaluation: object | None
    claim_total: Decimal = Decimal("0")


def _mou_status(award: ChpAward, as_of: date) -> tuple[date, str, int | None]:
    try:
        status = rules.mou_status(award.award_date, award.mou_submitted_on, as_of)
    except rules.RuleError:  # e.g. a submission dated after as_of: show it, do not fail the page
        return rules.mou_due(award.award_date), "error", None
    return status.due, str(status.status), status.days_left


def counted_completion(sro: SchoolResourceOfficer, award: ChpAward) -> date | None:
    """The completion date the rules judge. Prior training the COPS Office answered "retake"
    for does not count: the officer's deadline stands as if untrained."""
    if sro.response_center_answer == "retake" and sro.training_completed is not None:
        reference = rules.training_reference_date(rules.parse_role(sro.role), award.award_date, sro.placement_date)
        if reference is not None and sro.training_completed < reference:
            return None
    return sro.training_completed


def response_center_task(sro: SchoolResourceOfficer, evaluation) -> bool:
    """Prior training was accepted: the fact sheet asks the agency to give the COPS Office
    Response Center its location and date, so that COPS can determine whether it satisfies
    the requirement. Open until the coordinator records the date reported and the answer."""
    return (isinstance(evaluation, rules.SroEvaluation) and evaluation.prior_training is rules.PriorTraining.ACCEPTED
            and not (sro.response_center_reported_on and sro.response_center_answer))


def dashboard(db: Session, agency_id: int, as_of: date) -> list[DashboardItem]:
    """Every SRO's training deadline and every award's MOU, most urgent first."""
    awards = list(db.exec(select(ChpAward).where(ChpAward.agency_id == agency_id)).all())
    award_ids = [a.id for a in awards]
    sros = list(db.exec(select(SchoolResourceOfficer).where(SchoolResourceOfficer.award_id.in_(award_ids))).all()) \
        if award_ids else []
    totals = dict(db.exec(select(TravelExpense.sro_id, func.sum(TravelExpense.amount))
                          .where(TravelExpense.sro_id.in_([s.id for s in sros])).group_by(TravelExpense.sro_id)).all()) \
        if sros else {}
    by_id = {a.id: a for a in awards}
    items = []
    for award in awards:
        due, status, days = _mou_status(award, as_of)
        items.append(DashboardItem("mou", award, None, due, status, days, None))
    for sro in sros:
        award = by_id[sro.award_id]
        try:
            completed = counted_completion(sro, award)
            ev = rules.evaluate_sro(sro.role, award.award_date, sro.hire_date, sro.placement_date,
                                    completed, sro.expenses_submitted if completed else None, as_of)
            items.append(DashboardItem("training", award, sro, ev.training_due, str(ev.training_status), ev.days_left, ev,
                                       Decimal(totals.get(sro.id) or 0)))
            if response_center_task(sro, ev):
                items.append(DashboardItem("cops", award, sro, None, "task", None, ev))
            if ev.expenses_due is not None:  # itemized expenses to NASRO, 30 days after the course
                standing = rules.deadline_status(ev.expenses_due, sro.expenses_submitted, as_of)
                items.append(DashboardItem("expenses", award, sro, ev.expenses_due, str(standing.status),
                                           standing.days_left, ev, Decimal(totals.get(sro.id) or 0)))
        except rules.RuleError as error:
            items.append(DashboardItem("training", award, sro, None, "error", None, error))
    return sorted(items, key=lambda i: (URGENCY.get(i.status, 9),
                                        i.days_left if i.days_left is not None else 10 ** 6,
                                        i.due or date.max, i.kind, i.sro.name if i.sro else ""))


def coordinators_of(db: Session, agency_id: int) -> list[User]:
    return list(db.exec(select(User).join(AgencyMember, AgencyMember.user_id == User.id)
                        .where(AgencyMember.agency_id == agency_id, AgencyMember.role == COORDINATOR,
                               User.is_active)).all())


def _open_deadlines(items: list[DashboardItem]):
    """(kind, item, due date) for every deadline still to meet, overdue ones included: each
    MOU, each SRO's training, and the itemized expenses due to NASRO after an initial SRO's
    course."""
    for item in items:
        if item.status in ("due", "overdue") and item.due is not None:
            yield item.kind, item, item.due


def _digest_line(kind: str, item: DashboardItem, due: date, as_of: date) -> str:
    days = (due - as_of).days
    when = (f"due {due:%B %-d, %Y}, " + ("today" if days == 0 else f"in {days} day{'s' if days != 1 else ''}")
            if days >= 0 else f"was due {due:%B %-d, %Y}: {-days} day{'s' if days != -1 else ''} overdue")
    if kind == "mou":
        return f"MOU for CHP award {item.award.award_number}: {when}."
    if kind == "expenses":
        return (f"Itemized travel expenses of {item.sro.name} (CHP award {item.award.award_number}) to NASRO: "
                f"{when}.")
    return (f"{item.sro.name} (CHP award {item.award.award_number}), 40-hour NASRO basic SRO course: {when}.")


def send_reminders(db: Session, mailer, as_of: date, now: datetime) -> tuple[int, int]:
    """Queue each agency's owed reminders (rules.reminder_owed: the latest of 30/14/3 days
    before, then weekly while overdue) as one digest mail per coordinator, at most one a day.
    Each reminder is recorded as sent, so a rerun sends nothing twice and a run after missed
    days catches up. An item that falls due after today's digest went out waits for
    tomorrow's. Returns (reminders, mails)."""
    sent_keys = {(r.subject_kind, r.subject_id, r.deadline, r.days_before) for r in db.exec(select(ReminderSent)).all()}
    reminders = mails = 0
    for agency in db.exec(select(Agency).order_by(Agency.id)).all():
        coordinators = coordinators_of(db, agency.id)
        if not coordinators or any(("digest", c.id, as_of, 0) in sent_keys for c in coordinators):
            continue
        owed = []
        for kind, item, due in _open_deadlines(dashboard(db, agency.id, as_of)):
            key = rules.reminder_owed(due, as_of)
            subject_id = item.sro.id if item.sro else item.award.id
            if key is None or (kind, subject_id, due, key) in sent_keys:
                continue
            owed.append((kind, item, due, key, subject_id))
        if not owed:
            continue
        owed.sort(key=lambda o: (o[2], o[0], o[1].sro.name if o[1].sro else ""))
        for kind, item, due, key, subject_id in owed:
            db.add(ReminderSent(subject_kind=kind, subject_id=subject_id, deadline=due, days_before=key, sent_at=now))
        lines = [_digest_line(kind, item, due, as_of) for kind, item, due, _, _ in owed]
        overdue = sum(1 for o in owed if o[3] < 0)
        for coordinator in coordinators:
            db.add(ReminderSent(subject_kind="digest", subject_id=coordinator.id, deadline=as_of, days_before=0,
                                sent_at=now))
            mailer.queue(db, coordinator.email, "mail/sro_digest.txt", now, name=coordinator.name,
                         agency=agency.name, lines=lines, count=len(owed), overdue=overdue, agency_id=agency.id)
            mails += 1
        try:
            db.commit()
        except IntegrityError:  # another run got there first: it sent these
            db.rollback()
            continue
        reminders += len(owed)
    return reminders, mails
