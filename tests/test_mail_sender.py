"""The mail sender under trouble: one Message-ID per outbox row however often it is tried,
permanent refusals told apart from outages, a heartbeat /readyz reads, and a `--watch`
process that outlives a locked or missing database."""

from __future__ import annotations

import asyncio
import signal
import sqlite3
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult

from portal.mail.services import BACKOFF_SECONDS, send_due_messages
from portal.mail.transports import transport_from_config
from tests.faults.gunicorn import REPO, wait_until
from tests.helpers import outbox, services, submit, PASSWORD
from tests.smtp import free_port


def sign_up(client, email="dana@example.gov"):
    return submit(client, "/account/signup", {"name": "Dana Officer", "email": email, "agency": "",
                                               "password": PASSWORD, "confirm": PASSWORD})


def send(app):
    s = services(app)
    return send_due_messages(s.database.session, transport_from_config(app.config), app.config["MAIL_FROM"],
                             s.clock.now)


class Relay:
    """aiosmtpd with behaviours: slow to answer DATA the first time, refusing some recipients,
    or demanding a password."""

    def __init__(self, slow_first: float = 0.0, refuse: tuple[str, ...] = (), password: str | None = None):
        self.messages, self.slow_first, self.refuse = [], slow_first, refuse
        self.port = free_port()
        kwargs = {}
        if password is not None:
            def authenticator(server, session, envelope, mechanism, auth_data):
                return AuthResult(success=auth_data.password == password.encode(), handled=False)
            kwargs = {"authenticator": authenticator, "auth_require_tls": False}
        self.controller = Controller(self, hostname="127.0.0.1", port=self.port, **kwargs)

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address in self.refuse:
            return "550 5.1.1 No such user here"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        from email import message_from_bytes, policy

        self.messages.append(message_from_bytes(envelope.content, policy=policy.default))
        if self.slow_first and len(self.messages) == 1:
            await asyncio.sleep(self.slow_first)  # took it, but answers after the client gave up
        return "250 Message accepted for delivery"

    def config(self, **extra) -> dict:
        return {"MAIL_TRANSPORT": "smtp", "SMTP_HOST": "127.0.0.1", "SMTP_PORT": self.port,
                "SMTP_SECURITY": "none", "SMTP_TIMEOUT": 3.0, **extra}


@pytest.fixture
def relay():
    started = []

    def start(**kwargs) -> Relay:
        server = Relay(**kwargs)
        server.controller.start()
        started.append(server)
        return server

    yield start
    for server in started:
        server.controller.stop()


@pytest.fixture(autouse=True)
def _keep_signals():
    handlers = {s: signal.getsignal(s) for s in (signal.SIGTERM, signal.SIGINT)}
    yield
    for s, handler in handlers.items():
        signal.signal(s, handler)


def test_a_retry_after_a_timeout_carries_the_same_message_id(make_app, relay, clock):
    """A relay slower than SMTP_TIMEOUT took the message; the retry must be recognisably the same."""
    server = relay(slow_first=2.5)
    app = make_app(CLOCK=clock, **server.config(SMTP_TIMEOUT=1.0))
    sign_up(app.test_client())
    assert send(app).failed == 1
    clock.advance(seconds=BACKOFF_SECONDS[0])
    wait_until(lambda: len(server.messages) == 1, 10, "the slow relay to take the first copy")
    assert send(app).sent == 1
    first, second = server.messages
    assert first["Message-ID"] == second["Message-ID"]
    [row] = outbox(app)
    assert str(row.id) in first["Message-ID"]


def test_a_recipient_refused_for_good_is_not_retried(make_app, relay, clock):
    server = relay(refuse=("nobody@example.gov",))
    app = make_app(CLOCK=clock, **server.config())
    sign_up(app.test_client(), "nobody@example.gov")
    sign_up(app.test_client(), "dana@example.gov")
    result = app.test_cli_runner().invoke(args=["mail", "send"])
    assert result.exit_code == 1
    assert "sent 1, failed 0, refused 1, waiting 0" in result.output
    refused = next(row for row in outbox(app) if row.to_address == "nobody@example.gov")
    assert refused.failed_at is not None and "550" in refused.last_error
    clock.advance(days=2)
    assert (send(app).sent, send(app).failed) == (0, 0)  # never tried again


def test_a_refused_password_is_reported_not_retried_like_an_outage(make_app, relay, clock):
    server = relay(password="right")
    app = make_app(CLOCK=clock, **server.config(SMTP_USERNAME="portal", SMTP_PASSWORD="wrong"))
    sign_up(app.test_client())
    result = app.test_cli_runner().invoke(args=["mail", "send"])
    assert result.exit_code == 2
    assert "check SMTP_USERNAME and SMTP_PASSWORD" in result.output
    [row] = outbox(app)
    assert row.sent_at is None and row.failed_at is None and row.attempts == 0  # kept for when it is fixed
    ready = app.test_client().get("/readyz")
    assert ready.status_code == 503
    assert "SMTP_PASSWORD" in ready.get_json()["checks"]["mail_sender"]["detail"]

    fixed = make_app(CLOCK=clock, **server.config(SMTP_USERNAME="portal", SMTP_PASSWORD="right"))
    assert fixed.test_cli_runner().invoke(args=["mail", "send"]).exit_code == 0
    assert len(server.messages) == 1
    assert fixed.test_client().get("/readyz").status_code == 200


def test_readyz_tells_a_dead_sender_from_a_quiet_one(make_app, clock):
    app = make_app(CLOCK=clock, MAIL_SENDER_MAX_SILENCE=120)
    client = app.test_client()
    assert client.get("/readyz").get_json()["checks"]["mail_sender"]["ok"]  # none ran, nothing waits
    sign_up(client)
    clock.advance(seconds=121)
    check = client.get("/readyz").get_json()["checks"]["mail_sender"]
    assert not check["ok"] and "no mail sender has ever run" in check["detail"]

    assert app.test_cli_runner().invoke(args=["mail", "send"]).exit_code == 0
    assert client.get("/readyz").status_code == 200
    clock.advance(seconds=121)  # the sender has died: no heartbeat since
    response = client.get("/readyz")
    assert response.status_code == 503
    assert "last heartbeat 121 s ago" in response.get_json()["checks"]["mail_sender"]["detail"]


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_watch_outlives_a_locked_and_a_missing_database(app, database_url, tmp_path):
    """`mail send --watch` used to die for good on 'database is locked'."""
    db_path = Path(database_url.removeprefix("sqlite:///"))
    env = {k: v for k, v in __import__("os").environ.items() if not k.startswith("PORTAL_TEST_")}
    env.update(DATABASE_URL=database_url, PORTAL_DATA_DIR=app.config["PORTAL_DATA_DIR"], SECRET_KEY="k",
               MAIL_TRANSPORT="file", SQLITE_BUSY_TIMEOUT_MS="100", PYTHONUNBUFFERED="1")
    log_path = tmp_path / "sender.log"
    with open(log_path, "wb") as log:
        sender = subprocess.Popen([sys.executable, "-m", "portal.cli", "mail", "send", "--watch", "--interval", "0.2"],
                                  cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        mail_dir = Path(app.config["PORTAL_DATA_DIR"]) / "mail"
        sign_up(app.test_client(), "first@example.gov")
        wait_until(lambda: len(list(mail_dir.glob("*.eml"))) == 1, 60, "the first mail")

        lock = sqlite3.connect(db_path, timeout=5)
        lock.execute("BEGIN EXCLUSIVE")
        wait_until(lambda: "database is locked" in log_path.read_text(), 30, "the sender to meet the lock")
        time.sleep(1.5)
        lock.rollback()
        lock.close()

        moved = db_path.with_suffix(".away")
        db_path.rename(moved)
        wait_until(lambda: "trying again" in log_path.read_text().split("database is locked", 1)[1]
                   .split("\n", 1)[1], 30, "the sender to miss the database")
        time.sleep(1)
        for leftover in db_path.parent.glob(db_path.name + "*"):
            leftover.unlink()
        moved.rename(db_path)

        sign_up(app.test_client(), "second@example.gov")
        wait_until(lambda: len(list(mail_dir.glob("*.eml"))) == 2, 60, "the mail queued after the outage")
        assert sender.poll() is None, log_path.read_text()[-2000:]
        assert "Traceback" not in log_path.read_text()
    finally:
        sender.send_signal(signal.SIGTERM)
        assert sender.wait(timeout=20) == 0


def test_the_admin_page_shows_a_dead_sender(make_app, clock):
    from tests.helpers import log_in, make_user

    app = make_app(CLOCK=clock, MAIL_SENDER_MAX_SILENCE=120)
    assert app.test_cli_runner().invoke(args=["mail", "send"]).exit_code == 0
    clock.advance(seconds=300)
    make_user(app, "admin@example.gov", roles=("admin",))
    client = app.test_client()
    log_in(client, "admin@example.gov")
    page = client.get("/admin/packs").get_data(as_text=True)
    assert "Mail sender</td><td>Problem</td><td>last heartbeat 300 s ago" in page
