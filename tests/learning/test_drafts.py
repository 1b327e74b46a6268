"""Answers are never lost (issue 15, B6 and B9): drafts saved on the server as the learner goes,
restored on leaving, on a new device and after the log-in session ended; a submission that
arrives after log-out keeps its answers; every submission follows post/redirect/get."""

from __future__ import annotations

import re

from tests.helpers import csrf_token, log_in, make_user, submit
from tests.learning.journey import (COURSE, answers_scoring, complete_all_lessons, enroll, learning_snapshot,
                                    main_html, open_attempt_of, page_text, start_test, take_test_scoring)

TEST_PAGE = f"/learn/{COURSE}/tests/post"


def _checked(html: str) -> set[tuple[str, str]]:
    return {(m.group(1), m.group(2)) for m in re.finditer(
        r'<input[^>]*name="(q-\d+)" value="(\d+)"[^>]*checked', html)}


def _expected(data: dict) -> set[tuple[str, str]]:
    return {(name, value) for name, values in data.items() if name.startswith("q-") for value in values}


def _attempt_token(html: str) -> str:
    match = re.search(r'name="attempt_token" value="([^"]+)"', html)
    assert match, "the test form carries no attempt token"
    return match.group(1)


def at_post_test(app):
    make_user(app)
    client = app.test_client()
    log_in(client)
    enroll(client)
    take_test_scoring(client, app, "pre", 5)
    complete_all_lessons(client, app)
    start_test(client, "post")
    attempt, items = open_attempt_of(app, "post")
    return client, attempt, items


def test_b6_saved_answers_survive_leaving_and_a_new_device(app):
    client, attempt, items = at_post_test(app)
    data = answers_scoring(app, attempt, items, 6)
    response = submit(client, TEST_PAGE + "/save", data, form_page=TEST_PAGE)
    assert response.status_code == 303 and response.location.endswith(TEST_PAGE)
    assert "Your answers are saved" in page_text(client.get(response.location).get_data(as_text=True))
    assert _checked(client.get(TEST_PAGE).get_data(as_text=True)) == _expected(data)
    other_device = app.test_client()
    log_in(other_device)
    assert _checked(other_device.get(TEST_PAGE).get_data(as_text=True)) == _expected(data)
    [open_attempt] = [open_attempt_of(app, "post")[0]]
    assert open_attempt.id == attempt.id and open_attempt.score is None  # saved, not scored


def test_b6_htmx_saves_each_change_and_answers_with_a_status_line(app):
    client, attempt, items = at_post_test(app)
    data = answers_scoring(app, attempt, items, 2)
    token = csrf_token(client, TEST_PAGE)
    response = client.post(TEST_PAGE + "/save", data=data, headers={"HX-Request": "true", "X-CSRFToken": token})
    assert response.status_code == 200 and "Answers saved" in response.get_data(as_text=True)
    assert "<header" not in response.get_data(as_text=True)
    assert _checked(client.get(TEST_PAGE).get_data(as_text=True)) == _expected(data)


def test_b6_a_submission_after_log_out_keeps_the_answers_and_lands_on_the_same_attempt(app):
    client, attempt, items = at_post_test(app)
    html = client.get(TEST_PAGE).get_data(as_text=True)
    page_token, attempt_token = csrf_token(client, TEST_PAGE), _attempt_token(html)
    # Log out in another tab: the session (and its CSRF token) is gone.
    submit(client, "/account/logout", {}, form_page="/my/courses")
    data = answers_scoring(app, attempt, items, len(items))
    response = client.post(TEST_PAGE + "/submit", data={"csrf_token": page_token, "attempt_token": attempt_token,
                                                        **data})
    assert response.status_code == 303, response.status_code
    assert "/account/login" in response.location
    assert "answers were saved" in page_text(client.get(response.location).get_data(as_text=True))
    assert open_attempt_of(app, "post")[0].submitted_at is None  # kept, not scored behind their back
    from tests.helpers import PASSWORD

    landed = submit(client, response.location, {"email": "learner@example.gov", "password": PASSWORD})
    assert landed.status_code == 302 and landed.location.endswith(TEST_PAGE), landed.location
    page = client.get(landed.location).get_data(as_text=True)
    assert _checked(page) == _expected(data)
    assert f'name="attempt_id" value="{attempt.id}"' in page
    done = submit(client, TEST_PAGE + "/submit", {"attempt_token": _attempt_token(page), **data},
                  form_page=TEST_PAGE)
    assert done.status_code == 303 and "/results/" in done.location


def test_b6_a_forged_form_without_the_attempt_token_is_refused_and_changes_nothing(app):
    client, attempt, items = at_post_test(app)
    submit(client, "/account/logout", {}, form_page="/my/courses")
    before = learning_snapshot(app)
    data = answers_scoring(app, attempt, items, len(items))
    for token in ("", "forged.token.value"):
        response = client.post(TEST_PAGE + "/submit", data={"attempt_token": token, **data})
        assert response.status_code == 400
        assert "Your form expired" in response.get_data(as_text=True)
    assert learning_snapshot(app) == before


def test_b9_a_submission_with_a_gap_redirects_and_keeps_what_was_answered(app):
    client, attempt, items = at_post_test(app)
    data = answers_scoring(app, attempt, items, len(items))
    gap = data.pop("q-3")
    response = submit(client, TEST_PAGE + "/submit", data, form_page=TEST_PAGE)
    assert response.status_code == 303, "a refused submission must redirect (post/redirect/get)"
    page = client.get(response.location).get_data(as_text=True)
    text = page_text(main_html(page))
    assert "missing: 3" in text and "Answer this question" in text
    assert _checked(page) == _expected(data)
    data["q-3"] = gap
    done = submit(client, TEST_PAGE + "/submit", data, form_page=TEST_PAGE)
    assert done.status_code == 303 and "/results/" in done.location
