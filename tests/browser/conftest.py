"""Browser fixtures: the real app served on loopback, driven by Debian's Chromium.

Outside CI a machine without Chromium skips these tests with a clear message;
in CI (CI=true) a missing browser is an error, never a skip.
"""

from __future__ import annotations

import os
import shutil
import threading
from pathlib import Path

import pytest
from werkzeug.serving import make_server

from tests.conftest import IN_CI, _truncate_all

CHROMIUM = os.environ.get("PORTAL_CHROMIUM", "/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parent.parent / ".artifacts"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]


def _have_browser() -> str | None:
    if not Path(CHROMIUM).exists():
        return f"Chromium not found at {CHROMIUM} (apt-get install chromium)"
    try:
        import playwright  # noqa: F401
    except ImportError:
        return "the playwright package is not installed"
    return None


@pytest.fixture(scope="session")
def browser():
    problem = _have_browser()
    if problem:
        if IN_CI:
            pytest.fail(f"browser tests cannot run in CI: {problem}")
        pytest.skip(f"browser tests skipped: {problem}")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield browser
        browser.close()


class LiveServer:
    def __init__(self, app):
        self.app = app
        self.server = make_server("127.0.0.1", 0, app, threaded=True)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def start(self):
        self.thread.start()

    def stop(self):
        self.server.shutdown()
        self.thread.join(timeout=5)


@pytest.fixture
def live_server(app_config):
    """The portal on a free loopback port, its base URL pointing at itself."""
    from portal import create_app

    server = None
    # The base URL must be known before the app is built: bind first, then build.
    probe = make_server("127.0.0.1", 0, lambda e, s: [])
    port = probe.server_port
    probe.server_close()
    app = create_app({**app_config, "PORTAL_BASE_URL": f"http://127.0.0.1:{port}",
                      "SESSION_COOKIE_SECURE": False, "REMEMBER_COOKIE_SECURE": False})
    server = LiveServer.__new__(LiveServer)
    server.app = app
    server.server = make_server("127.0.0.1", port, app, threaded=True)
    server.url = f"http://127.0.0.1:{port}"
    server.thread = threading.Thread(target=server.server.serve_forever, daemon=True)
    server.start()
    yield server
    server.stop()
    database = app.extensions["portal"].database
    if database.engine.dialect.name == "postgresql":
        _truncate_all(database)
    database.dispose()


@pytest.fixture
def page(browser, request):
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    yield page
    context.close()


@pytest.fixture
def shots(request):
    """Save screenshots under tests/.artifacts/<test name>/ for a person to look at."""
    folder = ARTIFACTS / request.node.name.replace("[", "-").replace("]", "")
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True, exist_ok=True)

    def take(page, name: str):
        page.screenshot(path=str(folder / f"{name}.png"), full_page=True)
    take.folder = folder
    return take
