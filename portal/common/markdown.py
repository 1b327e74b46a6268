"""The one Markdown renderer for pack and site content.

Raw HTML is never rendered, and links may only use http, https, mailto, tel or
a relative address: `javascript:` and every other scheme is refused. Relative
links in pack Markdown are pointed at the pack's served files.
"""

from __future__ import annotations

import posixpath
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


def _is_relative(url: str) -> bool:
    return not _SCHEME.match(url) and not url.startswith(("/", "#", "?"))


def _rewrite_relative_links(state) -> None:
    base, doc_dir = state.env.get("files_base"), state.env.get("doc_dir", "")
    if not base:
        return
    for token in state.tokens:
        for child in token.children or []:
            attr = "href" if child.type == "link_open" else "src" if child.type == "image" else None
            url = child.attrGet(attr) if attr else None
            if url and _is_relative(str(url)):
                path, _, fragment = str(url).partition("#")
                resolved = posixpath.normpath(posixpath.join(doc_dir, path))
                if not resolved.startswith(".."):
                    child.attrSet(attr, base + resolved + (f"#{fragment}" if fragment else ""))


def _open_external_links_safely(state) -> None:
    for token in state.tokens:
        for child in token.children or []:
            if child.type == "link_open" and str(child.attrGet("href") or "").startswith(("http:", "https:")):
                child.attrSet("rel", "noopener noreferrer")


def _make_renderer() -> MarkdownIt:
    md = MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False})
    md.enable(["table", "strikethrough"])
    md.validateLink = is_safe_link
    md.core.ruler.push("rewrite_relative_links", _rewrite_relative_links)
    md.core.ruler.push("external_links", _open_external_links_safely)
    return md


_renderer = _make_renderer()


def render_markdown(text: str, files_base: str | None = None, doc_dir: str = "") -> str:
    """Markdown to safe HTML; relative links resolve against doc_dir under files_base."""
    return _renderer.render(text or "", {"files_base": files_base, "doc_dir": doc_dir})


@lru_cache(maxsize=4096)
def render_markdown_cached(cache_key: tuple, text: str, files_base: str | None = None, doc_dir: str = "") -> str:
    """Markdown to safe HTML, memoised; pack callers key it by pack id and version."""
    return render_markdown(text, files_base, doc_dir)
