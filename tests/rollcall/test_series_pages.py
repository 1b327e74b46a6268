"""The series page, the plain episode page and projector mode: everything a roll-call
trainer needs is in the HTML itself (no JavaScript needed), and only video series have
these pages."""

from __future__ import annotations

import re

import pytest
from markupsafe import escape

from portal.packs.registry import files_base
from tests.rollcall.support import COURSE, IN_PERSON, SERIES, has_text, series_pack


def mmss(seconds: int) -> str:
    return f"{seconds // 60}:{seconds % 60:02d}"


def tag(page: str, name: str) -> str:
    """The first opening tag `<name ...>` in the page."""
    match = re.search(rf"<{name}\b[^>]*>", page)
    assert match, f"no <{name}> in the page"
    return match.group(0)


def attribute(opening_tag: str, name: str) -> str | None:
    match = re.search(rf'\s{name}="([^"]*)"', opening_tag)
    return match.group(1) if match else None


def has_attribute(opening_tag: str, name: str) -> bool:
    return re.search(rf"\s{name}(\s|=|>|/)", opening_tag) is not None


def article_for(page: str, title: str) -> str:
    articles = re.findall(r'<article class="card episode">.*?</article>', page, re.S)
    found = [a for a in articles if has_text(a, title)]
    assert len(found) == 1, f"{title!r}: {len(found)} episode cards"
    return found[0]


# -- the series page ----------------------------------------------------------------------

def test_the_series_page_lists_every_episode_in_order(client, app):
    pack = series_pack(app)
    page = client.get(f"/series/{SERIES}").get_data(as_text=True)
    assert has_text(page, pack.title)
    positions = [page.find(f'href="/series/{SERIES}/{e.id}"') for e in pack.lessons]
    assert all(p > 0 for p in positions) and positions == sorted(positions)


def test_each_episode_card_has_run_time_summary_prompts_captions_and_transcript(client, app):
    pack = series_pack(app)
    base = files_base(pack)
    page = client.get(f"/series/{SERIES}").get_data(as_text=True)
    seen_times = []
    for episode in pack.lessons:
        card = article_for(page, episode.title)
        video = episode.video
        run_time = mmss(video.duration_seconds)
        seen_times.append(run_time)
        assert re.search(rf"Run time {re.escape(run_time)}\b", card), f"{episode.id}: no run time {run_time}"
        assert episode.summary and has_text(card, episode.summary)
        assert len(episode.discussion_prompts) == 3
        for prompt in episode.discussion_prompts:
            assert has_text(card, prompt), f"{episode.id}: prompt missing: {prompt}"
        assert "captions" in card.lower()
        assert f'href="{base}{video.transcript}"' in card
        assert f'href="/series/{SERIES}/{episode.id}/projector"' in card
    assert seen_times == ["0:59", "1:15", "1:01"]


def test_the_series_page_links_captions_and_transcripts_that_are_served(client, app):
    pack = series_pack(app)
    base = files_base(pack)
    for episode in pack.lessons:
        for name in (episode.video.captions, episode.video.transcript):
            response = client.get(base + name)
            assert response.status_code == 200 and response.data == (pack.root / name).read_bytes()
    assert client.get(base + pack.lessons[0].video.captions).mimetype == "text/vtt"


# -- projector mode -----------------------------------------------------------------------

def projector(client, episode_id: str, query: str = "") -> str:
    response = client.get(f"/series/{SERIES}/{episode_id}/projector{query}")
    assert response.status_code == 200
    return response.get_data(as_text=True)


def test_projector_mode_has_no_site_header_or_footer(client, app):
    for episode in series_pack(app).lessons:
        page = projector(client, episode.id)
        assert "<header" not in page and "<footer" not in page
        assert 'class="site"' not in page and "Skip to main content" not in page


def test_the_projector_video_waits_for_the_trainer(client, app):
    pack = series_pack(app)
    for episode in pack.lessons:
        page = projector(client, episode.id)
        video = tag(page, "video")
        assert attribute(video, "preload") == "none"
        assert not has_attribute(video, "autoplay") and "autoplay" not in page.lower()
        assert has_attribute(video, "controls")


def test_the_projector_video_has_captions_on_by_default(client, app):
    pack = series_pack(app)
    for episode in pack.lessons:
        track = tag(projector(client, episode.id), "track")
        assert attribute(track, "kind") == "captions"
        assert attribute(track, "src") == files_base(pack) + episode.video.captions
        assert has_attribute(track, "default")
        assert attribute(track, "srclang") == pack.language


@pytest.mark.parametrize("index", [0, 1, 2])
def test_projector_neighbours_point_at_the_next_and_previous_projectors(client, app, index):
    pack = series_pack(app)
    episodes = pack.lessons
    body = tag(projector(client, episodes[index].id), "body")
    previous = f"/series/{SERIES}/{episodes[index - 1].id}/projector" if index > 0 else ""
    following = f"/series/{SERIES}/{episodes[index + 1].id}/projector" if index + 1 < len(episodes) else ""
    assert attribute(body, "data-prev") == previous
    assert attribute(body, "data-next") == following


def test_projector_prompts_are_in_the_html_and_visible_without_javascript(client, app):
    for episode in series_pack(app).lessons:
        page = projector(client, episode.id)
        section = re.search(r'<section id="prompts".*?</section>', page, re.S)
        assert section, "no prompts section"
        opening = tag(section.group(0), "section")
        assert not has_attribute(opening, "hidden") and "display:none" not in opening.replace(" ", "")
        for prompt in episode.discussion_prompts:
            assert f"<li>{escape(prompt)}</li>" in section.group(0)


def test_projector_links_to_leave_and_to_log_the_showing(client, app):
    for episode in series_pack(app).lessons:
        page = projector(client, episode.id)
        assert re.search(rf'<a href="/series/{SERIES}">[^<]*[Ll]eave', page)
        assert re.search(rf'<a href="/series/{SERIES}/{episode.id}/log">[^<]*[Ll]og', page)


# -- the plain episode page ---------------------------------------------------------------

def test_the_episode_page_works_without_javascript(client, app):
    pack = series_pack(app)
    base = files_base(pack)
    episodes = pack.lessons
    for index, episode in enumerate(episodes):
        response = client.get(f"/series/{SERIES}/{episode.id}")
        assert response.status_code == 200
        page = response.get_data(as_text=True)
        video = tag(page, "video")
        assert has_attribute(video, "controls") and attribute(video, "preload") == "none"
        assert not has_attribute(video, "autoplay")
        assert attribute(video, "poster") == base + episode.video.poster
        assert f'<source src="{base}{episode.video.file}" type="video/mp4">' in page
        track = tag(page, "track")
        assert attribute(track, "src") == base + episode.video.captions and has_attribute(track, "default")
        assert f'href="{base}{episode.video.transcript}"' in page
        assert f"Run time {mmss(episode.video.duration_seconds)}" in page
        for prompt in episode.discussion_prompts:
            assert f"<li>{escape(prompt)}</li>" in page
        first_heading = episode.body.splitlines()[0].lstrip("# ").strip()
        assert has_text(page, first_heading), "the episode notes are not on the page"
        assert f'href="/series/{SERIES}/{episode.id}/projector"' in page
        assert f'href="/series/{SERIES}/{episode.id}/log"' in page
        if index > 0:
            assert f'href="/series/{SERIES}/{episodes[index - 1].id}" rel="prev"' in page
        if index + 1 < len(episodes):
            assert f'href="/series/{SERIES}/{episodes[index + 1].id}" rel="next"' in page


# -- not a series, not an episode ---------------------------------------------------------

@pytest.mark.parametrize("path", [
    "/series/no-such-series", "/series/no-such-series/ep1-building-rapport",
    "/series/no-such-series/ep1-building-rapport/projector",
    f"/series/{SERIES}/no-such-episode", f"/series/{SERIES}/no-such-episode/projector",
    f"/series/{SERIES}/EP1-BUILDING-RAPPORT",
])
def test_unknown_series_and_episodes_are_not_found(client, path):
    assert client.get(path).status_code == 404


@pytest.mark.parametrize("pack_id", [COURSE, IN_PERSON])
def test_a_course_or_in_person_pack_has_no_series_pages(client, app, pack_id):
    pack = app.extensions["packs"].get(pack_id)
    assert pack is not None and pack.kind != "video-series"
    lesson = pack.lessons[0].id if pack.lessons else "welcome"
    for path in (f"/series/{pack_id}", f"/series/{pack_id}/{lesson}", f"/series/{pack_id}/{lesson}/projector",
                 f"/series/{pack_id}/{lesson}?rendition=light"):
        assert client.get(path).status_code == 404, path
