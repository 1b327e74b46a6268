"""Redis, where rate limits are counted, goes down: log-in, sign-up and reset keep working with
limits counted per process (a warning is logged), never a 500; /readyz is a 503 naming Redis
while it is down and 200 again once it is back, and the limits return to Redis."""

from __future__ import annotations

import logging

import pytest

from tests.faults.services import PrivateRedis
from tests.helpers import csrf_token

# Rate limiting does not depend on the database; one backend is enough.
pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)

FORMS = {
    "/account/login": {"email": "someone@example.gov", "password": "not the password"},
    "/account/password/forgot": {"email": "someone@example.gov"},
    "/account/signup": {"name": "Pat", "email": "pat@example.gov", "agency": "", "password": "x", "confirm": "y"},
}


@pytest.fixture
def redis_server(tmp_path):
    server = PrivateRedis(tmp_path / "redis").start()
    yield server
    server.stop()


def post(client, path, address, n=0):
    """POST the form from `address`; `n` varies the account so that only the per-IP limit counts."""
    token = csrf_token(client, path)
    data = {**FORMS[path], "email": f"someone{n}@example.gov"}
    return client.post(path, data={"csrf_token": token, **data}, environ_base={"REMOTE_ADDR": address})


def test_redis_down_means_limits_per_process_not_a_500(make_app, redis_server, caplog):
    app = make_app(RATELIMIT_ENABLED=True, RATELIMIT_STORAGE_URI=redis_server.url)
    client = app.test_client()
    assert client.get("/readyz").status_code == 200
    assert post(client, "/account/login", "192.0.2.10").status_code == 422

    redis_server.stop()
    with caplog.at_level(logging.WARNING):
        statuses = {path: post(client, path, "192.0.2.11").status_code for path in FORMS}
    assert all(status < 500 for status in statuses.values()), statuses
    assert any("falling back to in-memory" in r.getMessage() for r in caplog.records)

    # The fallback still limits: the 11th log-in a minute from one address is refused.
    for n in range(9):
        post(client, "/account/login", "192.0.2.12", n)
    assert post(client, "/account/login", "192.0.2.12", 9).status_code == 422
    assert post(client, "/account/login", "192.0.2.12", 10).status_code == 429

    ready = client.get("/readyz")
    assert ready.status_code == 503 and ready.headers["Retry-After"]
    body = ready.get_json()
    assert body["status"] == "unavailable"
    assert body["checks"]["redis"]["ok"] is False and body["checks"]["database"]["ok"] is True


def test_readyz_is_green_again_when_redis_is_back(make_app, redis_server):
    app = make_app(RATELIMIT_ENABLED=True, RATELIMIT_STORAGE_URI=redis_server.url)
    client = app.test_client()
    redis_server.stop()
    assert client.get("/readyz").status_code == 503
    redis_server.start()
    ready = client.get("/readyz")
    assert ready.status_code == 200, ready.get_data(as_text=True)
    assert ready.get_json()["checks"]["redis"]["ok"] is True
