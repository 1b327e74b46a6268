"""A passive header scan, the way OWASP ZAP's passive rules look at every response: every GET
route of app.url_map with real ids (anonymous, learner, coordinator, admin), each HTML page
again as an htmx fragment, CSV, PDF, assets, pack files, and the error pages (400 CSRF, 404,
405, 413, 422, 429, 500, 503). Every response must carry:

- Content-Security-Policy with frame-ancestors 'none' and no 'unsafe-inline'/'unsafe-eval'
  for scripts (ZAP 10038, 10055, 10020 anti-clickjacking);
- X-Content-Type-Options: nosniff (10021); a strict Referrer-Policy;
- Cache-Control: no-store on everything a signed-in browser gets (10015), except what a
  response itself declares `public`: the versioned, immutable assets, the pack files and a
  series' download archive. Those are published content, byte for byte what an anonymous
  visitor gets (the scan checks that), never personal data, and they set no cookie, so a
  browser or shared cache keeping them leaks nothing, and caching them keeps pages fast;
- no Server version and no X-Powered-By (10036, 10037), checked under the real gunicorn too;
- no stack trace or debugger text in the body (10023, 90022);
- cookies Secure, HttpOnly, SameSite (10010, 10011, 10054); a Content-Type on every body,
  with a charset for text other than JSON (10019; JSON is UTF-8, RFC 8259).
"""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from http.cookiejar import CookieJar

import pytest
from sqlalchemy.exc import OperationalError

from tests.conftest import BACKENDS, PG_URL
from tests.helpers import PASSWORD, csrf_token, log_in, path_for
from tests.security.world import COURSE, EMAILS, TOKENS, app_config, open_world

SCANNED_ROLES = ("anonymous", "learner", "coordinator", "admin")
STRICT_REFERRER = {"no-referrer", "same-origin", "strict-origin", "strict-origin-when-cross-origin"}
LEAKS = ("Traceback (most recent call last)", "__debugger__", "Werkzeug Debugger", "werkzeug.debug",
         'File "/', "sqlalchemy.exc", "psycopg.errors", "sqlite3.OperationalError")
TEXT_TYPES = ("text/", "application/json", "application/javascript", "image/svg+xml")
# JSON is UTF-8 by definition and its media type has no charset parameter (RFC 8259, section 11).
CHARSET_TYPES = tuple(t for t in TEXT_TYPES if t != "application/json")


@pytest.fixture(scope="module", params=BACKENDS)
def world(request, tmp_path_factory):
    built = open_world(request.param, tmp_path_factory.mktemp(f"headers-{request.param}"), PG_URL)
    yield built
    built.close()


# -- what a scan asserts on one response -----------------------------------------------------

def csp_directives(response) -> dict[str, list[str]]:
    policy = response.headers.get("Content-Security-Policy", "")
    directives = {}
    for part in policy.split(";"):
        words = part.split()
        if words:
            directives[words[0].lower()] = words[1:]
    return directives


def problems_of(response, signed_in: bool, path: str) -> list[str]:
    """Everything a passive scanner would flag on this response (empty: nothing)."""
    found = []
    headers = response.headers
    csp = csp_directives(response)
    if not csp:
        found.append("no Content-Security-Policy")
    else:
        if csp.get("frame-ancestors") not in (["'none'"], ["'self'"]):
            found.append(f"frame-ancestors is {csp.get('frame-ancestors')}")
        scripts = csp.get("script-src", csp.get("default-src"))
        if not scripts or {"'unsafe-inline'", "'unsafe-eval'", "*", "data:"} & set(scripts):
            found.append(f"script-src is {scripts}")
        if "'unsafe-eval'" in headers["Content-Security-Policy"]:
            found.append("unsafe-eval in the policy")
        if csp.get("object-src") != ["'none'"]:
            found.append("object-src is not 'none'")
    if headers.get("X-Content-Type-Options") != "nosniff":
        found.append("no X-Content-Type-Options: nosniff")
    if headers.get("Referrer-Policy") not in STRICT_REFERRER:
        found.append(f"Referrer-Policy is {headers.get('Referrer-Policy')!r}")
    server = headers.get("Server", "")
    if re.search(r"\d", server) or "werkzeug" in server.lower() or "python" in server.lower():
        found.append(f"Server header reveals {server!r}")
    if "X-Powered-By" in headers:
        found.append("X-Powered-By is sent")
    cache = headers.get("Cache-Control", "")
    cacheable = is_public(response)
    if cacheable and "Set-Cookie" in headers:
        found.append("a publicly cacheable response sets a cookie")
    if signed_in and not cacheable:
        if "no-store" not in cache:
            found.append(f"signed in, but Cache-Control is {cache!r}")
        if "ETag" in headers or "Last-Modified" in headers:
            found.append("signed in, but an ETag or Last-Modified is sent")
    body = response.get_data()
    if body and response.status_code not in (204, 304):
        content_type = headers.get("Content-Type", "")
        if not content_type:
            found.append("a body without a Content-Type")
        elif content_type.startswith(CHARSET_TYPES) and "charset=" not in content_type.lower():
            found.append(f"text without a charset: {content_type!r}")
        if content_type.startswith(TEXT_TYPES) and headers.get("Content-Encoding") is None:
            text = body.decode("utf-8", "replace")
            found += [f"body shows {leak!r}" for leak in LEAKS if leak in text]
    found += cookie_problems(headers.getlist("Set-Cookie"))
    return found


def is_public(response) -> bool:
    return "public" in response.headers.get("Cache-Control", "") and response.status_code in (200, 206, 304)


def cookie_problems(set_cookies: list[str]) -> list[str]:
    found = []
    for cookie in set_cookies:
        name = cookie.split("=", 1)[0]
        attributes = {part.strip().split("=", 1)[0].lower() for part in cookie.split(";")[1:]}
        for flag in ("secure", "httponly", "samesite"):
            if flag not in attributes:
                found.append(f"cookie {name} is not {flag}")
    return found


def assert_clean(response, signed_in: bool, who: str, path: str) -> None:
    found = problems_of(response, signed_in, path)
    assert not found, (who, path, response.status_code, found)


# -- every GET route --------------------------------------------------------------------------

def scan_paths(world) -> list[str]:
    """Every GET route, with real ids: each pack, each of its public files, each test kind, the
    learner's attempt and certificate, agency A's records, the real mailed tokens."""
    app, ids = world.app, world.ids
    packs = app.extensions["packs"]
    base = {"attempt_id": ids["attempt"], "number": ids["certificate"], "versioned": ids["asset"],
            "showing_id": ids["showing_a"], "agency_id": ids["agency_a"], "award_id": ids["award_a"],
            "sro_id": ids["sro_a"], "expense_id": ids["expense_a"], "invite_id": ids["invite_a"],
            "member_id": ids["member_a"], "user_id": ids["user_learner"], "action": "grant"}
    tokens = {"accounts.verify": TOKENS["verify"], "accounts.reset_password": TOKENS["reset"],
              "accounts.confirm_email_change": TOKENS["change_email"], "agencies.join": ids["invite_token_a"]}
    paths = {"/no/such/page", "/reports/items?course=" + COURSE, "/reports/items.csv?course=" + COURSE}
    from portal.common.assets import STATIC_DIR, asset_url

    with app.test_request_context():
        paths |= {asset_url(p.name) for p in STATIC_DIR.iterdir() if p.is_file()}
    for rule in app.url_map.iter_rules():
        if "GET" not in rule.methods:
            continue
        variants = [dict(base)]
        if "pack_id" in rule.arguments:
            variants = []
            for pack in packs.all():
                lesson = pack.lessons[0].id if pack.lessons else "none"
                for filename in (sorted(pack.public_files()) if "filename" in rule.arguments else [None]):
                    for kind in ("pre", "post") if "kind" in rule.arguments else [None]:
                        variants.append({**base, "pack_id": pack.id, "version": pack.version, "lesson_id": lesson,
                                         "episode_id": lesson, "filename": filename, "kind": kind})
        if "token" in rule.arguments:
            variants = [{**base, "token": tokens.get(rule.endpoint, "made-up-token")},
                        {**base, "token": "made-up-token"}]
        for values in variants:
            paths.add(path_for(app, rule, {k: v for k, v in values.items() if v is not None}))
    return sorted(paths)


@pytest.mark.parametrize("role", SCANNED_ROLES)
def test_every_get_response_passes_the_passive_scan(world, role):
    client = world.browser(role)
    signed_in = role != "anonymous"
    anonymous = world.browser("anonymous")
    statuses, kinds, public = set(), set(), set()
    for path in scan_paths(world):
        response = client.get(path)
        statuses.add(response.status_code)
        kinds.add(response.mimetype)
        assert_clean(response, signed_in, role, path)
        if signed_in and is_public(response):
            public.add(path)
            assert response.get_data() == anonymous.get(path).get_data(), (role, path, "public but personal")
        if response.mimetype == "text/html":
            fragment = client.get(path, headers={"HX-Request": "true"})
            assert_clean(fragment, signed_in, role + " (htmx)", path)
    # The scan reached real pages, not only refusals: pages, files and the kinds a scanner sees.
    assert 200 in statuses and 404 in statuses
    assert {"text/html", "text/javascript", "text/css"} <= kinds
    if role in ("learner", "admin", "coordinator"):
        assert "application/pdf" in kinds and "text/csv" in kinds, kinds
        # Only published content is left cacheable: assets, pack files, series archives.
        assert public and all(p.startswith(("/assets/", "/packs/", "/series/")) for p in public), public


def test_logging_in_sets_only_secure_httponly_samesite_cookies(world):
    client = world.app.test_client()
    token = csrf_token(client, "/account/login")
    assert_clean(client.get("/account/login"), False, "anonymous", "/account/login")
    response = client.post("/account/login", data={"csrf_token": token, "email": EMAILS["learner"],
                                                   "password": PASSWORD, "remember": "y"})
    assert response.status_code == 302
    names = {c.split("=", 1)[0] for c in response.headers.getlist("Set-Cookie")}
    assert {"__Host-portal_session", "__Host-portal_remember"} <= names, names  # https: the __Host- prefix
    assert_clean(response, True, "logging in", "/account/login")
    logout = client.post("/account/logout", data={"csrf_token": csrf_token(client, "/account/profile")})
    assert logout.status_code in (302, 303)
    assert_clean(logout, False, "logging out", "/account/logout")


# -- error pages --------------------------------------------------------------------------------

def test_error_pages_pass_the_scan(world):
    learner, anonymous = world.browser("learner"), world.browser("anonymous")
    cases = [
        ("404", anonymous.get("/no/such/page"), 404, False),
        ("404 signed in", learner.get("/no/such/page"), 404, True),
        ("405 GET on a POST route", learner.get("/account/logout"), 405, True),
        ("405 POST on a GET route", anonymous.post("/faq"), 405, False),
        ("400 CSRF", anonymous.post("/contact", data={"name": "x"}), 400, False),
        ("400 CSRF signed in", learner.post("/account/profile", data={"name": "x"}), 400, True),
        ("413", anonymous.post("/contact", data={"message": "x" * (9 * 1024 * 1024)}), 413, False),
        ("422", anonymous.post("/contact", data={"csrf_token": world.csrf("anonymous")}), 422, False),
        ("422 signed in", learner.post("/account/profile/password", data={"csrf_token": world.csrf("learner")}),
         422, True),
    ]
    for label, response, status, signed_in in cases:
        assert response.status_code == status, (label, response.status_code)
        assert "<main" in response.get_data(as_text=True), label  # the portal's own page
        assert_clean(response, signed_in, label, "error")


@pytest.fixture
def troubled_app(world, tmp_path):
    """The world's database behind an app with rate limits on and two routes that fail the way
    production can: a database lock that outlasts the busy timeout, and a bug."""
    from portal import create_app
    from portal.common.security import limiter

    was_enabled = limiter.enabled
    app = create_app({**app_config(world.app.config["DATABASE_URL"], tmp_path / "data"), "RATELIMIT_ENABLED": True})

    def locked():
        raise OperationalError("UPDATE user_account", {}, Exception("database is locked"))

    def broken():
        raise RuntimeError("a bug: Traceback (most recent call last) File \"/srv/portal/secret.py\"")

    app.add_url_rule("/scan/locked", "scan_locked", locked)
    app.add_url_rule("/scan/broken", "scan_broken", broken)
    yield app
    app.extensions["portal"].database.dispose()
    limiter.enabled = was_enabled  # the limiter is one object per process; later apps set their own


def test_429_500_and_503_pages_pass_the_scan(troubled_app, world):
    client = troubled_app.test_client()
    signed_in = troubled_app.test_client()
    assert log_in(signed_in, EMAILS["learner"]).status_code == 302
    for who, browser, is_signed_in in (("anonymous", client, False), ("learner", signed_in, True)):
        for path, status in (("/scan/locked", 503), ("/scan/broken", 500)):
            response = browser.get(path)
            assert response.status_code == status, (who, path)
            assert "a bug" not in response.get_data(as_text=True)
            assert_clean(response, is_signed_in, who, path)
    statuses = []
    for n in range(8):
        token = csrf_token(client, "/contact")
        response = client.post("/contact", data={"csrf_token": token, "name": "Vic", "email": "vic@example.gov",
                                                 "subject": f"Try {n}", "message": "Hello"})
        statuses.append(response.status_code)
        assert_clean(response, False, "contact", f"/contact #{n}")
    assert 429 in statuses, statuses


# -- under the real server -----------------------------------------------------------------------

def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


@pytest.fixture
def served(world, tmp_path):
    """`portal serve` (gunicorn) on a free port, on the world's database, until the test ends."""
    port = free_port()
    env = {**os.environ, "DATABASE_URL": world.app.config["DATABASE_URL"], "PORTAL_DATA_DIR": str(tmp_path),
           "SECRET_KEY": "scan-secret", "PORTAL_BASE_URL": f"http://127.0.0.1:{port}", "RATELIMIT_ENABLED": "false",
           "ARGON2_TIME_COST": "1", "ARGON2_MEMORY_COST": "1024"}
    server = subprocess.Popen([sys.executable, "-m", "portal.cli", "serve", "--host", "127.0.0.1", "--port",
                               str(port), "--workers", "1", "--threads", "2", "--no-mail-sender"],
                              env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            assert server.poll() is None, f"portal serve stopped: {server.stderr.read().decode()[-2000:]}"
            try:
                urllib.request.urlopen(base + "/healthz", timeout=2).read()
                break
            except OSError:
                assert time.monotonic() < deadline, "portal serve did not answer /healthz within 60 s"
                time.sleep(0.1)
        yield base
    finally:
        os.killpg(server.pid, 15)  # gunicorn and its workers: the session this test started
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, 9)
            server.wait()
        server.stderr.close()


class Fetched:
    """A urllib response, shaped like a test-client response for problems_of()."""

    def __init__(self, status, headers, body):
        from werkzeug.datastructures import Headers

        self.status_code, self._body = status, body
        self.headers = Headers(list(headers.items()))

    def get_data(self):
        return self._body


def fetch(opener, url, data=None) -> Fetched:
    try:
        with opener.open(urllib.request.Request(url, data=data), timeout=30) as response:
            return Fetched(response.status, response.headers, response.read())
    except urllib.error.HTTPError as error:
        return Fetched(error.code, error.headers, error.read())


def served_problems(response, signed_in, path) -> list[str]:
    """The scan's findings, but for Secure cookies: this server's base URL is plain http://."""
    return [p for p in problems_of(response, signed_in, path) if not p.endswith("is not secure")]


def test_gunicorn_reveals_no_version_and_keeps_every_header(served, world):
    jar = CookieJar()
    opener = urllib.request.build_opener(NoRedirect, urllib.request.HTTPCookieProcessor(jar))
    asset = "/assets/" + world.ids["asset"]
    for path in ("/", "/faq", "/account/login", "/no/such/page", "/account/logout", asset):
        response = fetch(opener, served + path)
        assert response.headers.get("Server") == "gunicorn", response.headers.get("Server")
        found = served_problems(response, False, path)
        assert not found, (path, response.status_code, found)

    page = fetch(opener, served + "/account/login").get_data().decode()
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    from urllib.parse import urlencode

    response = fetch(opener, served + "/account/login", urlencode(
        {"csrf_token": token, "email": EMAILS["learner"], "password": PASSWORD}).encode())
    assert response.status_code == 302, response.status_code
    for path in ("/my/courses", "/my/certificates", f"/certificates/{world.ids['certificate']}.pdf",
                 "/no/such/page", asset):
        response = fetch(opener, served + path)
        assert response.headers.get("Server") == "gunicorn"
        found = served_problems(response, True, path)
        assert not found, (path, response.status_code, found)
    # An oversized body: announced, not sent (the server answers before reading it).
    import http.client

    connection = http.client.HTTPConnection(served.removeprefix("http://"), timeout=30)
    connection.putrequest("POST", "/contact")
    connection.putheader("Content-Type", "application/x-www-form-urlencoded")
    connection.putheader("Content-Length", str(9 * 1024 * 1024))
    connection.endheaders()
    answer = connection.getresponse()
    big = Fetched(answer.status, answer.headers, answer.read())
    connection.close()
    assert big.status_code == 413 and big.headers.get("Server") == "gunicorn"
    assert not served_problems(big, False, "/contact")
