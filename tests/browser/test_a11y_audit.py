"""The accessibility audit itself: axe-core is the pinned version, runs under the portal's
CSP, reports what it finds in a readable message, and the journey guard notices a page
that was visited but never audited."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.browser.a11y import AXE, Audit, load_axe, run_axe, template_path

pytestmark = pytest.mark.browser
LOCK = Path(__file__).resolve().parent / "package-lock.json"

BROKEN = """<!doctype html><html><head><title>broken</title></head><body><main>
<h1>Broken on purpose</h1>
<img src="/nothing.png">
<a href="/somewhere"></a>
<form><input id="nameless" type="text"></form>
</main></body></html>"""


def test_the_audit_names_each_rule_and_the_failing_elements(page):
    page.set_content(BROKEN)
    with pytest.raises(AssertionError) as failed:
        Audit(page).check(page, "a page broken on purpose")
    message = str(failed.value)
    for rule, selector in [("image-alt", "img"), ("link-name", "a"), ("label", "#nameless")]:
        assert f"- {rule} (critical" in message or f"- {rule} (serious" in message, message
        assert f"at {selector}:" in message, message
    assert '<img src="/nothing.png">' in message            # the failing element's own HTML
    assert "Images must have alternative text" in message   # axe's help text


def test_axe_is_the_pinned_version_and_runs_under_the_portals_csp(live_server, page):
    page.goto(live_server.url + "/")
    csp = page.evaluate("fetch('/').then(r => r.headers.get('content-security-policy'))")
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp
    with pytest.raises(Exception, match="Content Security Policy"):
        page.add_script_tag(path=str(AXE))  # the reason the audit uses page.evaluate
    result = run_axe(page)
    pinned = json.loads(LOCK.read_text())["packages"]["node_modules/axe-core"]["version"]
    assert result["version"] == pinned
    assert result["violations"] == []


def test_a_visited_page_left_unaudited_fails_the_journey(live_server, page):
    audit = Audit(page)
    page.goto(live_server.url + "/")
    audit.check(page, "home")
    page.goto(live_server.url + "/faq")
    with pytest.raises(AssertionError, match=r"never audited with axe-core:\n- /faq "):
        audit.assert_every_page_audited()
    audit.check(page, "faq")
    audit.assert_every_page_audited()


def test_paths_are_grouped_by_their_shape():
    assert template_path("http://h/learn/x/results/12?a=1") == "/learn/x/results/{n}"
    assert template_path("http://h/agencies/3/sros/41/claim") == "/agencies/{n}/sros/{n}/claim"
    assert template_path("http://h") == "/"


def test_missing_axe_skips_outside_ci_and_fails_in_ci(tmp_path):
    missing = tmp_path / "axe.min.js"
    with pytest.raises(pytest.skip.Exception, match="npm ci --prefix tests/browser"):
        load_axe(missing, in_ci=False)
    with pytest.raises(pytest.fail.Exception, match="cannot run in CI.*npm ci --prefix tests/browser"):
        load_axe(missing, in_ci=True)
