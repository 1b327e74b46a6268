"""Roll-call rules: log a showing, read a trainer's log and an officer's history, export CSV,
and package a whole series as one download."""

from __future__ import annotations

import io
import re
import zipfile
from dataclasses import dataclass
from datetime import date, datetime
from functools import lru_cache

from sqlmodel import Session, select

from portal.accounts.models import User
from portal.accounts.services import normalise_email
from portal.common.csv_export import csv_text
from portal.packs.model import Pack
from portal.rollcall.models import RollCallAttendee, RollCallShowing

EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
MAX_OFFICERS = 1000
MAX_ATTENDEES = 200


class RollCallError(Exception):
    def __init__(self, message: str, field: str | None = None, status: int = 422):
        super().__init__(message)
        self.message, self.field, self.status = message, field, status


def parse_attendee_emails(text: str) -> list[str]:
    """Addresses separated by commas, spaces or lines; each must look like an address."""
    emails = []
    for raw in re.split(r"[\s,;]+", text or ""):
        if not raw:
            continue
        if not EMAIL.match(raw) or len(raw) > 254:
            raise RollCallError(f"{raw[:60]!r} is not an email address.", "attendees")
        email = normalise_email(raw)
        if email not in emails:
            emails.append(email)
    if len(emails) > MAX_ATTENDEES:
        raise RollCallError(f"List at most {MAX_ATTENDEES} addresses.", "attendees")
    return emails


UNCONFIRMED_TRAINER = ("Confirm your email address before you log a showing: use the link we mailed you. "
                      "A showing goes into the training history of the officers you list.")


def log_showing(db: Session, trainer: User, pack: Pack, episode_id: str, *, shown_on: date, today: date,
                agency: str, officers_present: int, attendee_emails: list[str], notes: str,
                now: datetime) -> RollCallShowing:
    """Record a showing. Listed addresses that belong to portal accounts link the showing
    to those officers' history; others are ignored without saying which, so the form
    never tells anyone whether an address has an account. Only a confirmed account may log:
    a showing goes into other people's training history."""
    if not trainer.is_verified:
        raise RollCallError(UNCONFIRMED_TRAINER, status=403)
    if pack.kind != "video-series":
        raise RollCallError("Only video series are shown at roll call.", status=404)
    episode = pack.lesson(episode_id)
    if episode is None:
        raise RollCallError("Choose an episode of this series.", "episode")
    if shown_on > today:
        raise RollCallError("The date of a showing cannot be in the future.", "shown_on")
    if shown_on.year < 2000:
        raise RollCallError("Enter the date of the showing.", "shown_on")
    agency = " ".join((agency or "").split())
    if not agency or len(agency) > 160:
        raise RollCallError("Enter the agency (at most 160 characters).", "agency")
    if not 1 <= officers_present <= MAX_OFFICERS:
        raise RollCallError(f"Officers present must be between 1 and {MAX_OFFICERS}.", "officers_present")
    if len(attendee_emails) > officers_present:
        raise RollCallError("You listed more accounts than officers present.", "attendees")
    showing = RollCallShowing(trainer_id=trainer.id, pack_id=pack.id, pack_version=pack.version,
                              episode_id=episode.id, series_title=pack.title, episode_title=episode.title,
                              shown_on=shown_on, agency=agency, agency_key=agency.casefold(),
                              officers_present=officers_present, addresses_listed=len(attendee_emails),
                              notes=(notes or "").strip()[:1000], created_at=now)
    db.add(showing)
    db.flush()
    if attendee_emails:
        user_ids = db.exec(select(User.id).where(User.email.in_(attendee_emails), User.is_active)).all()
        for user_id in sorted(set(user_ids)):
            db.add(RollCallAttendee(showing_id=showing.id, user_id=user_id))
    db.commit()
    return showing


@dataclass
class LogRow:
    showing: RollCallShowing

    @property
    def addresses_listed(self) -> int:
        return self.showing.addresses_listed


def trainer_log(db: Session, trainer_id: int, *, agency: str = "", start: date | None = None,
                end: date | None = None) -> list[LogRow]:
    """A trainer's showings, newest first."""
    statement = select(RollCallShowing).where(RollCallShowing.trainer_id == trainer_id)
    if agency:
        statement = statement.where(RollCallShowing.agency_key == " ".join(agency.split()).casefold())
    if start:
        statement = statement.where(RollCallShowing.shown_on >= start)
    if end:
        statement = statement.where(RollCallShowing.shown_on <= end)
    rows = db.exec(statement.order_by(RollCallShowing.shown_on.desc(), RollCallShowing.id.desc())).all()
    return [LogRow(showing) for showing in rows]


def delete_showing(db: Session, trainer_id: int, showing_id: int) -> None:
    showing = db.get(RollCallShowing, showing_id)
    if showing is None or showing.trainer_id != trainer_id:
        raise RollCallError("There is no such showing.", status=404)
    db.delete(showing)
    db.commit()


def attended(db: Session, user_id: int) -> list[tuple[RollCallShowing, str]]:
    """Showings an officer was recorded at, each with the name of the trainer who logged it,
    for their training history."""
    return [(showing, trainer_name) for showing, trainer_name in db.exec(
        select(RollCallShowing, User.name)
        .join(RollCallAttendee, RollCallAttendee.showing_id == RollCallShowing.id)
        .join(User, User.id == RollCallShowing.trainer_id)
        .where(RollCallAttendee.user_id == user_id)
        .order_by(RollCallShowing.shown_on.desc(), RollCallShowing.id.desc())).all()]


CSV_COLUMNS = ["date", "agency", "series", "episode", "officers_present", "portal_accounts_listed",
               "trainer", "notes", "logged_at"]


def log_as_csv(rows: list[LogRow], trainer: User) -> str:
    return csv_text(CSV_COLUMNS, [
        (s.shown_on.isoformat(), s.agency, s.series_title, s.episode_title, s.officers_present,
         row.addresses_listed, trainer.name, s.notes, s.created_at.strftime("%Y-%m-%dT%H:%M:%SZ"))
        for row in rows for s in (row.showing,)])


@lru_cache(maxsize=16)
def series_archive(pack: Pack, light: bool) -> bytes:
    """Every episode (video, captions, transcript) and the downloads as one ZIP, stored
    uncompressed: the videos are compressed already. Built once per pack version."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_STORED) as archive:
        for number, episode in enumerate(pack.lessons, start=1):
            video = episode.video
            if video is None or video.file is None:
                continue
            chosen = video.light if light and video.light else video.file
            files = [chosen, video.captions, video.transcript]
            for name in filter(None, files):
                info = zipfile.ZipInfo(f"{pack.id}/{number:02d}-{name.rsplit('/', 1)[-1]}", (2020, 1, 1, 0, 0, 0))
                archive.writestr(info, (pack.root / name).read_bytes())
        for download in pack.downloads:
            info = zipfile.ZipInfo(f"{pack.id}/downloads/{download.file.rsplit('/', 1)[-1]}", (2020, 1, 1, 0, 0, 0))
            archive.writestr(info, (pack.root / download.file).read_bytes())
    return buffer.getvalue()
