"""Version upgrades that move learners cleanly (issue 19, the learning side): Resume goes to the
first lesson not completed in the new order; an open attempt whose questions changed is kept and
scored over the questions that still exist, its saved answers with it, never deleted silently."""

from __future__ import annotations

import dataclasses

from tests.helpers import log_in, make_user, submit
from tests.learning.journey import (COURSE, answers_scoring, attempts_of_user, complete_all_lessons, enroll,
                                    items_of, main_html, open_attempt_of, pack, page_text, start_test,
                                    take_test_scoring)

TEST_PAGE = f"/learn/{COURSE}/tests/post"


def upgrade(app, **changes):
    registry = app.extensions["packs"]
    registry.packs[COURSE] = dataclasses.replace(registry.packs[COURSE], version="1.1.0", **changes)


def signed_in_after_pre_test(app):
    make_user(app)
    client = app.test_client()
    log_in(client)
    enroll(client)
    take_test_scoring(client, app, "pre", 5)
    return client


def test_resume_goes_to_a_lesson_the_update_added_before_the_learners_place(app):
    client = signed_in_after_pre_test(app)
    lessons = pack(app).lessons
    for lesson in lessons[:3]:
        page = f"/learn/{COURSE}/lessons/{lesson.id}"
        submit(client, page + "/complete", {}, form_page=page)
    assert client.get(f"/learn/{COURSE}").location.endswith(lessons[3].id)
    added = dataclasses.replace(lessons[1], id="new-early-lesson", title="A lesson added in 1.1")
    upgrade(app, lessons=(lessons[0], added, *lessons[1:]))
    assert client.get(f"/learn/{COURSE}").location.endswith("/lessons/new-early-lesson")


def test_an_open_attempt_keeps_its_answers_over_the_questions_that_remain(app):
    client = signed_in_after_pre_test(app)
    complete_all_lessons(client, app)
    start_test(client, "post")
    attempt, items = open_attempt_of(app, "post")
    data = answers_scoring(app, attempt, items, len(items))
    submit(client, TEST_PAGE + "/save", data, form_page=TEST_PAGE)
    removed = items[2].question_id
    upgrade(app, questions=tuple(q for q in pack(app).questions if q.id != removed))
    start = page_text(main_html(client.get(TEST_PAGE).get_data(as_text=True)))
    assert "updated to version 1.1.0" in start and f"{len(items) - 1} questions that remain" in start
    assert "1 question the update removed is no longer part of it" in start
    submit(client, TEST_PAGE + "/start", {}, form_page=TEST_PAGE)
    again, kept = open_attempt_of(app, "post")
    assert again.id == attempt.id and again.pack_version == "1.1.0" and again.question_count == len(items) - 1
    assert removed not in {i.question_id for i in kept} and all(i.chosen for i in kept)
    page = client.get(TEST_PAGE).get_data(as_text=True)
    assert page.count('class="question') == len(items) - 1
    response = submit(client, TEST_PAGE + "/submit", answers_scoring(app, again, kept, len(kept)),
                      form_page=TEST_PAGE)
    assert "/results/" in response.location
    [post] = attempts_of_user(app, kind="post")
    assert post.id == attempt.id and post.score == 100.0 and post.question_count == len(items) - 1
    assert len(items_of(app, post.id)) == len(items) - 1
