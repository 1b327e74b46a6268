"""Byte and request budgets of the key pages, measured in Chromium from the DevTools
protocol's Network events (bytes on the wire: headers and compressed body), exactly as
bench/slow_network.py measures them. Times are the bench's business, never asserted here.

Budgets: each page's HTML fits the first round trip (14,600 bytes); a cold first load is
HTML, CSS and JS only, at most 40 KB in at most 4 requests; a warm navigation is one
request; an htmx catalog update is at most 2 KB.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from bench import _live
from bench.slow_network import (FIRST_LOAD_BUDGET, FIRST_LOAD_REQUESTS, HTML_BUDGET, HTMX_BUDGET, cold_and_warm,
                                htmx_catalog_update, sign_in)
from portal.common.clock import FrozenClock

pytestmark = pytest.mark.browser
FIRST_LOAD_KINDS = {"Document", "Stylesheet", "Script"}


@pytest.fixture
def app_config(app_config):
    """The app on a clock the seed can move: it earns a certificate in last year's session."""
    return {**app_config, "CLOCK": FrozenClock(datetime.now(UTC).replace(microsecond=0))}


def test_every_key_page_meets_its_byte_and_request_budgets(live_server, browser):
    base = live_server.url
    seeded = _live.seed(live_server.app)
    states = {who: sign_in(browser, base, who) for who in (_live.CASEY, _live.ROBIN)}
    misses, measured = [], []
    for name, path, who in _live.key_pages(seeded):
        cold, warm = cold_and_warm(browser, base, path, states.get(who), preset=None)
        requests = cold.network
        # The measurement itself must have seen the page and its assets, or nothing is proven.
        assert requests and requests[0].kind == "Document" and requests[0].url == base + path, (name, cold.describe())
        assert {r.kind for r in requests} >= {"Document", "Stylesheet", "Script"}, (name, cold.describe())
        assert all(r.status == 200 for r in requests), (name, cold.describe())
        html = requests[0]
        measured.append(name)
        if html.encoding not in ("br", "gzip"):
            misses.append(f"{name}: HTML sent uncompressed ({html.encoding or 'identity'})")
        if html.bytes > HTML_BUDGET:
            misses.append(f"{name}: HTML is {html.bytes:,} B on the wire, budget {HTML_BUDGET:,}")
        if any(r.kind not in FIRST_LOAD_KINDS for r in requests):
            misses.append(f"{name}: a cold load fetches more than HTML, CSS and JS:\n{cold.describe()}")
        if cold.bytes > FIRST_LOAD_BUDGET or len(requests) > FIRST_LOAD_REQUESTS:
            misses.append(f"{name}: cold first load {cold.bytes:,} B in {len(requests)} requests, budget "
                          f"{FIRST_LOAD_BUDGET:,} B in {FIRST_LOAD_REQUESTS}:\n{cold.describe()}")
        if len(warm.network) != 1 or warm.network[0].kind != "Document":
            misses.append(f"{name}: a warm navigation made {len(warm.network)} requests, not 1:\n{warm.describe()}")
    assert measured == [name for name, _, _ in _live.key_pages(seeded)]
    assert not misses, "\n".join(misses)


def test_an_htmx_catalog_update_is_one_small_request(live_server, browser):
    update = htmx_catalog_update(browser, live_server.url, preset=None)
    assert len(update.network) == 1, update.describe()
    [request] = update.network
    assert request.kind in ("XHR", "Fetch") and "kind=course" in request.url, update.describe()
    assert request.status == 200, update.describe()
    assert 0 < request.bytes <= HTMX_BUDGET, f"htmx update {request.bytes:,} B, budget {HTMX_BUDGET:,}:\n" \
                                             f"{update.describe()}"
