"""First paint in one round trip: on a browser's first visit the stylesheet's first-paint rules
come inside the page (on Slow 3G a render-blocking stylesheet costs a second 2-second round
trip) and the whole file is linked at the end of the body, where it blocks nothing already
painted and lands in the cache; a cookie naming the stylesheet's version says the browser has
it, so later pages link it in the head (from the cache: one request a navigation)."""

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
    app.jinja_env.globals["inline_stylesheet"] = inline_stylesheet
    app.after_request(_remember)
