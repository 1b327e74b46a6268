"""In Debian's Chromium, projector mode plays the rendition that suits the screen
(the cases without a browser are in tests/rollcall/test_projector_renditions.py)."""

from __future__ import annotations

import pytest

from tests.packs.packtools import PackDirs
from tests.rollcall.test_projector_renditions import FILES, series_dir  # noqa: F401 - fixture

pytestmark = pytest.mark.browser


@pytest.fixture
def app_config(app_config, series_dir):  # noqa: F811
    return {**app_config, "EXTRA_PLUGINS": [PackDirs("hd_series_plugin", series_dir)]}


@pytest.mark.parametrize("viewport, file", [({"width": 1920, "height": 1080}, "ep-1080.mp4"),
                                            ({"width": 1280, "height": 720}, "ep-1080.mp4"),
                                            ({"width": 1024, "height": 768}, "ep.mp4"),
                                            ({"width": 390, "height": 844}, "ep-light.mp4")])
def test_chromium_plays_the_rendition_for_its_screen(live_server, browser, viewport, file):
    context = browser.new_context(viewport=viewport)
    page = context.new_page()
    page.goto(live_server.url + "/series/hd-series/ep1/projector")
    source = page.evaluate("document.querySelector('#episode-video').currentSrc")
    context.close()
    assert source.endswith(FILES + "media/" + file), source
