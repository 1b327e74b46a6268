"""Shared build steps for content packs' media: narrated slide videos and PDF downloads.

A build-time tool, not a runtime dependency: each pack's ``tools/build_media.py`` imports
it from this folder (``content_packs/tools``), supplies its own script, colours and
pronunciations, and the installed pack carries only the files it produced.

Deterministic apart from encoder and library versions: speech is synthesised with a fixed
voice and rate, x264 runs single-threaded with bitexact flags, and no timestamps are
written into the PDFs.

Needs ffmpeg/ffprobe (libx264, aac, drawtext), espeak-ng, DejaVu fonts, and Python with
weasyprint, markdown-it-py and pyyaml.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import tempfile
import textwrap
import wave
from dataclasses import dataclass, field
from pathlib import Path

FONT = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"
FONT_BOLD = "/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf"

MAX_MP4_BYTES = 1_000_000
MAX_POSTER_BYTES = 40_000
MAX_PDF_BYTES = 200_000

WIDTH, HEIGHT, FPS = 640, 360, 5
LIGHT_WIDTH, LIGHT_HEIGHT = 426, 240
LEAD_IN = 0.3  # silence before the first cue of a slide
GAP = 0.35  # silence between cues
TAIL = 0.5  # silence after the last cue of a slide
SAMPLE_RATE = 22050  # espeak-ng's native rate

BITEXACT = ["-fflags", "+bitexact", "-flags:v", "+bitexact", "-flags:a", "+bitexact",
            "-map_metadata", "-1", "-map_chapters", "-1"]


@dataclass(frozen=True)
class Look:
    """A pack's video style: background and title-band colours, and the words espeak-ng
    mispronounces (regex, replacement), replaced in the spoken text only."""

    background: str
    band: str
    pronunciation: list[tuple[str, str]] = field(default_factory=list)


def run(cmd: list[str]) -> str:
    return subprocess.run(cmd, check=True, capture_output=True, text=True).stdout


def require_video_tools() -> None:
    for tool in ("ffmpeg", "ffprobe", "espeak-ng"):
        if shutil.which(tool) is None:
            sys.exit(f"build_media: '{tool}' is required but was not found on PATH")
    for font in (FONT, FONT_BOLD):
        if not Path(font).exists():
            sys.exit(f"build_media: font {font} not found (install fonts-dejavu-core)")


def probe_duration(path: Path) -> float:
    out = run(["ffprobe", "-v", "error", "-show_entries", "format=duration",
               "-of", "default=noprint_wrappers=1:nokey=1", str(path)])
    return float(out.strip())


def probe_streams(path: Path) -> list[str]:
    out = run(["ffprobe", "-v", "error", "-show_entries", "stream=codec_type,codec_name",
               "-of", "csv=p=0", str(path)])
    return [line.strip() for line in out.splitlines() if line.strip()]


def spoken(text: str, look: Look) -> str:
    for pattern, replacement in look.pronunciation:
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


def synthesise(slides: list[dict], work: Path, look: Look
               ) -> tuple[Path, list[tuple[float, float, str]], list[tuple[float, float]]]:
    """Speak every cue, lay them out on a timeline, and write one WAV.

    Every cue is synthesised separately, so caption timings come straight from the
    measured length of each spoken sentence. Returns the WAV path, caption cues
    (start, end, text) and slide windows (start, end).
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
            run(["espeak-ng", "-v", "en-us", "-s", "150", "-w", str(wav_path), spoken(text, look)])
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


def filter_graph(slides: list[dict], windows: list[tuple[float, float]], work: Path,
                 footer: str, look: Look) -> str:
    """drawbox/drawtext chain; each slide's text is enabled only inside its window."""
    parts = [f"drawbox=x=0:y=0:w={WIDTH}:h=70:color={look.band}:t=fill",
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


def build_video(slides: list[dict], name: str, title: str, footer: str, media: Path,
                look: Look) -> float:
    """Write NAME.mp4, NAME-light.mp4, NAME.jpg, NAME.vtt and NAME.txt; return the duration."""
    media.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="packmedia-") as tmp:
        work = Path(tmp)
        wav, cues, windows = synthesise(slides, work, look)
        total = windows[-1][1]
        (work / "graph.txt").write_text(filter_graph(slides, windows, work, footer, look), encoding="utf-8")
        mp4 = media / f"{name}.mp4"
        run(["ffmpeg", "-y", "-v", "error",
             "-f", "lavfi", "-i", f"color=c={look.background}:s={WIDTH}x{HEIGHT}:r={FPS}:d={total:.3f}",
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
        # The same frame in the modern formats (a manifest's poster_sources, best first): AVIF about a
        # third of the JPEG, WebP about half; the JPEG stays for browsers that read neither.
        frame = ["-ss", f"{min(1.0, first_end / 2):.2f}", "-i", str(mp4), "-frames:v", "1"]
        run(["ffmpeg", "-y", "-v", "error", *frame, "-c:v", "libaom-av1", "-still-picture", "1",
             "-crf", "40", "-cpu-used", "4", "-threads", "1", *BITEXACT, str(media / f"{name}.avif")])
        run(["ffmpeg", "-y", "-v", "error", *frame, "-c:v", "libwebp", "-quality", "50",
             "-compression_level", "6", *BITEXACT, str(media / f"{name}.webp")])

    lines = ["WEBVTT", ""]
    for i, (start, end, text) in enumerate(cues, 1):
        lines += [str(i), f"{vtt_time(start)} --> {vtt_time(end)}", *textwrap.wrap(text, 42), ""]
    (media / f"{name}.vtt").write_text("\n".join(lines), encoding="utf-8")
    transcript = [title, "=" * len(title), ""]
    for slide in slides:
        transcript += [f"[{slide['title']}]", textwrap.fill(" ".join(slide["cues"]), 78), ""]
    (media / f"{name}.txt").write_text("\n".join(transcript), encoding="utf-8")

    duration = probe_duration(mp4)
    for path in (mp4, light):
        size = path.stat().st_size
        streams = probe_streams(path)
        if size >= MAX_MP4_BYTES:
            raise SystemExit(f"{path.name} is {size} bytes, over the 1 MB budget")
        if "h264,video" not in streams or "aac,audio" not in streams:
            raise SystemExit(f"{path.name} streams unexpected: {streams}")
        print(f"  {path.name}: {size / 1024:.0f} KB, {probe_duration(path):.1f} s, {streams}")
    if poster.stat().st_size >= MAX_POSTER_BYTES:
        raise SystemExit(f"{poster.name} is over the poster budget")
    for image in (poster, media / f"{name}.avif", media / f"{name}.webp"):
        print(f"  {image.name}: {image.stat().st_size / 1024:.0f} KB")
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


# The page frame every pack's printable download shares; a pack adds its own rules after it.
PDF_PAGE_CSS = """
@page {
  size: Letter;
  margin: %(margin)s;
  %(top)s
  @bottom-right { content: "Page " counter(page) " of " counter(pages); font: 8pt "DejaVu Sans"; color: #5a6b7b; }
  @bottom-left { content: "%(footer)s"; font: 8pt "DejaVu Sans"; color: #5a6b7b; }
}
html { font-family: "DejaVu Sans", sans-serif; font-size: 9.5pt; line-height: 1.4; color: #1b2733; }
"""


# Headings, lists and checklists for documents made from a pack's Markdown (handouts, guides).
DOCUMENT_CSS = """
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

    return MarkdownIt("commonmark", {"html": False}).render(text)


def write_pdf(html_body: str, out: Path, *, title: str, footer: str, css: str, base_url: Path,
              header: str = "", margin: str = "0.75in 0.8in 0.8in 0.8in", body_class: str = "",
              max_bytes: int = MAX_PDF_BYTES) -> None:
    """Render one printable download; `title` is HTML-escaped by the caller."""
    from weasyprint import HTML

    def quoted(text: str) -> str:
        return text.replace('"', "'")

    top = (f'@top-left {{ content: "{quoted(header)}"; font: 8pt "DejaVu Sans"; color: #5a6b7b; }}'
           if header else "")
    page = PDF_PAGE_CSS % {"margin": margin, "top": top, "footer": quoted(footer)}
    doc = (f"<!doctype html><html lang='en'><head><meta charset='utf-8'><title>{title}</title>"
           f"<style>{page}{css}</style></head><body class='{body_class}'>{html_body}</body></html>")
    out.parent.mkdir(parents=True, exist_ok=True)
    HTML(string=doc, base_url=str(base_url)).write_pdf(str(out))
    size = out.stat().st_size
    print(f"  {out.name}: {size / 1024:.0f} KB")
    if size >= max_bytes:
        raise SystemExit(f"{out.name} is {size} bytes, over the {max_bytes // 1000} KB budget")
