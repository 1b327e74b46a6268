"""Exactly once: fifty browsers of one learner firing the same enrollment, the same post-test
submission or the same certificate request at the same instant leave one row each, count
the submission once in every summary, and none of them gets a 5xx. Three rounds each, every
round on fresh state (a new learner), on every test database."""

from __future__ import annotations

import threading

from sqlalchemy import text

from tests.helpers import csrf_token, log_in, make_user, services
from tests.learning.journey import (COURSE, answers_scoring, attempts_of_user, complete_all_lessons, enroll,
                                    enrollments_of_user, items_of, open_attempt_of, start_test, take_test_scoring)
from tests.security.strategies import invariant_problems

BROWSERS = 50
ROUNDS = 3


def browsers_of(app, email: str) -> list[tuple]:
    """Fifty browsers, each signed in on its own, each with its own CSRF token."""
    found = []
    for _ in range(BROWSERS):
        browser = app.test_client()
        assert log_in(browser, email).status_code == 302
        found.append((browser, csrf_token(browser, "/my/courses")))
    return found


def fire_at_once(browsers, path: str, data: dict) -> list:
    """POST the same form from every browser at once; every response, or the error raised."""
    results, barrier = [], threading.Barrier(len(browsers))

    def post(browser, token):
        try:
            barrier.wait()
            response = browser.post(path, data={"csrf_token": token, **data})
            results.append((response.status_code, response.location, response.headers.get("Retry-After")))
        except Exception as error:  # noqa: BLE001 - every failure is reported by the caller
            results.append(("raised", repr(error), None))

    threads = [threading.Thread(target=post, args=pair) for pair in browsers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


def assert_all_redirect_to_one_place(results, summary: str):
    statuses = sorted(str(status) for status, _, _ in results)
    assert len(results) == BROWSERS, summary
    assert all(status != "raised" and status < 500 for status, _, _ in results), f"{summary}; {statuses}"
    assert {status for status, _, _ in results} == {303}, f"{summary}; {statuses}"
    assert len({location for _, location, _ in results}) == 1, f"{summary}; {results[:3]}"
    return results[0][1]


def certificate_pdf_key(app, number: str) -> str | None:
    with services(app).database.engine.connect() as connection:
        return connection.execute(text("SELECT pdf_key FROM certificate WHERE number = :n"), {"n": number}).scalar()


def count(app, sql: str, **params) -> int:
    with services(app).database.engine.connect() as connection:
        return connection.execute(text(sql), params).scalar_one()


def new_learner(app, round_: int) -> tuple[str, object]:
    email = f"racer{round_}@example.gov"
    make_user(app, email=email, name=f"Racer {round_}")
    client = app.test_client()
    log_in(client, email)
    return email, client


def test_fifty_identical_enrollments_make_one_enrollment(app):
    for round_ in range(ROUNDS):
        email, _ = new_learner(app, round_)
        results = fire_at_once(browsers_of(app, email), f"/courses/{COURSE}/enroll", {})
        enrollments = enrollments_of_user(app, email)
        summary = f"round {round_}: {len(enrollments)} enrollment(s)"
        assert_all_redirect_to_one_place(results, summary)
        assert len(enrollments) == 1, summary
        assert invariant_problems(app) == []
    assert count(app, "SELECT COUNT(*) FROM enrollment") == ROUNDS


def test_fifty_identical_post_test_submissions_count_once(app):
    for round_ in range(ROUNDS):
        email, client = new_learner(app, round_)
        enroll(client)
        take_test_scoring(client, app, "pre", 5, email)
        complete_all_lessons(client, app)
        start_test(client, "post")
        attempt, items = open_attempt_of(app, "post", email)
        answered_before = count(app, "SELECT COALESCE(SUM(answered), 0) FROM item_stat WHERE kind = 'post'")
        data = answers_scoring(app, attempt, items, 9)

        results = fire_at_once(browsers_of(app, email), f"/learn/{COURSE}/tests/post/submit", data)

        summary = f"round {round_}"
        location = assert_all_redirect_to_one_place(results, summary)
        assert location == f"/learn/{COURSE}/results/{attempt.id}"
        [post] = attempts_of_user(app, email, kind="post")
        assert post.id == attempt.id and post.submitted_at is not None
        assert (post.correct_count, post.score, post.passed) == (9, 90.0, True), summary
        assert [item.correct for item in items_of(app, attempt.id)] == [True] * 9 + [False], summary
        [enrollment] = enrollments_of_user(app, email)
        assert (enrollment.post_attempts, enrollment.best_post_score, enrollment.first_post_passed) == (1, 90.0, True)
        assert enrollment.passed_at is not None
        # item analysis counted the ten drawn questions once, not fifty times
        answered_after = count(app, "SELECT COALESCE(SUM(answered), 0) FROM item_stat WHERE kind = 'post'")
        assert answered_after - answered_before == len(items) == 10, summary
        assert invariant_problems(app) == []


def passed_and_attested(app, client, email):
    """The learner has passed and said yes to the honor code; no certificate is issued yet."""
    from portal.learning import services as learning
    from portal.learning.models import Enrollment

    enroll(client)
    take_test_scoring(client, app, "pre", 5, email)
    complete_all_lessons(client, app)
    take_test_scoring(client, app, "post", 10, email)
    [enrollment] = enrollments_of_user(app, email)
    s = services(app)
    with s.database.write_session() as w:
        learning.attest_honor_code(w, w.get(Enrollment, enrollment.id), "yes", s.clock.now())
    return enrollment


def test_fifty_identical_certificate_requests_make_one_certificate(app):
    for round_ in range(ROUNDS):
        email, client = new_learner(app, round_)
        enrollment = passed_and_attested(app, client, email)
        before = count(app, "SELECT COUNT(*) FROM certificate")

        results = fire_at_once(browsers_of(app, email), f"/learn/{COURSE}/certificate", {})

        rows = count(app, "SELECT COUNT(*) FROM certificate WHERE enrollment_id = :e", e=enrollment.id)
        summary = f"round {round_}: {rows} certificate row(s)"
        location = assert_all_redirect_to_one_place(results, summary)
        assert rows == 1 and count(app, "SELECT COUNT(*) FROM certificate") == before + 1, summary
        number = location.rsplit("/", 1)[1]
        assert count(app, "SELECT COUNT(*) FROM certificate WHERE number = :n AND enrollment_id = :e",
                     n=number, e=enrollment.id) == 1
        # the PDF was rendered and stored once, under the key the certificate names
        pdf_key = certificate_pdf_key(app, number)
        assert pdf_key, summary
        assert count(app, "SELECT COUNT(*) FROM stored_file WHERE key = :k", k=pdf_key) == 1, summary
        assert invariant_problems(app) == []
