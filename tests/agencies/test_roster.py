"""The SRO roster report (`portal sro report ROSTER.csv`): columns, computed values, bad rows
and bad files. Every expected value is worked out by hand in a comment."""

from __future__ import annotations

import csv
import io
import sys
from datetime import date
from pathlib import Path

import pytest

PLUGIN_DIR = Path(__file__).resolve().parents[2] / "plugins" / "agencies"
if str(PLUGIN_DIR) not in sys.path:
    sys.path.insert(0, str(PLUGIN_DIR))

from portal_agencies import roster  # noqa: E402
from portal_agencies.roster import RosterError, evaluate_rows, report  # noqa: E402

AS_OF = date(2026, 5, 30)
HEADER = "officer,award_number,award_date,hire_date,role,placement_date,training_completed,expenses_submitted"
OUTPUT = "training_due,training_status,days_left,prior_training,mou_due,expenses_due,records_keep_until,error"


def rows_of(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text)))


def one_row(line: str, as_of: date = AS_OF) -> dict[str, str]:
    output, _ = report(f"{HEADER}\n{line}\n", as_of)
    (row,) = rows_of(output)
    return row


def computed(row: dict[str, str]) -> tuple[str, ...]:
    return tuple(row[column] for column in OUTPUT.split(","))


# -- the whole report --------------------------------------------------------------------

def test_a_roster_report_worked_by_hand():
    roster_csv = "\n".join([
        HEADER,
        # initial: award 2026-01-15 + 9 = 2026-10-15; hire 2026-03-01 + 6 = 2026-09-01 -> 2026-09-01.
        # May 30 -> May 31 = 1; + Jun 30 + Jul 31 + Aug 31 = 93; + 1 = 94 days left.
        # MOU: Jan 15 -> Jan 31 = 16; 74 - Feb 28 = 46; - Mar 31 = 15 -> 2026-04-15.
        "Ofc. Adams,15CHP-001,2026-01-15,2026-03-01,initial,,,",
        # backfill placed 2026-02-10 + 9 = 2026-11-10; trained 2026-04-20 (after placement) -> met;
        # no expenses due (agency pays); records: 2026-05-05 + 3 years = 2029-05-05.
        "Ofc. Baker,15CHP-001,2026-01-15,,backfill,2026-02-10,2026-04-20,2026-05-05",
        # initial, award 2026-02-01 + 9 = 2026-11-01; trained 2025-03-01: 12 months before the award
        # is 2025-02-01 <= 2025-03-01 -> accepted, met. MOU: Feb 1 -> Feb 28 = 27; + 31 + 30 = 88; + 2 -> May 2.
        "Ofc. Cruz,15CHP-002,2026-02-01,,initial,,2025-03-01,",
        # initial: award 2025-06-30 + 9 = 2026-03-30; hire 2025-07-15 + 6 = 2026-01-15 -> 2026-01-15.
        # Jan 15 -> Jan 31 = 16; + Feb 28 + Mar 31 + Apr 30 + May 30 = 135 -> -135, overdue.
        # MOU: Jun 30 -> Jul 31 = 31; + Aug 31 = 62; + 28 -> 2025-09-28.
        "Ofc. Diaz,15CHP-003,2025-06-30,2025-07-15,initial,,,",
        # 30 February does not exist
        "Ofc. Evans,15CHP-003,2026-02-30,,initial,,,",
        # initial: award 2025-05-31 + 9 = 2026-02-28 (2026 not leap); trained 2026-03-02 -> met-late.
        # expenses: Mar 2 -> Mar 31 = 29; + 1 -> 2026-04-01. records: 2026-03-20 + 3 years = 2029-03-20.
        # MOU: May 31 -> Jun 30 = 30; + Jul 31 = 61; + 29 -> 2025-08-29.
        "Ofc. Ford,15CHP-004,2025-05-31,,initial,,2026-03-02,2026-03-20",
    ]) + "\n"
    output, had_error = report(roster_csv, AS_OF)
    assert output == "\n".join([
        f"{HEADER},{OUTPUT}",
        "Ofc. Adams,15CHP-001,2026-01-15,2026-03-01,initial,,,,2026-09-01,due,94,,2026-04-15,,,",
        "Ofc. Baker,15CHP-001,2026-01-15,,backfill,2026-02-10,2026-04-20,2026-05-05,"
        "2026-11-10,met,,,2026-04-15,,2029-05-05,",
        "Ofc. Cruz,15CHP-002,2026-02-01,,initial,,2025-03-01,,2026-11-01,met,,accepted,2026-05-02,,,",
        "Ofc. Diaz,15CHP-003,2025-06-30,2025-07-15,initial,,,,2026-01-15,overdue,-135,,2025-09-28,,,",
        "Ofc. Evans,15CHP-003,2026-02-30,,initial,,,,,error,,,,,,award_date: 2026-02-30 is not a real date",
        "Ofc. Ford,15CHP-004,2025-05-31,,initial,,2026-03-02,2026-03-20,"
        "2026-02-28,met-late,,,2025-08-29,2026-04-01,2029-03-20,",
    ]) + "\n"
    assert had_error is True


def test_a_clean_roster_has_no_error():
    output, had_error = report(f"{HEADER}\nOfc. Adams,15CHP-001,2026-01-15,2026-03-01,initial,,,\n", AS_OF)
    assert had_error is False
    assert "\r" not in output and output.endswith("\n")


def test_a_header_only_roster_gives_a_header_only_report():
    assert report(HEADER + "\n", AS_OF) == (f"{HEADER},{OUTPUT}\n", False)


def test_the_as_of_date_moves_days_left():
    # due 2026-09-01 (as above); as of 2026-08-02: Aug 2 -> Aug 31 = 29; + 1 = 30
    row = one_row("A,X,2026-01-15,2026-03-01,initial,,,", date(2026, 8, 2))
    assert (row["training_status"], row["days_left"]) == ("due", "30")
    # on the due day: due, 0 left; the day after: overdue, -1
    assert one_row("A,X,2026-01-15,2026-03-01,initial,,,", date(2026, 9, 1))["days_left"] == "0"
    row = one_row("A,X,2026-01-15,2026-03-01,initial,,,", date(2026, 9, 2))
    assert (row["training_status"], row["days_left"]) == ("overdue", "-1")


def test_hire_unknown_means_9_months_after_the_award():
    # 2026-01-15 + 9 months = 2026-10-15; May 30 -> May 31 = 1; + Jun 30 + Jul 31 + Aug 31 + Sep 30 = 123; + 15 = 138
    row = one_row("A,X,2026-01-15,,initial,,,")
    assert (row["training_due"], row["days_left"]) == ("2026-10-15", "138")


def test_prior_training_columns():
    # award 2026-01-15: 12 months before = 2025-01-15 -> accepted; 2025-01-14 -> too-old
    assert one_row("A,X,2026-01-15,,initial,,2025-01-15,")["prior_training"] == "accepted"
    row = one_row("A,X,2026-01-15,,initial,,2025-01-14,")
    # too-old: judged as not completed; due 2026-10-15, 138 days left (worked out above)
    assert computed(row) == ("2026-10-15", "due", "138", "too-old", "2026-04-15", "", "", "")
    # on/after the award date: not prior training
    assert one_row("A,X,2026-01-15,,initial,,2026-01-15,")["prior_training"] == ""


def test_backfill_prior_training_counts_from_placement():
    # placed 2026-03-10: 12 months before = 2025-03-10. 2025-03-10 -> accepted; 2025-03-09 -> too-old,
    # though both are after the award date 2025-01-15 (so would not be "prior" to the award at all).
    # training due 2026-03-10 + 9 = 2026-12-10.
    row = one_row("B,X,2025-01-15,,backfill,2026-03-10,2025-03-10,")
    assert (row["prior_training"], row["training_status"], row["training_due"]) == ("accepted", "met", "2026-12-10")
    row = one_row("B,X,2025-01-15,,backfill,2026-03-10,2025-03-09,")
    assert (row["prior_training"], row["training_status"]) == ("too-old", "due")


def test_29_february_prior_training():
    # award 2025-02-28; 12 months before = 2024-02-28 <= 2024-02-29 -> accepted
    assert one_row("A,X,2025-02-28,,initial,,2024-02-29,")["prior_training"] == "accepted"


def test_expenses_due_only_for_an_initial_sro_trained_on_or_after_the_award():
    # on the award date: Jan 15 -> Jan 31 = 16; + 14 -> 2026-02-14
    assert one_row("A,X,2026-01-15,,initial,,2026-01-15,")["expenses_due"] == "2026-02-14"
    # prior training (before the award): nothing to claim
    assert one_row("A,X,2026-01-15,,initial,,2025-06-01,")["expenses_due"] == ""
    # backfill: the agency pays
    assert one_row("B,X,2026-01-15,,backfill,2026-02-10,2026-04-20,")["expenses_due"] == ""


def test_records_kept_three_years_after_expenses_are_submitted():
    # 2026-04-01 + 36 months = 2029-04-01; expenses due: Mar 2 -> Mar 31 = 29; + 1 -> 2026-04-01
    row = one_row("A,X,2026-01-15,,initial,,2026-03-02,2026-04-01")
    assert (row["expenses_due"], row["records_keep_until"]) == ("2026-04-01", "2029-04-01")


def test_leap_year_month_ends():
    # award 2027-05-31 + 9 months = 2028-02-29; MOU: May 31 -> Jun 30 = 30; + Jul 31 = 61; + 29 -> 2027-08-29
    row = one_row("A,X,2027-05-31,,initial,,,", date(2027, 6, 1))
    assert (row["training_due"], row["mou_due"]) == ("2028-02-29", "2027-08-29")
    # hire 2027-08-31 + 6 months = 2028-02-29 too
    assert one_row("A,X,2027-05-31,2027-08-31,initial,,,", date(2027, 9, 1))["training_due"] == "2028-02-29"


# -- bad rows ----------------------------------------------------------------------------

@pytest.mark.parametrize(("line", "column", "words"), [
    ("A,X,2026-01-15,31/05/2026,initial,,,", "hire_date", "not a date in the form YYYY-MM-DD"),
    ("A,X,2026-02-30,,initial,,,", "award_date", "not a real date"),
    ("A,X,2026-01-15,,sergeant,,,", "role", "not initial or backfill"),
    ("A,X,2026-01-15,,,,,", "role", "role is empty"),
    ("A,X,,2026-03-01,initial,,,", "award_date", "required for an initial SRO"),
    ("B,X,2026-01-15,,backfill,,,", "placement_date", "required for a backfill SRO"),
    ("A,X,2026-01-15,,initial,,2026-04-02,2026-04-01", "expenses_submitted", "before training_completed"),
    ("A,X,2026-01-15,,initial,,,2026-04-01", "expenses_submitted", "training_completed is empty"),
    ("A,X,2026-01-15,,initial,,2026-06-01,", "training_completed", "after the as-of date"),
])
def test_a_bad_row_is_an_error_naming_the_column_and_the_others_still_compute(line, column, words):
    good = "Ofc. Adams,15CHP-001,2026-01-15,2026-03-01,initial,,,"
    output, had_error = report(f"{HEADER}\n{good}\n{line}\n{good}\n", AS_OF)
    first, bad, last = rows_of(output)
    assert had_error is True
    assert computed(bad)[:-1] == ("", "error", "", "", "", "", "")
    assert bad["error"].startswith(column) and words in bad["error"]
    # the good rows around it: due 2026-09-01, 94 days (worked out in the first test)
    for row in (first, last):
        assert computed(row) == ("2026-09-01", "due", "94", "", "2026-04-15", "", "", "")


def test_every_bad_cell_in_a_row_is_named():
    row = one_row("A,X,2026-13-01,,chief,,yesterday,")
    assert row["training_status"] == "error"
    assert row["error"] == ("award_date: 2026-13-01 is not a real date; "
                            "role: 'chief' is not initial or backfill; "
                            "training_completed: 'yesterday' is not a date in the form YYYY-MM-DD")


def test_short_rows_are_padded_and_long_rows_with_extra_cells_are_errors():
    output, had_error = report(f"{HEADER}\nA,X,2026-01-15,2026-03-01,initial\nB,X,2026-01-15,,initial,,,,stray\n"
                               "C,X,2026-01-15,,initial,,,,,\n", AS_OF)
    short, long, blank_extra = rows_of(output)
    assert (short["training_due"], short["training_status"]) == ("2026-09-01", "due")
    assert long["training_status"] == "error" and "'stray'" in long["error"]
    assert "9 cells but the header has 8" in long["error"]
    assert blank_extra["training_status"] == "due" and blank_extra["error"] == ""
    assert had_error is True


# -- the file's shape ---------------------------------------------------------------------

def test_columns_in_any_order_and_extra_columns_kept_where_they_are():
    text = ("notes,role,officer,award_date,district,hire_date,award_number,placement_date,"
            "expenses_submitted,training_completed\n"
            '"=SUM(A1)",initial,Ofc. Adams,2026-01-15,"North, East",2026-03-01,15CHP-001,,,\n'
            "  keep my spaces  ,backfill,Ofc. Baker,2026-01-15,-7,,15CHP-001,2026-02-10,,\n")
    output, had_error = report(text, AS_OF)
    assert had_error is False
    lines = output.splitlines()
    assert lines[0] == ("notes,role,officer,award_date,district,hire_date,award_number,placement_date,"
                        "expenses_submitted,training_completed," + OUTPUT)
    # input cells unchanged, even one a spreadsheet would run; computed columns follow
    assert lines[1] == ('=SUM(A1),initial,Ofc. Adams,2026-01-15,"North, East",2026-03-01,15CHP-001,,,,'
                        "2026-09-01,due,94,,2026-04-15,,,")
    # backfill placed 2026-02-10 + 9 = 2026-11-10: May 30 -> May 31 = 1; + Jun 30 + Jul 31 + Aug 31 + Sep 30
    # + Oct 31 = 154; + 10 = 164
    assert lines[2] == ("  keep my spaces  ,backfill,Ofc. Baker,2026-01-15,-7,,15CHP-001,2026-02-10,,,"
                        "2026-11-10,due,164,,2026-04-15,,,")


def test_bom_crlf_spaces_blank_lines_and_role_case():
    text = ("\ufeff" + HEADER + "\r\n"
            "\r\n"
            "Ofc. Adams , 15CHP-001 , 2026-01-15 , 2026-03-01 , INITIAL ,,,\r\n"
            "\r\n"
            ",,,,,,,\r\n"
            "   ,  ,,,,,,\r\n"
            "Ofc. Baker,15CHP-001,2026-01-15,,Backfill,2026-02-10,,\r\n")
    output, had_error = report(text, AS_OF)
    assert had_error is False
    assert output.startswith("officer,")            # no BOM carried into the header
    assert "\r" not in output
    adams, baker = rows_of(output)
    assert adams["officer"] == "Ofc. Adams "        # input cells are written back unchanged
    assert computed(adams) == ("2026-09-01", "due", "94", "", "2026-04-15", "", "", "")
    assert computed(baker)[:3] == ("2026-11-10", "due", "164")   # worked out in the previous test


def test_header_names_match_whatever_their_case_and_spaces():
    header = " Officer ,AWARD_NUMBER,Award_Date,hire_date,Role,placement_date,training_completed,expenses_submitted"
    output, _ = report(f"{header}\nA,X,2026-01-15,2026-03-01,initial,,,\n", AS_OF)
    lines = output.splitlines()
    assert lines[0] == f"{header},{OUTPUT}"
    assert lines[1].endswith(",2026-09-01,due,94,,2026-04-15,,,")


def test_a_header_missing_columns_is_an_error_for_the_whole_file():
    with pytest.raises(RosterError, match="missing the columns award_date, role"):
        report("officer,award_number,hire_date,placement_date,training_completed,expenses_submitted\nA,X,,,,\n", AS_OF)
    with pytest.raises(RosterError, match="missing the column expenses_submitted;"):
        report(HEADER.rsplit(",", 1)[0] + "\n", AS_OF)


@pytest.mark.parametrize("text", ["", "\ufeff", "\n\n", "\r\n ,, \r\n"])
def test_an_empty_file_is_an_error(text):
    with pytest.raises(RosterError, match="empty"):
        report(text, AS_OF)


def test_a_required_column_twice_is_an_error():
    with pytest.raises(RosterError, match="role twice"):
        report(HEADER + ",Role\n", AS_OF)


def test_a_report_can_be_rerun_on_its_own_output():
    first, _ = report(f"{HEADER}\nA,X,2026-01-15,2026-03-01,initial,,,\n", AS_OF)
    again, had_error = report(first, AS_OF)
    assert again == first and had_error is False
    # a later as-of date recomputes the old output columns: due 2026-09-01 - 2026-08-18 = 14
    later, _ = report(first, date(2026, 8, 18))
    assert later.splitlines() == [f"{HEADER},{OUTPUT}",
                                  "A,X,2026-01-15,2026-03-01,initial,,,,2026-09-01,due,14,,2026-04-15,,,"]


def test_quoted_cells_with_commas_and_newlines_survive():
    text = f'{HEADER},notes\n"Adams, J.",X,2026-01-15,2026-03-01,initial,,,,"line one\nline two"\n'
    output, _ = report(text, AS_OF)
    (row,) = rows_of(output)
    assert row["officer"] == "Adams, J." and row["notes"] == "line one\nline two"
    assert row["training_status"] == "due"


def test_no_computed_cell_starts_like_a_formula():
    text = "\n".join([HEADER,
                      "=1+1,+1,@x,-1,initial,,,",                      # bad dates everywhere
                      "A,X,2025-06-30,2025-07-15,initial,,,",          # overdue: days_left -135
                      "A,X,2026-01-15,,=cmd|' /C calc'!A0,,,"]) + "\n"  # a formula as the role
    output, _ = report(text, AS_OF)
    for row in rows_of(output):
        for column in OUTPUT.split(","):
            cell = row[column]
            if column == "days_left" and cell.startswith("-"):
                assert cell[1:].isdigit()
            else:
                assert not cell.startswith(("=", "+", "-", "@")), (column, cell)
    assert roster._safe("=1+1") == "'=1+1" and roster._safe("-135") == "-135"


# -- evaluate_rows, for the dashboard's import -------------------------------------------

def test_evaluate_rows_adds_the_output_columns_to_each_row():
    rows = [
        {"officer": "Ofc. Adams", "award_date": date(2026, 1, 15), "hire_date": "2026-03-01", "role": "initial"},
        {"officer": "Ofc. Baker", "role": "backfill", "placement_date": "2026-02-10"},   # missing keys: empty
        {"officer": "Ofc. Cruz", "role": "initial"},
    ]
    adams, baker, cruz = evaluate_rows(rows, AS_OF)
    assert adams["officer"] == "Ofc. Adams" and adams["award_date"] == date(2026, 1, 15)
    assert computed(adams) == ("2026-09-01", "due", "94", "", "2026-04-15", "", "", "")
    # backfill without an award date: no MOU date; 2026-11-10, 164 days (worked out above)
    assert computed(baker) == ("2026-11-10", "due", "164", "", "", "", "", "")
    assert cruz["training_status"] == "error" and cruz["error"].startswith("award_date")
    assert rows[0] == {"officer": "Ofc. Adams", "award_date": date(2026, 1, 15), "hire_date": "2026-03-01",
                       "role": "initial"}    # the input rows are not changed
