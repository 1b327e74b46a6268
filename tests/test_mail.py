"""The mail outbox: written in the action's transaction, delivered through a real SMTP
server on loopback, retried with back-off through an outage, never lost or sent twice."""

from __future__ import annotations

from datetime import timedelta
from email import message_from_bytes, policy
from pathlib import Path

import pytest

from portal.mail import services as mail_services
from portal.mail.services import BACKOFF_SECONDS, Mailer, backoff_for, send_due_messages
from portal.mail.transports import FileTransport, SmtpTransport, transport_from_config
from tests.helpers import PASSWORD, csrf_token, get_user, link_in, outbox, row_counts, services, submit

BASE = "https://portal.test"


def sign_up(client, email="dana@example.gov"):
    return submit(client, "/account/signup", {"name": "Dana Officer", "email": email, "agency": "",
                                               "password": PASSWORD, "confirm": PASSWORD})


def send(app):
    s = services(app)
    return send_due_messages(s.database.session, transport_from_config(app.config), app.config["MAIL_FROM"],
                             s.clock.now)


@pytest.fixture(autouse=True)
def _keep_sigterm():
    """`portal mail send` installs a SIGTERM handler; give pytest its own back afterwards."""
    import signal

    handler = signal.getsignal(signal.SIGTERM)
    yield
    signal.signal(signal.SIGTERM, handler)


@pytest.fixture
def smtp_app(make_app, smtp_server, clock):
    return make_app(CLOCK=clock, **smtp_server.config())


# -- the outbox is part of the action's transaction ---------------------------------------------

def test_sign_up_queues_its_mail_in_the_outbox(client, app):
    sign_up(client)
    [message] = outbox(app)
    assert message.to_address == "dana@example.gov"
    assert message.subject.startswith("Confirm your email address")
    assert message.sent_at is None and message.attempts == 0
    assert message.next_attempt_at <= services(app).clock.now()


def test_a_sign_up_that_fails_leaves_no_user_and_no_mail(client, app, monkeypatch):
    real_queue = Mailer.queue

    def queue_then_fail(self, *args, **kwargs):
        real_queue(self, *args, **kwargs)  # the message is added to the session...
        raise RuntimeError("the action fails after queueing its mail")  # ...then the action fails

    monkeypatch.setattr(Mailer, "queue", queue_then_fail)
    before = row_counts(app)
    response = sign_up(client)
    assert response.status_code == 500
    assert row_counts(app) == before
    assert get_user(app, "dana@example.gov") is None
    assert outbox(app) == []


def test_a_failing_commit_drops_the_queued_mail_with_the_action(client, app, monkeypatch):
    """The mail and the contact request commit together or not at all."""
    from portal.support import services as support

    real_queue = Mailer.queue

    def queue_then_fail(self, db, *args, **kwargs):
        message = real_queue(self, db, *args, **kwargs)
        db.flush()  # the row really reached the database inside the transaction
        assert message.id is not None
        raise RuntimeError("boom")

    monkeypatch.setattr(Mailer, "queue", queue_then_fail)
    response = submit(client, "/contact", {"name": "A Visitor", "email": "visitor@example.gov",
                                           "subject": "Help", "message": "Please help."})
    assert response.status_code == 500
    assert outbox(app) == []
    with services(app).database.session() as db:
        assert support.recent_contact_requests(db) == []


# -- delivery through a real SMTP server --------------------------------------------------------

def test_send_due_messages_delivers_through_smtp(smtp_app, smtp_server):
    client = smtp_app.test_client()
    sign_up(client)
    report = send(smtp_app)
    assert (report.sent, report.failed) == (1, 0)
    [received] = smtp_server.messages
    assert received["To"] == "dana@example.gov"
    assert received["Subject"].startswith("Confirm your email address")
    assert received["From"] == smtp_app.config["MAIL_FROM"]
    assert received["Message-ID"] and received["Date"]
    body = received.get_content()
    path = link_in(body, "/account/verify/")
    assert f"{BASE}{path}" in body
    [row] = outbox(smtp_app)
    assert row.sent_at is not None and row.attempts == 1 and row.last_error is None
    # The link that arrived by SMTP works.
    assert submit(client, path, {}).status_code == 302
    assert get_user(smtp_app, "dana@example.gov").email_verified_at is not None


def test_an_smtp_outage_loses_nothing_and_delivers_exactly_once_after(smtp_app, smtp_server, clock):
    sign_up(smtp_app.test_client())
    smtp_server.stop()
    started = clock.now()

    report = send(smtp_app)
    assert (report.sent, report.failed) == (0, 1)
    [row] = outbox(smtp_app)
    assert row.sent_at is None and row.attempts == 1
    assert row.last_error and "Connection" in row.last_error
    assert row.next_attempt_at == started + timedelta(seconds=BACKOFF_SECONDS[0])
    assert row.claimed_until is None

    # Not due yet: a run now does not even try.
    assert (send(smtp_app).sent, send(smtp_app).failed) == (0, 0)
    assert outbox(smtp_app)[0].attempts == 1

    # Still down at the next attempt: the wait grows.
    clock.advance(seconds=BACKOFF_SECONDS[0])
    assert send(smtp_app).failed == 1
    [row] = outbox(smtp_app)
    assert row.attempts == 2
    assert row.next_attempt_at == clock.now() + timedelta(seconds=BACKOFF_SECONDS[1])

    smtp_server.start()
    assert send(smtp_app).sent == 0  # back up, but the message waits for its time
    assert smtp_server.messages == []
    clock.advance(seconds=BACKOFF_SECONDS[1] + 1)
    report = send(smtp_app)
    assert (report.sent, report.failed) == (1, 0)
    assert len(smtp_server.messages) == 1
    assert smtp_server.messages[0]["To"] == "dana@example.gov"
    [row] = outbox(smtp_app)
    assert row.sent_at == clock.now() and row.attempts == 3 and row.last_error is None

    # Nothing is ever sent twice.
    clock.advance(hours=2)
    assert (send(smtp_app).sent, send(smtp_app).failed) == (0, 0)
    assert len(smtp_server.messages) == 1


def test_a_message_claimed_by_another_sender_is_left_alone(smtp_app, smtp_server, clock):
    sign_up(smtp_app.test_client())
    s = services(smtp_app)
    with s.database.session() as db:
        [row] = outbox(smtp_app)
        row = db.get(type(row), row.id)
        row.claimed_until = clock.now() + timedelta(seconds=60)
        db.add(row)
        db.commit()
    assert send(smtp_app).sent == 0
    assert smtp_server.messages == []
    clock.advance(seconds=61)  # the other sender died: its claim lapses
    assert send(smtp_app).sent == 1
    assert len(smtp_server.messages) == 1


def test_backoff_grows_and_then_stays_at_its_longest():
    waits = [backoff_for(n).total_seconds() for n in range(1, 12)]
    assert waits[:len(BACKOFF_SECONDS)] == list(BACKOFF_SECONDS)
    assert waits == sorted(waits)
    assert set(waits[len(BACKOFF_SECONDS):]) == {BACKOFF_SECONDS[-1]}


def test_several_due_messages_are_all_sent_in_order(smtp_app, smtp_server):
    for n in range(3):
        sign_up(smtp_app.test_client(), email=f"user{n}@example.gov")
    assert send(smtp_app).sent == 3
    assert [m["To"] for m in smtp_server.messages] == [f"user{n}@example.gov" for n in range(3)]


# -- the file transport and the command ---------------------------------------------------------

def test_file_transport_writes_an_eml_under_the_data_folder(client, app):
    assert app.config["MAIL_TRANSPORT"] == "file"
    sign_up(client)
    assert send(app).sent == 1
    folder = Path(app.config["PORTAL_DATA_DIR"]) / "mail"
    [eml] = list(folder.glob("*.eml"))
    message = message_from_bytes(eml.read_bytes(), policy=policy.default)
    assert message["To"] == "dana@example.gov"
    assert message["Subject"].startswith("Confirm your email address")
    assert f"{BASE}/account/verify/" in message.get_content()


def test_portal_mail_send_command(app, runner):
    sign_up(app.test_client())
    sign_up(app.test_client(), email="second@example.gov")
    result = runner.invoke(args=["mail", "send"])
    assert result.exit_code == 0, result.output
    assert "sent 2, failed 0, refused 0, waiting 0" in result.output
    assert len(list((Path(app.config["PORTAL_DATA_DIR"]) / "mail").glob("*.eml"))) == 2
    again = runner.invoke(args=["mail", "send"])
    assert "sent 0, failed 0, refused 0, waiting 0" in again.output


def test_portal_mail_send_command_reports_failures(make_app, smtp_server):
    smtp_server.stop()
    failing = make_app(**smtp_server.config())
    sign_up(failing.test_client())
    result = failing.test_cli_runner().invoke(args=["mail", "send"])
    assert result.exit_code == 1, result.output  # for cron: it used to exit 0 with every message failed
    assert "sent 0, failed 1, refused 0, waiting 1" in result.output
    [row] = outbox(failing)
    assert row.attempts == 1 and row.sent_at is None


def test_transport_from_config():
    assert isinstance(transport_from_config({"MAIL_TRANSPORT": "file", "PORTAL_DATA_DIR": "/tmp/x"}),
                      FileTransport)
    smtp = transport_from_config({"MAIL_TRANSPORT": "smtp", "SMTP_HOST": "h", "SMTP_PORT": 2525,
                                  "SMTP_SECURITY": "starttls", "SMTP_USERNAME": "", "SMTP_PASSWORD": "",
                                  "SMTP_TIMEOUT": 3.0})
    assert isinstance(smtp, SmtpTransport) and (smtp.host, smtp.port, smtp.security) == ("h", 2525, "starttls")
    with pytest.raises(ValueError):
        transport_from_config({"MAIL_TRANSPORT": "carrier-pigeon"})
    with pytest.raises(ValueError):
        SmtpTransport("h", 25, security="ssl3")


def test_every_mail_template_renders_with_a_subject(app):
    mailer = services(app).mailer
    cases = {
        "mail/account_exists.txt": {"name": "N"},
        "mail/change_email.txt": {"name": "N", "token": "T", "hours": 48},
        "mail/contact_request.txt": {"request_id": 1, "subject": "S", "sender_name": "N", "sender_email": "e",
                                     "message": "M", "account_id": None},
        "mail/email_changed_notice.txt": {"name": "N", "old_email": "a", "new_email": "b", "when": "now"},
        "mail/password_changed.txt": {"name": "N", "when": "now"},
        "mail/reset_password.txt": {"name": "N", "token": "T", "minutes": 60},
        "mail/reset_no_account.txt": {},
        "mail/verify_email.txt": {"name": "N", "token": "T", "hours": 48},
        "mail/verify_not_needed.txt": {},
    }
    templates = sorted(p.name for p in (Path(mail_services.__file__).parent / "templates" / "mail").glob("*.txt")
                       if not p.name.startswith("_"))
    assert sorted(Path(t).name for t in cases) == templates
    for template, context in cases.items():
        subject, body = mailer.render(template, **context)
        assert subject and "\n" not in subject and body.strip()
        assert app.config["SUPPORT_EMAIL"] in body or template == "mail/contact_request.txt"


def test_verify_mail_posts_from_the_page_it_links(client, app):
    """The link in the mail leads to a page with a button; the mail itself changes nothing."""
    sign_up(client)
    path = link_in(outbox(app)[0].body_text, "/account/verify/")
    assert 'type="submit"' in client.get(path).get_data(as_text=True)
    assert csrf_token(client, path)
