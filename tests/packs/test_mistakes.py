"""The mistakes an outside provider made while writing a pack from the docs (issue 19):
the one that crashed, the ones that went uncaught and the ones whose message was unclear.
Each test breaks the starter pack in exactly that way and asserts the file, the line and
a message that says what to fix."""

from __future__ import annotations

import subprocess
import sys

import pytest

from portal.packs.loader import check_pack, load_pack
from tests.packs.packtools import ANY as ANY_LINE, PORTAL_VERSION, PackDirs, PackFolder, expect_problem, new_starter

ACCREDITATION_COMMENT = """# accreditation:
#   - state: AZ
#     body: Arizona POST
#     status: approved
#     number: "AZ-0000"
#     credit_hours: 1
#     valid_from: 2026-01-01
#     valid_through: 2026-12-31
"""


def accreditation(number: str = '"AZ-0000"', valid_through: str = "2026-12-31", hours: str = "1") -> str:
    return f"""accreditation:
  - state: AZ
    body: Arizona POST
    status: approved
    number: {number}
    credit_hours: {hours}
    valid_from: 2026-01-01
    valid_through: {valid_through}
"""


@pytest.fixture
def pack(tmp_path) -> PackFolder:
    folder = new_starter(tmp_path)
    assert check_pack(folder.root, PORTAL_VERSION) == [], "the starter must be valid and draw no warnings"
    return folder


def warnings_of(pack: PackFolder):
    return [p for p in check_pack(pack.root, PORTAL_VERSION) if p.warning]


# -- the crash -----------------------------------------------------------------------

def test_impossible_date_is_a_problem_not_a_traceback(pack):
    pack.replace(ACCREDITATION_COMMENT, accreditation(valid_through="2026-02-30"))
    problem = expect_problem(pack.problems(), "pack.yaml", pack.line_of("valid_through"),
                             "2026-02-30", "not a day in the calendar", "2026-02-28")
    assert "valid_through" in problem.message


def test_packs_validate_prints_no_traceback_for_an_impossible_date(pack):
    pack.replace(ACCREDITATION_COMMENT, accreditation(valid_through="2026-02-30"))
    run = subprocess.run([sys.executable, "-m", "portal.cli", "packs", "validate", str(pack.root)],
                         capture_output=True, text=True, timeout=120)
    assert run.returncode == 1
    assert "Traceback" not in run.stderr + run.stdout
    assert f"pack.yaml:{pack.line_of('valid_through')}:" in run.stderr


def test_impossible_date_with_disable_sets_the_pack_aside_and_the_portal_starts(make_app, pack):
    pack.replace(ACCREDITATION_COMMENT, accreditation(valid_through="2026-02-30"))
    app = make_app(EXTRA_PLUGINS=[PackDirs("dated_plugin", pack.root)], PORTAL_INVALID_PACKS="disable")
    disabled = app.extensions["packs"].disabled
    assert [d.name for d in disabled] == ["starter-course"]
    assert any("not a day in the calendar" in p for p in disabled[0].problems)
    assert app.test_client().get("/catalog").status_code == 200


# -- uncaught: keys the portal does not read -----------------------------------------

def test_misspelt_top_level_key_says_did_you_mean(pack):
    pack.replace("pass_mark: 80", "passmark: 90")
    expect_problem(pack.problems(), "pack.yaml", pack.line_of("passmark"), "passmark", "did you mean `pass_mark`")


def test_misspelt_nested_key_says_did_you_mean(pack):
    pack.replace("    minutes: 20", "    minuets: 20")
    expect_problem(pack.problems(), "pack.yaml", pack.line_of("minuets"), "lessons[1].minuets",
                   "did you mean `minutes`")


def test_unknown_key_with_nothing_close_lists_the_allowed_keys(pack):
    pack.replace("  post: {draw: 3}", "  post: {draw: 3, colour: blue}")
    expect_problem(pack.problems(), "pack.yaml", pack.line_of("colour"), "assessments.post.colour",
                   "allowed here are", "cooldown_minutes")


def test_misspelt_key_in_the_question_bank(pack):
    pack.replace("    feedback: Explain", "    feedbak: Explain", rel="questions.yaml")
    expect_problem(pack.problems(), "questions.yaml", pack.line_of("feedbak", "questions.yaml"),
                   "did you mean `feedback`")


# -- uncaught: YAML that silently changes what the author wrote ----------------------

def test_comma_in_an_unquoted_flow_choice_says_to_quote_it(pack):
    pack.replace("{id: b, text: Something else}",
                 "{id: b, text: Every officer, so the person hears it twice}", rel="questions.yaml")
    expect_problem(pack.problems(), "questions.yaml", pack.line_of("Every officer", "questions.yaml"),
                   "after a comma", "quotes")


def test_leading_zero_approval_number_stays_text_with_a_warning(pack):
    pack.replace(ACCREDITATION_COMMENT, accreditation(number="0417"))
    assert pack.problems() == []
    loaded = load_pack(pack.root, PORTAL_VERSION)
    assert loaded.accreditation[0].number == "0417"
    expect_problem(warnings_of(pack), "pack.yaml", pack.line_of("number: 0417"), "271", 'number: "0417"')


def test_version_written_as_a_number_keeps_its_text_with_a_warning(pack):
    pack.replace("version: 1.0.0", "version: 1.10")
    pyproject = pack.root.parent.parent / "pyproject.toml"
    pyproject.write_text(pyproject.read_text().replace('version = "1.0.0"', 'version = "1.10"'))
    assert pack.problems() == []
    assert load_pack(pack.root, PORTAL_VERSION).version == "1.10"
    expect_problem(warnings_of(pack), "pack.yaml", pack.line_of("version: 1.10"), '"1.10"', "quotes")


def test_choice_no_stays_text_with_a_hint_to_quote_it(pack):
    pack.replace("{id: b, text: Something else}", "{id: b, text: No}", rel="questions.yaml")
    assert pack.problems() == []
    question = next(q for q in load_pack(pack.root, PORTAL_VERSION).questions if q.id == "purpose")
    assert [c.text for c in question.choices] == ["The purpose you describe", "No"]
    expect_problem(warnings_of(pack), "questions.yaml", pack.line_of("text: No}", "questions.yaml"),
                   "false", 'text: "No"')


def test_yes_where_true_is_meant_says_write_true(pack):
    pack.replace("{id: a, text: The purpose you describe, correct: true}",
                 "{id: a, text: The purpose you describe, correct: yes}", rel="questions.yaml")
    expect_problem(pack.problems(), "questions.yaml", pack.line_of("correct: yes", "questions.yaml"),
                   "true or false")


def test_leading_zero_minutes_is_refused_with_the_fix(pack):
    pack.replace("    minutes: 20", "    minutes: 020")
    expect_problem(pack.problems(), "pack.yaml", pack.line_of("minutes: 020"), "whole number")


def test_true_where_text_is_meant_says_to_quote_it(pack):
    pack.replace("language: en", "language: true")
    expect_problem(pack.problems(), "pack.yaml", pack.line_of("language: true"), "must be text")


# -- the schema holds the keys other features read --------------------------------------

def test_assessment_and_lesson_settings_have_defaults_and_are_read(pack):
    loaded = load_pack(pack.root, PORTAL_VERSION)
    assert (loaded.shuffle_questions, loaded.shuffle_choices) == (True, True)
    assert (loaded.post_cooldown_minutes, loaded.post_attempts_per_day) == (10, 3)
    assert loaded.lessons[0].min_minutes is None
    pack.replace("  post: {draw: 3}", "  post: {draw: 3, cooldown_minutes: 30, attempts_per_day: 2}\n"
                                      "  shuffle_choices: false")
    pack.replace("    minutes: 20", "    minutes: 20\n    min_minutes: 5")
    loaded = load_pack(pack.root, PORTAL_VERSION)
    assert (loaded.shuffle_questions, loaded.shuffle_choices) == (True, False)
    assert (loaded.post_cooldown_minutes, loaded.post_attempts_per_day) == (30, 2)
    assert loaded.lessons[1].min_minutes == 5


# -- uncaught: media, captions, headings and hours ------------------------------------

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
      poster: media/welcome.jpg
      light: media/welcome-light.mp4
      duration_seconds: 90
"""
MP4 = b"\x00\x00\x00\x18ftypmp42" + b"\x00" * 64
JPEG = b"\xff\xd8\xff\xe0" + b"\x00" * 32
VTT = "WEBVTT\n\n00:00:00.000 --> 00:00:05.000\nWelcome to the course.\n"


@pytest.fixture
def video_pack(pack) -> PackFolder:
    pack.replace(VIDEO_BLOCK_COMMENT, VIDEO_BLOCK)
    for name, content in (("media/welcome.mp4", MP4), ("media/welcome-light.mp4", MP4),
                          ("media/welcome.jpg", JPEG), ("media/welcome.vtt", VTT)):
        pack.write(name, content)
    assert check_pack(pack.root, PORTAL_VERSION) == []
    return pack


@pytest.mark.parametrize("key, name", [("file", "media/welcome.mp4"), ("light", "media/welcome-light.mp4")])
def test_video_that_is_not_a_video_is_refused_by_content(video_pack, key, name):
    video_pack.write(name, "These are my speaker notes, saved under the wrong name.\n")
    expect_problem(video_pack.problems(), "pack.yaml", video_pack.line_of(f"{key}: {name}"),
                   name, "not a format the portal recognises", "MP4")


def test_video_that_is_really_a_picture_names_what_it_is(video_pack):
    video_pack.write("media/welcome.mp4", JPEG)
    expect_problem(video_pack.problems(), "pack.yaml", video_pack.line_of("file: media/welcome.mp4"),
                   "image/jpeg")


def test_poster_that_is_not_an_image(video_pack):
    video_pack.write("media/welcome.jpg", MP4)
    expect_problem(video_pack.problems(), "pack.yaml", video_pack.line_of("poster:"), "video/mp4", "JPEG")


def test_pdf_download_that_is_not_a_pdf(pack):
    pack.write("downloads/handout.pdf", "Not a PDF at all.\n")
    pack.replace("file: downloads/handout.txt", "file: downloads/handout.pdf")
    expect_problem(pack.problems(), "pack.yaml", pack.line_of("file: downloads/handout.pdf"),
                   "application/pdf", "export it again")


def test_captions_not_utf8_name_the_line_and_the_fix(video_pack):
    video_pack.write("media/welcome.vtt", "WEBVTT\n\n00:00:00.000 --> 00:00:05.000\nCaf\xe9 con leche\n"
                     .encode("cp1252"))
    expect_problem(video_pack.problems(), "media/welcome.vtt", 4, "not UTF-8", "save the file as UTF-8")


@pytest.mark.parametrize("cues, line, fragment", [
    ("00:00:05.000 --> 00:00:01.000\nBackwards.\n", 3, "ends before it starts"),
    ("00:00:01,000 --> 00:00:04,000\nCommas, as in SRT.\n", 3, "three digits after the dot"),
    ("00:00:01.000 --> 00:00:04.000\n", 3, "has no text"),
    ("00:02:00.000 --> 00:02:04.000\nAfter the end.\n", 3, "after the video ends"),
    ("Just some words without a timing line.\n", 3, "needs a timing line"),
    ("", 1, "no cues"),
])
def test_caption_cues_are_checked(video_pack, cues, line, fragment):
    video_pack.write("media/welcome.vtt", "WEBVTT\n\n" + cues)
    expect_problem(video_pack.problems(), "media/welcome.vtt", line, fragment)


def test_lesson_without_a_heading(pack):
    pack.write("lessons/02-key-ideas.md", "1. Write short paragraphs.\n2. Say why.\n")
    expect_problem(pack.problems(), "lessons/02-key-ideas.md", 1, "no heading", "# Key ideas")


def test_estimated_hours_below_the_lessons_minutes(pack):
    pack.replace("estimated_hours: 1", "estimated_hours: 0.25")
    expect_problem(pack.problems(), "pack.yaml", pack.line_of("estimated_hours"), "30", "at least 0.5",
                   "certificates")


def test_estimated_hours_far_above_the_lessons_warns(pack):
    pack.replace("estimated_hours: 1", "estimated_hours: 8")
    assert pack.problems() == []
    expect_problem(warnings_of(pack), "pack.yaml", pack.line_of("estimated_hours"), "only 30")


def test_credit_hours_above_the_course_hours(pack):
    pack.replace(ACCREDITATION_COMMENT, accreditation(hours="3"))
    expect_problem(pack.problems(), "pack.yaml", pack.line_of("credit_hours"), "more than", "estimated_hours 1")


# -- duplicate ids: the pack with learners keeps serving ------------------------------

def _enroll(app, pack_id: str, version: str) -> None:
    from datetime import UTC, datetime

    from portal.learning.models import Enrollment
    from tests.helpers import make_user

    user = make_user(app, email=f"{version}@example.gov")
    with app.extensions["portal"].database.write_transaction() as session:
        session.add(Enrollment(user_id=user.id, pack_id=pack_id, pack_version=version, session_year=2026,
                               enrolled_at=datetime(2026, 6, 1, tzinfo=UTC)))


def test_duplicate_id_the_pack_with_learners_keeps_serving(make_app, tmp_path):
    # The test copy is made first and its plugin name sorts first: neither may decide.
    copy = new_starter(tmp_path / "copy", "twin-course", "Twin Course (test copy)")
    copy.replace("version: 1.0.0", "version: 1.0.1")
    pyproject = copy.root.parent.parent / "pyproject.toml"
    pyproject.write_text(pyproject.read_text().replace('version = "1.0.0"', 'version = "1.0.1"'))
    original = new_starter(tmp_path / "original", "twin-course", "Twin Course")
    plugins = [PackDirs("aa_test_copy", copy.root), PackDirs("zz_original", original.root)]
    first = make_app(EXTRA_PLUGINS=plugins[1:])
    _enroll(first, "twin-course", "1.0.0")

    app = make_app(EXTRA_PLUGINS=plugins, PORTAL_INVALID_PACKS="disable")
    registry = app.extensions["packs"]
    assert registry.get("twin-course").root == original.root
    assert registry.sources["twin-course"] == "zz_original"
    [aside] = registry.disabled
    assert aside.source == "aa_test_copy" and aside.path == str(copy.root)
    assert "zz_original" in aside.reason and "aa_test_copy" in aside.reason
    assert "1 learner on version 1.0.0" in aside.reason
    page = app.test_client().get("/courses/twin-course")
    assert page.status_code == 200 and "test copy" not in page.get_data(as_text=True)


def test_duplicate_id_with_no_learners_keeps_the_one_installed_first(make_app, tmp_path):
    original = new_starter(tmp_path / "original", "twin-course", "Twin Course")
    copy = tmp_path / "copy" / "pack"
    import shutil

    shutil.copytree(original.root, copy)  # copy2 keeps modification times; the copy is still newer
    app = make_app(EXTRA_PLUGINS=[PackDirs("aa_test_copy", copy), PackDirs("zz_original", original.root)],
                   PORTAL_INVALID_PACKS="disable")
    registry = app.extensions["packs"]
    assert registry.sources["twin-course"] == "zz_original"
    assert [d.source for d in registry.disabled] == ["aa_test_copy"]


# -- what changed in a new version, for learners part-way through --------------------

CHANGELOG = """changelog:
  - version: 1.1.0
    changes:
      - "A new lesson, Key ideas in practice, comes before the post-test."
      - One question about self-pacing was removed.
"""


def _bump(pack: PackFolder, version: str) -> None:
    pack.replace("version: 1.0.0", f"version: {version}")
    pyproject = pack.root.parent.parent / "pyproject.toml"
    pyproject.write_text(pyproject.read_text().replace('version = "1.0.0"', f'version = "{version}"'))


def test_course_page_tells_a_learner_in_progress_what_changed(make_app, pack):
    from tests.helpers import log_in

    _bump(pack, "1.1.0")
    pack.append("pack.yaml", CHANGELOG)
    app = make_app(EXTRA_PLUGINS=[PackDirs("changed_plugin", pack.root)])
    assert [c.version for c in app.extensions["packs"].get("starter-course").changelog] == ["1.1.0"]
    _enroll(app, "starter-course", "1.0.0")  # the user is 1.0.0@example.gov
    client = app.test_client()
    log_in(client, "1.0.0@example.gov")
    page = client.get("/courses/starter-course").get_data(as_text=True)
    assert "updated since you started it (version 1.0.0, now 1.1.0)" in page
    assert "A new lesson, Key ideas in practice, comes before the post-test." in page

    _enroll(app, "starter-course", "1.1.0")
    fresh = app.test_client()
    log_in(fresh, "1.1.0@example.gov")
    assert "updated since you started it" not in fresh.get("/courses/starter-course").get_data(as_text=True)


@pytest.mark.parametrize("entry, fragment", [
    ("  - version: 2.0.0\n    changes: [Later]\n", "newer than the pack's version"),
    ("  - version: soon\n    changes: [Later]\n", "not a version number"),
    ("  - version: 1.0.0\n    changes: []\n", "at least one entry"),
    ("  - version: 1.0.0\n    change: [Typo]\n", "did you mean `changes`"),
])
def test_changelog_mistakes(pack, entry, fragment):
    pack.append("pack.yaml", "changelog:\n" + entry)
    expect_problem(pack.problems(), "pack.yaml", ANY_LINE, fragment)


# -- unclear: what the portal adds itself ------------------------------------------------

def test_choose_all_that_apply_in_the_text_warns_that_the_portal_adds_it(pack):
    pack.replace("text: Which of these are good practices?", "text: Which of these are good practices? Select all "
                 "that apply.", rel="questions.yaml")
    assert pack.problems() == []
    expect_problem(warnings_of(pack), "questions.yaml", pack.line_of("Select all", "questions.yaml"),
                   "already adds", "Choose all that apply")


def test_renditions_that_are_not_a_list_are_a_problem_not_a_crash(video_pack):
    video_pack.replace("      duration_seconds: 90\n", "      duration_seconds: 90\n      renditions: 1080\n")
    problems = video_pack.problems()
    expect_problem(problems, "pack.yaml", video_pack.line_of("renditions: 1080"), "renditions", "must be a list")
    assert not any("could not finish" in p.message for p in problems)


# -- start-up from the command line: a message, never a traceback ---------------------

def _fake_install(site, folder: PackFolder, dist_name: str, entry_name: str, version: str = "1.0.0") -> None:
    """Lay a pack's package and .dist-info into `site` as pip would (found through PYTHONPATH)."""
    import shutil

    package = folder.root.parent
    shutil.copytree(package, site / package.name)
    info = site / f"{dist_name.replace('-', '_')}-{version}.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {dist_name}\nVersion: {version}\n")
    (info / "entry_points.txt").write_text(f"[portal.content_packs.v1]\n{entry_name} = {package.name}\n")


def _installed_broken_pack(tmp_path):
    """A distribution on PYTHONPATH (as pip would leave it) whose pack has an impossible date."""
    site = tmp_path / "site"
    folder = new_starter(tmp_path / "src", "broken-dates", "Broken dates")
    folder.replace(ACCREDITATION_COMMENT, accreditation(valid_through="2026-02-30"))
    _fake_install(site, folder, "portal-pack-broken-dates", "broken-dates")
    return site


def _start(tmp_path, site, mode="disable", code="print(sorted(d.reason for d in app.extensions['packs'].disabled))"):
    import os

    env = {**os.environ, "PYTHONPATH": str(site), "PORTAL_DATA_DIR": str(tmp_path / "d"),
           "SECRET_KEY": "start-up-test", "PORTAL_INVALID_PACKS": mode}
    return subprocess.run([sys.executable, "-c", f"from portal.app import create_app_or_exit as c; app = c(); {code}"],
                          capture_output=True, text=True, env=env, timeout=120)


def test_duplicate_installed_distributions_are_named_in_the_message(tmp_path):
    site = tmp_path / "site"
    original = new_starter(tmp_path / "a", "twin-course", "Twin Course")
    _fake_install(site, original, "portal-pack-twin-course", "twin-course")
    copy = new_starter(tmp_path / "b", "twin-course", "Twin Course (test copy)")
    copy.root.parent.rename(copy.root.parent.with_name("portal_pack_twin_copy"))
    _fake_install(site, PackFolder(tmp_path / "b" / "twin-course" / "portal_pack_twin_copy" / "pack"),
                  "portal-pack-twin-copy", "aa-twin-copy")
    run = _start(tmp_path, site)
    assert run.returncode == 0 and "Traceback" not in run.stderr, run.stderr[-2000:]
    assert "the distribution portal-pack-twin-course 1.0.0" in run.stdout
    assert "the distribution portal-pack-twin-copy 1.0.0" in run.stdout
    assert "is set aside" in run.stdout


def test_an_install_older_than_its_manifest_is_named_at_start_up(tmp_path):
    site = tmp_path / "site"
    folder = new_starter(tmp_path / "src", "moved-on", "Moved on")
    _bump(folder, "1.1.0")
    _fake_install(site, folder, "portal-pack-moved-on", "moved-on", version="1.0.0")
    run = _start(tmp_path, site, code="print(app.extensions['packs'].get('moved-on').version)")
    assert run.returncode == 0 and run.stdout.strip() == "1.1.0", run.stderr[-2000:]
    assert "moved-on is version 1.1.0 but its installed distribution portal-pack-moved-on says 1.0.0" in run.stderr
    assert "install it again" in run.stderr


@pytest.mark.parametrize("mode", ["fail", "disable"])
def test_start_up_with_an_invalid_installed_pack_prints_no_traceback(tmp_path, mode):
    import os

    env = {**os.environ, "PYTHONPATH": str(_installed_broken_pack(tmp_path)), "PORTAL_DATA_DIR": str(tmp_path / "d"),
           "SECRET_KEY": "start-up-test", "PORTAL_INVALID_PACKS": mode}
    run = subprocess.run([sys.executable, "-c", "from portal.app import create_app_or_exit as c; "
                          "app = c(); print(sorted(d.name for d in app.extensions['packs'].disabled))"],
                         capture_output=True, text=True, env=env, timeout=120)
    assert "Traceback" not in run.stderr
    if mode == "fail":
        assert run.returncode == 4
        assert "The portal cannot start: content pack broken-dates" in run.stderr
        assert "valid_through: 2026-02-30 is not a day in the calendar" in run.stderr
    else:
        assert run.returncode == 0 and "['broken-dates']" in run.stdout


@pytest.mark.parametrize("value, fragment", [("30", "the lesson takes 20 minutes"), ("-5", "0 or more")])
def test_min_minutes_within_the_lessons_minutes(pack, value, fragment):
    pack.replace("    minutes: 20", f"    minutes: 20\n    min_minutes: {value}")
    expect_problem(pack.problems(), "pack.yaml", pack.line_of("min_minutes"), "min_minutes", fragment)


def test_an_unknown_key_with_brackets_is_named_as_written(pack):
    pack.replace("language: en", "language: en\ntitle[es]: Curso")
    expect_problem(pack.problems(), "pack.yaml", pack.line_of("title[es]"), "title[es] is not a key")
