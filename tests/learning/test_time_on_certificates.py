"""The learner's own record (issue 15): My Certificates, the page that lists what a learner has
earned, shows beside each certificate the time the server measured on that session's lessons."""

from __future__ import annotations

from sqlmodel import select

from portal.learning.models import LessonProgress
from tests.helpers import log_in, make_user, services, utc
from tests.learning.journey import reach_certificate


def test_my_certificates_shows_the_time_on_the_lessons_of_each_certificate(app, clock):
    clock.set(utc(2026, 6, 15, 13, 0))
    make_user(app)
    client = app.test_client()
    log_in(client)
    reach_certificate(client, app)
    with services(app).database.session() as db:
        rows = db.exec(select(LessonProgress)).all()
        for index, row in enumerate(rows):
            row.seconds_spent = 3720 if index == 0 else 0  # 62 minutes in all
            db.add(row)
        db.commit()
    page = client.get("/my/certificates").get_data(as_text=True)
    assert "Time on lessons" in page and "1 h 2 min" in page
