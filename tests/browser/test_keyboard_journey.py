"""The learner journey with the keyboard alone: sign up, confirm by the mailed link, log in,
find and enroll in a course, pre-test, every lesson, post-test, honor code, certificate.

Only key presses move focus and act: Tab and Shift+Tab reach controls (which proves they
are in the tab order), typing fills fields, arrows and Space answer, Enter follows links
and presses buttons. No click, check or fill. Every page is audited with axe-core, the
skip link is used, and key controls show a visible focus indicator."""

from __future__ import annotations

import re
from io import BytesIO

import pytest
from playwright.sync_api import expect
from pypdf import PdfReader

from tests.browser.a11y import Audit
from tests.browser.test_account_journey import last_link
from tests.learning.journey import field_and_values, open_attempt_items, pack

pytestmark = pytest.mark.browser
NAME, EMAIL = "Jordan Rivera", "jordan.keys@example.gov"
PASSWORD = "a quiet morning patrol on elm street"

IS_FOCUSED = "el => document.activeElement === el"
FOCUS_STYLE = """() => {
  const el = document.activeElement, style = getComputedStyle(el);
  return {tag: el.tagName, text: (el.innerText || el.value || "").slice(0, 40),
          focusVisible: el.matches(":focus-visible"), outline: style.outlineStyle,
          width: parseFloat(style.outlineWidth), shadow: style.boxShadow};
}"""


def tab_to(page, target, *, backwards: bool = False, limit: int = 60) -> None:
    """Press Tab (or Shift+Tab) until the target has focus; fail after `limit` presses."""
    element = target.element_handle()
    key = "Shift+Tab" if backwards else "Tab"
    for _ in range(limit):
        if page.evaluate(IS_FOCUSED, element):
            return
        page.keyboard.press(key)
    if not page.evaluate(IS_FOCUSED, element):
        raise AssertionError(f"{key} pressed {limit} times never reached {target}; "
                             f"focus is on {page.evaluate(FOCUS_STYLE)}")


def assert_focus_visible(page) -> None:
    """The focused control matches :focus-visible and draws an outline or a ring."""
    focus = page.evaluate(FOCUS_STYLE)
    assert focus["focusVisible"], focus
    assert (focus["outline"] != "none" and focus["width"] >= 2) or focus["shadow"] != "none", focus


def press_enter(page, target) -> None:
    tab_to(page, target)
    page.keyboard.press("Enter")


def type_into(page, target, text: str) -> None:
    tab_to(page, target)
    page.keyboard.type(text)


def answer_by_keyboard(page, app, kind: str, right: bool) -> None:
    """Reach each question by Tab; arrows pick a radio, Space checks it or a checkbox."""
    _, items = open_attempt_items(app, kind)
    questions = {q.id: q for q in pack(app).questions}
    for item in sorted(items, key=lambda i: i.position):
        q = questions[item.question_id]
        picks = sorted(q.correct_ids) if right else [c.id for c in q.choices if not c.correct][:1]
        name, values = field_and_values(item, picks)
        group = page.locator(f"input[name='{name}']")
        for value in values:
            choice = page.locator(f"input[name='{name}'][value='{value}']")
            if choice.get_attribute("type") == "radio":
                tab_to(page, group.first)  # Tab enters a radio group once, at its first radio
                for _ in range(group.count()):
                    if page.evaluate(IS_FOCUSED, choice.element_handle()):
                        break
                    page.keyboard.press("ArrowDown")
            else:
                tab_to(page, choice)
            page.keyboard.press("Space")
            expect(choice).to_be_checked()


def test_learner_journey_by_keyboard_alone(live_server, page, shots):
    app, url = live_server.app, live_server.url
    audit = Audit(page)
    lessons = pack(app).lessons

    # The skip link is the first stop and moves focus into the main content.
    page.goto(url + "/")
    audit.check(page, "home")
    page.keyboard.press("Tab")
    skip = page.get_by_role("link", name="Skip to main content")
    expect(skip).to_be_focused()
    assert_focus_visible(page)
    box = skip.bounding_box()
    assert box and box["x"] >= 0 and box["y"] >= 0, box  # shown on screen once focused
    shots(page, "01-skip-link")
    page.keyboard.press("Enter")
    expect(page.locator("main")).to_be_focused()
    page.keyboard.press("Tab")
    sign_up = page.get_by_role("main").get_by_role("link", name="Create an account")
    expect(sign_up).to_be_focused()  # the first control after the skip is in <main>
    assert_focus_visible(page)
    page.keyboard.press("Enter")

    # Sign up; a typo in the name is corrected by going back with Shift+Tab.
    expect(page.get_by_role("heading", name="Create an account")).to_be_visible()
    audit.check(page, "sign up")
    type_into(page, page.get_by_label("Full name"), "Jordn")
    assert_focus_visible(page)
    type_into(page, page.get_by_label("Email address"), EMAIL)
    type_into(page, page.get_by_label("Agency or organization (optional)"), "Riverside County Sheriff")
    type_into(page, page.get_by_label("Password", exact=True), PASSWORD)
    type_into(page, page.get_by_label("Type the password again"), PASSWORD)
    tab_to(page, page.get_by_label("Full name"), backwards=True)
    page.keyboard.press("Control+A")
    page.keyboard.type(NAME)
    expect(page.get_by_label("Full name")).to_have_value(NAME)
    shots(page, "02-sign-up")
    create = page.get_by_role("button", name="Create account")
    tab_to(page, create)
    assert_focus_visible(page)
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name="Check your email")).to_be_visible()
    audit.check(page, "check your email")

    # The link from the mail file, as a mail program would open it.
    page.goto(last_link(app, EMAIL, "/account/verify/"))
    audit.check(page, "confirm email")
    press_enter(page, page.get_by_role("button", name="Confirm my email address"))
    expect(page.get_by_text("Your email address is confirmed")).to_be_visible()
    audit.check(page, "log in after confirming")
    type_into(page, page.get_by_label("Email address"), EMAIL)
    type_into(page, page.get_by_label("Password"), PASSWORD)
    press_enter(page, page.get_by_role("button", name="Log in"))
    expect(page.get_by_role("link", name=NAME)).to_be_visible()
    audit.check(page, "home, signed in")

    # Catalog: an arrow key picks a kind in the filter; htmx swaps the results in.
    press_enter(page, page.get_by_role("navigation", name="Main").get_by_role("link", name="Catalog"))
    expect(page.get_by_role("heading", name="Course catalog")).to_be_visible()
    audit.check(page, "catalog")
    kind = page.get_by_label("Kind")
    tab_to(page, kind)
    assert_focus_visible(page)
    page.keyboard.press("ArrowDown")
    expect(kind).to_have_value("course")
    page.wait_for_url(re.compile(r"kind=course"))
    course = page.get_by_role("link", name=re.compile("Introduction to School Resource Officer"))
    expect(course).to_be_visible()
    expect(page.locator("#catalog-results")).not_to_contain_text("Video series")
    audit.check(page, "catalog results found by search")
    tab_to(page, course)
    assert_focus_visible(page)
    page.keyboard.press("Enter")

    # Enroll and take the pre-test.
    expect(page.get_by_role("heading", name=re.compile("Introduction to School Resource Officer"))).to_be_visible()
    audit.check(page, "course")
    enroll = page.get_by_role("button", name="Enroll")
    tab_to(page, enroll)
    assert_focus_visible(page)
    page.keyboard.press("Enter")
    expect(page.get_by_role("button", name="Start the pre-test")).to_be_visible()
    audit.check(page, "pre-test start")
    press_enter(page, page.get_by_role("button", name="Start the pre-test"))
    submit_pre = page.get_by_role("button", name="Submit the pre-test")
    expect(submit_pre).to_be_visible()
    audit.check(page, "pre-test questions")
    press_enter(page, submit_pre)  # nothing answered: each question says so, tied to its group
    first = page.get_by_role("group", name=re.compile("Question 1 of"))
    expect(first).to_have_accessible_description("Answer this question.")
    audit.check(page, "pre-test sent back unanswered")
    answer_by_keyboard(page, app, "pre", right=False)
    assert_focus_visible(page)
    shots(page, "03-pre-test-answered")
    press_enter(page, submit_pre)
    expect(page.get_by_text("Your pre-test was submitted")).to_be_visible()

    # Every lesson, in order.
    for number, lesson in enumerate(lessons, start=1):
        expect(page.get_by_text(f"Lesson {number} of {len(lessons)}")).to_be_visible()
        audit.check(page, f"lesson {number}: {lesson.title}")
        done = page.get_by_role("button", name=re.compile("Mark complete"))
        tab_to(page, done, limit=120)
        assert_focus_visible(page)
        if number == 1:
            shots(page, "04-lesson-1-focus")
        page.keyboard.press("Enter")

    # Post-test, passed first time.
    start_post = page.get_by_role("button", name="Start the post-test")
    expect(start_post).to_be_visible()
    audit.check(page, "post-test start")
    press_enter(page, start_post)
    submit_post = page.get_by_role("button", name="Submit the post-test")
    expect(submit_post).to_be_visible()
    audit.check(page, "post-test questions")
    answer_by_keyboard(page, app, "post", right=True)
    press_enter(page, submit_post)
    expect(page.get_by_text("You passed")).to_be_visible()
    audit.check(page, "post-test passed")

    # Honor code and certificate.
    press_enter(page, page.get_by_role("link", name="Continue to the honor code"))
    expect(page.get_by_role("heading", name="Honor code")).to_be_visible()
    audit.check(page, "honor code")
    yes = page.get_by_role("button", name="Yes")
    tab_to(page, yes)
    assert_focus_visible(page)
    shots(page, "05-honor-code-focus")
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name="Certificate of Completion")).to_be_visible()
    audit.check(page, "certificate")
    shots(page, "06-certificate")
    number = re.search(r"PSTP-\d{4}(?:-[A-Z0-9]{4}){2,4}", page.content()).group(0)
    download = page.get_by_role("link", name="Download PDF")
    tab_to(page, download)
    assert_focus_visible(page)
    with page.expect_download() as downloaded:
        page.keyboard.press("Enter")
    text = " ".join(p.extract_text() for p in PdfReader(BytesIO(downloaded.value.path().read_bytes())).pages)
    assert NAME in text and number in text
    audit.assert_every_page_audited()
