"""Roster import pages: upload, preview every change, apply in one transaction."""

from __future__ import annotations

import hashlib
import re
from datetime import timedelta

from flask import abort, flash, redirect, request, url_for
from flask_login import current_user, login_required
from sqlmodel import select

from portal.common.storage import StoredFile
from portal.common.web import db, now, render, services
from portal_agencies import imports
from portal_agencies.forms import ImportApplyForm, RosterUploadForm
from portal_agencies.roster import REQUIRED_COLUMNS
from portal_agencies.roster_import import (CHANGED, ERROR, MAX_BYTES, NEW, UNCHANGED, DATE_RULE, RosterFileError,
                                           read_roster)
from portal_agencies.views import MAX_ID, bp, coordinated, today


def _upload_page(agency, message: str = "", status: int = 200):
    return render("agencies/roster_import.html", agency=agency, upload=RosterUploadForm(), message=message,
                  columns=REQUIRED_COLUMNS, date_rule=DATE_RULE, status=status)


PENDING_DAYS = 1
_DIGEST = re.compile(r"[0-9a-f]{64}")


def _pending_key(agency_id: int, file_digest: str) -> str:
    return f"agencies/{agency_id}/imports/{file_digest}.csv"


def _keep_pending(agency_id: int, raw: bytes) -> str:
    """The previewed file waits in the portal's storage for the apply (a form field could not
    carry a large roster), keyed by its SHA-256; pending files older than a day are dropped."""
    file_digest = hashlib.sha256(raw).hexdigest()
    prefix = f"agencies/{agency_id}/imports/"
    stale = db().exec(select(StoredFile.key).where(StoredFile.key.startswith(prefix),
                                                   StoredFile.created_at < now() - timedelta(days=PENDING_DAYS))).all()
    for key in stale:
        services().storage.delete(db(), key)
    services().storage.put(db(), _pending_key(agency_id, file_digest), raw, "text/csv", now())
    db().commit()
    return file_digest


def _preview_page(agency, raw: bytes, plan, status: int = 200, message: str = ""):
    form = ImportApplyForm(formdata=None, payload=_keep_pending(agency.id, raw), digest=plan.digest)
    shown = [row for row in plan.rows if row.action != UNCHANGED]
    return render("agencies/roster_preview.html", agency=agency, plan=plan, rows=shown, form=form,
                  counts={a: plan.count(a) for a in (NEW, CHANGED, UNCHANGED, ERROR)}, message=message,
                  status=status)


@bp.get(f"/<{MAX_ID}:agency_id>/roster/records")
@login_required
def roster_records(agency_id: int):
    return _upload_page(coordinated(agency_id))


@bp.post(f"/<{MAX_ID}:agency_id>/roster/records/preview")
@login_required
def roster_records_preview(agency_id: int):
    agency = coordinated(agency_id)
    if not RosterUploadForm().validate_on_submit():
        return _upload_page(agency, "Your form expired; reload the page and try again.", 400)
    upload = request.files.get("roster")
    if upload is None or not upload.filename:
        return _upload_page(agency, "Choose a roster file (CSV) to import.", 422)
    raw = upload.read(MAX_BYTES + 1)
    try:
        plan = imports.plan_for_agency(db(), agency.id, read_roster(raw), today())
    except RosterFileError as error:
        return _upload_page(agency, str(error), 422)
    return _preview_page(agency, raw, plan)


@bp.post(f"/<{MAX_ID}:agency_id>/roster/records/apply")
@login_required
def roster_records_apply(agency_id: int):
    agency = coordinated(agency_id)
    form = ImportApplyForm()
    if not form.validate_on_submit():
        return _upload_page(agency, "Your form expired; upload the file again.", 400)
    file_digest = form.payload.data or ""
    found = services().storage.get(db(), _pending_key(agency.id, file_digest)) if _DIGEST.fullmatch(file_digest) \
        else None
    if found is None:
        return _upload_page(agency, "This preview has expired or was already applied. Upload the file again.", 409)
    raw = found[1]
    try:
        roster = read_roster(raw)
    except RosterFileError:
        abort(400)
    try:
        plan = imports.apply_plan(db(), agency, roster, form.digest.data or "", today(), current_user.user.id, now(),
                                  pending_key=_pending_key(agency.id, file_digest), storage=services().storage)
    except imports.ImportChanged:
        db().rollback()
        plan = imports.plan_for_agency(db(), agency.id, roster, today())
        return _preview_page(agency, raw, plan, 409, "The agency's records changed since this preview. "
                             "Here is the preview again; check it and apply once more.")
    flash(f"Roster imported: {plan.count(NEW)} new, {plan.count(CHANGED)} changed, {plan.count(UNCHANGED)} "
          f"unchanged" + (f", {plan.count(ERROR)} row{'s' if plan.count(ERROR) != 1 else ''} with errors left out"
                          if plan.count(ERROR) else "") + ".", "success")
    return redirect(url_for("agencies.dashboard", agency_id=agency.id), code=303)
