"""SMTP down: a sign-up through real gunicorn queues its verification mail; the real
`portal mail send --watch` process fails to deliver it, keeps it in the outbox with the attempt
and the back-off recorded, and delivers it exactly once when the SMTP server is back."""

from __future__ import annotations

import signal
import subprocess
import sys
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import update
from sqlmodel import select

from portal.mail.models import OutboxMessage
from portal.mail.services import BACKOFF_SECONDS
from tests.faults.gunicorn import REPO, Browser, wait_until
from tests.helpers import PASSWORD, link_in, services
from tests.smtp import LoopbackSmtpServer


@pytest.fixture
def smtp():
    server = LoopbackSmtpServer()  # has a port, not started: SMTP is down
    yield server
    server.stop()


@pytest.fixture
def mail_sender(tmp_path):
    """Start `portal mail send --watch` with the given environment; stopped with SIGTERM, as a
    service manager would."""
    started = []

    def start(env: dict) -> subprocess.Popen:
        log = open(tmp_path / "mail-sender.log", "ab")
        process = subprocess.Popen([sys.executable, "-m", "portal.cli", "mail", "send", "--watch", "--interval", "0.1"],
                                   cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        started.append((process, log))
        return process

    yield start
    for process, log in started:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=10)
        log.close()


def message_to(app, address: str) -> OutboxMessage | None:
    with services(app).database.session() as db:
        return db.exec(select(OutboxMessage).where(OutboxMessage.to_address == address)).first()


def sign_up(server, email: str) -> None:
    browser = Browser(server.base_url)
    response = browser.submit("/account/signup", {"name": "Dana Officer", "email": email, "agency": "",
                                                  "password": PASSWORD, "confirm": PASSWORD})
    assert response.status == 302 and response.location.endswith("/account/verify/sent"), response.text[:500]


def delivered_to(smtp, address: str) -> list:
    return [m for m in list(smtp.messages) if m["To"] == address]


def test_mail_waits_in_the_outbox_while_smtp_is_down_and_goes_out_once_when_it_is_back(
        app, start_server, mail_sender, smtp, database_url):
    server = start_server(database_url)
    mail_sender({**server.environment(), "MAIL_TRANSPORT": "smtp", "SMTP_HOST": "127.0.0.1",
                 "SMTP_PORT": str(smtp.port), "SMTP_SECURITY": "none", "SMTP_TIMEOUT": "2"})

    sign_up(server, "dana@example.gov")
    failed = wait_until(lambda: (m := message_to(app, "dana@example.gov")) and m.attempts >= 1 and m,
                        60, "the sender's first delivery attempt")
    assert failed.sent_at is None and failed.claimed_until is None
    assert failed.attempts == 1 and failed.last_error  # why it failed is kept for the operator
    # The next try waits the first back-off step, counted from the failure.
    wait = failed.next_attempt_at - datetime.now(UTC)
    assert timedelta(seconds=BACKOFF_SECONDS[0] - 15) < wait <= timedelta(seconds=BACKOFF_SECONDS[0])
    assert delivered_to(smtp, "dana@example.gov") == []

    smtp.start()
    # Let the back-off run out without waiting for it: the retry is now due.
    with services(app).database.session() as db:
        db.exec(update(OutboxMessage).where(OutboxMessage.id == failed.id)
                .values(next_attempt_at=datetime.now(UTC) - timedelta(seconds=1)))
        db.commit()
    sent = wait_until(lambda: (m := message_to(app, "dana@example.gov")) and m.sent_at and m,
                      60, "the queued mail to go out")
    assert sent.attempts == 2 and sent.last_error is None
    [mail] = delivered_to(smtp, "dana@example.gov")
    assert mail["Subject"].startswith("Confirm your email address")
    assert link_in(mail.get_content(), "/account/verify/").startswith("/account/verify/")
    assert server.base_url in mail.get_content()

    # Once: a later sign-up's mail goes out through the same sender, and the first is not sent again.
    sign_up(server, "lee@example.gov")
    wait_until(lambda: delivered_to(smtp, "lee@example.gov"), 60, "the second mail to go out")
    assert len(delivered_to(smtp, "dana@example.gov")) == 1
    assert message_to(app, "dana@example.gov").attempts == 2
