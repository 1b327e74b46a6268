"""Audit findings about accounts, each reproduced as the auditor ran it.

5. A reset link mailed to the old address still worked after the address changed; an
   address change left the account's other sessions signed in.
7. No absolute session lifetime: a 90-day-old session used 6 minutes ago was accepted and
   slid forward again.
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
