"""Pre- and post-tests, results and the honor code: scores stored, shown only when they
should be, attempts kept, submissions final, tampering ignored, and the exact honor code."""

from __future__ import annotations

import threading

import pytest
from sqlmodel import select

from portal.learning.honor_code import HONOR_CODE, HONOR_CODE_VERSION
from portal.learning.models import Attestation
from tests.helpers import csrf_token, log_in, make_user, services, submit, utc, without_csrf
from tests.learning.journey import (COURSE, answers_scoring, attempts_of_user, complete_all_lessons, enroll,
                                    enrollments_of_user, field_name, form_answers, is_pack_file, items_of,
                                    learner_get_paths, learning_snapshot, main_html, open_attempt_of, pack,
                                    page_text, picks_scoring, start_test, submit_test, take_test_scoring)

OTHER = "other@example.gov"


def new_learner(app, email="learner@example.gov", name="Pat Learner"):
    make_user(app, email=email, name=name)
    client = app.test_client()
    log_in(client, email)
    return client


def at_post_test(app, email="learner@example.gov", name="Pat Learner"):
    """A learner who has done the pre-test and every lesson, with a post-test open."""
    client = new_learner(app, email, name)
    enroll(client)
    take_test_scoring(client, app, "pre", 5, email)
    complete_all_lessons(client, app)
    start_test(client, "post")
    return client


def questions_by_id(app):
    return {q.id: q for q in pack(app).questions}


def post_submit(client, data, kind="post"):
    """POST the answers with a valid CSRF token taken from a page that always has one."""
    return client.post(f"/learn/{COURSE}/tests/{kind}/submit", data={"csrf_token": csrf_token(client, "/my/courses"),
                                                                     **data})


# -- scores ----------------------------------------------------------------------------------

def test_pre_test_score_is_stored_but_never_shown(app):
    client = new_learner(app)
    enroll(client)
    attempt, response = take_test_scoring(client, app, "pre", 3)
    [pre] = attempts_of_user(app, kind="pre")
    assert pre.submitted_at is not None and pre.score == 30.0 and pre.correct_count == 3
    landing = client.get(response.location, follow_redirects=True).get_data(as_text=True)
    assert "30%" not in landing and "30.0" not in landing and "3 of 10" not in page_text(landing)
    assert client.get(f"/learn/{COURSE}/results/{pre.id}").status_code == 404
    checked = 0
    for path in learner_get_paths(app):
        if is_pack_file(path):
            continue
        response = client.get(path, follow_redirects=True)
        if not (response.mimetype or "").startswith("text/"):
            continue
        body = response.get_data(as_text=True)
        checked += 1
        assert "30%" not in body and "30.0" not in body, path
    assert checked > 20


def test_post_test_score_is_shown_after_submission(app):
    client = at_post_test(app)
    attempt, items = open_attempt_of(app, "post")
    response = submit_test(client, "post", answers_scoring(app, attempt, items, 9))
    assert response.status_code == 303 and response.location.endswith(f"/learn/{COURSE}/results/{attempt.id}")
    text = page_text(client.get(response.location).get_data(as_text=True))
    assert "You scored 90%" in text and "(9 of 10 correct)" in text and "You passed" in text


@pytest.mark.parametrize("n_right, passes", [(8, True), (7, False)])
def test_passing_needs_at_least_the_pass_mark(app, n_right, passes):
    assert pack(app).pass_mark == 80 and pack(app).post_draw == 10
    client = at_post_test(app)
    attempt, items = open_attempt_of(app, "post")
    response = submit_test(client, "post", answers_scoring(app, attempt, items, n_right))
    [post] = attempts_of_user(app, kind="post")
    assert post.score == n_right * 10.0 and post.correct_count == n_right and post.passed is passes
    [enrollment] = enrollments_of_user(app)
    assert (enrollment.passed_at is not None) is passes
    text = page_text(client.get(response.location).get_data(as_text=True))
    assert f"You scored {n_right * 10}%" in text
    assert ("You passed" in text) is passes and ("You need 80% to pass" in text) is not passes


def test_a_failed_result_shows_the_score_and_lessons_not_the_questions_or_answers(app):
    """Issue 15: a list of missed questions lets a script walk the answer key."""
    client = at_post_test(app)
    attempt, items = open_attempt_of(app, "post")
    response = submit_test(client, "post", answers_scoring(app, attempt, items, 5))
    html = main_html(client.get(response.location).get_data(as_text=True))
    text = page_text(html)
    assert "50%" in text and "Lessons to review" in text and "Questions you missed" not in text
    questions = questions_by_id(app)
    missed = [questions[item.question_id] for item in items[5:]]
    right = [questions[item.question_id] for item in items[:5]]
    for q in missed + right:
        assert q.text not in text, q.id
    for q in missed + right:
        if q.feedback:
            assert q.feedback not in text, f"feedback of {q.id} shown after a failed attempt"


def test_feedback_is_shown_once_the_learner_passes(app):
    client = at_post_test(app)
    attempt, items = open_attempt_of(app, "post")
    response = submit_test(client, "post", answers_scoring(app, attempt, items, 10))
    text = page_text(client.get(response.location).get_data(as_text=True))
    questions = questions_by_id(app)
    with_feedback = [questions[i.question_id] for i in items if questions[i.question_id].feedback]
    assert with_feedback and all(" ".join(q.feedback.split()) in text for q in with_feedback)


# -- attempts --------------------------------------------------------------------------------

def test_a_retry_is_a_new_attempt_and_every_attempt_is_kept(frozen_app, clock):
    app = frozen_app
    clock.set(utc(2026, 5, 4, 13, 0))
    client = at_post_test(app)
    first, first_items = open_attempt_of(app, "post")
    first_picks = picks_scoring(app, first_items, 5)
    clock.advance(minutes=20)
    submit_test(client, "post", form_answers(first, first_items, first_picks))
    clock.advance(minutes=10)  # the default cooldown after a failed try
    retry_started = clock.now()
    assert start_test(client, "post").status_code == 303
    second, second_items = open_attempt_of(app, "post")
    assert second.id != first.id and (first.number, second.number) == (1, 2)
    assert second.started_at == retry_started and len(second_items) == pack(app).post_draw
    clock.advance(minutes=15)
    submit_test(client, "post", answers_scoring(app, second, second_items, 10))
    one, two = attempts_of_user(app, kind="post")
    assert (one.id, two.id) == (first.id, second.id)
    assert one.pack_version == two.pack_version == pack(app).version
    assert one.started_at == utc(2026, 5, 4, 13, 0) and one.submitted_at == utc(2026, 5, 4, 13, 20)
    assert two.started_at == utc(2026, 5, 4, 13, 30) and two.submitted_at == utc(2026, 5, 4, 13, 45)
    assert (one.score, one.passed, one.correct_count) == (50.0, False, 5)
    assert (two.score, two.passed, two.correct_count) == (100.0, True, 10)
    kept = items_of(app, first.id)
    assert [i.question_id for i in kept] == [i.question_id for i in first_items]
    for item in kept:
        assert item.chosen == ",".join(sorted(first_picks[item.question_id]))
    assert [i.correct for i in kept] == [True] * 5 + [False] * 5


def test_submitting_with_a_question_unanswered_is_refused_and_nothing_is_scored(app):
    """Refused with a redirect (post/redirect/get, issue 15 B9): the answers given are kept as the
    draft, nothing is scored, and the test page marks the gap."""
    client = at_post_test(app)
    attempt, items = open_attempt_of(app, "post")
    data = answers_scoring(app, attempt, items, 10)
    del data[field_name(items[3])]
    response = submit_test(client, "post", data)
    assert response.status_code == 303
    text = page_text(client.get(response.location).get_data(as_text=True))
    assert "Answer every question before you submit" in text and "missing: 4" in text
    [post] = attempts_of_user(app, kind="post")
    assert post.submitted_at is None and post.score is None and post.passed is None
    saved = items_of(app, attempt.id)
    assert saved[3].chosen is None and all(item.chosen for n, item in enumerate(saved) if n != 3)
    assert all(item.correct is None for item in saved)


def test_a_submitted_attempt_cannot_be_changed(app):
    client = at_post_test(app)
    attempt, items = open_attempt_of(app, "post")
    first = submit_test(client, "post", answers_scoring(app, attempt, items, 4))
    before = learning_snapshot(app)
    again = submit_test(client, "post", answers_scoring(app, attempt, items, 10))
    assert again.status_code in (303, 400, 404, 409)
    if again.status_code == 303:
        assert again.location == first.location
    assert learning_snapshot(app) == before
    [post] = attempts_of_user(app, kind="post")
    assert (post.score, post.passed) == (40.0, False)
    assert enrollments_of_user(app)[0].passed_at is None


def test_the_same_submission_twice_counts_once(app):
    client = at_post_test(app)
    attempt, items = open_attempt_of(app, "post")
    data = answers_scoring(app, attempt, items, 6)
    token = csrf_token(client, f"/learn/{COURSE}/tests/post")
    url = f"/learn/{COURSE}/tests/post/submit"
    first = client.post(url, data={"csrf_token": token, **data})
    after_first = learning_snapshot(app)
    second = client.post(url, data={"csrf_token": token, **data})
    assert first.status_code == 303 and second.status_code in (303, 409)
    if second.status_code == 303:
        assert second.location == first.location
    assert learning_snapshot(app) == after_first
    [post] = attempts_of_user(app, kind="post")
    assert (post.number, post.score, post.correct_count) == (1, 60.0, 6)


def test_simultaneous_identical_submissions_count_once(app):
    client = at_post_test(app)
    attempt, items = open_attempt_of(app, "post")
    data = answers_scoring(app, attempt, items, 8)
    token = csrf_token(client, f"/learn/{COURSE}/tests/post")
    from tests.helpers import clone_client

    clients = [clone_client(app, client) for _ in range(8)]
    statuses, errors = [], []
    barrier = threading.Barrier(len(clients))

    def post(c):
        try:
            barrier.wait()
            statuses.append(c.post(f"/learn/{COURSE}/tests/post/submit", data={"csrf_token": token, **data}).status_code)
        except Exception as error:  # noqa: BLE001 - reported below
            errors.append(repr(error))

    threads = [threading.Thread(target=post, args=(c,)) for c in clients]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors and all(s < 500 for s in statuses), (errors, statuses)
    [post_attempt] = attempts_of_user(app, kind="post")
    assert (post_attempt.score, post_attempt.correct_count, post_attempt.passed) == (80.0, 8, True)


# -- tampering ---------------------------------------------------------------------------------

def test_extra_score_and_passed_fields_are_ignored(app):
    client = at_post_test(app)
    attempt, items = open_attempt_of(app, "post")
    data = answers_scoring(app, attempt, items, 0)
    data.update(score="100", passed="1", correct_count="10", correct="1", number="7", kind="pre")
    response = submit_test(client, "post", data)
    assert response.status_code in (303, 400)
    [post] = attempts_of_user(app, kind="post")
    assert (post.score or 0) == 0 and not post.passed and enrollments_of_user(app)[0].passed_at is None


def test_another_learners_attempt_cannot_be_submitted(app):
    mine = at_post_test(app)
    theirs = at_post_test(app, OTHER, "Other Learner")
    their_attempt, their_items = open_attempt_of(app, "post", OTHER)
    before = learning_snapshot(app)
    response = post_submit(mine, answers_scoring(app, their_attempt, their_items, 10))
    assert response.status_code == 404
    assert learning_snapshot(app) == before
    assert theirs.get(f"/learn/{COURSE}/tests/post").status_code == 200


def test_a_pre_test_attempt_cannot_be_submitted_on_the_post_test_url(app):
    client = new_learner(app)
    enroll(client)
    start_test(client, "pre")
    pre, pre_items = open_attempt_of(app, "pre")
    before = learning_snapshot(app)
    assert post_submit(client, answers_scoring(app, pre, pre_items, 10)).status_code == 404
    assert learning_snapshot(app) == before
    submit_test(client, "pre", answers_scoring(app, pre, pre_items, 10))
    complete_all_lessons(client, app)
    start_test(client, "post")
    before = learning_snapshot(app)
    assert post_submit(client, answers_scoring(app, pre, pre_items, 10)).status_code == 404
    assert learning_snapshot(app) == before
    assert enrollments_of_user(app)[0].passed_at is None


@pytest.mark.parametrize("attempt_id", ["", "abc", "-1", "1.5", "1e3", " 1", "2147483648", "99999999999999999999999"])
def test_a_malformed_attempt_id_is_refused(app, attempt_id):
    client = at_post_test(app)
    attempt, items = open_attempt_of(app, "post")
    data = answers_scoring(app, attempt, items, 10)
    data["attempt_id"] = attempt_id
    before = learning_snapshot(app)
    response = post_submit(client, data)
    assert response.status_code in (400, 404)
    assert learning_snapshot(app) == before


def test_unknown_choice_ids_never_count_as_right(app):
    client = at_post_test(app)
    attempt, items = open_attempt_of(app, "post")
    data = {"attempt_id": str(attempt.id)}
    junk = ["zz", "0", "99", "-1", "1.0", " 1", "' OR 1=1 --", "x" * 500, "a", "\u0661"]  # (\u0661: Arabic one)
    for n, item in enumerate(items):
        data[field_name(item)] = junk[n % len(junk)]
        # The pack's own choice ids, under their old field names, are not answers either.
        data[f"q-{item.question_id}"] = sorted(questions_by_id(app)[item.question_id].correct_ids)
    before = learning_snapshot(app)
    response = submit_test(client, "post", data)
    assert response.status_code in (303, 400, 422)
    [post] = attempts_of_user(app, kind="post")
    if post.submitted_at is not None:
        assert post.score == 0 and post.correct_count == 0 and not post.passed
    elif response.status_code == 303:  # refused as unanswered: kept as a draft, with no junk in it
        assert post.score is None and all(item.chosen is None for item in items_of(app, attempt.id))
    else:
        assert learning_snapshot(app) == before


def test_unknown_choice_ids_added_to_a_right_answer_do_not_raise_the_score(app):
    """Adding junk to an answer never helps: the score is at most what the real choices earn."""
    client = at_post_test(app)
    attempt, items = open_attempt_of(app, "post")
    data = answers_scoring(app, attempt, items, 5)
    for item in items:
        data[field_name(item)] = list(data[field_name(item)]) + ["zz", "q", "0", "99", "a"]
    response = submit_test(client, "post", data)
    assert response.status_code in (303, 400, 422)
    [post] = attempts_of_user(app, kind="post")
    assert (post.score or 0) <= 50.0 and not post.passed


def test_ticking_every_choice_never_counts_as_right(app):
    """A radio question answered with every choice at once (only a tampered form can send that),
    or a checkbox question with every box ticked, is wrong or refused; it never earns a point."""
    client = at_post_test(app)
    attempt, items = open_attempt_of(app, "post")
    questions = questions_by_id(app)
    data = {"attempt_id": str(attempt.id)}
    for item in items:
        data[field_name(item)] = [str(n) for n in range(1, len(questions[item.question_id].choices) + 1)]
    before = learning_snapshot(app)
    response = submit_test(client, "post", data)
    assert response.status_code in (303, 400, 422)
    if response.status_code != 303:
        assert learning_snapshot(app) == before
        return
    [post] = attempts_of_user(app, kind="post")
    credited = [(item.question_id, questions[item.question_id].type) for item in items_of(app, attempt.id)
                if item.correct]
    assert not credited, f"every choice ticked, yet credited as right: {credited}"
    assert post.score == 0 and not post.passed


def test_a_learner_cannot_see_another_learners_result(app):
    mine = at_post_test(app)
    theirs = at_post_test(app, OTHER, "Other Learner")
    their_attempt, their_items = open_attempt_of(app, "post", OTHER)
    response = submit_test(theirs, "post", answers_scoring(app, their_attempt, their_items, 6))
    assert theirs.get(response.location).status_code == 200
    peek = mine.get(f"/learn/{COURSE}/results/{their_attempt.id}")
    missing = mine.get(f"/learn/{COURSE}/results/987654")
    assert peek.status_code == missing.status_code == 404
    assert without_csrf(peek.get_data(as_text=True)) == without_csrf(missing.get_data(as_text=True))
    anonymous = app.test_client().get(f"/learn/{COURSE}/results/{their_attempt.id}")
    assert anonymous.status_code == 302 and "/account/login" in anonymous.location


@pytest.mark.parametrize("attempt_id", ["0", "2147483648", "9223372036854775808", "99999999999999999999999"])
def test_a_result_page_for_an_impossible_attempt_id_is_404(app, attempt_id):
    client = at_post_test(app)
    assert client.get(f"/learn/{COURSE}/results/{attempt_id}").status_code == 404


def test_an_open_attempt_has_no_result_page(app):
    client = at_post_test(app)
    attempt, _ = open_attempt_of(app, "post")
    assert client.get(f"/learn/{COURSE}/results/{attempt.id}").status_code == 404


# -- the honor code ------------------------------------------------------------------------------

def attestations(app):
    with services(app).database.session() as db:
        return list(db.exec(select(Attestation)).all())


def test_the_honor_code_needs_a_passed_post_test_first(app):
    client = at_post_test(app)
    response = client.get(f"/learn/{COURSE}/honor-code")
    assert response.status_code == 302
    before = learning_snapshot(app)
    response = client.post(f"/learn/{COURSE}/honor-code",
                           data={"answer": "yes", "csrf_token": csrf_token(client, "/my/courses")})
    assert response.status_code in (302, 303, 409)
    assert "Pass the post-test" in page_text(client.get(response.location, follow_redirects=True)
                                             .get_data(as_text=True))
    assert learning_snapshot(app) == before and attestations(app) == []


@pytest.mark.parametrize("answer", ["", "no", "No", "y", "yes please", "yess", "ye s", "true", "1"])
def test_the_honor_code_answer_must_be_yes(app, answer):
    client = at_post_test(app)
    attempt, items = open_attempt_of(app, "post")
    submit_test(client, "post", answers_scoring(app, attempt, items, 10))
    before = learning_snapshot(app)
    response = submit(client, f"/learn/{COURSE}/honor-code", {"answer": answer})
    assert response.status_code == 422
    assert "answer \u201cYes\u201d" in page_text(response.get_data(as_text=True))
    assert learning_snapshot(app) == before and attestations(app) == []


def test_a_missing_honor_code_answer_is_refused(app):
    client = at_post_test(app)
    attempt, items = open_attempt_of(app, "post")
    submit_test(client, "post", answers_scoring(app, attempt, items, 10))
    before = learning_snapshot(app)
    response = submit(client, f"/learn/{COURSE}/honor-code", {})
    assert response.status_code == 422
    assert learning_snapshot(app) == before


def test_yes_stores_the_honor_code_version_and_time(frozen_app, clock):
    app = frozen_app
    clock.set(utc(2026, 9, 8, 18, 30))
    client = at_post_test(app)
    attempt, items = open_attempt_of(app, "post")
    submit_test(client, "post", answers_scoring(app, attempt, items, 10))
    clock.advance(minutes=3)
    response = submit(client, f"/learn/{COURSE}/honor-code", {"answer": "yes"})
    assert response.status_code == 303 and "/certificates/PSTP-2026-" in response.location
    [attestation] = attestations(app)
    [enrollment] = enrollments_of_user(app)
    assert attestation.enrollment_id == enrollment.id and attestation.answer == "yes"
    assert attestation.text_version == HONOR_CODE_VERSION
    assert attestation.attested_at == utc(2026, 9, 8, 18, 33)
    # Attesting again (a second tab) changes nothing.
    clock.advance(minutes=3)
    assert submit(client, f"/learn/{COURSE}/honor-code", {"answer": "yes"}, form_page="/my/courses").status_code \
        in (302, 303)
    assert attestations(app) == [attestation]


def test_the_honor_code_page_shows_the_faq_text_word_for_word(app):
    client = at_post_test(app)
    attempt, items = open_attempt_of(app, "post")
    submit_test(client, "post", answers_scoring(app, attempt, items, 10))
    page = page_text(client.get(f"/learn/{COURSE}/honor-code").get_data(as_text=True))
    assert "I hereby attest that I have completed the full course." in HONOR_CODE
    assert HONOR_CODE in page
    faq = page_text(client.get("/faq").get_data(as_text=True))
    assert HONOR_CODE in faq, "the honor code differs from the FAQ's"
    assert page.count("I hereby attest that I have completed the full course.") == 1
