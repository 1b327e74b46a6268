"""Audit findings about accounts, each reproduced as the auditor ran it.

5. A reset link mailed to the old address still worked after the address changed; an
   address change left the account's other sessions signed in.
7. No absolute session lifetime: a 90-day-old session used 6 minutes ago was accepted and
   slid forward again.
9. Sign-up and contact had no per-address limit: one IP sent 10 "someone tried to sign up"
   mails a minute to any address; and the sign-up name landed verbatim in mail to an
   unverified address ("Hello Your account is locked. Go to https://evil.example/unlock…").
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlmodel import select

from portal.accounts.models import LoginSession
from tests.helpers import (PASSWORD, clone_client, get_user, link_in, log_in, make_user, outbox, services,
                           submit)

NEW_PASSWORD = "a fresh and entirely different passphrase"


def _change_email(client, app, new: str) -> None:
    response = submit(client, "/account/profile/email", {"email": new, "password": PASSWORD})
    assert response.status_code == 302, response.get_data(as_text=True)[:300]
    path = link_in(outbox(app, new)[-1].body_text, "/account/email/confirm/")
    assert submit(client, path, {}).status_code == 302


# -- finding 5 ----------------------------------------------------------------------------------

def test_a_reset_link_mailed_to_the_old_address_dies_when_the_address_changes(client, app):
    make_user(app, "old@example.gov")
    submit(app.test_client(), "/account/password/forgot", {"email": "old@example.gov"})
    reset = link_in(outbox(app, "old@example.gov")[-1].body_text, "/account/password/reset/")
    log_in(client, "old@example.gov")
    _change_email(client, app, "new@example.gov")

    attacker = app.test_client()  # whoever reads the old mailbox
    assert attacker.get(reset).status_code == 404
    response = submit(attacker, reset, {"password": NEW_PASSWORD, "confirm": NEW_PASSWORD},
                      form_page="/account/password/forgot")
    assert response.status_code == 404
    assert log_in(app.test_client(), "new@example.gov", NEW_PASSWORD).status_code == 422
    assert log_in(app.test_client(), "new@example.gov", PASSWORD).status_code == 302


def test_a_verify_link_for_the_old_address_dies_too(client, app):
    make_user(app, "old@example.gov", verified=False)
    submit(app.test_client(), "/account/verify/resend", {"email": "old@example.gov"})
    verify = link_in(outbox(app, "old@example.gov")[-1].body_text, "/account/verify/")
    log_in(client, "old@example.gov")
    _change_email(client, app, "new@example.gov")
    assert app.test_client().get(verify).status_code == 404


def test_an_address_change_ends_the_accounts_other_sessions(client, app):
    make_user(app, "old@example.gov")
    other_device = app.test_client()
    log_in(other_device, "old@example.gov")
    stolen_copy = clone_client(app, other_device)
    assert other_device.get("/account/profile").status_code == 200
    log_in(client, "old@example.gov")
    _change_email(client, app, "new@example.gov")

    assert client.get("/account/profile").status_code == 200  # the browser that made the change stays in
    for browser in (other_device, stolen_copy):
        response = browser.get("/account/profile")
        assert response.status_code == 302 and "/account/login" in response.location
    assert get_user(app, "new@example.gov").email_verified_at is not None


def test_confirming_from_a_signed_out_browser_ends_every_session(app):
    make_user(app, "old@example.gov")
    device = app.test_client()
    log_in(device, "old@example.gov")
    submit(device, "/account/profile/email", {"email": "new@example.gov", "password": PASSWORD})
    path = link_in(outbox(app, "new@example.gov")[-1].body_text, "/account/email/confirm/")
    assert submit(app.test_client(), path, {}).status_code == 302
    assert device.get("/account/profile").status_code == 302


# -- finding 7 ----------------------------------------------------------------------------------

def _signed_in(client) -> bool:
    response = client.get("/account/profile")
    assert response.status_code in (200, 302)
    return response.status_code == 200


@pytest.mark.parametrize("remember", [False, True])
def test_a_session_in_daily_use_still_ends_at_the_absolute_limit(frozen_app, clock, remember):
    """The auditor's session: used every few hours, so never idle, for 90 days."""
    days = frozen_app.config["SESSION_ABSOLUTE_DAYS"]
    assert frozen_app.config["SESSION_IDLE_HOURS"] < days * 24
    make_user(frozen_app)
    client = frozen_app.test_client()
    log_in(client, remember=remember)
    started = clock.now()
    while clock.now() - started < timedelta(days=days) - timedelta(minutes=6):
        assert _signed_in(client), clock.now() - started
        clock.advance(hours=6)
    clock.set(started + timedelta(days=days) - timedelta(minutes=1))
    assert _signed_in(client)
    clock.set(started + timedelta(days=days))
    assert not _signed_in(client)
    with services(frozen_app).database.session() as db:
        [login] = db.exec(select(LoginSession)).all()
        assert login.expires_at <= login.created_at + timedelta(days=days)  # never slid past the limit


def test_the_absolute_limit_follows_its_setting(make_app, clock):
    app = make_app(CLOCK=clock, SESSION_ABSOLUTE_DAYS=2, SESSION_IDLE_HOURS=12, REMEMBER_DAYS=30)
    make_user(app)
    client = app.test_client()
    log_in(client, remember=True)
    started = clock.now()
    clock.set(started + timedelta(days=1, hours=23, minutes=54))
    assert _signed_in(client)
    clock.set(started + timedelta(days=2, minutes=1))  # used 6 minutes ago, but 2 days old
    assert not _signed_in(client)


# -- finding 9 ----------------------------------------------------------------------------------

LURE = "Your account is locked. Go to https://evil.example/unlock now"
SIGN_UP = {"agency": "", "password": PASSWORD, "confirm": PASSWORD}


def _from(ip: str) -> dict:
    return {"environ_base": {"REMOTE_ADDR": ip}}


@pytest.fixture
def limited(make_app):
    return make_app(RATELIMIT_ENABLED=True, RATELIMIT_STORAGE_URI="memory://")


def test_one_address_gets_at_most_five_mails_a_minute_whatever_the_forms_and_ips(limited):
    from portal.accounts.views import MAIL_PER_ADDRESS

    assert MAIL_PER_ADDRESS.startswith("5 per minute")
    make_user(limited, "victim@example.gov", verified=False)  # so every one of the three forms mails it
    attacker = limited.test_client()
    statuses = []
    for n in range(12):  # sign-up, resend and forgot-password, each from a fresh address
        path, data = [("/account/signup", {"name": "Someone", "email": "victim@example.gov", **SIGN_UP}),
                      ("/account/password/forgot", {"email": "Victim@Example.gov"}),
                      ("/account/verify/resend", {"email": "victim@example.gov "})][n % 3]
        statuses.append(submit(attacker, path, data, **_from(f"10.0.{n}.1")).status_code)
    assert len(outbox(limited, "victim@example.gov")) == 5  # the audit got 10 a minute from sign-up alone
    assert statuses.count(429) == 7 and 429 not in statuses[:5]
    # another address is not held up by the victim's budget
    assert submit(attacker, "/account/password/forgot", {"email": "other@example.gov"},
                  **_from("10.9.9.9")).status_code == 302


def test_the_contact_form_is_limited_per_address_whatever_the_ip(limited):
    client = limited.test_client()
    data = {"name": "Vic", "email": "vic@example.gov", "subject": "S", "message": "M"}
    statuses = [submit(client, "/contact", data, **_from(f"10.1.{n}.1")).status_code for n in range(7)]
    assert statuses == [302] * 5 + [429] * 2
    assert submit(client, "/contact", {**data, "email": "someone@example.gov"},
                  **_from("10.1.99.1")).status_code == 302


def _bodies(app, to: str) -> str:
    return "\n".join(m.subject + "\n" + m.body_text for m in outbox(app, to))


def test_mail_to_an_unconfirmed_address_carries_no_text_the_sender_chose(app):
    visitor = app.test_client()
    # 1. sign-up in the victim's name: the confirmation mail
    submit(visitor, "/account/signup", {"name": LURE, "email": "victim@example.gov", **SIGN_UP})
    # 2. sign-up again: the "someone tried to sign up" mail to the (still unconfirmed) account
    submit(visitor, "/account/signup", {"name": "Again", "email": "victim@example.gov", **SIGN_UP})
    # 3. resend, and forgot-password, to the unconfirmed account the attacker named
    submit(visitor, "/account/verify/resend", {"email": "victim@example.gov"})
    submit(visitor, "/account/password/forgot", {"email": "victim@example.gov"})
    # 4. an account whose owner names it with the lure, changing its address to the victim's
    make_user(app, "attacker@example.gov", name=LURE)
    log_in(visitor, "attacker@example.gov")
    submit(visitor, "/account/profile/email", {"email": "victim2@example.gov", "password": PASSWORD})
    for victim in ("victim@example.gov", "victim2@example.gov"):
        text = _bodies(app, victim)
        assert len(outbox(app, victim)) >= 1
        assert "evil.example" not in text and "locked" not in text and "Again" not in text, text


def test_mail_to_a_confirmed_address_still_greets_its_owner(app):
    make_user(app, "owner@example.gov", name="Pat Owner")
    submit(app.test_client(), "/account/password/forgot", {"email": "owner@example.gov"})
    assert "Hello Pat Owner," in _bodies(app, "owner@example.gov")
