"""Security rules: CSRF on every POST, rate limits before hashing, response headers,
cookies, `next` redirects, and GET requests that never change the database."""

from __future__ import annotations

import os
import re
from types import SimpleNamespace
from urllib.parse import urlsplit

import pytest

from tests.helpers import (PASSWORD, csrf_token, get_user, issue_links, log_in, make_user, outbox, path_for,
                           row_counts, services, set_cookie_headers, snapshot, submit)

NEW_PASSWORD = "a fresh and entirely different passphrase"
FOUNDATION_BLUEPRINTS = ("accounts", "site", "support", "assets")
# The session table's last_seen_at/expires_at may slide on any request; nothing else may change.
SLIDING = {"login_session": {"last_seen_at", "expires_at"}}


@pytest.fixture
def world(frozen_app):
    app = frozen_app
    w = SimpleNamespace(app=app)
    w.admin = make_user(app, "admin@example.gov", name="Ada Admin", roles=("admin",))
    w.learner = make_user(app, "learner@example.gov")
    w.inactive = make_user(app, "inactive@example.gov", name="Ina Active", active=False)
    w.links = issue_links(app)
    w.unverified = get_user(app, "fresh@example.gov")
    w.admin_client = app.test_client()
    assert log_in(w.admin_client, "admin@example.gov").status_code == 302
    return w


# endpoint -> (needs the signed-in admin?, path, form data) for a request that would succeed
POSTS = {
    "site.contact": lambda w: (False, "/contact", {"name": "Vic", "email": "vic@example.gov", "subject": "Hi",
                                                  "message": "Hello"}),
    "accounts.signup": lambda w: (False, "/account/signup", {"name": "New Person", "email": "new@example.gov",
                                                             "agency": "", "password": PASSWORD,
                                                             "confirm": PASSWORD}),
    "accounts.verify_resend": lambda w: (False, "/account/verify/resend", {"email": "fresh@example.gov"}),
    "accounts.verify": lambda w: (False, w.links["verify"], {}),
    "accounts.login": lambda w: (False, "/account/login", {"email": "learner@example.gov", "password": PASSWORD}),
    "accounts.logout": lambda w: (True, "/account/logout", {}),
    "accounts.forgot_password": lambda w: (False, "/account/password/forgot", {"email": "learner@example.gov"}),
    "accounts.reset_password": lambda w: (False, w.links["reset"], {"password": NEW_PASSWORD,
                                                                   "confirm": NEW_PASSWORD}),
    "accounts.profile": lambda w: (True, "/account/profile", {"name": "Renamed Admin", "agency": "HQ"}),
    "accounts.change_password": lambda w: (True, "/account/profile/password", {
        "current_password": PASSWORD, "password": NEW_PASSWORD, "confirm": NEW_PASSWORD}),
    "accounts.change_email": lambda w: (True, "/account/profile/email", {"email": "ada@example.gov",
                                                                         "password": PASSWORD}),
    "accounts.confirm_email_change": lambda w: (False, w.links["confirm_email"], {}),
    "support.confirm": lambda w: (True, f"/support/users/{w.unverified.id}/confirm", {}),
    "support.send_reset": lambda w: (True, f"/support/users/{w.learner.id}/send-reset", {}),
    "support.deactivate": lambda w: (True, f"/support/users/{w.learner.id}/deactivate", {"reason": "test"}),
    "support.reactivate": lambda w: (True, f"/support/users/{w.inactive.id}/reactivate", {}),
    "support.change_role": lambda w: (True, f"/support/users/{w.learner.id}/roles/grant", {"role": "support"}),
}


def _tampered(token: str) -> str:
    return token[:-2] + ("AA" if not token.endswith("AA") else "BB")


def _header_token(page: str) -> str:
    match = re.search(r'"X-CSRFToken": "([^"]+)"', page)
    assert match, "no hx-headers CSRF token on the page"
    return match.group(1)


def assert_csrf_refused(app, client, path, data, other_token, check_each=True):
    """Missing, wrong, and another session's token: 400, the portal's page, nothing changed."""
    own = csrf_token(client, "/contact")
    before = snapshot(app)
    for label, extra in [("missing", {}), ("wrong", {"csrf_token": _tampered(own)}),
                         ("garbage", {"csrf_token": "not-a-token"}), ("other session", {"csrf_token": other_token})]:
        response = client.post(path, data={**data, **extra})
        assert response.status_code == 400, (label, path, response.status_code)
        html = response.get_data(as_text=True)
        assert "<main" in html and "Bad request" in html, (label, path)
        if check_each:
            assert snapshot(app) == before, (label, path)
    # The htmx header is checked the same way.
    for label, token in [("wrong header", _tampered(own)), ("other session header", other_token)]:
        response = client.post(path, data=data, headers={"X-CSRFToken": token})
        assert response.status_code == 400, (label, path)
        if check_each:
            assert snapshot(app) == before, (label, path)
    assert snapshot(app) == before, path


@pytest.mark.parametrize("endpoint", sorted(POSTS))
def test_csrf_refuses_bad_tokens_and_a_good_one_works(world, endpoint):
    app = world.app
    signed_in, path, data = POSTS[endpoint](world)
    client = world.admin_client if signed_in else app.test_client()
    other_token = csrf_token(app.test_client(), "/contact")
    assert_csrf_refused(app, client, path, data, other_token)

    before = snapshot(app, SLIDING)
    response = client.post(path, data={**data, "csrf_token": csrf_token(client, "/contact")})
    assert response.status_code in (302, 303), (endpoint, response.status_code)
    assert snapshot(app, SLIDING) != before, f"{endpoint}: the control request changed nothing"


@pytest.mark.parametrize("endpoint", sorted(POSTS))
def test_the_htmx_csrf_header_with_a_valid_token_works(world, endpoint):
    app = world.app
    signed_in, path, data = POSTS[endpoint](world)
    client = world.admin_client if signed_in else app.test_client()
    token = _header_token(client.get("/contact").get_data(as_text=True))
    before = snapshot(app, SLIDING)
    response = client.post(path, data=data, headers={"X-CSRFToken": token, "HX-Request": "true"})
    assert response.status_code in (302, 303), (endpoint, response.status_code)
    assert snapshot(app, SLIDING) != before


def test_every_post_route_refuses_a_bad_token(world):
    """Walks the URL map, so POST routes added later are covered too."""
    app = world.app
    other_token = csrf_token(app.test_client(), "/contact")
    values = {"user_id": world.learner.id, "action": "grant", "token": world.links["verify"].rsplit("/", 1)[1]}
    # The content origin's routes (cmi5 fetch, xAPI, SCORM runtime) are authorized by launch
    # credentials, not cookies, and do not exist on the portal's origin
    # (tests/security/test_csrf_everywhere.py checks both).
    posts = [rule for rule in app.url_map.iter_rules()
             if "POST" in rule.methods and rule.endpoint.split(".")[0] != "std_content"]
    assert len(posts) >= len(POSTS)
    for rule in posts:
        path = path_for(app, rule, values)
        for client in (app.test_client(), world.admin_client):
            assert_csrf_refused(app, client, path, {"name": "x", "email": "x@example.gov"}, other_token,
                                check_each=False)


def test_every_foundation_post_route_is_in_the_csrf_table(app):
    endpoints = {rule.endpoint for rule in app.url_map.iter_rules()
                 if "POST" in rule.methods and rule.endpoint.split(".")[0] in FOUNDATION_BLUEPRINTS}
    assert endpoints == set(POSTS)


# -- rate limits --------------------------------------------------------------------------------

REDIS_URL = os.environ.get("PORTAL_TEST_REDIS_URL", "")
STORAGES = ["memory"] + (["redis"] if REDIS_URL else [])


@pytest.fixture(params=STORAGES)
def limited_app(request, make_app):
    if request.param == "redis":
        import redis

        redis.Redis.from_url(REDIS_URL).flushdb()
        app = make_app(RATELIMIT_ENABLED=True, RATELIMIT_STORAGE_URI=REDIS_URL)
        yield app
        redis.Redis.from_url(REDIS_URL).flushdb()
    else:
        yield make_app(RATELIMIT_ENABLED=True, RATELIMIT_STORAGE_URI="memory://")


@pytest.fixture
def hash_calls(limited_app, monkeypatch):
    """Count every password hash and verification the app does."""
    hasher = services(limited_app).hasher
    calls = {"hash": 0, "verify": 0}
    real_hash, real_verify = hasher.hash, hasher.verify

    def counting_hash(password):
        calls["hash"] += 1
        return real_hash(password)

    def counting_verify(stored, password):
        calls["verify"] += 1
        return real_verify(stored, password)

    monkeypatch.setattr(hasher, "hash", counting_hash)
    monkeypatch.setattr(hasher, "verify", counting_verify)
    return calls


def assert_rate_limited(response):
    assert response.status_code == 429
    html = response.get_data(as_text=True)
    assert "<main" in html and "<h1>Too many attempts</h1>" in html
    assert "Traceback" not in html


FORMS = {
    "/account/login": lambda n: {"email": f"user{n}@example.gov", "password": "not the password"},
    "/account/signup": lambda n: {"name": f"Person {n}", "email": f"user{n}@example.gov", "agency": "",
                                  "password": PASSWORD, "confirm": PASSWORD},
    "/account/password/forgot": lambda n: {"email": f"user{n}@example.gov"},
    "/account/verify/resend": lambda n: {"email": f"user{n}@example.gov"},
}


@pytest.mark.parametrize("path", FORMS)
def test_the_eleventh_post_in_a_minute_is_refused(limited_app, hash_calls, path):
    for n in range(3):
        make_user(limited_app, f"user{n}@example.gov", verified=False)
    client = limited_app.test_client()
    token = csrf_token(client, path)
    for n in range(10):
        response = client.post(path, data={"csrf_token": token, **FORMS[path](n)})
        assert response.status_code in (302, 422), (n, response.status_code)
    before = (dict(hash_calls), row_counts(limited_app))
    limited = client.post(path, data={"csrf_token": token, **FORMS[path](10)})
    assert_rate_limited(limited)
    assert (dict(hash_calls), row_counts(limited_app)) == before  # refused before any hashing or writing
    assert client.get(path).status_code == 200  # looking at the form is not limited


def test_login_limit_is_reached_before_password_hashing(limited_app, hash_calls):
    client = limited_app.test_client()
    token = csrf_token(client, "/account/login")
    for n in range(10):
        client.post("/account/login", data={"csrf_token": token, **FORMS["/account/login"](n)})
    assert hash_calls["verify"] == 10
    assert_rate_limited(client.post("/account/login", data={"csrf_token": token, **FORMS["/account/login"](10)}))
    assert hash_calls["verify"] == 10


def test_signup_limit_is_reached_before_password_hashing(limited_app, hash_calls):
    client = limited_app.test_client()
    token = csrf_token(client, "/account/signup")
    for n in range(10):
        assert client.post("/account/signup", data={"csrf_token": token, **FORMS["/account/signup"](n)}
                           ).status_code == 302
    assert hash_calls["hash"] == 10
    assert_rate_limited(client.post("/account/signup", data={"csrf_token": token, **FORMS["/account/signup"](10)}))
    assert hash_calls["hash"] == 10
    assert get_user(limited_app, "user10@example.gov") is None


@pytest.mark.parametrize("path", ["/account/login", "/account/password/forgot", "/account/verify/resend"])
def test_one_address_is_limited_sooner_whatever_the_ip(limited_app, hash_calls, path):
    make_user(limited_app, "user0@example.gov", verified=False)
    client = limited_app.test_client()
    token = csrf_token(client, path)
    for _ in range(5):
        assert client.post(path, data={"csrf_token": token, **FORMS[path](0)}).status_code in (302, 422)
    mails_before, verifies_before = len(outbox(limited_app)), hash_calls["verify"]
    assert_rate_limited(client.post(path, data={"csrf_token": token, **FORMS[path](0)}))
    assert len(outbox(limited_app)) == mails_before and hash_calls["verify"] == verifies_before
    # Another address from the same place still gets through.
    assert client.post(path, data={"csrf_token": token, **FORMS[path](1)}).status_code in (302, 422)


def test_the_contact_form_is_limited_and_says_when_to_retry(limited_app):
    client = limited_app.test_client()
    token = csrf_token(client, "/contact")
    data = {"csrf_token": token, "name": "Vic", "email": "vic@example.gov", "subject": "S", "message": "M"}
    for _ in range(5):
        assert client.post("/contact", data=data).status_code == 302
    limited = client.post("/contact", data=data)
    assert_rate_limited(limited)
    assert limited.headers.get("Retry-After")


def test_rate_limits_are_off_when_disabled(app):
    client = app.test_client()
    token = csrf_token(client, "/account/login")
    for n in range(15):
        assert client.post("/account/login", data={"csrf_token": token, **FORMS["/account/login"](n)}
                           ).status_code == 422


# -- headers ------------------------------------------------------------------------------------

def get_paths(app, w) -> list[str]:
    values = {"user_id": w.learner.id, "action": "grant",
              "versioned": _asset_name(app, "portal.css")}
    paths = []
    for rule in app.url_map.iter_rules():
        if "GET" not in rule.methods:
            continue
        if "token" in rule.arguments:
            for link in w.links.values():
                if link.startswith(path_for(app, rule, {"token": "T"}).rsplit("/", 1)[0] + "/"):
                    paths.append(link)
            paths.append(path_for(app, rule, {"token": "made-up-token"}))
        else:
            paths.append(path_for(app, rule, values))
    return paths


def _asset_name(app, filename) -> str:
    from portal.common.assets import asset_url

    with app.test_request_context():
        return asset_url(filename).removeprefix("/assets/")


def assert_security_headers(response, path):
    csp = response.headers.get("Content-Security-Policy", "")
    assert csp, path
    assert "unsafe-inline" not in csp and "unsafe-eval" not in csp, path
    assert "frame-ancestors 'none'" in csp, path
    assert "script-src 'self'" in csp, path
    assert response.headers.get("X-Content-Type-Options") == "nosniff", path
    assert response.headers.get("Referrer-Policy") in {"same-origin", "strict-origin-when-cross-origin",
                                                       "no-referrer", "strict-origin"}, path


def test_every_page_sends_the_security_headers(world):
    app = world.app
    learner = app.test_client()
    log_in(learner, "learner@example.gov")
    for who, client in [("visitor", app.test_client()), ("learner", learner), ("admin", world.admin_client)]:
        for path in get_paths(app, world) + ["/no/such/page"]:
            response = client.get(path)
            assert_security_headers(response, (who, path))


def test_signed_in_pages_are_never_stored(world):
    app = world.app
    for path in get_paths(app, world) + ["/no/such/page"]:
        response = world.admin_client.get(path)
        if response.mimetype == "text/html":
            assert response.headers.get("Cache-Control") == "no-store", path
            assert "ETag" not in response.headers and "Last-Modified" not in response.headers, path


def test_pages_for_visitors_are_not_marked_no_store(client):
    assert "no-store" not in client.get("/").headers.get("Cache-Control", "")


# -- cookies ------------------------------------------------------------------------------------

def test_the_session_cookie_is_httponly_and_samesite_lax(client, app):
    make_user(app)
    response = client.get("/account/login")
    [header] = set_cookie_headers(response, app.config["SESSION_COOKIE_NAME"])
    assert "HttpOnly" in header and "SameSite=Lax" in header
    response = log_in(client, remember=True)
    for name in (app.config["SESSION_COOKIE_NAME"], app.config["REMEMBER_COOKIE_NAME"]):
        [header] = set_cookie_headers(response, name)
        assert "HttpOnly" in header and "SameSite=Lax" in header


@pytest.mark.parametrize("base_url, secure", [("https://training.example.gov", True),
                                              ("http://127.0.0.1:5000", False)])
def test_cookies_are_secure_when_the_base_url_is_https(monkeypatch, make_app, base_url, secure):
    """load_config derives the Secure flag from PORTAL_BASE_URL in the environment."""
    from portal.config import load_config

    monkeypatch.setenv("PORTAL_BASE_URL", base_url)
    monkeypatch.setenv("SECRET_KEY", "test-secret-key")
    config = load_config()
    assert config["SESSION_COOKIE_SECURE"] is secure and config["REMEMBER_COOKIE_SECURE"] is secure
    app = make_app(PORTAL_BASE_URL=base_url, SESSION_COOKIE_SECURE=config["SESSION_COOKIE_SECURE"],
                   REMEMBER_COOKIE_SECURE=config["REMEMBER_COOKIE_SECURE"])
    make_user(app)
    client = app.test_client()  # requests use PREFERRED_URL_SCHEME, https when secure
    origin = ("https" if secure else "http") + "://localhost"
    response = submit(client, "/account/login", {"email": "learner@example.gov", "password": PASSWORD,
                                                 "remember": "y"},
                      headers={"Referer": origin + "/account/login"})  # CSRF checks the referrer over https
    assert response.status_code == 302
    for name in ("portal_session", "portal_remember"):  # over https with the __Host- prefix
        [header] = set_cookie_headers(response, ("__Host-" if secure else "") + name)
        assert ("Secure" in header.split("; ")) is secure, header


def test_an_app_built_from_the_environment_sets_secure_cookies(monkeypatch, tmp_path, database_url):
    """The whole path: environment -> create_app -> Set-Cookie."""
    from portal import create_app

    monkeypatch.setenv("PORTAL_BASE_URL", "https://training.example.gov")
    monkeypatch.setenv("SECRET_KEY", "test-secret-key")
    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.setenv("PORTAL_DATA_DIR", str(tmp_path / "env-data"))
    monkeypatch.setenv("ARGON2_TIME_COST", "1")
    monkeypatch.setenv("ARGON2_MEMORY_COST", "1024")
    monkeypatch.setenv("RATELIMIT_ENABLED", "false")
    app = create_app({"TESTING": True})
    try:
        response = app.test_client().get("/account/login", base_url="https://localhost")
        [header] = set_cookie_headers(response, "__Host-portal_session")
        assert "Secure" in header.split("; ") and "HttpOnly" in header and "SameSite=Lax" in header
        assert response.headers.get("Strict-Transport-Security", "").startswith("max-age=")
    finally:
        app.extensions["portal"].database.dispose()


# -- `next` redirects ---------------------------------------------------------------------------

OPEN_REDIRECTS = [
    "//evil.com", "https://evil.com", "http://evil.com/", "/\\evil.com", "\\\\evil.com", "\\/evil.com",
    "javascript:alert(1)", "JaVaScRiPt:alert(1)", "%2F%2Fevil.com", "///evil.com", "////evil.com",
    "http:evil.com", "https:/evil.com", "//evil.com/%2F..", " //evil.com", "\t//evil.com", "/\t/evil.com",
    "//\tevil.com", "/%09/evil.com", "http://portal.test@evil.com", "//portal.test@evil.com",
    "data:text/html,<script>alert(1)</script>", "evil.com", "@evil.com", "//evil%E3%80%82com",
    "/\x00/evil.com", "\r\n//evil.com", "ftp://evil.com", "%5C%5Cevil.com", "/%5Cevil.com",
]


def assert_local(location: str, payload: str):
    assert location, payload
    parts = urlsplit(location)
    assert not parts.scheme and not parts.netloc, (payload, location)
    assert location.startswith("/") and not location.startswith("//"), (payload, location)
    assert "\\" not in location and location[1:2] not in {"/", "\\"}, (payload, location)


def test_log_in_never_redirects_off_site(app):
    """Every payload, each from a fresh browser (one app, to keep the suite quick)."""
    assert len(OPEN_REDIRECTS) >= 15
    make_user(app)
    for payload in OPEN_REDIRECTS:
        client = app.test_client()
        page = client.get("/account/login", query_string={"next": payload})
        assert page.status_code == 200, payload
        response = submit(client, "/account/login", {"email": "learner@example.gov", "password": PASSWORD,
                                                     "next": payload}, form_page="/account/login")
        assert response.status_code == 302, payload
        assert_local(response.location, payload)
        # Already signed in, the log-in page forwards at once: still on site.
        again = client.get("/account/login", query_string={"next": payload})
        assert again.status_code == 302, payload
        assert_local(again.location, payload)


@pytest.mark.parametrize("target", ["/faq", "/account/profile", "/support/?q=pat", "/contact#form"])
def test_log_in_follows_a_local_next(client, app, target):
    make_user(app)
    response = submit(client, "/account/login", {"email": "learner@example.gov", "password": PASSWORD,
                                                 "next": target}, form_page="/account/login")
    assert response.location == target


def test_a_protected_page_sends_you_back_after_log_in(client, app):
    make_user(app)
    response = client.get("/account/profile/password")
    assert response.status_code == 302
    login_url = response.location
    assert login_url.startswith("/account/login")
    next_value = dict(p.split("=", 1) for p in urlsplit(login_url).query.split("&"))["next"]
    response = submit(client, "/account/login", {"email": "learner@example.gov", "password": PASSWORD,
                                                 "next": next_value.replace("%2F", "/")}, form_page=login_url)
    assert response.location == "/account/profile/password"


# -- GET never changes the database -------------------------------------------------------------

def test_get_requests_never_change_the_database(world):
    app = world.app
    learner, unverified = app.test_client(), app.test_client()
    log_in(learner, "learner@example.gov")
    log_in(unverified, "fresh@example.gov")
    clients = [("visitor", app.test_client()), ("learner", learner), ("unverified", unverified),
               ("admin", world.admin_client)]
    paths = get_paths(app, world)
    before_full, before_counts = snapshot(app, SLIDING), row_counts(app)
    for who, client in clients:
        for path in paths:
            client.get(path)
            client.get(path, headers={"HX-Request": "true"})
            assert row_counts(app) == before_counts, (who, path)
            assert snapshot(app, SLIDING) == before_full, (who, path)
    # GET on POST-only routes is refused and changes nothing either.
    values = {"user_id": world.learner.id, "action": "grant"}
    for rule in app.url_map.iter_rules():
        if "GET" not in rule.methods:
            path = path_for(app, rule, values)
            for who, client in clients:
                assert client.get(path).status_code == 405, path
    assert snapshot(app, SLIDING) == before_full
    for link in world.links.values():
        assert app.test_client().get(link).status_code == 200, link  # no link was spent by looking


def test_get_requests_with_the_real_clock_change_no_row_counts(app):
    make_user(app, "admin@example.gov", roles=("admin",))
    make_user(app)
    links = issue_links(app)
    admin = app.test_client()
    log_in(admin, "admin@example.gov")
    w = SimpleNamespace(learner=get_user(app, "learner@example.gov"), links=links)
    before = row_counts(app)
    for client in (app.test_client(), admin):
        for path in get_paths(app, w):
            client.get(path)
    assert row_counts(app) == before


# -- NUL characters -----------------------------------------------------------------------------

def test_an_address_holding_a_nul_is_not_found_on_every_route(app):
    """Every route, with a NUL in each of its text arguments: a 404 page, never a 500
    (some would otherwise hand it to a file system call or to PostgreSQL)."""
    from werkzeug.routing import IntegerConverter

    make_user(app, roles=("admin",))
    client = app.test_client()
    log_in(client)
    checked = 0
    for rule in app.url_map.iter_rules():
        text_args = [a for a in rule.arguments if not isinstance(rule._converters[a], IntegerConverter)]
        if not text_args:
            continue
        path = path_for(app, rule, {name: "a\x00b" for name in text_args})
        assert "%00" in path, path
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            response = client.open(path, method=method, data={"csrf_token": csrf_token(client, "/")})
            assert response.status_code == 404, (method, path, response.status_code)
            checked += 1
    assert checked >= 20
