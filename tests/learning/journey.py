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


def field_and_values(item, choice_ids):
    """The form posts a question's position and the positions of the chosen choices in this
    attempt's shuffled order, never the pack's ids."""
    order = item.choice_order.split(",")
    return f"q-{item.position + 1}", [str(order.index(cid) + 1) for cid in choice_ids]


def answers_for(app, kind, right=True, pack_id=COURSE):
    """Form data answering the open attempt: all right, or all wrong."""
    attempt, items = open_attempt_items(app, kind)
    questions = {q.id: q for q in pack(app, pack_id).questions}
    data = {"attempt_id": str(attempt.id)}
    for item in items:
        q = questions[item.question_id]
        picks = sorted(q.correct_ids) if right else [c.id for c in q.choices if not c.correct][:1]
        name, values = field_and_values(item, picks)
        data[name] = values
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
    match = re.search(r"PSTP-\d{4}(?:-[A-Z0-9]{4}){2,4}", html)
    assert match, "no certificate number on the page"
    return match.group(0)


# -- more helpers for the learner-journey suite (added; the ones above are unchanged) -----

import html as _html  # noqa: E402
from html.parser import HTMLParser  # noqa: E402

LEARNING_TABLES = ("enrollment", "lesson_progress", "attempt", "attempt_item", "attestation", "certificate")


def user_id(app, email="learner@example.gov") -> int:
    from tests.helpers import get_user

    return get_user(app, email).id


def enrollments_of_user(app, email="learner@example.gov", pack_id=COURSE):
    from portal.learning.models import Enrollment

    uid = user_id(app, email)
    with services(app).database.session() as db:
        return list(db.exec(select(Enrollment).where(Enrollment.user_id == uid, Enrollment.pack_id == pack_id)
                            .order_by(Enrollment.session_year, Enrollment.id)).all())


def attempts_of_user(app, email="learner@example.gov", kind=None, pack_id=COURSE):
    from portal.learning.models import Enrollment

    uid = user_id(app, email)
    with services(app).database.session() as db:
        statement = (select(Attempt).join(Enrollment, Enrollment.id == Attempt.enrollment_id)
                     .where(Enrollment.user_id == uid, Attempt.pack_id == pack_id)
                     .order_by(Attempt.id))
        if kind:
            statement = statement.where(Attempt.kind == kind)
        return list(db.exec(statement).all())


def items_of(app, attempt_id):
    with services(app).database.session() as db:
        return list(db.exec(select(AttemptItem).where(AttemptItem.attempt_id == attempt_id)
                            .order_by(AttemptItem.position)).all())


def open_attempt_of(app, kind, email="learner@example.gov", pack_id=COURSE):
    """The learner's unsubmitted attempt of this kind and its items (None, [] if there is none)."""
    open_ = [a for a in attempts_of_user(app, email, kind, pack_id) if a.submitted_at is None]
    if not open_:
        return None, []
    return open_[-1], items_of(app, open_[-1].id)


def right_answer(question):
    return sorted(question.correct_ids)


def wrong_answer(question):
    return [c.id for c in question.choices if not c.correct][:1]


def picks_scoring(app, items, n_right, pack_id=COURSE) -> dict[str, list[str]]:
    """Choice ids (the pack's) answering exactly `n_right` of the items right (the first ones)."""
    questions = {q.id: q for q in pack(app, pack_id).questions}
    return {item.question_id: (right_answer(questions[item.question_id]) if index < n_right
                               else wrong_answer(questions[item.question_id]))
            for index, item in enumerate(items)}


def form_answers(attempt, items, picks: dict[str, list[str]]) -> dict:
    """The form data a browser sends for these picks (see field_and_values)."""
    data = {"attempt_id": str(attempt.id)}
    for item in items:
        if item.question_id in picks:
            name, values = field_and_values(item, picks[item.question_id])
            data[name] = values
    return data


def field_name(item) -> str:
    return field_and_values(item, [])[0]


def answers_scoring(app, attempt, items, n_right, pack_id=COURSE) -> dict:
    """Form data answering exactly `n_right` of the attempt's questions right (the first ones)."""
    return form_answers(attempt, items, picks_scoring(app, items, n_right, pack_id))


def start_test(client, kind, pack_id=COURSE):
    base = f"/learn/{pack_id}/tests/{kind}"
    return submit(client, base + "/start", {}, form_page=base)


def submit_test(client, kind, data, pack_id=COURSE):
    base = f"/learn/{pack_id}/tests/{kind}"
    return submit(client, base + "/submit", data, form_page=base)


def take_test_scoring(client, app, kind, n_right, email="learner@example.gov", pack_id=COURSE):
    """Start (or reopen) the learner's test and submit it with exactly n_right answers right."""
    start_test(client, kind, pack_id)
    attempt, items = open_attempt_of(app, kind, email, pack_id)
    assert attempt is not None, f"no open {kind}-test for {email}"
    response = submit_test(client, kind, answers_scoring(app, attempt, items, n_right, pack_id), pack_id)
    return attempt, response


def reach_certificate(client, app, email="learner@example.gov", pack_id=COURSE) -> str:
    """Enroll and walk the whole course; returns the certificate number."""
    assert enroll(client, pack_id).status_code == 303
    take_test_scoring(client, app, "pre", 5, email, pack_id)
    complete_all_lessons(client, app, pack_id)
    take_test_scoring(client, app, "post", 10, email, pack_id)
    response = submit(client, f"/learn/{pack_id}/honor-code", {"answer": "yes"})
    assert response.status_code == 303, response.get_data(as_text=True)[:500]
    return certificate_number(client.get(response.location).get_data(as_text=True))


def learning_snapshot(app):
    """Every row of the learner-state tables, for before/after comparisons."""
    from tests.helpers import snapshot

    return {t: rows for t, rows in snapshot(app).items() if t in LEARNING_TABLES}


def page_text(html: str) -> str:
    """The visible text of a page: tags removed, entities decoded, whitespace collapsed."""
    text = re.sub(r"<(script|style)\b.*?</\1>", " ", html, flags=re.S | re.I)
    text = re.sub(r"<[^>]+>", " ", text)
    return " ".join(_html.unescape(text).split())


def main_html(html: str) -> str:
    match = re.search(r"<main\b.*?</main>", html, flags=re.S)
    return match.group(0) if match else html


class TagCollector(HTMLParser):
    """Every start tag with its attributes, in order."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict]] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))

    def handle_startendtag(self, tag, attrs):
        self.handle_starttag(tag, attrs)

    def find(self, tag):
        return [attrs for name, attrs in self.tags if name == tag]


def tags_of(html: str) -> TagCollector:
    collector = TagCollector()
    collector.feed(html)
    collector.close()
    return collector


def learner_values(app, email="learner@example.gov") -> dict:
    """The real values a learner's URLs are made of: packs, lessons, attempts, certificates."""
    from portal.certificates.models import Certificate

    uid = user_id(app, email)
    with services(app).database.session() as db:
        numbers = [c.number for c in db.exec(select(Certificate).where(Certificate.user_id == uid)).all()]
    attempt_ids = []
    for pack_id in app.extensions["packs"].packs:
        attempt_ids += [a.id for a in attempts_of_user(app, email, pack_id=pack_id)]
    return {"user_id": uid, "numbers": numbers, "attempt_ids": attempt_ids}


# /metrics is the operator's scraper's, admitted by address or token (METRICS_ALLOW is loopback
# by default, and every test client is on loopback, where no learner is); it holds process
# counters and timings labelled by route pattern, not by path or user (tests/test_observability.py),
# and those timings can spell any number a leak check looks for.
NOT_A_LEARNERS = {"ops_metrics"}


def learner_get_paths(app, email="learner@example.gov", extra_attempt_ids=()) -> list[str]:
    """Every GET URL in app.url_map, filled with the learner's real values (each lesson, each
    kind, each of their attempts, each certificate, each pack file and the files that must
    never be served); arguments with no learner value get a stand-in."""
    import itertools

    from tests.helpers import path_for

    values = learner_values(app, email)
    packs = app.extensions["packs"].packs
    paths = []
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: r.rule):
        if "GET" not in rule.methods or rule.endpoint in NOT_A_LEARNERS:
            continue
        arguments = sorted(rule.arguments)
        pack_ids = list(packs) if "pack_id" in arguments else [None]
        for pack_id in pack_ids:
            the_pack = packs.get(pack_id) if pack_id else None
            choices = {}
            for name in arguments:
                if name == "pack_id":
                    choices[name] = [pack_id]
                elif name in ("lesson_id", "episode_id"):
                    choices[name] = [lesson.id for lesson in the_pack.lessons] or ["no-such-lesson"]
                elif name == "kind":
                    choices[name] = ["pre", "post"]
                elif name == "attempt_id":
                    choices[name] = sorted(set(values["attempt_ids"]) | set(extra_attempt_ids)) or [1]
                elif name == "number":
                    choices[name] = values["numbers"] or ["PSTP-2026-ZZZZ-ZZZZ"]
                elif name == "version":
                    choices[name] = [the_pack.version] if the_pack else ["1.0.0"]
                elif name == "filename":
                    files = sorted(the_pack.public_files()) if the_pack else []
                    secret = ["pack.yaml", "questions.yaml", *(lesson.file for lesson in the_pack.lessons if lesson.file)]
                    choices[name] = files + secret
                elif name == "user_id":
                    choices[name] = [values["user_id"]]
                else:
                    choices[name] = [None]
            for combo in itertools.product(*(choices[name] for name in arguments)):
                given = {name: value for name, value in zip(arguments, combo) if value is not None}
                paths.append(path_for(app, rule, given))
    return sorted(set(paths))


def is_pack_file(path: str) -> bool:
    return path.startswith("/packs/")


def backdate_post_attempts(app, minutes: int, email="learner@example.gov", pack_id=COURSE) -> None:
    """Move the learner's submitted post-test attempts `minutes` into the past, as if the retake
    came after the cooldown (for tests on the wall clock, which they cannot move)."""
    from datetime import timedelta

    from sqlalchemy import update

    shift = timedelta(minutes=minutes)
    with services(app).database.session() as db:
        for attempt in attempts_of_user(app, email, "post", pack_id):
            if attempt.submitted_at is not None:
                db.exec(update(Attempt).where(Attempt.id == attempt.id)
                        .values(submitted_at=attempt.submitted_at - shift, started_at=attempt.started_at - shift))
        db.commit()
