"""Annual course sessions: January 1 to December 31 in the portal's time zone."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo


def session_year(now: datetime, tz: ZoneInfo) -> int:
    return now.astimezone(tz).year


def local_date(moment: datetime, tz: ZoneInfo) -> date:
    return moment.astimezone(tz).date()


def session_label(year: int) -> str:
    return f"{year} session: January 1 \u2013 December 31, {year}"
