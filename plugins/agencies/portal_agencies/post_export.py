"""Exports of an agency's training records for a state POST office, through the
`portal_post_export_formats` hook. This plugin ships one portal-defined layout, generic-csv;
no state's published roster layout could be confirmed from a public specification, so none
is guessed (docs/hooks.md)."""

from __future__ import annotations

from sqlmodel import Session, select

from portal.accounts.models import User
from portal.certificates.models import Certificate
from portal_agencies.models import AgencyMember

REQUIRED_KEYS = ("id", "label", "source", "columns")


def _generic_columns(records: list[dict]) -> tuple[list[str], list[list]]:
    header = ["officer_name", "officer_email", "course_title", "provider", "completed_on", "hours",
              "certificate_number", "session_year", "accreditation"]
    rows = [[r["officer_name"], r["officer_email"], r["course_title"], r["provider"], r["completed_on"].isoformat(),
             f"{r['hours']:g}", r["certificate_number"], r["session_year"], "; ".join(r["accreditation"].splitlines())]
            for r in records]
    return header, rows


GENERIC_CSV = {"id": "generic-csv", "label": "Training records (generic CSV)", "source": "",
               "columns": _generic_columns}


class ExportFormatError(RuntimeError):
    """A plugin's export format is malformed or its id is taken: a start-up-style error."""


def export_formats(hook_results: list) -> dict[str, dict]:
    """Every format the plugins offer, by id; a missing key or a duplicate id is an error."""
    found: dict[str, dict] = {}
    for result in hook_results:
        for fmt in result or []:
            missing = [key for key in REQUIRED_KEYS if key not in fmt]
            if missing or not callable(fmt.get("columns")):
                raise ExportFormatError(f"POST export format {fmt.get('id')!r} lacks {', '.join(missing) or 'columns'}")
            if fmt["id"] in found:
                raise ExportFormatError(f"two POST export formats use the id {fmt['id']!r}")
            found[fmt["id"]] = fmt
    return dict(sorted(found.items()))


def training_records(db: Session, agency_id: int) -> list[dict]:
    """The valid portal certificates of the agency's members, oldest first, as the hook's records."""
    rows = db.exec(select(Certificate, User).join(AgencyMember, AgencyMember.user_id == Certificate.user_id)
                   .join(User, User.id == Certificate.user_id)
                   .where(AgencyMember.agency_id == agency_id, Certificate.status == "valid")
                   .order_by(User.name, Certificate.completed_on, Certificate.id)).all()
    return [{"officer_name": user.name, "officer_email": user.email, "course_title": c.course_title,
             "provider": c.provider_name, "completed_on": c.completed_on, "hours": c.hours,
             "certificate_number": c.number, "session_year": c.session_year, "accreditation": c.accreditation}
            for c, user in rows]
