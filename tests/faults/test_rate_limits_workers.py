"""Rate limits hold across 2 gunicorn workers when they count in Redis: however the requests
spread over the workers, exactly `limit` of them get through, not `limit` x workers; the rest
get a clear 429 page with Retry-After.

Requests come from many connections at once. Each scenario uses its own loopback source
address(es), which the portal sees as its own client(s), and each server its own Redis key
prefix, so runs never share counters. The access log names the worker of every request, and a
scenario keeps sending until both workers have answered it.
"""

from __future__ import annotations

import os
import threading
import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlmodel import func, select

from portal.accounts.models import User
from tests.faults.gunicorn import Browser, Server, require
from tests.helpers import PASSWORD, services
from tests.learning.journey import page_text

REDIS_URL = os.environ.get("PORTAL_TEST_REDIS_URL", "")
PER_IP = 10  # portal/accounts/views.py PER_IP_STRICT, per minute
PER_ADDRESS = 5  # PER_ADDRESS, per minute
BATCH = 12
MAX_REQUESTS = 96

# Rate limiting does not depend on the database; one backend is enough.
pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)


@pytest.fixture
def redis_prefix():
    require(bool(REDIS_URL), "set PORTAL_TEST_REDIS_URL (e.g. redis://127.0.0.1:6379/15) to run the Redis tests")
    import redis

    client = redis.Redis.from_url(REDIS_URL)
    try:
        client.ping()
    except redis.RedisError as error:
        require(False, f"Redis at {REDIS_URL} does not answer: {error}")
    prefix = f"faults-{uuid.uuid4().hex}"
    yield client, prefix
    for key in client.scan_iter(match=f"*{prefix}*"):
        client.delete(key)
    client.close()


def limited_server(start_server, database_url, storage: str, prefix: str) -> Server:
    return start_server(database_url, workers=2, env={"RATELIMIT_ENABLED": "true", "RATELIMIT_STORAGE_URI": storage},
                        app_config={"RATELIMIT_KEY_PREFIX": prefix})


def hammer(server: Server, path: str, forms, source_ips) -> list:
    """POST `path` from fresh browsers, BATCH at a time all at once, until both workers have
    answered requests to it and at least 3 x the limit were sent. Returns the responses."""
    responses, sent, clients = [], 0, set()
    while True:
        batch = range(sent, sent + BATCH)
        browsers = [Browser(server.base_url, source_ip=source_ips(i)) for i in batch]
        clients |= {source_ips(i) for i in batch}
        tokens = [b.csrf_token(path) for b in browsers]  # GETs are not limited
        start = threading.Barrier(BATCH)

        def post(k):
            start.wait(timeout=30)
            return browsers[k].request("POST", path, {"csrf_token": tokens[k], **forms(batch[k])})

        with ThreadPoolExecutor(BATCH) as pool:
            responses += list(pool.map(post, range(BATCH)))
        sent += BATCH
        workers = {pid for pid, _status, method, p, client in server.access()
                   if method == "POST" and p == path and client in clients}
        if len(workers) >= 2 and sent >= 3 * PER_IP:
            return responses
        assert sent < MAX_REQUESTS, f"only workers {workers} answered {sent} requests to {path}"


def through(responses) -> list:
    return [r for r in responses if r.status != 429]


def assert_clear_429(responses) -> None:
    refused = [r for r in responses if r.status == 429]
    assert refused
    for response in refused:
        assert response.headers.get("Retry-After", "").isdigit(), dict(response.headers)
        text = page_text(response.text)
        assert "Too many attempts" in text and "try again" in text
    assert all(r.status < 500 for r in responses)


def test_limits_hold_across_two_workers_counting_in_redis(app, start_server, database_url, redis_prefix):
    client, prefix = redis_prefix
    server = limited_server(start_server, database_url, REDIS_URL, prefix)

    # Log-in, per client address: distinct (unknown) emails from one address.
    responses = hammer(server, "/account/login", lambda i: {"email": f"nobody{i}@example.gov", "password": "x" * 12},
                       lambda i: "127.0.0.2")
    assert len(through(responses)) == PER_IP
    assert {r.status for r in through(responses)} == {422}  # wrong credentials, answered normally
    assert_clear_429(responses)

    # Log-in, per account: one email from many addresses, each under its own address limit.
    responses = hammer(server, "/account/login", lambda i: {"email": "target@example.gov", "password": "x" * 12},
                       lambda i: f"127.0.1.{i + 1}")
    assert len(through(responses)) == PER_ADDRESS
    assert_clear_429(responses)

    # Forgot-password, per client address.
    responses = hammer(server, "/account/password/forgot", lambda i: {"email": f"someone{i}@example.gov"},
                       lambda i: "127.0.0.3")
    assert len(through(responses)) == PER_IP
    assert {r.status for r in through(responses)} == {302}
    assert_clear_429(responses)

    # Sign-up, per client address: exactly as many accounts exist as requests got through.
    responses = hammer(server, "/account/signup",
                       lambda i: {"name": f"Officer {i}", "email": f"officer{i}@example.gov", "agency": "",
                                  "password": PASSWORD, "confirm": PASSWORD},
                       lambda i: "127.0.0.4")
    assert len(through(responses)) == PER_IP
    assert {r.status for r in through(responses)} == {302}
    assert_clear_429(responses)
    with services(app).database.session() as db:
        assert db.exec(select(func.count()).select_from(User).where(User.email.like("officer%"))).one() == PER_IP

    assert any(client.scan_iter(match=f"*{prefix}*")), "the counters were not kept in Redis"


def test_per_worker_memory_counters_would_let_more_through(app, start_server, database_url):
    """The control: the same hammering with each worker counting in its own memory lets more
    than the limit through (each worker lets up to the limit through, and both answered some),
    so the test above would catch counters that are not shared."""
    server = limited_server(start_server, database_url, "memory://", "faults-memory")
    responses = hammer(server, "/account/login", lambda i: {"email": f"nobody{i}@example.gov", "password": "x" * 12},
                       lambda i: "127.0.0.2")
    assert len(through(responses)) > PER_IP
