"""Video-series pages, projector mode, roll-call logging, history and the resource library."""

from __future__ import annotations

from datetime import date

from flask import Blueprint, Response, abort, current_app, flash, redirect, request, url_for
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from wtforms import DateField, IntegerField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, NumberRange, Optional

from portal.catalog.services import human_size
from portal.common.web import db, now, render
from portal.learning.sessions import local_date
from portal.learning.web import pack_or_404, portal_tz
from portal.packs.registry import files_base, render_lesson
from portal.rollcall import services as rollcall
from portal.rollcall.library import search_resources
from portal.rollcall.renditions import projector_sources, rendition_choices

bp = Blueprint("rollcall", __name__, template_folder="templates")


class ShowingForm(FlaskForm):
    shown_on = DateField("Date shown", [DataRequired("Enter the date of the showing.")])
    agency = StringField("Agency", [DataRequired("Enter the agency."), Length(max=160)])
    officers_present = IntegerField("Number of officers present", [
        DataRequired("Enter how many officers were present."),
        NumberRange(min=1, max=rollcall.MAX_OFFICERS, message=f"Enter a number from 1 to {rollcall.MAX_OFFICERS}.")])
    attendees = TextAreaField("Portal accounts present (optional)", [Optional(), Length(max=20000)])
    notes = TextAreaField("Notes (optional)", [Optional(), Length(max=1000)])


class DeleteForm(FlaskForm):
    pass


def series_or_404(pack_id: str):
    pack = pack_or_404(pack_id)
    if pack.kind != "video-series":
        abort(404)
    return pack


def episode_or_404(pack, episode_id: str):
    episode = pack.lesson(episode_id)
    if episode is None:
        abort(404)
    return episode


def _neighbours(pack, episode):
    index = pack.lessons.index(episode)
    return (pack.lessons[index - 1] if index > 0 else None,
            pack.lessons[index + 1] if index + 1 < len(pack.lessons) else None)


def _archive_sizes(pack) -> dict[str, int]:
    return {"full": len(rollcall.series_archive(pack, False)), "light": len(rollcall.series_archive(pack, True))}


def _file_size(pack, name: str | None) -> int:
    return (pack.root / name).stat().st_size if name else 0


@bp.get("/series/<pack_id>")
def series(pack_id: str):
    pack = series_or_404(pack_id)
    return render("rollcall/series.html", pack=pack, files=files_base(pack), sizes=_archive_sizes(pack),
                  human_size=human_size, file_size=lambda name: _file_size(pack, name))


@bp.get("/series/<pack_id>/download.zip")
def series_download(pack_id: str):
    pack = series_or_404(pack_id)
    light = request.args.get("rendition") == "light"
    data = rollcall.series_archive(pack, light)
    name = f"{pack.id}-{pack.version}{'-light' if light else ''}.zip"
    return Response(data, mimetype="application/zip", headers={
        "Content-Disposition": f'attachment; filename="{name}"', "Cache-Control": "public, max-age=86400"})


@bp.get("/series/<pack_id>/<episode_id>")
def episode(pack_id: str, episode_id: str):
    pack = series_or_404(pack_id)
    current = episode_or_404(pack, episode_id)
    previous, following = _neighbours(pack, current)
    return render("rollcall/episode.html", pack=pack, episode=current, files=files_base(pack),
                  body=render_lesson(pack, current.id), previous=previous, next=following,
                  human_size=human_size, file_size=lambda name: _file_size(pack, name),
                  light=request.args.get("rendition") == "light")


@bp.get("/series/<pack_id>/<episode_id>/projector")
def projector(pack_id: str, episode_id: str):
    pack = series_or_404(pack_id)
    current = episode_or_404(pack, episode_id)
    previous, following = _neighbours(pack, current)
    # The trainer's pick (?rendition=light|full|<height>) follows them from episode to episode.
    choice = request.args.get("rendition", "")[:10] or None
    return render("rollcall/projector.html", pack=pack, episode=current, files=files_base(pack),
                  previous=previous, next=following, light=choice == "light", rendition=choice,
                  sources=projector_sources(current.video, choice) if current.video else [],
                  choices=rendition_choices(current.video) if current.video else [])


@bp.get("/rollcall")
def index():
    """The video series for roll call, one menu click from anywhere."""
    series = [pack for pack in current_app.extensions["packs"].all() if pack.kind == "video-series"]
    return render("rollcall/index.html", series=series)


@bp.route("/series/<pack_id>/<episode_id>/log", methods=["GET", "POST"])
@login_required
def log_showing(pack_id: str, episode_id: str):
    pack = series_or_404(pack_id)
    current = episode_or_404(pack, episode_id)
    today = local_date(now(), portal_tz())
    form = ShowingForm()
    if request.method == "GET":
        form.shown_on.data = today
        form.agency.data = current_user.agency or ""
        if not current_user.is_verified:
            form.form_errors.append(rollcall.UNCONFIRMED_TRAINER)
    if form.validate_on_submit():
        try:
            emails = rollcall.parse_attendee_emails(form.attendees.data or "")
            rollcall.log_showing(db(), current_user.user, pack, current.id, shown_on=form.shown_on.data, today=today,
                                 agency=form.agency.data, officers_present=form.officers_present.data,
                                 attendee_emails=emails, notes=form.notes.data or "", now=now())
        except rollcall.RollCallError as error:
            db().rollback()
            field = getattr(form, error.field or "", None)
            if field is not None:
                field.errors = [*field.errors, error.message]
            else:
                form.form_errors.append(error.message)
            if error.status == 403:
                return render("rollcall/log_form.html", pack=pack, episode=current, form=form, status=403)
        else:
            flash(f"Showing of “{current.title}” logged. Officers with portal accounts at the addresses you "
                  "listed will see it in their training history.", "success")
            return redirect(url_for("rollcall.my_log"), code=303)
    # (a GET is 200 even with the note an unconfirmed account sees up front)
    return render("rollcall/log_form.html", pack=pack, episode=current, form=form,
                  status=422 if request.method == "POST" and (form.errors or form.form_errors) else 200)


def _log_filters():
    def day(name):
        value = request.args.get(name, "")
        try:
            return date.fromisoformat(value) if value else None
        except ValueError:
            abort(400)
    return request.args.get("agency", "")[:160], day("from"), day("to")


@bp.get("/rollcall/log")
@login_required
def my_log():
    agency, start, end = _log_filters()
    rows = rollcall.trainer_log(db(), current_user.user.id, agency=agency, start=start, end=end)
    return render("rollcall/log.html", rows=rows, agency=agency, start=start, end=end, form=DeleteForm())


@bp.get("/rollcall/log.csv")
@login_required
def my_log_csv():
    agency, start, end = _log_filters()
    rows = rollcall.trainer_log(db(), current_user.user.id, agency=agency, start=start, end=end)
    return Response(rollcall.log_as_csv(rows, current_user.user), mimetype="text/csv", headers={
        "Content-Disposition": f'attachment; filename="roll-call-log-{local_date(now(), portal_tz())}.csv"'})


@bp.post("/rollcall/log/<int(max=2147483647):showing_id>/delete")
@login_required
def delete(showing_id: int):
    if not DeleteForm().validate_on_submit():
        abort(400)
    try:
        rollcall.delete_showing(db(), current_user.user.id, showing_id)
    except rollcall.RollCallError:
        abort(404)
    flash("The showing was removed from your log.", "info")
    return redirect(url_for("rollcall.my_log"), code=303)


@bp.get("/my/roll-calls")
@login_required
def history():
    return render("rollcall/history.html", showings=rollcall.attended(db(), current_user.user.id))


@bp.get("/resources")
def resources():
    query, topic = request.args.get("q", "")[:200], request.args.get("topic", "")[:100]
    library = current_app.extensions["resources"]
    found = search_resources(library, query, topic)
    topics = sorted({t for r in library for t in r.topics}, key=str.lower)
    return render("rollcall/resources.html", resources=found, query=query, topic=topic, topics=topics)
