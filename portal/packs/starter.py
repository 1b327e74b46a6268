"""The starter pack `portal packs new` writes: small, complete and valid."""

from __future__ import annotations

from pathlib import Path

PYPROJECT = '''[build-system]
requires = ["setuptools>=69"]
build-backend = "setuptools.build_meta"

[project]
name = "portal-pack-{name}"
version = "1.0.0"
description = "{title}: a content pack for the training portal"
requires-python = ">=3.11"
dependencies = ["safety-training-portal>=0.1,<1"]

[project.entry-points."portal.content_packs.v1"]
{name} = "{package}"

[tool.setuptools]
packages = ["{package}"]

[tool.setuptools.package-data]
{package} = ["pack/*", "pack/**/*"]
'''

INIT = '''"""{title}: a content pack for the training portal (data only)."""

from pathlib import Path

from portal.plugins import hookimpl

PACK_DIR = Path(__file__).with_name("pack")


@hookimpl
def portal_content_pack_dirs() -> list[Path]:
    return [PACK_DIR]
'''

MANIFEST = '''format: 1
id: {name}
version: 1.0.0
title: {title}
provider:
  name: Your Organization
  website: https://www.example.org
  contact: training@example.org
kind: course
summary: One sentence that tells an officer what this course is for.
description: |
  Describe the course in Markdown: who it is for, what learners will be able
  to do afterwards, and how long it takes.
topics: [community policing]
audience: [law enforcement]
estimated_hours: 1
language: en
portal_versions: ">=0.1,<1"
pass_mark: 80
lessons:
  - id: welcome
    title: Welcome
    file: lessons/01-welcome.md
    minutes: 10
    # video:                           # optional; every video file needs WebVTT captions
    #   file: media/welcome.mp4        # or url: https://...
    #   captions: media/welcome.vtt
    #   transcript: media/welcome.txt
    #   poster: media/welcome.jpg
    #   light: media/welcome-light.mp4
    #   duration_seconds: 90
  - id: key-ideas
    title: Key ideas
    file: lessons/02-key-ideas.md
    minutes: 20
downloads:
  - id: handout
    title: Course handout
    file: downloads/handout.txt
assessments:
  bank: questions.yaml
  pre: {{draw: 3}}
  post: {{draw: 3}}
# accreditation:
#   - state: AZ
#     body: Arizona POST
#     status: approved
#     number: "AZ-0000"
#     credit_hours: 1
#     valid_from: 2026-01-01
#     valid_through: 2026-12-31
'''

LESSON_1 = '''# Welcome

Replace this text with your first lesson. Lessons are Markdown: headings,
lists, **emphasis**, tables and [links](https://www.example.org) all work.
Raw HTML is not allowed.

Link to a download with a relative path: [the course handout](../downloads/handout.txt).
'''

LESSON_2 = '''# Key ideas

1. Write short paragraphs.
2. Say what the officer should do, and why.
3. End each lesson with a summary.
'''

QUESTIONS = '''questions:
  - id: purpose
    use: [pre, post]
    type: single
    text: What is the main purpose of this course?
    choices:
      - {id: a, text: The purpose you describe, correct: true}
      - {id: b, text: Something else}
    feedback: Explain the right answer here; learners see it after the post-test.
  - id: practices
    use: [pre, post]
    type: multiple
    text: Which of these are good practices?
    choices:
      - {id: a, text: A good practice, correct: true}
      - {id: b, text: Another good practice, correct: true}
      - {id: c, text: A poor practice}
  - id: self-paced
    use: [pre, post]
    type: true_false
    text: Learners can stop and resume the course later.
    answer: true
'''


def write_starter_pack(target: Path, name: str, title: str) -> Path:
    """Write the distribution; return the folder holding pack.yaml."""
    package = "portal_pack_" + name.replace("-", "_")
    pack_dir = target / package / "pack"
    for folder in (pack_dir / "lessons", pack_dir / "downloads"):
        folder.mkdir(parents=True, exist_ok=True)
    (target / "pyproject.toml").write_text(PYPROJECT.format(name=name, title=title, package=package))
    (target / "README.md").write_text(f"# {title}\n\nA content pack for the training portal. "
                                      f"Check it with `portal packs validate {target}`.\n")
    (target / package / "__init__.py").write_text(INIT.format(title=title))
    (pack_dir / "pack.yaml").write_text(MANIFEST.format(name=name, title=title))
    (pack_dir / "lessons" / "01-welcome.md").write_text(LESSON_1)
    (pack_dir / "lessons" / "02-key-ideas.md").write_text(LESSON_2)
    (pack_dir / "questions.yaml").write_text(QUESTIONS)
    (pack_dir / "downloads" / "handout.txt").write_text(f"{title}\n\nReplace this handout with your own file.\n")
    return pack_dir
