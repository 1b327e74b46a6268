"""Pre-test, post-test, results and the honor code."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, request, url_for
from flask_login import current_user, login_required

from portal.certificates.services import certificate_for_enrollment, issue_or_find_certificate
from portal.common.web import db, now, render, writing
from portal.learning import services as learning
from portal.learning.forms import AttemptForm, StartForm
from portal.learning.honor_code import HONOR_CODE
from portal.learning.models import POST, PRE, Attempt, Enrollment
from portal.learning.sessions import session_year
from portal.learning.views import study_enrollment
from portal.learning.web import course_or_404, portal_tz, refuse

bp = Blueprint("assessments", __name__, template_folder="templates")
KINDS = {PRE: "Pre-test", POST: "Post-test"}


def _kind(kind: str) -> str:
    if kind not in KINDS:
        abort(404)
    return kind


def _open_attempt(enrollment_id: int, kind: str) -> Attempt | None:
    from sqlmodel import select

    return db().exec(select(Attempt).where(Attempt.enrollment_id == enrollment_id, Attempt.kind == kind,
                                           Attempt.submitted_at.is_(None))).first()


@bp.get("/learn/<pack_id>/tests/<kind>")
@login_required
def test(pack_id: str, kind: str):
    pack, kind = course_or_404(pack_id), _kind(kind)
    enrollment = study_enrollment(pack.id)
    if kind == PRE and learning.pre_test_done(db(), enrollment.id):
        flash("Your pre-test was submitted. Continue with the lessons.", "info")
        return redirect(url_for("learning.resume", pack_id=pack.id))
    if kind == POST and enrollment.passed_at is not None:
        return redirect(url_for("learning.resume", pack_id=pack.id))
    attempt = _open_attempt(enrollment.id, kind)
    session_open = learning.is_open(enrollment, now(), portal_tz())
    if attempt is not None and not session_open:
        # An attempt belongs to its session: once that ended, it is shown read-only with the
        # way to the new session, never answerable (a refused submission would come back here).
        return render("learning/test.html", pack=pack, kind=kind, kind_label=KINDS[kind], attempt=attempt,
                      questions=learning.shown_questions(db(), pack, attempt), form=StartForm(), answers={},
                      closed=enrollment.session_year, year=session_year(now(), portal_tz()))
    if attempt is None or attempt.pack_version != pack.version:
        locked = None
        if kind == POST:
            if not learning.pre_test_done(db(), enrollment.id):
                locked = "Take the pre-test first."
            elif len(learning.completed_lesson_ids(db(), enrollment.id)) < len(pack.lessons):
                locked = "Finish every lesson to unlock the post-test."
        previous = learning.submitted_attempts(db(), enrollment.id, POST) if kind == POST else []
        return render("learning/test_start.html", pack=pack, kind=kind, kind_label=KINDS[kind], form=StartForm(),
                      locked=locked, previous=previous, open=session_open, ended=enrollment.session_year,
                      year=session_year(now(), portal_tz()))
    return render("learning/test.html", pack=pack, kind=kind, kind_label=KINDS[kind], attempt=attempt,
                  questions=learning.shown_questions(db(), pack, attempt), form=AttemptForm(attempt_id=attempt.id),
                  answers={})


@bp.post("/learn/<pack_id>/tests/<kind>/start")
@login_required
def start(pack_id: str, kind: str):
    pack, kind = course_or_404(pack_id), _kind(kind)
    enrollment = study_enrollment(pack.id)
    try:
        with writing() as w:
            learning.open_attempt(w, w.get(Enrollment, enrollment.id), pack, kind, now(), portal_tz())
    except learning.LearningError as error:
        return refuse(error, url_for("learning.resume", pack_id=pack.id))
    return redirect(url_for("assessments.test", pack_id=pack.id, kind=kind), code=303)


@bp.post("/learn/<pack_id>/tests/<kind>/submit")
@login_required
def submit(pack_id: str, kind: str):
    pack, kind = course_or_404(pack_id), _kind(kind)
    enrollment = study_enrollment(pack.id)
    form = AttemptForm()
    attempt_id = form.attempt_id.data or ""
    if not form.validate_on_submit() or not attempt_id.isdigit() or len(attempt_id) > 9:
        abort(400)
    attempt = db().get(Attempt, int(attempt_id))
    if attempt is None or attempt.enrollment_id != enrollment.id or attempt.kind != kind:
        abort(404)
    items = learning.attempt_items(db(), attempt.id)
    positions = {item.question_id: request.form.getlist(f"q-{item.position + 1}")[:20] for item in items}
    answers = {item.question_id: learning.choices_from_positions(item, positions[item.question_id]) for item in items}
    try:
        with writing() as w:
            result = learning.submit_attempt(w, w.get(Enrollment, enrollment.id), pack, attempt.id, answers, now(),
                                             portal_tz())
    except learning.LearningError as error:
        if error.status == 422:
            flash(error.message, "error")
            return render("learning/test.html", pack=pack, kind=kind, kind_label=KINDS[kind], attempt=attempt,
                          questions=learning.shown_questions(db(), pack, attempt), form=form, answers=positions,
                          status=422)
        return refuse(error, url_for("assessments.test", pack_id=pack.id, kind=kind))
    if kind == PRE:
        flash("Your pre-test was submitted. The lessons are unlocked.", "success")
        return redirect(url_for("learning.resume", pack_id=pack.id), code=303)
    return redirect(url_for("assessments.result", pack_id=pack.id, attempt_id=result.id), code=303)


@bp.get("/learn/<pack_id>/results/<int(max=2147483647):attempt_id>")
@login_required
def result(pack_id: str, attempt_id: int):
    """A post-test result. Pre-test results do not exist for learners: they never see that score."""
    pack = course_or_404(pack_id)
    enrollment = study_enrollment(pack.id)
    attempt = db().get(Attempt, attempt_id)
    if attempt is None or attempt.enrollment_id != enrollment.id or attempt.kind != POST or not attempt.submitted_at:
        abort(404)
    questions = learning.shown_questions(db(), pack, attempt)
    feedback = {q.id: q.feedback for q in pack.questions} if attempt.passed else {}
    return render("learning/result.html", pack=pack, attempt=attempt, questions=questions, feedback=feedback,
                  form=StartForm(), open=learning.is_open(enrollment, now(), portal_tz()))


def enrollment_to_attest(pack_id: str) -> Enrollment:
    """The enrollment whose honor code this page is for: the session named in `?session=`, else
    this session's if it is passed, else the latest earlier session still waiting for it. A
    pass in 2026 earns the 2026 certificate even after the learner enrolled in 2027."""
    year = request.args.get("session", "")
    if year:
        if not (year.isdigit() and len(year) == 4):
            abort(404)
        found = learning.find_enrollment(db(), current_user.user.id, pack_id, int(year))
        if found is None:
            abort(404)
        return found
    enrollment = study_enrollment(pack_id)
    if enrollment.passed_at is None:
        pending = learning.pending_certificate_enrollments(db(), current_user.user.id, pack_id)
        if pending:
            return pending[0]
    return enrollment


@bp.route("/learn/<pack_id>/honor-code", methods=["GET", "POST"])
@login_required
def honor_code(pack_id: str):
    pack = course_or_404(pack_id)
    enrollment = enrollment_to_attest(pack.id)
    if enrollment.passed_at is None:
        flash("Pass the post-test before you attest to the honor code.", "info")
        return redirect(url_for("learning.resume", pack_id=pack.id))
    certificate = certificate_for_enrollment(db(), enrollment.id)
    if certificate:
        return redirect(url_for("certificates.view", number=certificate.number))
    form = StartForm()
    if request.method == "POST" and form.validate_on_submit():
        try:
            with writing() as w:
                row = w.get(Enrollment, enrollment.id)
                learning.attest_honor_code(w, row, request.form.get("answer", ""), now())
                certificate, issued = issue_or_find_certificate(
                    w, row, w.get(type(current_user.user), current_user.user.id), pack, now(), portal_tz())
        except learning.LearningError as error:
            flash(error.message, "error")
            return render("learning/honor_code.html", pack=pack, text=HONOR_CODE, form=form, status=error.status,
                          enrollment=enrollment)
        from portal.certificates.views import store_certificate_pdf

        if issued:
            store_certificate_pdf(certificate)
        flash("Thank you. Your certificate is ready.", "success")
        return redirect(url_for("certificates.view", number=certificate.number), code=303)
    return render("learning/honor_code.html", pack=pack, text=HONOR_CODE, form=form, enrollment=enrollment)
