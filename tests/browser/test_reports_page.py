"""An administrator reads the reports in a real browser: tables, SVG charts, item analysis.
axe-core audits every page it visits (WCAG 2.1 A and AA)."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.browser.a11y import Audit
from tests.helpers import make_user, services
from tests.reports.factory import learner_with_scores

pytestmark = pytest.mark.browser
PASSWORD = "a quiet morning patrol on elm street"


def test_admin_reads_reports(live_server, browser, shots):
    app, url = live_server.app, live_server.url
    with services(app).database.session() as db:
        for n in range(1, 9):
            learner_with_scores(db, n, pre=30 + n * 5, posts=[(70 + n * 3, 70 + n * 3 >= 80)],
                                days_to_pass=5 * n if 70 + n * 3 >= 80 else None,
                                items={"roles-four": (n % 2 == 0, True), "mou-deadline": (False, n > 6)})
    make_user(app, email="admin@example.gov", name="Ada Admin", password=PASSWORD, roles=("admin",))
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    audit = Audit(page)
    page.goto(url + "/account/login")
    audit.check(page, "log in")
    page.get_by_label("Email address").fill("admin@example.gov")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("link", name="Ada Admin")).to_be_visible()
    audit.check(page, "home, signed in as an administrator")
    page.get_by_role("link", name="Reports").click()
    expect(page.get_by_role("heading", name="Courses by session year")).to_be_visible()
    expect(page.locator("svg[role=img]").first).to_be_visible()
    audit.check(page, "reports")
    shots(page, "01-reports")
    page.get_by_role("link", name="Item analysis").first.click()
    expect(page.get_by_text("nearly everyone answers correctly")).to_be_visible()
    audit.check(page, "item analysis")
    shots(page, "02-items")
    audit.assert_every_page_audited()
    page.close()
