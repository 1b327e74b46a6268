"""The report summaries kept at each submission equal those rebuilt from the attempts."""

from __future__ import annotations

from sqlalchemy import text

from portal.reports.summaries import rebuild
from tests.helpers import log_in, make_user, services
from tests.learning.journey import backdate_post_attempts, complete_all_lessons, enroll, take_test


def snapshot(app):
    with services(app).database.session() as db:
        connection = db.connection()
        enrollments = connection.execute(text(
            "SELECT id, pre_score, best_post_score, post_attempts, first_post_passed FROM enrollment ORDER BY id")).all()
        items = connection.execute(text(
            "SELECT pack_id, session_year, kind, question_id, answered, correct FROM item_stat "
            "ORDER BY pack_id, session_year, kind, question_id")).all()
    return [tuple(r) for r in enrollments], [tuple(r) for r in items]


def test_incremental_summaries_match_a_rebuild(app):
    for n in range(2):
        client = app.test_client()
        make_user(app, email=f"s{n}@example.gov")
        log_in(client, f"s{n}@example.gov")
        enroll(client)
        take_test(client, app, "pre", right=bool(n))
        complete_all_lessons(client, app)
        take_test(client, app, "post", right=False)
        backdate_post_attempts(app, 11, f"s{n}@example.gov")  # the retake comes after the cooldown
        take_test(client, app, "post", right=True)
    kept = snapshot(app)
    assert kept[0] and kept[1]
    assert all(row[3] == 2 and row[4] in (False, 0) for row in kept[0])  # two post attempts, the first failed
    with services(app).database.session() as db:
        rebuild(db)
    assert snapshot(app) == kept
