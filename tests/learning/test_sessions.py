"""Annual sessions on a clock the tests move: a session is January 1 to December 31 in the
portal's time zone (America/New_York), work counts only inside its own session, and
completed work (lessons, certificates) stays available for good."""

from __future__ import annotations

import re
from datetime import date
from zoneinfo import ZoneInfo

import pytest
from sqlmodel import select

from portal.learning import services as learning
from portal.learning.models import Attempt, Enrollment, LessonProgress
from portal.learning.sessions import session_label
from tests.helpers import csrf_token, log_in, make_user, row_counts, services, utc
from tests.learning.journey import (COURSE, answers_scoring, attempts_of_user, complete_all_lessons, enroll,
                                    enrollments_of_user, learning_snapshot, open_attempt_of, pack, page_text,
                                    reach_certificate, start_test, take_test_scoring)

NY = ZoneInfo("America/New_York")
# 2026-12-31 23:59 in New York is 2027-01-01 04:59 UTC; 00:01 on January 1 is 05:01 UTC.
LAST_MINUTE_OF_2026 = utc(2027, 1, 1, 4, 59)
FIRST_MINUTES_OF_2027 = utc(2027, 1, 1, 5, 1)
CERT_NUMBER = re.compile(r"PSTP-\d{4}(?:-[A-Z0-9]{4}){2,4}")


@pytest.fixture
def learner(frozen_app, clock):
    """A verified learner, logged in, with the clock at the last minute of 2026 in New York."""
    clock.set(LAST_MINUTE_OF_2026)
    make_user(frozen_app)
    client = frozen_app.test_client()
    log_in(client)
    return client


def follow(client, response):
    """The page a refused step sends the learner to (with its flashed message)."""
    assert response.status_code < 500, response.status_code
    if response.status_code in (301, 302, 303, 307, 308):
        return client.get(response.location, follow_redirects=True)
    return response


def assert_refused_as_ended(client, response):
    """Refused with a message saying the 2026 session is over, not a bare error page."""
    assert response.status_code not in (200, 404) and response.status_code < 500, (
        f"the late step got {response.status_code}; expected a refusal with a message:\n"
        f"{page_text(response.get_data(as_text=True))[:600]}")
    text = page_text(follow(client, response).get_data(as_text=True))
    assert re.search(r"\b(session|enrollment)\b[^.]{0,60}\b(ended|expired|closed|over)\b", text), (
        f"no session-ended message in:\n{text[:1200]}")
    assert "Page not found" not in text


# -- which session an enrollment belongs to -----------------------------------------------

def test_enrolling_at_2359_on_december_31_new_york_time_joins_the_2026_session(learner, frozen_app):
    assert enroll(learner).status_code == 303
    [enrollment] = enrollments_of_user(frozen_app)
    assert enrollment.session_year == 2026
    assert enrollment.enrolled_at == LAST_MINUTE_OF_2026  # stored in UTC, already 2027 there
    assert "2026 session" in page_text(learner.get("/my/courses").get_data(as_text=True))


def test_enrolling_at_0001_on_january_1_new_york_time_joins_the_2027_session(frozen_app, clock):
    clock.set(FIRST_MINUTES_OF_2027)
    make_user(frozen_app)
    client = frozen_app.test_client()
    log_in(client)
    assert enroll(client).status_code == 303
    assert [e.session_year for e in enrollments_of_user(frozen_app)] == [2027]


def test_session_rule_refuses_work_after_new_year_in_new_york(frozen_app, clock):
    """The rule itself, without the web: an enrollment is open only in its own local year."""
    enrollment = Enrollment(user_id=1, pack_id=COURSE, pack_version="1.0.0", session_year=2026,
                            enrolled_at=LAST_MINUTE_OF_2026)
    assert learning.is_open(enrollment, LAST_MINUTE_OF_2026, NY)
    assert not learning.is_open(enrollment, FIRST_MINUTES_OF_2027, NY)
    with pytest.raises(learning.LearningError) as refused:
        learning.require_open(enrollment, FIRST_MINUTES_OF_2027, NY)
    assert "2026 session" in refused.value.message and "ended" in refused.value.message


# -- January 1 is too late for the old session ---------------------------------------------

def test_pre_test_cannot_be_started_on_january_1_for_a_2026_enrollment(learner, frozen_app, clock):
    enroll(learner)
    clock.set(FIRST_MINUTES_OF_2027)
    before = learning_snapshot(frozen_app)
    response = learner.post(f"/learn/{COURSE}/tests/pre/start", data={"csrf_token": csrf_token(learner, "/my/courses")})
    assert_refused_as_ended(learner, response)
    assert learning_snapshot(frozen_app) == before
    assert attempts_of_user(frozen_app) == []


def test_lesson_cannot_be_completed_on_january_1_for_a_2026_enrollment(learner, frozen_app, clock):
    enroll(learner)
    clock.set(utc(2027, 1, 1, 4, 50))
    take_test_scoring(learner, frozen_app, "pre", 4)
    clock.set(FIRST_MINUTES_OF_2027)
    before = learning_snapshot(frozen_app)
    lesson = pack(frozen_app).lessons[0].id
    response = learner.post(f"/learn/{COURSE}/lessons/{lesson}/complete",
                            data={"csrf_token": csrf_token(learner, "/my/courses")})
    assert_refused_as_ended(learner, response)
    assert learning_snapshot(frozen_app) == before
    with services(frozen_app).database.session() as db:
        assert db.exec(select(LessonProgress)).all() == []


def test_post_test_cannot_be_submitted_on_january_1_for_a_2026_enrollment(learner, frozen_app, clock):
    clock.set(utc(2027, 1, 1, 4, 30))
    enroll(learner)
    take_test_scoring(learner, frozen_app, "pre", 4)
    complete_all_lessons(learner, frozen_app)
    start_test(learner, "post")
    attempt, items = open_attempt_of(frozen_app, "post")
    assert attempt is not None
    clock.set(FIRST_MINUTES_OF_2027)
    before = learning_snapshot(frozen_app)
    data = answers_scoring(frozen_app, attempt, items, len(items))
    response = learner.post(f"/learn/{COURSE}/tests/post/submit",
                            data={"csrf_token": csrf_token(learner, "/my/courses"), **data})
    assert_refused_as_ended(learner, response)
    assert learning_snapshot(frozen_app) == before
    [enrollment] = enrollments_of_user(frozen_app)
    assert enrollment.passed_at is None
    [post] = attempts_of_user(frozen_app, kind="post")
    assert post.submitted_at is None and post.score is None


def test_expired_enrollment_shows_as_expired_and_is_kept_as_history(learner, frozen_app, clock):
    enroll(learner)
    take_test_scoring(learner, frozen_app, "pre", 6)
    lesson = pack(frozen_app).lessons[0].id
    page = f"/learn/{COURSE}/lessons/{lesson}"
    learner.post(page + "/complete", data={"csrf_token": csrf_token(learner, page)})
    counts = row_counts(frozen_app)
    clock.set(FIRST_MINUTES_OF_2027)
    text = page_text(learner.get("/my/courses").get_data(as_text=True))
    assert "2026 session" in text and "Expired" in text
    assert "In progress" not in text
    [enrollment] = enrollments_of_user(frozen_app)
    assert enrollment.session_year == 2026
    assert len(attempts_of_user(frozen_app, kind="pre")) == 1
    assert {t: n for t, n in row_counts(frozen_app).items() if t != "login_session"} == \
        {t: n for t, n in counts.items() if t != "login_session"}


def test_learner_may_enroll_in_the_2027_session_and_starts_fresh(learner, frozen_app, clock):
    enroll(learner)
    take_test_scoring(learner, frozen_app, "pre", 6)
    complete_all_lessons(learner, frozen_app)
    clock.set(FIRST_MINUTES_OF_2027)
    course_page = learner.get(f"/courses/{COURSE}").get_data(as_text=True)
    assert f'action="/courses/{COURSE}/enroll"' in course_page
    assert enroll(learner).status_code == 303
    old, new = enrollments_of_user(frozen_app)
    assert (old.session_year, new.session_year) == (2026, 2027) and old.id != new.id
    # Fresh: the pre-test is due again and no lesson is done.
    assert learner.get(f"/learn/{COURSE}").location.endswith(f"/learn/{COURSE}/tests/pre")
    first = pack(frozen_app).lessons[0].id
    assert learner.get(f"/learn/{COURSE}/lessons/{first}").location.endswith(f"/learn/{COURSE}/tests/pre")
    with services(frozen_app).database.session() as db:
        assert learning.completed_lesson_ids(db, new.id) == set()
    text = page_text(learner.get("/my/courses").get_data(as_text=True))
    assert "2027 session · Pre-test due" in text and "2026 session · Expired" in text
    start_test(learner, "pre")
    attempt, items = open_attempt_of(frozen_app, "pre")
    assert attempt.enrollment_id == new.id and attempt.number == 1 and len(items) == pack(frozen_app).pre_draw
    # The old session's work is still there, untouched.
    with services(frozen_app).database.session() as db:
        assert len(db.exec(select(LessonProgress).where(LessonProgress.enrollment_id == old.id)).all()) == 6
        assert len(db.exec(select(Attempt).where(Attempt.enrollment_id == old.id)).all()) == 1


# -- completed work stays -------------------------------------------------------------------

def test_a_2026_completer_keeps_lessons_and_certificate_in_2027(frozen_app, clock):
    clock.set(utc(2026, 6, 15, 14, 0))
    make_user(frozen_app)
    client = frozen_app.test_client()
    log_in(client)
    number = reach_certificate(client, frozen_app)
    clock.set(utc(2027, 2, 1, 15, 0))
    log_in(client)  # the old log-in session has long expired
    for lesson in pack(frozen_app).lessons:
        response = client.get(f"/learn/{COURSE}/lessons/{lesson.id}")
        assert response.status_code == 200, (lesson.id, response.status_code, response.location)
        assert "review" in page_text(response.get_data(as_text=True))
    mine = client.get("/my/certificates").get_data(as_text=True)
    assert number in mine and "2026" in page_text(mine)
    assert client.get(f"/certificates/{number}").status_code == 200
    assert client.get(f"/certificates/{number}.pdf").data.startswith(b"%PDF")
    text = page_text(client.get("/my/courses").get_data(as_text=True))
    assert "2026 session · Certificate ready" in text


def test_course_page_offers_a_2026_completer_the_2027_session(frozen_app, clock):
    """A completed learner may re-enroll next year, so the course page must offer it."""
    clock.set(utc(2026, 6, 15, 14, 0))
    make_user(frozen_app)
    client = frozen_app.test_client()
    log_in(client)
    reach_certificate(client, frozen_app)
    clock.set(utc(2027, 3, 10, 15, 0))
    log_in(client)
    page = client.get(f"/courses/{COURSE}").get_data(as_text=True)
    assert session_label(2027) in page_text(page)
    assert f'action="/courses/{COURSE}/enroll"' in page, (
        "a learner who completed the 2026 session is not offered the 2027 session:\n" + page_text(page)[:1500])


def test_a_2026_completer_re_enrolls_in_2027_and_earns_a_second_certificate(frozen_app, clock):
    clock.set(utc(2026, 6, 15, 14, 0))
    make_user(frozen_app)
    client = frozen_app.test_client()
    log_in(client)
    first = reach_certificate(client, frozen_app)
    clock.set(utc(2027, 3, 10, 15, 0))
    log_in(client)
    second = reach_certificate(client, frozen_app)
    assert first != second
    assert first.startswith("PSTP-2026-") and second.startswith("PSTP-2027-")
    old, new = enrollments_of_user(frozen_app)
    assert (old.session_year, new.session_year) == (2026, 2027)
    from portal.certificates.models import Certificate

    with services(frozen_app).database.session() as db:
        rows = {c.number: c for c in db.exec(select(Certificate)).all()}
    assert rows[first].session_year == 2026 and rows[first].completed_on == date(2026, 6, 15)
    assert rows[second].session_year == 2027 and rows[second].completed_on == date(2027, 3, 10)
    assert rows[first].enrollment_id == old.id and rows[second].enrollment_id == new.id
    mine = client.get("/my/certificates").get_data(as_text=True)
    assert first in mine and second in mine
    text = page_text(mine)
    assert "June 15, 2026" in text and "March 10, 2027" in text
    public = frozen_app.test_client()
    assert public.get(f"/verify/{first}").status_code == 200
    assert public.get(f"/verify/{second}").status_code == 200


def test_enrolling_twice_in_one_session_changes_nothing(frozen_app, clock):
    clock.set(utc(2026, 3, 2, 15, 0))
    make_user(frozen_app)
    learner = frozen_app.test_client()
    log_in(learner)
    assert enroll(learner).status_code == 303
    [first] = enrollments_of_user(frozen_app)
    before = learning_snapshot(frozen_app)
    assert enroll(learner).status_code == 303
    clock.advance(days=30)
    log_in(learner)  # the first log-in session has expired by now
    assert enroll(learner).status_code == 303
    [again] = enrollments_of_user(frozen_app)
    assert again.id == first.id and again.enrolled_at == first.enrolled_at
    assert learning_snapshot(frozen_app) == before


def test_course_page_shows_the_session_dates_during_2026(frozen_app, clock):
    make_user(frozen_app)
    anonymous = frozen_app.test_client()
    signed_in = frozen_app.test_client()
    log_in(signed_in)
    for moment in (utc(2026, 1, 1, 5, 0), utc(2026, 6, 15, 14, 0), LAST_MINUTE_OF_2026):
        clock.set(moment)
        for client in (anonymous, signed_in):
            text = page_text(client.get(f"/courses/{COURSE}").get_data(as_text=True))
            assert "2026 session: January 1 \u2013 December 31, 2026" in text, moment
    clock.set(FIRST_MINUTES_OF_2027)
    assert "2027 session: January 1 \u2013 December 31, 2027" in page_text(
        anonymous.get(f"/courses/{COURSE}").get_data(as_text=True))


def test_unverified_user_cannot_enroll(frozen_app):
    make_user(frozen_app, verified=False)
    client = frozen_app.test_client()
    log_in(client)
    client.get("/")  # shows (and so clears) the log-in reminder
    response = enroll(client)
    assert response.status_code == 303 and response.location.endswith(f"/courses/{COURSE}")
    text = page_text(client.get(response.location).get_data(as_text=True))
    assert "Confirm your email address before you enroll: use the link we mailed you." in text
    assert enrollments_of_user(frozen_app) == []
    with services(frozen_app).database.session() as db:
        assert db.exec(select(Enrollment)).all() == []
