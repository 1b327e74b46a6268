"""Correct and delete pages: an award's edit form and delete button, an SRO's delete button,
removing a member, the agency's settings. Each record page shows its change history."""

from __future__ import annotations

from flask import abort, flash, redirect, request, url_for
from flask_login import current_user, login_required

from portal.common.web import db, now, render, services
from portal_agencies import editing, history
from portal_agencies import services as agencies
from portal_agencies.forms import AgencySettingsForm, AwardForm, ButtonForm
from portal_agencies.records import _award, _sro
from portal_agencies.views import MAX_ID, _fail, bp, coordinated, today


@bp.route(f"/<{MAX_ID}:agency_id>/awards/<{MAX_ID}:award_id>/edit", methods=["GET", "POST"])
@login_required
def award_edit(agency_id: int, award_id: int):
    agency = coordinated(agency_id)
    award = _award(agency.id, award_id)
    form = AwardForm(obj=award)
    if form.validate_on_submit():
        try:
            editing.update_award(db(), award, award_number=form.award_number.data, award_date=form.award_date.data,
                                 funded_positions=form.funded_positions.data,
                                 mou_submitted_on=form.mou_submitted_on.data, today=today(),
                                 actor_id=current_user.user.id, now=now())
        except agencies.AgencyError as error:
            db().rollback()
            _fail(form, error)
        else:
            flash(f"Award {award.award_number} is corrected.", "success")
            return redirect(url_for("agencies.award", agency_id=agency.id, award_id=award.id), code=303)
    return render("agencies/award_form.html", agency=agency, form=form, award=award,
                  status=422 if form.errors or form.form_errors else 200)


@bp.post(f"/<{MAX_ID}:agency_id>/awards/<{MAX_ID}:award_id>/delete")
@login_required
def award_delete(agency_id: int, award_id: int):
    agency = coordinated(agency_id)
    award = _award(agency.id, award_id)
    if not ButtonForm().validate_on_submit():
        abort(400)
    number = award.award_number
    try:
        editing.delete_award(db(), award, current_user.user.id, now())
    except agencies.AgencyError as error:
        db().rollback()
        flash(error.message, "error")
        return redirect(url_for("agencies.award", agency_id=agency.id, award_id=award_id), code=303)
    flash(f"Award {number} is deleted.", "info")
    return redirect(url_for("agencies.dashboard", agency_id=agency.id), code=303)


@bp.post(f"/<{MAX_ID}:agency_id>/sros/<{MAX_ID}:sro_id>/delete")
@login_required
def sro_delete(agency_id: int, sro_id: int):
    agency = coordinated(agency_id)
    record, award = _sro(agency.id, sro_id)
    if not ButtonForm().validate_on_submit():
        abort(400)
    name = record.name
    editing.delete_sro(db(), record, agency.id, services().storage, current_user.user.id, now())
    flash(f"{name}'s record is deleted (its change history is kept).", "info")
    return redirect(url_for("agencies.award", agency_id=agency.id, award_id=award.id), code=303)


@bp.post(f"/<{MAX_ID}:agency_id>/members/<{MAX_ID}:member_id>/remove")
@login_required
def member_remove(agency_id: int, member_id: int):
    agency = coordinated(agency_id)
    if not ButtonForm().validate_on_submit():
        abort(400)
    try:
        editing.remove_member(db(), agency.id, member_id, current_user.user.id, now())
    except agencies.AgencyError as error:
        db().rollback()
        if error.status == 404:
            abort(404)
        flash(error.message, "error")
    else:
        flash("The member is removed from the agency. Their account and training stay theirs.", "info")
    return redirect(url_for("agencies.members", agency_id=agency.id), code=303)


@bp.route(f"/<{MAX_ID}:agency_id>/settings", methods=["GET", "POST"])
@login_required
def settings(agency_id: int):
    agency = coordinated(agency_id)
    form = AgencySettingsForm(program_manager_email=agency.chp_program_manager_email,
                              annual_hours_required=agency.annual_hours_required,
                              training_year_start_month=agency.training_year_start_month)
    if form.validate_on_submit():
        agencies.update_agency_settings(db(), agency, form.program_manager_email.data or "", current_user.user.id,
                                        now(), annual_hours_required=form.annual_hours_required.data or 0,
                                        training_year_start_month=form.training_year_start_month.data or 1)
        flash("Settings saved. Certificate copies go to the CHP Program Manager's new address from now on "
              "(prepare the mail again on each SRO's page to re-send one).", "success")
        return redirect(url_for("agencies.settings", agency_id=agency.id), code=303)
    return render("agencies/agency_settings.html", agency=agency, form=form,
                  changes=history.history_of(db(), agency.id, "agency", agency.id),
                  status=422 if form.errors else 200)


@bp.get(f"/<{MAX_ID}:agency_id>/post-export.csv")
@login_required
def post_export(agency_id: int):
    """The agency's training records in one state POST export format (?format=, default generic-csv)."""
    from flask import Response, current_app

    from portal.common.csv_export import csv_text
    from portal_agencies.post_export import export_formats, training_records

    agency = coordinated(agency_id)
    format_id = request.args.get("format", "generic-csv")
    fmt = export_formats(current_app.extensions["plugins"].hook.portal_post_export_formats()).get(format_id)
    if fmt is None:
        abort(404)
    header, rows = fmt["columns"](training_records(db(), agency.id))
    return Response(csv_text(header, rows), mimetype="text/csv", headers={
        "Content-Disposition": f'attachment; filename="post-{fmt["id"]}-{today().isoformat()}.csv"'})
