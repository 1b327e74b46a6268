"""Helpers that walk a learner through a course with the test client."""

from __future__ import annotations

import re

from sqlmodel import select

from portal.learning.models import Attempt, AttemptItem
from tests.helpers import services, submit

COURSE = "intro-sro-programs"


def pack(app, pack_id=COURSE):
    return app.extensions["packs"].get(pack_id)


def enroll(client, pack_id=COURSE):
    return submit(client, f"/courses/{pack_id}/enroll", {}, form_page=f"/courses/{pack_id}")


def open_attempt_items(app, kind):
    with services(app).database.session() as db:
        attempt = db.exec(select(Attempt).where(Attempt.kind == kind, Attempt.submitted_at.is_(None))
                          .order_by(Attempt.id.desc())).first()
        items = db.exec(select(AttemptItem).where(AttemptItem.attempt_id == attempt.id)).all()
        return attempt, items


def answers_for(app, kind, right=True, pack_id=COURSE):
    """Form data answering the open attempt: all right, or all wrong."""
    attempt, items = open_attempt_items(app, kind)
    questions = {q.id: q for q in pack(app, pack_id).questions}
    data = {"attempt_id": str(attempt.id)}
    for item in items:
        q = questions[item.question_id]
        if right:
            data[f"q-{q.id}"] = sorted(q.correct_ids)
        else:
            wrong = [c.id for c in q.choices if not c.correct]
            data[f"q-{q.id}"] = wrong[:1]
    return attempt, data


def take_test(client, app, kind, right=True, pack_id=COURSE):
    base = f"/learn/{pack_id}/tests/{kind}"
    submit(client, base + "/start", {}, form_page=base)
    attempt, data = answers_for(app, kind, right, pack_id)
    response = submit(client, base + "/submit", data, form_page=base)
    return attempt, response


def complete_all_lessons(client, app, pack_id=COURSE):
    for lesson in pack(app, pack_id).lessons:
        page = f"/learn/{pack_id}/lessons/{lesson.id}"
        response = submit(client, page + "/complete", {}, form_page=page)
        assert response.status_code == 303, response.get_data(as_text=True)[:500]


def certificate_number(html: str) -> str:
    match = re.search(r"PSTP-\d{4}-[A-Z0-9]{4}-[A-Z0-9]{4}", html)
    assert match, "no certificate number on the page"
    return match.group(0)
