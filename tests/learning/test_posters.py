"""Lighter posters (issue 15): the lesson-1 poster comes in AVIF and WebP beside the JPEG. A video's
poster is an attribute, not a <picture>, so the page names the first modern format the browser says
it reads (its Accept header) and the JPEG to any other browser; the pack validator checks each
poster by its bytes."""

from __future__ import annotations

import re
from pathlib import Path

from tests.helpers import log_in, make_user, utc
from tests.learning.journey import COURSE, enroll, pack, take_test_scoring

CHROME_ACCEPT = "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,image/apng,*/*;q=0.8"
OLD_SAFARI_ACCEPT = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"


def poster_of(client, url, accept):
    html = client.get(url, headers={"Accept": accept}).get_data(as_text=True)
    match = re.search(r'<video[^>]* poster="([^"]+)"', html)
    assert match, "the lesson shows no poster"
    return match.group(1)


def test_the_lesson_poster_is_avif_where_the_browser_reads_it_and_jpeg_elsewhere(app, clock):
    clock.set(utc(2026, 6, 15, 13, 0))
    make_user(app)
    client = app.test_client()
    log_in(client)
    enroll(client)
    take_test_scoring(client, app, "pre", 5)
    course = pack(app)
    url = f"/learn/{COURSE}/lessons/{course.lessons[0].id}"
    modern, fallback = poster_of(client, url, CHROME_ACCEPT), poster_of(client, url, OLD_SAFARI_ACCEPT)
    assert modern.endswith(".avif") and fallback.endswith(".jpg")
    assert poster_of(client, url, "text/html,image/webp,*/*").endswith(".webp")
    sizes = {}
    for poster in (modern, fallback):
        response = client.get(poster)
        assert response.status_code == 200 and response.mimetype == ("image/avif" if poster.endswith(".avif") else "image/jpeg")
        sizes[Path(poster).suffix] = len(response.get_data())
    assert sizes[".avif"] < sizes[".jpg"] / 2


def test_a_poster_source_that_is_not_an_image_is_refused(tmp_path):
    import shutil

    from portal.packs.loader import validate_pack
    from tests.packs.packtools import ANY, PORTAL_VERSION, expect_problem

    source = Path(__file__).resolve().parents[2] / "content_packs/intro-sro-programs/portal_pack_intro_sro/pack"
    root = shutil.copytree(source, tmp_path / "pack")
    (root / "media/01-sro-role.avif").write_text("not an image")
    expect_problem(validate_pack(root, PORTAL_VERSION), "pack.yaml", ANY, "01-sro-role.avif", "image")
