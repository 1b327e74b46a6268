"""Audit finding 1: nothing a pack ships may execute on the portal's origin.

The attack: a pack with an `.html` download and a `.js` download passed validation, the HTML
was served inline, and its same-origin script (allowed by `script-src 'self'`) read a
signed-in learner's profile and CSRF token. The validator now refuses active content in
downloads, and the file view serves anything but a short list of passive types as an
attachment in a sandbox, so even a pack validated by an older portal cannot run script here.
"""

from __future__ import annotations

import pytest

from portal.packs import active_content
from tests.packs.packtools import PackDirs, expect_problem, new_starter

STEAL = "<!doctype html><script src='steal.js'></script>"
SCRIPT = "fetch('/account/profile').then(r => r.text()).then(t => navigator.sendBeacon('/x', t))"


def _with_download(folder, file: str, content: str | bytes) -> None:
    folder.write(file, content)
    folder.replace("    file: downloads/handout.txt\n",
                   f"    file: downloads/handout.txt\n  - id: extra\n    title: Extra\n    file: {file}\n")


@pytest.mark.parametrize(("file", "content"), [
    ("downloads/quiz.html", STEAL),
    ("downloads/steal.js", SCRIPT),
    ("downloads/page.XHTML", STEAL),
    ("downloads/badge.svg", "<svg xmlns='http://www.w3.org/2000/svg'><script>alert(1)</script></svg>"),
    ("downloads/plain.svg", "<svg xmlns='http://www.w3.org/2000/svg'><rect width='1' height='1'/></svg>"),
    ("downloads/feed.xml", "<?xml version='1.0'?><x/>"),
    ("downloads/notes.txt", "Notes\n<script>alert(document.cookie)</script>\n"),
    ("downloads/sheet.csv", "<html><body onload=alert(1)>"),
])
def test_the_validator_refuses_active_content_in_downloads(tmp_path, file, content):
    folder = new_starter(tmp_path)
    assert folder.problems() == []
    _with_download(folder, file, content)
    expect_problem(folder.problems(), "pack.yaml", folder.line_of(f"file: {file}"), file)


@pytest.mark.parametrize(("file", "content"), [
    ("downloads/checklist.pdf", b"%PDF-1.7\n<script>not markup in a PDF</script>\n%%EOF\n"),
    ("downloads/photo.png", b"\x89PNG\r\n\x1a\n<html>bytes of an image</html>"),
    ("downloads/roster.csv", "name,agency\nPat,Mesa PD\n"),
    ("downloads/notes.txt", "Bring a pen. 3 < 4 and <b> is not a tag we care about.\n"),
])
def test_passive_downloads_still_pass(tmp_path, file, content):
    folder = new_starter(tmp_path)
    _with_download(folder, file, content)
    assert folder.problems() == []


@pytest.fixture
def pack_validated_elsewhere(tmp_path, monkeypatch):
    """A pack holding an HTML and a JS download that a validator without the active-content
    check accepted (an older portal): the file view must hold on its own."""
    from portal.packs import validate

    monkeypatch.setattr(validate, "DOWNLOAD_CHECKS",
                        [check for check in validate.DOWNLOAD_CHECKS if check is not active_content.active_content_problem])
    folder = new_starter(tmp_path, "sneaky-course", "Sneaky Course")
    _with_download(folder, "downloads/quiz.html", STEAL)
    folder.write("downloads/steal.js", SCRIPT)
    folder.replace("    file: downloads/quiz.html\n",
                   "    file: downloads/quiz.html\n  - id: steal\n    title: Steal\n    file: downloads/steal.js\n")
    assert folder.problems() == []
    return folder


@pytest.mark.parametrize("file", ["downloads/quiz.html", "downloads/steal.js"])
@pytest.mark.parametrize("query", ["", "?download=1"])
def test_active_downloads_are_attachments_in_a_sandbox(make_app, pack_validated_elsewhere, file, query):
    app = make_app(EXTRA_PLUGINS=[PackDirs("sneaky_plugin", pack_validated_elsewhere.root)])
    response = app.test_client().get(f"/packs/sneaky-course/1.0.0/files/{file}{query}")
    assert response.status_code == 200
    assert response.headers["Content-Disposition"].startswith("attachment")
    policy = [part.strip() for part in response.headers["Content-Security-Policy"].split(";")]
    assert "sandbox" in policy and "default-src 'none'" in policy
    assert response.headers["X-Content-Type-Options"] == "nosniff"


def test_passive_files_are_still_shown_inline(make_app, tmp_path):
    folder = new_starter(tmp_path, "plain-course", "Plain Course")
    app = make_app(EXTRA_PLUGINS=[PackDirs("plain_plugin", folder.root)])
    response = app.test_client().get("/packs/plain-course/1.0.0/files/downloads/handout.txt")
    assert response.status_code == 200
    assert response.headers.get("Content-Disposition", "inline").startswith("inline")
    assert response.mimetype == "text/plain"
    download = app.test_client().get("/packs/plain-course/1.0.0/files/downloads/handout.txt?download=1")
    assert download.headers["Content-Disposition"].startswith("attachment")
