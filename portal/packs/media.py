"""Pack media checked by what the bytes are, not by what the file is called.

A file named `.mp4` that is really a Word document, or captions saved in Windows-1252,
pass a check by name and then fail in a learner's browser. `filetype` reads the magic
numbers; captions are decoded as UTF-8 and read cue by cue as WebVTT.
"""

from __future__ import annotations

import mimetypes
import re
from pathlib import Path

import filetype

from portal.packs.loader import Problem

# What each role in a manifest must hold, by the top-level MIME type the bytes show.
ROLE_KINDS = {"video": ("video",), "image": ("image",), "audio": ("audio",)}
_TIME = r"(?:(\d+):)?([0-5]\d):([0-5]\d)\.(\d{3})"
_CUE_TIMING = re.compile(rf"^{_TIME}[ \t]+-->[ \t]+{_TIME}(?:[ \t]+.*)?$")


def sniffed_type(path: Path) -> str | None:
    """The MIME type the file's first bytes show, or None when they show no known binary format."""
    try:
        kind = filetype.guess(str(path))
    except (OSError, TypeError):
        return None
    return kind.mime if kind else None


def content_problem(path: Path, name: str, role: str) -> str | None:
    """Why the file `name` (at `path`) cannot serve as `role` ("video", "image", "audio"), or None."""
    found = sniffed_type(path)
    wanted = ROLE_KINDS[role]
    if found and found.split("/", 1)[0] in wanted:
        return None
    shown = f"its content is {found}" if found else "its content is not a format the portal recognises"
    return (f"{name} is named as a{'n' if role[0] in 'aeiou' else ''} {role} but {shown}: export it again as "
            f"{'MP4 (H.264) or WebM' if role == 'video' else 'JPEG, PNG or WebP' if role == 'image' else 'MP3 or M4A'}")


def download_problem(path: Path, name: str) -> str | None:
    """A download whose name promises a binary format (PDF, image, audio, video, archive) its bytes
    do not have; text and unknown formats are left to the other checks."""
    claimed = mimetypes.guess_type(name)[0] or ""
    found = sniffed_type(path)
    if claimed == "application/pdf" or claimed.split("/")[0] in ("image", "audio", "video"):
        if claimed == "image/svg+xml":
            return None  # text, judged by the active-content check
        if found is None or (found != claimed and found.split("/")[0] != claimed.split("/")[0]):
            shown = found or "not a format the portal recognises"
            return f"{name} is named as {claimed} but its content is {shown}: export it again or rename it"
    return None


def caption_problems(path: Path, rel: str, duration_seconds: int | None = None) -> list[Problem]:
    """Every problem in a WebVTT captions file: encoding, header and each cue's timing and text."""
    raw = path.read_bytes()
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as error:
        line = raw[:error.start].count(b"\n") + 1
        return [Problem(rel, line, f"captions are not UTF-8 text (byte {raw[error.start]:#04x}); save the file "
                                   "as UTF-8 (in most editors: Save as… › Encoding › UTF-8)")]
    lines = text.lstrip("\ufeff").replace("\r\n", "\n").replace("\r", "\n").split("\n")
    if not lines or not re.match(r"^WEBVTT([ \t].*)?$", lines[0]):
        return [Problem(rel, 1, "captions must be a WebVTT file whose first line is WEBVTT")]
    problems: list[Problem] = []
    cues, index = 0, 1
    while index < len(lines):
        if not lines[index].strip():
            index += 1
            continue
        start = index
        block = []
        while index < len(lines) and lines[index].strip():
            block.append(lines[index])
            index += 1
        if block[0].startswith(("NOTE", "STYLE", "REGION")):
            continue
        timing_at = next((i for i, line in enumerate(block) if "-->" in line), None)
        if timing_at is None or timing_at > 1:
            problems.append(Problem(rel, start + 1, f"a cue needs a timing line like 00:00:01.000 --> "
                                                    f"00:00:04.000; found {block[0][:60]!r}"))
            continue
        match = _CUE_TIMING.match(block[timing_at].strip())
        line_no = start + timing_at + 1
        if not match:
            problems.append(Problem(rel, line_no, f"cue timing {block[timing_at].strip()[:60]!r} is not "
                                                  "HH:MM:SS.mmm --> HH:MM:SS.mmm (three digits after the dot)"))
            continue
        begin, end = _seconds(match.groups()[:4]), _seconds(match.groups()[4:])
        if end <= begin:
            problems.append(Problem(rel, line_no, "this cue ends before it starts; swap or fix its times"))
        elif duration_seconds and begin > duration_seconds:
            problems.append(Problem(rel, line_no, f"this cue starts after the video ends "
                                                  f"(duration_seconds: {duration_seconds})"))
        if not any(line.strip() for line in block[timing_at + 1:]):
            problems.append(Problem(rel, line_no, "this cue has no text; write the words spoken under its timing"))
        cues += 1
    if not cues and not problems:
        problems.append(Problem(rel, 1, "captions have no cues: add at least one timing line and its text"))
    return problems


def _seconds(parts) -> float:
    hours, minutes, seconds, millis = parts
    return int(hours or 0) * 3600 + int(minutes) * 60 + int(seconds) + int(millis) / 1000
