"""Roll call one click away, and projector mode playing the rendition that suits the screen:
the light one on a small screen or a slow connection, a larger one on a projector, or exactly
the one the trainer picked, kept from episode to episode."""

from __future__ import annotations

import pytest

from tests.packs.packtools import PackDirs, new_starter

MP4 = b"\x00\x00\x00\x18ftypmp42" + b"\x00" * 64
VTT = "WEBVTT\n\n00:00:00.000 --> 00:00:05.000\nWelcome.\n"
SERIES = """format: 1
id: hd-series
version: 1.0.0
title: HD series
provider:
  name: Your Organization
  website: https://www.example.org
  contact: training@example.org
kind: video-series
summary: Two episodes with a 1080p rendition.
description: Two short videos for shift briefings.
estimated_hours: 0.5
language: en
portal_versions: ">=0.1,<1"
episodes:
  - id: ep1
    title: Episode one
    file: lessons/01-welcome.md
    video:
      file: media/ep.mp4
      light: media/ep-light.mp4
      renditions:
        - {file: media/ep-1080.mp4, height: 1080}
      captions: media/ep.vtt
      duration_seconds: 5
    discussion_prompts: [What would you do?]
  - id: ep2
    title: Episode two
    file: lessons/02-key-ideas.md
    video:
      file: media/ep.mp4
      light: media/ep-light.mp4
      captions: media/ep.vtt
    discussion_prompts: [What did you see?]
downloads:
  - id: handout
    title: Handout
    file: downloads/handout.txt
"""
FILES = "/packs/hd-series/1.0.0/files/"


@pytest.fixture
def series_dir(tmp_path):
    folder = new_starter(tmp_path, "hd-series", "HD series")
    folder.write("pack.yaml", SERIES)
    for name in ("media/ep.mp4", "media/ep-light.mp4", "media/ep-1080.mp4"):
        folder.write(name, MP4)
    folder.write("media/ep.vtt", VTT)
    assert folder.problems() == []
    return folder.root


@pytest.fixture
def app_config(app_config, series_dir):
    return {**app_config, "EXTRA_PLUGINS": [PackDirs("hd_series_plugin", series_dir)]}


def test_roll_call_is_in_the_menu_and_lists_the_series(client):
    home = client.get("/").get_data(as_text=True)
    assert '<a href="/rollcall">Roll call</a>' in home
    page = client.get("/rollcall").get_data(as_text=True)
    assert '<a href="/series/hd-series">HD series</a>' in page
    assert '<a href="/series/rollcall-school-safety">' in page or "rollcall-school-safety" not in str(
        client.application.extensions["packs"].packs)
    assert "intro-sro-programs" not in page  # courses are not roll-call series


def test_projector_offers_light_then_the_largest_fitting_then_standard(client):
    html = client.get("/series/hd-series/ep1/projector").get_data(as_text=True)
    light = f'<source src="{FILES}media/ep-light.mp4" type="video/mp4" media="(max-width: 40rem), (prefers-reduced-data: reduce)">'
    hd = f'<source src="{FILES}media/ep-1080.mp4" type="video/mp4" media="(min-width: 1280px)">'
    standard = f'<source src="{FILES}media/ep.mp4" type="video/mp4">'
    assert light in html and hd in html and standard in html
    assert html.index(light) < html.index(hd) < html.index(standard)
    assert "Best for this screen" in html and ">1080p</a>" in html


@pytest.mark.parametrize("choice, file", [("light", "ep-light.mp4"), ("full", "ep.mp4"), ("1080", "ep-1080.mp4")])
def test_the_trainers_pick_is_played_and_kept_for_the_next_episode(client, choice, file):
    html = client.get(f"/series/hd-series/ep1/projector?rendition={choice}").get_data(as_text=True)
    assert html.count("<source ") == 1 and f'<source src="{FILES}media/{file}" type="video/mp4">' in html
    assert f'href="/series/hd-series/ep2/projector?rendition={choice}" rel="next"' in html
    assert f'data-next="/series/hd-series/ep2/projector?rendition={choice}"' in html


def test_an_unknown_pick_falls_back_to_the_best_for_the_screen(client):
    html = client.get("/series/hd-series/ep2/projector?rendition=4320").get_data(as_text=True)
    assert html.count("<source ") == 2  # light for small screens, else standard


def test_series_page_offers_the_projector_with_the_smaller_video(client):
    html = client.get("/series/hd-series").get_data(as_text=True)
    assert 'href="/series/hd-series/ep1/projector?rendition=light">projector with the smaller video</a>' in html
