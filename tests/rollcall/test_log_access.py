"""Who may see and change which showings: a trainer sees and removes only their own,
officers see the showings they were recorded at, anonymous visitors are sent to log in,
and reading a page never changes a row."""

from __future__ import annotations

import pytest
from markupsafe import escape

from tests.helpers import csrf_token, log_in, make_user, without_csrf
from tests.rollcall.support import (SERIES, attendee_user_ids, csv_rows, episode_ids, log_url,
                                    post_showing, rollcall_rows, series_pack, showings, trainer_client)


@pytest.fixture
def two_trainers(frozen_app):
    """Trainer A (Elm City PD) and trainer B (Oak County SO), each with one showing;
    officer@example.gov attended A's showing only."""
    make_user(frozen_app, email="officer@example.gov", name="Ofc. Present")
    make_user(frozen_app, email="bystander@example.gov", name="Ofc. Bystander")
    _, a = trainer_client(frozen_app, "a@example.gov", "Sgt. Alpha", "Elm City PD")
    _, b = trainer_client(frozen_app, "b@example.gov", "Sgt. Bravo", "Oak County SO")
    first, second, _ = episode_ids(frozen_app)
    assert post_showing(a, first, agency="Elm City PD", notes="alpha-note", officers_present="9",
                        attendees="officer@example.gov").status_code == 303
    assert post_showing(b, second, agency="Oak County SO", notes="bravo-note", officers_present="7").status_code == 303
    rows = showings(frozen_app)
    return a, b, {r["agency"]: r["id"] for r in rows}


def delete(client, showing_id: int):
    token = csrf_token(client, "/rollcall/log")
    return client.post(f"/rollcall/log/{showing_id}/delete", data={"csrf_token": token})


# -- each trainer's own log -------------------------------------------------------------

def test_the_log_page_lists_only_the_trainers_own_showings(frozen_app, two_trainers):
    a, b, _ = two_trainers
    page_a = a.get("/rollcall/log").get_data(as_text=True)
    page_b = b.get("/rollcall/log").get_data(as_text=True)
    assert "Elm City PD" in page_a and "Oak County SO" not in page_a
    assert "Oak County SO" in page_b and "Elm City PD" not in page_b


def test_the_csv_lists_only_the_trainers_own_showings(frozen_app, two_trainers):
    a, b, _ = two_trainers
    _, rows_a = csv_rows(a.get("/rollcall/log.csv"))
    _, rows_b = csv_rows(b.get("/rollcall/log.csv"))
    assert [(r["agency"], r["notes"], r["trainer"]) for r in rows_a] == [("Elm City PD", "alpha-note", "Sgt. Alpha")]
    assert [(r["agency"], r["notes"], r["trainer"]) for r in rows_b] == [("Oak County SO", "bravo-note", "Sgt. Bravo")]


def test_filters_cannot_reach_another_trainers_showings(frozen_app, two_trainers):
    a, _, _ = two_trainers
    page = a.get("/rollcall/log?agency=Oak+County+SO").get_data(as_text=True)
    assert "bravo-note" not in page and "Oak County SO</td>" not in page
    assert csv_rows(a.get("/rollcall/log.csv?agency=oak+county+so"))[1] == []


def test_a_trainer_with_no_showings_sees_an_empty_log(frozen_app, two_trainers):
    _, newcomer = trainer_client(frozen_app, "c@example.gov", "Sgt. Charlie", "Pine Town PD")
    page = newcomer.get("/rollcall/log").get_data(as_text=True)
    assert "No showings logged" in page and "Elm City PD</td>" not in page and "Oak County SO</td>" not in page
    assert csv_rows(newcomer.get("/rollcall/log.csv"))[1] == []


# -- removing a showing -------------------------------------------------------------------

def test_a_trainer_can_remove_their_own_showing(frozen_app, two_trainers):
    a, _, ids = two_trainers
    response = delete(a, ids["Elm City PD"])
    assert response.status_code == 303 and response.location.endswith("/rollcall/log")
    assert [r["agency"] for r in showings(frozen_app)] == ["Oak County SO"]
    assert attendee_user_ids(frozen_app) == [], "the attendance of a removed showing was kept"
    assert "Elm City PD</td>" not in a.get("/rollcall/log").get_data(as_text=True)


def test_another_trainers_showing_cannot_be_removed_and_looks_missing(frozen_app, two_trainers):
    a, b, ids = two_trainers
    before = rollcall_rows(frozen_app)
    theirs = delete(b, ids["Elm City PD"])
    missing = delete(b, 999_999)
    assert theirs.status_code == 404 and missing.status_code == 404
    assert without_csrf(theirs.get_data(as_text=True)) == without_csrf(missing.get_data(as_text=True))
    assert rollcall_rows(frozen_app) == before
    assert "Elm City PD" in a.get("/rollcall/log").get_data(as_text=True)


def test_removing_needs_a_post_with_a_csrf_token(frozen_app, two_trainers):
    a, _, ids = two_trainers
    before = rollcall_rows(frozen_app)
    assert a.get(f"/rollcall/log/{ids['Elm City PD']}/delete").status_code == 405
    assert a.post(f"/rollcall/log/{ids['Elm City PD']}/delete").status_code == 400
    assert rollcall_rows(frozen_app) == before


def test_an_anonymous_visitor_cannot_remove_a_showing(frozen_app, two_trainers):
    _, _, ids = two_trainers
    anonymous = frozen_app.test_client()
    token = csrf_token(anonymous, "/account/login")
    before = rollcall_rows(frozen_app)
    response = anonymous.post(f"/rollcall/log/{ids['Elm City PD']}/delete", data={"csrf_token": token})
    assert response.status_code in (302, 303) and "/account/login" in response.location
    assert rollcall_rows(frozen_app) == before


# -- officers' history ------------------------------------------------------------------

def test_an_attendee_sees_the_showing_in_their_history(frozen_app, two_trainers):
    officer = frozen_app.test_client()
    log_in(officer, "officer@example.gov")
    page = officer.get("/my/roll-calls").get_data(as_text=True)
    episode = series_pack(frozen_app).lessons[0]
    assert f"<td>{escape(episode.title)}</td>" in page and "<td>Elm City PD</td>" in page
    assert "Oak County SO" not in page


def test_a_non_attendee_does_not_see_the_showing(frozen_app, two_trainers):
    a, b, _ = two_trainers
    bystander = frozen_app.test_client()
    log_in(bystander, "bystander@example.gov")
    pack = series_pack(frozen_app)
    for client in (bystander, b, a):  # neither an officer who was not there nor the trainers themselves
        page = client.get("/my/roll-calls").get_data(as_text=True)
        assert "Elm City PD</td>" not in page and "Oak County SO</td>" not in page
        assert not any(f"<td>{escape(e.title)}</td>" in page for e in pack.lessons)
        assert "No roll-call showings recorded" in page


def test_a_removed_showing_leaves_the_attendees_history(frozen_app, two_trainers):
    a, _, ids = two_trainers
    assert delete(a, ids["Elm City PD"]).status_code == 303
    # A new showing (which may reuse the id on some databases) must not inherit old attendance.
    assert post_showing(a, episode_ids(frozen_app)[2], agency="Birch Village PD").status_code == 303
    officer = frozen_app.test_client()
    log_in(officer, "officer@example.gov")
    page = officer.get("/my/roll-calls").get_data(as_text=True)
    assert "Elm City PD" not in page and "Birch Village PD" not in page


# -- anonymous visitors and reading without writing ---------------------------------------

@pytest.mark.parametrize("path", ["/rollcall/log", "/rollcall/log.csv", "/rollcall/log.csv?agency=x",
                                  "/my/roll-calls"])
def test_anonymous_visitors_are_sent_to_log_in(frozen_app, path):
    response = frozen_app.test_client().get(path)
    assert response.status_code in (302, 303)
    assert "/account/login" in response.location


def test_reading_pages_never_changes_a_row(frozen_app, two_trainers):
    a, b, ids = two_trainers
    officer = frozen_app.test_client()
    log_in(officer, "officer@example.gov")
    pack = series_pack(frozen_app)
    episode = pack.lessons[0].id
    before = rollcall_rows(frozen_app)
    paths = ["/rollcall/log", "/rollcall/log.csv", "/rollcall/log?agency=Elm+City+PD&from=2026-01-01&to=2026-12-31",
             "/rollcall/log.csv?agency=elm+city+pd", "/my/roll-calls", log_url(episode),
             f"{log_url(episode)}?shown_on=2026-06-15&agency=GET+PD&officers_present=3",
             f"/rollcall/log/{ids['Elm City PD']}/delete", f"/series/{SERIES}", f"/series/{SERIES}/{episode}",
             f"/series/{SERIES}/{episode}/projector"]
    for client in (a, b, officer, frozen_app.test_client()):
        for path in paths:
            assert client.get(path).status_code < 500, path
    assert rollcall_rows(frozen_app) == before
