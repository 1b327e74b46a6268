"""The learner's journey as rules: enroll in the current session, take the pre-test,
complete lessons, pass the post-test, attest to the honor code.

No Flask here: functions take a session, the pack, the time and the time zone.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy import bindparam
from sqlmodel import Session, func, select, update

from portal.accounts.models import User
from portal.learning.honor_code import HONOR_CODE_VERSION
from portal.learning.models import (POST, PRE, Attempt, AttemptItem, Attestation, Enrollment, ItemStat,
                                    LessonProgress)
from portal.learning.sessions import local_date, session_year
from portal.packs.model import Lesson, Pack, Question

_rng = random.SystemRandom()


class LearningError(Exception):
    """A step the rules do not allow now; `message` is safe to show."""

    def __init__(self, message: str, status: int = 409):
        super().__init__(message)
        self.message, self.status = message, status


# -- enrollment -------------------------------------------------------------

def enroll_in_current_session(db: Session, user: User, pack: Pack, now: datetime, tz: ZoneInfo) -> Enrollment:
    """Put the learner in this year's session; enrolling twice changes nothing."""
    if not user.is_verified:
        raise LearningError("Confirm your email address before you enroll: use the link we mailed you.", 403)
    if pack.kind != "course":
        raise LearningError("This is not an online course, so there is nothing to enroll in.", 400)
    year = session_year(now, tz)
    existing = find_enrollment(db, user.id, pack.id, year)
    if existing:
        return existing
    enrollment = Enrollment(user_id=user.id, pack_id=pack.id, pack_version=pack.version, session_year=year,
                            enrolled_at=now, last_activity_at=now)
    db.add(enrollment)
    try:
        db.commit()
    except IntegrityError:  # the same learner enrolled a moment ago in another request
        db.rollback()
        return find_enrollment(db, user.id, pack.id, year)
    return enrollment


# The busiest pages' statements are built once: building a select costs more than running it.
_ENROLLMENT = select(Enrollment).where(Enrollment.user_id == bindparam("user_id"),
                                       Enrollment.pack_id == bindparam("pack_id"),
                                       Enrollment.session_year == bindparam("year"))
_PROGRESS = select(LessonProgress.lesson_id, LessonProgress.video_position, LessonProgress.completed_at) \
    .where(LessonProgress.enrollment_id == bindparam("enrollment_id"))
_PRE_TEST_SUBMITTED = select(func.count()).select_from(Attempt).where(
    Attempt.enrollment_id == bindparam("enrollment_id"), Attempt.kind == PRE, Attempt.submitted_at.is_not(None))


def find_enrollment(db: Session, user_id: int, pack_id: str, year: int) -> Enrollment | None:
    return db.exec(_ENROLLMENT, params={"user_id": user_id, "pack_id": pack_id, "year": year}).first()


def enrollment_for_study(db: Session, user_id: int, pack_id: str, now: datetime, tz: ZoneInfo) -> Enrollment | None:
    """This session's enrollment, else the latest completed one (kept for review), else the
    latest expired one (so the learner is told the session ended)."""
    current = find_enrollment(db, user_id, pack_id, session_year(now, tz))
    if current:
        return current
    return db.exec(select(Enrollment).where(Enrollment.user_id == user_id, Enrollment.pack_id == pack_id)
                   .order_by(Enrollment.passed_at.is_(None), Enrollment.session_year.desc())).first()


def pending_certificate_enrollments(db: Session, user_id: int, pack_id: str) -> list[Enrollment]:
    """Passed enrollments whose certificate is not issued yet (the honor code is still to do),
    latest session first. Enrolling in a new session never hides them."""
    from portal.certificates.models import Certificate

    issued = select(Certificate.enrollment_id).where(Certificate.user_id == user_id)
    return list(db.exec(select(Enrollment).where(Enrollment.user_id == user_id, Enrollment.pack_id == pack_id,
                                                 Enrollment.passed_at.is_not(None), Enrollment.id.not_in(issued))
                        .order_by(Enrollment.session_year.desc())).all())


def completed_enrollment(db: Session, user_id: int, pack_id: str) -> Enrollment | None:
    """The learner's latest passed enrollment: its lessons stay open for review for good."""
    return db.exec(select(Enrollment).where(Enrollment.user_id == user_id, Enrollment.pack_id == pack_id,
                                            Enrollment.passed_at.is_not(None))
                   .order_by(Enrollment.session_year.desc())).first()


def is_open(enrollment: Enrollment, now: datetime, tz: ZoneInfo) -> bool:
    """Work counts only inside the enrollment's own session year."""
    return enrollment.session_year == session_year(now, tz)


def require_open(enrollment: Enrollment, now: datetime, tz: ZoneInfo) -> None:
    if not is_open(enrollment, now, tz):
        raise LearningError(f"The {enrollment.session_year} session of this course has ended. Enroll in the "
                            f"current session to start again.", 409)


# -- progress ---------------------------------------------------------------

def completed_lesson_ids(db: Session, enrollment_id: int) -> set[str]:
    return set(db.exec(select(LessonProgress.lesson_id).where(LessonProgress.enrollment_id == enrollment_id,
                                                              LessonProgress.completed_at.is_not(None))).all())


_PROGRESS_AND_TIME = select(LessonProgress.lesson_id, LessonProgress.video_position, LessonProgress.completed_at,
                           LessonProgress.seconds_spent) \
    .where(LessonProgress.enrollment_id == bindparam("enrollment_id"))


def lesson_progress_with_time(db: Session, enrollment_id: int) -> tuple[set[str], dict[str, float], dict[str, int]]:
    """Completed lesson ids, video positions and seconds spent per lesson, in one query."""
    rows = db.exec(_PROGRESS_AND_TIME, params={"enrollment_id": enrollment_id}).all()
    return ({lesson_id for lesson_id, _, completed, _ in rows if completed is not None},
            {lesson_id: position for lesson_id, position, _, _ in rows},
            {lesson_id: seconds or 0 for lesson_id, _, _, seconds in rows})


def lesson_progress_of(db: Session, enrollment_id: int) -> tuple[set[str], dict[str, float]]:
    """Completed lesson ids and saved video positions in one query (the lesson page needs both)."""
    rows = db.exec(_PROGRESS, params={"enrollment_id": enrollment_id}).all()
    return {lesson_id for lesson_id, _, completed in rows if completed is not None}, \
        {lesson_id: position for lesson_id, position, _ in rows}


def _progress_row(db: Session, enrollment: Enrollment, pack: Pack, lesson_id: str, now: datetime) -> LessonProgress:
    row = db.exec(select(LessonProgress).where(LessonProgress.enrollment_id == enrollment.id,
                                               LessonProgress.lesson_id == lesson_id)).first()
    if row is None:
        row = LessonProgress(enrollment_id=enrollment.id, lesson_id=lesson_id, pack_version=pack.version,
                             updated_at=now)
    return row


def _save_progress(db: Session, row: LessonProgress) -> None:
    db.add(row)
    try:
        db.commit()
    except IntegrityError:  # two tabs saved the first progress of a lesson at once; the other won
        db.rollback()


def credit_lesson_time(row: LessonProgress, lesson: Lesson, shown_at: datetime | None, now: datetime) -> None:
    """Add the time since the page was shown (or since the last credit on it) to the lesson.
    One stretch without a heartbeat counts at most twice the lesson's estimate (a reader without
    JavaScript is credited on completing), and the lesson's total at most three times it plus its
    minimum: an open tab left overnight is not study."""
    if shown_at is None:
        return
    start = max(shown_at, row.counted_until) if row.counted_until else shown_at
    if now <= start:
        return
    stretch = min((now - start).total_seconds(), 60 * max(10, 2 * (lesson.minutes or 0)))
    ceiling = 60 * (3 * (lesson.minutes or 0) + (lesson.min_minutes or 0) + 10)
    row.seconds_spent = int(min((row.seconds_spent or 0) + stretch, max(ceiling, row.seconds_spent or 0)))
    row.counted_until = now


def record_lesson_time(db: Session, enrollment: Enrollment, pack: Pack, lesson_id: str, shown_at: datetime | None,
                       now: datetime, tz: ZoneInfo) -> int:
    """The lesson page's heartbeat: credit the time on it; returns the lesson's seconds so far."""
    require_open(enrollment, now, tz)
    lesson = pack.lesson(lesson_id)
    if lesson is None:
        raise LearningError("There is no such lesson in this course.", 404)
    row = _progress_row(db, enrollment, pack, lesson_id, now)
    credit_lesson_time(row, lesson, shown_at, now)
    row.updated_at = now
    _save_progress(db, row)
    return row.seconds_spent


def complete_lesson(db: Session, enrollment: Enrollment, pack: Pack, lesson_id: str, now: datetime,
                    tz: ZoneInfo, shown_at: datetime | None = None) -> None:
    require_open(enrollment, now, tz)
    require_pre_test_done(db, enrollment)
    lesson = pack.lesson(lesson_id)
    if lesson is None:
        raise LearningError("There is no such lesson in this course.", 404)
    row = _progress_row(db, enrollment, pack, lesson_id, now)
    credit_lesson_time(row, lesson, shown_at, now)
    if row.completed_at is None and lesson.min_minutes and (row.seconds_spent or 0) < 60 * lesson.min_minutes:
        spent = (row.seconds_spent or 0) // 60
        row.updated_at = now
        _save_progress(db, row)  # the time so far is kept
        raise LearningError(f"This course asks for at least {lesson.min_minutes} minutes on this lesson before it "
                            f"can be marked complete; so far you have spent {spent} minute"
                            f"{'' if spent == 1 else 's'} on it.", 409)
    if row.completed_at is None:
        row.completed_at = now
    row.updated_at, row.pack_version = now, pack.version
    # Resume returns to the lesson the learner moves on to, not the one just finished.
    ids = [lesson.id for lesson in pack.lessons]
    following = ids[ids.index(lesson_id) + 1] if ids.index(lesson_id) + 1 < len(ids) else lesson_id
    enrollment.last_lesson_id, enrollment.last_activity_at = following, now
    db.add(enrollment)
    _save_progress(db, row)


def save_video_position(db: Session, enrollment: Enrollment, pack: Pack, lesson_id: str, seconds: float,
                        now: datetime) -> None:
    lesson = pack.lesson(lesson_id)
    if lesson is None or lesson.video is None:
        raise LearningError("This lesson has no video.", 404)
    limit = float(lesson.video.duration_seconds or 24 * 3600)
    if not 0 <= seconds <= limit + 1:
        raise LearningError("That video position is outside the video.", 400)
    row = _progress_row(db, enrollment, pack, lesson_id, now)
    row.video_position, row.updated_at = round(seconds, 1), now
    enrollment.last_lesson_id, enrollment.last_activity_at = lesson_id, now
    db.add(enrollment)
    _save_progress(db, row)


# -- assessments ------------------------------------------------------------

def submitted_attempts(db: Session, enrollment_id: int, kind: str) -> list[Attempt]:
    return list(db.exec(select(Attempt).where(Attempt.enrollment_id == enrollment_id, Attempt.kind == kind,
                                              Attempt.submitted_at.is_not(None)).order_by(Attempt.number)).all())


def pre_test_done(db: Session, enrollment_id: int) -> bool:
    return bool(db.exec(_PRE_TEST_SUBMITTED, params={"enrollment_id": enrollment_id}).one())


def require_pre_test_done(db: Session, enrollment: Enrollment) -> None:
    if not pre_test_done(db, enrollment.id):
        raise LearningError("Take the pre-test first: it unlocks the lessons.", 409)


def open_attempt(db: Session, enrollment: Enrollment, pack: Pack, kind: str, now: datetime, tz: ZoneInfo,
                 rng: random.Random = _rng) -> Attempt:
    """The learner's unsubmitted attempt of this kind, or a new one with a fresh draw."""
    require_open(enrollment, now, tz)
    if kind == PRE and pre_test_done(db, enrollment.id):
        raise LearningError("You have already submitted the pre-test.", 409)
    if kind == POST:
        require_pre_test_done(db, enrollment)
        if enrollment.passed_at is not None:
            raise LearningError("You have already passed the post-test.", 409)
        done = completed_lesson_ids(db, enrollment.id)
        if any(lesson.id not in done for lesson in pack.lessons):
            raise LearningError("Finish every lesson first: that unlocks the post-test.", 409)
    existing = db.exec(select(Attempt).where(Attempt.enrollment_id == enrollment.id, Attempt.kind == kind,
                                             Attempt.submitted_at.is_(None))).first()
    if existing and existing.pack_version == pack.version:
        return existing
    if existing:  # the pack changed under an unfinished attempt: keep it over what still exists
        if carry_attempt_to_version(db, existing, pack, kind):
            db.commit()
            return existing
        db.delete(existing)  # none of its questions remain; the start page said so
        db.flush()
    if kind == POST:
        require_retake_allowed(db, enrollment, pack, now, tz)
    pool = list(pack.questions_for(kind))
    # Each attempt draws from the bank; a bank larger than the test gives each a different set.
    drawn = rng.sample(pool, min(pack.pre_draw if kind == PRE else pack.post_draw, len(pool)))
    if not pack.shuffle_questions:
        drawn.sort(key=pool.index)
    number = (db.exec(select(func.max(Attempt.number)).where(Attempt.enrollment_id == enrollment.id,
                                                             Attempt.kind == kind)).one() or 0) + 1
    attempt = Attempt(enrollment_id=enrollment.id, pack_id=pack.id, pack_version=pack.version, kind=kind,
                      number=number, started_at=now, question_count=len(drawn))
    db.add(attempt)
    try:
        db.flush()
    except IntegrityError:  # another tab opened the same attempt number; use that one
        db.rollback()
        return open_attempt(db, enrollment, pack, kind, now, tz, rng)
    for position, question in enumerate(drawn):
        order = [c.id for c in question.choices]
        if pack.shuffle_choices and question.type != "true_false":
            rng.shuffle(order)
        db.add(AttemptItem(attempt_id=attempt.id, position=position, question_id=question.id,
                           choice_order=",".join(order)))
    db.commit()
    return attempt


def carry_attempt_to_version(db: Session, attempt: Attempt, pack: Pack, kind: str) -> bool:
    """Move an unsubmitted attempt onto the pack's new version: questions the update removed
    leave it, choices removed leave each question's order (new ones join at the end), and the
    answers saved so far stay. It is then scored over the questions that still exist. False
    when none remain."""
    by_id = {q.id: q for q in pack.questions_for(kind)}
    kept = 0
    for item in attempt_items(db, attempt.id):
        question = by_id.get(item.question_id)
        if question is None:
            db.delete(item)
            continue
        ids = [c.id for c in question.choices]
        order = [cid for cid in item.choice_order.split(",") if cid in ids]
        order += [cid for cid in ids if cid not in order]
        chosen = [cid for cid in (item.chosen or "").split(",") if cid in ids]
        item.choice_order, item.chosen, item.position = ",".join(order), ",".join(chosen) or None, kept
        db.add(item)
        kept += 1
    if not kept:
        return False
    attempt.pack_version, attempt.question_count = pack.version, kept
    db.add(attempt)
    db.flush()
    return True


def stale_attempt_questions(db: Session, attempt: Attempt, pack: Pack, kind: str) -> int:
    """How many of an open attempt's questions the pack's update removed (for the start page)."""
    present = {q.id for q in pack.questions_for(kind)}
    return sum(item.question_id not in present for item in attempt_items(db, attempt.id))


def retake_wait(db: Session, enrollment: Enrollment, pack: Pack, now: datetime, tz: ZoneInfo) -> str | None:
    """Why a new post-test attempt cannot start yet, or None. A failed attempt is followed by
    the pack's cooldown, and only so many attempts may be made in one local day: guessing
    through the bank by script takes days, not seconds."""
    tries = [a for a in submitted_attempts(db, enrollment.id, POST)]
    if not tries:
        return None
    last = tries[-1]
    if not last.passed and pack.post_cooldown_minutes:
        ready = last.submitted_at + timedelta(minutes=pack.post_cooldown_minutes)
        if now < ready:
            return (f"You can start the post-test again at {ready.astimezone(tz):%H:%M} "
                    f"({pack.post_cooldown_minutes} minutes after a try that did not pass). "
                    f"Use the time to review the lessons.")
    today = local_date(now, tz)
    if pack.post_attempts_per_day and sum(local_date(a.submitted_at, tz) == today for a in tries) \
            >= pack.post_attempts_per_day:
        return (f"You have made {pack.post_attempts_per_day} post-test attempts today, the most this course "
                f"allows in a day. You can try again tomorrow.")
    return None


def require_retake_allowed(db: Session, enrollment: Enrollment, pack: Pack, now: datetime, tz: ZoneInfo) -> None:
    reason = retake_wait(db, enrollment, pack, now, tz)
    if reason:
        raise LearningError(reason, 429)


@dataclass(frozen=True)
class ShownQuestion:
    """A question as the learner sees it: text and choices, never which are right."""

    item_id: int
    number: int
    question_id: str
    type: str
    text: str
    choices: tuple[tuple[str, str], ...]  # (position, text): positions, never the pack's choice ids
    chosen: frozenset[str]  # positions
    correct: bool | None


def attempt_items(db: Session, attempt_id: int) -> list[AttemptItem]:
    return list(db.exec(select(AttemptItem).where(AttemptItem.attempt_id == attempt_id)
                        .order_by(AttemptItem.position)).all())


def shown_questions(db: Session, pack: Pack, attempt: Attempt) -> list[ShownQuestion]:
    by_id = {q.id: q for q in pack.questions}
    shown = []
    for item in attempt_items(db, attempt.id):
        question = by_id.get(item.question_id)
        if question is None:
            continue
        texts = {c.id: c.text for c in question.choices}
        order = [cid for cid in item.choice_order.split(",") if cid in texts]
        picked = set((item.chosen or "").split(",")) - {""}
        shown.append(ShownQuestion(item.id, item.position + 1, question.id, question.type, question.text,
                                   tuple((str(i), texts[cid]) for i, cid in enumerate(order, start=1)),
                                   frozenset(str(i) for i, cid in enumerate(order, start=1) if cid in picked),
                                   item.correct))
    return shown


def choices_from_positions(item: AttemptItem, positions: list[str]) -> list[str]:
    """Map the form's values (1-based positions in this attempt's shuffled order) back to
    choice ids. The page never carries the pack's own choice ids, which could hint at the key."""
    order = item.choice_order.split(",")
    chosen = []
    for value in positions[:20]:
        if value.isascii() and value.isdigit() and 1 <= int(value) <= len(order) and order[int(value) - 1] not in chosen:
            chosen.append(order[int(value) - 1])
    return chosen


def save_draft(db: Session, enrollment: Enrollment, attempt_id: int, answers: dict[str, list[str]], now: datetime,
               tz: ZoneInfo) -> Attempt:
    """Keep the answers of an unsubmitted attempt as they stand (choice ids per question id), so
    leaving, logging out, a time-out or another device loses nothing. Not scored until submitted."""
    attempt = db.get(Attempt, attempt_id)
    if attempt is None or attempt.enrollment_id != enrollment.id:
        raise LearningError("There is no such test.", 404)
    if attempt.submitted_at is not None:
        raise LearningError("This test was already submitted.", 409)
    require_open(enrollment, now, tz)
    for item in attempt_items(db, attempt.id):
        if item.question_id in answers:
            valid = set(item.choice_order.split(","))
            item.chosen = ",".join(sorted(a for a in answers[item.question_id] if a in valid)) or None
            db.add(item)
    enrollment.last_activity_at = now
    db.add(enrollment)
    db.commit()
    return attempt


def _is_correct(question: Question, chosen: set[str]) -> bool:
    return chosen == set(question.correct_ids)


def submit_attempt(db: Session, enrollment: Enrollment, pack: Pack, attempt_id: int,
                   answers: dict[str, list[str]], now: datetime, tz: ZoneInfo) -> Attempt:
    """Score an attempt once. A second submission of the same attempt changes nothing
    and returns the first result; an unanswered question is refused before anything is saved."""
    attempt = db.get(Attempt, attempt_id)
    if attempt is None or attempt.enrollment_id != enrollment.id:
        raise LearningError("There is no such test.", 404)
    if attempt.submitted_at is not None:
        return attempt
    require_open(enrollment, now, tz)
    if attempt.pack_version != pack.version:
        raise LearningError("This course was updated while your test was open. Start the test again.", 409)
    by_id = {q.id: q for q in pack.questions}
    items = attempt_items(db, attempt.id)
    unanswered = [item.position + 1 for item in items if not answers.get(item.question_id)]
    if unanswered:
        raise LearningError(f"Answer every question before you submit (missing: {', '.join(map(str, unanswered))}).",
                            422)
    claimed = db.exec(update(Attempt).where(Attempt.id == attempt.id, Attempt.submitted_at.is_(None))
                      .values(submitted_at=now)).rowcount
    if claimed != 1:  # a double click or a second tab got there first
        db.rollback()
        return db.get(Attempt, attempt_id)
    correct = 0
    for item in items:
        question = by_id[item.question_id]
        valid = {c.id for c in question.choices}
        chosen = {a for a in answers.get(item.question_id, []) if a in valid}
        item.chosen = ",".join(sorted(chosen))
        # One answer to a single-choice or true/false question: ticking several is wrong.
        item.correct = _is_correct(question, chosen) and (question.type == "multiple" or len(chosen) == 1)
        correct += item.correct
        db.add(item)
    attempt = db.get(Attempt, attempt_id)
    db.refresh(attempt)
    attempt.correct_count = correct
    attempt.score = round(100.0 * correct / len(items), 2) if items else 0.0
    if attempt.kind == POST:
        attempt.passed = attempt.score >= pack.pass_mark
        if attempt.passed:
            enrollment.passed_at = now
    enrollment.last_activity_at = now
    record_for_reports(db, enrollment, attempt, items)
    db.add_all([attempt, enrollment])
    db.commit()
    return attempt


def record_for_reports(db: Session, enrollment: Enrollment, attempt: Attempt, items: list[AttemptItem]) -> None:
    """Keep the report summaries current, in the submission's own transaction."""
    if attempt.kind == PRE:
        enrollment.pre_score = attempt.score
    else:
        enrollment.post_attempts = (enrollment.post_attempts or 0) + 1
        enrollment.best_post_score = max(enrollment.best_post_score or 0.0, attempt.score)
        if attempt.number == 1:
            enrollment.first_post_passed = attempt.passed
    insert = postgresql_insert if db.get_bind().dialect.name == "postgresql" else sqlite_insert
    table = ItemStat.__table__
    # In one fixed order: two submissions upserting shared rows in their own draw orders
    # would each wait for the other (PostgreSQL: "deadlock detected").
    for item in sorted(items, key=lambda item: item.question_id):
        right = 1 if item.correct else 0
        # An upsert: two submissions on the same question at once both count, on both databases.
        db.exec(insert(table).values(pack_id=attempt.pack_id, session_year=enrollment.session_year,
                                     kind=attempt.kind, question_id=item.question_id, answered=1, correct=right)
                .on_conflict_do_update(index_elements=["pack_id", "session_year", "kind", "question_id"],
                                       set_={"answered": table.c.answered + 1, "correct": table.c.correct + right}))


# -- honor code -------------------------------------------------------------

def attestation_of(db: Session, enrollment_id: int) -> Attestation | None:
    return db.exec(select(Attestation).where(Attestation.enrollment_id == enrollment_id)).first()


def attest_honor_code(db: Session, enrollment: Enrollment, answer: str, now: datetime) -> Attestation:
    if enrollment.passed_at is None:
        raise LearningError("Pass the post-test before you attest to the honor code.", 409)
    if (answer or "").strip().lower() != "yes":
        raise LearningError("To receive a certificate, answer \u201cYes\u201d to the honor code.", 422)
    existing = attestation_of(db, enrollment.id)
    if existing:
        return existing
    attestation = Attestation(enrollment_id=enrollment.id, text_version=HONOR_CODE_VERSION, answer="yes",
                              attested_at=now)
    db.add(attestation)
    try:
        db.commit()
    except IntegrityError:
        db.rollback()
        return attestation_of(db, enrollment.id)
    return attestation
