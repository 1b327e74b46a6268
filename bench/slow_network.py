"""The key pages in Chromium on an emulated slow network: bytes on the wire, requests,
first contentful paint and load time, cold (empty cache) and warm (the same page again).

    .venv/bin/python bench/slow_network.py [DATABASE_URL]

Serves the real app (SQLite in a temporary folder, or an empty database at the URL given,
migrated first) with seeded learners (see _live.py) and drives Debian's Chromium through Playwright. The
network is shaped with the DevTools protocol at Chrome's "Slow 3G" and "Slow 4G" presets.

Goals: every page's HTML at most 14,600 bytes on the wire (it fits the first round trip,
ten TCP segments); a cold first load of HTML, CSS and JS at most 40 KB in at most 4
requests; a warm navigation is one request; an htmx update at most 2 KB. The test suite
enforces the bytes and requests (tests/browser/test_network_budgets.py); times are only printed.
"""

from __future__ import annotations

import os
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import _live  # noqa: E402

CHROMIUM = os.environ.get("PORTAL_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]

# Chrome DevTools' presets, in bytes per second and milliseconds of round-trip latency.
PRESETS = {
    "Slow 3G": {"downloadThroughput": 50_000, "uploadThroughput": 50_000, "latency": 2000},
    "Slow 4G": {"downloadThroughput": 180_000, "uploadThroughput": 84_375, "latency": 562.5},
}
HTML_BUDGET = 14_600  # ten TCP segments of 1,460 bytes: the first round trip
FIRST_LOAD_BUDGET = 40 * 1024
FIRST_LOAD_REQUESTS = 4
HTMX_BUDGET = 2 * 1024
COLD_FCP_GOAL_MS = 2_100  # Slow 3G's 2,000 ms round trip plus the page: printed, never asserted


@dataclass
class Request:
    url: str
    kind: str  # the DevTools resource type: Document, Stylesheet, Script, XHR, …
    status: int = 0
    encoding: str = ""
    bytes: int = 0  # encodedDataLength: headers and (compressed) body as received
    finished: bool = False
    cached: bool = False  # answered from the browser's cache, not the network


@dataclass
class Load:
    """What one navigation (or htmx update) cost."""

    requests: list[Request] = field(default_factory=list)
    fcp_ms: float | None = None
    load_ms: float | None = None

    @property
    def network(self) -> list[Request]:
        return [r for r in self.requests if not r.cached]

    @property
    def bytes(self) -> int:
        return sum(r.bytes for r in self.network)

    def describe(self) -> str:
        return "\n".join(f"  {r.kind:10} {r.status} {r.encoding or '-':8} {r.bytes:7,} B  {r.url}"
                         for r in self.network) or "  (no requests)"


class Recorder:
    """Every request of a page, from the DevTools protocol's Network events."""

    def __init__(self, page, preset: str | None):
        self.cdp = page.context.new_cdp_session(page)
        self.cdp.send("Network.enable")
        if preset:
            self.cdp.send("Network.emulateNetworkConditions", {"offline": False, **PRESETS[preset]})
        self.by_id: dict[str, Request] = {}
        self.order: list[str] = []
        self.cdp.on("Network.requestWillBeSent", self._sent)
        self.cdp.on("Network.requestServedFromCache", self._from_cache)
        self.cdp.on("Network.responseReceived", self._response)
        self.cdp.on("Network.loadingFinished", self._finished)
        self.cdp.on("Network.loadingFailed", self._finished)

    def _sent(self, event):
        if event["request"]["url"].startswith("data:"):
            return
        if event["requestId"] not in self.by_id:
            self.order.append(event["requestId"])
        # A redirect reuses the request id: the new URL replaces the old one.
        self.by_id[event["requestId"]] = Request(event["request"]["url"], event.get("type", ""))

    def _from_cache(self, event):
        if event["requestId"] in self.by_id:
            self.by_id[event["requestId"]].cached = True

    def _response(self, event):
        request = self.by_id.get(event["requestId"])
        if request:
            response = event["response"]
            request.status = response["status"]
            headers = {k.lower(): v for k, v in response.get("headers", {}).items()}
            request.encoding = headers.get("content-encoding", "")
            if response.get("fromDiskCache") or response.get("fromPrefetchCache"):
                request.cached = True

    def _finished(self, event):
        request = self.by_id.get(event["requestId"])
        if request:
            request.bytes = int(event.get("encodedDataLength", 0))
            request.finished = True

    def start(self) -> list[str]:
        self.by_id.clear()
        self.order.clear()
        return self.order

    def collect(self, page, deadline_s: float = 30.0) -> Load:
        """The requests since start(), once each has finished (polling, with a deadline)."""
        give_up = time.monotonic() + deadline_s
        while not all(r.finished for r in self.by_id.values()):
            if time.monotonic() > give_up:
                unfinished = [r.url for r in self.by_id.values() if not r.finished]
                raise TimeoutError(f"requests never finished: {unfinished}")
            page.wait_for_timeout(20)  # lets Playwright deliver the pending CDP events
        return Load([self.by_id[i] for i in self.order])


def timings(page) -> tuple[float | None, float | None]:
    fcp, load = page.evaluate("""() => {
        const paint = performance.getEntriesByName('first-contentful-paint')[0];
        const nav = performance.getEntriesByType('navigation')[0];
        return [paint ? paint.startTime : null, nav && nav.loadEventEnd ? nav.loadEventEnd : null];
    }""")
    return fcp, load


def sign_in(browser, url: str, email: str) -> dict:
    """Sign in through the real login form in a throwaway context; returns its cookies, so a
    fresh context (empty cache) can start signed in."""
    context = browser.new_context()
    page = context.new_page()
    page.goto(url + "/account/login")
    page.get_by_label("Email address").fill(email)
    page.get_by_label("Password").fill(_live.PASSWORD)
    with page.expect_navigation():
        page.get_by_role("button", name="Log in").click()
    assert "/account/login" not in page.url, f"{email} could not sign in"
    state = context.storage_state()
    context.close()
    # A cold visit has an empty cache: drop the cookie that says the browser holds the stylesheet
    # (portal/common/first_paint.py), or the page would link a file the cache does not have.
    state["cookies"] = [c for c in state["cookies"] if c["name"] != "portal_css"]
    return state


def navigate(page, recorder: Recorder, url: str) -> Load:
    recorder.start()
    response = page.goto(url, wait_until="load")
    assert response is not None and response.status == 200, (url, response and response.status)
    # FCP needs a frame to be painted; wait for it (with a deadline) rather than sleeping.
    page.wait_for_function("() => performance.getEntriesByName('first-contentful-paint').length > 0",
                           timeout=30_000)
    load = recorder.collect(page)
    load.fcp_ms, load.load_ms = timings(page)
    return load


def cold_and_warm(browser, base: str, path: str, state: dict | None, preset: str | None) -> tuple[Load, Load]:
    """A fresh context (empty cache) loads the page, then navigates to it again."""
    context = browser.new_context(storage_state=state, viewport={"width": 1280, "height": 900})
    try:
        page = context.new_page()
        recorder = Recorder(page, preset)
        cold = navigate(page, recorder, base + path)
        warm = navigate(page, recorder, base + path)
        return cold, warm
    finally:
        context.close()


def htmx_catalog_update(browser, base: str, preset: str | None) -> Load:
    """Filter the catalog by kind: htmx fetches only the results fragment."""
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    try:
        page = context.new_page()
        recorder = Recorder(page, preset)
        navigate(page, recorder, base + "/catalog")
        page.wait_for_function("() => window.htmx !== undefined")
        recorder.start()
        with page.expect_response(lambda r: "kind=course" in r.url and r.request.headers.get("hx-request") == "true"):
            page.get_by_label("Kind").select_option("course")
        page.wait_for_url("**kind=course**")
        return recorder.collect(page)
    finally:
        context.close()


def launch(playwright):
    return playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)


def ms(value: float | None) -> str:
    return f"{value:,.0f}" if value is not None else "-"


def main(database_url: str | None = None) -> None:
    from playwright.sync_api import sync_playwright

    with _live.live_portal(database_url) as (_, base, seeded), sync_playwright() as playwright:
        browser = launch(playwright)
        states = {who: sign_in(browser, base, who) for who in (_live.CASEY, _live.ROBIN)}
        print(f"{'page':16} {'network':8} {'visit':5} {'requests':>8} {'bytes':>8} {'HTML B':>7} "
              f"{'FCP ms':>7} {'load ms':>8}")
        problems, cold_fcp = [], {}
        for preset in PRESETS:
            for name, path, who in _live.key_pages(seeded):
                cold, warm = cold_and_warm(browser, base, path, states.get(who), preset)
                for visit, load in (("cold", cold), ("warm", warm)):
                    html = load.network[0].bytes if load.network else 0
                    print(f"{name:16} {preset:8} {visit:5} {len(load.network):8} {load.bytes:8,} {html:7,} "
                          f"{ms(load.fcp_ms):>7} {ms(load.load_ms):>8}")
                if preset == "Slow 3G" and cold.fcp_ms is not None:
                    cold_fcp[name] = cold.fcp_ms
                if cold.network[0].bytes > HTML_BUDGET:
                    problems.append(f"{name}: HTML {cold.network[0].bytes:,} B > {HTML_BUDGET:,}")
                if cold.bytes > FIRST_LOAD_BUDGET or len(cold.network) > FIRST_LOAD_REQUESTS:
                    problems.append(f"{name}: first load {cold.bytes:,} B in {len(cold.network)} requests\n"
                                    + cold.describe())
                if len(warm.network) != 1:
                    problems.append(f"{name}: warm navigation made {len(warm.network)} requests\n" + warm.describe())
            update = htmx_catalog_update(browser, base, preset)
            print(f"{'catalog (htmx)':16} {preset:8} {'':5} {len(update.network):8} {update.bytes:8,} "
                  f"{'':7} {'':>7} {'':>8}")
            if len(update.network) != 1 or update.bytes > HTMX_BUDGET:
                problems.append(f"htmx update {update.bytes:,} B\n" + update.describe())
        browser.close()
        print("\nbudgets: " + ("all met" if not problems else "MISSED\n" + "\n".join(sorted(set(problems)))))
        if cold_fcp:
            worst = max(cold_fcp, key=cold_fcp.get)
            print(f"Slow 3G cold first contentful paint: {min(cold_fcp.values()):,.0f}-{cold_fcp[worst]:,.0f} ms "
                  f"(goal {COLD_FCP_GOAL_MS:,} ms, one round trip: "
                  f"{'met' if cold_fcp[worst] <= COLD_FCP_GOAL_MS else 'missed on ' + worst})")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else None)
