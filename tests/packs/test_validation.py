"""The validator: every mistake a provider can make is reported with its file, its line
where there is one, and a message that says what to fix.

Each test starts from the starter pack `portal packs new` writes (valid by
construction, checked below) and breaks exactly one thing.
"""

from __future__ import annotations

import re

import pytest

from portal.packs.loader import PackInvalid, Problem, load_pack, validate_pack
from tests.packs.packtools import ANY, PORTAL_VERSION, PackFolder, expect_problem, new_starter

VIDEO_BLOCK_COMMENT = """    # video:                           # optional; every video file needs WebVTT captions
    #   file: media/welcome.mp4        # or url: https://...
    #   captions: media/welcome.vtt
    #   transcript: media/welcome.txt
    #   poster: media/welcome.jpg
    #   light: media/welcome-light.mp4
    #   duration_seconds: 90
"""
VIDEO_BLOCK = """    video:
      file: media/welcome.mp4
      captions: media/welcome.vtt
      transcript: media/welcome.txt
      poster: media/welcome.jpg
      duration_seconds: 90
"""
ACCREDITATION_COMMENT = """# accreditation:
#   - state: AZ
#     body: Arizona POST
#     status: approved
#     number: "AZ-0000"
#     credit_hours: 1
#     valid_from: 2026-01-01
#     valid_through: 2026-12-31
"""
ACCREDITATION = """accreditation:
  - state: AZ
    body: Arizona POST
    status: approved
    number: "AZ-0000"
    credit_hours: 1
    valid_from: 2026-01-01
    valid_through: 2026-12-31
  - state: OH
    body: Ohio Peace Officer Training Commission
    status: pending
    number: "OH-17"
    credit_hours: 0.75
"""
VTT = "WEBVTT\n\n00:00:00.000 --> 00:00:05.000\nWelcome to the course.\n"


def _block(pack: PackFolder, key_line: str) -> set[int]:
    """Where a problem about a whole YAML section may point: its key's line, or the first
    line of its block (the validator currently reports the latter)."""
    line = pack.line_of(key_line)
    return {line, line + 1}


@pytest.fixture
def pack(tmp_path) -> PackFolder:
    folder = new_starter(tmp_path)
    assert folder.problems() == [], "the starter pack must be valid before a test breaks it"
    return folder


@pytest.fixture
def video_pack(pack) -> PackFolder:
    """The starter with a real video on its first lesson."""
    pack.replace(VIDEO_BLOCK_COMMENT, VIDEO_BLOCK)
    pack.write("media/welcome.mp4", b"\x00\x00\x00\x18ftypmp42" + b"\x00" * 64)
    pack.write("media/welcome.vtt", VTT)
    pack.write("media/welcome.txt", "Welcome to the course.\n")
    pack.write("media/welcome.jpg", b"\xff\xd8\xff\xe0" + b"\x00" * 32)
    assert pack.problems() == [], "the video fixture must be valid before a test breaks it"
    return pack


@pytest.fixture
def accredited_pack(pack) -> PackFolder:
    pack.replace(ACCREDITATION_COMMENT, ACCREDITATION)
    assert pack.problems() == [], "the accreditation fixture must be valid before a test breaks it"
    return pack


IN_PERSON = """format: 1
id: in-person-basics
version: 1.0.0
title: In-person basics
provider:
  name: Your Organization
  website: https://www.example.org
  contact: training@example.org
kind: in-person
summary: A classroom course.
description: |
  Five days in a classroom, with the [course flyer](downloads/handout.txt).
estimated_hours: 40
language: en
portal_versions: ">=0.1,<1"
downloads:
  - id: handout
    title: Course flyer
    file: downloads/handout.txt
in_person:
  registration_url: https://www.example.org/register
  sessions:
    - {location: "Mesa, AZ", starts: 2027-03-08, ends: 2027-03-12}
"""

VIDEO_SERIES = """format: 1
id: roll-call
version: 1.0.0
title: Roll call
provider:
  name: Your Organization
  website: https://www.example.org
  contact: training@example.org
kind: video-series
summary: Short videos.
description: Two short videos for shift briefings.
estimated_hours: 0.5
language: en
portal_versions: ">=0.1,<1"
episodes:
  - id: ep1
    title: Episode one
    file: lessons/01-welcome.md
    video:
      file: media/welcome.mp4
      captions: media/welcome.vtt
      duration_seconds: 5
    discussion_prompts:
      - What would you do?
  - id: ep2
    title: Episode two
    file: lessons/02-key-ideas.md
    video:
      url: https://video.example.org/ep2.mp4
      captions: media/welcome.vtt
    discussion_prompts:
      - What did you see?
      - What would you change?
downloads:
  - id: handout
    title: Course handout
    file: downloads/handout.txt
"""


@pytest.fixture
def in_person_pack(pack) -> PackFolder:
    pack.write("pack.yaml", IN_PERSON)
    assert pack.problems() == [], "the in-person fixture must be valid before a test breaks it"
    return pack


@pytest.fixture
def series_pack(pack) -> PackFolder:
    pack.write("pack.yaml", VIDEO_SERIES)
    pack.write("media/welcome.mp4", b"\x00\x00\x00\x18ftypmp42" + b"\x00" * 64)
    pack.write("media/welcome.vtt", VTT)
    assert pack.problems() == [], "the video-series fixture must be valid before a test breaks it"
    return pack


# -- the starter and the shape of a problem -------------------------------------------

def test_starter_pack_has_no_problems_and_loads(tmp_path):
    folder = new_starter(tmp_path)
    assert validate_pack(folder.root, PORTAL_VERSION) == []
    pack = load_pack(folder.root, PORTAL_VERSION)
    assert pack.id == "starter-course" and pack.kind == "course" and pack.pass_mark == 80
    assert [lesson.id for lesson in pack.lessons] == ["welcome", "key-ideas"]
    assert pack.pre_draw == pack.post_draw == 3 and len(pack.questions) == 3
    assert pack.public_files() == {"downloads/handout.txt"}


def test_problem_str_forms():
    assert str(Problem("pack.yaml", 12, "kind must be one of course")) == "pack.yaml:12: kind must be one of course"
    assert str(Problem("lessons/01.md", None, "file is missing")) == "lessons/01.md: file is missing"


def test_load_pack_raises_listing_every_problem(pack):
    pack.replace("kind: course", "kind: webinar")
    pack.replace("pass_mark: 80", "pass_mark: 70")
    with pytest.raises(PackInvalid) as raised:
        load_pack(pack.root, PORTAL_VERSION)
    assert len(raised.value.problems) >= 2
    text = str(raised.value)
    assert f"pack.yaml:{pack.line_of('kind: webinar')}: kind must be one of" in text
    assert f"pack.yaml:{pack.line_of('pass_mark: 70')}: pass_mark" in text


PROBLEM_FORM = re.compile(r"^(?P<file>[^\s:][^:]*?)(?::(?P<line>[1-9]\d*))?: (?P<message>\S.*)$", re.S)


def test_every_problem_prints_as_file_line_message(video_pack):
    """Break many things at once; each problem prints as `file:line: message` or `file: message`,
    with a path relative to the pack folder."""
    p = video_pack
    p.replace("version: 1.0.0", "version: one")
    p.replace("pass_mark: 80", 'pass_mark: "80%"')
    p.replace("    minutes: 20", "    minutes: twenty")
    p.replace("      captions: media/welcome.vtt\n", "")
    p.replace("  pre: {draw: 3}", "  pre: {draw: 9}")
    p.replace("correct: true}", "correct: false}", rel="questions.yaml")
    p.append("lessons/02-key-ideas.md", "\nSee [the answers](../questions.yaml).\n\n<div>raw</div>\n")
    p.delete("downloads/handout.txt")
    problems = p.problems()
    assert len(problems) >= 8
    for problem in problems:
        text = str(problem)
        match = PROBLEM_FORM.match(text)
        assert match, f"{text!r} is not 'file:line: message' or 'file: message'"
        assert match["file"] == problem.file and not problem.file.startswith("/")
        assert (int(match["line"]) if match["line"] else None) == problem.line
        assert problem.line is None or problem.line >= 1
        assert (p.root / problem.file).is_file() or problem.file in {"pack.yaml", "questions.yaml"}


def test_all_problems_are_reported_together(pack):
    """A provider fixes a pack from one list: a missing title must be reported even when
    another problem (a missing lesson file) is found too."""
    pack.replace("title: Starter Course\n", "")
    pack.replace("summary: One sentence that tells an officer what this course is for.\n", "")
    pack.replace("language: en\n", "")
    pack.replace("estimated_hours: 1\n", "")
    pack.delete("lessons/02-key-ideas.md")
    problems = pack.problems()
    expect_problem(problems, "pack.yaml", pack.line_of("file: lessons/02-key-ideas.md"), "lessons/02-key-ideas.md")
    for field in ("title", "summary", "language", "estimated_hours"):
        expect_problem(problems, "pack.yaml", ANY, f"{field} is required")


# -- the manifest file itself ---------------------------------------------------------

@pytest.mark.parametrize("old, new, needle", [
    ("kind: course", "kind: course: nested", "kind: course: nested"),
    ("summary: One sentence", "summary: [One sentence", None),
    ("  name: Your Organization", "\tname: Your Organization", "\tname: Your Organization"),
    ("language: en", "language: 'en", None),
], ids=["mapping-value", "unclosed-bracket", "tab-indent", "unclosed-quote"])
def test_corrupt_yaml_manifest_names_line(pack, old, new, needle):
    pack.replace(old, new)
    problems = pack.problems()
    assert len(problems) == 1, problems
    [problem] = problems
    assert problem.file == "pack.yaml"
    assert "not valid YAML" in problem.message
    assert problem.line is not None
    if needle:
        assert problem.line == pack.line_of(needle)
    else:  # an unclosed bracket or quote is found where the scanner gives up: at or after the break
        assert problem.line >= pack.line_of(new)


def test_manifest_not_utf8(pack):
    pack.write("pack.yaml", pack.read().encode("utf-8").replace(b"Your Organization", b"Caf\xe9 Org"))
    [problem] = pack.problems()
    assert problem.file == "pack.yaml" and "UTF-8" in problem.message


def test_missing_manifest(pack):
    pack.delete("pack.yaml")
    assert pack.problems() == [Problem("pack.yaml", None, "file is missing")]


@pytest.mark.parametrize("text", ["", "\n\n", "# only a comment\n", "---\n"], ids=["empty", "blank", "comment", "doc-start"])
def test_empty_manifest(pack, text):
    pack.write("pack.yaml", text)
    [problem] = pack.problems()
    assert problem.file == "pack.yaml" and "empty" in problem.message


@pytest.mark.parametrize("text", ["- id: x\n- id: y\n", "just a sentence\n", "42\n"], ids=["list", "string", "number"])
def test_manifest_must_be_a_mapping(pack, text):
    pack.write("pack.yaml", text)
    [problem] = pack.problems()
    assert problem.file == "pack.yaml" and "must be a mapping" in problem.message


def test_manifest_format_must_be_1(pack):
    pack.replace("format: 1", "format: 2")
    expect_problem(pack.problems(), "pack.yaml", 1, "format must be 1")


# -- required fields ------------------------------------------------------------------

REQUIRED = {
    "id": "id: starter-course\n",
    "version": "version: 1.0.0\n",
    "title": "title: Starter Course\n",
    "provider.name": "  name: Your Organization\n",
    "kind": "kind: course\n",
    "summary": "summary: One sentence that tells an officer what this course is for.\n",
    "description": ("description: |\n  Describe the course in Markdown: who it is for, what learners will be able\n"
                    "  to do afterwards, and how long it takes.\n"),
    "estimated_hours": "estimated_hours: 1\n",
    "language": "language: en\n",
    "portal_versions": 'portal_versions: ">=0.1,<1"\n',
}


@pytest.mark.parametrize("field", sorted(REQUIRED))
def test_missing_required_field(pack, field):
    pack.replace(REQUIRED[field], "")
    problem = expect_problem(pack.problems(), "pack.yaml", ANY, f"{field} is required")
    assert problem.line is not None


@pytest.mark.parametrize("field", ["title", "summary", "language", "version", "id"])
def test_blank_required_field(pack, field):
    line = REQUIRED[field]
    pack.replace(line, f"{field}: '   '\n")
    expect_problem(pack.problems(), "pack.yaml", pack.line_of(f"{field}: '   '"), f"{field} is required")


def test_missing_provider_section(pack):
    pack.replace("provider:\n  name: Your Organization\n  website: https://www.example.org\n"
                 "  contact: training@example.org\n", "")
    problems = pack.problems()
    expect_problem(problems, "pack.yaml", ANY, "provider")


def test_provider_website_must_be_https(pack):
    pack.replace("website: https://www.example.org", "website: http://www.example.org")
    expect_problem(pack.problems(), "pack.yaml", pack.line_of("website: http://"), "provider.website", "https://")


@pytest.mark.parametrize("value", ["zero", "0", "-2", "true"])
def test_estimated_hours_must_be_a_positive_number(pack, value):
    pack.replace("estimated_hours: 1", f"estimated_hours: {value}")
    expect_problem(pack.problems(), "pack.yaml", pack.line_of(f"estimated_hours: {value}"), "estimated_hours")


# -- id, version, kind, pass mark, portal versions ------------------------------------

@pytest.mark.parametrize("bad", ["Starter-Course", "starter_course", "x", "-starter", "has space", "a" * 64, "caf\u00e9"])
def test_bad_pack_id(pack, bad):
    pack.replace("id: starter-course", f"id: '{bad}'")
    expect_problem(pack.problems(), "pack.yaml", 2, "2-63 lowercase letters, digits or hyphens")


@pytest.mark.parametrize("good", ["ab", "a" * 63, "course-101", "9-lives"])
def test_good_pack_ids(pack, good):
    pack.replace("id: starter-course", f"id: '{good}'")
    assert pack.problems() == []


@pytest.mark.parametrize("bad", ["one", "v1.0.x", "1.0.0-rc.1.final.x", "latest"])
def test_bad_version(pack, bad):
    pack.replace("version: 1.0.0", f"version: '{bad}'")
    expect_problem(pack.problems(), "pack.yaml", 3, f"version {bad!r}", "is not a version number")


def test_pack_version_must_match_its_distribution(pack):
    pyproject = pack.root.parent.parent / "pyproject.toml"
    text = pyproject.read_text()
    assert 'version = "1.0.0"' in text
    pyproject.write_text(text.replace('version = "1.0.0"', 'version = "1.0.1"'))
    expect_problem(pack.problems(), "pack.yaml", 3, "pyproject.toml", "1.0.1")


def test_unknown_kind(pack):
    pack.replace("kind: course", "kind: webinar")
    problem = expect_problem(pack.problems(), "pack.yaml", pack.line_of("kind: webinar"), "kind must be one of")
    for kind in ("course", "video-series", "in-person", "'webinar'"):
        assert kind in problem.message


@pytest.mark.parametrize("value", ["79", "0", "50", "101", '"80%"', "80.5", "true", "'90'"])
def test_pass_mark_refused(pack, value):
    pack.replace("pass_mark: 80", f"pass_mark: {value}")
    expect_problem(pack.problems(), "pack.yaml", pack.line_of(f"pass_mark: {value}"), "pass_mark", "80", "100")


@pytest.mark.parametrize("value", [80, 90, 100])
def test_pass_mark_accepted(pack, value):
    pack.replace("pass_mark: 80", f"pass_mark: {value}")
    assert pack.problems() == []
    assert load_pack(pack.root, PORTAL_VERSION).pass_mark == value


def test_pass_mark_defaults_to_80(pack):
    pack.replace("pass_mark: 80\n", "")
    assert load_pack(pack.root, PORTAL_VERSION).pass_mark == 80


@pytest.mark.parametrize("spec", [">=2", ">=0.2", "<0.1", "==1.0.0", ">=0.1,<0.1.0"])
def test_incompatible_portal_versions(pack, spec):
    pack.replace('portal_versions: ">=0.1,<1"', f'portal_versions: "{spec}"')
    problem = expect_problem(pack.problems(), "pack.yaml", pack.line_of("portal_versions:"), "portal versions")
    assert spec in problem.message and PORTAL_VERSION in problem.message


@pytest.mark.parametrize("spec", ["banana", "~=1", "=>0.1", ">= one", ">=0.1;<1", "0.1"])
def test_invalid_portal_versions_specifier(pack, spec):
    pack.replace('portal_versions: ">=0.1,<1"', f'portal_versions: "{spec}"')
    problem = expect_problem(pack.problems(), "pack.yaml", pack.line_of("portal_versions:"), "is not a version range")
    assert spec in problem.message


# -- lessons --------------------------------------------------------------------------

def test_lesson_without_title(pack):
    pack.replace("    title: Welcome\n", "")
    # the entry has no title line, so the problem points at the lesson entry itself
    expect_problem(pack.problems(), "pack.yaml", pack.line_of("- id: welcome"), "lessons[0].title is required")


def test_lesson_file_missing_names_the_file(pack):
    pack.delete("lessons/02-key-ideas.md")
    expect_problem(pack.problems(), "pack.yaml", pack.line_of("file: lessons/02-key-ideas.md"),
                   "lessons[1].file", "does not exist", "lessons/02-key-ideas.md")


@pytest.mark.parametrize("path", ["../outside.md", "/etc/passwd", "lessons/../../outside.md"])
def test_lesson_file_outside_the_pack(pack, path):
    (pack.root.parent / "outside.md").write_text("# Outside\n")
    pack.replace("file: lessons/02-key-ideas.md", f"file: {path}")
    expect_problem(pack.problems(), "pack.yaml", pack.line_of(f"file: {path}"), "inside the pack", path)


def test_lesson_without_file(pack):
    pack.replace("    file: lessons/02-key-ideas.md\n", "")
    expect_problem(pack.problems(), "pack.yaml", pack.line_of("- id: key-ideas"), "lessons[1].file is required")


def test_duplicate_lesson_ids(pack):
    pack.replace("- id: key-ideas", "- id: welcome")
    expect_problem(pack.problems(), "pack.yaml", pack.line_of("- id: welcome", nth=2), "lessons[1].id", "'welcome'",
                   "used twice")


@pytest.mark.parametrize("value", ["twenty", "12.5", "'20'", "[20]"])
def test_lesson_minutes_not_an_integer(pack, value):
    pack.replace("    minutes: 20", f"    minutes: {value}")
    expect_problem(pack.problems(), "pack.yaml", pack.line_of(f"minutes: {value}"), "lessons[1].minutes",
                   "must be an integer")


def test_lesson_minutes_zero(pack):
    pack.replace("    minutes: 20", "    minutes: 0")
    expect_problem(pack.problems(), "pack.yaml", pack.line_of("minutes: 0"), "lessons[1].minutes")


def test_course_lesson_needs_minutes(pack):
    pack.replace("    minutes: 20\n", "")
    expect_problem(pack.problems(), "pack.yaml", ANY, "lessons[1].minutes is required")


def test_lesson_file_not_utf8(pack):
    pack.write("lessons/02-key-ideas.md", b"# Key ideas\n\nCaf\xe9\n")
    expect_problem(pack.problems(), "lessons/02-key-ideas.md", None, "UTF-8")


@pytest.mark.parametrize("lessons", ["lessons: []\n", ""], ids=["empty-list", "no-key"])
def test_course_with_no_lessons(pack, lessons):
    text = pack.read()
    start, end = text.index("lessons:\n"), text.index("downloads:\n")
    pack.write("pack.yaml", text[:start] + lessons + text[end:])
    expect_problem(pack.problems(), "pack.yaml", ANY, "a course needs at least one lesson")


def test_lessons_must_be_a_list(pack):
    text = pack.read()
    start, end = text.index("lessons:\n"), text.index("downloads:\n")
    pack.write("pack.yaml", text[:start] + "lessons: lessons/01-welcome.md\n" + text[end:])
    expect_problem(pack.problems(), "pack.yaml", pack.line_of("lessons: lessons/"), "lessons must be a list")


# -- videos ---------------------------------------------------------------------------

def test_video_pack_fixture_loads(video_pack):
    pack = load_pack(video_pack.root, PORTAL_VERSION)
    video = pack.lessons[0].video
    assert video.file == "media/welcome.mp4" and video.captions == "media/welcome.vtt"
    assert video.duration_seconds == 90
    assert {"media/welcome.mp4", "media/welcome.vtt", "media/welcome.txt", "media/welcome.jpg"} <= pack.public_files()


def test_video_file_without_captions(video_pack):
    p = video_pack
    p.replace("      captions: media/welcome.vtt\n", "")
    problem = expect_problem(p.problems(), "pack.yaml", {p.line_of("    video:"), p.line_of("file: media/welcome.mp4")},
                             "captions")
    assert "media/welcome.mp4" in problem.message and "WebVTT" in problem.message


def test_video_captions_file_missing(video_pack):
    video_pack.delete("media/welcome.vtt")
    expect_problem(video_pack.problems(), "pack.yaml", video_pack.line_of("captions: media/welcome.vtt"),
                   "does not exist", "media/welcome.vtt")


@pytest.mark.parametrize("name, content", [
    ("media/welcome.srt", "1\n00:00:00,000 --> 00:00:05,000\nWelcome.\n"),
    ("media/welcome.vtt.txt", VTT),
    ("media/not-really.vtt", "1\n00:00:00.000 --> 00:00:05.000\nNo header.\n"),
    ("media/empty.vtt", ""),
], ids=["srt", "wrong-extension", "no-header", "empty"])
def test_captions_not_webvtt(video_pack, name, content):
    p = video_pack
    p.write(name, content)
    p.replace("captions: media/welcome.vtt", f"captions: {name}")
    expect_problem(p.problems(), "pack.yaml", p.line_of(f"captions: {name}"), "WebVTT", name)


def test_captions_with_byte_order_mark_accepted(video_pack):
    video_pack.write("media/welcome.vtt", ("\ufeff" + VTT).encode("utf-8"))
    assert video_pack.problems() == []


def test_video_with_both_file_and_url(video_pack):
    p = video_pack
    p.replace("      file: media/welcome.mp4\n", "      file: media/welcome.mp4\n      url: https://video.example.org/w.mp4\n")
    expect_problem(p.problems(), "pack.yaml", {p.line_of("    video:"), p.line_of("file: media/welcome.mp4")},
                   "exactly one of `file` or `url`")


def test_video_with_neither_file_nor_url(video_pack):
    p = video_pack
    p.replace("      file: media/welcome.mp4\n", "")
    expect_problem(p.problems(), "pack.yaml", ANY, "exactly one of `file` or `url`")


@pytest.mark.parametrize("url", ["http://video.example.org/w.mp4", "ftp://video.example.org/w.mp4",
                                 "javascript:alert(1)", "//video.example.org/w.mp4"])
def test_video_url_not_https(video_pack, url):
    p = video_pack
    p.replace("      file: media/welcome.mp4\n", f"      url: '{url}'\n")
    expect_problem(p.problems(), "pack.yaml", p.line_of("      url: "), "https://")


def test_video_url_accepted_with_captions(video_pack):
    video_pack.replace("      file: media/welcome.mp4\n", "      url: https://video.example.org/w.mp4\n")
    assert video_pack.problems() == []


def test_missing_poster_file(video_pack):
    video_pack.delete("media/welcome.jpg")
    expect_problem(video_pack.problems(), "pack.yaml", video_pack.line_of("poster: media/welcome.jpg"),
                   "poster", "does not exist", "media/welcome.jpg")


def test_missing_transcript_file(video_pack):
    video_pack.delete("media/welcome.txt")
    expect_problem(video_pack.problems(), "pack.yaml", video_pack.line_of("transcript: media/welcome.txt"),
                   "transcript", "does not exist", "media/welcome.txt")


def test_missing_video_file(video_pack):
    video_pack.delete("media/welcome.mp4")
    expect_problem(video_pack.problems(), "pack.yaml", video_pack.line_of("file: media/welcome.mp4"),
                   "does not exist", "media/welcome.mp4")


@pytest.mark.parametrize("value", ["ninety", "90.5", "0"])
def test_video_duration_must_be_a_positive_integer(video_pack, value):
    video_pack.replace("duration_seconds: 90", f"duration_seconds: {value}")
    expect_problem(video_pack.problems(), "pack.yaml", video_pack.line_of(f"duration_seconds: {value}"),
                   "duration_seconds")


# -- downloads ------------------------------------------------------------------------

def test_download_file_missing(pack):
    pack.delete("downloads/handout.txt")
    expect_problem(pack.problems(), "pack.yaml", pack.line_of("file: downloads/handout.txt"),
                   "downloads[0].file", "does not exist", "downloads/handout.txt")


def test_download_duplicate_id(pack):
    pack.write("downloads/other.txt", "Another handout\n")
    pack.replace("assessments:\n", "  - id: handout\n    title: Another handout\n    file: downloads/other.txt\n"
                                   "assessments:\n")
    expect_problem(pack.problems(), "pack.yaml", pack.line_of("- id: handout", nth=2), "downloads[1].id",
                   "'handout'", "used twice")


def test_download_without_title(pack):
    pack.replace("    title: Course handout\n", "")
    expect_problem(pack.problems(), "pack.yaml", pack.line_of("- id: handout"), "downloads[0].title is required")


def test_file_over_the_size_budget(pack):
    size = pack.path("downloads/handout.txt").stat().st_size
    problems = pack.problems(max_file_bytes=size - 1)
    problem = expect_problem(problems, "pack.yaml", pack.line_of("file: downloads/handout.txt"),
                             "downloads/handout.txt", "budget")
    assert "MB" in problem.message
    assert not any("handout.txt" in p.message for p in pack.problems(max_file_bytes=size))


_SIZE = re.compile(r"(\d+(?:\.\d+)?)\s*(bytes|B|KB|KiB|kB|MB|MiB|GB|GiB)\b")
_UNITS = {"bytes": 1, "B": 1, "KB": 1024, "KiB": 1024, "kB": 1000, "MB": 1024 ** 2, "MiB": 1024 ** 2,
          "GB": 1024 ** 3, "GiB": 1024 ** 3}


@pytest.mark.parametrize("budget, size", [(1024 * 1024, 1024 * 1024 + 40_000), (100, 180)], ids=["1MB", "100B"])
def test_size_budget_message_shows_the_file_is_bigger(pack, budget, size):
    """"1.0 MB, over the 1 MB budget" does not tell a provider by how much: the size shown
    must be visibly bigger than the budget shown."""
    pack.write("downloads/handout.txt", b"x" * size)
    problem = expect_problem(pack.problems(max_file_bytes=budget), "pack.yaml",
                             pack.line_of("file: downloads/handout.txt"), "downloads/handout.txt", "budget")
    assert " over " in problem.message, problem.message
    before, after = problem.message.split(" over ", 1)
    sizes = [float(n) * _UNITS[u] for n, u in _SIZE.findall(before)]
    budgets = [float(n) * _UNITS[u] for n, u in _SIZE.findall(after)]
    assert sizes and budgets, problem.message
    assert max(sizes) > max(budgets), f"the file size shown is not bigger than the budget shown: {problem.message}"


def test_size_budget_applies_to_every_declared_file(video_pack):
    p = video_pack
    p.write("media/welcome.mp4", b"\x00" * 5000)
    problems = p.problems(max_file_bytes=2000)
    expect_problem(problems, "pack.yaml", p.line_of("file: media/welcome.mp4"), "media/welcome.mp4", "budget")
    assert not any("media/welcome.vtt" in x.message and "budget" in x.message for x in problems)


# -- questions ------------------------------------------------------------------------

def _choices_lines(pack: PackFolder, question_id: str) -> set[int]:
    """The `choices:` line of a question and its first choice: either is the right place."""
    start = pack.line_of(f"- id: {question_id}", rel="questions.yaml")
    lines = pack.read("questions.yaml").splitlines()
    choices = next(n for n in range(start, len(lines) + 1) if lines[n - 1].strip() == "choices:")
    return {choices, choices + 1}


@pytest.mark.parametrize("correct", [0, 2])
def test_single_choice_needs_exactly_one_correct(pack, correct):
    q = pack
    if correct == 0:
        q.replace("{id: a, text: The purpose you describe, correct: true}", "{id: a, text: The purpose you describe}",
                  rel="questions.yaml")
    else:
        q.replace("{id: b, text: Something else}", "{id: b, text: Something else, correct: true}", rel="questions.yaml")
    problem = expect_problem(q.problems(), "questions.yaml", _choices_lines(q, "purpose"),
                             "single-choice", "exactly one correct")
    assert str(correct) in problem.message


@pytest.mark.parametrize("case", ["all-correct", "none-correct"])
def test_multiple_choice_needs_a_right_and_a_wrong_choice(pack, case):
    q = pack
    if case == "all-correct":
        q.replace("{id: c, text: A poor practice}", "{id: c, text: A poor practice, correct: true}", rel="questions.yaml")
    else:
        q.replace("{id: a, text: A good practice, correct: true}", "{id: a, text: A good practice}", rel="questions.yaml")
        q.replace("{id: b, text: Another good practice, correct: true}", "{id: b, text: Another good practice}",
                  rel="questions.yaml")
    expect_problem(q.problems(), "questions.yaml", _choices_lines(q, "practices"),
                   "multiple-choice", "at least one correct and one wrong")


def test_true_false_without_answer(pack):
    pack.replace("    answer: true\n", "", rel="questions.yaml")
    expect_problem(pack.problems(), "questions.yaml", pack.line_of("- id: self-paced", rel="questions.yaml"),
                   "true_false", "answer: true", "answer: false")


@pytest.mark.parametrize("value", ['"true"', "1", "T", "maybe"])
def test_true_false_answer_not_boolean(pack, value):
    pack.replace("    answer: true", f"    answer: {value}", rel="questions.yaml")
    expect_problem(pack.problems(), "questions.yaml", pack.line_of(f"answer: {value}", rel="questions.yaml"),
                   "true_false", "answer: true")


def test_question_type_unknown(pack):
    pack.replace("type: single", "type: essay", rel="questions.yaml")
    problem = expect_problem(pack.problems(), "questions.yaml", pack.line_of("type: essay", rel="questions.yaml"),
                             "type must be one of", "'essay'")
    for kind in ("single", "multiple", "true_false"):
        assert kind in problem.message


def test_question_without_text(pack):
    pack.replace("    text: What is the main purpose of this course?\n", "", rel="questions.yaml")
    expect_problem(pack.problems(), "questions.yaml", pack.line_of("- id: purpose", rel="questions.yaml"),
                   "questions[0].text is required")


def test_duplicate_question_ids(pack):
    pack.replace("- id: practices", "- id: purpose", rel="questions.yaml")
    expect_problem(pack.problems(), "questions.yaml", pack.line_of("- id: purpose", rel="questions.yaml", nth=2),
                   "questions[1].id", "'purpose'", "used twice")


def test_duplicate_choice_ids(pack):
    pack.replace("{id: b, text: Something else}", "{id: a, text: Something else}", rel="questions.yaml")
    expect_problem(pack.problems(), "questions.yaml", pack.line_of("{id: a, text: Something else}", rel="questions.yaml"),
                   "choice id 'a'", "used twice")


def test_choice_correct_must_be_boolean(pack):
    pack.replace("{id: b, text: Something else}", "{id: b, text: Something else, correct: 'no'}", rel="questions.yaml")
    expect_problem(pack.problems(), "questions.yaml", pack.line_of("correct: 'no'", rel="questions.yaml"),
                   "correct must be true or false")


def test_question_with_one_choice(pack):
    pack.replace("      - {id: b, text: Something else}\n", "", rel="questions.yaml")
    expect_problem(pack.problems(), "questions.yaml", ANY, "at least two choices")


@pytest.mark.parametrize("use", ["[pre, final]", "[exam]", "[pre, Post]"])
def test_question_use_unknown_value(pack, use):
    pack.replace("use: [pre, post]", f"use: {use}", rel="questions.yaml")
    expect_problem(pack.problems(), "questions.yaml", pack.line_of(f"use: {use}", rel="questions.yaml"),
                   "use", "pre", "post")


def test_question_use_empty(pack):
    pack.replace("use: [pre, post]", "use: []", rel="questions.yaml")
    expect_problem(pack.problems(), "questions.yaml", pack.line_of("use: []", rel="questions.yaml"),
                   "questions[0].use", "at least one")


@pytest.mark.parametrize("use", ["pre", "post"])
def test_draw_greater_than_available_questions(pack, use):
    pack.replace(f"  {use}: {{draw: 3}}", f"  {use}: {{draw: 4}}")
    problem = expect_problem(pack.problems(), "pack.yaml", pack.line_of(f"  {use}: {{draw: 4}}"),
                             f"assessments.{use}.draw is 4", f"only 3 {use} questions")
    assert "questions.yaml" not in problem.file


def test_draw_counts_only_questions_for_that_use(pack):
    pack.replace("use: [pre, post]", "use: [post]", rel="questions.yaml")
    expect_problem(pack.problems(), "pack.yaml", pack.line_of("  pre: {draw: 3}"), "only 2 pre questions")


@pytest.mark.parametrize("value", ["0", "-1"])
def test_draw_below_one(pack, value):
    pack.replace("  post: {draw: 3}", f"  post: {{draw: {value}}}")
    problem = expect_problem(pack.problems(), "pack.yaml", pack.line_of(f"  post: {{draw: {value}}}"),
                             "assessments.post.draw")
    # 1 is a valid draw (checked below), so the message must not claim the draw has to be "more than 1"
    assert "more than 1" not in problem.message, problem.message


def test_draw_of_one_is_valid(pack):
    pack.replace("  post: {draw: 3}", "  post: {draw: 1}")
    assert pack.problems() == []


def test_draw_not_an_integer(pack):
    pack.replace("  post: {draw: 3}", "  post: {draw: all}")
    expect_problem(pack.problems(), "pack.yaml", pack.line_of("  post: {draw: all}"), "assessments.post.draw",
                   "integer")


def test_missing_bank_file(pack):
    pack.delete("questions.yaml")
    expect_problem(pack.problems(), "pack.yaml", pack.line_of("bank: questions.yaml"), "assessments.bank",
                   "does not exist", "questions.yaml")


def test_bank_file_corrupt_yaml(pack):
    pack.replace("    type: multiple", "    type: multiple: oops", rel="questions.yaml")
    expect_problem(pack.problems(), "questions.yaml", pack.line_of("type: multiple: oops", rel="questions.yaml"),
                   "not valid YAML")


def test_bank_without_questions(pack):
    pack.write("questions.yaml", "questions: []\n")
    problems = pack.problems()
    expect_problem(problems, "pack.yaml", pack.line_of("  pre: {draw: 3}"), "only 0 pre questions")


def test_assessments_in_a_video_series_refused(series_pack):
    series_pack.append("pack.yaml", "assessments:\n  bank: questions.yaml\n  pre: {draw: 1}\n  post: {draw: 1}\n")
    expect_problem(series_pack.problems(), "pack.yaml", _block(series_pack, "assessments:"), "assessments",
                   "course")


# -- lesson and description Markdown --------------------------------------------------

LESSON = "lessons/02-key-ideas.md"


def _add_to_lesson(pack: PackFolder, text: str) -> int:
    """Append a paragraph to lesson 2 and return the line it starts on."""
    before = pack.read(LESSON)
    if not before.endswith("\n"):
        before += "\n"
    pack.write(LESSON, before + "\n" + text + "\n")
    return len(before.splitlines()) + 2


def test_broken_relative_link_in_lesson(pack):
    line = _add_to_lesson(pack, "See [the guide](../downloads/missing-guide.pdf).")
    expect_problem(pack.problems(), LESSON, line, "broken link", "../downloads/missing-guide.pdf")


def test_broken_relative_image_in_lesson(pack):
    line = _add_to_lesson(pack, "![A diagram](../media/diagram.png)")
    expect_problem(pack.problems(), LESSON, line, "broken link", "../media/diagram.png")


def test_broken_link_escaping_the_pack(pack):
    line = _add_to_lesson(pack, "[Up and out](../../../../etc/passwd)")
    expect_problem(pack.problems(), LESSON, line, "broken link")


def test_broken_reference_style_link(pack):
    line = _add_to_lesson(pack, "Read [the guide][guide].\n\n[guide]: ../downloads/gone.pdf")
    expect_problem(pack.problems(), LESSON, line, "broken link", "gone.pdf")


def test_broken_link_line_is_the_line_of_the_link(pack):
    """A link on the third line of a paragraph is reported on that line, not the paragraph's first."""
    start = _add_to_lesson(pack, "A paragraph that wraps\nover several lines before\nit links [here](../downloads/nope.pdf).")
    expect_problem(pack.problems(), LESSON, start + 2, "broken link", "nope.pdf")


def test_relative_link_to_declared_download_is_fine(pack):
    _add_to_lesson(pack, "Get [the handout](../downloads/handout.txt#page=2) now.")
    assert pack.problems() == []


@pytest.mark.parametrize("target", ["../questions.yaml", "../pack.yaml", "01-welcome.md", "../lessons/01-welcome.md",
                                    "../downloads/secret.txt"])
def test_link_to_undeclared_pack_file_refused(pack, target):
    pack.write("downloads/secret.txt", "not declared in pack.yaml\n")
    line = _add_to_lesson(pack, f"Peek at [this]({target}).")
    expect_problem(pack.problems(), LESSON, line, "only downloads and media named in pack.yaml can be linked")


def test_image_of_undeclared_pack_file_refused(pack):
    line = _add_to_lesson(pack, "![answers](../questions.yaml)")
    expect_problem(pack.problems(), LESSON, line, "only downloads and media named in pack.yaml")


def test_description_link_to_undeclared_file_refused(pack):
    """The description is shown to learners too; the answer key must not be linkable from it either."""
    pack.replace("  to do afterwards, and how long it takes.\n",
                 "  to do afterwards, and how long it takes. See [the answers](questions.yaml).\n")
    expect_problem(pack.problems(), "pack.yaml", pack.line_of("description: |"), "questions.yaml")


@pytest.mark.parametrize("html", [
    "<div>A raw block</div>",
    "<script>alert(1)</script>",
    "<!-- a comment -->",
    "<iframe src=\"https://evil.example\"></iframe>",
    "<style>body {display: none}</style>",
], ids=["div", "script", "comment", "iframe", "style"])
def test_raw_html_block_in_lesson(pack, html):
    line = _add_to_lesson(pack, html)
    expect_problem(pack.problems(), LESSON, line, "raw HTML is not allowed")


@pytest.mark.parametrize("html", ["<b>bold</b>", "<img src=x onerror=alert(1)>", "<a href=\"https://x.example\">x</a>",
                                  "<span style=\"color:red\">red</span>"], ids=["b", "img", "a", "span"])
def test_inline_html_in_lesson(pack, html):
    line = _add_to_lesson(pack, f"Some text with {html} inside.")
    expect_problem(pack.problems(), LESSON, line, "raw HTML is not allowed")


def test_inline_html_line_is_the_line_of_the_tag(pack):
    start = _add_to_lesson(pack, "First line of a paragraph\nsecond line has <b>raw HTML</b> in it.")
    expect_problem(pack.problems(), LESSON, start + 1, "raw HTML is not allowed")


def test_raw_html_in_description(pack):
    pack.replace("  to do afterwards, and how long it takes.\n",
                 "  to do afterwards, and how long it takes.\n\n  <div>hidden</div>\n")
    expect_problem(pack.problems(), "pack.yaml", pack.line_of("description: |"), "raw HTML")


@pytest.mark.parametrize("link", [
    "[click](javascript:alert(1))",
    "[click](JavaScript:alert(1))",
    "[click](<javascript:alert(1)>)",
    "[click](javascript&#58;alert(1))",
    "[click](&#106;avascript:alert(1))",
    "<javascript:alert(1)>",
    "[click][evil]\n\n[evil]: javascript:alert(1)",
    "![img](javascript:alert(1))",
    "[click](vbscript:msgbox(1))",
], ids=["plain", "mixed-case", "pointy", "entity-colon", "entity-j", "autolink", "reference", "image", "vbscript"])
def test_javascript_link_refused(pack, link):
    line = _add_to_lesson(pack, link)
    expect_problem(pack.problems(), LESSON, line, "unsafe link")


@pytest.mark.parametrize("link", [
    "[click](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
    "![pixel](data:image/png;base64,iVBORw0KGgo=)",
    "![svg](data:image/svg+xml;base64,PHN2ZyBvbmxvYWQ9YWxlcnQoMSk+)",
    "[click](<data:text/html,%3Cscript%3Ealert(1)%3C/script%3E>)",
], ids=["text-html", "image-png", "image-svg", "pointy-html"])
def test_data_link_refused(pack, link):
    line = _add_to_lesson(pack, link)
    expect_problem(pack.problems(), LESSON, line, "unsafe link")


@pytest.mark.parametrize("link", ["[x](file:///etc/passwd)", "[x](ftp://files.example.org/a)", "<ftp://files.example.org/a>"])
def test_other_schemes_refused(pack, link):
    line = _add_to_lesson(pack, link)
    expect_problem(pack.problems(), LESSON, line, "unsafe link")


@pytest.mark.parametrize("link", ["[site](https://www.example.org)", "[mail](mailto:help@example.org)",
                                  "[phone](tel:+18005550100)", "<https://www.example.org/a>", "[top](#key-ideas)"])
def test_safe_links_accepted(pack, link):
    _add_to_lesson(pack, link)
    assert pack.problems() == []


def test_description_javascript_link_refused(pack):
    pack.replace("  to do afterwards, and how long it takes.\n",
                 "  to do afterwards, and how long it takes. [Go](javascript:alert(1))\n")
    expect_problem(pack.problems(), "pack.yaml", pack.line_of("description: |"), "unsafe link")


# -- accreditation --------------------------------------------------------------------

def test_accreditation_fixture_loads(accredited_pack):
    pack = load_pack(accredited_pack.root, PORTAL_VERSION)
    assert [(a.state, a.status) for a in pack.accreditation] == [("AZ", "approved"), ("OH", "pending")]


@pytest.mark.parametrize("state", ["ZZ", "XX", "1A"])
def test_accreditation_bad_state_code(accredited_pack, state):
    p = accredited_pack
    p.replace("  - state: OH", f"  - state: {state}")
    expect_problem(p.problems(), "pack.yaml", p.line_of(f"  - state: {state}"), f"'{state}'", "state")


def test_accreditation_state_longer_than_two_letters(accredited_pack):
    p = accredited_pack
    p.replace("  - state: OH", "  - state: Ohio")
    expect_problem(p.problems(), "pack.yaml", p.line_of("  - state: Ohio"), "state")


def test_accreditation_duplicate_state(accredited_pack):
    p = accredited_pack
    p.replace("  - state: OH", "  - state: az")
    expect_problem(p.problems(), "pack.yaml", p.line_of("  - state: az"), "AZ", "listed twice")


def test_accreditation_valid_through_before_valid_from(accredited_pack):
    p = accredited_pack
    p.replace("valid_through: 2026-12-31", "valid_through: 2025-12-31")
    expect_problem(p.problems(), "pack.yaml", p.line_of("valid_through: 2025-12-31"), "valid_through is before valid_from")


def test_accreditation_date_not_a_date(accredited_pack):
    p = accredited_pack
    p.replace("valid_from: 2026-01-01", "valid_from: next January")
    expect_problem(p.problems(), "pack.yaml", p.line_of("valid_from: next January"), "valid_from", "date")


@pytest.mark.parametrize("status", ["accepted", "Approved", "revoked"])
def test_accreditation_bad_status(accredited_pack, status):
    p = accredited_pack
    p.replace("status: pending", f"status: {status}")
    problem = expect_problem(p.problems(), "pack.yaml", p.line_of(f"status: {status}"), "status must be one of")
    for good in ("approved", "pending", "expired"):
        assert good in problem.message


def test_accreditation_missing_body(accredited_pack):
    p = accredited_pack
    p.replace("    body: Arizona POST\n", "")
    expect_problem(p.problems(), "pack.yaml", ANY, "accreditation[0].body is required")


# -- in-person ------------------------------------------------------------------------

def test_in_person_fixture_loads(in_person_pack):
    pack = load_pack(in_person_pack.root, PORTAL_VERSION)
    assert pack.kind == "in-person" and pack.in_person.registration_url == "https://www.example.org/register"
    assert pack.lessons == () and len(pack.in_person.sessions) == 1


def test_in_person_without_registration_url(in_person_pack):
    p = in_person_pack
    p.replace("  registration_url: https://www.example.org/register\n", "")
    expect_problem(p.problems(), "pack.yaml", ANY, "registration_url is required")


def test_in_person_without_in_person_section(in_person_pack):
    p = in_person_pack
    text = p.read()
    p.write("pack.yaml", text[:text.index("in_person:")])
    expect_problem(p.problems(), "pack.yaml", ANY, "in_person")


@pytest.mark.parametrize("url", ["http://www.example.org/register", "www.example.org/register",
                                 "javascript:alert(1)"])
def test_in_person_registration_url_not_https(in_person_pack, url):
    p = in_person_pack
    p.replace("registration_url: https://www.example.org/register", f"registration_url: '{url}'")
    expect_problem(p.problems(), "pack.yaml", p.line_of("registration_url:"), "registration_url", "https://")


def test_in_person_session_ends_before_it_starts(in_person_pack):
    p = in_person_pack
    p.replace("ends: 2027-03-12", "ends: 2027-03-01")
    expect_problem(p.problems(), "pack.yaml", p.line_of("ends: 2027-03-01"), "ends is before starts")


def test_in_person_section_in_a_course_refused(pack):
    pack.append("pack.yaml", "in_person:\n  registration_url: https://www.example.org/register\n")
    expect_problem(pack.problems(), "pack.yaml", _block(pack, "in_person:"), "only an in-person pack")


# -- video series ---------------------------------------------------------------------

def test_video_series_fixture_loads(series_pack):
    pack = load_pack(series_pack.root, PORTAL_VERSION)
    assert [lesson.id for lesson in pack.lessons] == ["ep1", "ep2"]
    assert pack.lessons[1].discussion_prompts == ("What did you see?", "What would you change?")


def test_video_series_episode_without_video(series_pack):
    p = series_pack
    p.replace("    video:\n      url: https://video.example.org/ep2.mp4\n      captions: media/welcome.vtt\n", "")
    expect_problem(p.problems(), "pack.yaml", p.line_of("- id: ep2"), "episode ep2 needs a video")


@pytest.mark.parametrize("prompts", ["", "    discussion_prompts: []\n"], ids=["missing", "empty"])
def test_video_series_episode_without_discussion_prompts(series_pack, prompts):
    p = series_pack
    p.replace("    discussion_prompts:\n      - What would you do?\n", prompts)
    expect_problem(p.problems(), "pack.yaml", ANY, "episodes[0].discussion_prompts", "at least one")


def test_video_series_listing_lessons_instead_of_episodes(series_pack):
    p = series_pack
    p.replace("episodes:", "lessons:")
    problems = p.problems()
    expect_problem(problems, "pack.yaml", _block(p, "lessons:"), "`episodes`, not `lessons`")


def test_video_series_without_episodes(series_pack):
    p = series_pack
    text = p.read()
    p.write("pack.yaml", text[:text.index("episodes:")] + text[text.index("downloads:"):])
    expect_problem(p.problems(), "pack.yaml", ANY, "episodes")
