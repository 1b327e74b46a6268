"""The contract every content pack meets: run over every installed pack, and every
pack bundled under content_packs/ (installed or not)."""

from __future__ import annotations

import re
import struct
from functools import lru_cache
from html.parser import HTMLParser
from importlib.metadata import entry_points
from pathlib import Path

import pytest

import portal
from portal.packs.loader import load_pack, validate_pack
from portal.packs.registry import files_base, load_registry, render_description, render_lesson
from portal.plugins import CONTENT_PACKS_GROUP
from portal.plugins.manager import get_plugin_manager
from tests.packs.packtools import CONTENT_PACKS, PORTAL_VERSION, bundled_distributions, html_problems, installed_pack_dirs

MAX_BUNDLED_VIDEO_BYTES = 1024 * 1024


def _collect():
    """(label, folder) for every installed pack and every bundled pack folder, once each."""
    items, seen, error = [], set(), None
    try:
        for source, path in installed_pack_dirs():
            seen.add(Path(path).resolve())
            items.append((source, Path(path)))
    except Exception as exc:  # reported by test_installed_packs_register_cleanly
        error = exc
    for dist, path in bundled_distributions():
        if path is not None and path.resolve() not in seen:
            seen.add(path.resolve())
            items.append((f"bundled:{dist.name}", path))
    return items, error


PACKS, COLLECT_ERROR = _collect()
PARAMS = [pytest.param(path, id=label) for label, path in PACKS]


@lru_cache(maxsize=None)
def _load(path: Path):
    return load_pack(path, PORTAL_VERSION)


def _is_bundled(path: Path) -> bool:
    return Path(path).resolve().is_relative_to(CONTENT_PACKS.resolve())


# -- the whole set --------------------------------------------------------------------

def test_installed_packs_register_cleanly():
    assert COLLECT_ERROR is None, f"the installed packs could not be collected: {COLLECT_ERROR}"
    pm, report = get_plugin_manager()
    registry = load_registry(pm, portal.__version__)
    assert registry.disabled == []
    sources = {p.name for p in report.loaded if p.group == CONTENT_PACKS_GROUP}
    assert {s.split(":", 1)[1] for s in registry.sources.values()} <= sources


def test_there_are_packs_to_check():
    assert PACKS, "no installed or bundled content pack was found"


def test_pack_ids_are_unique():
    ids: dict[str, list[str]] = {}
    for label, path in PACKS:
        ids.setdefault(_load(path).id, []).append(f"{label} ({path})")
    duplicates = {k: v for k, v in ids.items() if len(v) > 1}
    assert not duplicates, f"pack ids used more than once: {duplicates}"


def test_bundled_distributions_are_installed():
    """Each bundled distribution with a pack registers it in the versioned group, pointing at this checkout."""
    registered = {}
    for ep in entry_points(group=CONTENT_PACKS_GROUP):
        registered[ep.name] = ep
    installed = {Path(path).resolve() for _, path in installed_pack_dirs()}
    missing = [str(path) for dist, path in bundled_distributions() if path is not None and path.resolve() not in installed]
    assert not missing, (f"bundled packs not installed (pip install -e content_packs/<name>): {missing}; "
                         f"installed entry points: {sorted(registered)}")


# -- each pack ------------------------------------------------------------------------

@pytest.mark.parametrize("path", PARAMS)
def test_pack_loads_without_problems(path):
    problems = validate_pack(path, PORTAL_VERSION)
    assert problems == [], "\n".join(str(p) for p in problems)
    pack = _load(path)
    assert pack.root == Path(path)


@pytest.mark.parametrize("path", PARAMS)
def test_pass_mark_at_least_80(path):
    pack = _load(path)
    assert 80 <= pack.pass_mark <= 100


@pytest.mark.parametrize("path", PARAMS)
def test_every_public_file_exists(path):
    pack = _load(path)
    for name in pack.public_files():
        full = pack.root / name
        assert full.is_file(), f"{pack.id}: {name} is declared but missing"
        assert full.resolve().is_relative_to(pack.root.resolve()), f"{pack.id}: {name} is outside the pack"


@pytest.mark.parametrize("path", PARAMS)
def test_download_sizes_match_their_files(path):
    pack = _load(path)
    for download in pack.downloads:
        assert download.size == (pack.root / download.file).stat().st_size, download
        assert download.size > 0, f"{pack.id}: download {download.file} is empty"


_CUE = re.compile(r"^\s*((?:\d+:)?\d{2}:\d{2}\.\d{3})\s+-->\s+((?:\d+:)?\d{2}:\d{2}\.\d{3})(?:\s.*)?$")


def _seconds(stamp: str) -> float:
    parts = [float(p) for p in stamp.split(":")]
    while len(parts) < 3:
        parts.insert(0, 0.0)
    hours, minutes, seconds = parts
    assert minutes < 60 and seconds < 60, stamp
    return hours * 3600 + minutes * 60 + seconds


def vtt_cues(text: str) -> list[tuple[float, float]]:
    text = text.lstrip("\ufeff")
    assert text.startswith("WEBVTT"), "not a WebVTT file"
    cues = []
    for line in text.splitlines():
        if "-->" in line:
            match = _CUE.match(line)
            assert match, f"bad cue timing line: {line!r}"
            cues.append((_seconds(match.group(1)), _seconds(match.group(2))))
    return cues


def mp4_duration(path: Path) -> float | None:
    """The movie duration from an MP4's moov/mvhd box, in seconds."""
    data = path.read_bytes()

    def boxes(start, end):
        i = start
        while i + 8 <= end:
            size, kind = struct.unpack(">I4s", data[i:i + 8])
            header = 8
            if size == 1:
                size, header = struct.unpack(">Q", data[i + 8:i + 16])[0], 16
            elif size == 0:
                size = end - i
            if size < header:
                return
            yield kind, i + header, i + size
            i += size

    for kind, start, end in boxes(0, len(data)):
        if kind == b"moov":
            for inner, s, _ in boxes(start, end):
                if inner == b"mvhd":
                    if data[s] == 1:
                        timescale, duration = struct.unpack(">IQ", data[s + 20:s + 32])
                    else:
                        timescale, duration = struct.unpack(">II", data[s + 12:s + 20])
                    return duration / timescale if timescale else None
    return None


def _videos(pack):
    return [(lesson, lesson.video) for lesson in pack.lessons if lesson.video]


@pytest.mark.parametrize("path", PARAMS)
def test_video_captions_are_webvtt_within_the_duration(path):
    pack = _load(path)
    for lesson, video in _videos(pack):
        if not video.file:
            continue
        assert video.captions, f"{pack.id}/{lesson.id}: video file without captions"
        assert video.captions.endswith(".vtt")
        assert video.duration_seconds, f"{pack.id}/{lesson.id}: a video file needs duration_seconds"
        cues = vtt_cues((pack.root / video.captions).read_text(encoding="utf-8"))
        assert cues, f"{pack.id}/{lesson.id}: {video.captions} has no cues"
        previous = 0.0
        for start, end in cues:
            assert 0 <= start < end, f"{pack.id}/{video.captions}: cue {start}-{end}"
            assert end <= video.duration_seconds + 1, (
                f"{pack.id}/{video.captions}: cue ends at {end:.3f}s, after the video's "
                f"{video.duration_seconds}s (+1 s)")
            assert start >= previous - 0.001, f"{pack.id}/{video.captions}: cues out of order at {start}"
            previous = start


@pytest.mark.parametrize("path", PARAMS)
def test_video_duration_matches_the_mp4(path):
    pack = _load(path)
    for lesson, video in _videos(pack):
        for name in (video.file, video.light):
            if not name or not name.endswith(".mp4"):
                continue
            actual = mp4_duration(pack.root / name)
            assert actual is not None, f"{pack.id}: {name} has no moov/mvhd box"
            assert abs(actual - video.duration_seconds) <= 1, (
                f"{pack.id}/{lesson.id}: duration_seconds is {video.duration_seconds}, {name} runs {actual:.2f}s")


@pytest.mark.parametrize("path", PARAMS)
def test_bundled_video_files_are_small(path):
    if not _is_bundled(path):
        pytest.skip("the 1 MB video budget is for the packs bundled with the portal")
    pack = _load(path)
    for _, video in _videos(pack):
        for name in (video.file, video.light):
            if name:
                size = (pack.root / name).stat().st_size
                assert size < MAX_BUNDLED_VIDEO_BYTES, f"{pack.id}: {name} is {size} bytes"


@pytest.mark.parametrize("path", PARAMS)
def test_course_banks_can_fill_their_draws(path):
    pack = _load(path)
    if not pack.is_course:
        assert pack.questions == () and pack.pre_draw == pack.post_draw == 0
        return
    for use, draw in (("pre", pack.pre_draw), ("post", pack.post_draw)):
        available = pack.questions_for(use)
        assert draw >= 1, f"{pack.id}: a course needs a {use}-test"
        assert len(available) >= draw, f"{pack.id}: {use} draws {draw} from {len(available)} questions"
    for question in pack.questions:
        if question.type == "single":
            assert len(question.correct_ids) == 1, question.id
        elif question.type == "multiple":
            assert 1 <= len(question.correct_ids) < len(question.choices), question.id
        assert question.text and question.choices, question.id


class _Links(HTMLParser):
    def __init__(self):
        super().__init__()
        self.urls: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.urls += [value for name, value in attrs if name in ("href", "src") and value]


@pytest.mark.parametrize("path", PARAMS)
def test_lessons_render_without_raw_html(path):
    pack = _load(path)
    base = files_base(pack)
    for lesson in pack.lessons:
        html = render_lesson(pack, lesson.id)
        assert html.strip(), f"{pack.id}/{lesson.id} renders to nothing"
        assert html_problems(html) == [], f"{pack.id}/{lesson.id}: {html_problems(html)}"
        assert not re.search(r"<script|\son\w+\s*=", html, re.I), f"{pack.id}/{lesson.id}"
        parser = _Links()
        parser.feed(html)
        for url in parser.urls:
            if url.startswith(base):
                assert url[len(base):].split("#")[0] in pack.public_files(), f"{pack.id}/{lesson.id}: {url}"
    description = render_description(pack)
    assert html_problems(description) == [], f"{pack.id} description: {html_problems(description)}"


# -- the contract's own readers, so that a passing contract means something -----------

def test_vtt_reader():
    cues = vtt_cues("\ufeffWEBVTT\n\n1\n00:00.500 --> 00:02.000\nHi\n\n01:00:01.250 --> 01:00:03.000 align:start\nBye\n")
    assert cues == [(0.5, 2.0), (3601.25, 3603.0)]
    with pytest.raises(AssertionError):
        vtt_cues("1\n00:00:00,000 --> 00:00:01,000\nSRT\n")
    with pytest.raises(AssertionError):
        vtt_cues("WEBVTT\n\n00:00:00,000 --> 00:00:01,000\nbad separator\n")


def _box(kind: bytes, payload: bytes) -> bytes:
    return struct.pack(">I4s", 8 + len(payload), kind) + payload


@pytest.mark.parametrize("version", [0, 1])
def test_mp4_duration_reader(tmp_path, version):
    if version == 0:
        mvhd = bytes([0, 0, 0, 0]) + struct.pack(">IIII", 0, 0, 1000, 62_400)
    else:
        mvhd = bytes([1, 0, 0, 0]) + struct.pack(">QQIQ", 0, 0, 600, 45_000)
    path = tmp_path / "v.mp4"
    path.write_bytes(_box(b"ftyp", b"isom\x00\x00\x02\x00") + _box(b"mdat", b"\x00" * 50)
                     + _box(b"moov", _box(b"mvhd", mvhd + b"\x00" * 80)))
    assert mp4_duration(path) == (62.4 if version == 0 else 75.0)
    path.write_bytes(_box(b"ftyp", b"isom") + _box(b"mdat", b"\x00" * 10))
    assert mp4_duration(path) is None
