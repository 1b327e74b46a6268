"""Log-in, server-side sessions, remember-me, log-out, and what ends a session."""

from __future__ import annotations

import hashlib
import re

import pytest
from sqlmodel import select

from portal.accounts.models import LoginSession
from tests.helpers import (PASSWORD, clone_client, cookie_value, csrf_token, get_user, link_in, log_in, mails,
                           make_user, outbox, services, session_data, set_cookie_headers, submit, without_csrf)

NEW_PASSWORD = "a fresh and entirely different passphrase"
SESSION, REMEMBER = "__Host-portal_session", "__Host-portal_remember"  # the tests' base URL is https


def login_sessions(app, user_id=None) -> list[LoginSession]:
    with services(app).database.session() as db:
        statement = select(LoginSession).order_by(LoginSession.id)
        if user_id is not None:
            statement = statement.where(LoginSession.user_id == user_id)
        return list(db.exec(statement).all())


def signed_in(client) -> bool:
    response = client.get("/account/profile")
    if response.status_code == 302:
        assert "/account/login" in response.location
        return False
    assert response.status_code == 200
    return True


def log_out(client):
    return submit(client, "/account/logout", {}, form_page="/account/profile")


def error_summary(html: str) -> str:
    match = re.search(r'<div class="error-summary" role="alert">.*?</div>', html, re.S)
    assert match, html
    return match.group(0)


# -- logging in ---------------------------------------------------------------------------------

def test_log_in_with_email_and_password(client, app):
    make_user(app)
    assert not signed_in(client)
    response = log_in(client, "Learner@Example.gov")
    assert response.status_code == 302
    assert signed_in(client)
    [row] = login_sessions(app)
    assert row.ended_at is None and row.remember is False
    assert get_user(app, "learner@example.gov").last_login_at is not None


def test_wrong_password_and_unknown_email_get_the_same_answer(app):
    make_user(app, "known@example.gov")
    wrong_client, unknown_client = app.test_client(), app.test_client()
    wrong = log_in(wrong_client, "known@example.gov", "not the right password")
    unknown = log_in(unknown_client, "nobody@example.gov", "not the right password")
    assert wrong.status_code == unknown.status_code == 422
    wrong_html, unknown_html = wrong.get_data(as_text=True), unknown.get_data(as_text=True)
    assert error_summary(wrong_html) == error_summary(unknown_html)
    assert "do not match an account" in error_summary(wrong_html)
    assert (without_csrf(wrong_html).replace("known@example.gov", "EMAIL")
            == without_csrf(unknown_html).replace("nobody@example.gov", "EMAIL"))
    assert login_sessions(app) == []
    assert not signed_in(wrong_client) and not signed_in(unknown_client)


def test_remember_me_sets_the_remember_cookie(client, app):
    make_user(app)
    response = log_in(client, remember=True)
    [header] = set_cookie_headers(response, REMEMBER)
    assert "HttpOnly" in header and "SameSite=Lax" in header
    assert cookie_value(client, REMEMBER)
    [row] = login_sessions(app)
    assert row.remember is True


def test_without_remember_me_there_is_no_remember_cookie(client, app):
    make_user(app)
    response = log_in(client)
    assert set_cookie_headers(response, REMEMBER) == []
    assert cookie_value(client, REMEMBER) is None


def test_the_session_identifier_changes_at_log_in(client, app):
    make_user(app)
    client.get("/account/login")
    before_cookie = cookie_value(client, SESSION)
    before = session_data(app, client)
    assert before_cookie and "csrf_token" in before and "_user_id" not in before
    pre_login_copy = clone_client(app, client)

    log_in(client)
    after = session_data(app, client)
    assert cookie_value(client, SESSION) != before_cookie
    assert after.get("csrf_token") != before["csrf_token"]  # nothing carried over from before log-in
    token = after["_user_id"]
    user = get_user(app, "learner@example.gov")
    assert token != str(user.id)  # the cookie carries a random token, never the user id
    [row] = login_sessions(app)
    assert row.token_hash == hashlib.sha256(token.encode()).hexdigest()
    assert not signed_in(pre_login_copy)  # a cookie planted before log-in gains nothing


def test_two_log_ins_get_two_different_server_tokens(app):
    make_user(app)
    first, second = app.test_client(), app.test_client()
    log_in(first)
    log_in(second)
    tokens = {session_data(app, first)["_user_id"], session_data(app, second)["_user_id"]}
    assert len(tokens) == 2
    rows = login_sessions(app)
    assert len(rows) == 2 and len({r.token_hash for r in rows}) == 2
    # Logging in again on the same browser also starts a new session.
    log_out(first)
    log_in(first)
    assert session_data(app, first)["_user_id"] not in tokens


def test_log_out_ends_the_session_on_the_server(client, app):
    make_user(app)
    log_in(client)
    stolen = clone_client(app, client)
    assert signed_in(stolen)
    response = log_out(client)
    assert response.status_code == 302
    assert not signed_in(client)
    assert not signed_in(stolen)  # the copied cookie is worthless now
    [row] = login_sessions(app)
    assert row.ended_at is not None


def test_the_remember_cookie_stops_working_after_log_out(client, app):
    make_user(app)
    log_in(client, remember=True)
    remember = client.get_cookie(REMEMBER)

    def remember_only():
        other = app.test_client()
        other._cookies[remember._storage_key] = remember
        return other

    assert signed_in(remember_only())  # the cookie alone signs a browser in
    log_out(client)
    assert not signed_in(remember_only())
    assert not signed_in(client)


def test_log_out_deletes_the_remember_cookie_from_the_browser(client, app):
    make_user(app)
    log_in(client, remember=True)
    response = log_out(client)
    [header] = set_cookie_headers(response, REMEMBER)  # Flask-Login's "clear" instruction
    assert "Expires=Thu, 01 Jan 1970" in header or "Max-Age=0" in header
    assert cookie_value(client, REMEMBER) is None


def test_log_out_needs_post(client, app):
    make_user(app)
    log_in(client)
    assert client.get("/account/logout").status_code == 405
    assert signed_in(client)


def test_a_deactivated_account_cannot_log_in(client, app):
    make_user(app, active=False)
    response = log_in(client)
    assert response.status_code == 422
    assert "deactivated" in response.get_data(as_text=True)
    assert login_sessions(app) == []
    assert not signed_in(client)


def test_an_unverified_account_can_log_in(client, app):
    make_user(app, verified=False)
    response = log_in(client)
    assert response.status_code == 302
    page = client.get("/account/profile").get_data(as_text=True)
    assert "Confirm your email address" in page and "(not confirmed)" in page


def test_a_signed_in_visitor_is_sent_on_from_the_log_in_page(client, app):
    make_user(app)
    log_in(client)
    response = client.get("/account/login?next=/faq")
    assert response.status_code == 302 and response.location == "/faq"


# -- idle and remember expiry -------------------------------------------------------------------

def test_an_idle_session_expires_and_activity_keeps_it_alive(frozen_app, clock):
    make_user(frozen_app)
    client = frozen_app.test_client()
    log_in(client)
    clock.advance(hours=11)
    assert signed_in(client)
    clock.advance(hours=11)
    assert signed_in(client)  # each visit slides the idle window
    clock.advance(hours=12, minutes=1)
    assert not signed_in(client)


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_a_busy_database_never_fails_a_page_for_the_idle_touch(make_app, clock, database_url):
    """Sliding the idle expiry is a write on a read: with another writer holding the lock past
    the busy timeout, the page still answers and the touch waits for a later request."""
    import sqlite3

    app = make_app(CLOCK=clock, SQLITE_BUSY_TIMEOUT_MS=200)
    make_user(app)
    client = app.test_client()
    log_in(client)
    before = login_sessions(app)[0].last_seen_at
    clock.advance(minutes=6)
    holder = sqlite3.connect(database_url.removeprefix("sqlite:///"), isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    try:
        assert client.get("/my/courses").status_code == 200
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert login_sessions(app)[0].last_seen_at == before  # skipped while busy...
    assert client.get("/my/courses").status_code == 200
    assert login_sessions(app)[0].last_seen_at > before  # ...and made by the next request


def test_a_remembered_session_lasts_remember_days(frozen_app, clock):
    make_user(frozen_app)
    client = frozen_app.test_client()
    log_in(client, remember=True)
    clock.advance(days=29, hours=23)
    assert signed_in(client)
    clock.advance(hours=2)
    assert not signed_in(client)


# -- what ends sessions -------------------------------------------------------------------------

def test_password_change_ends_other_sessions_but_not_this_one(app):
    make_user(app)
    here, phone, laptop = app.test_client(), app.test_client(), app.test_client()
    for c in (here, phone, laptop):
        log_in(c)
    response = submit(here, "/account/profile/password", {
        "current_password": PASSWORD, "password": NEW_PASSWORD, "confirm": NEW_PASSWORD})
    assert response.status_code == 302
    assert signed_in(here)
    assert not signed_in(phone) and not signed_in(laptop)
    [notice] = mails(app, "learner@example.gov", "password was changed")
    assert "signed out" in notice.body_text


def test_password_reset_ends_every_session(app):
    make_user(app)
    phone, visitor = app.test_client(), app.test_client()
    log_in(phone)
    submit(visitor, "/account/password/forgot", {"email": "learner@example.gov"})
    [mail] = outbox(app)
    path = link_in(mail.body_text, "/account/password/reset/")
    response = submit(visitor, path, {"password": NEW_PASSWORD, "confirm": NEW_PASSWORD})
    assert response.status_code == 302
    assert not signed_in(phone)
    assert all(row.ended_at is not None for row in login_sessions(app))


def test_password_reset_while_signed_in_signs_that_browser_out_too(client, app):
    make_user(app)
    log_in(client)
    submit(client, "/account/password/forgot", {"email": "learner@example.gov"})
    path = link_in(outbox(app)[0].body_text, "/account/password/reset/")
    token = csrf_token(client, path)
    assert client.post(path, data={"csrf_token": token, "password": NEW_PASSWORD,
                                   "confirm": NEW_PASSWORD}).status_code == 302
    assert not signed_in(client)
    assert log_in(app.test_client(), password=NEW_PASSWORD).status_code == 302


@pytest.mark.parametrize("remember", [False, True])
def test_deactivating_an_account_ends_its_sessions_at_once(app, remember):
    user = make_user(app)
    client = app.test_client()
    log_in(client, remember=remember)
    copy = clone_client(app, client)
    with services(app).database.session() as db:
        row = db.get(type(user), user.id)
        row.is_active = False
        db.add(row)
        db.commit()
    assert not signed_in(client) and not signed_in(copy)
