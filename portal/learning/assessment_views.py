"""Pre-test, post-test, results and the honor code."""

from __future__ import annotations

from flask import Blueprint, abort, current_app, flash, redirect, request, url_for
from flask_login import current_user, login_required
from flask_wtf.csrf import CSRFError

from portal.certificates.services import certificate_for_enrollment, issue_or_find_certificate
from portal.common.security import csrf
from portal.common.web import db, is_htmx, now, render, writing
from portal.learning import services as learning
from portal.learning.attempt_tokens import read_attempt_token, sign_attempt
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
                      questions=learning.shown_questions(db(), pack, attempt), form=StartForm(),
                      closed=enrollment.session_year, year=session_year(now(), portal_tz()))
    if attempt is None or attempt.pack_version != pack.version:
        locked = None
        if kind == POST:
            if not learning.pre_test_done(db(), enrollment.id):
                locked = "Take the pre-test first."
            elif len(learning.completed_lesson_ids(db(), enrollment.id)) < len(pack.lessons):
                locked = "Finish every lesson to unlock the post-test."
        previous = learning.submitted_attempts(db(), enrollment.id, POST) if kind == POST else []
        updated = None
        if attempt is not None:  # open on an earlier version of the pack: the start page says what happens
            removed = learning.stale_attempt_questions(db(), attempt, pack, kind)
            updated = {"removed": removed, "kept": attempt.question_count - removed}
        if kind == POST and not locked and session_open:
            locked = learning.retake_wait(db(), enrollment, pack, now(), portal_tz())
        return render("learning/test_start.html", pack=pack, kind=kind, kind_label=KINDS[kind], form=StartForm(),
                      locked=locked, previous=previous, open=session_open, ended=enrollment.session_year, updated=updated,
                      year=session_year(now(), portal_tz()))
    questions = learning.shown_questions(db(), pack, attempt)
    return render("learning/test.html", pack=pack, kind=kind, kind_label=KINDS[kind], attempt=attempt,
                  questions=questions, form=AttemptForm(attempt_id=attempt.id), check=request.args.get("check") == "1",
                  attempt_token=sign_attempt(current_app.secret_key, current_user.user.id, attempt.id))


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


def _posted_answers(attempt: Attempt) -> tuple[dict[str, list[str]], dict[str, list[str]]]:
    """The form's answers as positions (for the page) and as choice ids (for the rules)."""
    items = learning.attempt_items(db(), attempt.id)
    positions = {item.question_id: request.form.getlist(f"q-{item.position + 1}")[:20] for item in items}
    return positions, {item.question_id: learning.choices_from_positions(item, positions[item.question_id])
                       for item in items}


def _posted_attempt(pack_id: str, kind: str, user_id: int) -> tuple[Attempt, Enrollment]:
    """The attempt the form names, if it is this learner's test of this kind in this course."""
    attempt_id = request.form.get("attempt_id", "")
    if not attempt_id.isdigit() or len(attempt_id) > 9:
        abort(400)
    attempt = db().get(Attempt, int(attempt_id))
    enrollment = db().get(Enrollment, attempt.enrollment_id) if attempt else None
    if enrollment is None or enrollment.user_id != user_id or enrollment.pack_id != pack_id or attempt.kind != kind:
        abort(404)
    return attempt, enrollment


def _csrf_passes() -> bool:
    try:
        csrf.protect()
    except CSRFError:
        return False
    return True


def _keep_answers_of_ended_login(pack_id: str, kind: str, csrf_passed: bool):
    """The CSRF token or the log-in session is gone (log-out elsewhere, the idle limit): if the
    form carries this attempt's signed token, keep its answers as the draft, unscored, and send
    the learner to sign in and land on the same attempt. Otherwise it is a forged or stale form."""
    from portal.common.errors import error_page

    signed = read_attempt_token(current_app.secret_key, request.form.get("attempt_token", ""))
    attempt_id = request.form.get("attempt_id", "")
    if signed is None or str(signed[1]) != attempt_id or (
            current_user.is_authenticated and current_user.user.id != signed[0]):
        if not csrf_passed:  # before anything else, as CSRFProtect would: no hint what exists
            return error_page(400, "Your form expired or came from another page. Go back, reload the page and "
                                   "try again.")
        pack, kind = course_or_404(pack_id), _kind(kind)
        # A visitor's own form, with no test of theirs in it: sign in first.
        return redirect(url_for("accounts.login", next=url_for("assessments.test", pack_id=pack.id, kind=kind)),
                        code=303)
    pack, kind = course_or_404(pack_id), _kind(kind)
    test_page = url_for("assessments.test", pack_id=pack.id, kind=kind)
    attempt, enrollment = _posted_attempt(pack.id, kind, signed[0])
    _, answers = _posted_answers(attempt)
    try:
        with writing() as w:
            learning.save_draft(w, w.get(Enrollment, enrollment.id), attempt.id, answers, now(), portal_tz())
    except learning.LearningError as error:
        flash(error.message, "error")
    else:
        message = ("Your log-in session had ended, so your answers were saved but not submitted. "
                   "Log in to continue: your test is just as you left it.")
        if is_htmx():
            return render("learning/_save_status.html", message=message,
                          login=url_for("accounts.login", next=test_page))
        flash(message, "info")
    if current_user.is_authenticated:
        return redirect(test_page, code=303)
    return redirect(url_for("accounts.login", next=test_page), code=303)


@bp.post("/learn/<pack_id>/tests/<kind>/save")
@csrf.exempt  # checked in the view: a draft from an ended log-in session is kept, see above
def save(pack_id: str, kind: str):
    """Save the answers so far: htmx posts here as each answer changes, and the plain
    "Save answers" button does without JavaScript."""
    csrf_passed = _csrf_passes()
    if not csrf_passed or not current_user.is_authenticated:
        return _keep_answers_of_ended_login(pack_id, kind, csrf_passed)
    pack, kind = course_or_404(pack_id), _kind(kind)
    attempt, enrollment = _posted_attempt(pack.id, kind, current_user.user.id)
    _, answers = _posted_answers(attempt)
    try:
        with writing() as w:
            learning.save_draft(w, w.get(Enrollment, enrollment.id), attempt.id, answers, now(), portal_tz())
    except learning.LearningError as error:
        if is_htmx():
            return render("learning/_save_status.html", message=error.message, status=error.status)
        return refuse(error, url_for("assessments.test", pack_id=pack.id, kind=kind))
    if is_htmx():
        return render("learning/_save_status.html", message=f"Answers saved at {local_time(now())}.")
    flash("Your answers are saved. You can leave and come back at any time before the session ends.", "success")
    return redirect(url_for("assessments.test", pack_id=pack.id, kind=kind), code=303)


def local_time(moment) -> str:
    return moment.astimezone(portal_tz()).strftime("%H:%M")


@bp.post("/learn/<pack_id>/tests/<kind>/submit")
@csrf.exempt  # checked in the view, as for save
def submit(pack_id: str, kind: str):
    csrf_passed = _csrf_passes()
    if not csrf_passed or not current_user.is_authenticated:
        return _keep_answers_of_ended_login(pack_id, kind, csrf_passed)
    pack, kind = course_or_404(pack_id), _kind(kind)
    attempt, enrollment = _posted_attempt(pack.id, kind, current_user.user.id)
    _, answers = _posted_answers(attempt)
    test_page = url_for("assessments.test", pack_id=pack.id, kind=kind)
    try:
        with writing() as w:
            result = learning.submit_attempt(w, w.get(Enrollment, enrollment.id), pack, attempt.id, answers, now(),
                                             portal_tz())
    except learning.LearningError as error:
        if error.status == 422:
            # Post/redirect/get: keep what was answered and show the test again with the gaps
            # marked, so Back or a refresh never asks to resend the form.
            try:
                with writing() as w:
                    learning.save_draft(w, w.get(Enrollment, enrollment.id), attempt.id, answers, now(), portal_tz())
            except learning.LearningError as draft_error:
                return refuse(draft_error, test_page)
            flash(error.message, "error")
            return redirect(url_for("assessments.test", pack_id=pack.id, kind=kind, check=1), code=303)
        return refuse(error, test_page)
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
    # After a failed try: the score and the lessons to review, never which questions were missed
    # (a list of misses lets a script walk the answer key).
    questions = learning.shown_questions(db(), pack, attempt) if attempt.passed else []
    feedback = {q.id: q.feedback for q in pack.questions} if attempt.passed else {}
    is_open = learning.is_open(enrollment, now(), portal_tz())
    wait = None if attempt.passed or not is_open else learning.retake_wait(db(), enrollment, pack, now(), portal_tz())
    return render("learning/result.html", pack=pack, attempt=attempt, questions=questions, feedback=feedback,
                  form=StartForm(), open=is_open, wait=wait)


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
