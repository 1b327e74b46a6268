"""Time on each lesson, measured by the server (issue 15, credible credit): credited from the
moment the server showed the page (a signed visit) to each heartbeat and to completion, shown to
the learner; a pack's `min_minutes` holds completion back until that much time was spent."""

from __future__ import annotations

import dataclasses
import re

from sqlmodel import select

from portal.learning.models import LessonProgress
from tests.helpers import csrf_token, log_in, make_user, services, utc
from tests.learning.journey import COURSE, enroll, main_html, pack, page_text, take_test_scoring


def learner_at_lessons(app, clock):
    clock.set(utc(2026, 6, 15, 13, 0))
    make_user(app)
    client = app.test_client()
    log_in(client)
    enroll(client)
    take_test_scoring(client, app, "pre", 5)
    return client


def visit_token(html: str) -> str:
    match = re.search(r'name="visit" value="([^"]+)"', html)
    assert match, "the lesson page carries no signed visit"
    return match.group(1)


def seconds_on(app, lesson_id) -> int:
    with services(app).database.session() as db:
        row = db.exec(select(LessonProgress).where(LessonProgress.lesson_id == lesson_id)).first()
        return row.seconds_spent if row else 0


def set_min_minutes(app, lesson_index, minutes):
    registry = app.extensions["packs"]
    course = registry.packs[COURSE]
    lessons = list(course.lessons)
    lessons[lesson_index] = dataclasses.replace(lessons[lesson_index], min_minutes=minutes)
    registry.packs[COURSE] = dataclasses.replace(course, lessons=tuple(lessons))


def test_time_on_a_lesson_is_measured_by_the_server_and_shown(frozen_app, clock):
    client = learner_at_lessons(frozen_app, clock)
    lesson = pack(frozen_app).lessons[1]
    page = f"/learn/{COURSE}/lessons/{lesson.id}"
    html = client.get(page).get_data(as_text=True)
    visit = visit_token(html)
    assert "Time on this lesson so far: 0 min" in page_text(main_html(html))
    clock.advance(minutes=4)
    beat = client.post(page + "/time", data={"visit": visit}, headers={"HX-Request": "true",
                                                                       "X-CSRFToken": csrf_token(client, page)})
    assert beat.status_code == 200 and "4 min" in beat.get_data(as_text=True)
    clock.advance(minutes=3)
    client.post(page + "/complete", data={"visit": visit, "csrf_token": csrf_token(client, page)})
    assert seconds_on(frozen_app, lesson.id) == 7 * 60  # 4 + 3, the heartbeat's span not counted twice
    assert "Time on this lesson so far: 7 min" in page_text(client.get(page).get_data(as_text=True))
    assert "time on lessons: 7 min" in page_text(client.get("/my/courses").get_data(as_text=True))


def test_a_forged_or_missing_visit_credits_nothing(frozen_app, clock):
    client = learner_at_lessons(frozen_app, clock)
    lesson = pack(frozen_app).lessons[1]
    page = f"/learn/{COURSE}/lessons/{lesson.id}"
    client.get(page)
    clock.advance(minutes=30)
    for visit in ("", "forged.value.here"):
        client.post(page + "/time", data={"visit": visit, "csrf_token": csrf_token(client, page)})
    assert seconds_on(frozen_app, lesson.id) == 0
    # Another lesson's visit does not count here either.
    other = visit_token(client.get(f"/learn/{COURSE}/lessons/{pack(frozen_app).lessons[2].id}").get_data(as_text=True))
    clock.advance(minutes=5)
    client.post(page + "/time", data={"visit": other, "csrf_token": csrf_token(client, page)})
    assert seconds_on(frozen_app, lesson.id) == 0


def test_min_minutes_holds_completion_until_the_time_was_spent(frozen_app, clock):
    client = learner_at_lessons(frozen_app, clock)
    set_min_minutes(frozen_app, 0, 20)
    lesson = pack(frozen_app).lessons[0]
    page = f"/learn/{COURSE}/lessons/{lesson.id}"
    html = client.get(page).get_data(as_text=True)
    assert "at least 20 min" in page_text(main_html(html))
    visit = visit_token(html)
    clock.advance(seconds=30)  # the scripted learner: "complete" at once
    refused = client.post(page + "/complete", data={"visit": visit, "csrf_token": csrf_token(client, page)})
    assert refused.status_code == 303
    text = page_text(client.get(refused.location, follow_redirects=True).get_data(as_text=True))
    assert "at least 20 minutes" in text
    with services(frozen_app).database.session() as db:
        row = db.exec(select(LessonProgress).where(LessonProgress.lesson_id == lesson.id)).one()
        assert row.completed_at is None
    clock.advance(minutes=20)
    done = client.post(page + "/complete", data={"visit": visit, "csrf_token": csrf_token(client, page)})
    assert done.status_code == 303 and lesson.id not in done.location
    with services(frozen_app).database.session() as db:
        row = db.exec(select(LessonProgress).where(LessonProgress.lesson_id == lesson.id)).one()
        assert row.completed_at is not None and row.seconds_spent >= 20 * 60
