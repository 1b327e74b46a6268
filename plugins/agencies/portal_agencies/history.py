"""Change history of agency records, and the audit log entry for every agency action.

Each change is one `AgencyChange` row (who, when, the record's fields before and after) and
one entry in the portal's audit log (`portal.support.services.record`), written in the
caller's transaction so that an action and its record stand or fall together.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from sqlmodel import Session, select

from portal.accounts.models import User
from portal.support.services import record as audit
from portal_agencies.models import AgencyChange

# The fields each kind of record shows in its history (and nothing else: no token hashes).
FIELDS = {
    "agency": ("name", "chp_program_manager_email", "annual_hours_required", "training_year_start_month"),
    "award": ("award_number", "award_date", "funded_positions", "mou_submitted_on"),
    "sro": ("name", "role", "hire_date", "placement_date", "training_completed", "expenses_submitted",
            "response_center_reported_on", "response_center_answer", "certificate_filename"),
    "member": ("user_id", "role"),
    "expense": ("category", "description", "incurred_on", "amount"),
    "invite": ("multi_use", "expires_at", "revoked_at", "used_at"),
}


def _plain(value):
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    if isinstance(value, Decimal):
        return f"{value:.2f}"
    return value


def snapshot(kind: str, row) -> dict:
    """The record's history fields as JSON-ready values."""
    return {name: _plain(getattr(row, name)) for name in FIELDS[kind] if hasattr(row, name)}


def record_change(db: Session, *, agency_id: int, kind: str, record_id: int, action: str, actor_id: int | None,
                  now: datetime, before: dict | None = None, after: dict | None = None,
                  target_user_id: int | None = None, label: str = "", audited: bool = True) -> AgencyChange | None:
    """Add the history row and the audit entry (not committed). An update that changes
    nothing is not a change: returns None and writes nothing. A bulk action (a roster
    import) passes audited=False and writes one audit entry for the whole of it."""
    if action == "update" and before == after:
        return None
    change = AgencyChange(agency_id=agency_id, record_kind=kind, record_id=record_id, action=action,
                          actor_id=actor_id, changed_at=now,
                          before=json.dumps(before, sort_keys=True) if before is not None else "",
                          after=json.dumps(after, sort_keys=True) if after is not None else "")
    db.add(change)
    if not audited:
        return change
    changed = sorted(k for k in set(before or {}) | set(after or {})
                     if (before or {}).get(k) != (after or {}).get(k)) if action == "update" else []
    detail = f"agency {agency_id} {kind} {record_id}" + (f" ({label})" if label else "")
    if changed:
        detail += ": " + ", ".join(changed)
    audit(db, actor_id, f"agency.{kind}.{action}", target_user_id, now, detail)
    return change


def bulk_rows(agency_id: int, kind: str, actor_id: int | None, now: datetime,
              changes: list[tuple[int, str, dict | None, dict | None]]) -> list[dict]:
    """History rows for an executemany INSERT: (record_id, action, before, after) each.
    A bulk action (a roster import) writes thousands at once and one audit entry."""
    return [dict(agency_id=agency_id, record_kind=kind, record_id=record_id, action=action, actor_id=actor_id,
                 changed_at=now, before=json.dumps(before, sort_keys=True) if before is not None else "",
                 after=json.dumps(after, sort_keys=True) if after is not None else "")
            for record_id, action, before, after in changes]


@dataclass
class HistoryLine:
    change: AgencyChange
    actor: str
    fields: list[tuple[str, object, object]]  # (field, before, after)


def history_of(db: Session, agency_id: int, kind: str, record_id: int) -> list[HistoryLine]:
    """One record's changes, newest first, each with who made it and what moved."""
    rows = db.exec(select(AgencyChange, User.name).outerjoin(User, User.id == AgencyChange.actor_id)
                   .where(AgencyChange.agency_id == agency_id, AgencyChange.record_kind == kind,
                          AgencyChange.record_id == record_id)
                   .order_by(AgencyChange.changed_at.desc(), AgencyChange.id.desc())).all()
    lines = []
    for change, actor in rows:
        before = json.loads(change.before) if change.before else {}
        after = json.loads(change.after) if change.after else {}
        fields = [(name, before.get(name), after.get(name)) for name in FIELDS.get(kind, ())
                  if before.get(name) != after.get(name)]
        lines.append(HistoryLine(change, actor or "(a removed account)", fields))
    return lines
