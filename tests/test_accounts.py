"""Sign-up, email verification and the profile (name, agency, email change)."""

from __future__ import annotations

import pytest
from sqlmodel import select

from portal.accounts.models import AccountToken, User
from tests.helpers import (PASSWORD, csrf_token, get_user, link_in, log_in, mails, make_user, outbox,
                           row_counts, services, snapshot, submit, without_csrf)

BASE = "https://portal.test"
NEW_PASSWORD = "a fresh and entirely different passphrase"


def sign_up(client, email="dana@example.gov", name="Dana Officer", password=PASSWORD, agency="", **kwargs):
    return submit(client, "/account/signup", {"name": name, "email": email, "agency": agency,
                                               "password": password, "confirm": password}, **kwargs)


def users(app) -> list[User]:
    with services(app).database.session() as db:
        return list(db.exec(select(User)).all())


def verify_path(app, email) -> str:
    [*_, mail] = mails(app, email, "Confirm your email")
    return link_in(mail.body_text, "/account/verify/")


# -- sign-up ------------------------------------------------------------------------------------

def test_sign_up_stores_name_agency_and_lower_cased_email(client, app):
    response = sign_up(client, email="Dana.Officer@Example.GOV", agency="Springfield PD")
    assert response.status_code == 302 and response.location.endswith("/account/verify/sent")
    user = get_user(app, "dana.officer@example.gov")
    assert user is not None
    assert user.email == "dana.officer@example.gov"
    assert user.name == "Dana Officer" and user.agency == "Springfield PD"
    assert user.email_verified_at is None and user.is_active
    [mail] = outbox(app)
    assert mail.to_address == "dana.officer@example.gov"


def test_agency_is_optional(client, app):
    assert sign_up(client, agency="").status_code == 302
    assert get_user(app, "dana@example.gov").agency is None


@pytest.mark.parametrize("field, value", [
    ("name", ""), ("email", ""), ("email", "not-an-address"), ("password", ""), ("confirm", "something else 123"),
])
def test_sign_up_with_a_missing_or_bad_field_creates_nothing(client, app, field, value):
    data = {"name": "Dana Officer", "email": "dana@example.gov", "agency": "",
            "password": PASSWORD, "confirm": PASSWORD, field: value}
    before = row_counts(app)
    response = submit(client, "/account/signup", data)
    assert response.status_code == 422
    assert 'class="error' in response.get_data(as_text=True)
    assert row_counts(app) == before


def test_one_address_cannot_sign_up_twice(client, app):
    sign_up(client, email="dana@example.gov")
    other = app.test_client()
    sign_up(other, email="DANA@EXAMPLE.GOV", name="Someone Else", password="another long passphrase")
    [user] = users(app)
    assert user.name == "Dana Officer"
    assert app.extensions["portal"].hasher.verify(user.password_hash, PASSWORD)


def test_existing_address_sees_exactly_what_a_new_address_sees(app):
    make_user(app, "taken@example.gov", name="Original Owner")
    new_visitor, repeat_visitor = app.test_client(), app.test_client()

    fresh = sign_up(new_visitor, email="fresh@example.gov")
    repeat = sign_up(repeat_visitor, email="Taken@Example.gov", name="Impostor")
    assert (repeat.status_code, repeat.location) == (fresh.status_code, fresh.location)
    fresh_page = new_visitor.get(fresh.location)
    repeat_page = repeat_visitor.get(repeat.location)
    assert repeat_page.status_code == fresh_page.status_code == 200
    assert without_csrf(repeat_page.get_data(as_text=True)) == without_csrf(fresh_page.get_data(as_text=True))

    # The owner is told by mail; no verification link, no second account, the account unchanged.
    [notice] = outbox(app, "taken@example.gov")
    assert "tried to sign up" in notice.subject
    assert "Original Owner" in notice.body_text
    assert "/account/verify/" not in notice.body_text
    assert f"{BASE}/account/login" in notice.body_text
    assert [u.email for u in users(app)].count("taken@example.gov") == 1
    assert get_user(app, "taken@example.gov").name == "Original Owner"
    with services(app).database.session() as db:
        owner = get_user(app, "taken@example.gov")
        assert db.exec(select(AccountToken).where(AccountToken.user_id == owner.id)).all() == []


# -- verification -------------------------------------------------------------------------------

def _send_with_forged_host(client, path, data, headers):
    token = csrf_token_with(client, path, headers)
    return client.post(path, data={"csrf_token": token, **data}, headers=headers)


def csrf_token_with(client, path, headers):
    import re
    page = client.get(path, headers=headers).get_data(as_text=True)
    match = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page)
    assert match, page
    return match.group(1)


FORGED = [{"Host": "evil.example"}, {"X-Forwarded-Host": "evil.example"},
          {"Host": "evil.example", "X-Forwarded-Host": "evil.example", "X-Forwarded-Proto": "http"}]


@pytest.mark.parametrize("headers", FORGED)
def test_mail_links_use_the_configured_base_url_never_the_host_header(app, headers):
    make_user(app, "unverified@example.gov", verified=False)
    make_user(app, "known@example.gov")
    client = app.test_client()
    response = _send_with_forged_host(client, "/account/signup", {
        "name": "Dana Officer", "email": "dana@example.gov", "agency": "", "password": PASSWORD,
        "confirm": PASSWORD}, headers)
    assert response.status_code == 302
    assert _send_with_forged_host(client, "/account/password/forgot", {"email": "known@example.gov"},
                                  headers).status_code == 302
    assert _send_with_forged_host(client, "/account/verify/resend", {"email": "unverified@example.gov"},
                                  headers).status_code == 302
    sent = outbox(app)
    assert {m.to_address for m in sent} == {"dana@example.gov", "known@example.gov", "unverified@example.gov"}
    for mail in sent:
        assert "evil" not in mail.body_text
        links = [word for word in mail.body_text.split() if "://" in word]
        assert links and all(link.startswith(BASE + "/") for link in links), mail.body_text


def test_verify_link_get_changes_nothing_and_post_verifies(client, app):
    sign_up(client)
    path = verify_path(app, "dana@example.gov")
    before = snapshot(app)
    page = client.get(path)
    assert page.status_code == 200 and "<form method=\"post\"" in page.get_data(as_text=True)
    client.get(path)
    assert snapshot(app) == before
    response = submit(client, path, {})
    assert response.status_code == 302
    assert get_user(app, "dana@example.gov").email_verified_at is not None


def test_verify_link_works_once(client, app):
    sign_up(client)
    path = verify_path(app, "dana@example.gov")
    token = csrf_token(client, path)
    assert client.post(path, data={"csrf_token": token}).status_code == 302
    verified_at = get_user(app, "dana@example.gov").email_verified_at
    again = client.post(path, data={"csrf_token": token})
    assert again.status_code == 404
    assert "no longer works" in again.get_data(as_text=True)
    assert client.get(path).status_code == 404
    assert get_user(app, "dana@example.gov").email_verified_at == verified_at


def test_a_made_up_verify_link_is_404(client, app):
    response = client.get("/account/verify/not-a-real-token")
    assert response.status_code == 404 and "no longer works" in response.get_data(as_text=True)


@pytest.mark.parametrize("hours, works", [(0, True), (47.99, True), (48, False), (500, False)])
def test_verify_link_expires_after_48_hours(frozen_app, clock, hours, works):
    client = frozen_app.test_client()
    sign_up(client)
    [mail] = outbox(frozen_app)
    assert "expires in 48 hours" in mail.body_text
    path = link_in(mail.body_text, "/account/verify/")
    clock.advance(hours=hours)
    token = csrf_token(client, "/account/verify/resend")
    response = client.post(path, data={"csrf_token": token})
    assert response.status_code == (302 if works else 404)
    assert (get_user(frozen_app, "dana@example.gov").email_verified_at is not None) is works


def test_verify_lifetime_follows_the_setting(make_app, clock):
    app = make_app(CLOCK=clock, VERIFY_TOKEN_HOURS=2)
    client = app.test_client()
    sign_up(client)
    [mail] = outbox(app)
    assert "expires in 2 hours" in mail.body_text
    path = link_in(mail.body_text, "/account/verify/")
    clock.advance(hours=2)
    assert client.get(path).status_code == 404


def test_resend_answers_the_same_for_unknown_verified_and_unverified_addresses(app):
    make_user(app, "verified@example.gov", verified=True)
    make_user(app, "waiting@example.gov", verified=False)
    results = []
    for email in ["nobody@example.gov", "verified@example.gov", "waiting@example.gov"]:
        client = app.test_client()
        response = submit(client, "/account/verify/resend", {"email": email})
        followed = client.get(response.location)
        results.append((response.status_code, response.location, followed.status_code,
                        without_csrf(followed.get_data(as_text=True))))
    assert results[0] == results[1] == results[2]
    assert results[0][0] == 302
    assert "we have sent it a new link" in results[0][3]
    # each address gets one mail (the same work either way); only the waiting one holds a link
    assert sorted(m.to_address for m in outbox(app)) == ["nobody@example.gov", "verified@example.gov",
                                                         "waiting@example.gov"]
    assert [m.to_address for m in outbox(app) if "/account/verify/" in m.body_text] == ["waiting@example.gov"]


def test_a_resent_link_is_signed_not_stored_and_confirms_only_its_address(client, app):
    # Resend writes no token row (a row only a known address paid for told the timing audit which
    # addresses had accounts): the link is signed over the account and the address it confirms.
    sign_up(client)
    first = verify_path(app, "dana@example.gov")
    rows = row_counts(app)["account_token"]
    submit(client, "/account/verify/resend", {"email": "dana@example.gov"})
    second = verify_path(app, "dana@example.gov")
    assert first != second and row_counts(app)["account_token"] == rows
    token = csrf_token(client, second)
    assert client.get(second[:-2] + ("AA" if not second.endswith("AA") else "BB")).status_code == 404
    assert client.post(second, data={"csrf_token": token}).status_code == 302
    assert get_user(app, "dana@example.gov").email_verified_at is not None


def test_a_resent_link_dies_with_a_change_of_address(client, app):
    sign_up(client)
    submit(client, "/account/verify/resend", {"email": "dana@example.gov"})
    link = verify_path(app, "dana@example.gov")
    with services(app).database.session() as db:
        user = db.exec(select(User).where(User.email == "dana@example.gov")).one()
        user.email = "dana.new@example.gov"
        db.add(user)
        db.commit()
    assert client.get(link).status_code == 404


def test_resend_to_a_deactivated_account_sends_no_link(client, app):
    make_user(app, "gone@example.gov", verified=False, active=False)
    assert submit(client, "/account/verify/resend", {"email": "gone@example.gov"}).status_code == 302
    [notice] = outbox(app)  # the notice every address without a waiting account gets
    assert "No account is waiting for confirmation" in notice.body_text and "/account/verify/" not in notice.body_text


# -- profile ------------------------------------------------------------------------------------

def test_profile_changes_name_and_agency(client, app):
    make_user(app, agency="Old Agency")
    log_in(client)
    response = submit(client, "/account/profile", {"name": "  Pat   Renamed ", "agency": "County Sheriff"})
    assert response.status_code == 302
    user = get_user(app, "learner@example.gov")
    assert (user.name, user.agency) == ("Pat Renamed", "County Sheriff")
    submit(client, "/account/profile", {"name": "Pat Renamed", "agency": ""})
    assert get_user(app, "learner@example.gov").agency is None


def test_profile_refuses_an_empty_name(client, app):
    make_user(app)
    log_in(client)
    assert submit(client, "/account/profile", {"name": "   ", "agency": ""}).status_code == 422
    assert get_user(app, "learner@example.gov").name == "Pat Learner"


def test_profile_needs_a_log_in(client):
    response = client.get("/account/profile")
    assert response.status_code == 302 and "/account/login" in response.location


def test_change_password_needs_the_current_password(client, app):
    make_user(app)
    log_in(client)
    old_hash = get_user(app, "learner@example.gov").password_hash
    response = submit(client, "/account/profile/password", {
        "current_password": "not my password", "password": NEW_PASSWORD, "confirm": NEW_PASSWORD})
    assert response.status_code == 422
    assert "current password is not right" in response.get_data(as_text=True)
    assert get_user(app, "learner@example.gov").password_hash == old_hash
    assert outbox(app) == []
    response = submit(client, "/account/profile/password", {
        "current_password": PASSWORD, "password": NEW_PASSWORD, "confirm": NEW_PASSWORD})
    assert response.status_code == 302
    assert services(app).hasher.verify(get_user(app, "learner@example.gov").password_hash, NEW_PASSWORD)


def _request_email_change(client, new_email, password=PASSWORD):
    return submit(client, "/account/profile/email", {"email": new_email, "password": password})


def test_change_email_needs_the_password(client, app):
    make_user(app)
    log_in(client)
    response = _request_email_change(client, "new@example.gov", password="wrong password here")
    assert response.status_code == 422
    assert "password is not right" in response.get_data(as_text=True)
    assert outbox(app) == []


def test_new_email_takes_effect_only_when_its_link_is_posted_and_the_old_address_is_told(client, app):
    make_user(app)
    log_in(client)
    response = _request_email_change(client, "New.Address@Example.gov")
    assert response.status_code == 302
    assert get_user(app, "learner@example.gov") is not None  # nothing changed yet
    [mail] = outbox(app, "new.address@example.gov")
    path = link_in(mail.body_text, "/account/email/confirm/")
    assert mail.body_text.count(BASE + "/account/email/confirm/") == 1

    before = snapshot(app)
    assert client.get(path).status_code == 200
    assert snapshot(app) == before  # GET changes nothing
    assert get_user(app, "new.address@example.gov") is None

    assert submit(client, path, {}).status_code == 302
    user = get_user(app, "new.address@example.gov")
    assert user is not None and user.email_verified_at is not None
    assert get_user(app, "learner@example.gov") is None
    [notice] = outbox(app, "learner@example.gov")
    assert "email address" in notice.subject and "new.address@example.gov" in notice.body_text

    # The link is spent, and the new address is the one to log in with.
    assert client.get(path).status_code == 404
    fresh = app.test_client()
    assert log_in(fresh, "new.address@example.gov").status_code == 302
    assert log_in(app.test_client(), "learner@example.gov").status_code == 422


def test_an_address_in_use_is_never_confirmed_to_the_visitor(app):
    make_user(app, "owner@example.gov", name="Owner")
    make_user(app, "changer@example.gov", name="Changer")
    make_user(app, "other@example.gov", name="Other")
    taken_client, free_client = app.test_client(), app.test_client()
    log_in(taken_client, "changer@example.gov")
    log_in(free_client, "other@example.gov")

    taken = _request_email_change(taken_client, "Owner@Example.gov")
    free = _request_email_change(free_client, "free@example.gov")
    assert (taken.status_code, taken.location) == (free.status_code, free.location)
    taken_page = taken_client.get(taken.location).get_data(as_text=True)
    free_page = free_client.get(free.location).get_data(as_text=True)
    # The pages differ only by who is signed in.
    assert (without_csrf(taken_page).replace("changer@example.gov", "X").replace("Changer", "N")
            == without_csrf(free_page).replace("other@example.gov", "X").replace("Other", "N"))
    assert "We have sent a confirmation link" in taken_page
    assert outbox(app, "owner@example.gov") == []
    assert get_user(app, "changer@example.gov") is not None


def test_email_change_link_dies_if_the_address_is_taken_meanwhile(client, app):
    make_user(app)
    log_in(client)
    _request_email_change(client, "later@example.gov")
    [mail] = outbox(app, "later@example.gov")
    path = link_in(mail.body_text, "/account/email/confirm/")
    make_user(app, "later@example.gov", name="Quick Registrant")
    response = submit(client, path, {})
    assert response.status_code in (404, 409)
    assert get_user(app, "learner@example.gov") is not None
    assert get_user(app, "later@example.gov").name == "Quick Registrant"


# -- forgot password and reset ------------------------------------------------------------------

def reset_path(app, email="learner@example.gov") -> str:
    [*_, mail] = mails(app, email, "Reset your")
    return link_in(mail.body_text, "/account/password/reset/")


def _forgot(app, email):
    client = app.test_client()
    response = submit(client, "/account/password/forgot", {"email": email})
    final = client.post("/account/password/forgot", data={"csrf_token": csrf_token(client, "/account/password/forgot"),
                                                          "email": email}, follow_redirects=True)
    return response, final


def test_forgot_password_answers_the_same_for_known_and_unknown_addresses(app):
    make_user(app, "known@example.gov")
    make_user(app, "unverified@example.gov", verified=False)
    make_user(app, "inactive@example.gov", active=False)
    answers = {}
    for email in ("known@example.gov", "Known@Example.gov", "nobody@example.gov", "unverified@example.gov",
                  "inactive@example.gov"):
        response, final = _forgot(app, email)
        answers[email] = (response.status_code, response.location, final.status_code,
                          without_csrf(final.get_data(as_text=True)))
    first = answers["known@example.gov"]
    assert first[0] == 302 and first[2] == 200
    assert "If that address has an account" in first[3] and "60 minutes" in first[3]
    assert all(answer == first for answer in answers.values())
    resets = [m for m in outbox(app) if m.subject.startswith("Reset your")]
    assert sorted({m.to_address for m in resets}) == ["known@example.gov", "unverified@example.gov"]
    # the others get a notice instead, with no link to use: the same work for every address
    notices = [m for m in outbox(app) if m not in resets]
    assert sorted({m.to_address for m in notices}) == ["inactive@example.gov", "nobody@example.gov"]
    assert all("/account/password/reset/" not in m.body_text for m in notices)


def test_reset_link_mail_uses_the_base_url(client, app):
    make_user(app)
    submit(client, "/account/password/forgot", {"email": "learner@example.gov"})
    [mail] = outbox(app)
    assert f"{BASE}/account/password/reset/" in mail.body_text
    assert "expires in 60 minutes" in mail.body_text


def test_reset_sets_the_new_password_once(client, app):
    make_user(app)
    submit(client, "/account/password/forgot", {"email": "learner@example.gov"})
    path = reset_path(app)
    before = snapshot(app)
    assert client.get(path).status_code == 200
    assert snapshot(app) == before  # looking at the form changes nothing
    token = csrf_token(client, path)
    response = client.post(path, data={"csrf_token": token, "password": NEW_PASSWORD, "confirm": NEW_PASSWORD})
    assert response.status_code == 302 and response.location.endswith("/account/login")
    user = get_user(app, "learner@example.gov")
    assert services(app).hasher.verify(user.password_hash, NEW_PASSWORD)
    assert mails(app, "learner@example.gov", "password was changed")
    # Single use: the same link is dead now.
    again = client.post(path, data={"csrf_token": token, "password": "yet another passphrase here",
                                    "confirm": "yet another passphrase here"})
    assert again.status_code == 404 and "no longer works" in again.get_data(as_text=True)
    assert services(app).hasher.verify(get_user(app, "learner@example.gov").password_hash, NEW_PASSWORD)
    assert log_in(app.test_client(), password=NEW_PASSWORD).status_code == 302
    assert log_in(app.test_client(), password=PASSWORD).status_code == 422


@pytest.mark.parametrize("minutes, works", [(0, True), (59, True), (60, False), (61, False), (60 * 24, False)])
def test_reset_link_expires_after_60_minutes(frozen_app, clock, minutes, works):
    make_user(frozen_app)
    client = frozen_app.test_client()
    submit(client, "/account/password/forgot", {"email": "learner@example.gov"})
    path = reset_path(frozen_app)
    clock.advance(minutes=minutes)
    token = csrf_token(client, "/account/password/forgot")
    response = client.post(path, data={"csrf_token": token, "password": NEW_PASSWORD, "confirm": NEW_PASSWORD})
    assert response.status_code == (302 if works else 404)
    changed = services(frozen_app).hasher.verify(get_user(frozen_app, "learner@example.gov").password_hash,
                                                 NEW_PASSWORD)
    assert changed is works


def test_reset_lifetime_follows_the_setting(make_app, clock):
    app = make_app(CLOCK=clock, RESET_TOKEN_MINUTES=15)
    make_user(app)
    client = app.test_client()
    submit(client, "/account/password/forgot", {"email": "learner@example.gov"})
    assert "expires in 15 minutes" in outbox(app)[0].body_text
    path = reset_path(app)
    clock.advance(minutes=14)
    assert client.get(path).status_code == 200
    clock.advance(minutes=1)
    assert client.get(path).status_code == 404


def test_a_password_change_kills_outstanding_reset_links(client, app):
    make_user(app)
    visitor = app.test_client()
    submit(visitor, "/account/password/forgot", {"email": "learner@example.gov"})
    path = reset_path(app)
    assert visitor.get(path).status_code == 200
    log_in(client)
    submit(client, "/account/profile/password", {"current_password": PASSWORD, "password": NEW_PASSWORD,
                                                 "confirm": NEW_PASSWORD})
    assert visitor.get(path).status_code == 404
    token = csrf_token(visitor, "/account/password/forgot")
    assert visitor.post(path, data={"csrf_token": token, "password": "an attacker's passphrase",
                                    "confirm": "an attacker's passphrase"}).status_code == 404
    assert services(app).hasher.verify(get_user(app, "learner@example.gov").password_hash, NEW_PASSWORD)


def test_using_one_reset_link_kills_the_others(client, app):
    make_user(app)
    submit(client, "/account/password/forgot", {"email": "learner@example.gov"})
    first = reset_path(app)
    submit(client, "/account/password/forgot", {"email": "learner@example.gov"})
    second = reset_path(app)
    assert first != second
    submit(client, second, {"password": NEW_PASSWORD, "confirm": NEW_PASSWORD})
    assert client.get(first).status_code == 404


def test_a_reset_link_proves_the_address(client, app):
    make_user(app, verified=False)
    submit(client, "/account/password/forgot", {"email": "learner@example.gov"})
    submit(client, reset_path(app), {"password": NEW_PASSWORD, "confirm": NEW_PASSWORD})
    assert get_user(app, "learner@example.gov").email_verified_at is not None


def test_a_verify_link_is_not_a_reset_link(client, app):
    submit(client, "/account/signup", {"name": "Dana Officer", "email": "dana@example.gov", "agency": "",
                                       "password": PASSWORD, "confirm": PASSWORD})
    token = verify_path(app, "dana@example.gov").rsplit("/", 1)[1]
    assert client.get(f"/account/password/reset/{token}").status_code == 404
    assert client.get(f"/account/email/confirm/{token}").status_code == 404


def test_mail_links_ignore_forwarded_headers_behind_a_proxy(make_app):
    """With PROXY_FIX on, X-Forwarded-* headers are trusted for the scheme, never for the links."""
    app = make_app(PROXY_FIX=True)
    headers = {"X-Forwarded-Host": "evil.example", "X-Forwarded-Proto": "http", "X-Forwarded-For": "203.0.113.9"}
    client = app.test_client()
    _send_with_forged_host(client, "/account/signup", {"name": "Dana Officer", "email": "dana@example.gov",
                                                        "agency": "", "password": PASSWORD,
                                                        "confirm": PASSWORD}, headers)
    [mail] = outbox(app)
    assert "evil" not in mail.body_text
    assert f"{BASE}/account/verify/" in mail.body_text
