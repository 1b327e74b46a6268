"""In Debian's Chromium: a lesson holding an image and two videos where the author placed them,
each video with its captions track showing, audited by axe-core (WCAG 2.1 A and AA)."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.browser.a11y import Audit
from tests.helpers import PASSWORD, log_in, make_user
from tests.learning.journey import enroll, take_test
from tests.packs.packtools import PackDirs, new_starter
from tests.packs.test_lesson_media import LESSON, MP4, PNG, VTT

pytestmark = pytest.mark.browser


@pytest.fixture
def app_config(app_config, tmp_path):
    folder = new_starter(tmp_path / "media-pack")
    for name, content in (("media/campus.png", PNG), ("media/approach.mp4", MP4), ("media/approach-light.mp4", MP4),
                          ("media/approach.vtt", VTT), ("media/talk.mp4", MP4), ("media/talk.vtt", VTT)):
        folder.write(name, content)
    folder.write("lessons/02-key-ideas.md", LESSON)
    assert folder.problems() == []
    return {**app_config, "EXTRA_PLUGINS": [PackDirs("media_plugin", folder.root)]}


def test_learner_sees_images_and_videos_in_the_flow(live_server, browser):
    app, url = live_server.app, live_server.url
    make_user(app)
    client = app.test_client()  # enrollment and pre-test on the same database, the quick way
    log_in(client)
    enroll(client, "starter-course")
    take_test(client, app, "pre", pack_id="starter-course")

    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    audit = Audit(page)
    page.goto(url + "/account/login")
    page.get_by_label("Email address").fill("learner@example.gov")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.goto(url + "/learn/starter-course/lessons/key-ideas")
    expect(page.get_by_role("heading", name="Key ideas", exact=True)).to_be_visible()
    expect(page.get_by_role("img", name="A map of the school campus with the main office marked")).to_be_visible()
    videos = page.locator("article video")
    expect(videos).to_have_count(2)
    tracks = page.evaluate("[...document.querySelectorAll('article video')].map(v => v.textTracks[0].mode)")
    assert tracks == ["showing", "showing"]
    assert page.request.get(url + "/packs/starter-course/1.0.0/files/media/campus.png").status == 200
    audit.check(page, "lesson with an image and two videos")
    context.close()
