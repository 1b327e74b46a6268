"""Agency pages: home, membership and invitations, the dashboard and the roster report."""

from __future__ import annotations

from datetime import date

from flask import Blueprint, Response, abort, flash, redirect, request, session, url_for
from flask_login import current_user, login_required
from sqlmodel import select

from portal.accounts.services import find_user_by_email
from portal.common.web import db, now, render
from portal.learning.sessions import local_date
from portal.learning.web import portal_tz
from portal_agencies import roster as roster_report
from portal_agencies import rules
from portal_agencies import services as agencies
from portal_agencies.forms import ButtonForm, CreateAgencyForm, RosterUploadForm
from portal_agencies.models import Agency

bp = Blueprint("agencies", __name__, url_prefix="/agencies", template_folder="templates")
MAX_ID = "int(max=2147483647)"


def today() -> date:
    return local_date(now(), portal_tz())


def coordinated(agency_id: int) -> Agency:
    """The agency, if the signed-in user coordinates it; anyone else gets a plain 404."""
    agency = agencies.coordinator_agency(db(), current_user.user.id, agency_id)
    if agency is None:
        abort(404)
    return agency


def _fail(form, error: agencies.AgencyError) -> None:
    field = getattr(form, error.field or "", None)
    if field is not None and hasattr(field, "errors"):
        field.errors = [*field.errors, error.message]
    else:
        form.form_errors.append(error.message)


@bp.get("/")
@login_required
def home():
    member = agencies.membership_of_user_id(db(), current_user.user.id)
    if member is not None and member.role == agencies.COORDINATOR:
        return redirect(url_for("agencies.dashboard", agency_id=member.agency_id))
    every = list(db().exec(select(Agency).order_by(Agency.name)).all()) if current_user.has_role("admin") else []
    return render("agencies/home.html", member=member, agency=db().get(Agency, member.agency_id) if member else None,
                  agencies_list=every, form=CreateAgencyForm(), button=ButtonForm())


@bp.post("/create")
@login_required
def create():
    if not current_user.has_role("admin"):
        abort(403)
    form = CreateAgencyForm()
    if form.validate_on_submit():
        coordinator = find_user_by_email(db(), form.coordinator_email.data)
        try:
            if coordinator is None:
                raise agencies.AgencyError("No account uses that email. The coordinator signs up first.",
                                           "coordinator_email")
            agency = agencies.create_agency(db(), form.name.data, coordinator, now(),
                                            form.program_manager_email.data or "", actor_id=current_user.user.id)
        except agencies.AgencyError as error:
            db().rollback()
            _fail(form, error)
        else:
            flash(f"{agency.name} was created with {coordinator.email} as its coordinator.", "success")
            return redirect(url_for("agencies.home"), code=303)
    return render("agencies/home.html", member=None, agency=None, agencies_list=[], form=form, button=ButtonForm(),
                  status=422)


@bp.route("/join/<token>", methods=["GET", "POST"])
def join(token: str):
    found = agencies.find_invite(db(), token, now())
    if found is None:
        return render("agencies/join.html", agency=None, form=ButtonForm(), status=404)
    if not current_user.is_authenticated:
        flash("Each officer uses their own account. Log in, or create an account, to join.", "info")
        return redirect(url_for("accounts.login", next=url_for("agencies.join", token=token)))
    form = ButtonForm()
    if request.method == "POST" and form.validate_on_submit():
        try:
            agency, waiting = agencies.join_with_invite(db(), token, current_user.user, now())
        except agencies.AgencyError as error:
            db().rollback()
            flash(error.message, "error")
            return render("agencies/join.html", agency=found[1], form=form, status=error.status)
        if waiting:
            flash(f"Your request to join {agency.name} is waiting for a coordinator's approval.", "info")
        else:
            flash(f"You have joined {agency.name}. Its coordinators can now see your training.", "success")
        return redirect(url_for("agencies.home"), code=303)
    return render("agencies/join.html", agency=found[1], form=form)


@bp.post("/leave")
@login_required
def leave():
    if not ButtonForm().validate_on_submit():
        abort(400)
    try:
        agencies.leave_agency(db(), current_user.user.id, now())
    except agencies.AgencyError as error:
        flash(error.message, "error")
    else:
        flash("You have left the agency.", "info")
    return redirect(url_for("agencies.home"), code=303)


NEW_INVITE_KEY = "agencies_new_invite"


@bp.get(f"/<{MAX_ID}:agency_id>/members")
@login_required
def members(agency_id: int):
    agency = coordinated(agency_id)
    rows, year_first, year_last = agencies.with_annual_hours(agencies.roster(db(), agency.id), agency, today())
    return render("agencies/members.html", agency=agency, rows=rows, year_first=year_first, year_last=year_last,
                  requests=agencies.join_requests(db(), agency.id), post_formats=_post_formats(),
                  invites=agencies.active_invites(db(), agency.id, now()), button=ButtonForm(),
                  new_link=_take_new_invite_link(agency.id))


def _post_formats() -> list[dict]:
    from flask import current_app

    from portal_agencies.post_export import export_formats

    return list(export_formats(current_app.extensions["plugins"].hook.portal_post_export_formats()).values())


def _take_new_invite_link(agency_id: int) -> str | None:
    """The invitation link this browser just made for this agency, shown once. It travels in
    the signed session, never in the address: a link there could be anyone's (audit finding 10)."""
    made = session.get(NEW_INVITE_KEY)
    if not made or made.get("agency_id") != agency_id:
        return None
    session.pop(NEW_INVITE_KEY)
    return made["link"]


@bp.post(f"/<{MAX_ID}:agency_id>/invites")
@login_required
def invite(agency_id: int):
    agency = coordinated(agency_id)
    if not ButtonForm().validate_on_submit():
        abort(400)
    multi_use = request.form.get("kind") == "multi"
    token = agencies.create_invite(db(), agency, current_user.user.id, now(), multi_use=multi_use)
    session[NEW_INVITE_KEY] = {"agency_id": agency.id, "link": url_for("agencies.join", token=token, _external=False)}
    flash(f"New {'multi-use' if multi_use else 'single-use'} invitation link (valid {agencies.INVITE_DAYS} days)"
          + ("; share it with your officers and approve each request to join on this page." if multi_use
             else "; send it to one officer: it works for one join."), "success")
    return redirect(url_for("agencies.members", agency_id=agency.id), code=303)


@bp.post(f"/<{MAX_ID}:agency_id>/join-requests")
@login_required
def decide_join(agency_id: int):
    """Approve or decline a request to join made with a multi-use link."""
    agency = coordinated(agency_id)
    if not ButtonForm().validate_on_submit():
        abort(400)
    try:
        request_id = int(request.form.get("request_id", ""))
    except ValueError:
        abort(404)
    approve = request.form.get("decision") == "approve"
    try:
        user = agencies.decide_join_request(db(), agency.id, request_id, approve, current_user.user.id, now())
    except agencies.AgencyError as error:
        db().rollback()
        if error.status == 404:
            abort(404)
        flash(error.message, "error")
    else:
        flash(f"{user.name} {'joined the agency' if approve else 'was not let in'}.", "success" if approve else "info")
    return redirect(url_for("agencies.members", agency_id=agency.id), code=303)


@bp.post(f"/<{MAX_ID}:agency_id>/invites/<{MAX_ID}:invite_id>/revoke")
@login_required
def revoke(agency_id: int, invite_id: int):
    agency = coordinated(agency_id)
    if not ButtonForm().validate_on_submit():
        abort(400)
    try:
        agencies.revoke_invite(db(), agency.id, invite_id, now(), actor_id=current_user.user.id)
    except agencies.AgencyError:
        abort(404)
    flash("The invitation link no longer works.", "info")
    return redirect(url_for("agencies.members", agency_id=agency.id), code=303)


@bp.post(f"/<{MAX_ID}:agency_id>/members/<{MAX_ID}:member_id>/role")
@login_required
def member_role(agency_id: int, member_id: int):
    agency = coordinated(agency_id)
    if not ButtonForm().validate_on_submit():
        abort(400)
    try:
        agencies.set_member_role(db(), agency.id, member_id, request.form.get("role", ""), current_user.user.id, now())
    except agencies.AgencyError as error:
        if error.status == 404:
            abort(404)
        flash(error.message, "error")
    return redirect(url_for("agencies.members", agency_id=agency.id), code=303)


@bp.get(f"/<{MAX_ID}:agency_id>")
@login_required
def dashboard(agency_id: int):
    agency = coordinated(agency_id)
    return render("agencies/dashboard.html", agency=agency, items=agencies.dashboard(db(), agency.id, today()),
                  today=today(), upload=RosterUploadForm(), cap=rules.REIMBURSEMENT_CAP)


@bp.post(f"/<{MAX_ID}:agency_id>/roster/import")
@login_required
def roster_import(agency_id: int):
    agency = coordinated(agency_id)
    form = RosterUploadForm()
    upload = request.files.get("roster")
    if not form.validate_on_submit():
        flash("Enter the as-of date as a date, like 2026-09-30." if form.as_of.errors
              else "Your form expired; reload the page and try again.", "error")
        return redirect(url_for("agencies.dashboard", agency_id=agency.id), code=303)
    if upload is None or not upload.filename:
        flash("Choose a roster CSV file to check.", "error")
        return redirect(url_for("agencies.dashboard", agency_id=agency.id), code=303)
    as_of = form.as_of.data or today()
    try:
        raw = upload.read(2 * 1024 * 1024 + 1)
        if len(raw) > 2 * 1024 * 1024:
            raise roster_report.RosterError("The roster is larger than 2 MB.")
        text = raw.decode("utf-8-sig")
        output, had_error = roster_report.report(text, as_of, formula_safe=True)
    except UnicodeDecodeError:
        flash("The roster must be a CSV file saved as UTF-8 text.", "error")
        return redirect(url_for("agencies.dashboard", agency_id=agency.id), code=303)
    except roster_report.RosterError as error:
        flash(str(error), "error")
        return redirect(url_for("agencies.dashboard", agency_id=agency.id), code=303)
    if request.form.get("download") == "1":
        return Response(output, mimetype="text/csv", headers={
            "Content-Disposition": f'attachment; filename="roster-report-{as_of.isoformat()}.csv"'})
    import csv
    import io

    table = list(csv.reader(io.StringIO(output)))
    return render("agencies/roster_result.html", agency=agency, header=table[0] if table else [],
                  rows=table[1:], had_error=had_error, as_of=as_of, upload=RosterUploadForm())


@bp.get(f"/<{MAX_ID}:agency_id>/roster/export.csv")
@login_required
def roster_export(agency_id: int):
    agency = coordinated(agency_id)
    as_of = today()
    output, _ = roster_report.report(agency_roster_csv(agency.id), as_of, formula_safe=True)
    return Response(output, mimetype="text/csv", headers={
        "Content-Disposition": f'attachment; filename="sro-roster-{as_of.isoformat()}.csv"'})


def agency_roster_csv(agency_id: int) -> str:
    """The agency's SRO records in the roster format, so one engine computes both."""
    import csv
    import io

    from sqlmodel import select

    from portal_agencies.models import ChpAward, SchoolResourceOfficer

    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["officer", "award_number", "award_date", "hire_date", "role", "placement_date",
                     "training_completed", "expenses_submitted"])
    rows = db().exec(select(SchoolResourceOfficer, ChpAward).join(ChpAward, ChpAward.id == SchoolResourceOfficer.award_id)
                     .where(ChpAward.agency_id == agency_id)
                     .order_by(ChpAward.award_number, SchoolResourceOfficer.name)).all()
    iso = lambda d: d.isoformat() if d else ""  # noqa: E731
    for sro, award in rows:
        writer.writerow([sro.name, award.award_number, iso(award.award_date), iso(sro.hire_date), sro.role,
                         iso(sro.placement_date), iso(sro.training_completed), iso(sro.expenses_submitted)])
    return out.getvalue()


from portal_agencies import records  # noqa: E402,F401  (registers the award, SRO and claim pages)
from portal_agencies import import_views  # noqa: E402,F401  (registers the roster import pages)
from portal_agencies import edit_views  # noqa: E402,F401  (registers the correct and delete pages)
