"""Nothing the learner must not see leaks: not the pre-test score (seeded with a marker
value), not which choice of an open test is right, not the question bank itself.

Every GET route in app.url_map is walked with the learners' real values (each pack, lesson,
kind, attempt and certificate), as a page and as an htmx fragment, following redirects so
flashed messages are seen too; the certificate PDF is read as text with pypdf, and the mail
outbox is read as well."""

from __future__ import annotations

import dataclasses
import io
import re

import pytest
from sqlalchemy import text as sql

from portal.learning.models import Attempt
from tests.helpers import log_in, make_user, outbox, services, submit, without_csrf
from tests.learning.journey import (COURSE, attempts_of_user, backdate_post_attempts, complete_all_lessons, enroll,
                                    learner_get_paths,
                                    open_attempt_of, pack, page_text, start_test, tags_of, take_test_scoring)

MARKER = 73.17
MARKER_PATTERNS = [re.compile(p) for p in (r"73\.17", r"73,17", r"\b73\s*%", r"\b73\.2\b", r"73&#37;", r"\b73 percent")]
FINISHED, POST_OPEN, PRE_OPEN = "learner@example.gov", "open@example.gov", "fresh@example.gov"
TEXT_TYPES = ("text/", "application/json", "application/javascript", "image/svg+xml")


def seeded_learners(app):
    """Three learners: one who finished (a failed, then a passed post-test and a certificate), one
    with a post-test open, one with a pre-test open. Both submitted pre-tests carry the marker score."""
    clients = {}
    for email, name in ((FINISHED, "Pat Learner"), (POST_OPEN, "Olive Open"), (PRE_OPEN, "Fred Fresh")):
        make_user(app, email=email, name=name, agency="Leak Test Agency")
        clients[email] = app.test_client()
        log_in(clients[email], email)
        enroll(clients[email])
    for email in (FINISHED, POST_OPEN):
        take_test_scoring(clients[email], app, "pre", 7, email)
    with services(app).database.engine.begin() as connection:
        updated = connection.execute(sql("UPDATE attempt SET score = :m WHERE kind = 'pre' AND submitted_at IS NOT NULL"),
                                     {"m": MARKER}).rowcount
    assert updated == 2
    assert {a.score for a in attempts_of_user(app, FINISHED, "pre") + attempts_of_user(app, POST_OPEN, "pre")} == {MARKER}
    finished = clients[FINISHED]
    complete_all_lessons(finished, app)
    take_test_scoring(finished, app, "post", 3, FINISHED)
    backdate_post_attempts(app, 11, FINISHED)  # the retake comes after the cooldown
    take_test_scoring(finished, app, "post", 10, FINISHED)
    response = submit(finished, f"/learn/{COURSE}/honor-code", {"answer": "yes"})
    assert response.status_code == 303
    complete_all_lessons(clients[POST_OPEN], app)
    start_test(clients[POST_OPEN], "post")
    start_test(clients[PRE_OPEN], "pre")
    assert open_attempt_of(app, "post", POST_OPEN)[0] is not None
    assert open_attempt_of(app, "pre", PRE_OPEN)[0] is not None
    return clients


def all_attempt_ids(app):
    with services(app).database.session() as db:
        return [a.id for a in db.exec(Attempt.__table__.select()).all()]


def visible_text(response) -> str:
    """What a person could read in a response: text bodies as they are, PDFs as extracted text."""
    if response.mimetype == "application/pdf":
        from pypdf import PdfReader

        reader = PdfReader(io.BytesIO(response.data))
        return "\n".join(page.extract_text() or "" for page in reader.pages)
    if response.mimetype and response.mimetype.startswith(TEXT_TYPES):
        return response.get_data(as_text=True)
    return ""


def walk(app, client, email):
    """(label, response) for every GET the learner can make, as a page and as a fragment,
    plus the page each redirect leads to."""
    seen = []
    paths = learner_get_paths(app, email, extra_attempt_ids=all_attempt_ids(app))
    header_sets = [{}, {"HX-Request": "true"}]
    for path in paths:
        sets = header_sets + ([{"HX-Request": "true", "HX-Target": "catalog-results"}] if path == "/catalog" else [])
        for headers in sets:
            response = client.get(path, headers=headers)
            seen.append((f"GET {path} {headers}", response))
            hops = 0
            while response.status_code in (301, 302, 303, 307, 308) and hops < 5:
                location = response.location
                if not location.startswith("/") and "://localhost" not in location:
                    break
                response = client.get(location, headers=headers)
                seen.append((f"GET {path} {headers} -> {location}", response))
                hops += 1
    return seen


@pytest.fixture
def walked(app):
    clients = seeded_learners(app)
    return app, clients, {email: walk(app, client, email) for email, client in clients.items()}


# -- the pre-test score ------------------------------------------------------------------------

def test_the_pre_test_score_never_appears_anywhere(walked):
    app, clients, responses = walked
    leaks, server_errors, checked = [], [], 0
    for email, seen in responses.items():
        for label, response in seen:
            if response.status_code >= 500:
                server_errors.append(f"{email}: {label} -> {response.status_code}")
            headers = "\n".join(f"{k}: {v}" for k, v in response.headers.items())
            body = visible_text(response)
            checked += bool(body)
            for pattern in MARKER_PATTERNS:
                if pattern.search(body) or pattern.search(headers):
                    leaks.append(f"{email}: {label} shows {pattern.pattern}")
    for message in outbox(app):
        for pattern in MARKER_PATTERNS:
            if pattern.search(message.subject) or pattern.search(message.body_text):
                leaks.append(f"mail to {message.to_address} ({message.subject}) shows {pattern.pattern}")
    assert not leaks, "\n".join(leaks)
    # The walk really read the pages that matter (so this test can fail).
    finished = dict(responses[FINISHED])
    labels = " ".join(finished)
    assert "/certificates/PSTP-" in labels and ".pdf" in labels
    assert any("You scored 100%" in page_text(r.get_data(as_text=True)) for _, r in responses[FINISHED]
               if r.mimetype == "text/html")
    assert any(r.mimetype == "application/pdf" and "Pat Learner" in visible_text(r) for _, r in responses[FINISHED])
    assert checked > 100
    assert not server_errors, ("pages that failed with a 5xx could not be checked for leaks:\n"
                               + "\n".join(sorted(set(server_errors))))


def test_the_pre_test_has_no_result_page(walked):
    app, clients, _ = walked
    for email in (FINISHED, POST_OPEN):
        [pre] = attempts_of_user(app, email, "pre")
        assert clients[email].get(f"/learn/{COURSE}/results/{pre.id}").status_code == 404


# -- which choice is right ---------------------------------------------------------------------------

def open_test_page(client, kind):
    response = client.get(f"/learn/{COURSE}/tests/{kind}")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert 'name="attempt_id"' in html, "not the open test"
    return html


@pytest.mark.parametrize("email, kind", [(POST_OPEN, "post"), (PRE_OPEN, "pre")])
def test_an_open_test_page_never_says_which_choice_is_right(walked, email, kind):
    app, clients, responses = walked
    attempt, items = open_attempt_of(app, kind, email)
    html = open_test_page(clients[email], kind)
    questions = {q.id: q for q in pack(app).questions}
    text = page_text(html)
    for item in items:  # every drawn question and each of its choices is there...
        q = questions[item.question_id]
        assert q.text in text
        assert all(c.text in text for c in q.choices)
    # ...and nothing marks any of them right: no `correct` anywhere, in text, class or data.
    assert not re.search(r"correct", html, re.I), re.findall(r".{60}correct.{60}", html, re.I)
    # The fragment version too, and every other response the learner got while it was open.
    for label, response in responses[email]:
        if response.mimetype == "text/html":
            for tag, attrs in tags_of(response.get_data(as_text=True)).tags:
                for name, value in attrs.items():
                    assert "correct" not in name.lower() and "correct" not in (value or "").lower(), (label, tag)


@pytest.mark.parametrize("email, kind", [(POST_OPEN, "post"), (PRE_OPEN, "pre")])
def test_an_open_test_page_is_identical_whichever_choice_is_right(walked, monkeypatch, email, kind):
    """Flip which choices are right in a copy of the pack: the page must not change by a byte."""
    app, clients, _ = walked
    attempt, items = open_attempt_of(app, kind, email)
    before = without_csrf(open_test_page(clients[email], kind))
    original = pack(app)
    drawn = {item.question_id for item in items}
    flipped_questions = []
    for q in original.questions:
        if q.id in drawn:
            choices = [dataclasses.replace(c, correct=not c.correct) for c in q.choices]
            if q.type == "single":  # keep it valid: exactly one right choice, another one than before
                wrong = [c.id for c in q.choices if not c.correct]
                choices = [dataclasses.replace(c, correct=(c.id == wrong[-1])) for c in q.choices]
            q = dataclasses.replace(q, choices=tuple(choices), feedback=q.feedback + " (changed)")
        flipped_questions.append(q)
    flipped = dataclasses.replace(original, questions=tuple(flipped_questions))
    assert all(a.correct_ids != b.correct_ids for a, b in zip(original.questions, flipped.questions) if a.id in drawn)
    monkeypatch.setitem(app.extensions["packs"].packs, COURSE, flipped)
    after = without_csrf(open_test_page(clients[email], kind))
    assert after == before


def test_the_answers_cannot_be_read_from_the_choice_values(walked):
    """The form's choice values must not give the answer key away. Pack authors (and the docs'
    example) put the right choice first as `a`, so sending the pack's own choice ids lets a
    learner who knows nothing pass by picking the first value of every question.

    Once the values are opaque, this strategy is a blind guess: passing 8 of 10 that way has a
    probability below 0.1% even if true/false choices keep their readable values."""
    app, clients, _ = walked
    client = clients[POST_OPEN]
    attempt, items = open_attempt_of(app, "post", POST_OPEN)
    html = open_test_page(client, "post")
    groups: dict[str, list[dict]] = {}
    for attrs in tags_of(html).find("input"):
        if attrs.get("type") in ("radio", "checkbox"):
            groups.setdefault(attrs["name"], []).append(attrs)
    assert len(groups) == len(items)
    data = {"attempt_id": str(attempt.id)}
    for name, inputs in groups.items():
        picks = sorted(i["value"] for i in inputs)
        # A know-nothing strategy: the first value, or the first three for "choose all that apply".
        data[name] = picks[:3] if inputs[0]["type"] == "checkbox" else picks[:1]
    response = submit(client, f"/learn/{COURSE}/tests/post/submit", data, form_page=f"/learn/{COURSE}/tests/post")
    assert response.status_code == 303
    [post] = attempts_of_user(app, POST_OPEN, "post")
    assert not post.passed, (f"picking the alphabetically first choice value of every question scored "
                             f"{post.score}%: the choice values reveal the answer key")


ABOUT_THE_LEARNER = re.compile(r"^GET /(learn/[^/ ]+(/results/| |/honor-code)|my/|certificates/|verify)")


def test_right_answers_appear_nowhere_but_on_the_open_test(walked):
    """Long right-answer texts of the bank are never shown on the learner's own pages (results,
    honor code, progress, certificates, verification); the open test form shows every choice
    alike, and teaching content (lessons, episodes) may of course state the facts."""
    app, clients, responses = walked
    right_texts = [c.text for q in pack(app).questions for c in q.choices if c.correct and len(c.text) >= 25]
    assert right_texts
    checked = 0
    for email, seen in responses.items():
        for label, response in seen:
            if not ABOUT_THE_LEARNER.match(label) or "/lessons/" in label or "/tests/" in label:
                continue
            checked += 1
            body = page_text(visible_text(response)) if response.mimetype == "text/html" else visible_text(response)
            for right in right_texts:
                assert right not in body, f"{email}: {label} shows a right answer: {right!r}"
    assert checked > 30


# -- the bank itself ------------------------------------------------------------------------------------

def test_question_banks_and_sources_are_never_served(walked):
    app, clients, responses = walked
    served_secret = []
    for email, seen in responses.items():
        for label, response in seen:
            if label.startswith("GET /packs/") and re.search(r"/files/(pack\.yaml|questions\.yaml|lessons/)", label):
                if response.status_code != 404:
                    served_secret.append(f"{label} -> {response.status_code}")
    assert not served_secret, "\n".join(served_secret)
    the_pack = pack(app)
    client = clients[FINISHED]
    base = f"/packs/{COURSE}/{the_pack.version}/files/"
    for name in ("questions.yaml", "QUESTIONS.YAML", "questions.yaml?download=1", "./questions.yaml",
                 "media/../questions.yaml", "media/%2e%2e/questions.yaml", "%2e%2e/pack/questions.yaml",
                 "pack.yaml", "lessons/01-sro-role.md", "questions.yml", "../questions.yaml"):
        response = client.get(base + name)
        assert response.status_code == 404, (name, response.status_code)
        assert b"correct:" not in response.data and b"questions:" not in response.data
    for version in ("0.9.0", "2.0.0", "latest"):
        response = client.get(f"/packs/{COURSE}/{version}/files/questions.yaml")
        assert response.status_code == 404, version
    anonymous = app.test_client()
    assert anonymous.get(base + "questions.yaml").status_code == 404
    # Public files are still served, so the 404s above are not a broken route.
    assert client.get(base + the_pack.downloads[0].file).status_code == 200


def test_fragments_and_catalog_partial_were_walked(walked):
    """The htmx variants are part of the walk (the leak checks above cover them)."""
    _, _, responses = walked
    labels = [label for label, _ in responses[FINISHED]]
    assert any("'HX-Target': 'catalog-results'" in label for label in labels)
    partial = next(r for label, r in responses[FINISHED]
                   if label.startswith("GET /catalog {'HX-Request': 'true', 'HX-Target'"))
    assert partial.status_code == 200 and "<html" not in partial.get_data(as_text=True)
    assert sum("HX-Request" in label for label in labels) > 40
