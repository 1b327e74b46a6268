"""Active content: files a browser would run if the portal served them as a page.

A pack is data. Nothing it ships may execute on the portal's origin, where a script could
read a signed-in learner's pages and CSRF token. The validator refuses such files among a
pack's downloads (`active_content_problem`), and the file view serves anything not on the
short list of passive types as an attachment in a sandbox (`served_inline`). Interactive
course content belongs on the separate content origin, never among downloads.
"""

from __future__ import annotations

import re
from pathlib import Path, PurePosixPath

# Types a browser shows without running anything in the page's origin. Everything else a
# pack serves goes out as an attachment with a sandbox CSP, whatever its name claims.
PASSIVE_INLINE_TYPES = frozenset({
    "application/pdf", "text/plain", "text/vtt", "text/csv",
    "image/png", "image/jpeg", "image/gif", "image/webp", "image/avif",
    "audio/mpeg", "audio/mp4", "audio/ogg", "audio/wav", "audio/webm",
    "video/mp4", "video/webm", "video/ogg", "video/quicktime",
})

# Names browsers (or the desktop) treat as pages, scripts or programs.
ACTIVE_SUFFIXES = frozenset({
    ".html", ".htm", ".xhtml", ".xht", ".shtml", ".mht", ".mhtml", ".hta", ".svg", ".svgz",
    ".xml", ".xsl", ".xslt", ".js", ".mjs", ".cjs", ".jsx", ".ts", ".wasm", ".swf", ".jar",
    ".php", ".asp", ".aspx", ".jsp", ".vbs", ".wsf", ".bat", ".cmd", ".ps1", ".exe", ".msi",
    ".scr", ".com", ".dll", ".sh", ".appcache", ".manifest", ".webmanifest",
})

# What makes a file a page when sniffed, whatever it is called: markup a browser would parse.
_MARKUP = re.compile(rb"<\s*(!doctype\s+html|html|head|body|script|iframe|svg|object|embed|meta\s)",
                     re.IGNORECASE)
SNIFF_BYTES = 4096


def served_inline(content_type: str) -> bool:
    """Whether a pack file of this type may be shown in the browser rather than downloaded."""
    return content_type.split(";", 1)[0].strip().lower() in PASSIVE_INLINE_TYPES


def active_content_problem(path: Path, name: str) -> str | None:
    """Why a pack download is active content, or None when it is plain data.

    `path` is the file on disk, `name` its path inside the pack (as the manifest gives it)."""
    suffixes = [s.lower() for s in PurePosixPath(name).suffixes]
    if suffixes and suffixes[-1] in ACTIVE_SUFFIXES:
        return (f"{name} is active content ({suffixes[-1]}): a browser would run it. Downloads must be "
                "documents, images, audio or video; interactive content runs only as a standard course "
                "on the separate content origin")
    try:
        with open(path, "rb") as file:
            head = file.read(SNIFF_BYTES)
    except OSError:
        return None  # the validator reports a missing file on its own
    if _is_binary_media(head):
        return None
    if _MARKUP.search(head):
        return (f"{name} holds HTML or script markup under another name; a browser that sniffs it would "
                "run it. Ship it as a PDF or plain text")
    return None


def _is_binary_media(head: bytes) -> bool:
    """A PDF, image, audio or video file by its magic number: their bytes may contain
    anything, and a browser never sniffs them as markup."""
    return head.startswith((b"%PDF-", b"\x89PNG", b"\xff\xd8\xff", b"GIF8", b"RIFF", b"OggS", b"ID3",
                            b"\x1aE\xdf\xa3", b"PK\x03\x04")) or head[4:8] == b"ftyp"
