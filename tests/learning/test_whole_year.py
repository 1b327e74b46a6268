"""The learner's whole year (issue 15): year-end without losses and approvals that expire.

B1 a pending 2026 certificate survives enrolling in 2027; B2 an approval shows and prints only
while valid; B4 a test opened before midnight on December 31 is read-only afterwards, never a
loop; B5 a completed session's lessons stay reviewable after re-enrolling."""

from __future__ import annotations

import re

from sqlmodel import select

from portal.certificates.models import Certificate
from tests.helpers import csrf_token, log_in, make_user, services, submit, utc
from tests.learning.journey import (COURSE, answers_scoring, complete_all_lessons, enroll, enrollments_of_user,
                                    learning_snapshot, main_html, open_attempt_of, pack, page_text, start_test,
                                    take_test_scoring)

MID_DECEMBER_2026 = utc(2026, 12, 15, 15, 0)
LAST_HOUR_OF_2026 = utc(2027, 1, 1, 4, 0)      # 23:00 on December 31 in New York
FIRST_MINUTES_OF_2027 = utc(2027, 1, 1, 5, 1)  # 00:01 on January 1 in New York
JANUARY_2027 = utc(2027, 1, 12, 15, 0)


def signed_in(app):
    make_user(app)
    client = app.test_client()
    log_in(client)
    return client


def pass_without_attesting(client, app):
    assert enroll(client).status_code == 303
    take_test_scoring(client, app, "pre", 5)
    complete_all_lessons(client, app)
    take_test_scoring(client, app, "post", 10)


def certificates(app) -> list[Certificate]:
    with services(app).database.session() as db:
        return list(db.exec(select(Certificate).order_by(Certificate.id)).all())


# -- B1: a pending certificate of an earlier session ------------------------------------------

def test_b1_passed_2026_then_enrolled_2027_still_gets_the_2026_certificate(frozen_app, clock):
    clock.set(MID_DECEMBER_2026)
    client = signed_in(frozen_app)
    pass_without_attesting(client, frozen_app)
    clock.set(JANUARY_2027)
    log_in(client)
    assert enroll(client).status_code == 303
    course = page_text(main_html(client.get(f"/courses/{COURSE}").get_data(as_text=True)))
    assert re.search(r"2026 certificate", course) and "honor code" in course, course
    page = client.get(f"/learn/{COURSE}/honor-code")
    assert page.status_code == 200, page.location
    response = submit(client, f"/learn/{COURSE}/honor-code", {"answer": "yes"})
    assert response.status_code == 303, response.get_data(as_text=True)[:400]
    [certificate] = certificates(frozen_app)
    assert certificate.session_year == 2026
    assert certificate.completed_on.isoformat() == "2026-12-15"
    # The 2027 enrollment is untouched and still at its pre-test.
    old, new = enrollments_of_user(frozen_app)
    assert new.session_year == 2027 and new.passed_at is None
    assert client.get(f"/learn/{COURSE}").location.endswith("/tests/pre")


def test_b1_my_courses_sends_a_pending_2026_certificate_to_its_honor_code(frozen_app, clock):
    clock.set(MID_DECEMBER_2026)
    client = signed_in(frozen_app)
    pass_without_attesting(client, frozen_app)
    clock.set(JANUARY_2027)
    log_in(client)
    enroll(client)
    html = client.get("/my/courses").get_data(as_text=True)
    assert f'/learn/{COURSE}/honor-code?session=2026' in html
    page = client.get(f"/learn/{COURSE}/honor-code?session=2026")
    assert page.status_code == 200 and "2026" in page_text(page.get_data(as_text=True))


# -- B2: approvals expire --------------------------------------------------------------------

def test_b2_an_approval_past_valid_through_is_not_shown_as_approved(frozen_app, clock):
    clock.set(JANUARY_2027)
    client = frozen_app.test_client()
    for path in ("/catalog", f"/courses/{COURSE}"):
        text = page_text(main_html(client.get(path).get_data(as_text=True)))
        assert "Arizona POST Approved Course" not in text, path
        assert "approval expired on December 31, 2026" in text.replace("Dec 31", "December 31"), (path, text)
    assert COURSE not in client.get("/catalog?state=AZ").get_data(as_text=True)
    clock.set(MID_DECEMBER_2026)
    assert "Arizona POST Approved Course" in page_text(client.get(f"/courses/{COURSE}").get_data(as_text=True))


def test_b2_certificates_print_only_approvals_valid_on_their_completion_date(frozen_app, clock):
    clock.set(MID_DECEMBER_2026)
    client = signed_in(frozen_app)
    pass_without_attesting(client, frozen_app)
    clock.set(JANUARY_2027)
    log_in(client)
    submit(client, f"/learn/{COURSE}/honor-code", {"answer": "yes"})  # 2026 pass, attested in 2027
    enroll(client)
    take_test_scoring(client, frozen_app, "pre", 5)
    complete_all_lessons(client, frozen_app)
    take_test_scoring(client, frozen_app, "post", 10)
    submit(client, f"/learn/{COURSE}/honor-code", {"answer": "yes"})
    first, second = certificates(frozen_app)
    assert (first.session_year, second.session_year) == (2026, 2027)
    assert "AZPOST-CE-2026-0417" in first.accreditation
    assert "AZPOST" not in second.accreditation and "Arizona POST" not in second.accreditation
    view = page_text(client.get(f"/certificates/{second.number}").get_data(as_text=True))
    assert "AZPOST-CE-2026-0417" not in view


# -- B4: a test opened before midnight ---------------------------------------------------------

def _post_test_open_at_midnight(app, clock):
    clock.set(LAST_HOUR_OF_2026)
    client = signed_in(app)
    enroll(client)
    take_test_scoring(client, app, "pre", 5)
    complete_all_lessons(client, app)
    start_test(client, "post")
    attempt, items = open_attempt_of(app, "post")
    clock.set(FIRST_MINUTES_OF_2027)
    return client, attempt, items


def test_b4_after_midnight_an_open_test_is_read_only_with_a_way_to_the_new_session(frozen_app, clock):
    client, attempt, items = _post_test_open_at_midnight(frozen_app, clock)
    html = main_html(client.get(f"/learn/{COURSE}/tests/post").get_data(as_text=True))
    text = page_text(html)
    assert "2026 session" in text and "ended" in text, text
    assert "Submit the post-test" not in text
    inputs = re.findall(r"<input[^>]*type=\"(?:radio|checkbox)\"[^>]*>", html)
    assert inputs and all("disabled" in i for i in inputs)
    assert f'action="/courses/{COURSE}/enroll"' in html and "2027 session" in text


def test_b4_a_late_submission_lands_on_the_read_only_page_not_the_same_blank_test(frozen_app, clock):
    client, attempt, items = _post_test_open_at_midnight(frozen_app, clock)
    before = learning_snapshot(frozen_app)
    response = client.post(f"/learn/{COURSE}/tests/post/submit",
                           data={"csrf_token": csrf_token(client, "/my/courses"),
                                 **answers_scoring(frozen_app, attempt, items, len(items))})
    assert response.status_code == 303
    landed = client.get(response.location, follow_redirects=True).get_data(as_text=True)
    text = page_text(main_html(landed))
    assert "ended" in text and "Submit the post-test" not in text
    assert learning_snapshot(frozen_app) == before
    # Enrolling in 2027 from there starts the new session's pre-test; nothing loops back.
    assert enroll(client).status_code == 303
    assert client.get(f"/learn/{COURSE}").location.endswith("/tests/pre")


# -- B5: completed lessons stay reviewable ----------------------------------------------------

def test_b5_reenrolling_keeps_completed_2026_lessons_reviewable(frozen_app, clock):
    clock.set(MID_DECEMBER_2026)
    client = signed_in(frozen_app)
    pass_without_attesting(client, frozen_app)
    submit(client, f"/learn/{COURSE}/honor-code", {"answer": "yes"})
    clock.set(JANUARY_2027)
    log_in(client)
    enroll(client)
    for lesson in pack(frozen_app).lessons:
        response = client.get(f"/learn/{COURSE}/lessons/{lesson.id}")
        assert response.status_code == 200, (lesson.id, response.location)
        assert lesson.title in page_text(response.get_data(as_text=True))
    html = main_html(client.get(f"/courses/{COURSE}").get_data(as_text=True))
    review = re.search(r'href="([^"]+)"[^>]*>review the course', html, flags=re.I)
    assert review, page_text(html)
    assert client.get(review.group(1)).status_code == 200
