"""ADL's two example cmi5 courses as lessons of one course pack: a learner plays each in
Chromium (one in the lesson's frame, one in a window of its own, as its launchMethod asks),
passes its quiz, and the portal credits the lesson; the post-test then unlocks."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect
from sqlmodel import select

from portal.learning.models import LessonProgress
from tests.browser.test_std_packages import eventually, pass_quiz, port_pair
from tests.cmi5.paths import example
from tests.cmi5.server import PortalServers
from tests.conftest import IN_CI
from tests.helpers import PASSWORD, log_in, make_user, submit
from tests.learning.journey import take_test
from tests.packs.packtools import PackDirs, new_starter

pytestmark = pytest.mark.browser
PACK = "geology-course"


@pytest.fixture
def portal(tmp_path):
    framed, own_window = example("single_au_basic_responsive.zip"), example("masteryscore_responsive.zip")
    if framed is None or own_window is None:
        if IN_CI:
            pytest.fail("ADL's cmi5 examples are not on this machine (set CMI5_SHARED_DIR)")
        pytest.skip("ADL's cmi5 examples are not on this machine (set CMI5_SHARED_DIR)")
    pack = new_starter(tmp_path / "packs", PACK, "Geology for Officers")
    pack.write("packages/geology.zip", framed.read_bytes())
    pack.write("packages/geology-mastery.zip", own_window.read_bytes())
    pack.replace("    file: lessons/01-welcome.md\n", "    cmi5: {package: packages/geology.zip}\n")
    pack.replace("    file: lessons/02-key-ideas.md\n", "    cmi5: {package: packages/geology-mastery.zip}\n")
    assert pack.problems() == []
    servers = PortalServers(port_pair(), tmp_path, EXTRA_PLUGINS=[PackDirs("geology_plugin", pack.root)])
    servers.start()
    make_user(servers.app, email="casey@example.gov", name="Casey Officer")
    client = servers.app.test_client()
    log_in(client, "casey@example.gov")
    submit(client, f"/courses/{PACK}/enroll", {}, form_page=f"/courses/{PACK}")
    take_test(client, servers.app, "pre", pack_id=PACK)
    yield servers
    servers.stop()


def completed(app) -> set[str]:
    with app.extensions["portal"].database.session() as db:
        return {r.lesson_id for r in db.exec(select(LessonProgress)).all() if r.completed_at is not None}


def test_both_example_courses_play_in_chromium_and_credit_their_lessons(portal, browser, shots):
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.goto(portal.url + "/account/login")
    page.get_by_label("Email address").fill("casey@example.gov")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.goto(portal.url + f"/learn/{PACK}/lessons/welcome")
    expect(page.get_by_role("button", name="Mark complete and continue")).to_have_count(0)
    page.get_by_role("button", name="Start or resume the lesson").click()
    pass_quiz(page.frame_locator("iframe.package-frame"))
    shots(page, "01-framed-course-passed")
    assert eventually(lambda: completed(portal.app) == {"welcome"}, page)
    # the second course asks for a window of its own (launchMethod="OwnWindow")
    page.goto(portal.url + f"/learn/{PACK}/lessons/key-ideas")
    page.get_by_role("button", name="Start or resume the lesson").click()
    with context.expect_page() as opened:
        page.get_by_role("link", name="Open").first.click()
    window = opened.value
    pass_quiz(window)
    shots(window, "02-own-window-course-passed")
    assert eventually(lambda: completed(portal.app) == {"welcome", "key-ideas"}, page)
    page.goto(portal.url + f"/learn/{PACK}/lessons/key-ideas")
    expect(page.get_by_text("You have completed it")).to_be_visible()
    context.close()
