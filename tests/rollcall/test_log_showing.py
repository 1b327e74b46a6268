"""Logging a roll-call showing through POST /series/<pack>/<episode>/log: what is
recorded, every refusal (a 422 with a clear message and no row written), who may log,
and that the form never reveals whether an address has a portal account.

The portal's clock is frozen (FrozenClock) and its time zone is America/New_York, so
"today" is the New York calendar date of the frozen instant."""

from __future__ import annotations

import re
from datetime import date

import pytest

from tests.helpers import get_user, make_user, submit, utc, without_csrf
from tests.rollcall.support import (COURSE, IN_PERSON, SERIES, attendee_user_ids, episode_ids, error_texts,
                                    log_url, post_showing, showing_form, showings, trainer_client)


def field_error(page: str, field_id: str) -> str:
    match = re.search(rf'<p class="error" id="{field_id}-error">(.*?)</p>', page, re.S)
    return match.group(1) if match else ""


def assert_refused(app, response, field_id: str | None, *words: str):
    """A 422 that re-shows the form with a message (on the field when one is named) and writes nothing."""
    page = response.get_data(as_text=True)
    assert response.status_code == 422, f"expected 422, got {response.status_code}"
    message = field_error(page, field_id) if field_id else error_texts(page)
    assert message, f"no error message for {field_id or 'the form'} in:\n{error_texts(page) or page[:2000]}"
    for word in words:
        assert word.lower() in message.lower(), f"{word!r} not in the message {message!r}"
    assert '<form method="post"' in page, "the form is not shown again"
    assert showings(app) == [], "a refused showing was written"
    assert attendee_user_ids(app) == []


@pytest.fixture
def trainer(frozen_app):
    """A trainer signed in at 10:00 on 2026-06-15 in New York (14:00 UTC)."""
    _, client = trainer_client(frozen_app)
    return client


@pytest.fixture
def episode(frozen_app):
    return episode_ids(frozen_app)[1]


# -- a valid showing ----------------------------------------------------------------------

def test_a_valid_showing_is_recorded_with_every_field(frozen_app, trainer, episode):
    response = post_showing(trainer, episode, shown_on="2026-06-12", agency="  Elm   City  PD ",
                            officers_present="14", notes="  Night shift briefing.  ")
    assert response.status_code == 303
    assert response.location.endswith("/rollcall/log")
    [row] = showings(frozen_app)
    pack = frozen_app.extensions["packs"].get(SERIES)
    lesson = pack.lesson(episode)
    assert row["pack_id"] == SERIES and row["episode_id"] == episode and row["pack_version"] == pack.version
    assert row["series_title"] == pack.title and row["episode_title"] == lesson.title
    assert row["shown_on"] in (date(2026, 6, 12), "2026-06-12")
    assert row["agency"] == "Elm City PD"
    assert row["officers_present"] == 14
    assert row["notes"] == "Night shift briefing."
    assert row["trainer_id"] == get_user(frozen_app, "trainer@example.gov").id


def test_the_form_offers_todays_local_date_and_the_trainers_agency(frozen_app, trainer, episode):
    page = trainer.get(log_url(episode)).get_data(as_text=True)
    assert re.search(r'id="shown_on"[^>]*value="2026-06-15"', page)
    assert re.search(r'id="agency"[^>]*value="Elm City PD"', page)


@pytest.mark.parametrize("officers", ["1", "1000"])
def test_officer_counts_at_the_limits_are_accepted(frozen_app, trainer, episode, officers):
    assert post_showing(trainer, episode, officers_present=officers).status_code == 303
    assert showings(frozen_app)[0]["officers_present"] == int(officers)


def test_an_agency_of_exactly_160_characters_is_accepted(frozen_app, trainer, episode):
    agency = "A" * 160
    assert post_showing(trainer, episode, agency=agency).status_code == 303
    assert showings(frozen_app)[0]["agency"] == agency


# -- the date: not in the future, judged by the portal's local date -----------------------

def test_a_showing_dated_tomorrow_is_refused(frozen_app, trainer, episode):
    assert_refused(frozen_app, post_showing(trainer, episode, shown_on="2026-06-16"), "shown_on", "future")


def test_a_showing_dated_today_is_accepted(frozen_app, trainer, episode):
    assert post_showing(trainer, episode, shown_on="2026-06-15").status_code == 303


@pytest.mark.parametrize("instant, local_today, local_tomorrow", [
    (utc(2026, 6, 16, 3, 30), "2026-06-15", "2026-06-16"),   # 23:30 EDT; already the 16th in UTC
    (utc(2026, 6, 16, 3, 59, 59), "2026-06-15", "2026-06-16"),  # the last second of the 15th in New York
    (utc(2026, 1, 16, 4, 30), "2026-01-15", "2026-01-16"),   # 23:30 EST (UTC-5 in winter)
], ids=["summer-2330", "summer-last-second", "winter-2330"])
def test_before_local_midnight_tomorrow_in_new_york_is_still_the_future(frozen_app, clock, episode, instant,
                                                                        local_today, local_tomorrow):
    clock.set(instant)
    _, client = trainer_client(frozen_app)
    page = client.get(log_url(episode)).get_data(as_text=True)
    assert re.search(rf'id="shown_on"[^>]*value="{local_today}"', page), "the form offers the UTC date"
    assert_refused(frozen_app, post_showing(client, episode, shown_on=local_tomorrow), "shown_on", "future")
    assert post_showing(client, episode, shown_on=local_today).status_code == 303


def test_at_local_midnight_the_new_day_may_be_logged(frozen_app, clock, episode):
    clock.set(utc(2026, 6, 16, 4, 0))  # 00:00 EDT on the 16th
    _, client = trainer_client(frozen_app)
    assert post_showing(client, episode, shown_on="2026-06-17").status_code == 422
    assert showings(frozen_app) == []
    assert post_showing(client, episode, shown_on="2026-06-16").status_code == 303
    assert len(showings(frozen_app)) == 1


@pytest.mark.parametrize("value", ["", "not-a-date", "2026-02-30", "15/06/2026"])
def test_a_missing_or_malformed_date_is_refused(frozen_app, trainer, episode, value):
    assert_refused(frozen_app, post_showing(trainer, episode, shown_on=value), "shown_on")


# -- agency -----------------------------------------------------------------------------

def test_a_missing_agency_is_refused(frozen_app, trainer, episode):
    data = showing_form()
    del data["agency"]
    response = submit(trainer, log_url(episode), data)
    assert_refused(frozen_app, response, "agency", "agency")


@pytest.mark.parametrize("agency", ["", "   ", "\t \n"], ids=["empty", "spaces", "whitespace"])
def test_a_blank_agency_is_refused(frozen_app, trainer, episode, agency):
    assert_refused(frozen_app, post_showing(trainer, episode, agency=agency), "agency", "agency")


def test_an_agency_over_160_characters_is_refused(frozen_app, trainer, episode):
    assert_refused(frozen_app, post_showing(trainer, episode, agency="A" * 161), "agency", "160")


# -- officers present -------------------------------------------------------------------

@pytest.mark.parametrize("officers", ["0", "1001", "-3", "twelve", "12.5", ""])
def test_an_impossible_officer_count_is_refused(frozen_app, trainer, episode, officers):
    assert_refused(frozen_app, post_showing(trainer, episode, officers_present=officers), "officers_present")


@pytest.mark.parametrize("officers", ["0", "1001"])
def test_an_out_of_range_officer_count_says_the_range(frozen_app, trainer, episode, officers):
    response = post_showing(trainer, episode, officers_present=officers)
    assert response.status_code == 422
    message = field_error(response.get_data(as_text=True), "officers_present")
    assert ("1000" in message) or ("how many officers" in message.lower()), message


# -- attendee addresses -----------------------------------------------------------------

@pytest.mark.parametrize("attendees", ["not-an-address", "officer@example", "a@b@example.gov",
                                       "officer@example.gov, @example.gov"])
def test_a_malformed_attendee_address_is_refused(frozen_app, trainer, episode, attendees):
    make_user(frozen_app, email="officer@example.gov", name="Ofc. Present")
    assert_refused(frozen_app, post_showing(trainer, episode, attendees=attendees), "attendees",
                   "not an email address")


def test_more_addresses_than_officers_is_refused(frozen_app, trainer, episode):
    response = post_showing(trainer, episode, officers_present="2",
                            attendees="a@example.gov, b@example.gov, c@example.gov")
    assert_refused(frozen_app, response, "attendees", "more")


def test_more_than_200_addresses_is_refused(frozen_app, trainer, episode):
    addresses = "\n".join(f"officer{n}@example.gov" for n in range(201))
    response = post_showing(trainer, episode, officers_present="1000", attendees=addresses)
    assert_refused(frozen_app, response, "attendees", "200")


def test_exactly_200_addresses_are_accepted(frozen_app, trainer, episode):
    addresses = ", ".join(f"officer{n}@example.gov" for n in range(200))
    assert post_showing(trainer, episode, officers_present="1000", attendees=addresses).status_code == 303


def test_duplicate_addresses_count_once(frozen_app, trainer, episode):
    officer = make_user(frozen_app, email="officer@example.gov", name="Ofc. Present")
    response = post_showing(trainer, episode, officers_present="1",
                            attendees="officer@example.gov, Officer@Example.gov\n"
                                      "OFFICER@EXAMPLE.GOV;officer@example.gov")
    assert response.status_code == 303, "one officer listed four times was counted as four"
    [row] = showings(frozen_app)
    assert attendee_user_ids(frozen_app, row["id"]) == [officer.id]


def test_listed_accounts_are_linked_and_others_ignored(frozen_app, trainer, episode):
    first = make_user(frozen_app, email="first@example.gov", name="Ofc. First")
    second = make_user(frozen_app, email="second@example.gov", name="Ofc. Second")
    make_user(frozen_app, email="absent@example.gov", name="Ofc. Absent")
    response = post_showing(trainer, episode, officers_present="5",
                            attendees="first@example.gov\nSECOND@example.gov, nobody@example.gov")
    assert response.status_code == 303
    [row] = showings(frozen_app)
    assert attendee_user_ids(frozen_app, row["id"]) == sorted([first.id, second.id])


def test_deactivated_accounts_are_not_linked(frozen_app, trainer, episode):
    active = make_user(frozen_app, email="active@example.gov", name="Ofc. Active")
    make_user(frozen_app, email="gone@example.gov", name="Ofc. Gone", active=False)
    response = post_showing(trainer, episode, officers_present="3", attendees="active@example.gov, gone@example.gov")
    assert response.status_code == 303
    [row] = showings(frozen_app)
    assert attendee_user_ids(frozen_app, row["id"]) == [active.id]


# -- no account enumeration ---------------------------------------------------------------

def _flash(page: str) -> str:
    match = re.search(r'<div class="flashes".*?</div>', page, re.S)
    return match.group(0) if match else ""


def test_a_successful_log_looks_the_same_whether_or_not_the_addresses_have_accounts(frozen_app, trainer, episode):
    listed = "officer@example.gov, colleague@example.gov"
    without = post_showing(trainer, episode, officers_present="4", attendees=listed)
    flash_without = _flash(trainer.get(without.location).get_data(as_text=True))
    make_user(frozen_app, email="officer@example.gov", name="Ofc. Present")
    make_user(frozen_app, email="colleague@example.gov", name="Ofc. Colleague")
    with_accounts = post_showing(trainer, episode, officers_present="4", attendees=listed)
    flash_with = _flash(trainer.get(with_accounts.location).get_data(as_text=True))

    assert without.status_code == with_accounts.status_code == 303
    assert without.location == with_accounts.location
    assert without_csrf(without.get_data(as_text=True)) == without_csrf(with_accounts.get_data(as_text=True))
    assert flash_without and flash_without == flash_with
    first, second = showings(frozen_app)
    assert attendee_user_ids(frozen_app, first["id"]) == []
    assert len(attendee_user_ids(frozen_app, second["id"])) == 2


@pytest.mark.parametrize("fields", [
    {"officers_present": "1"},                       # refused: more addresses than officers
    {"shown_on": "2026-06-20"},                      # refused: the date is in the future
    {"attendees": "officer@example.gov, colleague@example.gov, not-an-address"},  # refused: malformed
], ids=["too-many", "future", "malformed"])
def test_a_refusal_looks_the_same_whether_or_not_the_addresses_have_accounts(frozen_app, trainer, episode, fields):
    data = {"officers_present": "4", "attendees": "officer@example.gov, colleague@example.gov", **fields}
    before = post_showing(trainer, episode, **data)
    make_user(frozen_app, email="officer@example.gov", name="Ofc. Present")
    make_user(frozen_app, email="colleague@example.gov", name="Ofc. Colleague")
    after = post_showing(trainer, episode, **data)
    assert before.status_code == after.status_code == 422
    assert without_csrf(before.get_data(as_text=True)) == without_csrf(after.get_data(as_text=True))
    assert showings(frozen_app) == []


# -- what may be logged, and by whom ------------------------------------------------------

@pytest.mark.parametrize("episode_id", ["no-such-episode", "ep9-missing", "welcome"])
def test_an_unknown_episode_is_not_found_and_writes_nothing(frozen_app, trainer, episode_id):
    response = post_showing(trainer, episode_id)
    assert response.status_code in (404, 422)
    assert showings(frozen_app) == []
    assert trainer.get(log_url(episode_id)).status_code == 404


@pytest.mark.parametrize("pack_id", [COURSE, IN_PERSON, "no-such-pack"])
def test_a_pack_that_is_not_a_video_series_cannot_be_logged(frozen_app, trainer, pack_id):
    pack = frozen_app.extensions["packs"].get(pack_id)
    lesson_id = pack.lessons[0].id if pack is not None and pack.lessons else "welcome"
    assert trainer.get(log_url(lesson_id, pack_id)).status_code == 404
    assert post_showing(trainer, lesson_id, pack_id=pack_id).status_code == 404
    assert showings(frozen_app) == []


def test_an_anonymous_visitor_is_sent_to_log_in(frozen_app, episode):
    anonymous = frozen_app.test_client()
    page = anonymous.get(log_url(episode))
    assert page.status_code in (302, 303) and "/account/login" in page.location
    # Even with a valid CSRF token (from the log-in page) the POST never reaches the form.
    response = submit(anonymous, log_url(episode), showing_form(), form_page="/account/login")
    assert response.status_code in (302, 303) and "/account/login" in response.location
    assert showings(frozen_app) == []


def test_a_post_without_a_csrf_token_is_refused(frozen_app, trainer, episode):
    response = trainer.post(log_url(episode), data={"shown_on": "2026-06-15", "agency": "Elm City PD",
                                                    "officers_present": "3"})
    assert response.status_code in (400, 422)
    assert showings(frozen_app) == []
