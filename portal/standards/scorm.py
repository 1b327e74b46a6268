"""SCORM 1.2 runtime on the portal's side: a launch (one session per learner, SCO and attempt),
the data a SCO starts with, and what an LMSCommit / LMSFinish may store. The API adapter itself
(window.API, with the whole 1.2 data model and its error codes) runs in the browser on the content
origin: static/scorm12_api.js. No Flask here."""

from __future__ import annotations

import json
import re
import secrets
import uuid
from datetime import datetime

from sqlmodel import Session, select

from portal.standards import lrs
from portal.standards.importer import structure_of
from portal.standards.models import StdPackage, StdRegistration, StdRegistrationAu, StdSession

STATUSES = ("passed", "completed", "failed", "incomplete", "browsed", "not attempted")
EXITS = ("time-out", "suspend", "logout", "")
_TIMESPAN = re.compile(r"^(\d{2,4}):([0-5]\d):([0-5]\d)(\.\d{1,2})?$")
_DECIMAL = re.compile(r"^-?\d+(\.\d+)?$")
MAX_INTERACTIONS = 1000


class ScormRefused(ValueError):
    """A commit the portal will not store; the message names the element."""


def seconds_of(timespan: str) -> float:
    match = _TIMESPAN.match(timespan or "")
    if not match:
        raise ScormRefused(f"{timespan!r} is not a CMITimespan (HHHH:MM:SS.SS)")
    hours, minutes, seconds, fraction = match.groups()
    return int(hours) * 3600 + int(minutes) * 60 + int(seconds) + float(fraction or 0)


def timespan_of(seconds: float) -> str:
    whole = int(seconds)
    return f"{whole // 3600:04d}:{whole % 3600 // 60:02d}:{whole % 60:02d}.{int((seconds - whole) * 100):02d}"


def _key(package: StdPackage, registration: StdRegistration, index: int) -> lrs.DocumentKey:
    return lrs.DocumentKey("scorm", f"scorm:{package.uid}:{index}", "", registration.code, "cmi")


def stored(db: Session, package: StdPackage, registration: StdRegistration, index: int) -> dict:
    row = lrs.get_document(db, _key(package, registration, index))
    return json.loads(row.body) if row else {}


def launch(db: Session, package: StdPackage, registration: StdRegistration, index: int, mode: str,
           now: datetime, content_base: str) -> tuple[StdSession, str]:
    """Start a session for one SCO; an earlier session left open is closed as abandoned."""
    if not 0 <= index < len(structure_of(package)["aus"]):
        raise ValueError("no such SCO")
    for open_session in db.exec(select(StdSession).where(StdSession.registration_id == registration.id,
                                                         StdSession.terminated == False,  # noqa: E712
                                                         StdSession.abandoned == False)).all():  # noqa: E712
        open_session.abandoned = True
        db.add(open_session)
    session = StdSession(code=str(uuid.uuid4()), registration_id=registration.id, au_index=index,
                         launch_mode={"Normal": "normal", "Browse": "browse", "Review": "review"}[mode],
                         content_key=secrets.token_urlsafe(24), fetch_key_hash=secrets.token_hex(32),
                         context_template="{}", created_at=now, last_request_at=now)
    db.add(session)
    db.flush()
    return session, f"{content_base}/std/scorm/{session.content_key}/player"


def initial_data(db: Session, session: StdSession, student_name: str) -> dict:
    """Everything cmi.* starts with for this session (SCORM 1.2 RTE 3.4)."""
    registration = db.get(StdRegistration, session.registration_id)
    package = db.get(StdPackage, registration.package_id)
    sco = structure_of(package)["aus"][session.au_index]
    data = stored(db, package, registration, session.au_index)
    entry = "ab-initio" if not data else ("resume" if data.get("exit") == "suspend" else "")
    mastery = sco.get("mastery_score")
    return {
        "student_id": str(registration.user_id), "student_name": student_name,
        "lesson_location": data.get("lesson_location", ""),
        "credit": "credit" if session.launch_mode == "normal" else "no-credit",
        "lesson_status": data.get("lesson_status", "not attempted"), "entry": entry,
        "score_raw": data.get("score_raw", ""), "score_min": data.get("score_min", ""),
        "score_max": data.get("score_max", ""),
        "total_time": timespan_of(data.get("total_seconds", 0)), "lesson_mode": session.launch_mode,
        "suspend_data": data.get("suspend_data", ""), "launch_data": sco.get("launch_data", ""),
        "comments": data.get("comments", ""), "comments_from_lms": "",
        "objectives": data.get("objectives", []),
        "mastery_score": "" if mastery is None else f"{mastery:g}",
        "max_time_allowed": sco.get("max_time_allowed", ""), "time_limit_action": sco.get("time_limit_action", ""),
        "student_preference": data.get("student_preference", {"audio": "0", "language": "", "speed": "0",
                                                              "text": "0"}),
        "interaction_count": len(data.get("interactions", [])),
    }


def _text(values: dict, key: str, limit: int) -> str | None:
    if key not in values:
        return None
    value = values[key]
    if not isinstance(value, str) or len(value) > limit:
        raise ScormRefused(f"cmi.{key.replace('_', '.', 1) if key.startswith('score') else key} is too long")
    return value


def commit(db: Session, session: StdSession, values: dict, finish: bool, now: datetime) -> None:
    """Store what LMSCommit / LMSFinish sent. The adapter has checked types and access already;
    the server checks again what it keeps, so a hand-made request cannot store anything else."""
    if session.terminated or session.abandoned:
        raise PermissionError("this session has ended")
    registration = db.get(StdRegistration, session.registration_id)
    package = db.get(StdPackage, registration.package_id)
    sco = structure_of(package)["aus"][session.au_index]
    data = stored(db, package, registration, session.au_index)
    review = session.launch_mode != "normal"
    for key, limit in (("lesson_location", 255), ("suspend_data", 4096), ("comments", 4096)):
        value = _text(values, key, limit)
        if value is not None:
            data[key] = value
    status = values.get("lesson_status")
    if status is not None:
        if status not in STATUSES[:-1]:
            raise ScormRefused(f"cmi.core.lesson_status {status!r} is not one the SCO may set")
        if not review:
            data["lesson_status"] = status
    for part in ("raw", "min", "max"):
        value = values.get(f"score_{part}")
        if value is not None:
            if value != "" and (not isinstance(value, str) or not _DECIMAL.match(value)
                                or not 0 <= float(value) <= 100):
                raise ScormRefused(f"cmi.core.score.{part} {value!r} is not a number from 0 to 100")
            if not review:
                data[f"score_{part}"] = value
    if "exit" in values:
        if values["exit"] not in EXITS:
            raise ScormRefused(f"cmi.core.exit {values['exit']!r} is not a vocabulary value")
        data["exit"] = values["exit"]
    if "student_preference" in values and isinstance(values["student_preference"], dict):
        data["student_preference"] = {k: str(v)[:255] for k, v in values["student_preference"].items()
                                      if k in ("audio", "language", "speed", "text")}
    if isinstance(values.get("objectives"), list):
        data["objectives"] = [{k: str(o.get(k, ""))[:255] for k in ("id", "score_raw", "score_min", "score_max",
                                                                     "status")}
                              for o in values["objectives"][:100] if isinstance(o, dict)]
    if isinstance(values.get("interactions"), list):
        kept = data.setdefault("interactions", [])
        for interaction in values["interactions"]:
            if isinstance(interaction, dict) and len(kept) < MAX_INTERACTIONS:
                kept.append({k: str(v)[:4096] for k, v in interaction.items()})
    session_seconds = seconds_of(values["session_time"]) if values.get("session_time") else 0.0
    if finish:
        data["total_seconds"] = data.get("total_seconds", 0) + session_seconds
        mastery = sco.get("mastery_score")
        if not review and mastery is not None and data.get("score_raw", "") != "":
            # SCORM 1.2 (RTE 3.4.4): in credit mode, with a mastery score and a raw score, the LMS
            # decides passed or failed by comparing them, whatever the SCO set.
            data["lesson_status"] = "passed" if float(data["score_raw"]) >= mastery else "failed"
        if data.get("lesson_status", "not attempted") == "not attempted" and not review:
            data["lesson_status"] = "incomplete"
        session.terminated = True
    session.last_request_at = now
    db.add(session)
    lrs.put_document(db, _key(package, registration, session.au_index), json.dumps(data).encode(),
                     "application/json", now)
    _credit(db, registration, session.au_index, data, session_seconds if finish else 0)


def _credit(db: Session, registration: StdRegistration, index: int, data: dict, seconds: float) -> None:
    row = db.exec(select(StdRegistrationAu).where(StdRegistrationAu.registration_id == registration.id,
                                                  StdRegistrationAu.au_index == index)).one()
    status = data.get("lesson_status")
    row.completed = row.completed or status in ("completed", "passed")
    row.passed = row.passed or status == "passed"
    row.satisfied = row.satisfied or status in ("completed", "passed")
    raw, low, high = data.get("score_raw", ""), data.get("score_min", ""), data.get("score_max", "")
    if raw != "":
        low_value, high_value = float(low or 0), float(high or 100)
        if high_value > low_value:
            row.score_scaled = max(0.0, min(1.0, (float(raw) - low_value) / (high_value - low_value)))
    row.seconds += int(seconds)
    db.add(row)
