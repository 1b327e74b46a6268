"""Performance budgets: the browser fixtures of tests/browser, shared here."""

from __future__ import annotations

from tests.browser.conftest import browser, live_server  # noqa: F401  (fixtures shared with tests/browser)
