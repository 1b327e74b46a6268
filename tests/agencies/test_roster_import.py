"""Roster import: upload, preview every change, apply in one transaction (issue 17).
Before it, the dashboard's upload only checked a CSV and never created an SRO record, and
refused semicolons, Windows-1252, UTF-16 and U.S. dates. The clock is frozen on 2026-06-15."""

from __future__ import annotations

import io
import re
from datetime import date

import pytest

from portal_agencies.models import AgencyChange
from portal_agencies.roster_import import RosterFileError, decode, parse_import_date, read_roster, sniff_delimiter
from portal_agencies.rules import RuleError
from portal.support.models import AuditEntry
from tests.agencies.support import (ChpAward, SchoolResourceOfficer, add_award, add_sro, agency_state, count,
                                    new_agency, page_text, rows, signed_in, table_rows)
from tests.helpers import csrf_token


def records(app) -> dict:
    """The agency tables (a preview keeps the uploaded file in storage, nothing else)."""
    state = agency_state(app)
    return {table: rows_ for table, rows_ in state.items() if table not in ("stored_file",)}

HEADER = "officer,award_number,award_date,hire_date,role,placement_date,training_completed,expenses_submitted"


@pytest.fixture
def agency(frozen_app) -> int:
    return new_agency(frozen_app)


@pytest.fixture
def coord(frozen_app, agency):
    return signed_in(frozen_app, "coord@example.gov")


def preview(client, agency_id, data: bytes, filename="roster.csv"):
    token = csrf_token(client, f"/agencies/{agency_id}/roster/records")
    return client.post(f"/agencies/{agency_id}/roster/records/preview",
                       data={"csrf_token": token, "roster": (io.BytesIO(data), filename)},
                       content_type="multipart/form-data")


def apply_from(client, agency_id, preview_response):
    body = preview_response.get_data(as_text=True)
    fields = dict(re.findall(r'<input[^>]*name="(csrf_token|payload|digest)"[^>]*value="([^"]*)"', body))
    assert set(fields) == {"csrf_token", "payload", "digest"}, body[:500]
    return client.post(f"/agencies/{agency_id}/roster/records/apply", data=fields)


def import_file(client, agency_id, data: bytes):
    response = preview(client, agency_id, data)
    assert response.status_code == 200, page_text(response)[:400]
    return apply_from(client, agency_id, response)


def sros(app) -> dict[str, SchoolResourceOfficer]:
    return {sro.name: sro for sro in rows(app, SchoolResourceOfficer)}


# -- the finding: an import creates and updates records -------------------------------------

def test_importing_a_roster_creates_awards_and_sro_records(frozen_app, agency, coord):
    data = (HEADER + "\nOfc. Adams,2026-UL-1,2026-01-15,2026-03-01,initial,,,\n"
            "Ofc. Baker,2026-UL-1,2026-01-15,,backfill,2026-02-10,2026-04-20,2026-05-05\n").encode()
    response = import_file(coord, agency, data)
    assert response.status_code == 303
    [award] = rows(frozen_app, ChpAward)
    assert (award.award_number, award.award_date, award.funded_positions) == ("2026-UL-1", date(2026, 1, 15), 1)
    got = sros(frozen_app)
    assert set(got) == {"Ofc. Adams", "Ofc. Baker"}
    assert (got["Ofc. Adams"].role, got["Ofc. Adams"].hire_date) == ("initial", date(2026, 3, 1))
    assert (got["Ofc. Baker"].role, got["Ofc. Baker"].placement_date, got["Ofc. Baker"].expenses_submitted) \
        == ("backfill", date(2026, 2, 10), date(2026, 5, 5))
    assert all(sro.award_id == award.id for sro in got.values())
    assert "Roster imported: 2 new, 0 changed, 0 unchanged." in page_text(coord.get(f"/agencies/{agency}"))
    # Each record has its history and the import is in the audit log once.
    assert len(rows(frozen_app, AgencyChange, record_kind="sro")) == 2
    assert [e.action for e in rows(frozen_app, AuditEntry) if e.action.startswith("agency.")] \
        == ["agency.agency.create", "agency.member.create", "agency.roster.import"]


def test_the_preview_lists_new_changed_unchanged_and_errors_and_writes_nothing(frozen_app, agency, coord):
    award = add_award(frozen_app, agency, number="2026-UL-1", award_date=date(2026, 1, 15), funded=3)
    add_sro(frozen_app, award, name="Ofc. Adams", hire_date=date(2026, 3, 1))
    add_sro(frozen_app, award, name="Ofc. Cruz")
    before = records(frozen_app)
    data = (HEADER + "\n"
            "ofc.  adams,2026-ul-1,2026-01-15,2026-03-01,initial,,,\n"        # unchanged (case, spaces)
            "Ofc. Cruz,2026-UL-1,2026-01-15,2026-04-01,initial,,,\n"          # changed: hire date
            "Ofc. Diaz,2026-UL-1,2026-01-15,,initial,,,\n"                    # new
            "Ofc. Evans,2026-UL-1,2026-01-15,,sergeant,,,\n"                  # error: role
            "Ofc. Ford,2026-UL-1,2026-01-16,,initial,,,\n").encode()          # error: award date differs
    response = preview(coord, agency, data)
    assert response.status_code == 200
    assert records(frozen_app) == before
    text = page_text(response)
    assert "New records 1 Changed records 1 Unchanged 1 Rows with errors (left out) 2" in text
    table = table_rows(response)
    assert table[1:] == [
        ["3", "Ofc. Cruz", "2026-UL-1", "Changed", "hire_date: — → 2026-04-01"],
        ["4", "Ofc. Diaz", "2026-UL-1", "New", "initial"],
        ["5", "Ofc. Evans", "2026-UL-1", "Error", "role: 'sergeant' is not initial or backfill"],
        ["6", "Ofc. Ford", "2026-UL-1", "Error",
         "award_date: award 2026-UL-1 is recorded with the award date 2026-01-15, not 2026-01-16; "
         "correct the award on its page first"],
    ]
    assert "Apply 2 changes" in text


def test_apply_is_one_transaction_and_a_second_import_changes_nothing(frozen_app, agency, coord):
    award = add_award(frozen_app, agency, number="2026-UL-1", award_date=date(2026, 1, 15), funded=3)
    add_sro(frozen_app, award, name="Ofc. Cruz")
    data = (HEADER + "\nOfc. Cruz,2026-UL-1,,2026-04-01,initial,,,\nOfc. Diaz,2026-UL-1,,,initial,,,\n").encode()
    assert import_file(coord, agency, data).status_code == 303
    got = sros(frozen_app)
    assert got["Ofc. Cruz"].hire_date == date(2026, 4, 1) and "Ofc. Diaz" in got
    [change] = [c for c in rows(frozen_app, AgencyChange, record_kind="sro", action="update")]
    assert '"hire_date": null' in change.before and '"hire_date": "2026-04-01"' in change.after
    state = records(frozen_app)
    again = preview(coord, agency, data)
    assert "New records 0 Changed records 0 Unchanged 2" in page_text(again)
    assert "There is nothing to apply." in page_text(again)
    assert records(frozen_app) == state


def test_an_apply_after_the_records_changed_is_refused_and_shown_again(frozen_app, agency, coord):
    award = add_award(frozen_app, agency, number="2026-UL-1", award_date=date(2026, 1, 15), funded=3)
    data = (HEADER + "\nOfc. Diaz,2026-UL-1,,,initial,,,\n").encode()
    response = preview(coord, agency, data)
    add_sro(frozen_app, award, name="Ofc. Diaz", hire_date=date(2026, 2, 1))  # someone else, meanwhile
    before = records(frozen_app)
    refused = apply_from(coord, agency, response)
    assert refused.status_code == 409
    assert "changed since this preview" in page_text(refused)
    assert "hire_date: 2026-02-01 → —" in page_text(refused)
    assert records(frozen_app) == before


def test_a_preview_is_applied_once_and_its_file_is_then_gone(frozen_app, agency, coord):
    add_award(frozen_app, agency, number="2026-UL-1", award_date=date(2026, 1, 15), funded=3)
    response = preview(coord, agency, (HEADER + "\nOfc. Diaz,2026-UL-1,,,initial,,,\n").encode())
    assert count(frozen_app, "stored_file") == 1
    assert apply_from(coord, agency, response).status_code == 303
    assert count(frozen_app, "stored_file") == 0
    state = agency_state(frozen_app)
    again = apply_from(coord, agency, response)
    assert again.status_code == 409 and "expired or was already applied" in page_text(again)
    assert agency_state(frozen_app) == state


def test_a_large_roster_is_applied(frozen_app, agency, coord):
    lines = [f"Ofc. Officer {n:05d},2026-UL-{n // 100},2026-01-15,,initial,,," for n in range(3000)]
    data = (HEADER + "\n" + "\n".join(lines) + "\n").encode()
    assert len(data) > 150_000  # more than a form field may carry
    assert import_file(coord, agency, data).status_code == 303
    assert count(frozen_app, "chp_sro") == 3000


def test_a_tampered_payload_is_a_400_and_writes_nothing(frozen_app, agency, coord):
    token = csrf_token(coord, f"/agencies/{agency}/roster/records")
    before = agency_state(frozen_app)
    for payload in ("not base64!", "AAAA", ""):
        response = coord.post(f"/agencies/{agency}/roster/records/apply",
                              data={"csrf_token": token, "payload": payload, "digest": "x"})
        assert response.status_code in (400, 409), payload
    assert agency_state(frozen_app) == before


def test_another_agencys_coordinator_gets_404(frozen_app, agency, coord):
    other = new_agency(frozen_app, name="Oak Town PD", coordinator="oak@example.gov")
    assert coord.get(f"/agencies/{other}/roster/records").status_code == 404
    assert preview(signed_in(frozen_app, "oak@example.gov"), agency, HEADER.encode()).status_code == 404


def test_an_award_funds_only_so_many_initial_sros(frozen_app, agency, coord):
    award = add_award(frozen_app, agency, number="2026-UL-1", award_date=date(2026, 1, 15), funded=1)
    add_sro(frozen_app, award, name="Ofc. Adams")
    response = preview(coord, agency, (HEADER + "\nOfc. Baker,2026-UL-1,,,initial,,,\n").encode())
    assert "role: award 2026-UL-1 funds 1 SRO position; record this officer as a backfill" in page_text(response)


# -- what Excel and HR systems write ----------------------------------------------------------

MESSY_ROWS = [
    "Ofc. Peña;2026-UL-7;3/2/2026;3/15/2026;Initial;;;",
    "Ofc. Øster;2026-UL-7;3/2/2026 0:00;;backfill;4/1/2026;;",
]


@pytest.mark.parametrize("encoding", ["utf-8-sig", "cp1252", "utf-16", "utf-16-le"])
def test_bom_semicolons_windows_and_utf16_files_and_us_dates_are_imported(frozen_app, agency, coord, encoding):
    text = HEADER.replace(",", ";") + ";Badge\r\n" + "\r\n".join(f"{row};B-{i}" for i, row in enumerate(MESSY_ROWS))
    assert import_file(coord, agency, (text + "\r\n").encode(encoding)).status_code == 303
    got = sros(frozen_app)
    assert (got["Ofc. Peña"].hire_date, got["Ofc. Peña"].role) == (date(2026, 3, 15), "initial")
    assert got["Ofc. Øster"].placement_date == date(2026, 4, 1)
    [award] = rows(frozen_app, ChpAward)
    assert award.award_date == date(2026, 3, 2)


def test_tab_separated_with_extra_columns_lists_the_ignored_columns(frozen_app, agency, coord):
    text = "Badge\t" + HEADER.replace(",", "\t").replace("award_number", "Award Number") + "\n" \
           "17\tOfc. Adams\t2026-UL-1\t2026-01-15\t\tinitial\t\t\t\n"
    response = preview(coord, agency, text.encode())
    assert "Read as UTF-8, tab-separated." in page_text(response)
    assert "Columns ignored: Badge." in page_text(response)
    assert "New records 1" in page_text(response)


def test_decode_names_the_encoding_and_refuses_binary():
    assert decode("a,b\n".encode("utf-16"))[1] == "UTF-16"
    assert decode("Peña".encode("cp1252")) == ("Peña", "Windows-1252")
    assert decode("\ufeffPeña".encode("utf-8")) == ("Peña", "UTF-8")
    with pytest.raises(RosterFileError, match="not text"):
        decode(b"\x81\x8d\x8f\x90\x9d")
    assert sniff_delimiter("officer;award_number;role\n") == ";"
    assert sniff_delimiter("officer,award_number;x\n") == ","


@pytest.mark.parametrize("text,expected", [
    ("2026-03-04", date(2026, 3, 4)), ("3/4/2026", date(2026, 3, 4)), ("03/04/2026", date(2026, 3, 4)),
    ("12/31/2026", date(2026, 12, 31)), ("2/29/2024", date(2024, 2, 29)), ("3/4/2026 0:00", date(2026, 3, 4)),
    ("2026/3/4", date(2026, 3, 4)), ("", None), ("  ", None),
])
def test_the_date_rule(text, expected):
    assert parse_import_date("hire_date", text, None) == expected


@pytest.mark.parametrize("text,day_first,words", [
    ("3/4/26", None, "two-digit year"),
    ("2/30/2026", None, "not a real date"),
    ("31/1/2026", None, "is day/month/year, but slash dates are read as month/day/year"),
    ("3/4/2026", 7, "ambiguous: this file has day-first dates (line 7)"),
    ("4.3.2026", None, "not a date; write YYYY-MM-DD or month/day/year"),
    ("March 4", None, "not a date"),
])
def test_dates_the_rule_refuses_name_the_column(text, day_first, words):
    with pytest.raises(RuleError) as caught:
        parse_import_date("hire_date", text, day_first)
    assert caught.value.message.startswith("hire_date: ") and words in caught.value.message


def test_a_file_with_day_first_dates_refuses_its_ambiguous_dates(frozen_app, agency, coord):
    data = (HEADER + "\nOfc. Adams,2026-UL-1,2026-01-15,3/4/2026,initial,,,\n"
            "Ofc. Baker,2026-UL-1,2026-01-15,31/1/2026,initial,,,\n").encode()
    text = page_text(preview(coord, agency, data))
    assert "hire_date: '3/4/2026' is ambiguous: this file has day-first dates (line 3)" in text
    assert "hire_date: '31/1/2026' is day/month/year" in text


@pytest.mark.parametrize("data,words", [
    (b"", "The file is empty"),
    (b"officer,role\nA,initial\n", "missing the columns award_number, award_date"),
    (b"\x81\x8d\x8f\x90\x9d" * 10, "not text in UTF-8, UTF-16 or Windows-1252"),
    ((HEADER + '\nA,"X\n').encode(), "not valid CSV"),
])
def test_a_file_that_cannot_be_read_is_a_422_with_the_reason(frozen_app, agency, coord, data, words):
    before = agency_state(frozen_app)  # not even the file is kept
    response = preview(coord, agency, data)
    assert response.status_code == 422
    assert words in page_text(response)
    assert agency_state(frozen_app) == before


def test_read_roster_keeps_line_numbers_of_multiline_cells():
    roster = read_roster((HEADER + '\n"Ofc.\nAdams",X,2026-01-15,,initial,,,\nB,X,2026-01-15,,initial,,,\n').encode())
    assert [line for line, _ in roster.rows] == [3, 4]
