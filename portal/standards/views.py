"""Provider pages for cmi5 packages: upload, draft, preview as a learner, publish, delete;
waiving an AU and abandoning a session for a registration the provider can see."""

from __future__ import annotations

from flask import Blueprint, abort, current_app, flash, redirect, request, url_for
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from sqlmodel import select

from portal.common.web import db, now, render, services, writing
from portal.reports.models import ProviderStaff
from portal.standards import cmi5, scorm
from portal.standards.archive import Limits
from portal.standards.content_views import credit_lesson_of, ids_for
from portal.standards.importer import (PackageRefused, Upload, delete_package, import_package, packages_for,
                                       structure_of)
from portal.standards.models import StdPackage, StdRegistration, StdRegistrationAu, StdSession

bp = Blueprint("standards", __name__, url_prefix="/providers/packages", template_folder="templates")


class ButtonForm(FlaskForm):
    pass


def provider_names() -> set[str] | None:
    """The providers the signed-in user works for; None for an administrator (every provider)."""
    if current_user.has_role("admin"):
        return None
    names = set(db().exec(select(ProviderStaff.provider_name).where(
        ProviderStaff.user_id == current_user.user.id)).all())
    if not names:
        abort(403)
    return names


def upload_choices(names: set[str] | None) -> list[str]:
    if names is not None:
        return sorted(names)
    known = set(db().exec(select(ProviderStaff.provider_name)).all())
    known |= {p.provider.name for p in current_app.extensions["packs"].all()}
    return sorted(known)


def package_or_404(uid: str) -> StdPackage:
    """A package the user may see; someone else's answers as a missing one."""
    package = db().exec(select(StdPackage).where(StdPackage.uid == uid)).first()
    names = provider_names()
    if package is None or (names is not None and package.provider_name not in names):
        abort(404)
    return package


def limits() -> Limits:
    config = current_app.config
    return Limits(max_file_bytes=config["PACK_MAX_FILE_MB"] * 1024 * 1024,
                  max_total_bytes=config["STD_MAX_PACKAGE_MB"] * 1024 * 1024)


@bp.route("/", methods=["GET", "POST"])
@login_required
def upload():
    names = provider_names()
    choices = upload_choices(names)
    form = ButtonForm()
    refusal = None
    status = 200
    if request.method == "POST" and form.validate_on_submit():
        provider = request.form.get("provider", "")
        file = request.files.get("package")
        if provider not in choices:
            refusal, status = PackageRefused("", "Choose the provider organization the package belongs to."), 422
        elif file is None or not file.filename:
            refusal, status = PackageRefused("", "Choose a package file to upload."), 422
        else:
            upload_ = Upload(file.read(), file.mimetype or "", file.filename)
            try:
                with writing() as session:
                    package = import_package(session, services().storage, upload_, limits(), provider,
                                             current_user.user.id, now())
                    uid = package.uid
                    session.commit()
            except PackageRefused as error:
                refusal, status = error, 422
            else:
                flash("The package was imported as a draft. Preview it, then publish it.")
                return redirect(url_for("standards.package", uid=uid), 303)
    elif request.method == "POST":
        abort(400)
    return render("standards/index.html", status=status, form=form, packages=packages_for(db(), names),
                  choices=choices, refusal=refusal)


@bp.get("/<uid>")
@login_required
def package(uid: str):
    package = package_or_404(uid)
    registration = db().exec(select(StdRegistration).where(StdRegistration.package_id == package.id,
                                                           StdRegistration.user_id == current_user.user.id)).first()
    rows = {}
    sessions = []
    if registration is not None:
        rows = {r.au_index: r for r in db().exec(select(StdRegistrationAu).where(
            StdRegistrationAu.registration_id == registration.id)).all()}
        sessions = db().exec(select(StdSession).where(StdSession.registration_id == registration.id)
                             .order_by(StdSession.id.desc()).limit(20)).all()
    return render("standards/package.html", package=package, structure=structure_of(package), form=ButtonForm(),
                  registration=registration, rows=rows, sessions=sessions, modes=cmi5.LAUNCH_MODES,
                  reasons=cmi5.WAIVE_REASONS, learners=learner_rows(package))


def learner_rows(package: StdPackage, limit: int = 500) -> list[tuple]:
    """Each learner's registration with where they stand on each unit: satisfied, completed,
    passed, waived, score and time (the provider's view of this package's records)."""
    from portal.accounts.models import User

    found = db().exec(select(StdRegistration, User.name, User.email, StdRegistrationAu)
                      .join(User, User.id == StdRegistration.user_id)
                      .join(StdRegistrationAu, StdRegistrationAu.registration_id == StdRegistration.id)
                      .where(StdRegistration.package_id == package.id)
                      .order_by(User.name, StdRegistration.id, StdRegistrationAu.au_index).limit(limit)).all()
    return list(found)


def _au_index(package: StdPackage) -> int:
    value = request.form.get("au", "")
    count = len(structure_of(package)["aus"])
    if not value.isdigit() or int(value) >= count:
        abort(422)
    return int(value)


@bp.post("/<uid>/launch")
@login_required
def launch(uid: str):
    """Preview an AU as a learner: the staff member's own registration, in the chosen mode."""
    package = package_or_404(uid)
    form = ButtonForm()
    if not form.validate_on_submit():
        abort(400)
    index = _au_index(package)
    mode = request.form.get("mode", "Normal")
    if mode not in cmi5.LAUNCH_MODES:
        abort(422)
    moment = now()
    with writing() as session:
        fresh = session.get(StdPackage, package.id)
        ids = ids_for(fresh)
        registration = cmi5.registration_for(session, fresh, current_user.user.id,
                                             current_app.config["PORTAL_BASE_URL"], moment, ids)
        if fresh.standard == "scorm12":
            started_session, url = scorm.launch(session, fresh, registration, index, mode, moment,
                                                current_app.config["CONTENT_BASE_URL"])
            code, method = started_session.code, "AnyWindow"
        else:
            started = cmi5.launch(session, fresh, registration, index, mode, moment, ids,
                                  current_app.config["CONTENT_BASE_URL"],
                                  current_app.config["PORTAL_BASE_URL"] + url_for("standards.package", uid=uid))
            code, url, method = started.session.code, started.url, started.launch_method
        registration_code = registration.code
        session.commit()
    au = structure_of(package)["aus"][index]
    response = render("standards/play.html", package=package, au=au, launch_url=url, launch_method=method,
                      session_code=code, registration_code=registration_code,
                      back_url=url_for("standards.package", uid=uid), back_title=package.title)
    response.headers["Content-Security-Policy"] = _player_csp()
    return response


@bp.post("/<uid>/publish")
@login_required
def publish(uid: str):
    package = package_or_404(uid)
    if not ButtonForm().validate_on_submit():
        abort(400)
    with writing() as session:
        row = session.get(StdPackage, package.id)
        if row.status != "published":
            row.status, row.published_at = "published", now()
            session.add(row)
            session.commit()
    flash("The package is published.")
    return redirect(url_for("standards.package", uid=uid), 303)


@bp.post("/<uid>/delete")
@login_required
def delete(uid: str):
    package = package_or_404(uid)
    if not ButtonForm().validate_on_submit():
        abort(400)
    with writing() as session:
        delete_package(session, session.get(StdPackage, package.id))
        session.commit()
    flash("The package was deleted.")
    return redirect(url_for("standards.upload"), 303)


def _registration(package: StdPackage, session) -> StdRegistration:
    code = request.form.get("registration", "")
    registration = session.exec(select(StdRegistration).where(StdRegistration.code == code,
                                                              StdRegistration.package_id == package.id)).first()
    if registration is None:
        abort(404)
    return registration


@bp.post("/<uid>/waive")
@login_required
def waive(uid: str):
    package = package_or_404(uid)
    if not ButtonForm().validate_on_submit():
        abort(400)
    index = _au_index(package)
    reason = request.form.get("reason", "")
    with writing() as session:
        registration = _registration(package, session)
        fresh = session.get(StdPackage, package.id)
        try:
            cmi5.waive(session, fresh, registration, index, reason, now(), ids_for(fresh))
        except ValueError as error:
            flash(str(error).capitalize() + ".")
            return redirect(url_for("standards.package", uid=uid), 303)
        credit_lesson_of(session, fresh, registration, now())
        session.commit()
    flash("The AU was waived.")
    return redirect(url_for("standards.package", uid=uid), 303)


@bp.post("/<uid>/abandon")
@login_required
def abandon(uid: str):
    package = package_or_404(uid)
    if not ButtonForm().validate_on_submit():
        abort(400)
    with writing() as session:
        row = session.exec(select(StdSession).where(StdSession.code == request.form.get("session", ""))).first()
        registration = session.get(StdRegistration, row.registration_id) if row else None
        if row is None or registration.package_id != package.id:
            abort(404)
        cmi5.abandon(session, row, now(), ids_for(session.get(StdPackage, package.id)))
        session.commit()
    flash("The session was abandoned.")
    return redirect(url_for("standards.package", uid=uid), 303)


# -- learners: a course pack's lesson made of a cmi5 AU or SCORM SCO ------------------

learn_bp = Blueprint("standards_learning", __name__, template_folder="templates")


@learn_bp.post("/learn/<pack_id>/lessons/<lesson_id>/package")
@login_required
def launch_lesson(pack_id: str, lesson_id: str):
    """Start (or resume) the lesson's AU or SCO for the enrolled learner; a course already
    passed opens in Review mode, which records nothing."""
    from portal.learning import services as learning
    from portal.learning.views import study_enrollment
    from portal.learning.web import course_or_404, portal_tz, refuse
    from portal.standards.pack_lessons import stored_package

    pack = course_or_404(pack_id)
    enrollment = study_enrollment(pack.id)
    lesson = pack.lesson(lesson_id)
    if lesson is None or getattr(lesson, "package", None) is None:
        abort(404)
    if not ButtonForm().validate_on_submit():
        abort(400)
    reviewing = enrollment.passed_at is not None
    lesson_url = url_for("learning.lesson", pack_id=pack.id, lesson_id=lesson.id)
    if not reviewing:
        if not learning.is_open(enrollment, now(), portal_tz()):
            return refuse(learning.LearningError("This enrollment has expired."), url_for("learning.my_courses"))
        if not learning.pre_test_done(db(), enrollment.id):
            flash("Take the pre-test first: it unlocks the lessons.", "info")
            return redirect(url_for("assessments.test", pack_id=pack.id, kind="pre"))
    moment = now()
    config = current_app.config
    with writing() as session:
        package = stored_package(session, services().storage, pack, lesson, limits(), moment)
        ids = ids_for(package)
        registration = cmi5.registration_for(session, package, current_user.user.id, config["PORTAL_BASE_URL"],
                                             moment, ids)
        index, mode = lesson.package.unit_index, "Review" if reviewing else "Normal"
        if package.standard == "scorm12":
            started_session, url = scorm.launch(session, package, registration, index, mode, moment,
                                                config["CONTENT_BASE_URL"])
            code, method = started_session.code, "AnyWindow"
        else:
            started = cmi5.launch(session, package, registration, index, mode, moment, ids,
                                  config["CONTENT_BASE_URL"], config["PORTAL_BASE_URL"] + lesson_url)
            code, url, method = started.session.code, started.url, started.launch_method
        registration_code = registration.code
        au = structure_of(package)["aus"][index]
        session.commit()
    response = render("standards/play.html", package=package, au=au, launch_url=url, launch_method=method,
                      session_code=code, registration_code=registration_code, back_url=lesson_url,
                      back_title=lesson.title)
    response.headers["Content-Security-Policy"] = _player_csp()
    return response


def _player_csp() -> str:
    content = current_app.config["CONTENT_BASE_URL"]
    return ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
            f"frame-src {content}; object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'")
