"""The one Markdown renderer for pack and site content.

Raw HTML is never rendered, and links may only use http, https, mailto, tel or
a relative address: `javascript:` and every other scheme is refused.
"""

from __future__ import annotations

import re
from functools import lru_cache

from markdown_it import MarkdownIt

SAFE_SCHEMES = ("http:", "https:", "mailto:", "tel:")
_SCHEME = re.compile(r"^([a-z][a-z0-9+.\-]*):", re.IGNORECASE)
_INVISIBLE = re.compile(r"[\x00-\x20\x7f-\x9f\u200b-\u200f\u2028-\u202e\ufeff]")


def is_safe_link(url: str) -> bool:
    """Allow relative links and a short list of schemes, after stripping what
    browsers ignore (whitespace and control characters) inside a scheme."""
    compact = _INVISIBLE.sub("", url).lower()
    match = _SCHEME.match(compact)
    if match is None:
        return ":" not in compact.split("/", 1)[0] and not compact.startswith("&")
    return compact.startswith(SAFE_SCHEMES)


def _make_renderer() -> MarkdownIt:
    md = MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False})
    md.enable(["table", "strikethrough"])
    md.validateLink = is_safe_link
    return md


_renderer = _make_renderer()


def render_markdown(text: str) -> str:
    """Markdown to safe HTML."""
    return _renderer.render(text or "")


@lru_cache(maxsize=4096)
def render_markdown_cached(cache_key: tuple, text: str) -> str:
    """Markdown to safe HTML, memoised; callers key it by pack id and version."""
    return render_markdown(text)
