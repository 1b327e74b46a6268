#!/usr/bin/env python3
"""Regenerate the media and downloads of the ``intro-sro-programs`` content pack.

What it builds (all outputs are overwritten on every run):

* ``pack/media/01-sro-role.mp4``        narrated slide video for lesson 1 (H.264 + AAC, < 1 MB)
* ``pack/media/01-sro-role-light.mp4``  lighter 426x240 rendition
* ``pack/media/01-sro-role.vtt``        WebVTT captions, one cue per narrated sentence
* ``pack/media/01-sro-role.txt``        plain-text transcript
* ``pack/media/01-sro-role.jpg``        poster frame (< 40 KB)
* ``pack/media/01-sro-role.avif``, ``.webp``  the poster in modern formats (9 and 14 KB)
* ``pack/downloads/sro-program-handout.pdf``  all lesson Markdown rendered as one handout
* ``pack/downloads/mou-checklist.pdf``        rendered from ``tools/mou-checklist.md``

It also rewrites the ``duration_seconds`` value for the video in ``pack/pack.yaml``
so the manifest always matches the rendered file.

The build steps are shared with the other bundled packs: ``content_packs/tools/packmedia.py``.

Requirements
------------
* ffmpeg and ffprobe with libx264, the native ``aac`` encoder and the ``drawtext``
  filter (Debian: ``apt-get install ffmpeg``)
* espeak-ng (Debian: ``apt-get install espeak-ng``)
* DejaVu fonts at /usr/share/fonts/truetype/dejavu (Debian: ``fonts-dejavu-core``)
* Python 3.11+ with ``weasyprint``, ``markdown-it-py`` and ``pyyaml``, e.g.::

      python3 -m venv /tmp/packvenv
      /tmp/packvenv/bin/pip install weasyprint markdown-it-py pyyaml
      /tmp/packvenv/bin/python tools/build_media.py

Usage::

    python tools/build_media.py            # build everything
    python tools/build_media.py --video    # only the video assets
    python tools/build_media.py --pdf      # only the PDFs

"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT.parent / "tools"))  # the shared packmedia build tool

import packmedia  # noqa: E402

PACK = ROOT / "portal_pack_intro_sro" / "pack"
MEDIA = PACK / "media"
DOWNLOADS = PACK / "downloads"
TOOLS = ROOT / "tools"

# --------------------------------------------------------------------------
# Lesson 1 video script. Each slide has on-screen text and a list of narration
# cues; every cue is synthesised separately, so caption timings come straight
# from the measured length of each spoken sentence.
# --------------------------------------------------------------------------

VIDEO_NAME = "01-sro-role"
VIDEO_TITLE = "What Is a School Resource Officer?"
FOOTER = "An Introduction to SRO Programs  |  Lesson 1"

SLIDES: list[dict] = [
    {
        "title": "What Is a School Resource Officer?",
        "body": [
            "A career, sworn officer",
            "Assigned to schools in a community policing role",
            "Works with educators and community partners",
        ],
        "cues": [
            "A school resource officer, or SRO, is a career, sworn officer assigned to schools in a community policing role.",
            "The SRO works in partnership with educators and community organizations.",
        ],
    },
    {
        "title": "1. Law Enforcement",
        "body": [
            "Address crime in and around campus",
            "Solve the problems behind repeat calls",
            "Link the school to community services",
        ],
        "cues": [
            "First, law enforcement.",
            "Address and prevent crime in and around campus.",
            "And connect the school with community services.",
        ],
    },
    {
        "title": "2. Mentorship",
        "body": [
            "Be a trusted adult on campus",
            "Reinforce positive behavior",
            "Trust brings information",
        ],
        "cues": [
            "Second, mentorship.",
            "Be a trusted adult who reinforces positive behavior.",
            "Students who trust you tell you about threats early.",
        ],
    },
    {
        "title": "3. Education",
        "body": [
            "Teach law and safety topics",
            "Internet safety, impaired driving, drug trends",
            "Fit your lessons to the teacher's plan",
        ],
        "cues": [
            "Third, education.",
            "Teach students about the law and about safety in their community.",
        ],
    },
    {
        "title": "4. Emergency Management",
        "body": [
            "Help build the school safety plan",
            "Plan and review drills",
            "Work with fire, EMS, and administrators",
        ],
        "cues": [
            "Fourth, emergency management.",
            "Help build and practice safety plans with administrators and first responders.",
        ],
    },
    {
        "title": "Discipline Is Not Your Job",
        "body": [
            "Administrators handle school rules",
            "The SRO handles crime and safety threats",
            "Put this line in the MOU",
        ],
        "cues": [
            "Routine discipline belongs to school administrators.",
            "Your role is crime and real threats to safety, and your MOU should say so.",
        ],
    },
]

# Words espeak-ng mispronounces, replaced in the spoken text only.
PRONUNCIATION = [
    (r"\bSROs\b", "S R O's"),
    (r"\bSRO\b", "S R O"),
    (r"\bMOUs\b", "M O U's"),
    (r"\bMOU\b", "M O U"),
    (r"\bNASRO\b", "Naz-row"),
    (r"\bEMS\b", "E M S"),
    (r"\bK[–-]12\b", "K through 12"),
]

LOOK = packmedia.Look(background="0x14324f", band="0x2a6f97", pronunciation=PRONUNCIATION)  # navy

PDF_CSS = packmedia.DOCUMENT_CSS


def build_pdfs() -> None:
    import yaml

    manifest = yaml.safe_load((PACK / "pack.yaml").read_text(encoding="utf-8"))
    provider = manifest["provider"]["name"]
    title = manifest["title"]
    footer = f"{provider} \u00b7 {manifest['provider']['website']}"

    # Handout: every lesson, in manifest order, from the pack's own Markdown.
    body = [f"<h1 class='doc-title'>{title}</h1>",
            f"<p class='doc-sub'>Course handout &middot; {provider} &middot; version {manifest['version']}</p>"]
    for n, lesson in enumerate(manifest["lessons"], 1):
        md_text = (PACK / lesson["file"]).read_text(encoding="utf-8")
        md_text = re.sub(r"^# ", f"# Lesson {n} \u2014 ", md_text, count=1, flags=re.M)
        body.append(f"<section class='lesson'>{packmedia.markdown_to_html(md_text)}</section>")
    packmedia.write_pdf("\n".join(body), DOWNLOADS / "sro-program-handout.pdf", title=title,
                        header=f"{title} \u2014 course handout", footer=footer, css=PDF_CSS, base_url=PACK)

    checklist_md = (TOOLS / "mou-checklist.md").read_text(encoding="utf-8")
    checklist_html = packmedia.markdown_to_html(checklist_md).replace(
        "<li>\u2610 ", "<li><span class='box'>\u2610</span>")
    packmedia.write_pdf(f"<div class='checklist'>{checklist_html}</div>", DOWNLOADS / "mou-checklist.pdf",
                        title="SRO Program MOU Review Checklist", header="SRO program MOU review checklist",
                        footer=footer, css=PDF_CSS, base_url=PACK)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--video", action="store_true", help="only build the lesson video assets")
    parser.add_argument("--pdf", action="store_true", help="only build the PDF downloads")
    args = parser.parse_args()
    if args.video or not args.pdf:
        packmedia.require_video_tools()
        print("video:")
        duration = packmedia.build_video(SLIDES, VIDEO_NAME, VIDEO_TITLE, FOOTER, MEDIA, LOOK)
        packmedia.set_duration(PACK / "pack.yaml", f"media/{VIDEO_NAME}.mp4", duration)
    if args.pdf or not args.video:
        print("pdf:")
        build_pdfs()


if __name__ == "__main__":
    main()
