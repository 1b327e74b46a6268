"""A trainer, in a real browser at 1920×1080, plays an episode in projector mode, drives it
by keyboard, sees the discussion prompts when it ends, and logs the showing. axe-core
audits every page it visits (WCAG 2.1 A and AA), and the projector with its prompts shown."""

from __future__ import annotations

import re
import time

import pytest
from playwright.sync_api import expect

from tests.browser.a11y import Audit
from tests.helpers import make_user

pytestmark = pytest.mark.browser
SERIES = "rollcall-school-safety"
PASSWORD = "a quiet morning patrol on elm street"


def wait_until(page, expression: str, timeout: float = 15.0) -> None:
    """Poll a page expression. (wait_for_function evaluates strings, which our CSP forbids.)"""
    deadline = time.monotonic() + timeout
    while not page.evaluate(expression):
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {expression}")
        page.wait_for_timeout(100)


def test_trainer_projects_an_episode_and_logs_the_showing(live_server, browser, shots):
    app, url = live_server.app, live_server.url
    pack = app.extensions["packs"].get(SERIES)
    first, second = pack.lessons[0], pack.lessons[1]
    make_user(app, email="trainer@example.gov", name="Sgt. Lee Trainer", password=PASSWORD, agency="Elm City PD")
    make_user(app, email="officer@example.gov", name="Ofc. Sam Present", password=PASSWORD)
    context = browser.new_context(viewport={"width": 1920, "height": 1080})
    page = context.new_page()
    audit = Audit(page)
    page.goto(url + f"/series/{SERIES}")
    audit.check(page, "series")
    shots(page, "01-series")
    page.get_by_role("link", name="Projector mode").first.click()
    expect(page.get_by_role("heading", name=first.title)).to_be_visible()
    audit.check(page, "projector, before playing")
    video = page.locator("#episode-video")
    expect(page.locator("#prompts")).to_be_hidden()  # our script hides them until the end
    assert page.evaluate("document.querySelector('#episode-video').textTracks[0].mode") == "showing"
    page.keyboard.press("Space")
    wait_until(page, "document.querySelector('#episode-video').currentTime > 1.5", timeout=20)
    shots(page, "02-playing-with-captions")
    page.keyboard.press("Space")
    assert page.evaluate("document.querySelector('#episode-video').paused")
    page.keyboard.press("c")
    assert page.evaluate("document.querySelector('#episode-video').textTracks[0].mode") == "hidden"
    page.keyboard.press("c")
    assert page.evaluate("document.querySelector('#episode-video').textTracks[0].mode") == "showing"
    # Single-key shortcuts can be switched off (WCAG 2.1.4) from the keyboard, and back on.
    shortcuts, mode = page.get_by_label("Keyboard shortcuts"), "document.querySelector('#episode-video').textTracks[0].mode"
    shortcuts.focus()
    page.keyboard.press("Space")
    expect(shortcuts).not_to_be_checked()
    page.evaluate("document.activeElement.blur()")
    page.keyboard.press("c")
    page.keyboard.press("Space")
    assert page.evaluate(mode) == "showing" and page.evaluate("document.querySelector('#episode-video').paused")
    shortcuts.focus()
    page.keyboard.press("Space")
    expect(shortcuts).to_be_checked()
    page.evaluate("document.activeElement.blur()")
    page.keyboard.press("c")
    assert page.evaluate(mode) == "hidden"
    page.keyboard.press("c")
    assert page.evaluate(mode) == "showing"
    page.keyboard.press("f")
    wait_until(page, "document.fullscreenElement !== null", timeout=5)
    page.keyboard.press("f")
    # Skip to the last seconds, as a trainer would wait for the end.
    page.evaluate("(v => { v.currentTime = v.duration - 1.5; })(document.querySelector('#episode-video'))")
    page.keyboard.press("Space")
    expect(page.locator("#prompts")).to_be_visible(timeout=15000)
    for prompt in first.discussion_prompts:
        expect(page.get_by_text(prompt)).to_be_visible()
    audit.check(page, "projector, prompts shown after the end")
    shots(page, "03-prompts-after-the-end")
    page.keyboard.press("ArrowRight")
    expect(page.get_by_role("heading", name=second.title)).to_be_visible()
    audit.check(page, "projector, next episode")
    page.keyboard.press("ArrowLeft")
    expect(page.get_by_role("heading", name=first.title)).to_be_visible()
    assert video.get_attribute("preload") == "none" and video.get_attribute("autoplay") is None

    page.get_by_role("link", name="Log this showing").click()
    expect(page.get_by_role("heading", name="Log in")).to_be_visible()
    audit.check(page, "log in")
    page.get_by_label("Email address").fill("trainer@example.gov")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("heading", name="Log a roll-call showing")).to_be_visible()
    expect(page.get_by_label("Agency")).to_have_value("Elm City PD")
    audit.check(page, "log a showing")
    page.get_by_label("Number of officers present").fill("9")
    page.get_by_label("Portal accounts present (optional)").fill("officer@example.gov")
    shots(page, "04-log-form")
    page.get_by_role("button", name="Log showing").click()
    expect(page.get_by_role("cell", name=re.compile(first.title))).to_be_visible()
    audit.check(page, "roll-call log")
    shots(page, "05-log")
    audit.assert_every_page_audited()
    context.close()
