#!/usr/bin/env python3
"""Regenerate the media and downloads of the ``rollcall-school-safety`` content pack.

What it builds (all outputs are overwritten on every run), for each episode NAME:

* ``pack/media/NAME.mp4``        narrated slide video (H.264 + AAC, 640x360, < 1 MB, 45-90 s)
* ``pack/media/NAME-light.mp4``  lighter 426x240 rendition
* ``pack/media/NAME.vtt``        WebVTT captions, one cue per narrated sentence
* ``pack/media/NAME.txt``        plain-text transcript
* ``pack/media/NAME.jpg``        poster frame (< 40 KB)

and ``pack/downloads/discussion-guide.pdf``, a facilitator's guide built from
``pack.yaml`` (episode summaries and discussion prompts) and the episode notes in
``pack/lessons/``. It also rewrites each episode's ``duration_seconds`` in
``pack/pack.yaml`` so the manifest always matches the rendered files.

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
    python tools/build_media.py --pdf      # only the discussion guide

"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT.parent / "tools"))  # the shared packmedia build tool

import packmedia  # noqa: E402

PACK = ROOT / "portal_pack_rollcall_school_safety" / "pack"
MEDIA = PACK / "media"
DOWNLOADS = PACK / "downloads"

MIN_SECONDS, MAX_SECONDS = 45, 90

# --------------------------------------------------------------------------
# Episode scripts. Each slide has on-screen text and a list of narration cues;
# every cue is synthesised separately, so caption timings come straight from the
# measured length of each spoken sentence.
# --------------------------------------------------------------------------

SERIES = "School Safety Roll Call"

EPISODES: list[dict] = [
    {
        "name": "ep1-building-rapport",
        "title": "Building Rapport on Campus",
        "slides": [
            {
                "title": "Building Rapport on Campus",
                "body": ["School Safety Roll Call", "Episode 1"],
                "cues": [
                    "Roll call, episode one: building rapport on campus.",
                    "On a school campus, rapport is not a bonus. It is how you learn what is going on.",
                ],
            },
            {
                "title": "Be Seen at the Right Times",
                "body": ["Arrival, lunch, and dismissal", "Walk the halls; skip the office",
                         "Learn names and use them"],
                "cues": [
                    "Be visible at arrival, lunch, and dismissal, when students are together.",
                    "Get out of the office and walk the halls.",
                    "Learn names, and use them.",
                ],
            },
            {
                "title": "Make Most Contacts Positive",
                "body": ["Greet, ask, listen", "Show up at games and events", "Keep small promises"],
                "cues": [
                    "Most of your contacts should be positive ones.",
                    "Ask about the game, the test, or the new job.",
                    "If you promise to follow up, follow up.",
                ],
            },
            {
                "title": "Be Fair, Every Time",
                "body": ["One standard for every student", "Students notice who gets a pass",
                         "Explain your decisions"],
                "cues": [
                    "Students watch how you treat everyone.",
                    "Hold the star athlete and the quiet kid in the back to the same standard.",
                    "When you make a call, explain it.",
                ],
            },
            {
                "title": "Why It Matters",
                "body": ["Trust brings information", "Fights, threats, self-harm", "One tip can prevent harm"],
                "cues": [
                    "Trust is what brings you information.",
                    "Students tell officers they know about fights, threats, and friends who are hurting.",
                    "That one tip can prevent the next incident.",
                ],
            },
        ],
    },
    {
        "name": "ep2-threat-report",
        "title": "Responding to a Threat Report",
        "slides": [
            {
                "title": "A Threat Report Comes In",
                "body": ["A student shows you a post:",
                         "\u201cDon't come to school Friday.\u201d"],
                "cues": [
                    "A student shows you a classmate's post. It says: don't come to school Friday.",
                    "Here is how to handle it with your school's threat assessment team.",
                ],
            },
            {
                "title": "Safety First",
                "body": ["Imminent danger? Act now", "Threat assessment never delays",
                         "an emergency response"],
                "cues": [
                    "First, decide whether there is imminent danger.",
                    "If there is, act now under your agency's policy, as you would on patrol.",
                ],
            },
            {
                "title": "Bring In the Team",
                "body": ["Notify the team leader right away", "Preserve the post: account, date, time",
                         "Protect the student who reported"],
                "cues": [
                    "If it isn't imminent, notify the team leader right away.",
                    "Preserve the evidence, including the account name, date, and time.",
                    "And protect the student who came forward.",
                ],
            },
            {
                "title": "Gather Information",
                "body": ["Many sources, not one interview", "Grievances, stressors, changes",
                         "Your part: records, weapons access"],
                "cues": [
                    "The team gathers information from many sources.",
                    "Look for grievances, stressors, and changes in behavior.",
                    "Your part includes law enforcement checks, such as prior contacts and access to firearms.",
                ],
            },
            {
                "title": "Assess and Manage",
                "body": ["Made a threat, or poses one?", "Support and monitoring plan",
                         "Charges are a separate decision"],
                "cues": [
                    "The key question is whether the student poses a threat, not just whether they made one.",
                    "Most cases are managed with support, supervision, and family involvement.",
                    "Whether to file charges is a separate decision under the law and your policy.",
                ],
            },
            {
                "title": "Learn More",
                "body": ["U.S. Secret Service", "National Threat Assessment Center", "secretservice.gov/protection/ntac"],
                "cues": [
                    "To learn more, see the school threat assessment guide from the Secret Service National Threat Assessment Center.",
                ],
            },
        ],
    },
    {
        "name": "ep3-deescalation",
        "title": "De-escalation with Students",
        "slides": [
            {
                "title": "De-escalation with Students",
                "body": ["School Safety Roll Call", "Episode 3"],
                "cues": [
                    "Roll call, episode three: de-escalation with students.",
                    "Most campus incidents don't need force. They need time, distance, and a calm voice.",
                ],
            },
            {
                "title": "Slow It Down",
                "body": ["Is anyone in danger right now?", "Time and distance are tools", "Don't rush a standoff"],
                "cues": [
                    "Slow things down.",
                    "If no one is in immediate danger, use time and distance to your advantage.",
                ],
            },
            {
                "title": "Lower the Audience",
                "body": ["Move away from the crowd", "Clear the hallway", "One adult does the talking"],
                "cues": [
                    "Teenagers act out for an audience. Move away from the crowd if you can.",
                    "Have one adult do the talking.",
                ],
            },
            {
                "title": "Talk Less, Listen More",
                "body": ["Low, calm voice", "Short, simple sentences", "Name the feeling"],
                "cues": [
                    "Use a low voice and short sentences.",
                    "Listen, and name what you hear. You sound really angry about what happened in class.",
                ],
            },
            {
                "title": "Offer Choices",
                "body": ["Two acceptable options", "Explain what happens next", "Let them save face"],
                "cues": [
                    "Offer choices. Do you want to talk here, or in the counselor's office?",
                    "Tell the student what happens next, and let them save face.",
                ],
            },
            {
                "title": "Know the Student",
                "body": ["IEP, 504, and behavior plans", "Let trained staff lead when safe",
                         "Defiance may be fear"],
                "cues": [
                    "Some students have disability or behavior plans. Let trained staff lead when it is safe to.",
                    "And remember, what looks like defiance may be fear.",
                ],
            },
        ],
    },
]

# Words espeak-ng mispronounces, replaced in the spoken text only.
PRONUNCIATION = [
    (r"\bSROs\b", "S R O's"),
    (r"\bSRO\b", "S R O"),
    (r"\bIEP\b", "I E P"),
    (r"\b504\b", "five oh four"),
]

LOOK = packmedia.Look(background="0x1e2833", band="0x8c2f39", pronunciation=PRONUNCIATION)  # charcoal, maroon

PDF_CSS = packmedia.DOCUMENT_CSS + """
section.episode { margin-top: 16pt; }
section.episode h1 { page-break-after: avoid; }
"""


GUIDE_INTRO = """
This guide supports the three short episodes of *{series}*. Each episode runs
about a minute and is built for a roll call, a shift briefing, or a joint meeting
of SROs and school staff.

**How to run a session (10 to 15 minutes):**

1. Play the episode. Turn on captions if the room is noisy.
2. Ask one or two of the discussion questions. Let officers answer before you add anything.
3. Close by linking the episode to your own agency's policy, your school MOU, and a recent real incident.
4. Record attendance according to your agency's training policy.
"""


def build_pdfs() -> None:
    import yaml

    manifest = yaml.safe_load((PACK / "pack.yaml").read_text(encoding="utf-8"))
    provider = manifest["provider"]["name"]
    title = manifest["title"]
    body = [f"<h1 class='doc-title'>{title}: Discussion Guide</h1>",
            f"<p class='doc-sub'>Roll-call video series &middot; {provider} &middot; version {manifest['version']}</p>",
            packmedia.markdown_to_html(GUIDE_INTRO.format(series=title))]
    for n, ep in enumerate(manifest["episodes"], 1):
        minutes, seconds = divmod(int(ep["video"]["duration_seconds"]), 60)
        notes = (PACK / ep["file"]).read_text(encoding="utf-8")
        notes = re.sub(r"^# .*\n", "", notes, count=1)  # the guide supplies its own heading
        notes = re.sub(r"^## ", "### ", notes, flags=re.M)
        prompts = "\n".join(f"{i}. {p}" for i, p in enumerate(ep["discussion_prompts"], 1))
        section = (f"# Episode {n} \u2014 {ep['title']}\n\n"
                   f"*Running time {minutes}:{seconds:02d}.* {ep['summary']}\n\n"
                   f"## Discussion questions\n\n{prompts}\n\n"
                   f"## Episode notes\n\n{notes}")
        body.append(f"<section class='episode'>{packmedia.markdown_to_html(section)}</section>")
    packmedia.write_pdf("\n".join(body), DOWNLOADS / "discussion-guide.pdf", title=f"{title}: Discussion Guide",
                        header=f"{title} \u2014 discussion guide",
                        footer=f"{provider} \u00b7 {manifest['provider']['website']}", css=PDF_CSS, base_url=PACK)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--video", action="store_true", help="only build the episode video assets")
    parser.add_argument("--pdf", action="store_true", help="only build the discussion guide")
    args = parser.parse_args()
    if args.video or not args.pdf:
        packmedia.require_video_tools()
        for n, ep in enumerate(EPISODES, 1):
            print(f"video {ep['name']}:")
            footer = f"{SERIES}  |  Episode {n}"
            duration = packmedia.build_video(ep["slides"], ep["name"], ep["title"], footer, MEDIA, LOOK)
            if not MIN_SECONDS <= duration <= MAX_SECONDS:
                raise SystemExit(f"{ep['name']} runs {duration:.1f} s; episodes must be {MIN_SECONDS}-{MAX_SECONDS} s")
            packmedia.set_duration(PACK / "pack.yaml", f"media/{ep['name']}.mp4", duration)
    if args.pdf or not args.video:
        print("pdf:")
        build_pdfs()


if __name__ == "__main__":
    main()
