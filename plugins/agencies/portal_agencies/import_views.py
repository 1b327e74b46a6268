"""Roster import pages: upload, preview every change, apply in one transaction."""

from __future__ import annotations

import base64
import binascii

from flask import abort, flash, redirect, request, url_for
from flask_login import current_user, login_required

from portal.common.web import db, now, render
from portal_agencies import imports
from portal_agencies.forms import ImportApplyForm, RosterUploadForm
from portal_agencies.roster import REQUIRED_COLUMNS
from portal_agencies.roster_import import (CHANGED, ERROR, MAX_BYTES, NEW, UNCHANGED, DATE_RULE, RosterFileError,
                                           read_roster)
from portal_agencies.views import MAX_ID, bp, coordinated, today


def _upload_page(agency, message: str = "", status: int = 200):
    return render("agencies/roster_import.html", agency=agency, upload=RosterUploadForm(), message=message,
                  columns=REQUIRED_COLUMNS, date_rule=DATE_RULE, status=status)


def _preview_page(agency, raw: bytes, plan, status: int = 200, message: str = ""):
    form = ImportApplyForm(formdata=None, payload=base64.b64encode(raw).decode("ascii"), digest=plan.digest)
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
    try:
        raw = base64.b64decode(form.payload.data or "", validate=True)
        roster = read_roster(raw)
    except (binascii.Error, ValueError, RosterFileError):
        abort(400)
    try:
        plan = imports.apply_plan(db(), agency, roster, form.digest.data or "", today(), current_user.user.id, now())
    except imports.ImportChanged:
        db().rollback()
        plan = imports.plan_for_agency(db(), agency.id, roster, today())
        return _preview_page(agency, raw, plan, 409, "The agency's records changed since this preview. "
                             "Here is the preview again; check it and apply once more.")
    flash(f"Roster imported: {plan.count(NEW)} new, {plan.count(CHANGED)} changed, {plan.count(UNCHANGED)} "
          f"unchanged" + (f", {plan.count(ERROR)} row{'s' if plan.count(ERROR) != 1 else ''} with errors left out"
                          if plan.count(ERROR) else "") + ".", "success")
    return redirect(url_for("agencies.dashboard", agency_id=agency.id), code=303)
