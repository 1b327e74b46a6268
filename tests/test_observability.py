"""What an operator sees: one log line per request with its id, client, route, status, time
and user (never an email address, a token in a path, or SQL parameters), Prometheus metrics
at /metrics for allowed addresses or a token, and errors reported to Sentry when SENTRY_DSN is set."""

from __future__ import annotations

import gzip
import json
import logging
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest

from portal.ops.observability import OneLineFormatter, RedactingFilter
from tests.helpers import log_in, make_user, submit, PASSWORD


def request_lines(caplog) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.name == "portal.request"]


def test_one_line_per_request_with_who_and_how_long(client, app, caplog):
    make_user(app)
    with caplog.at_level(logging.INFO, logger="portal.request"):
        log_in(client)
        response = client.get("/my/courses", headers={"X-Request-ID": "abc123def456"})
    assert response.headers["X-Request-ID"] == "abc123def456"
    record = request_lines(caplog)[-1]
    assert (record.request_id, record.route, record.status, record.client) == ("abc123def456", "/my/courses", 200,
                                                                              "127.0.0.1")
    assert record.user_id and record.ms >= 0
    message = record.getMessage()
    assert "\n" not in message and "learner@example.gov" not in message


def test_a_token_in_a_path_is_logged_as_its_route(client, caplog):
    with caplog.at_level(logging.INFO, logger="portal.request"):
        client.get("/account/password/reset/secret-token-value")
    line = request_lines(caplog)[-1].getMessage()
    assert "secret-token-value" not in line and "<" in line


def test_log_lines_are_one_line_and_carry_no_email_addresses():
    handler_filter, formatter = RedactingFilter(), OneLineFormatter("%(levelname)s %(message)s")
    try:
        raise ValueError("duplicate key (email)=(dana@example.gov)\n[SQL: INSERT ...]")
    except ValueError:
        import sys

        record = logging.LogRecord("portal", logging.ERROR, __file__, 1, "sign-up for %s failed",
                                   ("dana@example.gov",), sys.exc_info())
    handler_filter.filter(record)
    text = formatter.format(record)
    assert "\n" not in text and "dana@example.gov" not in text and "[email]" in text and "ValueError" in text


def test_sql_errors_do_not_carry_parameters(app):
    from sqlalchemy import text
    from sqlalchemy.exc import DBAPIError

    with app.extensions["portal"].database.session() as db:
        with pytest.raises(DBAPIError) as raised:
            db.connection().execute(text("INSERT INTO no_such_table VALUES (:email)"), {"email": "dana@example.gov"})
    assert "dana@example.gov" not in str(raised.value)


def test_json_logs(app, capsys):
    from portal.ops.observability import OneLineFormatter  # noqa: F401
    from pythonjsonlogger.json import JsonFormatter

    from portal.ops import observability

    handler = logging.StreamHandler()
    root = logging.getLogger()
    before = list(root.handlers)
    for h in before:
        if getattr(h, "_portal", False):
            root.removeHandler(h)
    try:
        observability.configure_logging({"LOG_FORMAT": "json", "LOG_LEVEL": "info"})
        ours = [h for h in root.handlers if getattr(h, "_portal", False)][0]
        assert isinstance(ours.formatter, JsonFormatter)
        app.test_client().get("/healthz")
        line = [l for l in capsys.readouterr().err.splitlines() if '"portal.request"' in l][-1]
        record = json.loads(line)
        assert record["route"] == "/healthz" and record["status"] == 200 and record["level"] == "INFO"
    finally:
        for h in list(root.handlers):
            if getattr(h, "_portal", False):
                root.removeHandler(h)
        for h in before:
            if h not in root.handlers:
                root.addHandler(h)
    del handler


def test_metrics_for_allowed_addresses_or_a_token(make_app):
    app = make_app(METRICS_TOKEN="s3cret-metrics", RATELIMIT_ENABLED=True, RATELIMIT_STORAGE_URI="memory://")
    client = app.test_client()
    client.get("/")
    submit(client, "/account/signup", {"name": "Dana", "email": "dana@example.gov", "agency": "",
                                       "password": PASSWORD, "confirm": PASSWORD})
    for n in range(11):  # one 429 for the refusal counter
        submit(client, "/account/login", {"email": f"user{n}@example.gov", "password": "wrong"},
               environ_base={"REMOTE_ADDR": "192.0.2.77"})
    outside = {"REMOTE_ADDR": "203.0.113.5"}
    assert client.get("/metrics", environ_base=outside).status_code == 403
    assert client.get("/metrics", environ_base=outside, headers={"Authorization": "Bearer wrong"}).status_code == 403
    by_token = client.get("/metrics", environ_base=outside, headers={"Authorization": "Bearer s3cret-metrics"})
    local = client.get("/metrics")
    for response in (by_token, local):
        assert response.status_code == 200
        body = response.get_data(as_text=True)
        assert 'portal_http_request_duration_seconds_bucket{le="0.005",method="GET",route="/"}' in body
        assert 'portal_rate_limit_refusals_total{route="/account/login"}' in body
        assert "portal_mail_outbox_waiting 1.0" in body
        assert "portal_mail_outbox_oldest_age_seconds" in body and "portal_mail_sender_heartbeat_age_seconds" in body


class FakeSentry(BaseHTTPRequestHandler):
    received: list[bytes] = []

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        if self.headers.get("Content-Encoding") == "gzip":
            body = gzip.decompress(body)
        elif self.headers.get("Content-Encoding") == "br":
            import brotli

            body = brotli.decompress(body)
        FakeSentry.received.append(body)
        self.send_response(200)
        self.end_headers()
        self.wfile.write(b"{}")

    def log_message(self, *args):
        pass


def test_errors_go_to_sentry_without_personal_data(make_app):
    import sentry_sdk

    server = HTTPServer(("127.0.0.1", 0), FakeSentry)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    FakeSentry.received.clear()
    try:
        app = make_app(SENTRY_DSN=f"http://publickey@127.0.0.1:{server.server_port}/1")
        # (built, so that the source lines Sentry sends along do not contain them literally)
        address, session = "dana" + "@example.gov", "portal_session=" + "abc" * 3

        @app.get("/ops-test-boom")
        def boom():
            raise RuntimeError(f"it broke for {address}")

        response = app.test_client().get("/ops-test-boom", headers={"Cookie": session})
        assert response.status_code == 500
        sentry_sdk.flush(timeout=10)
        payload = b"".join(FakeSentry.received).decode("utf-8", "replace")
        assert "RuntimeError" in payload and "it broke for" in payload
        assert address not in payload and session not in payload
    finally:
        sentry_sdk.init(dsn=None)  # the SDK is process-wide: switch it off again
        server.shutdown()
