"""`portal sro remind`: each agency's coordinators get one digest a day of the reminders owed
(the latest of 30/14/3 days before each open deadline, then weekly while it is overdue), a run
after missed days catches up without sending anything twice (issue 17: reminders used to fire
only on the exact day, and overdue items were never mailed); and `portal sro report ROSTER.csv`
answers with the exit codes cron and scripts rely on."""

from __future__ import annotations

from collections import defaultdict
from datetime import date, timedelta

import pytest
from click.testing import CliRunner
from flask.cli import ScriptInfo

from portal_agencies import rules
from tests.agencies.support import (ChpAward, ReminderSent, add_award, add_member, add_sro, count, get, new_agency,
                                    page_text, rows, services, signed_in)
from tests.helpers import outbox, utc

ELM = "Elm City Police Department"
OAK = "Oak County Sheriff"
ELM_COORDINATORS = ["coord@example.gov", "second@example.gov"]

# Elm: the MOU of an award dated 2 March 2026 is due 31 May 2026 (+90 days); Ofc. Dana Park,
# hired 15 April 2026, is due 15 October 2026 (hire + 6 months, before award + 9 months);
# Ofc. Lee Grant, a backfill placed 31 August 2026, is due 31 May 2027 (placement + 9 months).
# Oak: its MOU is met; Dep. Oakley, a backfill placed 14 February 2026, is due 14 November 2026.


@pytest.fixture
def agencies(frozen_app):
    elm = new_agency(frozen_app, coordinator=ELM_COORDINATORS[0])
    add_member(frozen_app, elm, ELM_COORDINATORS[1], name="Sgt. Second", role="coordinator")
    add_member(frozen_app, elm, "gone@example.gov", name="Former Coordinator", role="coordinator", active=False)
    add_member(frozen_app, elm, "officer@example.gov", name="Ofc. Rivera")
    award = add_award(frozen_app, elm, funded=2)
    add_sro(frozen_app, award, name="Ofc. Dana Park", hire_date=date(2026, 4, 15))
    add_sro(frozen_app, award, name="Ofc. Lee Grant", role="backfill", placement_date=date(2026, 8, 31))
    oak = new_agency(frozen_app, name=OAK, coordinator="oak@example.gov", coordinator_name="Capt. Oak")
    oak_award = add_award(frozen_app, oak, number="OAK-1", award_date=date(2026, 1, 10), mou=date(2026, 2, 1))
    add_sro(frozen_app, oak_award, name="Dep. Oakley", role="backfill", placement_date=date(2026, 2, 14))
    return {"elm": elm, "oak": oak, "award": award}


def remind(app, as_of: date | None = None):
    args = ["sro", "remind"] + (["--as-of", as_of.isoformat()] if as_of else [])
    result = app.test_cli_runner().invoke(args=args)
    assert result.exit_code == 0, result.output
    return result


def run_days(app, days) -> dict[date, list]:
    """Run the command on each day; the mails each run queued, by day (days with none left out)."""
    queued, seen = defaultdict(list), len(outbox(app))
    for day in days:
        remind(app, day)
        messages = outbox(app)[seen:]
        seen += len(messages)
        if messages:
            queued[day] = messages
    return dict(queued)


def every_day(first: date, last: date):
    day = first
    while day <= last:
        yield day
        day += timedelta(days=1)


def lines_of(message) -> list[str]:
    return [line[2:] for line in message.body_text.splitlines() if line.startswith("- ")]


# -- the rule ------------------------------------------------------------------------------

@pytest.mark.parametrize("days_left,owed", [
    (45, None), (31, None), (30, 30), (29, 30), (15, 30), (14, 14), (4, 14), (3, 3), (1, 3), (0, 3),
    (-1, -1), (-7, -1), (-8, -2), (-14, -2), (-15, -3), (-100, -15),
])
def test_the_reminder_owed_on_a_day(days_left, owed):
    deadline = date(2026, 5, 31)
    assert rules.reminder_owed(deadline, deadline - timedelta(days=days_left)) == owed


# -- daily runs ------------------------------------------------------------------------------

def test_daily_runs_send_30_14_3_days_before_then_weekly_while_overdue(frozen_app, agencies):
    queued = run_days(frozen_app, every_day(date(2026, 4, 1), date(2026, 6, 30)))
    assert sorted(queued) == [date(2026, 5, 1), date(2026, 5, 17), date(2026, 5, 28), date(2026, 6, 1),
                              date(2026, 6, 8), date(2026, 6, 15), date(2026, 6, 22), date(2026, 6, 29)]
    for day, messages in queued.items():
        assert sorted(m.to_address for m in messages) == ELM_COORDINATORS, day
        overdue = day > date(2026, 5, 31)
        assert messages[0].subject == f"CHP SRO deadlines: 1 item{', 1 overdue' if overdue else ''} ({ELM})"
    assert lines_of(queued[date(2026, 5, 17)][0]) == ["MOU for CHP award 2026-UL-WX-0042: due May 31, 2026, in 14 days."]
    assert lines_of(queued[date(2026, 6, 8)][0]) == [
        "MOU for CHP award 2026-UL-WX-0042: was due May 31, 2026: 8 days overdue."]


def test_a_met_deadline_stops_the_overdue_notices(frozen_app, agencies):
    run_days(frozen_app, every_day(date(2026, 6, 1), date(2026, 6, 9)))
    with services(frozen_app).database.session() as db:
        award = db.get(ChpAward, agencies["award"])
        award.mou_submitted_on = date(2026, 6, 9)
        db.add(award)
        db.commit()
    assert run_days(frozen_app, every_day(date(2026, 6, 10), date(2026, 8, 31))) == {}


# -- skipped days ----------------------------------------------------------------------------

def test_a_run_after_missed_days_sends_the_latest_owed_reminder_once(frozen_app, agencies):
    queued = run_days(frozen_app, [date(2026, 5, 20), date(2026, 5, 21), date(2026, 5, 29), date(2026, 6, 5),
                                   date(2026, 6, 6), date(2026, 6, 20), date(2026, 6, 21)])
    # 30 and 14 days before were missed: on 20 May only the 14-day one (11 days left) goes, once.
    assert sorted(queued) == [date(2026, 5, 20), date(2026, 5, 29), date(2026, 6, 5), date(2026, 6, 20)]
    assert lines_of(queued[date(2026, 5, 20)][0]) == ["MOU for CHP award 2026-UL-WX-0042: due May 31, 2026, in 11 days."]
    assert lines_of(queued[date(2026, 5, 29)][0]) == ["MOU for CHP award 2026-UL-WX-0042: due May 31, 2026, in 2 days."]
    assert lines_of(queued[date(2026, 6, 5)][0]) == [
        "MOU for CHP award 2026-UL-WX-0042: was due May 31, 2026: 5 days overdue."]
    assert lines_of(queued[date(2026, 6, 20)][0]) == [
        "MOU for CHP award 2026-UL-WX-0042: was due May 31, 2026: 20 days overdue."]
    recorded = sorted(r.days_before for r in rows(frozen_app, ReminderSent) if r.subject_kind == "mou")
    assert recorded == [-3, -1, 3, 14]


def test_a_long_gap_sends_one_digest_with_every_owed_item_once(frozen_app, agencies):
    # 20 October: the MOU is 142 days overdue, Dana Park's training 5 days; at Oak, Oakley's
    # training is due in 25 days (the 30-day reminder). Nothing was ever sent before.
    queued = run_days(frozen_app, [date(2026, 10, 20)])
    elm_mail = [m for m in queued[date(2026, 10, 20)] if m.to_address == "coord@example.gov"]
    assert len(elm_mail) == 1
    assert elm_mail[0].subject == f"CHP SRO deadlines: 2 items, 2 overdue ({ELM})"
    assert lines_of(elm_mail[0]) == [
        "MOU for CHP award 2026-UL-WX-0042: was due May 31, 2026: 142 days overdue.",
        "Ofc. Dana Park (CHP award 2026-UL-WX-0042), 40-hour NASRO basic SRO course: was due October 15, 2026: "
        "5 days overdue.",
    ]
    [oak_mail] = outbox(frozen_app, "oak@example.gov")
    assert lines_of(oak_mail) == ["Dep. Oakley (CHP award OAK-1), 40-hour NASRO basic SRO course: due November 14, "
                                  "2026, in 25 days."]
    assert run_days(frozen_app, [date(2026, 10, 20), date(2026, 10, 21), date(2026, 10, 22)]) == {}


def test_one_digest_per_coordinator_per_day_an_item_due_later_that_day_waits(frozen_app, agencies):
    assert remind(frozen_app, date(2026, 5, 28)).output == "1 reminder queued in 2 mails.\n"
    # Later that day a new SRO is recorded whose training is due in 13 days (hired 10 Dec 2025).
    add_sro(frozen_app, agencies["award"], name="Ofc. New", role="backfill", placement_date=date(2025, 9, 10))
    assert remind(frozen_app, date(2026, 5, 28)).output == "0 reminders queued in 0 mails.\n"
    assert len(outbox(frozen_app)) == 2
    queued = run_days(frozen_app, [date(2026, 5, 29)])
    [mail] = [m for m in queued[date(2026, 5, 29)] if m.to_address == "coord@example.gov"]
    # The MOU's 3-day reminder went yesterday and is still the one owed: it is not sent again.
    assert lines_of(mail) == [
        "Ofc. New (CHP award 2026-UL-WX-0042), 40-hour NASRO basic SRO course: due June 10, 2026, in 12 days."]


# -- itemized expenses -----------------------------------------------------------------------

def test_overdue_itemized_expenses_are_on_the_dashboard_and_mailed_weekly(frozen_app):
    elm = new_agency(frozen_app)
    award = add_award(frozen_app, elm, funded=1, mou=date(2026, 4, 20))
    add_sro(frozen_app, award, name="Ofc. Dana Park", hire_date=date(2026, 4, 15), training_completed=date(2026, 5, 1))
    # The course was completed on 1 May: itemized expenses were due to NASRO on 31 May.
    coord = signed_in(frozen_app, "coord@example.gov")
    text = page_text(coord.get(f"/agencies/{elm}"))
    assert "Overdue by 15 days Ofc. Dana Park : itemized expenses to NASRO 2026-UL-WX-0042 May 31, 2026" in text
    queued = run_days(frozen_app, every_day(date(2026, 5, 1), date(2026, 6, 15)))
    assert sorted(queued) == [date(2026, 5, 1), date(2026, 5, 17), date(2026, 5, 28), date(2026, 6, 1),
                              date(2026, 6, 8), date(2026, 6, 15)]
    assert lines_of(queued[date(2026, 6, 8)][0]) == [
        "Itemized travel expenses of Ofc. Dana Park (CHP award 2026-UL-WX-0042) to NASRO: was due May 31, 2026: "
        "8 days overdue."]


# -- who gets it, and the command --------------------------------------------------------------

def test_officers_former_coordinators_and_other_agencies_get_nothing(frozen_app, agencies):
    run_days(frozen_app, [date(2026, 5, 1), date(2026, 10, 20), date(2026, 11, 11)])
    addresses = {m.to_address for m in outbox(frozen_app)}
    assert addresses == {"coord@example.gov", "second@example.gov", "oak@example.gov"}
    assert all(ELM not in m.subject for m in outbox(frozen_app, "oak@example.gov"))
    assert all(OAK not in m.subject and "Oakley" not in m.body_text for m in outbox(frozen_app, "coord@example.gov"))


def test_running_twice_on_the_same_day_sends_nothing_twice(frozen_app, agencies):
    first = remind(frozen_app, date(2026, 5, 1))
    assert first.output == "1 reminder queued in 2 mails.\n"
    assert len(outbox(frozen_app)) == 2
    second = remind(frozen_app, date(2026, 5, 1))
    assert second.output == "0 reminders queued in 0 mails.\n"
    assert len(outbox(frozen_app)) == 2
    [sent] = [r for r in rows(frozen_app, ReminderSent) if r.subject_kind == "mou"]
    assert (sent.subject_kind, sent.deadline, sent.days_before) == ("mou", date(2026, 5, 31), 30)


def test_the_digest_says_what_is_due_and_links_to_the_dashboard(frozen_app, agencies):
    elm = agencies["elm"]
    remind(frozen_app, date(2026, 5, 28))
    [mail] = outbox(frozen_app, "second@example.gov")
    body = " ".join(mail.body_text.split())
    assert "Hello Sgt. Second," in body
    assert "within 90 days of the date on the award congratulatory letter" in body
    assert f"https://portal.test/agencies/{elm}" in body


def test_without_as_of_the_day_is_todays_date_in_the_portals_time_zone(frozen_app, clock, agencies):
    clock.set(utc(2026, 5, 1, 3, 30))   # 23:30 on 30 April in New York: 31 days before the MOU
    assert remind(frozen_app).output == "0 reminders queued in 0 mails.\n"
    assert outbox(frozen_app) == []
    clock.set(utc(2026, 5, 1, 4, 30))   # 00:30 on 1 May in New York: 30 days before
    assert remind(frozen_app).output == "1 reminder queued in 2 mails.\n"
    assert {m.subject for m in outbox(frozen_app)} == {f"CHP SRO deadlines: 1 item ({ELM})"}


def test_met_deadlines_get_no_reminder(frozen_app):
    elm = new_agency(frozen_app)
    award = add_award(frozen_app, elm, funded=1, mou=date(2026, 4, 20))
    add_sro(frozen_app, award, name="Ofc. Dana Park", hire_date=date(2026, 4, 15),
            training_completed=date(2026, 4, 30), expenses_submitted=date(2026, 5, 10))
    add_sro(frozen_app, award, name="Ofc. Lee Grant", role="backfill", placement_date=date(2026, 8, 31),
            training_completed=date(2026, 9, 1))
    assert run_days(frozen_app, every_day(date(2026, 4, 1), date(2026, 4, 3))) == {}
    assert run_days(frozen_app, [date(2026, 5, 1), date(2026, 10, 1), date(2027, 5, 28), date(2027, 7, 1)]) == {}
    assert count(frozen_app, "chp_reminder_sent") == 0


def test_an_unreadable_as_of_date_is_a_usage_error(frozen_app, agencies):
    result = frozen_app.test_cli_runner().invoke(args=["sro", "remind", "--as-of", "05/01/2026"])
    assert result.exit_code == 2
    assert "YYYY-MM-DD" in result.output
    assert outbox(frozen_app) == []


def test_remind_runs_from_the_portal_command(frozen_app, agencies):
    from portal.cli import main

    result = CliRunner().invoke(main, ["sro", "remind", "--as-of", "2026-05-17"],
                                obj=ScriptInfo(create_app=lambda: frozen_app))
    assert result.exit_code == 0, result.output
    assert result.output == "1 reminder queued in 2 mails.\n"
    assert sorted(m.to_address for m in outbox(frozen_app)) == sorted(ELM_COORDINATORS)


# -- portal sro report --------------------------------------------------------------

HEADER = "officer,award_number,award_date,hire_date,role,placement_date,training_completed,expenses_submitted\n"
GOOD = "J. Smith,2026-UL-WX-0042,2026-03-02,2026-04-15,initial,,,\n"
BAD = "K. Wrong,2026-UL-WX-0042,2026-13-01,,initial,,,\n"


def report(runner, path, *more):
    return runner.invoke(args=["sro", "report", str(path), "--as-of", "2026-06-15", *more])


def test_report_exits_0_for_a_clean_roster(runner, tmp_path):
    path = tmp_path / "roster.csv"
    path.write_text(HEADER + GOOD)
    result = report(runner, path)
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0].endswith("training_due,training_status,days_left,prior_training,mou_due,expenses_due,"
                             "records_keep_until,error")
    assert lines[1] == GOOD.strip() + ",2026-10-15,due,122,,2026-05-31,,,"


def test_report_exits_1_with_a_bad_row_and_still_computes_the_others(runner, tmp_path):
    path = tmp_path / "roster.csv"
    path.write_text(HEADER + GOOD + BAD)
    result = report(runner, path)
    assert result.exit_code == 1
    lines = result.stdout.splitlines()
    assert lines[1] == GOOD.strip() + ",2026-10-15,due,122,,2026-05-31,,,"
    assert lines[2].startswith(BAD.strip() + ",,error,") and "2026-13-01" in lines[2]


def test_report_exits_2_for_a_missing_file(runner, tmp_path):
    result = report(runner, tmp_path / "nowhere.csv")
    assert result.exit_code == 2
    assert "no such file" in result.stderr
    assert result.stdout == ""


def test_report_exits_2_for_missing_columns(runner, tmp_path):
    path = tmp_path / "roster.csv"
    path.write_text("officer,award_number,award_date\nJ. Smith,1,2026-03-02\n")
    result = report(runner, path)
    assert result.exit_code == 2
    assert "missing the columns" in result.stderr
    assert result.stdout == ""


def test_report_exits_2_for_a_file_that_is_not_utf8(runner, tmp_path):
    path = tmp_path / "roster.csv"
    path.write_bytes((HEADER + "José,1,2026-03-02,,initial,,,\n").encode("latin-1"))
    result = report(runner, path)
    assert result.exit_code == 2
    assert "not UTF-8" in result.stderr


def test_report_runs_from_the_portal_command(app, tmp_path):
    from portal.cli import main

    path = tmp_path / "roster.csv"
    path.write_text(HEADER + GOOD)
    result = CliRunner().invoke(main, ["sro", "report", str(path), "--as-of", "2026-06-15"],
                                obj=ScriptInfo(create_app=lambda: app))
    assert result.exit_code == 0, result.output
    assert "2026-10-15,due,122" in result.stdout


def test_itemized_expenses_due_to_nasro_are_reminded_until_submitted(frozen_app):
    # Initial SRO, course completed 2026-09-18: expenses due 30 days later, 2026-10-18.
    # Reminders: 30 days before = 2026-09-18, 14 days before = 2026-10-04, 3 days before = 2026-10-15,
    # then weekly while overdue, from 2026-10-19.
    elm = new_agency(frozen_app)
    award = add_award(frozen_app, elm, funded=1, mou=date(2026, 4, 20))
    sro = add_sro(frozen_app, award, name="Ofc. Dana Park", hire_date=date(2026, 4, 15),
                  training_completed=date(2026, 9, 18))
    sent_on = [day for day in (date(2026, 9, 17) + timedelta(days=n) for n in range(35))
               if remind(frozen_app, day).output != "0 reminders queued in 0 mails.\n"]
    assert sent_on == [date(2026, 9, 18), date(2026, 10, 4), date(2026, 10, 15), date(2026, 10, 19)]
    assert [lines_of(m) for m in outbox(frozen_app)][:3] == [
        [f"Itemized travel expenses of Ofc. Dana Park (CHP award 2026-UL-WX-0042) to NASRO: due October 18, 2026, "
         f"in {days} days."] for days in (30, 14, 3)]

    # Once the expenses are submitted, nothing more is sent for them.
    from tests.agencies.support import SchoolResourceOfficer
    from tests.helpers import services as app_services

    with app_services(frozen_app).database.session() as db:
        row = db.get(SchoolResourceOfficer, sro)
        row.expenses_submitted = date(2026, 10, 1)
        db.add(row)
        db.commit()
    before = len(outbox(frozen_app))
    assert remind(frozen_app, date(2026, 10, 26)).output == "0 reminders queued in 0 mails.\n"
    assert len(outbox(frozen_app)) == before


def test_a_backfill_sro_gets_no_expense_reminder(frozen_app):
    elm = new_agency(frozen_app)
    award = add_award(frozen_app, elm, funded=1, mou=date(2026, 4, 20))
    add_sro(frozen_app, award, name="Ofc. Lee Grant", role="backfill", placement_date=date(2026, 8, 31),
            training_completed=date(2026, 9, 18))
    for day in (date(2026, 9, 18), date(2026, 10, 4), date(2026, 10, 15)):
        assert remind(frozen_app, day).output == "0 reminders queued in 0 mails.\n", day
