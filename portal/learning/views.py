"""Enrollment, My courses, lessons and Resume."""

from __future__ import annotations

from flask import Blueprint, abort, current_app, flash, redirect, request, url_for
from flask_login import current_user, login_required

from portal.certificates.services import certificate_for_enrollment
from portal.common.web import db, now, render, writing
from portal.learning import services as learning
from portal.learning.forms import PositionForm
from portal.learning.lesson_visits import read_visit, sign_visit
from portal.learning.models import Enrollment
from portal.learning.progress import describe_enrollments, enrollments_of
from portal.learning.web import course_or_404, packs, portal_tz, refuse
from portal.packs.registry import files_base, render_lesson

bp = Blueprint("learning", __name__, template_folder="templates")


@bp.post("/courses/<pack_id>/enroll")
def enroll(pack_id: str):
    pack = course_or_404(pack_id)
    if not current_user.is_authenticated:
        flash("Log in or create an account to enroll.", "info")
        return redirect(url_for("accounts.login", next=url_for("catalog.course", pack_id=pack.id)), code=303)
    try:
        with writing() as w:
            learning.enroll_in_current_session(w, w.get(type(current_user.user), current_user.user.id), pack,
                                               now(), portal_tz())
    except learning.LearningError as error:
        return refuse(error, url_for("catalog.course", pack_id=pack.id))
    flash(f"You are enrolled in {pack.title}. Start with the pre-test.", "success")
    return redirect(url_for("learning.resume", pack_id=pack.id), code=303)


@bp.get("/my/courses")
@login_required
def my_courses():
    statuses = describe_enrollments(db(), enrollments_of(db(), current_user.user.id), packs().packs, now(),
                                    portal_tz())
    return render("learning/my_courses.html", statuses=statuses)


def study_enrollment(pack_id: str) -> Enrollment:
    enrollment = learning.enrollment_for_study(db(), current_user.user.id, pack_id, now(), portal_tz())
    if enrollment is None:
        abort(404)
    return enrollment


@bp.get("/learn/<pack_id>")
@login_required
def resume(pack_id: str):
    """Return the learner to exactly where they stopped."""
    pack = course_or_404(pack_id)
    enrollment = learning.enrollment_for_study(db(), current_user.user.id, pack.id, now(), portal_tz())
    if enrollment is None:
        flash("Enroll in this course to start it.", "info")
        return redirect(url_for("catalog.course", pack_id=pack.id))
    if enrollment.passed_at is not None:
        if certificate_for_enrollment(db(), enrollment.id):
            return redirect(url_for("learning.lesson", pack_id=pack.id,
                                    lesson_id=enrollment.last_lesson_id or pack.lessons[0].id))
        return redirect(url_for("assessments.honor_code", pack_id=pack.id))
    if not learning.pre_test_done(db(), enrollment.id):
        return redirect(url_for("assessments.test", pack_id=pack.id, kind="pre"))
    done = learning.completed_lesson_ids(db(), enrollment.id)
    remaining = [lesson for lesson in pack.lessons if lesson.id not in done]
    if not remaining:
        return redirect(url_for("assessments.test", pack_id=pack.id, kind="post"))
    # The first lesson not completed, in the pack's current order: after an update that added or
    # moved a lesson, the last one visited may lie past a lesson still to do (issue 19).
    return redirect(url_for("learning.lesson", pack_id=pack.id, lesson_id=remaining[0].id))


@bp.get("/learn/<pack_id>/lessons/<lesson_id>")
@login_required
def lesson(pack_id: str, lesson_id: str):
    pack = course_or_404(pack_id)
    enrollment = study_enrollment(pack.id)
    current = pack.lesson(lesson_id)
    if current is None:
        abort(404)
    reviewing = enrollment.passed_at is not None
    done, positions, seconds = learning.lesson_progress_with_time(db(), enrollment.id)
    if not reviewing and (not learning.is_open(enrollment, now(), portal_tz())
                          or (not done and not learning.pre_test_done(db(), enrollment.id))):
        # Locked in this session (pre-test not taken) or expired: a course the learner completed
        # in an earlier session stays open for review all the same.
        completed = learning.completed_enrollment(db(), current_user.user.id, pack.id)
        if completed is not None:
            enrollment, reviewing = completed, True
            done, positions, seconds = learning.lesson_progress_with_time(db(), enrollment.id)
    if not reviewing:
        if not learning.is_open(enrollment, now(), portal_tz()):
            return refuse(learning.LearningError("This enrollment has expired."), url_for("learning.my_courses"))
        # A completed lesson proves the pre-test was submitted (complete_lesson requires it),
        # which saves the busiest page a query.
        if not done and not learning.pre_test_done(db(), enrollment.id):
            flash("Take the pre-test first: it unlocks the lessons.", "info")
            return redirect(url_for("assessments.test", pack_id=pack.id, kind="pre"))
    index = pack.lessons.index(current)
    return render("learning/lesson.html", pack=pack, lesson=current, enrollment=enrollment,
                  body=render_lesson(pack, current.id), files=files_base(pack), done=done,
                  start=positions.get(current.id, 0.0), reviewing=reviewing,
                  previous=pack.lessons[index - 1] if index > 0 else None,
                  next=pack.lessons[index + 1] if index + 1 < len(pack.lessons) else None,
                  position_form=PositionForm(), all_done=len(done) >= len(pack.lessons), seconds=seconds,
                  visit=sign_visit(current_app.secret_key, enrollment.id, current.id, now()))


@bp.post("/learn/<pack_id>/lessons/<lesson_id>/complete")
@login_required
def complete(pack_id: str, lesson_id: str):
    pack = course_or_404(pack_id)
    enrollment = study_enrollment(pack.id)
    lesson = pack.lesson(lesson_id)
    if lesson is not None and lesson.package is not None and lesson_id not in learning.completed_lesson_ids(
            db(), enrollment.id):
        # A lesson made of a cmi5 AU or SCORM SCO is complete when the package says so (portal/standards).
        return refuse(learning.LearningError("This lesson is complete when you finish it in the course window.",
                                             409), url_for("learning.lesson", pack_id=pack.id, lesson_id=lesson_id))
    try:
        with writing() as w:
            learning.complete_lesson(w, w.get(Enrollment, enrollment.id), pack, lesson_id, now(), portal_tz(),
                                     shown_at=_visit_shown_at(enrollment, lesson_id))
    except learning.LearningError as error:
        return refuse(error, url_for("learning.resume", pack_id=pack.id))
    index = [lesson.id for lesson in pack.lessons].index(lesson_id)
    if index + 1 < len(pack.lessons):
        return redirect(url_for("learning.lesson", pack_id=pack.id, lesson_id=pack.lessons[index + 1].id), code=303)
    done = learning.completed_lesson_ids(db(), enrollment.id)
    if len(done) >= len(pack.lessons):
        flash("You have finished every lesson. The post-test is unlocked.", "success")
        return redirect(url_for("assessments.test", pack_id=pack.id, kind="post"), code=303)
    flash("Lesson complete. Some earlier lessons are not finished yet.", "info")
    return redirect(url_for("learning.resume", pack_id=pack.id), code=303)


def _visit_shown_at(enrollment: Enrollment, lesson_id: str):
    return read_visit(current_app.secret_key, request.form.get("visit", ""), enrollment.id, lesson_id, now())


@bp.post("/learn/<pack_id>/lessons/<lesson_id>/time")
@login_required
def lesson_time(pack_id: str, lesson_id: str):
    """The lesson page's heartbeat (htmx, each minute): credits the time on the page and answers
    with the lesson's time so far."""
    pack = course_or_404(pack_id)
    enrollment = study_enrollment(pack.id)
    if enrollment.passed_at is not None:
        return "", 204  # reviewing: nothing to measure
    try:
        with writing() as w:
            spent = learning.record_lesson_time(w, w.get(Enrollment, enrollment.id), pack, lesson_id,
                                                _visit_shown_at(enrollment, lesson_id), now(), portal_tz())
    except learning.LearningError as error:
        return {"error": error.message}, error.status
    return render("learning/_lesson_time.html", seconds=spent)


@bp.post("/learn/<pack_id>/lessons/<lesson_id>/position")
@login_required
def save_position(pack_id: str, lesson_id: str):
    """Saved as the video plays (our script posts here); answers 204 with no body."""
    pack = course_or_404(pack_id)
    enrollment = study_enrollment(pack.id)
    form = PositionForm()
    if not form.validate_on_submit():
        return {"error": "seconds must be a number"}, 400
    if enrollment.passed_at is None and not learning.is_open(enrollment, now(), portal_tz()):
        return {"error": "this enrollment has expired"}, 409
    try:
        with writing() as w:
            learning.save_video_position(w, w.get(Enrollment, enrollment.id), pack, lesson_id,
                                         float(form.seconds.data), now())
    except learning.LearningError as error:
        return {"error": error.message}, error.status
    return "", 204
