"""Downloading a series ahead of a shift: the whole-series ZIP (full and light), the sizes
the series page promises, and per-file downloads as attachments."""

from __future__ import annotations

import html
import io
import re
import zipfile

import pytest

from portal.catalog.services import human_size
from portal.packs.registry import files_base
from tests.rollcall.support import COURSE, IN_PERSON, SERIES, series_pack


def basename(name: str) -> str:
    return name.rsplit("/", 1)[-1]


def member_for(names: list[str], file: str) -> str:
    """The one archive member holding a pack file (members may carry a prefix such as 01-)."""
    base = basename(file)
    found = [n for n in names if basename(n) == base or basename(n).endswith("-" + base)]
    assert len(found) == 1, f"{file}: {found or 'missing'} in {names}"
    return found[0]


def open_zip(response) -> zipfile.ZipFile:
    assert response.status_code == 200
    archive = zipfile.ZipFile(io.BytesIO(response.data))
    assert archive.testzip() is None, "a member of the ZIP is corrupt"
    return archive


def expected_members(pack, light: bool) -> dict[str, bytes]:
    """Archive member name -> the pack file's bytes, for what the ZIP must hold."""
    members = {}
    for episode in pack.lessons:
        video = episode.video
        chosen = video.light if light else video.file
        for name in (chosen, video.captions, video.transcript):
            members[name] = (pack.root / name).read_bytes()
    for download in pack.downloads:
        members[download.file] = (pack.root / download.file).read_bytes()
    return members


@pytest.mark.parametrize("light", [False, True], ids=["full", "light"])
def test_the_series_zip_holds_every_episode_and_the_downloads(client, app, light):
    pack = series_pack(app)
    assert len(pack.lessons) == 3 and len(pack.downloads) == 1
    response = client.get(f"/series/{SERIES}/download.zip" + ("?rendition=light" if light else ""))
    archive = open_zip(response)
    assert response.mimetype == "application/zip"
    disposition = response.headers.get("Content-Disposition", "")
    assert disposition.startswith("attachment") and ".zip" in disposition
    assert ("-light" in disposition) == light

    names = archive.namelist()
    assert len(names) == len(set(names)), "a member appears twice"
    expected = expected_members(pack, light)
    members = {file: member_for(names, file) for file in expected}
    assert sorted(members.values()) == sorted(names), "the ZIP holds files it should not"
    for file, member in members.items():
        assert member.startswith(f"{SERIES}/"), member
        assert archive.read(member) == expected[file], f"{member} differs from {file}"


def test_the_light_zip_has_only_the_light_videos_and_the_full_zip_none(client, app):
    pack = series_pack(app)
    full = open_zip(client.get(f"/series/{SERIES}/download.zip")).namelist()
    light = open_zip(client.get(f"/series/{SERIES}/download.zip?rendition=light")).namelist()
    assert sorted(n for n in full if n.endswith(".mp4")) == sorted(member_for(full, e.video.file)
                                                                  for e in pack.lessons)
    assert sorted(n for n in light if n.endswith(".mp4")) == sorted(member_for(light, e.video.light)
                                                                   for e in pack.lessons)
    assert not any(n.endswith("-light.mp4") for n in full)
    assert len(client.get(f"/series/{SERIES}/download.zip?rendition=light").data) < \
        len(client.get(f"/series/{SERIES}/download.zip").data)


def _size_after(page: str, href_pattern: str) -> str:
    match = re.search(href_pattern + r'[^<]*</a>\s*<span class="meta">\(([^)]*)\)</span>', page)
    assert match, f"no size after a link matching {href_pattern}"
    return html.unescape(match.group(1))


def test_the_series_page_shows_the_real_zip_sizes(client, app):
    page = client.get(f"/series/{SERIES}").get_data(as_text=True)
    full = client.get(f"/series/{SERIES}/download.zip").data
    light = client.get(f"/series/{SERIES}/download.zip?rendition=light").data
    assert _size_after(page, rf'href="/series/{SERIES}/download\.zip">') == human_size(len(full))
    assert _size_after(page, rf'href="/series/{SERIES}/download\.zip\?rendition=light">') == human_size(len(light))


def test_the_series_page_shows_each_files_real_size(client, app):
    pack = series_pack(app)
    base = files_base(pack)
    page = client.get(f"/series/{SERIES}").get_data(as_text=True)
    files = [e.video.file for e in pack.lessons] + [e.video.light for e in pack.lessons] + \
            [d.file for d in pack.downloads]
    for name in files:
        served = client.get(f"{base}{name}")
        assert served.status_code == 200
        assert _size_after(page, rf'href="{re.escape(base + name)}\?download=1">') == human_size(len(served.data)), name


def test_the_episode_page_shows_each_files_real_size(client, app):
    pack = series_pack(app)
    base = files_base(pack)
    for episode in pack.lessons:
        page = client.get(f"/series/{SERIES}/{episode.id}").get_data(as_text=True)
        for name in (episode.video.file, episode.video.light):
            size = human_size(len(client.get(f"{base}{name}").data))
            assert re.search(rf'href="{re.escape(base + name)}\?download=1">[^<]*</a> \({re.escape(size)}\)', page), \
                f"{name}: {size} not shown on the episode page"


def test_every_download_link_on_the_series_page_is_an_attachment(client, app):
    pack = series_pack(app)
    page = client.get(f"/series/{SERIES}").get_data(as_text=True)
    links = sorted(set(html.unescape(h) for h in re.findall(r'href="([^"]*\?download=1)"', page)))
    expected = {files_base(pack) + e.video.file for e in pack.lessons} | \
               {files_base(pack) + e.video.light for e in pack.lessons} | \
               {files_base(pack) + d.file for d in pack.downloads}
    assert {link.split("?")[0] for link in links} == expected
    for link in links:
        response = client.get(link)
        assert response.status_code == 200, link
        disposition = response.headers.get("Content-Disposition", "")
        name = link.split("?")[0].rsplit("/", 1)[-1]
        assert disposition.startswith("attachment") and name in disposition, (link, disposition)
        assert response.data == (pack.root / link.split("/files/", 1)[1].split("?")[0]).read_bytes()


def test_without_download_a_file_is_served_inline(client, app):
    pack = series_pack(app)
    response = client.get(files_base(pack) + pack.lessons[0].video.captions)
    assert response.status_code == 200
    assert not response.headers.get("Content-Disposition", "").startswith("attachment")


def test_the_episode_page_offers_the_light_rendition(client, app):
    pack = series_pack(app)
    base = files_base(pack)
    for episode in pack.lessons:
        page = client.get(f"/series/{SERIES}/{episode.id}").get_data(as_text=True)
        assert re.search(rf'<source src="{re.escape(base + episode.video.file)}"', page)
        assert f'href="/series/{SERIES}/{episode.id}?rendition=light"' in page
        light = client.get(f"/series/{SERIES}/{episode.id}?rendition=light").get_data(as_text=True)
        [source] = re.findall(r'<source src="([^"]+)"', light)
        assert source == base + episode.video.light and source.endswith("-light.mp4")
        projector = client.get(f"/series/{SERIES}/{episode.id}/projector?rendition=light").get_data(as_text=True)
        assert re.findall(r'<source src="([^"]+)"', projector) == [base + episode.video.light]


@pytest.mark.parametrize("pack_id", [COURSE, IN_PERSON, "no-such-series"])
def test_only_a_video_series_has_a_zip(client, pack_id):
    assert client.get(f"/series/{pack_id}/download.zip").status_code == 404
    assert client.get(f"/series/{pack_id}/download.zip?rendition=light").status_code == 404
