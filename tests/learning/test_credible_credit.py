"""Credit that means something (issue 15): a failed post-test shows the score and the lessons to
review, not the missed questions; retakes wait out a cooldown and a daily cap (per pack, 10
minutes and 3 a day by default); each attempt draws from the bank, shuffled as the pack says;
a script with no answer key no longer reaches a certificate in seconds."""

from __future__ import annotations

import dataclasses
import random

from tests.helpers import csrf_token, log_in, make_user, utc
from tests.learning.journey import (COURSE, answers_scoring, attempts_of_user, complete_all_lessons, enroll,
                                    items_of, main_html, open_attempt_of, pack, page_text, submit_test,
                                    take_test_scoring)

MORNING = utc(2026, 6, 15, 13, 0)  # 09:00 in New York


def ready_for_post_test(app, clock):
    clock.set(MORNING)
    make_user(app)
    client = app.test_client()
    log_in(client)
    enroll(client)
    take_test_scoring(client, app, "pre", 5)
    complete_all_lessons(client, app)
    return client


def start_post(client):
    """Press "Start the post-test" (with a token from another page: a waiting learner's test page
    has no button to take one from)."""
    return client.post(f"/learn/{COURSE}/tests/post/start", data={"csrf_token": csrf_token(client, "/my/courses")})


def set_pack(app, **changes):
    registry = app.extensions["packs"]
    registry.packs[COURSE] = dataclasses.replace(registry.packs[COURSE], **changes)


def test_a_failed_post_test_shows_the_score_and_lessons_to_review_not_the_missed_questions(frozen_app, clock):
    client = ready_for_post_test(frozen_app, clock)
    attempt, response = take_test_scoring(client, frozen_app, "post", 3)
    page = page_text(main_html(client.get(response.location).get_data(as_text=True)))
    assert "30%" in page and "Lessons to review" in page
    for lesson in pack(frozen_app).lessons:
        assert lesson.title in page
    questions = {q.id: q for q in pack(frozen_app).questions}
    for item in items_of(frozen_app, attempt.id):
        assert questions[item.question_id].text not in page
    assert "missed" not in page.lower()


def test_a_retake_waits_out_the_cooldown_and_the_daily_cap(frozen_app, clock):
    client = ready_for_post_test(frozen_app, clock)
    take_test_scoring(client, frozen_app, "post", 2)
    refused = start_post(client)
    assert refused.status_code == 303
    text = page_text(client.get(refused.location, follow_redirects=True).get_data(as_text=True))
    assert "09:10" in text and "10 minutes" in text
    assert open_attempt_of(frozen_app, "post") == (None, [])
    clock.advance(minutes=10)
    take_test_scoring(client, frozen_app, "post", 2)
    clock.advance(minutes=10)
    take_test_scoring(client, frozen_app, "post", 2)
    clock.advance(minutes=30)
    refused = start_post(client)
    text = page_text(client.get(refused.location, follow_redirects=True).get_data(as_text=True))
    assert "3 post-test attempts today" in text and "tomorrow" in text
    assert len(attempts_of_user(frozen_app, kind="post")) == 3
    clock.set(utc(2026, 6, 16, 13, 0))  # the next morning in New York
    log_in(client)  # the idle limit ended yesterday's log-in
    attempt, response = take_test_scoring(client, frozen_app, "post", 10)
    assert attempt.number == 4 and "/results/" in response.location


def test_the_pack_sets_its_own_cooldown_cap_and_shuffling(frozen_app, clock):
    client = ready_for_post_test(frozen_app, clock)
    set_pack(frozen_app, post_cooldown_minutes=0, post_attempts_per_day=2, shuffle_choices=False,
             shuffle_questions=False)
    take_test_scoring(client, frozen_app, "post", 2)
    attempt, _ = take_test_scoring(client, frozen_app, "post", 2)  # no cooldown
    course = pack(frozen_app)
    bank = [q.id for q in course.questions_for("post")]
    items = items_of(frozen_app, attempt.id)
    assert [i.question_id for i in items] == sorted((i.question_id for i in items), key=bank.index)
    by_id = {q.id: q for q in course.questions}
    assert all(i.choice_order == ",".join(c.id for c in by_id[i.question_id].choices) for i in items)
    refused = start_post(client)
    assert "2 post-test attempts today" in page_text(client.get(refused.location, follow_redirects=True)
                                                      .get_data(as_text=True))


def test_each_attempt_draws_from_a_bank_larger_than_the_test(frozen_app, clock):
    client = ready_for_post_test(frozen_app, clock)
    set_pack(frozen_app, post_cooldown_minutes=0, post_attempts_per_day=50, post_draw=5)
    draws = set()
    for _ in range(6):
        attempt, _ = take_test_scoring(client, frozen_app, "post", 0)
        draws.add(frozenset(i.question_id for i in items_of(frozen_app, attempt.id)))
    assert len(draws) > 1


def test_a_script_with_no_answer_key_gets_no_certificate_quickly(frozen_app, clock):
    """The reported script: enroll, tick through lessons, guess the post-test until it passes.
    With the clock standing still (a script takes seconds) it gets one try, and in a whole day
    three: guessing at random, no certificate."""
    client = ready_for_post_test(frozen_app, clock)
    rng = random.Random(7)
    for _ in range(20):
        start_post(client)
        attempt, items = open_attempt_of(frozen_app, "post")
        if attempt is None:
            break
        data = {"attempt_id": str(attempt.id)}
        for item in items:
            data[f"q-{item.position + 1}"] = [str(rng.randint(1, len(item.choice_order.split(","))))]
        submit_test(client, "post", data)
    assert len(attempts_of_user(frozen_app, kind="post")) == 1
    for _ in range(30):  # the rest of the day, a try as soon as each cooldown ends
        clock.advance(minutes=11)
        start_post(client)
        attempt, items = open_attempt_of(frozen_app, "post")
        if attempt is None:
            continue
        data = {"attempt_id": str(attempt.id)}
        for item in items:
            data[f"q-{item.position + 1}"] = [str(rng.randint(1, len(item.choice_order.split(","))))]
        submit_test(client, "post", data)
    tries = attempts_of_user(frozen_app, kind="post")
    assert len(tries) <= 3
    response = client.post(f"/learn/{COURSE}/honor-code", data={"answer": "yes",
                                                                "csrf_token": csrf_token(client, "/my/courses")})
    assert not any(t.passed for t in tries)
    assert "/certificates/" not in (response.location or "")
