"""`portal sro remind` mails every coordinator exactly 30, 14 and 3 days before each open
deadline (an initial SRO's training, a backfill SRO's, an award's MOU), never twice; and
`portal sro report ROSTER.csv` answers with the exit codes cron and scripts rely on."""

from __future__ import annotations

from collections import defaultdict
from datetime import date, timedelta

import pytest
from click.testing import CliRunner
from flask.cli import ScriptInfo

from tests.agencies.support import (ReminderSent, add_award, add_member, add_sro, count, new_agency, rows)
from tests.helpers import outbox, utc

ELM = "Elm City Police Department"
OAK = "Oak County Sheriff"
ELM_COORDINATORS = ["coord@example.gov", "second@example.gov"]

# Elm: the MOU of an award dated 2 March 2026 is due 31 May 2026 (+90 days); Ofc. Dana Park,
# hired 15 April 2026, is due 15 October 2026 (hire + 6 months, before award + 9 months);
# Ofc. Lee Grant, a backfill placed 31 August 2026, is due 31 May 2027 (placement + 9 months).
# Oak: its MOU is met; Dep. Oakley, a backfill placed 14 February 2026, is due 14 November 2026.
EXPECTED = {
    date(2026, 5, 1): ("elm", "mou", 30), date(2026, 5, 17): ("elm", "mou", 14), date(2026, 5, 28): ("elm", "mou", 3),
    date(2026, 9, 15): ("elm", "Ofc. Dana Park", 30), date(2026, 10, 1): ("elm", "Ofc. Dana Park", 14),
    date(2026, 10, 12): ("elm", "Ofc. Dana Park", 3),
    date(2027, 5, 1): ("elm", "Ofc. Lee Grant", 30), date(2027, 5, 17): ("elm", "Ofc. Lee Grant", 14),
    date(2027, 5, 28): ("elm", "Ofc. Lee Grant", 3),
    date(2026, 10, 15): ("oak", "Dep. Oakley", 30), date(2026, 10, 31): ("oak", "Dep. Oakley", 14),
    date(2026, 11, 11): ("oak", "Dep. Oakley", 3),
}
DUE = {"mou": "May 31, 2026", "Ofc. Dana Park": "October 15, 2026", "Ofc. Lee Grant": "May 31, 2027",
       "Dep. Oakley": "November 14, 2026"}


@pytest.fixture
def agencies(frozen_app):
    elm = new_agency(frozen_app, coordinator=ELM_COORDINATORS[0])
    add_member(frozen_app, elm, ELM_COORDINATORS[1], name="Sgt. Second", role="coordinator")
    add_member(frozen_app, elm, "gone@example.gov", name="Former Coordinator", role="coordinator", active=False)
    add_member(frozen_app, elm, "officer@example.gov", name="Ofc. Rivera")
    award = add_award(frozen_app, elm, funded=1)
    add_sro(frozen_app, award, name="Ofc. Dana Park", hire_date=date(2026, 4, 15))
    add_sro(frozen_app, award, name="Ofc. Lee Grant", role="backfill", placement_date=date(2026, 8, 31))
    oak = new_agency(frozen_app, name=OAK, coordinator="oak@example.gov", coordinator_name="Capt. Oak")
    oak_award = add_award(frozen_app, oak, number="OAK-1", award_date=date(2026, 1, 10), mou=date(2026, 2, 1))
    add_sro(frozen_app, oak_award, name="Dep. Oakley", role="backfill", placement_date=date(2026, 2, 14))
    return {"elm": elm, "oak": oak}


def remind(app, as_of: date | None = None):
    args = ["sro", "remind"] + (["--as-of", as_of.isoformat()] if as_of else [])
    result = app.test_cli_runner().invoke(args=args)
    assert result.exit_code == 0, result.output
    return result


def test_reminders_go_out_exactly_30_14_and_3_days_before_each_deadline_and_on_no_other_day(frozen_app, agencies):
    queued: dict[date, list[tuple[str, str]]] = defaultdict(list)
    seen = 0
    day = date(2026, 4, 1)
    while day <= date(2027, 6, 5):
        result = remind(frozen_app, day)
        messages = outbox(frozen_app)[seen:]
        seen += len(messages)
        expected_count = 1 if day in EXPECTED else 0
        assert result.output == f"{expected_count} reminder{'' if expected_count == 1 else 's'} queued.\n", day
        for message in messages:
            queued[day].append((message.to_address, message.subject))
        day += timedelta(days=1)

    assert sorted(queued) == sorted(EXPECTED)
    for day, (agency, what, days) in EXPECTED.items():
        name = ELM if agency == "elm" else OAK
        subject = f"{'CHP MOU' if what == 'mou' else 'SRO training'} due in {days} days ({name})"
        recipients = ELM_COORDINATORS if agency == "elm" else ["oak@example.gov"]
        assert sorted(queued[day]) == sorted((to, subject) for to in recipients), day


def test_the_reminder_says_what_is_due_when_and_links_to_the_dashboard(frozen_app, agencies):
    elm = agencies["elm"]
    remind(frozen_app, date(2026, 10, 1))
    [mail] = outbox(frozen_app, "coord@example.gov")
    assert mail.subject == f"SRO training due in 14 days ({ELM})"
    body = " ".join(mail.body_text.split())
    assert "Hello Lt. Coordinator," in body
    assert "Ofc. Dana Park (CHP award 2026-UL-WX-0042) must complete the 40-hour NASRO basic SRO course" in body
    assert "by October 15, 2026, in 14 days." in body
    assert f"https://portal.test/agencies/{elm}" in body

    remind(frozen_app, date(2026, 5, 28))
    mou = outbox(frozen_app, "second@example.gov")[-1]
    assert mou.subject == f"CHP MOU due in 3 days ({ELM})"
    body = " ".join(mou.body_text.split())
    assert "Hello Sgt. Second," in body
    assert "The Memorandum of Understanding for CHP award 2026-UL-WX-0042 is due on May 31, 2026, in 3 days." in body


def test_officers_former_coordinators_and_other_agencies_get_nothing(frozen_app, agencies):
    for day in EXPECTED:
        remind(frozen_app, day)
    addresses = {m.to_address for m in outbox(frozen_app)}
    assert addresses == {"coord@example.gov", "second@example.gov", "oak@example.gov"}
    assert all(ELM not in m.subject for m in outbox(frozen_app, "oak@example.gov"))
    assert all(OAK not in m.subject and "Oakley" not in m.body_text for m in outbox(frozen_app, "coord@example.gov"))


def test_running_twice_on_the_same_day_sends_nothing_twice(frozen_app, agencies):
    first = remind(frozen_app, date(2026, 5, 1))
    assert first.output == "1 reminder queued.\n"
    assert len(outbox(frozen_app)) == 2
    second = remind(frozen_app, date(2026, 5, 1))
    assert second.output == "0 reminders queued.\n"
    assert len(outbox(frozen_app)) == 2
    assert count(frozen_app, "chp_reminder_sent") == 1
    [sent] = rows(frozen_app, ReminderSent)
    assert (sent.subject_kind, sent.deadline, sent.days_before) == ("mou", date(2026, 5, 31), 30)


def test_without_as_of_the_day_is_todays_date_in_the_portals_time_zone(frozen_app, clock, agencies):
    clock.set(utc(2026, 5, 1, 3, 30))   # 23:30 on 30 April in New York: 31 days before the MOU
    assert remind(frozen_app).output == "0 reminders queued.\n"
    assert outbox(frozen_app) == []
    clock.set(utc(2026, 5, 1, 4, 30))   # 00:30 on 1 May in New York: 30 days before
    assert remind(frozen_app).output == "1 reminder queued.\n"
    assert {m.subject for m in outbox(frozen_app)} == {f"CHP MOU due in 30 days ({ELM})"}


def test_met_deadlines_get_no_reminder(frozen_app):
    elm = new_agency(frozen_app)
    award = add_award(frozen_app, elm, funded=1, mou=date(2026, 4, 20))
    add_sro(frozen_app, award, name="Ofc. Dana Park", hire_date=date(2026, 4, 15),
            training_completed=date(2026, 4, 30))
    add_sro(frozen_app, award, name="Ofc. Lee Grant", role="backfill", placement_date=date(2026, 8, 31),
            training_completed=date(2026, 9, 1))
    for day in EXPECTED:
        if EXPECTED[day][0] == "elm":
            assert remind(frozen_app, day).output == "0 reminders queued.\n", day
    assert outbox(frozen_app) == []
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
    assert result.output == "1 reminder queued.\n"
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
    # Reminders: 30 days before = 2026-09-18, 14 days before = 2026-10-04, 3 days before = 2026-10-15.
    elm = new_agency(frozen_app)
    award = add_award(frozen_app, elm, funded=1, mou=date(2026, 4, 20))
    sro = add_sro(frozen_app, award, name="Ofc. Dana Park", hire_date=date(2026, 4, 15),
                  training_completed=date(2026, 9, 18))
    sent_on = [day for day in (date(2026, 9, 17) + timedelta(days=n) for n in range(35))
               if remind(frozen_app, day).output != "0 reminders queued.\n"]
    assert sent_on == [date(2026, 9, 18), date(2026, 10, 4), date(2026, 10, 15)]
    subjects = {m.subject for m in outbox(frozen_app)}
    assert subjects == {"SRO travel expenses due in 30 days (Elm City Police Department)",
                        "SRO travel expenses due in 14 days (Elm City Police Department)",
                        "SRO travel expenses due in 3 days (Elm City Police Department)"}
    assert "October 18, 2026" in outbox(frozen_app)[-1].body_text

    # Once the expenses are submitted, nothing more is sent for them.
    from tests.agencies.support import SchoolResourceOfficer
    from tests.helpers import services as app_services

    with app_services(frozen_app).database.session() as db:
        row = db.get(SchoolResourceOfficer, sro)
        row.expenses_submitted = date(2026, 10, 1)
        db.add(row)
        db.commit()
    before = len(outbox(frozen_app))
    assert remind(frozen_app, date(2026, 10, 15)).output == "0 reminders queued.\n"
    assert len(outbox(frozen_app)) == before


def test_a_backfill_sro_gets_no_expense_reminder(frozen_app):
    elm = new_agency(frozen_app)
    award = add_award(frozen_app, elm, funded=1, mou=date(2026, 4, 20))
    add_sro(frozen_app, award, name="Ofc. Lee Grant", role="backfill", placement_date=date(2026, 8, 31),
            training_completed=date(2026, 9, 18))
    for day in (date(2026, 9, 18), date(2026, 10, 4), date(2026, 10, 15)):
        assert remind(frozen_app, day).output == "0 reminders queued.\n", day
