"""Security defaults: CSRF on every form and htmx request, rate limits, response headers."""

from __future__ import annotations

from flask import Flask, current_app, request
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import current_user
from flask_wtf.csrf import CSRFProtect

csrf = CSRFProtect()
limiter = Limiter(key_func=get_remote_address, default_limits=[], headers_enabled=True)

CONTENT_SECURITY_POLICY = "; ".join([
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data:",
    "media-src 'self' https:",
    "font-src 'self'",
    "connect-src 'self'",
    "object-src 'none'",
    "base-uri 'self'",
    "form-action 'self'",
    "frame-ancestors 'none'",
])


# The longest text any form field takes is 20,000 characters (roll-call attendees). A value
# far past that is never real input: refuse the request whole, and never echo it back.
MAX_FIELD_CHARS = 100_000


def email_key() -> str:
    """Rate-limit key for per-address limits; checked before any password hashing."""
    return "email:" + (request.form.get("email") or "").strip().lower()[:254]


def add_security_headers(response):
    headers = response.headers
    headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
    headers["X-Content-Type-Options"] = "nosniff"
    headers["Referrer-Policy"] = "same-origin"
    headers["X-Frame-Options"] = "DENY"
    headers["Cross-Origin-Opener-Policy"] = "same-origin"
    headers["Permissions-Policy"] = "camera=(), microphone=(), geolocation=(), interest-cohort=()"
    if request.is_secure:
        headers["Strict-Transport-Security"] = "max-age=31536000; includeSubDomains"
    _harden_cookies(response)
    # Authenticated pages must not be kept by the browser or a shared cache; files that
    # declare themselves public (versioned assets, pack media) are the same for everyone.
    if not response.cache_control.public and _signed_in():
        headers["Cache-Control"] = "no-store"
        headers.pop("Expires", None)
        headers.pop("ETag", None)
        headers.pop("Last-Modified", None)
    return response


def _harden_cookies(response) -> None:
    """Give every cookie HttpOnly, SameSite and (over HTTPS) Secure: Flask-Login deletes the
    remember cookie with none of them, which scanners flag."""
    cookies = response.headers.getlist("Set-Cookie")
    if not cookies:
        return
    secure = current_app.config["SESSION_COOKIE_SECURE"]
    hardened = []
    for cookie in cookies:
        attributes = {part.strip().split("=", 1)[0].lower() for part in cookie.split(";")[1:]}
        cookie += "" if "httponly" in attributes else "; HttpOnly"
        cookie += "" if "samesite" in attributes else "; SameSite=Lax"
        cookie += "" if "secure" in attributes or not secure else "; Secure"
        hardened.append(cookie)
    response.headers.setlist("Set-Cookie", hardened)


def _signed_in() -> bool:
    try:
        return bool(current_user and current_user.is_authenticated)
    except Exception:  # no user loader outside a full request, e.g. static errors
        return False


def refuse_nul_characters():
    """A NUL character is never real input, and PostgreSQL cannot store one in text: refuse
    it up front with a 400 rather than fail deep inside a write with a 500. `next` is exempt:
    it is never stored, and safe_next already replaces one holding a control character."""
    def values_of(multidict):
        return [*multidict.keys(), *(v for k in multidict if k != "next" for v in multidict.getlist(k))]

    if "\x00" in request.path:
        # No page has a NUL in its address; some would reach a file system call with it.
        from portal.common.errors import error_page

        return error_page(404)
    values = values_of(request.args)
    if request.method == "POST":
        values += [*values_of(request.form), *(f.filename or "" for f in request.files.values())]
    # (a malformed multipart part can have no name at all: werkzeug's key is then None)
    if any(isinstance(value, str) and "\x00" in value for value in values):
        from portal.common.errors import error_page

        return error_page(400, "What you sent contains a NUL character, which the portal does not accept. "
                               "Remove it and try again.")
    if any(isinstance(value, str) and len(value) > MAX_FIELD_CHARS for value in values):
        from portal.common.errors import error_page

        # 413, and the value is not repeated back: a page echoing megabytes helps no one.
        return error_page(413, f"A field you sent is too long (over {MAX_FIELD_CHARS:,} characters). "
                               "Nothing was saved; shorten it and try again.")
    return None


def init_app(app: Flask) -> None:
    app.before_request(refuse_nul_characters)
    csrf.init_app(app)
    app.config.setdefault("RATELIMIT_HEADERS_ENABLED", True)
    # Redis down must not turn log-in into a 500: count per process meanwhile (a warning is
    # logged), and notice quickly when it is gone or back.
    app.config.setdefault("RATELIMIT_IN_MEMORY_FALLBACK_ENABLED", True)
    app.config.setdefault("RATELIMIT_SWALLOW_ERRORS", True)
    if app.config.get("RATELIMIT_STORAGE_URI", "").startswith(("redis://", "rediss://")):
        app.config.setdefault("RATELIMIT_STORAGE_OPTIONS", {"socket_connect_timeout": 1, "socket_timeout": 1})
    limiter._storage_dead = False  # the limiter is module-wide; a new app starts on its own storage
    limiter.init_app(app)
    app.after_request(add_security_headers)
