"""A coordinator, in a real browser, runs the unit from a spreadsheet (issue 17): imports a messy
50-row roster (UTF-8 with a byte order mark, semicolons, U.S. dates, an extra column, two bad
rows), checks the preview and applies it, imports it again and sees nothing to change,
corrects one record and deletes another, each change showing in its history. axe-core audits
every page it visits (WCAG 2.1 A and AA)."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.browser.a11y import Audit
from tests.helpers import make_user

pytestmark = pytest.mark.browser
PASSWORD = "a quiet morning patrol on elm street"
HEADER = "Officer;Award Number;Award Date;Hire Date;Role;Placement Date;Training Completed;Expenses Submitted;Badge"


def messy_roster() -> bytes:
    lines = [HEADER]
    for n in range(1, 41):  # 40 initial SROs on two awards, U.S. dates as Excel writes them
        award, award_date = ("2026-UL-0001", "3/2/2026") if n <= 20 else ("2026-UL-0002", "4/15/2026")
        trained = f"6/{n % 28 + 1}/2026" if n % 4 == 0 else ""
        lines.append(f"Ofc. Officer {n:02d};{award};{award_date};{n % 9 + 1}/1/2026;initial;;{trained};;B-{n}")
    for n in range(41, 49):  # 8 backfill SROs
        lines.append(f"Ofc. Officer {n:02d};2026-UL-0001;3/2/2026;;Backfill;{n - 40}/10/2026;;;B-{n}")
    lines.append("Ofc. Officer 49;2026-UL-0002;4/15/26;;initial;;;;B-49")       # two-digit year
    lines.append("Ofc. Officer 50;2026-UL-0002;4/15/2026;;sergeant;;;;B-50")    # not a role
    return ("\ufeff" + "\r\n".join(lines) + "\r\n").encode("utf-8")


def test_coordinator_imports_corrects_and_deletes(live_server, browser, shots, tmp_path):
    app, url = live_server.app, live_server.url
    from portal_agencies import services as agencies

    coordinator = make_user(app, email="coord@example.gov", name="Lt. Coordinator", password=PASSWORD)
    with app.extensions["portal"].database.session() as db:
        agencies.create_agency(db, "Elm City Police Department", db.merge(coordinator),
                               app.extensions["portal"].clock.now(), "pm@cops.example.gov")
    context = browser.new_context(viewport={"width": 1366, "height": 900})
    page = context.new_page()
    audit = Audit(page)

    page.goto(url + "/account/login")
    audit.check(page, "log in")
    page.get_by_label("Email address").fill("coord@example.gov")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("button", name="Log out")).to_be_visible()
    audit.check(page, "home")
    page.get_by_role("link", name="Agency", exact=True).click()
    page.get_by_role("link", name="Import a roster").click()
    expect(page.get_by_role("heading", name=re.compile("Import a roster"))).to_be_visible()
    audit.check(page, "roster import")

    roster = tmp_path / "Roster (Excel).csv"
    roster.write_bytes(messy_roster())
    page.get_by_label("Roster file (CSV)").set_input_files(str(roster))
    page.get_by_role("button", name="Preview the import").click()
    expect(page.get_by_role("heading", name="Roster import preview")).to_be_visible()
    expect(page.get_by_text("Read as UTF-8, semicolon-separated.")).to_be_visible()
    facts = page.locator("dl.facts").inner_text()
    assert re.search(r"New records\s+48", facts) and re.search(r"Rows with errors \(left out\)\s+2", facts), facts
    expect(page.get_by_text("Columns ignored: Badge.")).to_be_visible()
    expect(page.get_by_role("cell", name="award_date: '4/15/26' has a two-digit year; write it with four digits, "
                                         "like 4/15/2026")).to_be_visible()
    expect(page.get_by_role("cell", name="role: 'sergeant' is not initial or backfill")).to_be_visible()
    audit.check(page, "import preview")
    shots(page, "01-preview")
    page.get_by_role("button", name="Apply 48 changes").click()
    expect(page.get_by_text("Roster imported: 48 new, 0 changed, 0 unchanged, 2 rows with errors left out.")) \
        .to_be_visible()
    expect(page.get_by_role("link", name="Ofc. Officer 41")).to_be_visible()
    audit.check(page, "dashboard after the import")
    shots(page, "02-dashboard")

    # The same file again: every record is unchanged.
    page.get_by_role("link", name="Import a roster").click()
    page.get_by_label("Roster file (CSV)").set_input_files(str(roster))
    page.get_by_role("button", name="Preview the import").click()
    assert re.search(r"Unchanged\s+48", page.locator("dl.facts").inner_text())
    expect(page.get_by_text("There is nothing to apply.")).to_be_visible()
    audit.check(page, "import preview, nothing to change")

    # Correct a record: Ofc. Officer 03's hire date.
    page.get_by_role("link", name=re.compile("dashboard")).first.click()
    page.get_by_role("link", name="Ofc. Officer 03", exact=True).first.click()
    expect(page.get_by_role("heading", name=re.compile("Ofc. Officer 03"))).to_be_visible()
    page.get_by_label("Hire date (optional)").fill("2026-05-04")
    page.get_by_role("button", name="Save", exact=True).click()
    expect(page.get_by_text("Ofc. Officer 03's record is saved.")).to_be_visible()
    expect(page.get_by_text(re.compile(r"Lt\. Coordinator changed the record: hire date 2026-04-01 → 2026-05-04"))) \
        .to_be_visible()
    expect(page.get_by_text(re.compile("Lt. Coordinator created the record"))).to_be_visible()
    audit.check(page, "a corrected SRO with its history")
    shots(page, "03-corrected")

    # Delete another.
    page.get_by_role("link", name=re.compile("dashboard")).first.click()
    page.get_by_role("link", name="Ofc. Officer 44", exact=True).first.click()
    page.get_by_role("button", name="Delete Ofc. Officer 44's record").click()
    expect(page.get_by_text("Ofc. Officer 44's record is deleted (its change history is kept).")).to_be_visible()
    audit.check(page, "award after a deletion")
    page.get_by_role("link", name=re.compile("dashboard")).first.click()
    expect(page.get_by_role("link", name="Ofc. Officer 44", exact=True)).to_have_count(0)
    expect(page.get_by_role("link", name="Ofc. Officer 45", exact=True).first).to_be_visible()
    shots(page, "04-after-delete")
    audit.assert_every_page_audited()
    context.close()
