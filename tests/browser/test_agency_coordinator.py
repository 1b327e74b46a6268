"""A coordinator, in a real browser: invites an officer, records an award and two SROs,
sees the deadlines, imports and exports the roster and fills in a claim. axe-core audits
every page it visits (WCAG 2.1 A and AA)."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.browser.a11y import Audit
from tests.helpers import make_user

pytestmark = pytest.mark.browser
PASSWORD = "a quiet morning patrol on elm street"


def log_in(page, url, email, audit):
    page.goto(url + "/account/login")
    audit.check(page, "log in")
    page.get_by_label("Email address").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("button", name="Log out")).to_be_visible()
    audit.check(page, f"home, signed in as {email}")


def test_coordinator_runs_the_chp_mandate(live_server, browser, shots, tmp_path):
    app, url = live_server.app, live_server.url
    make_user(app, email="admin@example.gov", name="Ada Admin", password=PASSWORD, roles=("admin",))
    make_user(app, email="coord@example.gov", name="Lt. Coordinator", password=PASSWORD)
    make_user(app, email="officer@example.gov", name="Ofc. Rivera", password=PASSWORD)
    context = browser.new_context(viewport={"width": 1366, "height": 900}, accept_downloads=True)
    page = context.new_page()
    audit = Audit(page)

    log_in(page, url, "admin@example.gov", audit)
    page.goto(url + "/agencies/")
    audit.check(page, "agencies, as an administrator")
    page.get_by_label("Agency name").fill("Elm City Police Department")
    page.get_by_label("Coordinator's account email").fill("coord@example.gov")
    page.get_by_label("CHP Program Manager's email (optional)").fill("pm@cops.example.gov")
    page.get_by_role("button", name="Create agency").click()
    expect(page.get_by_text("Elm City Police Department was created")).to_be_visible()
    audit.check(page, "agency created")
    context.clear_cookies()

    log_in(page, url, "coord@example.gov", audit)
    page.get_by_role("link", name="Agency", exact=True).click()
    expect(page.get_by_role("heading", name=re.compile("CHP SRO training"))).to_be_visible()
    audit.check(page, "agency dashboard, empty")
    page.get_by_role("link", name="Members").click()
    expect(page.get_by_role("heading", name="Members of Elm City Police Department")).to_be_visible()
    audit.check(page, "members")
    page.get_by_role("button", name="Create an invitation link").click()
    link = page.locator(".notice code").inner_text()
    audit.check(page, "members, with a new invitation link")
    shots(page, "01-invite")

    officer = browser.new_context(viewport={"width": 1366, "height": 900})
    officer_page = officer.new_page()
    audit.watch(officer_page)
    officer_page.goto(link)
    expect(officer_page.get_by_role("heading", name="Log in")).to_be_visible()
    audit.check(officer_page, "invitation, log in first")
    officer_page.get_by_label("Email address").fill("officer@example.gov")
    officer_page.get_by_label("Password").fill(PASSWORD)
    officer_page.get_by_role("button", name="Log in").click()
    expect(officer_page.get_by_role("heading", name="Join Elm City Police Department")).to_be_visible()
    audit.check(officer_page, "join an agency")
    officer_page.get_by_role("button", name="Join Elm City Police Department").click()
    expect(officer_page.get_by_text("You have joined Elm City Police Department")).to_be_visible()
    audit.check(officer_page, "joined")
    officer.close()
    page.reload()
    expect(page.get_by_role("cell", name="Ofc. Rivera", exact=True)).to_be_visible()

    page.get_by_role("link", name="Record a CHP award").click()
    expect(page.get_by_role("heading", name="Record a CHP award")).to_be_visible()
    audit.check(page, "award form")
    page.get_by_label("Award number").fill("2026-UL-WX-0042")
    page.get_by_label("Date on the award congratulatory letter").fill("2026-03-02")
    page.get_by_label("Funded SRO positions").fill("2")
    page.get_by_role("button", name="Save award").click()
    expect(page.get_by_text("The MOU is due May 31, 2026")).to_be_visible()
    audit.check(page, "award")
    page.get_by_role("link", name="Add an SRO").click()
    expect(page.get_by_role("heading", name=re.compile("Add an SRO"))).to_be_visible()
    audit.check(page, "add an SRO")
    page.get_by_label("Officer's name").fill("Ofc. Dana Park")
    page.get_by_label("Hire date (optional)").fill("2026-04-15")
    page.get_by_label("40-hour NASRO basic course completed on").fill("2026-09-18")
    page.get_by_role("button", name="Save").click()
    page.get_by_role("link", name="Add an SRO").click()
    page.get_by_label("Officer's name").fill("Ofc. Lee Grant")
    page.get_by_label("Position").select_option("backfill")
    page.get_by_label("Date placed in the school (backfill)").fill("2026-08-31")
    page.get_by_role("button", name="Save").click()
    page.get_by_role("link", name=re.compile("dashboard")).click()
    expect(page.get_by_role("link", name="Ofc. Lee Grant")).to_be_visible()
    expect(page.get_by_role("cell", name="May 31, 2026")).to_be_visible()        # MOU: 2 March + 90 days
    expect(page.get_by_role("cell", name="October 15, 2026")).to_be_visible()    # initial: hire + 6 months
    expect(page.get_by_role("cell", name="May 31, 2027")).to_be_visible()        # backfill: 31 Aug + 9 months
    audit.check(page, "agency dashboard with deadlines")
    shots(page, "02-dashboard")

    with page.expect_download() as exported:
        page.get_by_role("link", name=re.compile("Export this agency's SRO roster")).click()
    exported_csv = exported.value.path().read_text()
    assert "Ofc. Dana Park" in exported_csv and "training_status" in exported_csv
    roster = tmp_path / "roster.csv"
    roster.write_text("officer,award_number,award_date,hire_date,role,placement_date,training_completed,"
                      "expenses_submitted,unit\nJ. Smith,2026-UL-WX-0042,2026-03-02,2026-04-15,initial,,,,North\n"
                      "K. Wrong,2026-UL-WX-0042,2026-13-01,,initial,,,,South\n")
    page.get_by_label("Roster CSV").set_input_files(str(roster))
    page.get_by_role("button", name="Check roster", exact=True).click()
    expect(page.get_by_text("Some rows have errors")).to_be_visible()
    expect(page.get_by_role("cell", name="North")).to_be_visible()
    audit.check(page, "roster report")
    shots(page, "03-roster-report")

    page.get_by_role("link", name=re.compile("dashboard")).first.click()
    # (the dashboard also links her itemized-expenses row to her claim)
    page.locator('a[href*="/sros/"]:not([href$="/claim"])', has_text="Ofc. Dana Park").click()
    expect(page.get_by_role("heading", name="Training deadline")).to_be_visible()
    audit.check(page, "an SRO with a deadline")
    page.get_by_role("link", name="Travel claim worksheet").click()
    expect(page.get_by_role("heading", name=re.compile("Travel claim worksheet"))).to_be_visible()
    audit.check(page, "travel claim, empty")
    for kind, text, day, amount in [("transportation", "Mileage to the academy", "2026-09-14", "212.40"),
                                    ("lodging", "Hotel, 4 nights at GSA rate", "2026-09-14", "640.00"),
                                    ("mie", "M&IE, 5 days", "2026-09-18", "295.00")]:
        page.get_by_label("Kind").select_option(kind)
        page.get_by_label("Description").fill(text)
        page.get_by_label("Date").fill(day)
        page.get_by_label("Amount in dollars").fill(amount)
        page.get_by_role("button", name="Add expense").click()
    expect(page.get_by_text("over the $1000.00 limit")).to_be_visible()
    expect(page.get_by_text("October 18, 2026")).to_be_visible()  # 30 days after completion
    audit.check(page, "travel claim over the limit")
    shots(page, "04-claim")
    audit.assert_every_page_audited()
    context.close()
