"""Where a learner stands: My courses states, what unlocks what, Resume, the saved video
position, the lesson video markup, and GET requests that never change a row."""

from __future__ import annotations

import re

import pytest
from sqlmodel import select

from portal.learning.models import LessonProgress
from tests.helpers import csrf_token, log_in, make_user, services, snapshot, submit
from tests.learning.journey import (COURSE, attempts_of_user, backdate_post_attempts, complete_all_lessons, enroll,
                                    enrollments_of_user,
                                    is_pack_file, learner_get_paths, learning_snapshot, open_attempt_of, pack,
                                    page_text, start_test, tags_of, take_test_scoring)

VIDEO_LESSON = "sro-role"  # lesson 1 of the bundled course: a video with captions, poster and light rendition


@pytest.fixture
def learner(app):
    make_user(app)
    client = app.test_client()
    log_in(client)
    return client


def my_courses_label(client) -> str:
    page = client.get("/my/courses").get_data(as_text=True)
    labels = re.findall(r"\d{4} session · <strong>(.*?)</strong>", page)
    assert len(labels) == 1, page_text(page)
    return page_text(labels[0])


def lesson_path(lesson_id, pack_id=COURSE):
    return f"/learn/{pack_id}/lessons/{lesson_id}"


def complete(client, lesson_id):
    page = lesson_path(lesson_id)
    return submit(client, page + "/complete", {}, form_page=page)


# -- My courses ------------------------------------------------------------------------

def test_my_courses_walks_through_every_state_in_order(learner, app):
    lessons = pack(app).lessons
    seen = []
    enroll(learner)
    seen.append(my_courses_label(learner))
    take_test_scoring(learner, app, "pre", 3)
    seen.append(my_courses_label(learner))
    for lesson in lessons:
        assert complete(learner, lesson.id).status_code == 303
        seen.append(my_courses_label(learner))
    take_test_scoring(learner, app, "post", 10)
    seen.append(my_courses_label(learner))
    submit(learner, f"/learn/{COURSE}/honor-code", {"answer": "yes"})
    seen.append(my_courses_label(learner))
    total = len(lessons)
    assert seen == (["Pre-test due"]
                    + [f"In progress: {n} of {total} lessons" for n in range(0, total)]
                    + ["Post-test due", "Passed: attest to the honor code", "Certificate ready"])


def test_my_courses_shows_a_progress_bar_while_in_progress(learner, app):
    enroll(learner)
    take_test_scoring(learner, app, "pre", 3)
    complete(learner, pack(app).lessons[0].id)
    page = learner.get("/my/courses").get_data(as_text=True)
    [bar] = tags_of(page).find("progress")
    assert (bar["value"], bar["max"]) == ("1", str(len(pack(app).lessons)))


# -- what unlocks what ------------------------------------------------------------------

def test_lessons_are_locked_until_the_pre_test_is_submitted(learner, app):
    enroll(learner)
    for lesson in pack(app).lessons:
        response = learner.get(lesson_path(lesson.id))
        assert response.status_code == 302 and response.location.endswith(f"/learn/{COURSE}/tests/pre")
    # An opened but unsubmitted pre-test does not unlock them either.
    start_test(learner, "pre")
    assert learner.get(lesson_path(pack(app).lessons[0].id)).location.endswith(f"/learn/{COURSE}/tests/pre")
    # Completing a lesson before the pre-test is refused and writes nothing.
    before = learning_snapshot(app)
    response = learner.post(lesson_path(pack(app).lessons[0].id) + "/complete",
                            data={"csrf_token": csrf_token(learner, "/my/courses")})
    assert response.status_code in (303, 409)
    assert learning_snapshot(app) == before
    take_test_scoring(learner, app, "pre", 2)
    for lesson in pack(app).lessons:
        assert learner.get(lesson_path(lesson.id)).status_code == 200


def test_post_test_is_locked_until_every_lesson_is_complete(learner, app):
    enroll(learner)
    take_test_scoring(learner, app, "pre", 2)
    lessons = pack(app).lessons
    for lesson in lessons[:-1]:
        complete(learner, lesson.id)
    page = page_text(learner.get(f"/learn/{COURSE}/tests/post").get_data(as_text=True))
    assert "Finish every lesson to unlock the post-test." in page
    response = start_test(learner, "post")
    assert response.status_code == 303
    followed = learner.get(response.location, follow_redirects=True)
    assert "Finish every lesson first" in page_text(followed.get_data(as_text=True))
    assert attempts_of_user(app, kind="post") == []
    complete(learner, lessons[-1].id)
    assert start_test(learner, "post").location.endswith(f"/learn/{COURSE}/tests/post")
    attempt, items = open_attempt_of(app, "post")
    assert attempt is not None and len(items) == pack(app).post_draw


def test_finishing_the_last_lesson_sends_the_learner_to_the_post_test(learner, app):
    enroll(learner)
    take_test_scoring(learner, app, "pre", 2)
    lessons = pack(app).lessons
    for lesson in lessons[:-1]:
        response = complete(learner, lesson.id)
        assert response.location.endswith(lesson_path(lessons[lessons.index(lesson) + 1].id))
    response = complete(learner, lessons[-1].id)
    assert response.location.endswith(f"/learn/{COURSE}/tests/post")
    assert "The post-test is unlocked" in page_text(learner.get(response.location).get_data(as_text=True))


# -- Resume --------------------------------------------------------------------------------

def test_resume_returns_the_learner_to_where_they_stopped(learner, app):
    resume = f"/learn/{COURSE}"
    lessons = pack(app).lessons
    enroll(learner)
    assert learner.get(resume).location.endswith(f"/learn/{COURSE}/tests/pre")
    take_test_scoring(learner, app, "pre", 4)
    assert learner.get(resume).location.endswith(lesson_path(lessons[0].id))
    complete(learner, lessons[0].id)
    assert learner.get(resume).location.endswith(lesson_path(lessons[1].id))
    complete(learner, lessons[1].id)
    complete(learner, lessons[2].id)
    assert learner.get(resume).location.endswith(lesson_path(lessons[3].id))
    for lesson in lessons[3:]:
        complete(learner, lesson.id)
    assert learner.get(resume).location.endswith(f"/learn/{COURSE}/tests/post")
    take_test_scoring(learner, app, "post", 2)  # failed: still the post-test
    assert learner.get(resume).location.endswith(f"/learn/{COURSE}/tests/post")
    backdate_post_attempts(app, 11)  # the retake comes after the cooldown
    take_test_scoring(learner, app, "post", 10)
    assert learner.get(resume).location.endswith(f"/learn/{COURSE}/honor-code")


def test_resume_before_enrolling_goes_to_the_course_page(learner):
    response = learner.get(f"/learn/{COURSE}")
    assert response.status_code == 302 and response.location.endswith(f"/courses/{COURSE}")


# -- the video position ------------------------------------------------------------------------

def post_position(client, seconds, lesson_id=VIDEO_LESSON):
    return client.post(lesson_path(lesson_id) + "/position",
                       data={"seconds": seconds, "csrf_token": csrf_token(client, lesson_path(lesson_id))})


@pytest.fixture
def studying(learner, app):
    enroll(learner)
    take_test_scoring(learner, app, "pre", 4)
    return learner


def test_saving_the_video_position_answers_204_and_the_lesson_resumes_there(studying, app):
    response = post_position(studying, "30.5")
    assert response.status_code == 204 and response.data == b""
    page = studying.get(lesson_path(VIDEO_LESSON)).get_data(as_text=True)
    [video] = tags_of(page).find("video")
    assert video["data-start"] == "30.5"
    sources = tags_of(page).find("source")
    assert sources and all(s["src"].endswith("#t=30.5") for s in sources)
    with services(app).database.session() as db:
        [row] = db.exec(select(LessonProgress)).all()
    assert row.lesson_id == VIDEO_LESSON and row.video_position == 30.5 and row.completed_at is None


@pytest.mark.parametrize("seconds", ["-1", "63.5", "100", "86400", "99999999", "abc", "", "nan", "NaN", "inf",
                                     "-inf", "1e309", "30,5", "0x10", "30.5; DROP TABLE attempt"])
def test_a_bad_video_position_gets_400_and_nothing_is_saved(studying, app, seconds):
    assert post_position(studying, "12").status_code == 204
    before = learning_snapshot(app)
    response = post_position(studying, seconds)
    assert response.status_code == 400, (seconds, response.status_code, response.get_data(as_text=True)[:300])
    assert learning_snapshot(app) == before
    [video] = tags_of(studying.get(lesson_path(VIDEO_LESSON)).get_data(as_text=True)).find("video")
    assert video["data-start"] == "12.0"


def test_video_position_needs_the_csrf_token(studying, app):
    before = learning_snapshot(app)
    response = studying.post(lesson_path(VIDEO_LESSON) + "/position", data={"seconds": "10"})
    assert response.status_code == 400
    assert learning_snapshot(app) == before


# -- lesson video markup -------------------------------------------------------------------------

def test_lesson_video_is_light_on_the_network_and_accessible(studying, app):
    video_meta = pack(app).lesson(VIDEO_LESSON).video
    page = studying.get(lesson_path(VIDEO_LESSON)).get_data(as_text=True)
    tags = tags_of(page)
    [video] = tags.find("video")
    assert video.get("preload") == "none"
    assert "autoplay" not in video
    assert video.get("poster", "").endswith(video_meta.poster)
    tracks = tags.find("track")
    assert any(t.get("kind") == "captions" and t.get("src", "").endswith(video_meta.captions) for t in tracks)
    sources = [s["src"].split("#")[0] for s in tags.find("source")]
    assert any(src.endswith(video_meta.light) for src in sources), sources
    assert any(src.endswith(video_meta.file) for src in sources), sources
    # Every media URL on the page is really served.
    for url in [video["poster"], *(t["src"] for t in tracks), *sources]:
        assert studying.get(url).status_code == 200, url


def test_no_lesson_page_autoplays_anything(studying, app):
    for lesson in pack(app).lessons:
        page = studying.get(lesson_path(lesson.id)).get_data(as_text=True)
        for tag in ("video", "audio"):
            for attrs in tags_of(page).find(tag):
                assert "autoplay" not in attrs and attrs.get("preload") == "none", (lesson.id, attrs)
        assert "autoplay" not in page.lower(), lesson.id


# -- GET never changes a row -----------------------------------------------------------------------

IGNORED = {"login_session": {"last_seen_at", "expires_at"}}


def visit_everything(client, app) -> list[tuple[str, int]]:
    visited = []
    for path in learner_get_paths(app):
        if is_pack_file(path):
            continue
        for headers in ({}, {"HX-Request": "true"}):
            visited.append((path, client.get(path, headers=headers).status_code))
    return visited


def test_get_requests_never_change_a_row_at_any_stage(frozen_app, clock):
    app = frozen_app
    make_user(app)
    client = app.test_client()
    log_in(client)
    server_errors = set()

    def unchanged_by_gets(stage):
        before = snapshot(app, IGNORED)
        enrollment_before = enrollments_of_user(app)
        visited = visit_everything(client, app)
        assert snapshot(app, IGNORED) == before, f"a GET changed a row at stage {stage!r}"
        assert enrollments_of_user(app) == enrollment_before
        server_errors.update((stage, path) for path, status in visited if status >= 500)
        return visited

    unchanged_by_gets("not enrolled")
    enroll(client)
    unchanged_by_gets("pre-test due")
    start_test(client, "pre")
    unchanged_by_gets("pre-test open")
    take_test_scoring(client, app, "pre", 3)
    unchanged_by_gets("lessons open")
    complete_all_lessons(client, app)
    unchanged_by_gets("post-test due")
    start_test(client, "post")
    unchanged_by_gets("post-test open")
    take_test_scoring(client, app, "post", 3)
    unchanged_by_gets("post-test failed")
    backdate_post_attempts(app, 11)  # the retake comes after the cooldown
    take_test_scoring(client, app, "post", 10)
    unchanged_by_gets("passed")
    response = submit(client, f"/learn/{COURSE}/honor-code", {"answer": "yes"})
    number = response.location.rsplit("/", 1)[-1]
    # The first request for the PDF renders and stores it (by design); every later GET is read-only.
    assert client.get(f"/certificates/{number}.pdf").status_code == 200
    visited = unchanged_by_gets("certificate ready")
    assert (f"/certificates/{number}.pdf", 200) in visited
    assert (f"/learn/{COURSE}/lessons/{pack(app).lessons[0].id}", 200) in visited
    assert len(enrollments_of_user(app)) == 1
    assert not server_errors, "GET pages that failed with a 5xx:\n" + "\n".join(map(str, sorted(server_errors)))
