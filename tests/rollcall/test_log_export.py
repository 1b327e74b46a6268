"""The trainer's log page and its CSV export: exact columns, newest first, the same
filters on both, bad filter dates refused with 400, and cells a spreadsheet would run as
formulas turned into text."""

from __future__ import annotations

import html
import re

import pytest

from tests.helpers import log_in, make_user
from tests.rollcall.support import CSV_HEADER, csv_rows, episode_ids, post_showing, series_pack, trainer_client


@pytest.fixture
def trainer(frozen_app):
    _, client = trainer_client(frozen_app)
    return client


def log_some(app, client, entries: list[tuple[str, str]]):
    """Log (date, agency) showings in the order given, each with a note naming it."""
    episode = episode_ids(app)[0]
    for shown_on, agency in entries:
        response = post_showing(client, episode, shown_on=shown_on, agency=agency, notes=f"{shown_on} {agency}")
        assert response.status_code == 303, response.get_data(as_text=True)[:2000]


def page_agencies(page: str) -> list[str]:
    """The agency column of the log table, top to bottom."""
    body = page.split("<tbody>", 1)[1].split("</tbody>", 1)[0] if "<tbody>" in page else ""
    return [html.unescape(cells[1]) for cells in (re.findall(r"<td>(.*?)</td>", row, re.S)
                                                  for row in re.findall(r"<tr>(.*?)</tr>", body, re.S))]


# -- the file ---------------------------------------------------------------------------

def test_the_csv_has_exactly_the_documented_columns(frozen_app, trainer):
    header, rows = csv_rows(trainer.get("/rollcall/log.csv"))
    assert header == CSV_HEADER and rows == []
    log_some(frozen_app, trainer, [("2026-06-15", "Elm City PD")])
    header, rows = csv_rows(trainer.get("/rollcall/log.csv"))
    assert header == CSV_HEADER
    assert len(rows) == 1 and list(rows[0]) == CSV_HEADER


def test_the_csv_is_an_attachment(frozen_app, trainer):
    response = trainer.get("/rollcall/log.csv")
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    disposition = response.headers.get("Content-Disposition", "")
    assert disposition.startswith("attachment") and re.search(r'filename="?[^"]+\.csv"?', disposition)


def test_a_row_carries_every_value(frozen_app, trainer):
    make_user(frozen_app, email="officer@example.gov", name="Ofc. Present")
    episode = series_pack(frozen_app).lessons[1]
    response = post_showing(trainer, episode.id, shown_on="2026-06-14", agency="Elm City PD", officers_present="11",
                            attendees="officer@example.gov, nobody@example.gov",
                            notes='Asked "why", then, at length,\nabout the MOU.')
    assert response.status_code == 303
    _, [row] = csv_rows(trainer.get("/rollcall/log.csv"))
    assert row == {"date": "2026-06-14", "agency": "Elm City PD", "series": series_pack(frozen_app).title,
                   "episode": episode.title, "officers_present": "11", "portal_accounts_listed": "2",
                   "trainer": "Sgt. Trainer", "notes": 'Asked "why", then, at length,\nabout the MOU.',
                   "logged_at": "2026-06-15T14:00:00Z"}


def test_rows_are_newest_first_on_the_page_and_in_the_csv(frozen_app, trainer):
    log_some(frozen_app, trainer, [("2026-06-10", "First PD"), ("2026-06-14", "Second PD"),
                                   ("2026-06-12", "Third PD"), ("2026-06-14", "Fourth PD")])
    expected = ["Fourth PD", "Second PD", "Third PD", "First PD"]
    _, rows = csv_rows(trainer.get("/rollcall/log.csv"))
    assert [r["agency"] for r in rows] == expected
    assert [r["date"] for r in rows] == ["2026-06-14", "2026-06-14", "2026-06-12", "2026-06-10"]
    assert page_agencies(trainer.get("/rollcall/log").get_data(as_text=True)) == expected


# -- filters ----------------------------------------------------------------------------

@pytest.fixture
def logged(frozen_app, trainer):
    log_some(frozen_app, trainer, [("2026-05-31", "Elm City PD"), ("2026-06-01", "Oak County SO"),
                                   ("2026-06-05", "Elm City PD"), ("2026-06-10", "Elm City Police Athletic League"),
                                   ("2026-06-15", "ELM CITY PD")])
    return trainer


def both(client, query: str) -> tuple[list[str], list[str]]:
    """(agency, date) pairs from the page and from the CSV for one filter query."""
    page = client.get(f"/rollcall/log?{query}")
    assert page.status_code == 200
    _, rows = csv_rows(client.get(f"/rollcall/log.csv?{query}"))
    return page_agencies(page.get_data(as_text=True)), [r["agency"] for r in rows], [r["date"] for r in rows]


@pytest.mark.parametrize("query", ["agency=elm+city+pd", "agency=ELM+CITY+PD", "agency=Elm+City+PD",
                                   "agency=+eLm+cItY+pD+"])
def test_the_agency_filter_ignores_case_on_page_and_csv(logged, query):
    on_page, in_csv, dates = both(logged, query)
    assert on_page == in_csv == ["ELM CITY PD", "Elm City PD", "Elm City PD"]
    assert dates == ["2026-06-15", "2026-06-05", "2026-05-31"]


def test_the_date_filters_are_inclusive_on_page_and_csv(logged):
    on_page, in_csv, dates = both(logged, "from=2026-06-01&to=2026-06-10")
    assert on_page == in_csv == ["Elm City Police Athletic League", "Elm City PD", "Oak County SO"]
    assert dates == ["2026-06-10", "2026-06-05", "2026-06-01"]
    assert both(logged, "from=2026-06-11")[2] == ["2026-06-15"]
    assert both(logged, "to=2026-05-31")[2] == ["2026-05-31"]


def test_agency_and_dates_combine(logged):
    on_page, in_csv, dates = both(logged, "agency=elm+city+pd&from=2026-06-01&to=2026-06-14")
    assert on_page == in_csv == ["Elm City PD"] and dates == ["2026-06-05"]


def test_a_filter_that_matches_nothing_says_so(logged):
    page = logged.get("/rollcall/log?agency=Nowhere+PD").get_data(as_text=True)
    assert "No showings logged for these filters" in page
    assert csv_rows(logged.get("/rollcall/log.csv?agency=Nowhere+PD")) == (CSV_HEADER, [])


def test_the_export_link_keeps_the_filters(logged):
    page = logged.get("/rollcall/log?agency=elm+city+pd&from=2026-06-01&to=2026-06-14").get_data(as_text=True)
    link = html.unescape(re.search(r'href="(/rollcall/log\.csv[^"]*)"', page).group(1))
    _, rows = csv_rows(logged.get(link))
    assert [r["date"] for r in rows] == ["2026-06-05"]


@pytest.mark.parametrize("path", ["/rollcall/log", "/rollcall/log.csv"])
@pytest.mark.parametrize("query", ["from=2026-13-01", "to=2026-06-31", "from=yesterday", "to=06/15/2026",
                                   "from=2026-06-01&to=not-a-date", "from=%00"])
def test_a_bad_filter_date_is_a_400_not_a_500(logged, path, query):
    assert logged.get(f"{path}?{query}").status_code == 400


def test_an_agency_filter_matches_a_name_with_accented_capitals_exactly_as_stored(frozen_app, trainer):
    """Agency names are not all ASCII (Puerto Rico, for one). Filtering by the exact name
    that was logged must find it, and so must the same name in other letter case."""
    log_some(frozen_app, trainer, [("2026-06-10", "Policía Municipal de Ángeles"), ("2026-06-11", "Elm City PD")])
    for query in ("agency=Policía+Municipal+de+Ángeles", "agency=policía+municipal+de+ángeles",
                  "agency=POLICÍA+MUNICIPAL+DE+ÁNGELES"):
        on_page, in_csv, _ = both(trainer, query)
        assert on_page == in_csv == ["Policía Municipal de Ángeles"], query


# -- formula injection ------------------------------------------------------------------

@pytest.mark.parametrize("lead", ["=", "+", "-", "@"])
def test_formula_like_agency_and_notes_are_neutralised(frozen_app, trainer, lead):
    agency, notes = f"{lead}HYPERLINK(\"http://evil.example\",\"PD\")", f"{lead}1+2"
    assert post_showing(trainer, episode_ids(frozen_app)[0], agency=agency, notes=notes).status_code == 303
    _, [row] = csv_rows(trainer.get("/rollcall/log.csv"))
    assert row["agency"] == "'" + agency
    assert row["notes"] == "'" + notes
    assert row["date"] == "2026-06-15" and row["officers_present"] == "12"  # ordinary cells are left alone


def test_a_formula_in_the_trainers_own_name_is_neutralised(frozen_app):
    make_user(frozen_app, email="sneaky@example.gov", name="=cmd|'/c calc'!A1", agency="Elm City PD")
    client = frozen_app.test_client()
    log_in(client, "sneaky@example.gov")
    assert post_showing(client, episode_ids(frozen_app)[0]).status_code == 303
    _, [row] = csv_rows(client.get("/rollcall/log.csv"))
    assert row["trainer"] == "'=cmd|'/c calc'!A1"


def test_a_formula_hidden_behind_whitespace_is_neutralised(frozen_app, trainer):
    """Leading whitespace is trimmed on the way in, so it cannot smuggle a formula through."""
    assert post_showing(trainer, episode_ids(frozen_app)[0], agency="   =1+2", notes="\n\t=1+2").status_code == 303
    _, [row] = csv_rows(trainer.get("/rollcall/log.csv"))
    assert not row["agency"].lstrip().startswith(("=", "+", "-", "@"))
    assert not row["notes"].lstrip().startswith(("=", "+", "-", "@"))
