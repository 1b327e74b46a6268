"""cmi5 packages in a real browser: a provider uploads, previews and publishes without a shell;
ADL's example course plays in Chromium on the content origin and is satisfied; and a package's
own script, run there, can read neither the portal's cookies nor its pages.
axe-core audits the provider pages (WCAG 2.1 A and AA)."""

from __future__ import annotations

import io
import json
import os
import socket
import zipfile
from pathlib import Path

import pytest
from playwright.sync_api import expect
from sqlmodel import select

from tests.browser.a11y import Audit
from tests.cmi5.paths import example as cmi5_example
from tests.cmi5.server import EMAIL, PASSWORD, PortalServers
from tests.conftest import IN_CI

pytestmark = pytest.mark.browser
NS = "https://w3id.org/xapi/profiles/cmi5/v1/CourseStructure.xsd"

# What a hostile package tries from the content origin: the portal's cookies, the page framing it,
# and the portal's own pages with the visitor's credentials.
SNOOP = """
const out = {cookie: document.cookie};
try { out.parent = window.parent.document.cookie + "|" + window.parent.location.href; }
catch (e) { out.parent = "blocked"; }
try { out.top = window.top.document.body.innerHTML.slice(0, 80); } catch (e) { out.top = "blocked"; }
const actor = JSON.parse(new URLSearchParams(location.search).get("actor"));
const portal = actor.account.homePage;
fetch(portal + "/providers/packages/", {credentials: "include"})
  .then((r) => r.text()).then((t) => { out.fetch = t.slice(0, 200); })
  .catch(() => { out.fetch = "blocked"; })
  .finally(() => {
    const pre = document.createElement("pre");
    pre.id = "report";
    pre.textContent = JSON.stringify(out);
    document.body.appendChild(pre);
  });
"""


def snoop_package() -> bytes:
    structure = f"""<?xml version="1.0" encoding="utf-8"?>
<courseStructure xmlns="{NS}">
  <course id="https://example.gov/snoop"><title><langstring lang="en">Snoop</langstring></title>
    <description><langstring lang="en">A hostile package</langstring></description></course>
  <au id="https://example.gov/snoop/au"><title><langstring lang="en">Snoop AU</langstring></title>
    <description><langstring lang="en">Reads what it can</langstring></description><url>index.html</url></au>
</courseStructure>"""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("cmi5.xml", structure)
        archive.writestr("index.html", "<!doctype html><html lang=en><title>Snoop</title><body>"
                                       "<script src='snoop.js'></script></body></html>")
        archive.writestr("snoop.js", SNOOP)
    return buffer.getvalue()


def port_pair() -> int:
    for port in range(21500 + (os.getpid() % 100) * 2, 21900, 2):
        try:
            with socket.socket() as a, socket.socket() as b:
                a.bind(("127.0.0.1", port))
                b.bind(("127.0.0.1", port + 1))
            return port
        except OSError:
            continue
    raise RuntimeError("no free port pair")


@pytest.fixture
def portal(tmp_path):
    servers = PortalServers(port_pair(), tmp_path)
    servers.start()
    yield servers
    servers.stop()


def log_in(page, url, audit):
    page.goto(url + "/account/login")
    page.get_by_label("Email address").fill(EMAIL)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("button", name="Log out")).to_be_visible()


def upload(page, url, path: Path, audit=None):
    page.goto(url + "/providers/packages/")
    if audit:
        audit.check(page, "course packages")
    page.get_by_label("Package file (.zip or cmi5.xml)").set_input_files(str(path))
    page.get_by_role("button", name="Upload and check").click()


def eventually(check, page, tries: int = 50) -> bool:
    """The AU's statements travel after its page changes: wait for the portal to have them."""
    for _ in range(tries):
        if check():
            return True
        page.wait_for_timeout(200)
    return check()


def pass_quiz(frame) -> None:
    # The course opens on its first page once it has started (cmi5 launch done); go to the quiz then.
    expect(frame.locator(".navmenuitem").first).to_be_visible(timeout=15000)
    expect(frame.locator(".navmenuitem.seen").first).to_be_visible(timeout=15000)
    autopass = frame.get_by_role("button", name="(Select correct answers)")
    for _ in range(3):
        frame.locator(".navmenuitem", has_text="Quiz").click()
        try:
            expect(autopass).to_be_visible(timeout=5000)
            break
        except AssertionError:
            continue
    autopass.click()
    frame.get_by_role("button", name="Submit Answers").click()
    expect(frame.get_by_text("You achieved a passing score.")).to_be_visible(timeout=15000)
    frame.get_by_role("button", name="Exit the Course").click()


def test_imported_script_cannot_read_the_portals_cookies_or_pages(portal, browser, tmp_path):
    context = browser.new_context()
    page = context.new_page()
    log_in(page, portal.url, None)
    assert any(c["name"] == "portal_session" for c in context.cookies(portal.url))
    package = tmp_path / "snoop.zip"
    package.write_bytes(snoop_package())
    upload(page, portal.url, package)
    expect(page.get_by_text("imported as a draft")).to_be_visible()
    page.get_by_role("button", name="Launch").first.click()
    frame = page.frame_locator("iframe.package-frame")
    report = json.loads(frame.locator("#report").text_content(timeout=15000))
    assert "portal_session" not in report["cookie"] and report["cookie"] == ""
    assert report["parent"] == "blocked" and report["top"] == "blocked"
    assert report["fetch"] == "blocked"  # no CORS for the portal's pages: the response is unreadable
    # The content origin serves no portal page, with or without the learner's cookies.
    response = context.request.get(portal.content_url + "/providers/packages/")
    assert response.status == 404
    assert context.request.get(portal.content_url + "/account/login").status == 404
    # ... and the portal's origin serves no package file or LRS resource.
    assert context.request.get(portal.url + "/std/xapi/about").status == 404
    context.close()


def test_provider_uploads_previews_plays_and_publishes_the_example_course(portal, browser, shots):
    example = cmi5_example("single_au_basic_responsive.zip")
    if example is None:
        if IN_CI:
            pytest.fail("ADL's cmi5 examples are not on this machine (set CMI5_SHARED_DIR)")
        pytest.skip("ADL's cmi5 examples are not on this machine (set CMI5_SHARED_DIR)")
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    audit = Audit(page)
    log_in(page, portal.url, audit)
    # A bad package first: refused with its rule, nothing kept.
    bad = Path(shots.folder) / "not-a-package.zip"
    bad.write_bytes(b"this is not a zip")
    upload(page, portal.url, bad, audit)
    expect(page.get_by_text("The package was not imported")).to_be_visible()
    expect(page.get_by_text("14.1.0.0-1")).to_be_visible()
    audit.check(page, "upload refused")
    upload(page, portal.url, example)
    expect(page.get_by_role("heading", name="Introduction to Geology - Responsive Style")).to_be_visible()
    expect(page.locator("[data-status=draft]")).to_be_visible()
    audit.check(page, "draft package")
    shots(page, "01-draft")
    page.get_by_role("button", name="Launch").first.click()
    audit.check(page, "player")
    pass_quiz(page.frame_locator("iframe.package-frame"))
    shots(page, "02-passed")
    from portal.standards.models import StdRegistrationAu, StdSession

    def rows():
        with portal.app.extensions["portal"].database.session() as db:
            return db.exec(select(StdRegistrationAu)).one(), db.exec(select(StdSession)).one()
    assert eventually(lambda: rows()[1].terminated, page)  # the AU's last statements have arrived
    row, session = rows()
    assert row.satisfied and row.passed and row.completed and row.score_scaled == 1
    page.get_by_role("link", name="Back to").click()
    expect(page.get_by_role("cell", name="satisfied").first).to_be_visible()
    page.get_by_role("button", name="Publish").click()
    expect(page.locator("[data-status=published]")).to_be_visible()
    shots(page, "03-published")
    page.close()
