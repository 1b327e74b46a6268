"""PROXY_FIX (security audit finding 2): behind N trusted proxies the counted client address is
the one the nearest proxy saw. A visitor's own X-Forwarded-For is never believed: forged hops
sit to the left of the ones the proxies append, so they cannot move a visitor into a fresh
rate-limit bucket, and without PROXY_FIX the header is ignored altogether."""

from __future__ import annotations

import itertools

import pytest

from tests.helpers import csrf_token

PROXY = "10.0.0.2"  # nginx, as gunicorn sees it
_addresses = itertools.count(1)


def fresh_address() -> str:
    """A client address no other test in this process has used (the limiter's memory is shared)."""
    n = next(_addresses)
    return f"203.0.{n // 250}.{n % 250 + 1}"


def log_in_through_proxy(client, client_address: str, forged: str | None = None):
    """A wrong-password log-in as nginx forwards it: nginx appends the address it saw. Each
    attempt names another account, so only the per-address (IP) limit can refuse it."""
    chain = f"{forged}, {client_address}" if forged else client_address
    # (over https, CSRF protection also checks that the form came from this site)
    headers = {"X-Forwarded-For": chain, "X-Forwarded-Proto": "https", "Referer": "https://localhost/account/login"}
    token = csrf_token(client, "/account/login")
    return client.post("/account/login", data={"csrf_token": token, "email": f"nobody{next(_addresses)}@example.gov",
                                               "password": "not the password"},
                       headers=headers, environ_base={"REMOTE_ADDR": PROXY})


@pytest.fixture
def proxied_app(monkeypatch, make_app):
    """PROXY_FIX comes from the environment, as an operator sets it (it used to be read by nothing)."""
    monkeypatch.setenv("PROXY_FIX", "1")
    return make_app(RATELIMIT_ENABLED=True, RATELIMIT_STORAGE_URI="memory://")


def test_the_trusted_proxy_gives_each_client_its_own_bucket(proxied_app):
    first, second = fresh_address(), fresh_address()
    client = proxied_app.test_client()
    statuses = [log_in_through_proxy(client, first).status_code for _ in range(11)]
    assert 429 not in statuses[:10] and statuses[10] == 429  # (a wrong password is a 422)
    # Another learner behind the same proxy is not shut out by the first one's attempts.
    assert log_in_through_proxy(client, second).status_code == 422


def test_a_forged_forwarded_for_does_not_change_the_counted_address(proxied_app):
    real = fresh_address()
    client = proxied_app.test_client()
    statuses = [log_in_through_proxy(client, real, forged=f"198.51.100.{n}").status_code for n in range(11)]
    assert statuses[10] == 429, "each forged hop opened a fresh bucket"


def test_the_client_address_the_portal_sees(proxied_app):
    from flask import request

    seen = []
    proxied_app.before_request(lambda: seen.append((request.remote_addr, request.scheme)) and None)
    real = fresh_address()
    proxied_app.test_client().get("/healthz", headers={"X-Forwarded-For": f"6.6.6.6, {real}",
                                                       "X-Forwarded-Proto": "https"},
                                  environ_base={"REMOTE_ADDR": PROXY})
    assert seen == [(real, "https")]


def test_without_proxy_fix_the_header_is_ignored(monkeypatch, make_app):
    monkeypatch.delenv("PROXY_FIX", raising=False)
    app = make_app(RATELIMIT_ENABLED=True, RATELIMIT_STORAGE_URI="memory://")
    client = app.test_client()
    statuses = [log_in_through_proxy(client, fresh_address()).status_code for _ in range(11)]
    # Every request came from the proxy's address, whatever the header said: one bucket.
    assert statuses[10] == 429


def test_two_trusted_hops(monkeypatch, make_app):
    """A CDN in front of nginx: PROXY_FIX=2 trusts both appended hops and nothing further left."""
    from flask import request

    monkeypatch.setenv("PROXY_FIX", "2")
    app = make_app()
    seen = []
    app.before_request(lambda: seen.append(request.remote_addr) and None)
    app.test_client().get("/healthz", headers={"X-Forwarded-For": "6.6.6.6, 203.0.113.9, 192.0.2.1"},
                          environ_base={"REMOTE_ADDR": PROXY})
    assert seen == ["203.0.113.9"]
