"""Correcting and deleting agency records: awards, MOU dates, SROs and members. Every change
is written with its history row and audit entry in the same transaction (history.py)."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, func, select

from portal_agencies import history
from portal_agencies.models import AgencyMember, ChpAward, SchoolResourceOfficer
from portal_agencies.services import COORDINATOR, AgencyError


def set_mou(db: Session, award: ChpAward, submitted_on: date | None, actor_id: int | None, now: datetime) -> None:
    before = history.snapshot("award", award)
    award.mou_submitted_on = submitted_on
    db.add(award)
    history.record_change(db, agency_id=award.agency_id, kind="award", record_id=award.id, action="update",
                          actor_id=actor_id, now=now, before=before, after=history.snapshot("award", award),
                          label=award.award_number)
    db.commit()


def update_award(db: Session, award: ChpAward, *, award_number: str, award_date: date, funded_positions: int,
                 mou_submitted_on: date | None, today: date, actor_id: int | None, now: datetime) -> ChpAward:
    """Correct an award. Refused when its SROs would no longer fit (more initial SROs than
    funded positions) or the dates cannot be true."""
    award_number = " ".join((award_number or "").split())
    if not award_number or len(award_number) > 60:
        raise AgencyError("Enter the award number (at most 60 characters).", "award_number")
    if not 1 <= funded_positions <= 500:
        raise AgencyError("Funded SRO positions must be between 1 and 500.", "funded_positions")
    if award_date > today:
        raise AgencyError("The award letter date cannot be in the future.", "award_date")
    if mou_submitted_on and mou_submitted_on < award_date:
        raise AgencyError("The MOU submission date is before the award letter date.", "mou_submitted_on")
    if mou_submitted_on and mou_submitted_on > today:
        raise AgencyError("The MOU submission date cannot be in the future.", "mou_submitted_on")
    initial = db.exec(select(func.count()).select_from(SchoolResourceOfficer).where(
        SchoolResourceOfficer.award_id == award.id, SchoolResourceOfficer.role == "initial")).one()
    if initial > funded_positions:
        raise AgencyError(f"This award has {initial} initial SROs recorded; it cannot fund fewer positions.",
                          "funded_positions")
    before = history.snapshot("award", award)
    award.award_number, award.award_date = award_number, award_date
    award.funded_positions, award.mou_submitted_on = funded_positions, mou_submitted_on
    db.add(award)
    try:
        db.flush()
    except IntegrityError:
        db.rollback()
        raise AgencyError("This agency already has an award with that number.", "award_number")
    history.record_change(db, agency_id=award.agency_id, kind="award", record_id=award.id, action="update",
                          actor_id=actor_id, now=now, before=before, after=history.snapshot("award", award),
                          label=award_number)
    db.commit()
    return award


def delete_award(db: Session, award: ChpAward, actor_id: int | None, now: datetime) -> None:
    """Delete an award that has no SRO records (delete those first: each has its own history)."""
    sros = db.exec(select(func.count()).select_from(SchoolResourceOfficer)
                   .where(SchoolResourceOfficer.award_id == award.id)).one()
    if sros:
        raise AgencyError(f"Award {award.award_number} still has {sros} SRO record{'s' if sros != 1 else ''}; "
                          "delete or correct them first.", status=409)
    history.record_change(db, agency_id=award.agency_id, kind="award", record_id=award.id, action="delete",
                          actor_id=actor_id, now=now, before=history.snapshot("award", award),
                          label=award.award_number)
    db.delete(award)
    db.commit()


def delete_sro(db: Session, sro: SchoolResourceOfficer, agency_id: int, storage, actor_id: int | None,
               now: datetime) -> None:
    """Delete an SRO record with its claim lines and certificate file; its history stays."""
    history.record_change(db, agency_id=agency_id, kind="sro", record_id=sro.id, action="delete",
                          actor_id=actor_id, now=now, before=history.snapshot("sro", sro), label=sro.name)
    if sro.certificate_key:
        storage.delete(db, sro.certificate_key)
    db.delete(sro)
    db.commit()


def remove_member(db: Session, agency_id: int, member_id: int, actor_id: int | None, now: datetime) -> AgencyMember:
    """A coordinator removes a member (their account stays; only the agency link goes).
    The last coordinator cannot be removed."""
    member = db.get(AgencyMember, member_id)
    if member is None or member.agency_id != agency_id:
        raise AgencyError("There is no such member.", status=404)
    if member.role == COORDINATOR:
        others = db.exec(select(func.count()).select_from(AgencyMember).where(
            AgencyMember.agency_id == agency_id, AgencyMember.role == COORDINATOR,
            AgencyMember.id != member_id)).one()
        if not others:
            raise AgencyError("An agency needs at least one coordinator.", status=409)
    history.record_change(db, agency_id=agency_id, kind="member", record_id=member.id, action="delete",
                          actor_id=actor_id, now=now, before=history.snapshot("member", member),
                          target_user_id=member.user_id, label="removed by a coordinator")
    db.delete(member)
    db.commit()
    return member
