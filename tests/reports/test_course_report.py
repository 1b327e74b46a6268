"""Report figures, checked against values worked out by hand."""

from __future__ import annotations

import pytest

from portal.reports import services as reports
from tests.helpers import log_in, make_user, services
from tests.reports.factory import COURSE, learner_with_scores


def seed_six(app):
    """Six learners in 2026:
    pre  40 50 60 70 80 and one with no pre (excluded from score means)
    best post 90 80 100 85 (70 then 85) 60, and one enrolled who never took the post-test
    passed after 10, 20, 30, 40 days for the four passers; median of 10,20,30,40 = 25."""
    with services(app).database.session() as db:
        learner_with_scores(db, 1, pre=40, posts=[(90, True)], days_to_pass=10)
        learner_with_scores(db, 2, pre=50, posts=[(80, True)], days_to_pass=20)
        learner_with_scores(db, 3, pre=60, posts=[(100, True)], days_to_pass=30)
        learner_with_scores(db, 4, pre=70, posts=[(70, False), (85, True)], days_to_pass=40)
        learner_with_scores(db, 5, pre=80, posts=[(60, False)])
        learner_with_scores(db, 6, pre=None, posts=[])


def test_course_year_figures(app):
    seed_six(app)
    with services(app).database.session() as db:
        [row] = reports.course_years(db, [COURSE], 2026)
    assert (row.enrollments, row.completions) == (6, 4)
    assert row.completion_rate == pytest.approx(4 / 6)
    assert "median_days" in row.suppressed  # four completions: fewer than five
    # learners with both a pre score and a post attempt: 1..5
    # mean pre = (40+50+60+70+80)/5 = 60; mean best post = (90+80+100+85+60)/5 = 83; five learners
    # move a mean by up to 20 points each, so both are rounded to steps of 20 (docs/security.md)
    assert row.mean_pre == pytest.approx(60) and row.mean_post == pytest.approx(80)
    assert row.growth == pytest.approx(20)
    # first attempts: 90 pass, 80 pass, 100 pass, 70 fail, 60 fail -> 3/5
    assert row.first_attempt_pass_rate == pytest.approx(0.6)
    # post attempts 1+1+1+2+1 = 6 by 5 learners
    assert row.attempts_per_learner == pytest.approx(1.2)


def test_median_days_with_five_completions(app):
    seed_six(app)
    with services(app).database.session() as db:
        learner_with_scores(db, 7, pre=30, posts=[(80, True)], days_to_pass=100)
        [row] = reports.course_years(db, [COURSE], 2026)
    # completions after 10, 20, 30, 40, 100 days: the median is 30
    assert row.completions == 5 and row.median_days == pytest.approx(30)


def test_small_groups_are_suppressed_in_pages_and_exports(app, client):
    with services(app).database.session() as db:
        learner_with_scores(db, 1, pre=42.5, posts=[(90, True)], days_to_pass=3)
    make_user(app, email="admin@example.gov", roles=("admin",))
    log_in(client, "admin@example.gov")
    page = client.get("/reports/?year=2026").get_data(as_text=True)
    exported = client.get("/reports/courses.csv?year=2026").get_data(as_text=True)
    for body in (page, exported):
        assert "42.5" not in body and "90.0" not in body
    assert "suppressed" in exported


def test_item_analysis_and_flags(app):
    with services(app).database.session() as db:
        for n in range(1, 7):
            # q-easy right for everyone after; q-hard right for one in six after; q-mid 3 of 6
            learner_with_scores(db, n, pre=50, posts=[(80, True)], days_to_pass=5,
                                items={"q-easy": (n <= 3, True), "q-hard": (False, n == 1), "q-mid": (False, n <= 3)})
        rows = {r.question_id: r for r in reports.item_analysis(db, COURSE, 2026)}
    # six learners: shares are rounded to steps of 20 points (one learner moves a share by 16.7)
    assert rows["q-easy"].pre_correct == pytest.approx(0.6) and rows["q-easy"].post_correct == pytest.approx(1.0)
    assert rows["q-easy"].flag == "nearly everyone answers correctly"
    assert rows["q-hard"].post_correct == pytest.approx(0.2) and rows["q-hard"].flag == "nearly no one answers correctly"
    assert rows["q-mid"].flag == ""


def test_providers_see_only_their_own_packs_and_learners_none(app, client):
    from portal.reports.models import ProviderStaff

    seed_six(app)
    other = make_user(app, email="other@example.org")
    make_user(app, email="learner2@example.gov")
    with services(app).database.session() as db:
        db.add(ProviderStaff(user_id=other.id, provider_name="Somebody Else", granted_at=services(app).clock.now()))
        db.commit()
    log_in(client, "other@example.org")
    assert "No enrollments match" in client.get("/reports/").get_data(as_text=True)
    assert client.get(f"/reports/items?course={COURSE}").status_code == 404
    plain = app.test_client()
    log_in(plain, "learner2@example.gov")
    assert plain.get("/reports/").status_code == 403
