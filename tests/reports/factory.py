"""Make learners, enrollments and scored attempts directly in the database, fast."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from portal.accounts.models import User
from portal.learning.models import Attempt, AttemptItem, Enrollment

COURSE = "intro-sro-programs"


def learner_with_scores(db, n: int, *, pre: float | None, posts: list[tuple[float, bool]], year: int = 2026,
                        enrolled: datetime | None = None, days_to_pass: float | None = None,
                        items: dict[str, tuple[bool | None, bool | None]] | None = None, pack_id: str = COURSE):
    """One learner: a pre-test score, post attempts (score, passed), and per-question
    correctness (pre, post) on the last post attempt."""
    enrolled = enrolled or datetime(year, 3, 1, 12, tzinfo=UTC)
    user = User(email=f"r{n}-{pack_id}-{year}@example.gov", name=f"R {n}", password_hash="x", created_at=enrolled,
                password_changed_at=enrolled, email_verified_at=enrolled)
    db.add(user)
    db.flush()
    passed_at = enrolled + timedelta(days=days_to_pass) if days_to_pass is not None else None
    enrollment = Enrollment(user_id=user.id, pack_id=pack_id, pack_version="1.0.0", session_year=year,
                            enrolled_at=enrolled, passed_at=passed_at)
    db.add(enrollment)
    db.flush()
    attempts = []
    if pre is not None:
        attempts.append(Attempt(enrollment_id=enrollment.id, pack_id=pack_id, pack_version="1.0.0", kind="pre",
                                number=1, started_at=enrolled, submitted_at=enrolled, question_count=10,
                                correct_count=int(pre // 10), score=pre))
    for number, (score, passed) in enumerate(posts, start=1):
        attempts.append(Attempt(enrollment_id=enrollment.id, pack_id=pack_id, pack_version="1.0.0", kind="post",
                                number=number, started_at=enrolled, submitted_at=enrolled, question_count=10,
                                correct_count=int(score // 10), score=score, passed=passed))
    db.add_all(attempts)
    db.flush()
    for question_id, (pre_ok, post_ok) in (items or {}).items():
        if pre_ok is not None and pre is not None:
            db.add(AttemptItem(attempt_id=attempts[0].id, position=0, question_id=question_id, choice_order="a,b",
                               chosen="a", correct=pre_ok))
        if post_ok is not None and posts:
            db.add(AttemptItem(attempt_id=attempts[-1].id, position=0, question_id=question_id, choice_order="a,b",
                               chosen="a", correct=post_ok))
    db.commit()
    from portal.reports.summaries import rebuild

    rebuild(db)  # rows made by hand, as a bulk import would: bring the report summaries up to date
    return enrollment
