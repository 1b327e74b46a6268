"""The one Markdown renderer for pack and site content.

Raw HTML is never rendered, and links may only use http, https, mailto, tel or
a relative address: `javascript:` and every other scheme is refused. Relative
links in pack Markdown are pointed at the pack's served files.
"""

from __future__ import annotations

import posixpath
import re
from functools import lru_cache

import yaml
from markdown_it import MarkdownIt
from markupsafe import escape

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


VIDEO_FENCE = "video"  # ```video … ``` places a video in a lesson (docs/content-packs.md)


def video_fence_fields(content: str) -> dict[str, str]:
    """The text values of a video fence's YAML, every scalar read as text (the validator checks
    the fence in full; here anything unreadable just shows no video)."""
    try:
        data = yaml.load(content, Loader=getattr(yaml, "CBaseLoader", yaml.BaseLoader))
    except yaml.YAMLError:
        return {}
    if not isinstance(data, dict):
        return {}
    return {str(key): value for key, value in data.items() if isinstance(value, str)}


def _render_video_fence(self, tokens, idx, options, env) -> str:
    token = tokens[idx]
    if token.info.strip() != VIDEO_FENCE:
        return self.fence(tokens, idx, options, env)  # the renderer's own method: code blocks as before
    fields = video_fence_fields(token.content)
    base, doc_dir = env.get("files_base"), env.get("doc_dir", "")

    def url(key: str) -> str | None:
        value = fields.get(key)
        if not value or not base or not _is_relative(value) or not is_safe_link(value):
            return None
        resolved = posixpath.normpath(posixpath.join(doc_dir, value))
        return None if resolved.startswith("..") else escape(base + resolved)

    video, light, captions = url("file"), url("light"), url("captions")
    if not (video and captions):  # the validator refuses this; never show a video without captions
        return ""
    title = escape(fields.get("title") or "Video")
    poster, transcript = url("poster"), url("transcript")
    parts = [f'<figure class="video"><video controls preload="none" playsinline aria-label="{title}"'
             + (f' poster="{poster}"' if poster else "") + ">"]
    if light:
        parts.append(f'<source src="{light}" type="video/mp4" media="(max-width: 40rem), (prefers-reduced-data: reduce)">')
    parts.append(f'<source src="{video}" type="video/mp4">')
    parts.append(f'<track kind="captions" src="{captions}" srclang="{escape(env.get("language") or "en")}" '
                 'label="Captions" default></video><figcaption>')
    if fields.get("title"):
        parts.append(f"{title}: ")
    links = ([f'<a href="{light}?download=1">Download the smaller video</a>'] if light else []) + \
        [f'<a href="{video}?download=1">Download the video</a>'] + \
        ([f'<a href="{transcript}">Transcript</a>'] if transcript else [])
    parts.append(" · ".join(links) + "</figcaption></figure>\n")
    return "".join(parts)


def _make_renderer() -> MarkdownIt:
    md = MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False})
    md.enable(["table", "strikethrough"])
    md.validateLink = is_safe_link
    md.core.ruler.push("rewrite_relative_links", _rewrite_relative_links)
    md.core.ruler.push("external_links", _open_external_links_safely)
    md.add_render_rule("fence", _render_video_fence)
    return md


_renderer = _make_renderer()


def render_markdown(text: str, files_base: str | None = None, doc_dir: str = "", language: str = "en") -> str:
    """Markdown to safe HTML; relative links resolve against doc_dir under files_base; `language`
    labels the captions of videos placed in the text."""
    return _renderer.render(text or "", {"files_base": files_base, "doc_dir": doc_dir, "language": language})


@lru_cache(maxsize=4096)
def render_markdown_cached(cache_key: tuple, text: str, files_base: str | None = None, doc_dir: str = "",
                           language: str = "en") -> str:
    """Markdown to safe HTML, memoised; pack callers key it by pack id and version."""
    return render_markdown(text, files_base, doc_dir, language)
