"""The learner's whole year in a real browser against the real server, on a frozen clock the
test moves (the app's Clock, portal/common/clock.py): each B-item of issue 15."""

from __future__ import annotations

import re
import threading

import pytest
from playwright.sync_api import expect
from werkzeug.serving import make_server

from portal.common.clock import FrozenClock
from tests.conftest import _truncate_all
from tests.helpers import PASSWORD, log_in, make_user, submit, utc
from tests.learning.journey import (COURSE, complete_all_lessons, enroll, field_and_values, open_attempt_of, pack,
                                    take_test_scoring)

pytestmark = pytest.mark.browser
EMAIL = "learner@example.gov"


@pytest.fixture
def year_server(app_config):
    """The portal on loopback with a clock the test moves."""
    from portal import create_app

    clock = FrozenClock(utc(2026, 12, 15, 15, 0))
    probe = make_server("127.0.0.1", 0, lambda e, s: [])
    port = probe.server_port
    probe.server_close()
    app = create_app({**app_config, "CLOCK": clock, "PORTAL_BASE_URL": f"http://127.0.0.1:{port}",
                      "SESSION_COOKIE_SECURE": False, "REMEMBER_COOKIE_SECURE": False})
    server = make_server("127.0.0.1", port, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield app, f"http://127.0.0.1:{port}", clock
    server.shutdown()
    thread.join(timeout=5)
    database = app.extensions["portal"].database
    if database.engine.dialect.name == "postgresql":
        _truncate_all(database)
    database.dispose()


def browser_log_in(page, url):
    page.goto(url + "/account/login")
    page.get_by_label("Email address").fill(EMAIL)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("link", name="Pat Learner")).to_be_visible()


def passed_without_attesting(app):
    client = app.test_client()
    log_in(client)
    enroll(client)
    take_test_scoring(client, app, "pre", 5)
    complete_all_lessons(client, app)
    take_test_scoring(client, app, "post", 10)
    return client


def tick(page, app, items, count):
    questions = {q.id: q for q in pack(app).questions}
    for item in items[:count]:
        name, values = field_and_values(item, sorted(questions[item.question_id].correct_ids))
        for value in values:
            page.locator(f"input[name='{name}'][value='{value}']").check()


def test_b1_b2_b5_a_2026_pass_survives_2027(year_server, browser):
    app, url, clock = year_server
    make_user(app)
    passed_without_attesting(app)
    clock.set(utc(2027, 1, 12, 15, 0))
    page = browser.new_context().new_page()
    browser_log_in(page, url)
    page.goto(url + "/catalog")
    expect(page.locator("main")).to_contain_text("approval expired on December 31, 2026")  # B2
    expect(page.locator("main")).not_to_contain_text("Arizona POST Approved Course")
    page.goto(url + f"/courses/{COURSE}")
    page.get_by_role("button", name="Enroll").click()  # the 2027 session
    expect(page.get_by_role("button", name="Start the pre-test")).to_be_visible()
    page.goto(url + f"/courses/{COURSE}")
    expect(page.locator("main")).to_contain_text("Your 2026 certificate is waiting")  # B1
    page.get_by_role("link", name="attest to the honor code").click()
    expect(page.locator("main")).to_contain_text("2026 session")
    page.get_by_role("button", name="Yes").click()
    expect(page.locator("main")).to_contain_text("2026")
    # Passed on 2026-12-15, when the approval was valid: the certificate prints it.
    expect(page.locator("main")).to_contain_text("AZPOST-CE-2026-0417")
    page.goto(url + f"/courses/{COURSE}")
    page.get_by_role("link", name="review the course").click()  # B5
    expect(page.get_by_role("heading", level=1)).to_be_visible()
    assert "/lessons/" in page.url and "/tests/pre" not in page.url


def test_b4_a_test_open_at_midnight_is_read_only_then_the_new_session_starts(year_server, browser):
    app, url, clock = year_server
    clock.set(utc(2027, 1, 1, 4, 30))  # 23:30 on December 31 in New York
    make_user(app)
    client = app.test_client()
    log_in(client)
    enroll(client)
    take_test_scoring(client, app, "pre", 5)
    complete_all_lessons(client, app)
    page = browser.new_context().new_page()
    browser_log_in(page, url)
    page.goto(url + f"/learn/{COURSE}/tests/post")
    page.get_by_role("button", name="Start the post-test").click()
    attempt, items = open_attempt_of(app, "post")
    tick(page, app, items, 3)
    expect(page.locator("#save-status")).to_contain_text("Answers saved")
    clock.set(utc(2027, 1, 1, 5, 1))  # 00:01 on January 1
    page.get_by_role("button", name="Submit the post-test").click()
    expect(page.locator("main")).to_contain_text("The 2026 session of this course ended")
    expect(page.get_by_role("button", name="Submit the post-test")).to_have_count(0)
    assert page.locator("input[type=radio]:not([disabled]), input[type=checkbox]:not([disabled])").count() == 0
    page.reload()
    expect(page.locator("main")).to_contain_text("can no longer be answered")
    page.get_by_role("button", name="Enroll in the 2027 session").click()
    expect(page.get_by_role("button", name="Start the pre-test")).to_be_visible()


def test_b6_answers_survive_log_out_and_the_late_submission_lands_on_the_same_attempt(year_server, browser):
    app, url, clock = year_server
    make_user(app)
    client = app.test_client()
    log_in(client)
    enroll(client)
    take_test_scoring(client, app, "pre", 5)
    complete_all_lessons(client, app)
    context = browser.new_context(viewport={"width": 360, "height": 640})
    page = context.new_page()
    browser_log_in(page, url)
    page.goto(url + f"/learn/{COURSE}/tests/post")
    page.get_by_role("button", name="Start the post-test").click()
    attempt, items = open_attempt_of(app, "post")
    tick(page, app, items, len(items))
    other_tab = context.new_page()
    other_tab.goto(url + "/my/courses")
    other_tab.get_by_role("button", name="Log out").click()
    page.get_by_role("button", name="Submit the post-test").click()
    expect(page.locator("main")).to_contain_text("your answers were saved but not submitted")
    page.get_by_label("Email address").fill(EMAIL)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("button", name="Submit the post-test")).to_be_visible()
    assert page.locator("input[name='attempt_id']").get_attribute("value") == str(attempt.id)
    assert page.locator("input:checked").count() >= len(items)
    page.get_by_role("button", name="Submit the post-test").click()
    expect(page.locator("main")).to_contain_text("You passed")


def test_b9_a_refused_submission_redirects_so_back_never_resubmits(year_server, browser):
    app, url, clock = year_server
    make_user(app)
    client = app.test_client()
    log_in(client)
    enroll(client)
    take_test_scoring(client, app, "pre", 5)
    complete_all_lessons(client, app)
    page = browser.new_context().new_page()
    browser_log_in(page, url)
    page.goto(url + f"/learn/{COURSE}/tests/post")
    page.get_by_role("button", name="Start the post-test").click()
    attempt, items = open_attempt_of(app, "post")
    tick(page, app, items, len(items) - 1)
    with page.expect_navigation() as navigation:
        page.get_by_role("button", name="Submit the post-test").click()
    assert navigation.value.request.method == "GET" and "check=1" in page.url
    expect(page.locator("main")).to_contain_text("Answer this question")
    page.go_back()
    page.go_forward()
    assert navigation.value.request.method == "GET"
    expect(page.locator("main")).to_contain_text("Answer this question")
    assert page.locator("fieldset.question:has(input:checked)").count() == len(items) - 1


def test_b3_back_after_an_htmx_catalog_search_shows_the_whole_page(year_server, browser):
    app, url, clock = year_server
    page = browser.new_context().new_page()
    page.goto(url + "/")
    page.goto(url + "/catalog")
    page.get_by_label("Kind").select_option("course")
    page.wait_for_url(re.compile(r"kind=course"))
    page.get_by_label("Kind").select_option("video-series")
    page.wait_for_url(re.compile(r"kind=video-series"))
    page.go_back()
    page.wait_for_url(re.compile(r"kind=course"))
    expect(page.locator("header.site")).to_be_visible()
    expect(page.locator("footer.site")).to_be_visible()
    expect(page.get_by_role("heading", name="Course catalog")).to_be_visible()
