"""Password rules (length, breached list, passphrases) and argon2id storage,
everywhere a password is chosen: sign-up, reset and change."""

from __future__ import annotations

import pytest

from portal.accounts.passwords import Hasher, password_problems
from tests.helpers import PASSWORD, get_user, link_in, log_in, make_user, outbox, row_counts, services, submit

PASSPHRASE = ("the quick brown fox jumps over the lazy dog while seven officers "
              "walk the beat past the old library and the river bridge at dawn ")
LONG_PASSPHRASE = (PASSPHRASE * 3)[:200]
assert len(LONG_PASSPHRASE) == 200 and " " in LONG_PASSPHRASE

REFUSED = {
    "seven": ("kq7#Lm2", "at least 8 characters"),
    "empty-ish": ("abc", "at least 8 characters"),
    "password1": ("password1", "commonly breached"),
    "qwertyuiop": ("qwertyuiop", "commonly breached"),
    "upper-case common": ("PASSWORD1", "commonly breached"),
    "12345678": ("12345678", "commonly breached"),
    "too long": ("x" * 1001, "1000 characters"),
}
ACCEPTED = {"eight": "kq7#Lm2x", "200-char passphrase": LONG_PASSPHRASE, "1000": "wq" * 500}


def sign_up(client, password, email="dana@example.gov"):
    return submit(client, "/account/signup", {"name": "Dana Officer", "email": email, "agency": "",
                                               "password": password, "confirm": password})


@pytest.mark.parametrize("password, why", REFUSED.values(), ids=REFUSED.keys())
def test_sign_up_refuses_weak_passwords(client, app, password, why):
    before = row_counts(app)
    response = sign_up(client, password)
    assert response.status_code == 422
    assert why in response.get_data(as_text=True)
    assert row_counts(app) == before


@pytest.mark.parametrize("password", ACCEPTED.values(), ids=ACCEPTED.keys())
def test_sign_up_accepts_good_passwords_and_stores_argon2id(client, app, password):
    assert sign_up(client, password).status_code == 302
    user = get_user(app, "dana@example.gov")
    assert user.password_hash.startswith("$argon2id$")
    assert password not in user.password_hash
    assert log_in(app.test_client(), "dana@example.gov", password).status_code == 302


def test_the_password_must_not_be_the_email_address(client, app):
    response = sign_up(client, "dana.officer@example.gov", email="dana.officer@example.gov")
    assert response.status_code == 422
    assert get_user(app, "dana.officer@example.gov") is None


@pytest.mark.parametrize("password, why", [REFUSED["seven"], REFUSED["password1"], REFUSED["qwertyuiop"]],
                         ids=["short", "password1", "qwertyuiop"])
def test_change_password_applies_the_same_rules(client, app, password, why):
    make_user(app)
    log_in(client)
    old_hash = get_user(app, "learner@example.gov").password_hash
    response = submit(client, "/account/profile/password", {
        "current_password": PASSWORD, "password": password, "confirm": password})
    assert response.status_code == 422 and why in response.get_data(as_text=True)
    assert get_user(app, "learner@example.gov").password_hash == old_hash


@pytest.mark.parametrize("password, why", [REFUSED["seven"], REFUSED["password1"], REFUSED["qwertyuiop"]],
                         ids=["short", "password1", "qwertyuiop"])
def test_reset_applies_the_same_rules_and_keeps_the_link(client, app, password, why):
    make_user(app)
    submit(client, "/account/password/forgot", {"email": "learner@example.gov"})
    path = link_in(outbox(app)[0].body_text, "/account/password/reset/")
    old_hash = get_user(app, "learner@example.gov").password_hash
    response = submit(client, path, {"password": password, "confirm": password})
    assert response.status_code == 422 and why in response.get_data(as_text=True)
    assert get_user(app, "learner@example.gov").password_hash == old_hash
    assert client.get(path).status_code == 200  # a refused password does not spend the link


def test_new_passwords_from_reset_and_change_are_argon2id(client, app):
    make_user(app)
    log_in(client)
    submit(client, "/account/profile/password", {
        "current_password": PASSWORD, "password": LONG_PASSPHRASE, "confirm": LONG_PASSPHRASE})
    assert get_user(app, "learner@example.gov").password_hash.startswith("$argon2id$")
    visitor = app.test_client()
    submit(visitor, "/account/password/forgot", {"email": "learner@example.gov"})
    path = link_in(outbox(app, "learner@example.gov")[-1].body_text, "/account/password/reset/")
    submit(visitor, path, {"password": PASSWORD + " again", "confirm": PASSWORD + " again"})
    user = get_user(app, "learner@example.gov")
    assert user.password_hash.startswith("$argon2id$")
    assert services(app).hasher.verify(user.password_hash, PASSWORD + " again")


def test_password_problems_in_plain_words():
    assert password_problems("kq7#Lm2x") == []
    assert password_problems(LONG_PASSPHRASE) == []
    assert password_problems("1234567")[0].startswith("Use at least 8 characters")
    assert "commonly breached" in password_problems("qwertyuiop")[0]
    assert "commonly breached" in password_problems("Password1")[0]
    assert "commonly breached" in password_problems(" password1 ")[0]
    assert password_problems("        ")  # only spaces
    assert password_problems("x" * 1001)


def test_hasher_uses_argon2id_and_verifies():
    hasher = Hasher(time_cost=1, memory_cost=1024)
    stored = hasher.hash("some long passphrase")
    assert stored.startswith("$argon2id$")
    assert hasher.verify(stored, "some long passphrase")
    assert not hasher.verify(stored, "some long passphrasE")
    assert not hasher.verify(None, "some long passphrase")
    assert not hasher.verify("not a hash", "some long passphrase")


def test_log_in_upgrades_a_hash_made_with_weaker_settings(make_app):
    weak = make_app(ARGON2_TIME_COST=1)
    make_user(weak)
    old_hash = get_user(weak, "learner@example.gov").password_hash
    stronger = make_app(ARGON2_TIME_COST=2)
    assert log_in(stronger.test_client()).status_code == 302
    new_hash = get_user(stronger, "learner@example.gov").password_hash
    assert new_hash != old_hash and "t=2" in new_hash and new_hash.startswith("$argon2id$")
