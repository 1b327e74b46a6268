"""Every form, fuzzed: for each POST route in app.url_map (a new one fails the suite until it
is listed here), hypothesis posts the form's real fields, read from the page that shows the
form, with hostile values (unicode, control characters, huge, bytes that are not UTF-8,
several values, missing fields) and random extra fields, with a valid CSRF token, as the
user who can see that form. No answer may be a 5xx, and after every example the database's
invariants (tests/security/strategies.py) must hold.

Examples per form: 200 in CI (CI=true), 25 elsewhere (HYPOTHESIS_EXAMPLES=n to change)."""

from __future__ import annotations

import io
import os
from html.parser import HTMLParser
from urllib.parse import urlencode

import pytest
from hypothesis import given, seed
from hypothesis import strategies as st
from sqlalchemy import text

from tests.helpers import csrf_token, link_in, outbox, services, submit
from tests.learning.journey import COURSE, complete_all_lessons, enroll, take_test_scoring
from tests.rollcall.support import SERIES
from tests.security.strategies import (FUZZ_SETTINGS, build_world, field_values, hostile_text, invariant_problems,
                                       signed_in)

A = "{agency_id}"
# endpoint (":" action for one endpoint with several forms) -> who posts, the page showing the
# form ("" where no page has a <form> for it: the fields are then given), the URL posted to.
ROUTES = {
    "accounts.login": ("anonymous", "/account/login", "/account/login"),
    "accounts.logout": ("learner", "/account/profile", "/account/logout"),
    "accounts.signup": ("anonymous", "/account/signup", "/account/signup"),
    "accounts.forgot_password": ("anonymous", "/account/password/forgot", "/account/password/forgot"),
    "accounts.reset_password": ("anonymous", "/account/password/reset/{reset}", "/account/password/reset/{reset}"),
    "accounts.verify": ("anonymous", "/account/verify/{verify}", "/account/verify/{verify}"),
    "accounts.verify_resend": ("anonymous", "/account/verify/resend", "/account/verify/resend"),
    "accounts.confirm_email_change": ("learner", "/account/email/confirm/{confirm_email}",
                                      "/account/email/confirm/{confirm_email}"),
    "accounts.profile": ("learner", "/account/profile", "/account/profile"),
    "accounts.change_email": ("learner", "/account/profile/email", "/account/profile/email"),
    "accounts.change_password": ("learner", "/account/profile/password", "/account/profile/password"),
    "learning.enroll": ("target", f"/courses/{COURSE}", f"/courses/{COURSE}/enroll"),
    "learning.complete": ("learner", f"/learn/{COURSE}/lessons/{{lesson}}", f"/learn/{COURSE}/lessons/{{lesson}}/complete"),
    "learning.save_position": ("learner", "", f"/learn/{COURSE}/lessons/{{video_lesson}}/position"),
    "assessments.start": ("starter", f"/learn/{COURSE}/tests/pre", f"/learn/{COURSE}/tests/pre/start"),
    "assessments.submit": ("learner", f"/learn/{COURSE}/tests/post", f"/learn/{COURSE}/tests/post/submit"),
    # the test form's "Save answers" button (formaction) and its htmx saves on each change
    "assessments.save": ("learner", "", f"/learn/{COURSE}/tests/post/save"),
    # the lesson page's heartbeat (htmx, each minute)
    "learning.lesson_time": ("learner", "", f"/learn/{COURSE}/lessons/{{lesson}}/time"),
    "assessments.honor_code": ("passer", f"/learn/{COURSE}/honor-code", f"/learn/{COURSE}/honor-code"),
    "certificates.issue": ("passer", "", f"/learn/{COURSE}/certificate"),
    "rollcall.log_showing": ("learner", f"/series/{SERIES}/{{episode}}/log", f"/series/{SERIES}/{{episode}}/log"),
    "rollcall.delete": ("learner", "/rollcall/log", "/rollcall/log/{showing_id}/delete"),
    "site.contact": ("anonymous", "/contact", "/contact"),
    "support.confirm": ("admin", "/support/users/{unverified_id}", "/support/users/{unverified_id}/confirm"),
    "support.send_reset": ("admin", "/support/users/{target_id}", "/support/users/{target_id}/send-reset"),
    "support.deactivate": ("admin", "/support/users/{target_id}", "/support/users/{target_id}/deactivate"),
    "support.reactivate": ("admin", "/support/users/{inactive_id}", "/support/users/{inactive_id}/reactivate"),
    "support.change_role:grant": ("admin", "/support/users/{target_id}", "/support/users/{target_id}/roles/grant"),
    "support.change_role:revoke": ("admin", "/support/users/{staff_id}", "/support/users/{staff_id}/roles/revoke"),
    "reports.providers": ("admin", "/reports/providers", "/reports/providers"),
    "agencies.create": ("admin", "/agencies/", "/agencies/create"),
    "agencies.join": ("target", "/agencies/join/{token}", "/agencies/join/{token}"),
    "agencies.leave": ("officer", "/agencies/", "/agencies/leave"),
    "agencies.invite": ("coordinator", f"/agencies/{A}/members", f"/agencies/{A}/invites"),
    "agencies.revoke": ("coordinator", f"/agencies/{A}/members", f"/agencies/{A}/invites/{{invite_id}}/revoke"),
    "agencies.member_role": ("coordinator", f"/agencies/{A}/members", f"/agencies/{A}/members/{{member_id}}/role"),
    "agencies.roster_import": ("coordinator", f"/agencies/{A}", f"/agencies/{A}/roster/import"),
    "agencies.roster_records_preview": ("coordinator", f"/agencies/{A}/roster/records",
                                        f"/agencies/{A}/roster/records/preview"),
    "agencies.roster_records_apply": ("coordinator", "", f"/agencies/{A}/roster/records/apply"),
    "agencies.award_edit": ("coordinator", f"/agencies/{A}/awards/{{award_id}}/edit",
                            f"/agencies/{A}/awards/{{award_id}}/edit"),
    "agencies.award_delete": ("coordinator", f"/agencies/{A}/awards/{{award_id}}",
                              f"/agencies/{A}/awards/{{award_id}}/delete"),
    "agencies.sro_delete": ("coordinator", f"/agencies/{A}/sros/{{sro_id}}", f"/agencies/{A}/sros/{{sro_id}}/delete"),
    "agencies.decide_join": ("coordinator", "", f"/agencies/{A}/join-requests"),
    "agencies.settings": ("coordinator", f"/agencies/{A}/settings", f"/agencies/{A}/settings"),
    "agencies.member_remove": ("coordinator", f"/agencies/{A}/members",
                               f"/agencies/{A}/members/{{member_id}}/remove"),
    "agencies.new_award": ("coordinator", f"/agencies/{A}/awards/new", f"/agencies/{A}/awards/new"),
    "agencies.award": ("coordinator", f"/agencies/{A}/awards/{{award_id}}", f"/agencies/{A}/awards/{{award_id}}"),
    "agencies.new_sro": ("coordinator", f"/agencies/{A}/awards/{{award_id}}/sros/new",
                         f"/agencies/{A}/awards/{{award_id}}/sros/new"),
    "agencies.sro": ("coordinator", f"/agencies/{A}/sros/{{sro_id}}", f"/agencies/{A}/sros/{{sro_id}}"),
    "agencies.claim": ("coordinator", f"/agencies/{A}/sros/{{sro_id}}/claim", f"/agencies/{A}/sros/{{sro_id}}/claim"),
    "agencies.delete_expense": ("coordinator", f"/agencies/{A}/sros/{{sro_id}}/claim",
                                f"/agencies/{A}/sros/{{sro_id}}/claim/{{expense_id}}/delete"),
    # cmi5/SCORM packages (portal/standards); the package page shows each form (see prepare)
    "standards.upload": ("admin", "/providers/packages/", "/providers/packages/"),
    **{f"standards.{name}": ("admin", "/providers/packages/{std_package}", f"/providers/packages/{{std_package}}/{name}")
       for name in ("launch", "publish", "waive", "abandon", "delete")},
    "standards_learning.launch_lesson": ("learner", "", f"/learn/{COURSE}/lessons/{{lesson}}/package"),
}
# The two posts no page holds a <form> for: the lesson video's script (portal.js) and the
# certificate request (no template posts to it: the honor code issues the certificate); their
# fields, as the code reads them.
GIVEN_FIELDS = {"learning.save_position": ["seconds"], "certificates.issue": [],
                "assessments.save": ["attempt_id", "attempt_token", "q-1", "q-2"], "learning.lesson_time": ["visit"],
                "agencies.roster_records_apply": ["payload", "digest"],  # its form is on the preview page
                "agencies.decide_join": ["request_id", "decision"],  # shown only while someone asks to join
                "standards_learning.launch_lesson": []}  # on a cmi5/SCORM lesson's page; the world's are Markdown
# Posting these ends the browser's session; sign in again before the next example.
ENDS_SESSION = {"accounts.logout"}


def post_endpoints(app) -> set[str]:
    found = set()
    for rule in app.url_map.iter_rules():
        # The content origin's routes (std_content: cmi5 fetch, xAPI, SCORM runtime) hold no forms and
        # do not exist on the portal's origin (tests/security/test_csrf_everywhere.py checks that).
        if "POST" in rule.methods and not rule.endpoint.startswith("std_content."):
            found.add(rule.endpoint)
    return found


def test_every_post_route_is_fuzzed(app):
    listed = {key.split(":")[0] for key in ROUTES}
    missing = sorted(post_endpoints(app) - listed)
    assert missing == [], f"POST routes with no entry in ROUTES (add each, with the page showing its form): {missing}"
    assert sorted(listed - post_endpoints(app)) == [], "ROUTES lists endpoints that no longer exist"


# -- the form on the page -------------------------------------------------------------------------

class _Forms(HTMLParser):
    """The field names of every form posting to `path` (an action-less form posts to its page)."""

    def __init__(self, path: str, page_path: str):
        super().__init__(convert_charrefs=True)
        self.path, self.page_path = path, page_path
        self.inside, self.found, self.names, self.files, self.multipart = False, 0, [], set(), False

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "form":
            action = attrs.get("action") or self.page_path
            self.inside = action.split("?")[0] == self.path
            if self.inside:
                self.found += 1
                self.multipart |= (attrs.get("enctype") or "") == "multipart/form-data"
        elif self.inside and tag in ("input", "select", "textarea", "button") and attrs.get("name"):
            if attrs["name"] != "csrf_token" and attrs["name"] not in self.names:
                self.names.append(attrs["name"])
            if attrs.get("type") == "file":
                self.files.add(attrs["name"])

    def handle_endtag(self, tag):
        if tag == "form":
            self.inside = False


def form_on_page(client, page: str, path: str) -> tuple[list[str], set[str], bool]:
    response = client.get(page)
    assert response.status_code == 200, f"the form page {page} answered {response.status_code}"
    parser = _Forms(path, page)
    parser.feed(response.get_data(as_text=True))
    assert parser.found, f"{page} has no form posting to {path}: update ROUTES"
    return parser.names, parser.files, parser.multipart


# -- the world each form is fuzzed in --------------------------------------------------------------

def prepare(app, endpoint: str) -> dict:
    """The seeded world plus what this form needs to be on its page; values for the URLs."""
    from tests.helpers import PASSWORD, make_user

    world = build_world(app)
    values = dict(world.values)
    s = services(app)
    pack = app.extensions["packs"].get(COURSE)
    values["lesson"] = pack.lessons[0].id
    values["video_lesson"] = next(lesson.id for lesson in pack.lessons if lesson.video)
    values["episode"] = app.extensions["packs"].get(SERIES).lessons[0].id
    with s.database.engine.connect() as connection:
        ids = dict(connection.execute(text("SELECT email, id FROM user_account")).all())
    values["unverified_id"] = ids["new@example.gov"]
    values["inactive_id"] = make_user(app, email="inactive@example.gov", name="Ina Active", active=False).id
    values["staff_id"] = make_user(app, email="staff@example.gov", name="Stu Staff", roles=("support",)).id
    anonymous = app.test_client()
    if endpoint == "accounts.reset_password":
        submit(anonymous, "/account/password/forgot", {"email": "target@example.gov"})
        values["reset"] = link_in(outbox(app, "target@example.gov")[-1].body_text, "/account/password/reset/").rsplit("/", 1)[1]
    if endpoint == "accounts.verify":
        submit(anonymous, "/account/verify/resend", {"email": "new@example.gov"})
        values["verify"] = link_in(outbox(app, "new@example.gov")[-1].body_text, "/account/verify/").rsplit("/", 1)[1]
    if endpoint == "accounts.confirm_email_change":
        learner = signed_in(app, "learner@example.gov")
        submit(learner, "/account/profile/email", {"email": "changed@example.gov", "password": PASSWORD})
        values["confirm_email"] = link_in(outbox(app, "changed@example.gov")[-1].body_text,
                                          "/account/email/confirm/").rsplit("/", 1)[1]
    if endpoint.startswith("standards."):
        values["std_package"] = _std_package(app)
    if endpoint == "assessments.start":  # enrolled, nothing started: the page offers to start
        make_user(app, email="starter@example.gov", name="Stella Starter")
        enroll(signed_in(app, "starter@example.gov"))
    if endpoint in ("assessments.honor_code", "certificates.issue"):
        make_user(app, email="passer@example.gov", name="Pat Passer")
        passer = signed_in(app, "passer@example.gov")
        enroll(passer)
        take_test_scoring(passer, app, "pre", 5, "passer@example.gov")
        complete_all_lessons(passer, app)
        take_test_scoring(passer, app, "post", 10, "passer@example.gov")
        if endpoint == "certificates.issue":
            submit(passer, f"/learn/{COURSE}/honor-code", {"answer": "yes"})
    return values


def _std_package(app) -> str:
    """A cmi5 package with the administrator's preview registration and an open session, so that
    its page shows every form (launch, publish, waive, abandon, delete)."""
    from portal.standards import cmi5
    from portal.standards.importer import import_package
    from tests.helpers import get_user
    from tests.standards.test_import import LIMITS, VALID, zip_upload

    s, base = services(app), app.config["PORTAL_BASE_URL"]
    now = s.clock.now()
    with s.database.session() as db:
        package = import_package(db, s.storage, zip_upload(VALID), LIMITS, "Fuzz Provider", None, now)
        ids = cmi5.Ids(base, package.uid)
        registration = cmi5.registration_for(db, package, get_user(app, "admin@example.gov").id, base, now, ids)
        cmi5.launch(db, package, registration, 0, "Normal", now, ids, app.config["CONTENT_BASE_URL"], base)
        db.commit()
        return package.uid


EMAILS = {"learner": "learner@example.gov", "admin": "admin@example.gov", "coordinator": "coord@example.gov",
          "officer": "officer@example.gov", "target": "target@example.gov", "passer": "passer@example.gov",
          "starter": "starter@example.gov"}


def browser(app, actor: str):
    if actor == "anonymous":
        client = app.test_client()
        client.get("/account/login")  # a session, for the CSRF token
        return client
    return signed_in(app, EMAILS[actor])


# -- one request from generated fields --------------------------------------------------------------

def _files(names: set[str]) -> st.SearchStrategy:
    upload = st.tuples(st.one_of(st.binary(max_size=200), hostile_text.map(lambda t: t.encode("utf-8", "replace")),
                                 st.sampled_from([b"%PDF-1.4 x", b"\x89PNG\r\n\x1a\n", b"officer,award_number\n"])),
                       st.one_of(st.sampled_from(["roster.csv", "c.pdf", "c.png", "", "../../x.pdf"]), hostile_text),
                       st.sampled_from(["text/csv", "application/pdf", "image/png", "image/jpeg",
                                        "application/octet-stream", "text/html"]))
    return st.fixed_dictionaries({name: st.one_of(st.none(), upload) for name in sorted(names)})


def post_example(client, path: str, token: str, fields: dict, files: dict, multipart: bool):
    if multipart or files:
        data = {"csrf_token": token}
        for name, values in fields.items():
            data[name] = [v.decode("latin-1") if isinstance(v, bytes) else v for v in values]
        for name, upload in files.items():
            if upload is not None:
                content, filename, kind = upload
                data[name] = (io.BytesIO(content), filename.replace("\x00", ""), kind)
        return client.post(path, data=data, content_type="multipart/form-data")
    pairs = [("csrf_token", token)] + [(name, value) for name, values in fields.items() for value in values]
    body = urlencode([(k, v.encode("utf-8", "surrogatepass") if isinstance(v, str) else v) for k, v in pairs])
    return client.post(path, data=body, content_type="application/x-www-form-urlencoded")


# -- the fuzzing ---------------------------------------------------------------------------------

@pytest.mark.parametrize("key", sorted(ROUTES))
def test_form_survives_hostile_input(app, key):
    endpoint = key.split(":")[0]
    actor, page_template, path_template = ROUTES[key]
    values = prepare(app, endpoint)
    page, path = page_template.format(**values), path_template.format(**values)
    client = browser(app, actor)
    if page:
        names, file_names, multipart = form_on_page(client, page, path)
    else:
        names, file_names, multipart = GIVEN_FIELDS[endpoint], set(), False
    token = csrf_token(client, "/contact")
    assert invariant_problems(app) == [], "the world itself breaks an invariant"
    state = {"client": client, "token": token, "statuses": {}}

    @FUZZ_SETTINGS
    @given(fields=field_values([n for n in names if n not in file_names]), files=_files(file_names))
    def fuzz(fields, files):
        response = post_example(state["client"], path, state["token"], fields, files, multipart)
        status = response.status_code
        state["statuses"][status] = state["statuses"].get(status, 0) + 1
        assert status < 500, f"{key}: {status} for {fields!r}"[:2000]
        problems = invariant_problems(app)
        assert problems == [], f"{key}: after {fields!r}"[:1500] + f": {problems}"
        if endpoint in ENDS_SESSION:
            state["client"] = browser(app, actor)
            state["token"] = csrf_token(state["client"], "/contact")

    if os.environ.get("PORTAL_FUZZ_RANDOM") != "1":  # CI runs the same examples every time
        fuzz = seed(int.from_bytes(key.encode(), "little") % (2 ** 32))(fuzz)
    fuzz()
    # the form was really exercised: not every example may bounce off the CSRF check
    assert set(state["statuses"]) != {400} or endpoint in ("learning.save_position", "agencies.roster_records_apply"), \
        state["statuses"]  # the apply form carries only what a preview wrote: anything else is a 400


# -- the invariants themselves catch broken rows ----------------------------------------------------

BREAKAGES = {
    "an attempt score outside 0..100": "UPDATE attempt SET score = 101 WHERE submitted_at IS NOT NULL",
    "an attempt item without its attempt":
        "INSERT INTO attempt_item (attempt_id, position, question_id, choice_order) VALUES (999999, 0, 'q', 'a')",
    "an enrollment's post-test count that is not its submitted post-tests": "UPDATE enrollment SET post_attempts = 7",
    "item statistics disagree": "UPDATE item_stat SET answered = answered + 1",
    "an address that is not lower case":
        "UPDATE user_account SET email = 'Target@Example.gov' WHERE email = 'target@example.gov'",
    "an outbox message that cannot be sent": "UPDATE mail_outbox SET subject = 'a' || {newline} || 'Bcc: x@y.example'",
    "an agency with no coordinator": "UPDATE agency_member SET role = 'officer'",
    "a text longer than its column allows": "UPDATE user_account SET name = '{long}'",
    "two enrollments of one user in one course session":
        "INSERT INTO enrollment (user_id, pack_id, pack_version, session_year, enrolled_at, post_attempts) "
        "SELECT user_id, pack_id, pack_version, session_year, enrolled_at, 0 FROM enrollment",
    "two certificates for one enrollment": "INSERT INTO certificate (number, enrollment_id, user_id, pack_id, "
        "pack_version, learner_name, course_title, provider_name, completed_on, session_year, hours, accreditation, "
        "issued_at, status) SELECT number || 'X', enrollment_id, user_id, pack_id, pack_version, learner_name, "
        "course_title, provider_name, completed_on, session_year, hours, accreditation, issued_at, status "
        "FROM certificate",
}


@pytest.mark.parametrize("rule", sorted(BREAKAGES))
def test_each_invariant_catches_what_it_names(app, rule):
    """Break the rule behind the portal's back: the database refuses it, or the invariants name it."""
    from sqlalchemy.exc import DataError, IntegrityError

    build_world(app)
    submit(app.test_client(), "/contact", {"name": "N", "email": "n@example.gov", "subject": "S", "message": "M"})
    from tests.helpers import make_user
    from tests.learning.journey import reach_certificate

    make_user(app, email="certified@example.gov", name="Cert Ified")
    reach_certificate(signed_in(app, "certified@example.gov"), app, "certified@example.gov")
    assert invariant_problems(app) == []
    database = services(app).database
    sql = BREAKAGES[rule].replace("{long}", "x" * 121).replace(
        "{newline}", "CHR(10)" if database.engine.dialect.name == "postgresql" else "char(10)")
    try:
        with database.engine.begin() as connection:
            changed = connection.execute(text(sql)).rowcount
    except (IntegrityError, DataError):
        return  # the database itself guards this rule
    assert changed, f"the breakage changed nothing: {sql}"
    problems = invariant_problems(app)
    assert any(p.startswith(rule) for p in problems), problems
