"""Where each enrollment stands, for "My courses" and Resume, in a fixed number of queries."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlmodel import Session, func, select

from portal.certificates.models import Certificate
from portal.learning.models import PRE, Attempt, Enrollment, LessonProgress
from portal.learning.sessions import session_year
from portal.packs.model import Pack

STATE_LABELS = {
    "pre_test_due": "Pre-test due",
    "in_progress": "In progress",
    "post_test_due": "Post-test due",
    "passed": "Passed: attest to the honor code",
    "certificate_ready": "Certificate ready",
    "expired": "Expired",
    "unavailable": "Course no longer offered",
}


@dataclass
class EnrollmentStatus:
    enrollment: Enrollment
    pack: Pack | None
    state: str
    lessons_done: int
    lessons_total: int
    certificate: Certificate | None
    seconds: int = 0  # time on the lessons, as the server measured it

    @property
    def time_on_lessons(self) -> str:
        return hours_and_minutes(self.seconds)

    @property
    def label(self) -> str:
        if self.state == "in_progress":
            return f"In progress: {self.lessons_done} of {self.lessons_total} lessons"
        return STATE_LABELS[self.state]


def hours_and_minutes(seconds: int) -> str:
    hours, minutes = divmod(seconds // 60, 60)
    return f"{hours} h {minutes} min" if hours else f"{minutes} min"


def seconds_on_lessons(db: Session, enrollment_ids: list[int]) -> dict[int, int]:
    """The time the server measured on each enrollment's lessons, in seconds."""
    if not enrollment_ids:
        return {}
    rows = db.exec(select(LessonProgress.enrollment_id, func.sum(LessonProgress.seconds_spent))
                   .where(LessonProgress.enrollment_id.in_(enrollment_ids))
                   .group_by(LessonProgress.enrollment_id)).all()
    return {enrollment_id: int(spent or 0) for enrollment_id, spent in rows}


def describe_enrollments(db: Session, enrollments: list[Enrollment], packs: dict[str, Pack], now: datetime,
                         tz: ZoneInfo) -> list[EnrollmentStatus]:
    ids = [e.id for e in enrollments]
    if not ids:
        return []
    rows = db.exec(select(LessonProgress.enrollment_id, func.count(LessonProgress.completed_at),
                          func.sum(LessonProgress.seconds_spent))
                   .where(LessonProgress.enrollment_id.in_(ids)).group_by(LessonProgress.enrollment_id)).all()
    done = {enrollment_id: completed for enrollment_id, completed, _ in rows}
    seconds = {enrollment_id: int(spent or 0) for enrollment_id, _, spent in rows}
    pre_done = set(db.exec(select(Attempt.enrollment_id).where(
        Attempt.enrollment_id.in_(ids), Attempt.kind == PRE, Attempt.submitted_at.is_not(None))).all())
    certificates = {c.enrollment_id: c for c in db.exec(select(Certificate).where(
        Certificate.enrollment_id.in_(ids))).all()}
    year = session_year(now, tz)
    statuses = []
    for enrollment in enrollments:
        pack = packs.get(enrollment.pack_id)
        total = len(pack.lessons) if pack else 0
        completed = done.get(enrollment.id, 0)
        certificate = certificates.get(enrollment.id)
        if certificate:
            state = "certificate_ready"
        elif enrollment.passed_at is not None:
            state = "passed"
        elif pack is None:
            state = "unavailable"
        elif enrollment.session_year != year:
            state = "expired"
        elif enrollment.id not in pre_done:
            state = "pre_test_due"
        elif completed < total:
            state = "in_progress"
        else:
            state = "post_test_due"
        statuses.append(EnrollmentStatus(enrollment, pack, state, completed, total, certificate,
                                         seconds.get(enrollment.id, 0)))
    return statuses


def enrollments_of(db: Session, user_id: int) -> list[Enrollment]:
    return list(db.exec(select(Enrollment).where(Enrollment.user_id == user_id)
                        .order_by(Enrollment.session_year.desc(), Enrollment.enrolled_at.desc())).all())
