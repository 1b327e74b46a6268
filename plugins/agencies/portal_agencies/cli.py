"""`portal sro remind` (for cron) and `portal sro report ROSTER.csv`."""

from __future__ import annotations

import sys
from datetime import date
from pathlib import Path

import click
from flask import current_app
from flask.cli import with_appcontext


def _as_of(value: str | None) -> date | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise click.BadParameter("use YYYY-MM-DD, like 2026-09-30", param_hint="--as-of")


def _today() -> date:
    from portal.common.web import services
    from portal.learning.sessions import local_date
    from zoneinfo import ZoneInfo

    return local_date(services().clock.now(), ZoneInfo(current_app.config["PORTAL_TIMEZONE"]))


@click.group("sro")
def sro_group() -> None:
    """The CHP School Resource Officer training mandate."""


@sro_group.command("remind")
@click.option("--as-of", "as_of", default=None, help="Date to act as today (YYYY-MM-DD).")
@with_appcontext
def remind(as_of: str | None) -> None:
    """Mail each agency's coordinators one digest a day of what is owed: the latest of the
    30/14/3-day reminders before each deadline, then a weekly notice while it is overdue.
    Run it daily from cron; a run after missed days catches up, and nothing goes twice."""
    from portal.common.web import services
    from portal_agencies.services import send_reminders

    s = services()
    with s.database.write_session() as db:
        sent, mails = send_reminders(db, s.mailer, _as_of(as_of) or _today(), s.clock.now())
    click.echo(f"{sent} reminder{'s' if sent != 1 else ''} queued in {mails} mail{'s' if mails != 1 else ''}.")


@sro_group.command("report")
@click.argument("roster", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--as-of", "as_of", default=None, help="Date to compute against (YYYY-MM-DD); default today.")
def report(roster: Path, as_of: str | None) -> None:
    """Read ROSTER.csv and write it to standard output with each SRO's deadlines and status.
    Exits 1 when any row has an error (the other rows are still computed)."""
    from portal_agencies.roster import RosterError, report as make_report

    when = _as_of(as_of)
    if when is None:
        from zoneinfo import ZoneInfo
        import datetime as dt
        import os

        when = dt.datetime.now(ZoneInfo(os.environ.get("PORTAL_TIMEZONE", "America/New_York"))).date()
    try:
        text = roster.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        click.echo(f"{roster}: no such file", err=True)
        sys.exit(2)
    except UnicodeDecodeError:
        click.echo(f"{roster}: not UTF-8 text; save the spreadsheet as CSV UTF-8", err=True)
        sys.exit(2)
    try:
        output, had_error = make_report(text, when)
    except RosterError as error:
        click.echo(f"{roster}: {error}", err=True)
        sys.exit(2)
    click.echo(output, nl=False)
    sys.exit(1 if had_error else 0)
