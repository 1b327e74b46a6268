"""Roster import against the database: plan a file against the agency's records, then
apply the plan in one transaction (new awards, new and changed SROs, each with its change
history, and one audit log entry for the import)."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import insert
from sqlmodel import Session, select

from portal.support.services import record as audit
from portal_agencies import history
from portal_agencies.models import Agency, AgencyChange, ChpAward, SchoolResourceOfficer
from portal_agencies.roster_import import (CHANGED, NEW, ExistingAward, ExistingSro, ImportPlan, RosterFile,
                                           plan_import)


class ImportChanged(Exception):
    """The agency's records moved between the preview and the apply."""


def plan_for_agency(db: Session, agency_id: int, roster: RosterFile, as_of: date) -> ImportPlan:
    """The plan for this agency, reading its awards and SROs in two queries."""
    awards = {award.award_number.casefold(): award
              for award in db.exec(select(ChpAward).where(ChpAward.agency_id == agency_id)).all()}
    rows = db.exec(select(SchoolResourceOfficer.id, ChpAward.award_number, SchoolResourceOfficer.name,
                          SchoolResourceOfficer.role, SchoolResourceOfficer.hire_date,
                          SchoolResourceOfficer.placement_date, SchoolResourceOfficer.training_completed,
                          SchoolResourceOfficer.expenses_submitted)
                   .join(ChpAward, ChpAward.id == SchoolResourceOfficer.award_id)
                   .where(ChpAward.agency_id == agency_id)).all()
    existing = {key: ExistingAward(a.award_number, a.award_date, a.funded_positions) for key, a in awards.items()}
    return plan_import(roster, existing, [ExistingSro(*row) for row in rows], as_of)


def apply_plan(db: Session, agency: Agency, roster: RosterFile, digest: str, as_of: date, actor_id: int,
               now: datetime, pending_key: str | None = None, storage=None) -> ImportPlan:
    """Apply what the preview showed, all or nothing. ImportChanged when planning again
    does not give the plan the coordinator saw (someone changed the records meanwhile)."""
    plan = plan_for_agency(db, agency.id, roster, as_of)
    if plan.digest != digest:
        raise ImportChanged()
    awards = {award.award_number.casefold(): award
              for award in db.exec(select(ChpAward).where(ChpAward.agency_id == agency.id)).all()}
    for key, new in plan.new_awards.items():
        award = ChpAward(agency_id=agency.id, award_number=new.award_number, award_date=new.award_date,
                         funded_positions=new.funded_positions, created_at=now)
        db.add(award)
        db.flush()
        awards[key] = award
        history.record_change(db, agency_id=agency.id, kind="award", record_id=award.id, action="create",
                              actor_id=actor_id, now=now, after=history.snapshot("award", award), audited=False)
    changed_ids = [row.sro_id for row in plan.rows if row.action == CHANGED]
    current = {sro.id: sro for sro in db.exec(select(SchoolResourceOfficer)
                                              .where(SchoolResourceOfficer.id.in_(changed_ids))).all()} \
        if changed_ids else {}
    created = [SchoolResourceOfficer(award_id=awards[row.award_number.casefold()].id, created_at=now, **row.values)
               for row in plan.rows if row.action == NEW]
    db.add_all(created)
    db.flush()  # one batched INSERT; the ids are needed by the history rows
    changes = [(sro.id, "create", None, history.snapshot("sro", sro)) for sro in created]
    for row in plan.rows:
        if row.action != CHANGED:
            continue
        sro = current[row.sro_id]
        before = history.snapshot("sro", sro)
        for name, value in row.values.items():
            if name != "name":  # the name is how the row found the record
                setattr(sro, name, value)
        changes.append((sro.id, "update", before, history.snapshot("sro", sro)))
    if changes:
        db.execute(insert(AgencyChange), history.bulk_rows(agency.id, "sro", actor_id, now, changes))
    audit(db, actor_id, "agency.roster.import", None, now,
          f"agency {agency.id}: {plan.count(NEW)} new, {plan.count(CHANGED)} changed, "
          f"{len(plan.new_awards)} new award(s), {plan.count('error')} row(s) with errors left out")
    if pending_key and storage is not None:
        storage.delete(db, pending_key)  # applied: the same preview cannot be applied twice
    db.commit()
    return plan
