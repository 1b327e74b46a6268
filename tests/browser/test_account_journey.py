"""A new user, in a real browser: sign up, read the mail file, verify, log in,
log out, reset a forgotten password and edit the profile. axe-core audits every page
it visits (WCAG 2.1 A and AA), including a sign-up form returned with errors."""

from __future__ import annotations

import re
from email import message_from_bytes, policy
from pathlib import Path

import pytest
from playwright.sync_api import expect

from portal.mail.services import send_due_messages
from portal.mail.transports import transport_from_config
from tests.browser.a11y import Audit

pytestmark = pytest.mark.browser

PASSWORD = "a quiet morning patrol on elm street"
NEW_PASSWORD = "river bend overlook at dawn 42"


def deliver_mail(app) -> list:
    """Run the real sender with the file transport; return the parsed .eml files."""
    s = app.extensions["portal"]
    send_due_messages(s.database.session, transport_from_config(app.config), app.config["MAIL_FROM"], s.clock.now)
    folder = Path(app.config["PORTAL_DATA_DIR"]) / "mail"
    files = sorted(folder.glob("*.eml"), key=lambda p: p.stat().st_mtime_ns)
    return [message_from_bytes(p.read_bytes(), policy=policy.default) for p in files]


def last_link(app, to: str, path: str) -> str:
    for message in reversed(deliver_mail(app)):
        if message["To"] == to:
            match = re.search(r"https?://\S*" + re.escape(path) + r"\S*", message.get_content())
            if match:
                return match.group(0)
    raise AssertionError(f"no mail to {to} with a {path} link")


def test_new_user_account_journey(live_server, page, shots):
    app, url = live_server.app, live_server.url
    audit = Audit(page)
    page.goto(url + "/")
    audit.check(page, "home")
    shots(page, "01-home")
    page.get_by_role("link", name="Sign up").click()
    expect(page.get_by_role("heading", name="Create an account")).to_be_visible()
    audit.check(page, "sign up")
    # A form sent back with errors: each message tied to its field, and still no violation.
    page.get_by_label("Email address").fill("not an address")
    page.get_by_role("button", name="Create account").click()
    expect(page.get_by_role("alert")).to_be_visible()
    expect(page.get_by_label("Email address")).to_have_attribute("aria-invalid", "true")
    audit.check(page, "sign up with errors")
    shots(page, "02-signup-errors")
    page.get_by_label("Full name").fill("Jordan Rivera")
    page.get_by_label("Email address").fill("jordan.rivera@example.gov")
    page.get_by_label("Agency or organization (optional)").fill("Riverside County Sheriff")
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_label("Type the password again").fill(PASSWORD)
    shots(page, "02-signup-filled")
    page.get_by_role("button", name="Create account").click()
    expect(page.get_by_role("heading", name="Check your email")).to_be_visible()
    audit.check(page, "check your email")
    shots(page, "03-check-email")

    link = last_link(app, "jordan.rivera@example.gov", "/account/verify/")
    assert link.startswith(url)
    page.goto(link)
    audit.check(page, "confirm email")
    page.get_by_role("button", name="Confirm my email address").click()
    expect(page.get_by_text("Your email address is confirmed")).to_be_visible()
    audit.check(page, "email confirmed, log in")
    shots(page, "04-verified")

    page.get_by_label("Email address").fill("jordan.rivera@example.gov")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("link", name="Jordan Rivera")).to_be_visible()
    audit.check(page, "signed in")
    page.get_by_role("button", name="Log out").click()
    account_nav = page.get_by_role("navigation", name="Account")
    expect(account_nav.get_by_role("link", name="Log in")).to_be_visible()
    audit.check(page, "logged out")
    shots(page, "05-logged-out")

    account_nav.get_by_role("link", name="Log in").click()
    expect(page.get_by_role("heading", name="Log in")).to_be_visible()
    audit.check(page, "log in")
    page.get_by_role("link", name="Forgot your password?").click()
    expect(page.get_by_role("heading", name="Reset your password")).to_be_visible()
    audit.check(page, "forgot password")
    page.get_by_label("Email address").fill("jordan.rivera@example.gov")
    page.get_by_role("button", name="Send reset link").click()
    expect(page.get_by_role("heading", name="Check your email")).to_be_visible()
    audit.check(page, "reset link sent")
    page.goto(last_link(app, "jordan.rivera@example.gov", "/account/password/reset/"))
    audit.check(page, "choose a new password")
    page.get_by_label("New password", exact=True).fill(NEW_PASSWORD)
    page.get_by_label("Type the new password again").fill(NEW_PASSWORD)
    shots(page, "06-reset")
    page.get_by_role("button", name="Save new password").click()
    expect(page.get_by_text("Your password has been changed")).to_be_visible()
    audit.check(page, "password changed, log in")

    page.get_by_label("Email address").fill("jordan.rivera@example.gov")
    page.get_by_label("Password").fill(NEW_PASSWORD)
    page.get_by_label("Keep me signed in on this device").check()
    page.get_by_role("button", name="Log in").click()
    page.get_by_role("link", name="Jordan Rivera").click()
    expect(page.get_by_role("heading", name="Profile")).to_be_visible()
    audit.check(page, "profile")
    page.get_by_label("Full name").fill("Jordan A. Rivera")
    page.get_by_label("Agency or organization (optional)").fill("Riverside Police Department")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_text("Your profile has been saved")).to_be_visible()
    expect(page.get_by_label("Full name")).to_have_value("Jordan A. Rivera")
    audit.check(page, "profile saved")
    shots(page, "07-profile-saved")
    audit.assert_every_page_audited()
