"""Leak canaries: the canary course (canary_pack/) carries marker strings in every choice id,
every feedback and every choice text, and every submitted pre-test, with its enrollment
summary, is given the marker score 37.1234 (3 of 4 right). Then everything a learner can
receive is searched for them: every GET route of app.url_map with real ids, as a page and as
an htmx fragment, following redirects; the certificate PDF as text; the roll-call log CSV;
every response header and cookie, the decoded session cookie included; the forms' error
fragments; and every message in the outbox. Before and after passing.

- A choice id (the answer key's handle) appears nowhere, ever.
- Choice texts appear only on the open test form, where every choice is shown alike.
- Feedback appears only on the passed post-test's result page (docs/content-packs.md: "feedback
  is shown once they pass"), never before passing and never to anyone else.
- The pre-test score appears nowhere: not to the learner, not to their agency's coordinator,
  not to support staff ("Your score on the pre-test will not be displayed or shared")."""

from __future__ import annotations

import io
import re

from tests.helpers import outbox, session_data, submit, without_csrf
from tests.learning.journey import NOT_A_LEARNERS, learner_get_paths, open_attempt_of
from tests.security.canary_pack import CHOICE_MARKER, FEEDBACK_MARKER, KEY_MARKER, PACK_ID, config
from tests.security.canary_pack.seeded import (FINISHED, POST_OPEN, PRE_OPEN, SCORE_MARKER, build_world,
                                               finish_course)

# Every way the marker score could be written: 37.1234, 37.12, 37.1, 37%, 37 percent, 0.371,
# a decimal comma, the HTML entity for %, and "3 of 4 correct" / "3/4" (a fraction, not the
# month and day of a date such as 3/4/2026, which the roster import page gives as an example).
SCORE_PATTERNS = [re.compile(p, re.I) for p in (
    r"37\.1", r"\b37,1", r"\b37\s*%", r"\b37\s*&#0*37;", r"\b37\s*&#x25;", r"\b37\s*&percnt;", r"\b37\s*percent",
    r"\b0?\.371\d", r"\b3\s+(of|/)\s+4\s+correct", r"(?<!\d/)\b3\s*/\s*4\b(?!/\d)")]
# In CSV and JSON a number stands alone: a bare 37 there is the score too.
BARE_SCORE = re.compile(r"(^|[,;:\"\s\[])37(\.0+)?([,;\"\s\]}]|$)", re.M)
TEXT_TYPES = ("text/", "application/json", "message/rfc822")
TEST_FORM = re.compile(r'<form\b[^>]*action="/learn/[^"]+/tests/(pre|post)/submit"')
SESSION_COOKIES = ("__Host-portal_session", "__Host-portal_remember", "portal_session", "portal_remember")


def test_the_score_patterns_catch_every_rendering_of_the_marker():
    """The patterns would see the marker however a page rounded or formatted it."""
    m = SCORE_MARKER
    renderings = [f"{m}", f"{m:.2f}", f"{m:.1f}", f"{round(m)}%", f"{round(m)} %", f"{round(m)}&#37;",
                  f"{round(m)} percent", f"{m / 100:.4f}", f"{m:.1f}".replace(".", ","), "3 of 4 correct",
                  "You scored <strong>37%</strong>", "score: 3/4", "3 / 4", "(3/4)", "3/4."]
    for text in renderings:
        assert any(p.search(text) for p in SCORE_PATTERNS), text
    for harmless in ("Question 3 of 4.", "1 of 2 lessons", "2026-06-15 14:37", "You scored 40%", "100%",
                     "/learn/canary-course/results/37", "37 officers",
                     "3/4/2026 is March 4, 2026", "12/3/4"):
        assert not any(p.search(harmless) for p in SCORE_PATTERNS), harmless
    assert BARE_SCORE.search("2026-06-15,Elm City PD,37,\r\n") and not BARE_SCORE.search("2026-06-15,137,2037")


# -- reading what a response shows ----------------------------------------------------------------

def body_text(response) -> str:
    """A response as a person (or a script) could read it; PDFs as extracted text; CSRF tokens
    blanked, since their random letters could spell anything."""
    if response.mimetype == "application/pdf":
        from pypdf import PdfReader
        from pypdf.errors import PdfReadError

        try:
            return "\n".join(page.extract_text() or "" for page in PdfReader(io.BytesIO(response.data)).pages)
        except PdfReadError:  # a stand-in file (a pack's or a test's), not one the portal made: read it raw
            return response.data.decode("latin-1")
    if response.mimetype and response.mimetype.startswith(TEXT_TYPES):
        return without_csrf(response.get_data(as_text=True))
    return ""


def header_text(response) -> str:
    """Every header; session cookies' signed values (random letters) are read decoded instead."""
    lines = []
    for name, value in response.headers.items():
        if name.lower() == "set-cookie" and value.split("=", 1)[0] in SESSION_COOKIES:
            value = value.split("=", 1)[0] + "=…; " + value.split(";", 1)[-1]
        lines.append(f"{name}: {value}")
    return "\n".join(lines)


class Walk:
    """Everything one client received, labelled, with the decoded session after each response."""

    def __init__(self, app, who, client):
        self.app, self.who, self.client, self.seen = app, who, client, []

    def keep(self, label, response):
        session = repr(session_data(self.app, self.client))
        cookies = "\n".join(f"{c.key}={c.value}" for c in self.client._cookies.values()
                            if c.key not in SESSION_COOKIES)
        self.seen.append((f"{self.who}: {label}", response, body_text(response), header_text(response),
                          session + "\n" + cookies))

    def get(self, path, headers=None):
        headers = headers or {}
        response = self.client.get(path, headers=headers)
        self.keep(f"GET {path} {headers}", response)
        hops = 0
        while response.status_code in (301, 302, 303, 307, 308) and hops < 5 and response.location.startswith("/"):
            location = response.location
            response = self.client.get(location, headers=headers)
            self.keep(f"GET {path} {headers} -> {location}", response)
            hops += 1

    def post(self, path, data, headers=None):
        response = submit(self.client, path, data, form_page="/contact", headers=headers or {})
        self.keep(f"POST {path} {headers or {}}", response)
        if response.status_code in (302, 303) and response.location.startswith("/"):
            self.get(response.location, headers)


def walk_everything(world, who, email=None) -> Walk:
    """Every GET path (the learner's values, then the world's real ids), page and fragment."""
    app = world.app
    paths = set()
    if email:
        paths |= set(learner_get_paths(app, email, extra_attempt_ids=[world.ids["post_attempt"],
                                                                      world.ids["other_post_attempt"]]))
    for rule in app.url_map.iter_rules():
        if "GET" in rule.methods and rule.endpoint not in NOT_A_LEARNERS:
            paths |= set(world.paths(rule))
    # Versioned static assets and the other packs' authored files are the same for everyone and
    # hold nothing of a learner's; the canary course's files (and its secret ones) are walked.
    paths = sorted(p for p in paths if not p.startswith("/assets/")
                   and (not p.startswith("/packs/") or p.startswith(f"/packs/{PACK_ID}/")))
    walk = Walk(app, who, world.client(who))
    for path in paths:
        for headers in ({}, {"HX-Request": "true"}) if not path.startswith("/packs/") else ({},):
            walk.get(path, headers)
    walk.get("/catalog", {"HX-Request": "true", "HX-Target": "catalog-results"})
    return walk


def form_fragments(world) -> list[Walk]:
    """The forms' answers to wrong input (their error fragments), page and htmx."""
    walks = []
    other = Walk(world.app, "other", world.client("other"))
    attempt, items = open_attempt_of(world.app, "post", POST_OPEN, PACK_ID)
    base = f"/learn/{PACK_ID}/tests/post"
    for headers in ({}, {"HX-Request": "true"}):
        # One question answered, the rest not: the form comes back with its error.
        other.post(base + "/submit", {"attempt_id": str(attempt.id), "q-1": "1"}, headers)
        other.post(f"/learn/{PACK_ID}/honor-code", {"answer": "yes"}, headers)
        other.post(base + "/start", {}, headers)
    walks.append(other)
    fresh = Walk(world.app, "pre_open", world.client("pre_open"))
    for headers in ({}, {"HX-Request": "true"}):
        fresh.post(f"/learn/{PACK_ID}/tests/pre/submit",
                   {"attempt_id": str(open_attempt_of(world.app, "pre", PRE_OPEN, PACK_ID)[0].id)}, headers)
        fresh.post(f"/learn/{PACK_ID}/lessons/first-steps/complete", {}, headers)
    walks.append(fresh)
    return walks


def test_no_marker_reaches_anyone_who_must_not_see_it(make_app, clock):
    app = make_app(CLOCK=clock, **config())
    world = build_world(app, finished=False)
    walks = {"before": [walk_everything(world, "learner", FINISHED), walk_everything(world, "other", POST_OPEN),
                        walk_everything(world, "pre_open", PRE_OPEN), walk_everything(world, "coordinator"),
                        walk_everything(world, "support"),
                        *form_fragments(world)]}
    finish_course(world)
    passed_result = f"/learn/{PACK_ID}/results/{world.ids['post_attempt']}"
    learner_after = walk_everything(world, "learner", FINISHED)
    learner_after.post(f"/learn/{PACK_ID}/certificate", {})
    walks["after"] = [learner_after, walk_everything(world, "coordinator"), walk_everything(world, "support")]

    leaks, server_errors = [], []
    shown = {"choice on a test form": 0, "feedback on the passed result": 0, "certificate pdf": 0, "log csv": 0}
    for stage, stage_walks in walks.items():
        for walk in stage_walks:
            for label, response, body, headers, session in walk.seen:
                where = f"[{stage}] {label}"
                if response.status_code >= 500:
                    server_errors.append(f"{where} -> {response.status_code}")
                everything = "\n".join((body, headers, session))
                if KEY_MARKER.lower() in everything.lower():
                    leaks.append(f"{where} shows a choice id (the answer key)")
                if CHOICE_MARKER in everything:
                    if TEST_FORM.search(body) and CHOICE_MARKER not in headers + session:
                        shown["choice on a test form"] += 1
                    else:
                        leaks.append(f"{where} shows a choice's text outside the open test form")
                if FEEDBACK_MARKER in everything:
                    if stage == "after" and walk.who == "learner" and response.request.path == passed_result \
                            and FEEDBACK_MARKER not in headers + session:
                        shown["feedback on the passed result"] += 1
                    else:
                        leaks.append(f"{where} shows feedback before passing or to someone else")
                for pattern in SCORE_PATTERNS:
                    if pattern.search(everything):
                        leaks.append(f"{where} shows the pre-test score ({pattern.pattern})")
                if (response.mimetype or "").endswith(("csv", "json")) and BARE_SCORE.search(body):
                    leaks.append(f"{where} shows the pre-test score as a bare number")
                if response.mimetype == "application/pdf" and "/certificates/" in label and response.status_code == 200:
                    shown["certificate pdf"] += 1
                if response.mimetype == "text/csv" and "/rollcall/log.csv" in label and "Shift briefing" in body:
                    shown["log csv"] += 1
    for message in outbox(app):
        text = f"{message.subject}\n{message.body_text}"
        for marker in (KEY_MARKER, CHOICE_MARKER, FEEDBACK_MARKER):
            if marker.lower() in text.lower():
                leaks.append(f"mail to {message.to_address} ({message.subject}) shows {marker}")
        for pattern in SCORE_PATTERNS:
            if pattern.search(text):
                leaks.append(f"mail to {message.to_address} ({message.subject}) shows the score ({pattern.pattern})")
    assert not leaks, "\n".join(sorted(set(leaks)))
    assert not server_errors, "5xx responses could not be checked:\n" + "\n".join(sorted(set(server_errors)))
    # The walk saw the places where the markers belong, so it would have seen them elsewhere.
    assert all(shown.values()), shown
    assert outbox(app), "the walk needs mail to read"
    learner_pages = [label for label, *_ in walks["before"][0].seen]
    assert sum("HX-Request" in label for label in learner_pages) > 50
    assert any(f"/learn/{PACK_ID}/results/" in label for label in learner_pages)
