"""Seventy mistakes authors make, walked one by one: each must be caught (an error, or a warning
where the pack still works as meant) with the file, the line where there is one, and words that
say what to fix. Nothing may crash the validator. `python -m tests.packs.test_seventy_mistakes`
prints the tally (clear / unclear / uncaught / crash)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import pytest

from portal.packs.loader import check_pack
from tests.packs.packtools import PORTAL_VERSION, PackFolder, new_starter

MP4 = b"\x00\x00\x00\x18ftypmp42" + b"\x00" * 64
JPEG = b"\xff\xd8\xff\xe0" + b"\x00" * 32
VTT = "WEBVTT\n\n00:00:00.000 --> 00:00:05.000\nWelcome to the course.\n"
VIDEO = """    video:
      file: media/welcome.mp4
      captions: media/welcome.vtt
      poster: media/welcome.jpg
      light: media/welcome-light.mp4
      duration_seconds: 90
"""
ACCREDITATION = """accreditation:
  - state: AZ
    body: Arizona POST
    status: approved
    number: "AZ-0000"
    credit_hours: 1
    valid_from: 2026-01-01
    valid_through: 2026-12-31
"""
Q, L1, L2 = "questions.yaml", "lessons/01-welcome.md", "lessons/02-key-ideas.md"


def base(parent: Path) -> PackFolder:
    """The starter with a video on its first lesson and an accreditation: every section in use."""
    pack = new_starter(parent)
    text = pack.read()
    start = text.index("    # video:")
    end = text.index("  - id: key-ideas")
    pack.write("pack.yaml", text[:start] + VIDEO + text[end:text.index("# accreditation:")] + ACCREDITATION)
    for name, content in (("media/welcome.mp4", MP4), ("media/welcome-light.mp4", MP4), ("media/welcome.jpg", JPEG),
                          ("media/welcome.vtt", VTT)):
        pack.write(name, content)
    return pack


def swap(old: str, new: str, rel: str = "pack.yaml") -> Callable[[PackFolder], None]:
    return lambda pack: pack.replace(old, new, rel)


def write(rel: str, content) -> Callable[[PackFolder], None]:
    return lambda pack: pack.write(rel, content)


def both(*steps) -> Callable[[PackFolder], None]:
    def run(pack):
        for step in steps:
            step(pack)
    return run


@dataclass(frozen=True)
class Mistake:
    name: str
    make: Callable[[PackFolder], None]
    file: str
    words: tuple[str, ...]
    line: str | None = None  # text on the line the problem must point at (None: no line expected)
    warning: bool = False


def m(name, make, file, *words, line=None, warning=False) -> Mistake:
    return Mistake(name, make, file, words, line, warning)


FENCE = "```video\nfile: ../media/welcome.mp4\ncaptions: ../media/welcome.vtt\n```\n"
MISTAKES = [
    # -- the manifest's own fields
    m("id missing", swap("id: starter-course\n", ""), "pack.yaml", "id is required"),
    m("id with capitals", swap("id: starter-course", "id: Starter-Course"), "pack.yaml", "lowercase", line="id: Starter"),
    m("version not a version", both(swap("version: 1.0.0", "version: one")), "pack.yaml", "not a version number",
      line="version: one"),
    m("version differs from pyproject", swap("version: 1.0.0", 'version: "1.0.1"'), "pack.yaml", "pyproject.toml",
      "raise both", line="version:"),
    m("version as a float", swap("version: 1.0.0", "version: 1.0"), "pack.yaml", "quote", line="version: 1.0",
      warning=True),
    m("kind capitalised", swap("kind: course", "kind: Course"), "pack.yaml", "must be one of", line="kind:"),
    m("website over http", swap("https://www.example.org", "http://www.example.org"), "pack.yaml", "https://",
      line="website:"),
    m("summary too long", swap("summary: One sentence", "summary: " + "x" * 320 + " One sentence"), "pack.yaml",
      "longer than 300", line="summary:"),
    m("hours as words", swap("estimated_hours: 1", "estimated_hours: one hour"), "pack.yaml", "number",
      line="estimated_hours"),
    m("hours below the lessons' minutes", swap("estimated_hours: 1", "estimated_hours: 0.25"), "pack.yaml",
      "at least 0.5", line="estimated_hours"),
    m("portal version out of range", swap('">=0.1,<1"', '">=5"'), "pack.yaml", "this portal is",
      line="portal_versions"),
    m("portal version not a range", swap('">=0.1,<1"', "latest"), "pack.yaml", "version range", line="portal_versions"),
    m("pass mark below 80", swap("pass_mark: 80", "pass_mark: 70"), "pack.yaml", "80 to 100", line="pass_mark"),
    m("misspelt key", swap("pass_mark: 80", "passmark: 90"), "pack.yaml", "did you mean `pass_mark`",
      line="passmark"),
    m("unknown key", swap("language: en", "language: en\ninstructor: Sgt. Lee"), "pack.yaml", "allowed here",
      line="instructor"),
    m("tab indentation", swap("  name: Your Organization", "\tname: Your Organization"), "pack.yaml",
      "not valid YAML"),
    m("document is a list", write("pack.yaml", "- id: starter-course\n"), "pack.yaml", "mapping"),
    m("lesson file missing", swap("file: lessons/01-welcome.md", "file: lessons/01-welcom.md"), "pack.yaml",
      "does not exist", line="01-welcom.md"),
    m("minutes as words", swap("    minutes: 20", "    minutes: 20 min"), "pack.yaml", "integer",
      line="minutes: 20 min"),
    m("minutes with a leading zero", swap("    minutes: 20", "    minutes: 020"), "pack.yaml", "leading zero",
      line="minutes: 020"),
    m("lesson id twice", swap("  - id: key-ideas", "  - id: welcome"), "pack.yaml", "used twice"),
    m("lesson outside the pack", swap("file: lessons/01-welcome.md", "file: ../outside.md"), "pack.yaml",
      "inside the pack", line="../outside.md"),
    m("lesson not UTF-8", write(L2, "# Key ideas\n\nCaf\xe9\n".encode("cp1252")), L2, "not UTF-8"),
    m("lesson without heading", write(L2, "Short paragraphs.\n"), L2, "no heading", line="Short paragraphs"),
    m("raw HTML in a lesson", write(L2, "# Key ideas\n\n<div>Boxed</div>\n"), L2, "raw HTML", line="<div>"),
    m("javascript link", write(L2, "# Key ideas\n\n[x](javascript:alert(1))\n"), L2, "unsafe link", line="[x]"),
    m("broken relative link", write(L2, "# Key ideas\n\n[x](../downloads/nothing.pdf)\n"), L2, "broken link",
      line="[x]"),
    m("link to an unlisted file", both(write("downloads/secret.txt", "x\n"),
                                       write(L2, "# Key ideas\n\n[x](../downloads/secret.txt)\n")), L2,
      "only downloads", line="[x]"),
    m("image without description", both(write("media/map.png", b"\x89PNG\r\n\x1a\n" + b"\x00" * 32),
                                        write(L2, "# Key ideas\n\n![](../media/map.png)\n")), L2, "description",
      line="![]"),
    m("image that is not an image", both(write("media/map.png", "text\n"),
                                         write(L2, "# Key ideas\n\n![A map](../media/map.png)\n")), L2,
      "named as an image", line="![A map]"),
    m("video fence without captions", write(L2, "# Key ideas\n\n```video\nfile: ../media/welcome.mp4\n```\n"), L2,
      "no captions", line="file: ../media"),
    m("video fence misspelt key", write(L2, "# Key ideas\n\n" + FENCE.replace("captions:", "caption:")), L2,
      "did you mean", line="caption:"),
    m("video fence file missing", write(L2, "# Key ideas\n\n" + FENCE.replace("welcome.mp4", "gone.mp4")), L2,
      "does not exist", line="gone.mp4"),
    # -- video
    m("video without captions", swap("      captions: media/welcome.vtt\n", ""), "pack.yaml", "captions"),
    m("captions as SRT", both(write("media/welcome.srt", "1\n00:00:00,000 --> 00:00:05,000\nHi\n"),
                              swap("captions: media/welcome.vtt", "captions: media/welcome.srt")), "pack.yaml",
      "WebVTT", line="captions:"),
    m("captions not UTF-8", write("media/welcome.vtt", "WEBVTT\n\n00:00:00.000 --> 00:00:05.000\nCaf\xe9\n"
                                  .encode("cp1252")), "media/welcome.vtt", "not UTF-8", line="Caf"),
    m("cue running backwards", write("media/welcome.vtt", "WEBVTT\n\n00:00:05.000 --> 00:00:01.000\nHi\n"),
      "media/welcome.vtt", "ends before it starts", line="-->"),
    m("cue with SRT commas", write("media/welcome.vtt", "WEBVTT\n\n00:00:01,000 --> 00:00:04,000\nHi\n"),
      "media/welcome.vtt", "three digits", line="-->"),
    m("video that is not a video", write("media/welcome.mp4", "speaker notes\n"), "pack.yaml", "MP4",
      line="file: media/welcome.mp4"),
    m("poster that is a video", write("media/welcome.jpg", MP4), "pack.yaml", "video/mp4", line="poster:"),
    m("video url over http", swap("      file: media/welcome.mp4\n", "      url: http://video.example.org/w.mp4\n"),
      "pack.yaml", "https://", line="url:"),
    m("video with file and url", swap("      file: media/welcome.mp4\n", "      file: media/welcome.mp4\n"
                                      "      url: https://video.example.org/w.mp4\n"), "pack.yaml",
      "exactly one of"),
    m("renditions not a list", swap("      duration_seconds: 90", "      duration_seconds: 90\n      renditions: 1080"),
      "pack.yaml", "must be a list", line="renditions"),
    # -- downloads
    m("download missing", swap("file: downloads/handout.txt", "file: downloads/handout.pdf"), "pack.yaml",
      "does not exist", line="handout.pdf"),
    m("download is a web page", both(write("downloads/handout.html", "<html><script>x</script></html>"),
                                     swap("file: downloads/handout.txt", "file: downloads/handout.html")),
      "pack.yaml", "active content", line="handout.html"),
    m("pdf that is not a pdf", both(write("downloads/handout.pdf", "text\n"),
                                    swap("file: downloads/handout.txt", "file: downloads/handout.pdf")),
      "pack.yaml", "application/pdf", line="handout.pdf"),
    m("download over the size budget", write("downloads/handout.txt", "x" * (26 * 1024 * 1024)), "pack.yaml",
      "over the budget", line="handout.txt"),
    # -- assessments and the bank
    m("bank missing", swap("bank: questions.yaml", "bank: question.yaml"), "pack.yaml", "does not exist",
      line="bank:"),
    m("draw larger than the bank", swap("  post: {draw: 3}", "  post: {draw: 5}"), "pack.yaml", "only 3",
      line="post:"),
    m("draw of zero", swap("  post: {draw: 3}", "  post: {draw: 0}"), "pack.yaml", "at least 1", line="post:"),
    m("misspelt draw", swap("  post: {draw: 3}", "  post: {draws: 3}"), "pack.yaml", "did you mean `draw`",
      line="post:"),
    m("question without text", swap("    text: What is the main purpose of this course?\n", "", Q), Q,
      "text is required"),
    m("question type misspelt", swap("    type: single", "    type: single-choice", Q), Q, "must be one of",
      line="single-choice"),
    m("two right answers in a single", swap("{id: b, text: Something else}",
                                            "{id: b, text: Something else, correct: true}", Q), Q,
      "exactly one correct"),
    m("every choice right in a multiple", swap("{id: c, text: A poor practice}",
                                               "{id: c, text: A poor practice, correct: true}", Q), Q,
      "one wrong choice"),
    m("true_false answer as yes", swap("    answer: true", "    answer: yes", Q), Q, "answer: true",
      line="answer: yes"),
    m("correct: yes", swap("correct: true}", "correct: yes}", Q), Q, "write correct: true", line="correct: yes"),
    m("choice No unquoted", swap("{id: b, text: Something else}", "{id: b, text: No}", Q), Q, 'text: "No"',
      line="text: No", warning=True),
    m("comma in a flow choice", swap("{id: b, text: Something else}", "{id: b, text: Every officer, so it is}", Q),
      Q, "quotes", line="Every officer"),
    m("use misspelt", swap("    use: [pre, post]", "    use: [final]", Q), Q, "use must be", line="[final]"),
    m("question id twice", swap("  - id: practices", "  - id: purpose", Q), Q, "used twice"),
    m("one choice only", swap("      - {id: b, text: Something else}\n", "", Q), Q, "at least two choices"),
    m("choose all that apply", swap("good practices?", "good practices? Choose all that apply.", Q), Q,
      "already adds", line="Choose all", warning=True),
    # -- accreditation
    m("state spelt out", swap("  - state: AZ", "  - state: Arizona"), "pack.yaml", "two-letter", line="Arizona"),
    m("status misspelt", swap("status: approved", "status: approve"), "pack.yaml", "must be one of",
      line="status:"),
    m("impossible date", swap("valid_through: 2026-12-31", "valid_through: 2026-02-30"), "pack.yaml",
      "not a day in the calendar", line="valid_through"),
    m("dates reversed", swap("valid_through: 2026-12-31", "valid_through: 2025-12-31"), "pack.yaml",
      "before valid_from", line="valid_through"),
    m("approval number with a leading zero", swap('number: "AZ-0000"', "number: 0417"), "pack.yaml", "271",
      line="number: 0417", warning=True),
    m("credit hours above the course's", swap("credit_hours: 1", "credit_hours: 3"), "pack.yaml", "more than",
      line="credit_hours"),
    # -- changelog
    m("changelog ahead of the pack", swap("pass_mark: 80", "pass_mark: 80\nchangelog:\n  - version: 2.0.0\n"
                                          "    changes: [Later]"), "pack.yaml", "newer than", line="version: 2.0.0"),
]


def _line_of(pack: PackFolder, needle: str, rel: str) -> int:
    text = pack.path(rel).read_bytes().decode("utf-8", errors="replace")  # some mistakes are encodings
    return next(n for n, line in enumerate(text.splitlines(), 1) if needle in line)


def outcome(pack: PackFolder, mistake: Mistake) -> tuple[str, str]:
    """clear / unclear / uncaught / crash, and what was said."""
    try:
        found = check_pack(pack.root, PORTAL_VERSION)
    except Exception as error:  # noqa: BLE001 - that is the finding
        return "crash", repr(error)
    if any("could not finish" in p.message for p in found):
        return "crash", "; ".join(map(str, found))
    said = "\n".join(map(str, found)) or "(nothing)"
    wanted_line = _line_of(pack, mistake.line, mistake.file) if mistake.line else None
    for problem in found:
        if problem.file != mistake.file or problem.warning != mistake.warning:
            continue
        if all(word.lower() in problem.message.lower() for word in mistake.words):
            return ("clear" if wanted_line in (None, problem.line) else "unclear"), said
    relevant = [p for p in found if p.warning == mistake.warning]
    return ("unclear" if relevant else "uncaught"), said


@pytest.mark.parametrize("mistake", MISTAKES, ids=[mistake.name for mistake in MISTAKES])
def test_each_mistake_is_caught_with_its_file_line_and_fix(tmp_path, mistake):
    pack = base(tmp_path)
    assert check_pack(pack.root, PORTAL_VERSION) == [], "the base pack must be clean"
    mistake.make(pack)
    verdict, said = outcome(pack, mistake)
    assert verdict == "clear", f"{mistake.name}: {verdict}\n{said}"


def test_there_are_seventy():
    assert len(MISTAKES) == 70 and len({m.name for m in MISTAKES}) == 70


if __name__ == "__main__":  # the tally for the closing note
    import tempfile
    from collections import Counter

    tally = Counter()
    for mistake in MISTAKES:
        with tempfile.TemporaryDirectory() as temp:
            pack = base(Path(temp))
            mistake.make(pack)
            verdict, said = outcome(pack, mistake)
            tally[verdict] += 1
            if verdict != "clear":
                print(f"{verdict}: {mistake.name}\n  {said}")
    print(", ".join(f"{key} {tally[key]}" for key in ("clear", "unclear", "uncaught", "crash")))
