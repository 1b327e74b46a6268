#!/usr/bin/env python3
"""Regenerate the media and downloads of the ``intro-sro-programs`` content pack.

What it builds (all outputs are overwritten on every run):

* ``pack/media/01-sro-role.mp4``        narrated slide video for lesson 1 (H.264 + AAC, < 1 MB)
* ``pack/media/01-sro-role-light.mp4``  lighter 426x240 rendition
* ``pack/media/01-sro-role.vtt``        WebVTT captions, one cue per narrated sentence
* ``pack/media/01-sro-role.txt``        plain-text transcript
* ``pack/media/01-sro-role.jpg``        poster frame (< 40 KB)
* ``pack/downloads/sro-program-handout.pdf``  all lesson Markdown rendered as one handout
* ``pack/downloads/mou-checklist.pdf``        rendered from ``tools/mou-checklist.md``

It also rewrites the ``duration_seconds`` value for the video in ``pack/pack.yaml``
so the manifest always matches the rendered file.

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

The script is deterministic apart from encoder/library version differences: speech
is synthesised with fixed voice and rate, x264 runs single-threaded with bitexact
flags, and no timestamps are written into the PDFs.
"""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import sys
import tempfile
import textwrap
import wave
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACK = ROOT / "portal_pack_intro_sro" / "pack"
MEDIA = PACK / "media"
DOWNLOADS = PACK / "downloads"
TOOLS = ROOT / "tools"

FONT = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"
FONT_BOLD = "/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf"

MAX_MP4_BYTES = 1_000_000
MAX_POSTER_BYTES = 40_000
MAX_HANDOUT_BYTES = 200_000

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

WIDTH, HEIGHT, FPS = 640, 360, 5
LIGHT_WIDTH, LIGHT_HEIGHT = 426, 240
BG = "0x14324f"  # dark navy
BAND = "0x2a6f97"  # title band
LEAD_IN = 0.3  # silence before the first cue of a slide
GAP = 0.35  # silence between cues
TAIL = 0.5  # silence after the last cue of a slide
SAMPLE_RATE = 22050  # espeak-ng's native rate


def run(cmd: list[str]) -> str:
    result = subprocess.run(cmd, check=True, capture_output=True, text=True)
    return result.stdout


def need(tool: str) -> None:
    if shutil.which(tool) is None:
        sys.exit(f"build_media: '{tool}' is required but was not found on PATH")


def probe_duration(path: Path) -> float:
    out = run(["ffprobe", "-v", "error", "-show_entries", "format=duration",
               "-of", "default=noprint_wrappers=1:nokey=1", str(path)])
    return float(out.strip())


def probe_streams(path: Path) -> list[str]:
    out = run(["ffprobe", "-v", "error", "-show_entries", "stream=codec_type,codec_name",
               "-of", "csv=p=0", str(path)])
    return [line.strip() for line in out.splitlines() if line.strip()]


def spoken(text: str) -> str:
    for pattern, replacement in PRONUNCIATION:
        text = re.sub(pattern, replacement, text)
    return text


def vtt_time(seconds: float) -> str:
    ms = int(round(seconds * 1000))
    h, rest = divmod(ms, 3_600_000)
    m, rest = divmod(rest, 60_000)
    s, ms = divmod(rest, 1000)
    return f"{h:02d}:{m:02d}:{s:02d}.{ms:03d}"


def wrap_body(lines: list[str], width: int = 34) -> str:
    out: list[str] = []
    for line in lines:
        wrapped = textwrap.wrap(line, width=width) or [""]
        out.append("\u2022 " + wrapped[0])
        out.extend("   " + extra for extra in wrapped[1:])
    if len(out) > 7:
        raise ValueError(f"slide body too long for the frame: {lines}")
    return "\n".join(out)


def synthesise(slides: list[dict], work: Path) -> tuple[Path, list[tuple[float, float, str]], list[tuple[float, float]]]:
    """Speak every cue, lay them out on a timeline, and write one WAV.

    Returns the WAV path, caption cues (start, end, text) and slide windows (start, end).
    """
    cues: list[tuple[float, float, str]] = []
    windows: list[tuple[float, float]] = []
    pieces: list[tuple[int, bytes]] = []  # (start sample, pcm frames)
    t = 0.0
    n = 0
    for slide in slides:
        slide_start = t
        t += LEAD_IN
        for i, text in enumerate(slide["cues"]):
            wav_path = work / f"cue{n:03d}.wav"
            n += 1
            run(["espeak-ng", "-v", "en-us", "-s", "150", "-w", str(wav_path), spoken(text)])
            duration = probe_duration(wav_path)
            with wave.open(str(wav_path), "rb") as w:
                if w.getframerate() != SAMPLE_RATE or w.getnchannels() != 1 or w.getsampwidth() != 2:
                    raise RuntimeError("unexpected espeak-ng WAV format")
                frames = w.readframes(w.getnframes())
            pieces.append((int(round(t * SAMPLE_RATE)), frames))
            cues.append((t, t + duration, text))
            t += duration
            if i < len(slide["cues"]) - 1:
                t += GAP
        t += TAIL
        windows.append((slide_start, t))
    total_samples = int(round(t * SAMPLE_RATE))
    pcm = bytearray(total_samples * 2)
    for start, frames in pieces:
        pcm[start * 2:start * 2 + len(frames)] = frames
    out = work / "narration.wav"
    with wave.open(str(out), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(SAMPLE_RATE)
        w.writeframes(bytes(pcm[: total_samples * 2]))
    return out, cues, windows


def filter_graph(slides: list[dict], windows: list[tuple[float, float]], work: Path, footer: str) -> str:
    """drawbox/drawtext chain; each slide's text is enabled only inside its window."""
    parts = [f"drawbox=x=0:y=0:w={WIDTH}:h=70:color={BAND}:t=fill",
             f"drawbox=x=0:y={HEIGHT - 34}:w={WIDTH}:h=34:color=0x0b1f33:t=fill"]
    footer_file = work / "footer.txt"
    footer_file.write_text(footer, encoding="utf-8")
    parts.append(f"drawtext=fontfile={FONT}:textfile={footer_file}:expansion=none:"
                 f"fontsize=15:fontcolor=0xdce6f0:x=24:y={HEIGHT - 25}")
    for idx, (slide, (start, end)) in enumerate(zip(slides, windows)):
        title_file = work / f"title{idx}.txt"
        body_file = work / f"body{idx}.txt"
        count_file = work / f"count{idx}.txt"
        title_file.write_text(slide["title"], encoding="utf-8")
        body_file.write_text(wrap_body(slide["body"]), encoding="utf-8")
        count_file.write_text(f"{idx + 1}/{len(slides)}", encoding="utf-8")
        enable = f"enable='between(t,{start:.3f},{end - 0.001:.3f})'"
        title_size = 30 if len(slide["title"]) <= 34 else 25
        if len(slide["title"]) > 41:
            raise ValueError(f"slide title too long for the frame: {slide['title']}")
        parts.append(f"drawtext=fontfile={FONT_BOLD}:textfile={title_file}:expansion=none:"
                     f"fontsize={title_size}:fontcolor=white:x=24:y={20 if title_size == 30 else 22}:{enable}")
        parts.append(f"drawtext=fontfile={FONT}:textfile={body_file}:expansion=none:"
                     f"fontsize=26:line_spacing=14:fontcolor=white:x=32:y=100:{enable}")
        parts.append(f"drawtext=fontfile={FONT}:textfile={count_file}:expansion=none:"
                     f"fontsize=15:fontcolor=0xdce6f0:x=w-tw-24:y={HEIGHT - 25}:{enable}")
    return ",".join(parts)


BITEXACT = ["-fflags", "+bitexact", "-flags:v", "+bitexact", "-flags:a", "+bitexact",
            "-map_metadata", "-1", "-map_chapters", "-1"]


def build_video(slides: list[dict], name: str, title: str, footer: str, media: Path) -> float:
    media.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="packmedia-") as tmp:
        work = Path(tmp)
        wav, cues, windows = synthesise(slides, work)
        total = windows[-1][1]
        graph = filter_graph(slides, windows, work, footer)
        (work / "graph.txt").write_text(graph, encoding="utf-8")
        mp4 = media / f"{name}.mp4"
        run(["ffmpeg", "-y", "-v", "error",
             "-f", "lavfi", "-i", f"color=c={BG}:s={WIDTH}x{HEIGHT}:r={FPS}:d={total:.3f}",
             "-i", str(wav),
             "-filter_script:v", str(work / "graph.txt"),
             "-map", "0:v", "-map", "1:a",
             "-c:v", "libx264", "-preset", "slow", "-tune", "stillimage", "-crf", "32",
             "-pix_fmt", "yuv420p", "-g", str(FPS * 10), "-threads", "1",
             "-c:a", "aac", "-b:a", "40k", "-ac", "1", "-ar", str(SAMPLE_RATE),
             "-t", f"{total:.3f}", "-movflags", "+faststart", *BITEXACT, str(mp4)])
        light = media / f"{name}-light.mp4"
        run(["ffmpeg", "-y", "-v", "error", "-i", str(mp4),
             "-vf", f"scale={LIGHT_WIDTH}:{LIGHT_HEIGHT}:flags=lanczos",
             "-c:v", "libx264", "-preset", "slow", "-tune", "stillimage", "-crf", "34",
             "-pix_fmt", "yuv420p", "-g", str(FPS * 10), "-threads", "1",
             "-c:a", "aac", "-b:a", "24k", "-ac", "1", "-ar", str(SAMPLE_RATE),
             "-movflags", "+faststart", *BITEXACT, str(light)])
        poster = media / f"{name}.jpg"
        first_end = windows[0][1]
        run(["ffmpeg", "-y", "-v", "error", "-ss", f"{min(1.0, first_end / 2):.2f}", "-i", str(mp4),
             "-frames:v", "1", "-q:v", "6", *BITEXACT, str(poster)])

    # Captions and transcript.
    lines = ["WEBVTT", ""]
    for i, (start, end, text) in enumerate(cues, 1):
        lines += [str(i), f"{vtt_time(start)} --> {vtt_time(end)}", *textwrap.wrap(text, 42), ""]
    (media / f"{name}.vtt").write_text("\n".join(lines), encoding="utf-8")
    transcript = [title, "=" * len(title), ""]
    for slide in slides:
        transcript += [f"[{slide['title']}]", textwrap.fill(" ".join(slide["cues"]), 78), ""]
    (media / f"{name}.txt").write_text("\n".join(transcript), encoding="utf-8")

    # Checks.
    duration = probe_duration(mp4)
    for path in (mp4, light):
        size = path.stat().st_size
        streams = probe_streams(path)
        if size >= MAX_MP4_BYTES:
            raise SystemExit(f"{path.name} is {size} bytes, over the 1 MB budget")
        if "h264,video" not in streams or "aac,audio" not in streams:
            raise SystemExit(f"{path.name} streams unexpected: {streams}")
        print(f"  {path.relative_to(ROOT)}: {size / 1024:.0f} KB, {probe_duration(path):.1f} s, {streams}")
    if poster.stat().st_size >= MAX_POSTER_BYTES:
        raise SystemExit(f"{poster.name} is over the poster budget")
    print(f"  {poster.relative_to(ROOT)}: {poster.stat().st_size / 1024:.0f} KB")
    return duration


def set_duration(pack_yaml: Path, media_file: str, seconds: float) -> None:
    """Rewrite the duration_seconds that follows `file: <media_file>` in pack.yaml."""
    text = pack_yaml.read_text(encoding="utf-8")
    pattern = re.compile(r"(file:\s*" + re.escape(media_file) + r"\b.*?duration_seconds:\s*)\d+", re.S)
    new, count = pattern.subn(lambda m: m.group(1) + str(round(seconds)), text, count=1)
    if count != 1:
        raise SystemExit(f"could not find duration_seconds for {media_file} in {pack_yaml}")
    if new != text:
        pack_yaml.write_text(new, encoding="utf-8")


# --------------------------------------------------------------------------
# PDFs
# --------------------------------------------------------------------------

PDF_CSS = """
@page {
  size: Letter;
  margin: 0.75in 0.8in 0.8in 0.8in;
  @top-left { content: "%(header)s"; font: 8pt "DejaVu Sans"; color: #5a6b7b; }
  @bottom-right { content: "Page " counter(page) " of " counter(pages); font: 8pt "DejaVu Sans"; color: #5a6b7b; }
  @bottom-left { content: "%(footer)s"; font: 8pt "DejaVu Sans"; color: #5a6b7b; }
}
html { font-family: "DejaVu Sans", sans-serif; font-size: 9.5pt; line-height: 1.4; color: #1b2733; }
h1 { font-size: 17pt; color: #14324f; border-bottom: 2px solid #2a6f97; padding-bottom: 3pt; margin: 0 0 8pt 0; }
h1.doc-title { font-size: 21pt; border: none; margin-bottom: 2pt; }
p.doc-sub { color: #3d5366; margin: 0 0 14pt 0; }
h2 { font-size: 12pt; color: #2a6f97; margin: 12pt 0 4pt 0; page-break-after: avoid; }
h3 { font-size: 10.5pt; color: #14324f; margin: 9pt 0 3pt 0; page-break-after: avoid; }
p { margin: 0 0 6pt 0; }
ul, ol { margin: 0 0 6pt 0; padding-left: 16pt; }
li { margin: 0 0 2pt 0; }
a { color: #1d5c85; text-decoration: none; }
section.lesson { page-break-before: always; }
section.lesson:first-of-type { page-break-before: avoid; }
.checklist ul { list-style: none; padding-left: 4pt; }
.checklist li { margin-bottom: 4pt; page-break-inside: avoid; padding-left: 18pt; text-indent: -18pt; }
.checklist .box { display: inline-block; width: 18pt; text-indent: 0; font-size: 13pt; line-height: 1; vertical-align: -1pt; }
.checklist h2 { background: #e8f0f6; padding: 2pt 4pt; }
"""


def markdown_to_html(text: str) -> str:
    from markdown_it import MarkdownIt

    md = MarkdownIt("commonmark", {"html": False})
    return md.render(text)


def write_pdf(html_body: str, out: Path, title: str, header: str, footer: str, extra_class: str = "") -> None:
    from weasyprint import HTML

    css = PDF_CSS % {"header": header.replace('"', "'"), "footer": footer.replace('"', "'")}
    doc = (f"<!doctype html><html lang='en'><head><meta charset='utf-8'><title>{title}</title>"
           f"<style>{css}</style></head><body class='{extra_class}'>{html_body}</body></html>")
    out.parent.mkdir(parents=True, exist_ok=True)
    HTML(string=doc, base_url=str(PACK)).write_pdf(str(out))


def build_pdfs() -> None:
    import yaml

    manifest = yaml.safe_load((PACK / "pack.yaml").read_text(encoding="utf-8"))
    provider = manifest["provider"]["name"]
    title = manifest["title"]

    # Handout: every lesson, in manifest order, from the pack's own Markdown.
    body = [f"<h1 class='doc-title'>{title}</h1>",
            f"<p class='doc-sub'>Course handout &middot; {provider} &middot; version {manifest['version']}</p>"]
    for n, lesson in enumerate(manifest["lessons"], 1):
        md_text = (PACK / lesson["file"]).read_text(encoding="utf-8")
        md_text = re.sub(r"^# ", f"# Lesson {n} \u2014 ", md_text, count=1, flags=re.M)
        body.append(f"<section class='lesson'>{markdown_to_html(md_text)}</section>")
    handout = DOWNLOADS / "sro-program-handout.pdf"
    write_pdf("\n".join(body), handout, title, f"{title} \u2014 course handout",
              f"{provider} \u00b7 {manifest['provider']['website']}")
    size = handout.stat().st_size
    print(f"  {handout.relative_to(ROOT)}: {size / 1024:.0f} KB")
    if size >= MAX_HANDOUT_BYTES:
        raise SystemExit(f"{handout.name} is {size} bytes, over the 200 KB budget")

    checklist_md = (TOOLS / "mou-checklist.md").read_text(encoding="utf-8")
    checklist = DOWNLOADS / "mou-checklist.pdf"
    checklist_html = markdown_to_html(checklist_md).replace("<li>\u2610 ", "<li><span class='box'>\u2610</span>")
    write_pdf(f"<div class='checklist'>{checklist_html}</div>", checklist,
              "SRO Program MOU Review Checklist", "SRO program MOU review checklist",
              f"{provider} \u00b7 {manifest['provider']['website']}")
    print(f"  {checklist.relative_to(ROOT)}: {checklist.stat().st_size / 1024:.0f} KB")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--video", action="store_true", help="only build the lesson video assets")
    parser.add_argument("--pdf", action="store_true", help="only build the PDF downloads")
    args = parser.parse_args()
    do_video = args.video or not args.pdf
    do_pdf = args.pdf or not args.video
    if do_video:
        for tool in ("ffmpeg", "ffprobe", "espeak-ng"):
            need(tool)
        for font in (FONT, FONT_BOLD):
            if not Path(font).exists():
                sys.exit(f"build_media: font {font} not found (install fonts-dejavu-core)")
        print("video:")
        duration = build_video(SLIDES, VIDEO_NAME, VIDEO_TITLE, FOOTER, MEDIA)
        set_duration(PACK / "pack.yaml", f"media/{VIDEO_NAME}.mp4", duration)
    if do_pdf:
        print("pdf:")
        build_pdfs()


if __name__ == "__main__":
    main()
