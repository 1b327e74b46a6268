"""A new learner, in a real browser: catalog to a verified certificate PDF, stopping
halfway and resuming on a later visit, failing a post-test and passing on a retry.
axe-core audits every page it visits (WCAG 2.1 A and AA)."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect
from pypdf import PdfReader
from io import BytesIO

from tests.browser.a11y import Audit
from tests.helpers import make_user
from tests.learning.journey import backdate_post_attempts, field_and_values, open_attempt_items, pack

pytestmark = pytest.mark.browser
PASSWORD = "a quiet morning patrol on elm street"


def log_in(page, url, audit):
    page.goto(url + "/account/login")
    audit.check(page, "log in")
    page.get_by_label("Email address").fill("casey@example.gov")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()


def answer(page, app, kind, right):
    _, items = open_attempt_items(app, kind)
    questions = {q.id: q for q in pack(app).questions}
    for item in items:
        q = questions[item.question_id]
        picks = sorted(q.correct_ids) if right else [c.id for c in q.choices if not c.correct][:1]
        name, values = field_and_values(item, picks)
        for value in values:
            page.locator(f"input[name='{name}'][value='{value}']").check()


def test_catalog_to_verified_certificate(live_server, browser, shots):
    app, url = live_server.app, live_server.url
    make_user(app, email="casey@example.gov", name="Casey Morgan", password=PASSWORD)
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    audit = Audit(page)
    page.goto(url + "/catalog")
    audit.check(page, "catalog")
    shots(page, "01-catalog")
    page.get_by_label("Kind").select_option("course")
    page.wait_for_url(re.compile(r"kind=course"))
    expect(page.locator("#catalog-results")).not_to_contain_text("Video series")
    audit.check(page, "catalog results filtered by htmx")
    page.get_by_role("link", name=re.compile("Introduction to School Resource Officer")).click()
    expect(page.get_by_text("Arizona POST Approved Course").first).to_be_visible()
    assert re.search(r"\d{4} session: January 1 – December 31, \d{4}", page.content())
    audit.check(page, "course, signed out")
    shots(page, "02-course")
    page.get_by_role("button", name="Enroll").click()
    expect(page.get_by_role("heading", name="Log in")).to_be_visible()
    audit.check(page, "log in before enrolling")
    page.get_by_label("Email address").fill("casey@example.gov")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("link", name="Casey Morgan")).to_be_visible()
    audit.check(page, "course, signed in")
    page.get_by_role("button", name="Enroll").click()
    expect(page.get_by_role("button", name="Start the pre-test")).to_be_visible()
    audit.check(page, "pre-test start")
    page.get_by_role("button", name="Start the pre-test").click()
    expect(page.get_by_role("button", name="Submit the pre-test")).to_be_visible()
    audit.check(page, "pre-test questions")
    shots(page, "03-pre-test")
    answer(page, app, "pre", right=False)
    page.get_by_role("button", name="Submit the pre-test").click()
    expect(page.get_by_text("Your pre-test was submitted")).to_be_visible()
    assert "%" not in page.locator("main").inner_text().split("Your pre-test was submitted")[0][-200:]
    lessons = pack(app).lessons
    for number, lesson in enumerate(lessons[:3], start=1):
        expect(page.get_by_text(f"Lesson {number} of {len(lessons)}")).to_be_visible()
        audit.check(page, f"lesson {number}")
        page.get_by_role("button", name=re.compile("Mark complete")).click()
    shots(page, "04-lesson-4")
    context.close()  # stop halfway: a later visit, a new browser

    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    audit.watch(page)
    log_in(page, url, audit)
    expect(page.get_by_role("link", name="Casey Morgan")).to_be_visible()
    audit.check(page, "home, signed in")
    page.get_by_role("link", name="My courses").click()
    expect(page.get_by_text("In progress: 3 of 6 lessons")).to_be_visible()
    audit.check(page, "my courses")
    shots(page, "05-my-courses")
    page.get_by_role("link", name="Resume").click()
    expect(page.get_by_role("heading", name=lessons[3].title, exact=False).first).to_be_visible()
    for number, lesson in enumerate(lessons[3:], start=4):
        expect(page.get_by_text(f"Lesson {number} of {len(lessons)}")).to_be_visible()
        audit.check(page, f"lesson {number}")
        page.get_by_role("button", name=re.compile("Mark complete")).click()
    expect(page.get_by_role("button", name="Start the post-test")).to_be_visible()
    audit.check(page, "post-test start")
    page.get_by_role("button", name="Start the post-test").click()
    expect(page.get_by_role("button", name="Submit the post-test")).to_be_visible()
    audit.check(page, "post-test questions")
    answer(page, app, "post", right=False)
    page.get_by_role("button", name="Submit the post-test").click()
    expect(page.get_by_text("You need 80% to pass")).to_be_visible()
    audit.check(page, "post-test failed")
    shots(page, "06-failed")
    expect(page.get_by_text("10 minutes after a try that did not pass")).to_be_visible()
    backdate_post_attempts(app, 11, "casey@example.gov")  # the cooldown has passed
    page.reload()
    page.get_by_role("button", name="Try again").click()
    answer(page, app, "post", right=True)
    page.get_by_role("button", name="Submit the post-test").click()
    expect(page.get_by_text("You passed")).to_be_visible()
    audit.check(page, "post-test passed")
    page.get_by_role("link", name="Continue to the honor code").click()
    expect(page.get_by_role("heading", name="Honor code")).to_be_visible()
    audit.check(page, "honor code")
    shots(page, "07-honor-code")
    page.get_by_role("button", name="Yes").click()
    expect(page.get_by_role("heading", name="Certificate of Completion")).to_be_visible()
    audit.check(page, "certificate")
    shots(page, "08-certificate")
    number = re.search(r"PSTP-\d{4}(?:-[A-Z0-9]{4}){2,4}", page.content()).group(0)
    with page.expect_download() as download:
        page.get_by_role("link", name="Download PDF").click()
    pdf = download.value.path().read_bytes()
    text = " ".join(p.extract_text() for p in PdfReader(BytesIO(pdf)).pages)
    assert "Casey Morgan" in text and number in text and "Arizona POST" in text
    (shots.folder / "certificate.pdf").write_bytes(pdf)
    page.goto(url + "/verify")
    audit.check(page, "verify a certificate")
    page.get_by_label("Certificate number").fill(number.lower())
    page.get_by_role("button", name="Verify").click()
    expect(page.locator("main").get_by_text("Casey Morgan")).to_be_visible()
    expect(page.get_by_text("Valid", exact=True)).to_be_visible()
    audit.check(page, "certificate verified")
    shots(page, "09-verified")
    audit.assert_every_page_audited()
    context.close()
