"""Time on each lesson in the provider reports (issue 15): the median of the server-measured time
of the learners who completed the lesson, shown only when at least MIN_GROUP distinct learners
stand behind it (docs/security.md: times are suppressed under 5)."""

from __future__ import annotations

from datetime import UTC, datetime

from portal.learning.models import LessonProgress
from portal.reports import services as reports
from tests.helpers import log_in, make_user, services
from tests.reports.factory import COURSE, learner_with_scores


def learners_on_lesson(app, lesson_id, minutes: list[float | None], start=1):
    """One learner per entry, each with the lesson completed after that many minutes (None: opened,
    not completed)."""
    when = datetime(2026, 3, 2, 12, tzinfo=UTC)
    with services(app).database.session() as db:
        for n, spent in enumerate(minutes, start):
            enrollment = learner_with_scores(db, n, pre=None, posts=[])
            db.add(LessonProgress(enrollment_id=enrollment.id, lesson_id=lesson_id, pack_version="1.0.0",
                                  updated_at=when, seconds_spent=int((spent or 3) * 60),
                                  completed_at=when if spent is not None else None))
        db.commit()


def first_lessons(app):
    return app.extensions["packs"].get(COURSE).lessons[:2]


def test_median_time_per_lesson_from_five_learners_who_completed_it(app):
    one, two = first_lessons(app)
    learners_on_lesson(app, one.id, [4, 10, 6, 30, 8, None])  # median of 4 6 8 10 30 is 8
    learners_on_lesson(app, two.id, [5, 5, 5, 5], start=7)  # four: suppressed
    with services(app).database.session() as db:
        rows = {r.lesson_id: r for r in reports.lesson_times(db, COURSE, 2026)}
        assert reports.lesson_times(db, COURSE, 2025) == []
    assert rows[one.id].learners == 5 and rows[one.id].median_minutes == 8
    assert rows[two.id].learners is None and rows[two.id].median_minutes is None  # four: neither shown


def test_the_course_report_page_shows_the_median_and_suppresses_small_groups(app, client):
    one, two = first_lessons(app)
    learners_on_lesson(app, one.id, [4, 10, 6, 30, 8, 12])  # median of six: (8 + 10) / 2 = 9
    learners_on_lesson(app, two.id, [17, 17], start=7)
    make_user(app, email="admin@example.gov", roles=("admin",))
    log_in(client, "admin@example.gov")
    page = client.get(f"/reports/items?course={COURSE}&year=2026").get_data(as_text=True)
    section = page.split('id="times-h"', 1)[1]
    assert one.title in section and "9 min" in section
    assert two.title in section and "17 min" not in section and "fewer than 5" in section
    assert ">2<" not in section.split(two.title, 1)[1].split("</tr>", 1)[0]  # nor how many
