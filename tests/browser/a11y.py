"""axe-core audits for the browser journeys: WCAG 2.1 A and AA, zero violations.

axe-core comes from the npm registry, pinned in tests/browser/package-lock.json and
installed with `npm ci --prefix tests/browser`. The portal's CSP forbids inline
scripts, and Playwright's add_script_tag is refused by it ("Executing inline script
violates ... script-src 'self'"); page.evaluate runs through DevTools, which the
page's CSP does not govern. The page under test keeps its real CSP (no bypass_csp),
so what is audited is what users get.

`Audit` also records every path the browser lands on and, at the end of a journey,
fails if one was never audited: a new page in a journey cannot slip by unchecked.
"""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Error as PlaywrightError

from tests.conftest import IN_CI

AXE = Path(__file__).resolve().parent / "node_modules" / "axe-core" / "axe.min.js"
INSTALL = "npm ci --prefix tests/browser"
WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]

# Runs in the page: returns the URL actually audited with the violations, so a
# stale audit (of the page before a navigation) is recorded against the old path.
RUN_AXE = """async (tags) => {
  const result = await axe.run(document, {runOnly: {type: "tag", values: tags}, resultTypes: ["violations"]});
  return {url: location.href, version: axe.version, violations: result.violations.map(v => ({
    id: v.id, impact: v.impact, help: v.help, helpUrl: v.helpUrl,
    nodes: v.nodes.map(n => ({target: n.target.map(String), html: n.html, summary: n.failureSummary}))}))};
}"""


def load_axe(path: Path, in_ci: bool) -> str:
    """The axe-core script at path; skips outside CI (fails in CI) when it is not installed."""
    if not path.exists():
        message = f"axe-core is not installed at {path}: run {INSTALL}"
        if in_ci:
            pytest.fail(f"accessibility audits cannot run in CI: {message}", pytrace=False)
        pytest.skip(message)
    return path.read_text(encoding="utf-8")


@cache
def axe_source() -> str:
    return load_axe(AXE, IN_CI)


def template_path(url: str) -> str:
    """A page's path with its numbers generalised: /learn/3/lesson/12 -> /learn/{n}/lesson/{n}."""
    return re.sub(r"\d+", "{n}", urlsplit(url).path) or "/"


def describe(violations: list[dict]) -> str:
    lines = []
    for v in violations:
        lines.append(f"- {v['id']} ({v['impact']}): {v['help']} <{v['helpUrl']}>")
        for node in v["nodes"]:
            lines.append(f"    at {' '.join(node['target'])}: {node['html'][:300]}")
            if node.get("summary"):
                lines.append("      " + node["summary"].replace("\n", "\n      "))
    return "\n".join(lines)


def run_axe(page) -> dict:
    """Run axe-core on the page as it is now; returns {url, version, violations}."""
    source = axe_source()
    for attempt in (1, 2, 3):
        page.wait_for_load_state("load")
        try:
            if not page.evaluate("() => typeof window.axe === 'object'"):
                page.evaluate(source)
            return page.evaluate(RUN_AXE, WCAG_TAGS)
        except PlaywrightError as error:  # a navigation replaced the document mid-audit: audit the new one
            if attempt == 3 or "context was destroyed" not in error.message:
                raise
    raise AssertionError("not reached")


class Audit:
    """Audits pages of one journey and remembers which paths were seen and audited."""

    def __init__(self, *pages):
        axe_source()  # skip (or, in CI, fail) before the journey starts, not halfway through
        self.visited: dict[str, str] = {}   # templated path -> first full URL seen
        self.audited: set[str] = set()
        self.version = ""
        for page in pages:
            self.watch(page)

    def watch(self, page) -> None:
        """Record every URL the page's main frame navigates to (links, forms, redirects, pushState)."""
        def navigated(frame):
            if frame == page.main_frame and frame.url.startswith("http"):
                self.visited.setdefault(template_path(frame.url), frame.url)
        page.on("framenavigated", navigated)

    def check(self, page, state: str = "") -> None:
        """Fail with every WCAG 2.1 A/AA violation on the page as it is now."""
        result = run_axe(page)
        self.version = result["version"]
        path = template_path(result["url"])
        self.visited.setdefault(path, result["url"])
        self.audited.add(path)
        where = f"{result['url']}" + (f" ({state})" if state else "")
        assert not result["violations"], f"axe-core {self.version} found WCAG 2.1 A/AA violations on {where}:\n" \
            + describe(result["violations"])

    def assert_every_page_audited(self) -> None:
        missed = {path: url for path, url in self.visited.items() if path not in self.audited}
        assert not missed, "pages visited but never audited with axe-core:\n" + "\n".join(
            f"- {path} (first seen at {url})" for path, url in sorted(missed.items()))
