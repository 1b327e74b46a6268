"""First paint in one round trip: on a browser's first visit the stylesheet's first-paint rules
come inside the page (on Slow 3G a render-blocking stylesheet costs a second 2-second round
trip) and the whole file is linked at the end of the body, where it blocks nothing already
painted and lands in the cache; a cookie naming the stylesheet's version says the browser has
it, so later pages link it in the head (from the cache: one request a navigation). Of the
first-paint rules a page carries only those whose selectors can match its own elements: on
Slow 3G every 50 bytes before the paint cost a millisecond."""

from __future__ import annotations

import base64
import hashlib
import re
from functools import lru_cache

from flask import Flask, current_app, g, request

from portal.common.assets import ONE_YEAR, STATIC_DIR, asset_url

COOKIE = "portal_css"
STYLESHEET = "portal.css"
# Rules after this comment in portal.css are not needed to paint a page's first view.
BOUNDARY = "/* Not needed for a first paint"


@lru_cache(maxsize=None)
def _stylesheet() -> tuple[str, str, str]:
    """The first-paint rules, the stylesheet's version (as in its asset URL) and their CSP hash."""
    text = (STATIC_DIR / STYLESHEET).read_text(encoding="utf-8").split(BOUNDARY, 1)[0]
    text = re.sub(r"/\*.*?\*/\n?", "", text, flags=re.S)  # comments are for the file's readers
    digest = base64.b64encode(hashlib.sha256(text.encode("utf-8")).digest()).decode()
    return text, asset_url(STYLESHEET).rsplit(".", 2)[-2], f"'sha256-{digest}'"


def _selectors(selector_list: str) -> list[str]:
    """A selector list split at its top-level commas (`:has(a, b)` stays whole)."""
    parts, depth, start = [], 0, 0
    for i, char in enumerate(selector_list):
        depth += (char == "(") - (char == ")")
        if char == "," and depth == 0:
            parts.append(selector_list[start:i])
            start = i + 1
    return parts + [selector_list[start:]]


@lru_cache(maxsize=512)
def _needs(selector: str) -> tuple[frozenset[str], frozenset[str]]:
    """The element names and classes a selector cannot match without (attributes and pseudo-classes
    are ignored: a rule kept that a page did not need costs bytes, one dropped would cost looks)."""
    bare = re.sub(r"::?[\w-]+", "", re.sub(r"\[[^\]]*\]", "", selector))
    tags = re.findall(r"(?:^|[\s>+~(])([a-zA-Z][\w-]*)", bare)
    return frozenset(t.lower() for t in tags), frozenset(re.findall(r"\.([\w-]+)", bare))


def _wanted(selector_list: str, tags: frozenset[str], classes: frozenset[str]) -> bool:
    for selector in _selectors(selector_list):
        needed_tags, needed_classes = _needs(selector.strip())
        if needed_tags <= tags and needed_classes <= classes:
            return True
    return False


def rules_for(css: str, tags: frozenset[str], classes: frozenset[str]) -> str:
    """The rules of `css` (flat rules and @media blocks of them) a page of these elements and
    classes can use, in their order."""
    kept, i = [], 0
    while i < len(css):
        brace = css.find("{", i)
        if brace < 0:
            break
        prelude = css[i:brace].strip()
        if prelude.startswith("@"):
            depth, j = 1, brace + 1
            while depth:
                depth += (css[j] == "{") - (css[j] == "}")
                j += 1
            inner = rules_for(css[brace + 1:j - 1], tags, classes)
            if inner:
                kept.append(f"{prelude}{{{inner}}}")
        else:
            j = css.index("}", brace) + 1
            if _wanted(prelude, tags, classes):
                kept.append(css[i:j].strip())
        i = j
    return "".join(kept)


@lru_cache(maxsize=256)
def _page_rules(tags: frozenset[str], classes: frozenset[str]) -> tuple[str, str]:
    """The first-paint rules for a page of these elements and classes, and their CSP hash."""
    text = rules_for(_stylesheet()[0], tags, classes)
    digest = base64.b64encode(hashlib.sha256(text.encode("utf-8")).digest()).decode()
    return text, f"'sha256-{digest}'"


def _fit_to_page(response) -> str:
    """Swap the whole first-paint part inside the page for the rules the page uses; returns the
    inline stylesheet's CSP source."""
    text, _, source = _stylesheet()
    html = response.get_data(as_text=True)
    whole = f"<style>{text}</style>"
    if whole not in html:
        return source
    rest = html.replace(whole, "", 1)
    tags = frozenset(t.lower() for t in re.findall(r"<([a-zA-Z][\w-]*)", rest))
    classes = frozenset(c for value in re.findall(r"""\bclass=["']([^"']*)["']""", rest) for c in value.split())
    rules, source = _page_rules(tags, classes)
    response.set_data(html.replace(whole, f"<style>{rules}</style>", 1))
    return source


def inline_stylesheet() -> str:
    """The first-paint rules to put inside this page, or "" when the browser holds the file."""
    text, version, _ = _stylesheet()
    if request.cookies.get(COOKIE) == version:
        return ""
    g.inlined_stylesheet = True
    return text


def _remember(response):
    if not g.get("inlined_stylesheet"):
        return response
    _, version, source = _stylesheet()
    if response.mimetype == "text/html" and not response.direct_passthrough:
        source = _fit_to_page(response)
    response.set_cookie(COOKIE, version, max_age=ONE_YEAR, httponly=True, samesite="Lax",
                        secure=bool(current_app.config.get("SESSION_COOKIE_SECURE")))
    # The inline stylesheet is allowed by its hash, never by 'unsafe-inline'.
    from portal.common.security import CONTENT_SECURITY_POLICY

    policy = response.headers.get("Content-Security-Policy", CONTENT_SECURITY_POLICY)
    if "style-src 'self'" in policy and source not in policy:
        policy = policy.replace("style-src 'self'", f"style-src 'self' {source}", 1)
    response.headers["Content-Security-Policy"] = policy
    return response


def init_app(app: Flask) -> None:
    _stylesheet.cache_clear()
    _page_rules.cache_clear()
    app.jinja_env.globals["inline_stylesheet"] = inline_stylesheet
    app.after_request(_remember)
