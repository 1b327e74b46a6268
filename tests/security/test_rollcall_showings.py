"""Audit finding 11: an unconfirmed account could add showings to any officer's roll-call
history (sign up with any address, confirm nothing, list the victim's address as present).
Logging now needs a confirmed address, and the history names the trainer who logged each
showing, so an officer can tell a trainer's record from anything else.
"""

from __future__ import annotations

from tests.helpers import log_in, make_user, row_counts
from tests.rollcall.support import episode_ids, log_url, post_showing, showing_form


def test_an_unconfirmed_account_cannot_log_a_showing(app):
    officer = make_user(app, "officer@example.gov", name="Ofc. Victim")
    make_user(app, "fake@example.gov", name="Chief Nobody", verified=False)
    forger = app.test_client()
    log_in(forger, "fake@example.gov")
    episode = episode_ids(app)[0]
    form = forger.get(log_url(episode))
    assert "Confirm your email address before you log a showing" in form.get_data(as_text=True)
    before = row_counts(app)
    response = post_showing(forger, episode, attendees=officer.email)
    assert response.status_code == 403
    assert "Confirm your email address before you log a showing" in response.get_data(as_text=True)
    assert row_counts(app) == before
    victim = app.test_client()
    log_in(victim, "officer@example.gov")
    assert "No roll-call showings recorded for you yet" in victim.get("/my/roll-calls").get_data(as_text=True)


def test_the_history_names_the_trainer_who_logged_each_showing(app):
    make_user(app, "officer@example.gov", name="Ofc. Present")
    make_user(app, "trainer@example.gov", name="Sgt. Real Trainer")
    trainer = app.test_client()
    log_in(trainer, "trainer@example.gov")
    response = post_showing(trainer, episode_ids(app)[0], attendees="officer@example.gov")
    assert response.status_code == 303, response.get_data(as_text=True)[:300]
    officer = app.test_client()
    log_in(officer, "officer@example.gov")
    page = officer.get("/my/roll-calls").get_data(as_text=True)
    assert "Logged by" in page and "Sgt. Real Trainer" in page
    assert showing_form()["agency"] in page


def test_the_form_shows_an_unconfirmed_account_why_before_it_types(app):
    make_user(app, "fake@example.gov", verified=False)
    client = app.test_client()
    log_in(client, "fake@example.gov")
    response = client.get(log_url(episode_ids(app)[0]))
    assert response.status_code == 200
    assert "Confirm your email address before you log a showing" in response.get_data(as_text=True)
