"""A support member, in a real browser, finds a learner whose confirmation mail never
arrived and confirms the account by hand; the learner can then enroll. axe-core audits
every page it visits (WCAG 2.1 A and AA), and the live-search results htmx swaps in."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.browser.a11y import Audit
from tests.helpers import get_user, make_user

pytestmark = pytest.mark.browser
PASSWORD = "a quiet morning patrol on elm street"


def test_support_member_confirms_an_account(live_server, browser, shots):
    app, url = live_server.app, live_server.url
    make_user(app, email="helpdesk@example.gov", name="Sam Support", password=PASSWORD, roles=("support",))
    make_user(app, email="no.mail@example.gov", name="Casey Nomail", password=PASSWORD, verified=False)
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    audit = Audit(page)
    page.goto(url + "/account/login")
    audit.check(page, "log in")
    page.get_by_label("Email address").fill("helpdesk@example.gov")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("link", name="Sam Support")).to_be_visible()
    audit.check(page, "home, signed in")
    page.get_by_role("link", name="Support", exact=True).click()
    expect(page.get_by_role("heading", name="Find a learner")).to_be_visible()
    audit.check(page, "support search, empty")
    page.get_by_label("Email or name").fill("nomail")  # htmx updates the results as the name is typed
    expect(page.get_by_role("link", name="Casey Nomail")).to_be_visible()
    audit.check(page, "live search results swapped in by htmx")
    shots(page, "01-search")
    page.get_by_role("link", name="Casey Nomail").click()
    expect(page.get_by_text("Not confirmed")).to_be_visible()
    audit.check(page, "learner, not confirmed")
    page.get_by_role("button", name="Confirm account").click()
    expect(page.get_by_text("no.mail@example.gov is now confirmed.")).to_be_visible()
    expect(page.get_by_role("cell", name="account.confirm")).to_be_visible()
    audit.check(page, "learner, confirmed")
    shots(page, "02-confirmed")
    audit.assert_every_page_audited()
    assert get_user(app, "no.mail@example.gov").email_verified_at is not None
    page.close()
