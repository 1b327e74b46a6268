"""The provider's journey, from docs/content-packs.md alone: write a pack out of the guide's own
examples, validate the folder, build and validate the wheel, install it (pip, into a folder of
its own), serve it, then publish 1.1 (a lesson added before the others, a lesson edited, a
question removed, a changelog) while one learner is halfway and another is in the post-test."""

from __future__ import annotations

import importlib.util
import re
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from portal.cli import main
from tests.helpers import log_in, make_user, submit
from tests.learning.journey import enroll, take_test
from tests.packs.packtools import REPO, new_starter

DOCS = (REPO / "docs" / "content-packs.md").read_text(encoding="utf-8")
MP4 = b"\x00\x00\x00\x18ftypmp42" + b"\x00" * 64
JPEG = b"\xff\xd8\xff\xe0" + b"\x00" * 32
AVIF = b"\x00\x00\x00\x1cftypavif" + b"\x00" * 32
WEBP = b"RIFF\x24\x00\x00\x00WEBPVP8 " + b"\x00" * 32
VTT = "WEBVTT\n\n00:00:00.000 --> 00:00:05.000\nThe officer chooses a well-lit place to stop.\n"
PACK_ID = "traffic-stops-101"


def docs_block(first_line: str, fence: str = "```") -> str:
    """The guide's code block whose first line is `first_line` (fails if the guide lost it)."""
    pattern = re.compile(rf"^{re.escape(fence)}\w*\n({re.escape(first_line)}\n.*?)^{re.escape(fence)}$", re.M | re.S)
    match = pattern.search(DOCS)
    assert match, f"docs/content-packs.md has no code block starting {first_line!r}"
    return match.group(1)


def write_pack_from_the_docs(parent: Path):
    folder = new_starter(parent, PACK_ID, "Traffic Stops 101")  # `portal packs new`, as the guide starts
    # min_minutes would hold the test's learners on a page; it is the learning area's to test
    lessons = "".join(line for line in docs_block("lessons:").splitlines(True) if "min_minutes" not in line)
    lessons += ("  - id: approach\n    title: Approaching the vehicle\n    file: lessons/02-approach.md\n"
                "    minutes: 15\n")
    assessments = docs_block("assessments:").replace("pre: {draw: 10}", "pre: {draw: 2}") \
        .replace("post: {draw: 10}", "post: {draw: 2}")
    manifest = folder.read()
    manifest = manifest[:manifest.index("lessons:")] + lessons + """downloads:
  - id: handout
    title: Stop checklist (PDF)
    file: downloads/stop-checklist.pdf
""" + assessments + docs_block("accreditation:")
    manifest = manifest.replace("estimated_hours: 1", "estimated_hours: 4")
    folder.write("pack.yaml", manifest)
    folder.write("questions.yaml", docs_block("questions:"))
    folder.write("lessons/01-stop-basics.md", "# The basics of a stop\n\nEvery stop is a seizure.\n\n"
                                              "[The checklist](../downloads/stop-checklist.pdf)\n")
    folder.write("lessons/02-approach.md", docs_block("# Approaching the vehicle", fence="````"))
    folder.write("downloads/stop-checklist.pdf", b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj<<>>endobj\n%%EOF\n")
    folder.delete("lessons/01-welcome.md")
    folder.delete("lessons/02-key-ideas.md")
    folder.delete("downloads/handout.txt")
    for stem in ("stop-basics", "approach", "second"):
        folder.write(f"media/{stem}.mp4", MP4)
        folder.write(f"media/{stem}.vtt", VTT)
    for name in ("stop-basics-light.mp4", "stop-basics-1080.mp4", "approach-light.mp4"):
        folder.write(f"media/{name}", MP4)
    folder.write("media/stop-basics.jpg", JPEG)
    folder.write("media/stop-basics.avif", AVIF)  # the guide's poster_sources
    folder.write("media/stop-basics.webp", WEBP)
    folder.write("media/approach.jpg", JPEG)
    folder.write("media/stop-basics.txt", "The officer chooses a well-lit place to stop.\n")
    return folder


def cli(*args):
    result = CliRunner().invoke(main, list(map(str, args)), catch_exceptions=False)
    return result.exit_code, result.output


def build_and_install(folder, into: Path, tag: str):
    """`portal packs build`, `portal packs validate` on the wheel, `pip install` it into `into`,
    and the installed module as the plugin the entry point names."""
    dist = folder.root.parent.parent
    code, out = cli("packs", "build", dist, "--outdir", into / "dist")
    assert code == 0, out
    [wheel] = (into / "dist").glob("*.whl")
    code, out = cli("packs", "validate", wheel)
    assert code == 0 and f"{wheel.name}!/portal_pack_traffic_stops_101/pack: OK" in out, out
    subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--target", str(into / "site"),
                    str(wheel)], check=True, capture_output=True)
    entry = (into / "site").glob("*.dist-info/entry_points.txt")
    assert "traffic-stops-101 = portal_pack_traffic_stops_101" in next(entry).read_text()
    init = into / "site" / "portal_pack_traffic_stops_101" / "__init__.py"
    spec = importlib.util.spec_from_file_location(f"installed_{tag}_portal_pack_traffic_stops_101", init)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_provider_writes_validates_builds_installs_and_upgrades(make_app, tmp_path):
    folder = write_pack_from_the_docs(tmp_path / "src")
    code, out = cli("packs", "validate", folder.root.parent.parent)
    assert code == 0, out
    assert "OK — traffic-stops-101 1.0.0 (course, 2 lessons, 3 questions, 1 download)" in out

    v1 = build_and_install(folder, tmp_path / "v1", "v1")
    app = make_app(EXTRA_PLUGINS=[v1])
    pack = app.extensions["packs"].get(PACK_ID)
    assert pack.version == "1.0.0" and [len(lesson.media) for lesson in pack.lessons] == [0, 2]
    assert pack.lessons[0].video.renditions == (("media/stop-basics-1080.mp4", 1080),)

    # One learner halfway (first lesson done), one in the middle of the post-test.
    for email in ("halfway@example.gov", "intest@example.gov"):
        make_user(app, email=email)
    halfway, intest = app.test_client(), app.test_client()
    log_in(halfway, "halfway@example.gov")
    enroll(halfway, PACK_ID)
    take_test(halfway, app, "pre", pack_id=PACK_ID)
    first = f"/learn/{PACK_ID}/lessons/stop-basics"
    assert submit(halfway, first + "/complete", {}, form_page=first).status_code == 303
    log_in(intest, "intest@example.gov")
    enroll(intest, PACK_ID)
    take_test(intest, app, "pre", pack_id=PACK_ID)
    for lesson in pack.lessons:
        page = f"/learn/{PACK_ID}/lessons/{lesson.id}"
        assert submit(intest, page + "/complete", {}, form_page=page).status_code == 303
    post = f"/learn/{PACK_ID}/tests/post"
    submit(intest, post + "/start", {}, form_page=post)

    # 1.1: a new first lesson, an edited lesson, a question removed, the changelog.
    folder.replace("version: 1.0.0", 'version: "1.1.0"')
    pyproject = folder.root.parent.parent / "pyproject.toml"
    pyproject.write_text(pyproject.read_text().replace('version = "1.0.0"', 'version = "1.1.0"'))
    folder.replace("lessons:\n", "lessons:\n  - id: why-stops\n    title: Why we stop vehicles\n"
                                 "    file: lessons/00-why.md\n    minutes: 10\n")
    folder.write("lessons/00-why.md", "# Why we stop vehicles\n\nSafety first.\n")
    folder.append("lessons/01-stop-basics.md", "\nA stop needs reasonable suspicion.\n")
    bank = folder.read("questions.yaml")
    folder.write("questions.yaml", bank[:bank.index("  - id: stop-explain")])
    update = docs_block('version: "1.1.0"')
    folder.append("pack.yaml", update[update.index("changelog:"):])
    folder.replace("pre: {draw: 2}", "pre: {draw: 1}")
    v2 = build_and_install(folder, tmp_path / "v2", "v2")
    upgraded = make_app(EXTRA_PLUGINS=[v2])
    pack = upgraded.extensions["packs"].get(PACK_ID)
    assert pack.version == "1.1.0" and [lesson.id for lesson in pack.lessons][0] == "why-stops"

    for email in ("halfway@example.gov", "intest@example.gov"):
        client = upgraded.test_client()
        log_in(client, email)
        page = client.get(f"/courses/{PACK_ID}").get_data(as_text=True)
        assert "updated since you started it (version 1.0.0, now 1.1.0)" in page, email
        assert "A new lesson, &#34;Approaching the vehicle&#34;, comes before the post-test." in page or \
            "A new lesson, \"Approaching the vehicle\", comes before the post-test." in page
    newcomer = upgraded.test_client()
    make_user(upgraded, email="new@example.gov")
    log_in(newcomer, "new@example.gov")
    enroll(newcomer, PACK_ID)
    assert "updated since you started" not in newcomer.get(f"/courses/{PACK_ID}").get_data(as_text=True)


@pytest.fixture(autouse=True)
def _no_stray_modules():
    yield
    for name in [n for n in sys.modules if n.startswith("installed_v")]:
        del sys.modules[name]
