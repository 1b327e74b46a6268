"""The authorization matrix: every route of app.url_map, for GET and POST, against every role
(tests/security/world.py), with the outcome each role must get. A route added without an entry
here fails `test_every_route_has_an_entry`, so nobody ships a page whose access rule was never
decided (OWASP ASVS 5.0 V8: access is decided per function and per object, and denied by default).

Each case runs in a fresh copy of the role's browser with real object ids and, for POSTs, a valid
CSRF token of that role's session, so the answer is about access, not about a missing token.
POSTs send valid form data, so an allowed POST really does its work; the database is then put
back as built. A refused POST must leave every row as it was.

Outcomes:
  ok         2xx, or a redirect to a page that shows no error message
  login      a redirect to /account/login?next=… (for GETs, next is the requested address)
  forbidden  403           missing    404 (what someone else's object looks like, too)
  refused    a redirect to a page that shows an error message (the rule said no; nothing written)
  conflict   409
"""

from __future__ import annotations

import io
from urllib.parse import parse_qs, urlsplit

import pytest

from tests.helpers import PASSWORD, path_for
from tests.security.world import COURSE, EMAILS, ROLES, SERIES, TOKENS

NEW_PASSWORD = "a different passphrase for the matrix"
ROSTER = (b"officer,award_number,award_date,hire_date,role,placement_date,training_completed,expenses_submitted\n"
          b"J. Smith,2026-UL-WX-00A1,2026-03-02,2026-04-15,initial,,,\n")


# -- who gets what -------------------------------------------------------------------------
# Role order: anonymous, unverified, learner, outsider, provider, other_provider, support, admin,
# coordinator, other_officer (see world.py for who each one is).

def row(default: str, anonymous: str = "login", **roles: str) -> dict[str, str]:
    """The outcome for every role: `default`, anonymous visitors `anonymous`, and exceptions by name."""
    unknown = set(roles) - set(ROLES)
    assert not unknown, unknown
    return {role: roles.get(role, anonymous if role == "anonymous" else default) for role in ROLES}


PUBLIC = row("ok", anonymous="ok")
SIGNED_IN = row("ok")
LEARNER_ONLY = row("missing", learner="ok")        # the learner's own enrollment, attempt or certificate
COORDINATOR_ONLY = row("missing", coordinator="ok")  # agency A's records: everyone else gets a plain 404
SUPPORT_STAFF = row("forbidden", support="ok", admin="ok")
ADMIN_ONLY = row("forbidden", admin="ok")
REPORT_READERS = row("forbidden", provider="ok", other_provider="ok", admin="ok")
COURSE_REPORT_READERS = row("forbidden", provider="ok", other_provider="missing", admin="ok")

MATRIX: dict[tuple[str, str], dict[str, str]] = {
    # site, health, static files and pack files: public
    ("site.home", "GET"): PUBLIC,
    ("site.healthz", "GET"): PUBLIC,
    ("site.readyz", "GET"): PUBLIC,
    # /metrics is allowed by client address or token, not by role (tests/test_observability.py);
    # the matrix's clients are on 127.0.0.1, which the default METRICS_ALLOW admits.
    ("ops_metrics", "GET"): PUBLIC,
    ("site.faq", "GET"): PUBLIC,
    ("site.contact", "GET"): PUBLIC,
    ("site.contact", "POST"): PUBLIC,
    ("site.contact_sent", "GET"): PUBLIC,
    ("assets.serve", "GET"): PUBLIC,
    ("packs.pack_file", "GET"): PUBLIC,
    ("catalog.index", "GET"): PUBLIC,
    ("catalog.course", "GET"): PUBLIC,
    ("rollcall.series", "GET"): PUBLIC,
    ("rollcall.series_download", "GET"): PUBLIC,
    ("rollcall.episode", "GET"): PUBLIC,
    ("rollcall.projector", "GET"): PUBLIC,
    ("rollcall.resources", "GET"): PUBLIC,
    ("rollcall.index", "GET"): PUBLIC,
    # public verification of a certificate by its number (printed on the certificate for employers)
    ("certificates.verify_form", "GET"): PUBLIC,
    ("certificates.verify", "GET"): PUBLIC,
    # accounts: the forms for visitors are open to all (signed-in people are sent on); mailed links
    # are capabilities, so whoever holds the link may use it
    ("accounts.login", "GET"): PUBLIC,
    ("accounts.login", "POST"): PUBLIC,
    ("accounts.logout", "POST"): PUBLIC,
    ("accounts.signup", "GET"): PUBLIC,
    ("accounts.signup", "POST"): PUBLIC,
    ("accounts.verify_sent", "GET"): PUBLIC,
    ("accounts.verify_resend", "GET"): PUBLIC,
    ("accounts.verify_resend", "POST"): PUBLIC,
    ("accounts.verify", "GET"): PUBLIC,
    ("accounts.verify", "POST"): PUBLIC,
    ("accounts.forgot_password", "GET"): PUBLIC,
    ("accounts.forgot_password", "POST"): PUBLIC,
    ("accounts.forgot_password_sent", "GET"): PUBLIC,
    ("accounts.reset_password", "GET"): PUBLIC,
    ("accounts.reset_password", "POST"): PUBLIC,
    ("accounts.confirm_email_change", "GET"): PUBLIC,
    ("accounts.confirm_email_change", "POST"): PUBLIC,
    # one's own account
    ("accounts.profile", "GET"): SIGNED_IN,
    ("accounts.profile", "POST"): SIGNED_IN,
    ("accounts.change_password", "GET"): SIGNED_IN,
    ("accounts.change_password", "POST"): SIGNED_IN,
    ("accounts.change_email", "GET"): SIGNED_IN,
    ("accounts.change_email", "POST"): SIGNED_IN,
    # learning: enrolling needs a confirmed address; everything past it needs one's own enrollment
    ("learning.enroll", "POST"): row("ok", unverified="refused"),
    ("learning.my_courses", "GET"): SIGNED_IN,
    ("learning.resume", "GET"): SIGNED_IN,  # the enrolled resume; others are sent to the course page
    ("learning.lesson", "GET"): LEARNER_ONLY,
    ("learning.complete", "POST"): LEARNER_ONLY,
    ("learning.save_position", "POST"): LEARNER_ONLY,
    ("learning.lesson_time", "POST"): LEARNER_ONLY,
    ("assessments.test", "GET"): LEARNER_ONLY,
    ("assessments.start", "POST"): row("missing", learner="refused"),  # passed already: no new attempt
    ("assessments.save", "POST"): row("missing", learner="refused"),  # its attempt is submitted: refused with a message
    ("assessments.submit", "POST"): LEARNER_ONLY,  # submitted already: answers with its first result
    ("assessments.result", "GET"): LEARNER_ONLY,
    ("assessments.honor_code", "GET"): LEARNER_ONLY,
    ("assessments.honor_code", "POST"): LEARNER_ONLY,
    ("certificates.issue", "POST"): LEARNER_ONLY,
    ("certificates.mine", "GET"): SIGNED_IN,
    ("certificates.view", "GET"): LEARNER_ONLY,
    ("certificates.pdf", "GET"): LEARNER_ONLY,
    # roll call: any signed-in trainer logs showings; a showing is its trainer's alone
    ("rollcall.log_showing", "GET"): SIGNED_IN,
    ("rollcall.log_showing", "POST"): row("ok", unverified="forbidden"),  # a showing enters others' history
    ("rollcall.my_log", "GET"): SIGNED_IN,
    ("rollcall.my_log_csv", "GET"): SIGNED_IN,
    ("rollcall.delete", "POST"): COORDINATOR_ONLY,  # showing A was logged by the coordinator
    ("rollcall.history", "GET"): SIGNED_IN,
    # staff
    ("support.search", "GET"): SUPPORT_STAFF,
    ("support.user_detail", "GET"): SUPPORT_STAFF,
    ("support.contact_requests", "GET"): SUPPORT_STAFF,
    ("support.confirm", "POST"): SUPPORT_STAFF,
    ("support.send_reset", "POST"): SUPPORT_STAFF,
    ("support.deactivate", "POST"): SUPPORT_STAFF,
    ("support.reactivate", "POST"): SUPPORT_STAFF,
    ("support.change_role", "POST"): ADMIN_ONLY,
    ("support.audit", "GET"): ADMIN_ONLY,
    ("admin.packs", "GET"): ADMIN_ONLY,
    # reports: administrators see every course, provider staff their own provider's courses only
    ("reports.index", "GET"): REPORT_READERS,
    ("reports.courses_csv", "GET"): REPORT_READERS,
    ("reports.completions_csv", "GET"): REPORT_READERS,
    ("reports.items", "GET"): COURSE_REPORT_READERS,
    ("reports.items_csv", "GET"): COURSE_REPORT_READERS,
    ("reports.providers", "GET"): ADMIN_ONLY,
    ("reports.providers", "POST"): ADMIN_ONLY,
    # cmi5 packages: provider staff and administrators; the world has no package, so a package's
    # pages answer as missing to those allowed in (tests/standards covers real packages); the
    # upload form posted without a file is refused with a 422
    ("standards.upload", "GET"): REPORT_READERS,
    ("standards.upload", "POST"): row("forbidden", provider="invalid", other_provider="invalid", admin="invalid"),
    **{(f"standards.{name}", method): row("forbidden", provider="missing", other_provider="missing",
                                          admin="missing")
       for name, method in (("package", "GET"), ("launch", "POST"), ("publish", "POST"), ("delete", "POST"),
                            ("waive", "POST"), ("abandon", "POST"))},
    # a course lesson made of a cmi5 AU or SCORM SCO: the world's lesson is Markdown, so the launch
    # answers as missing to the enrolled learner too (tests/standards/test_pack_lessons.py launches)
    ("standards_learning.launch_lesson", "POST"): row("missing"),
    # the content origin's routes do not exist on the portal's origin, for anyone
    **{(f"std_content.{name}", method): row("missing", anonymous="missing")
       for name, methods in (("package_file", "GET"), ("fetch", "POST"), ("preflight", ""), ("about", "GET"),
                             ("statements", "GET PUT POST"), ("state", "GET PUT POST DELETE"),
                             ("agent_profile", "GET PUT POST DELETE"),
                             ("activity_profile", "GET PUT POST DELETE"), ("activities", "GET"),
                             ("agents", "GET"), ("scorm_api", "GET"), ("scorm_player", "GET"),
                             ("scorm_data", "GET"), ("scorm_commit", "POST"))
       for method in methods.split()},
    # agencies: membership pages for everyone signed in; agency A's records for its coordinator only
    ("agencies.home", "GET"): SIGNED_IN,
    ("agencies.create", "POST"): ADMIN_ONLY,
    ("agencies.join", "GET"): SIGNED_IN,
    # members of A join again harmlessly; a member of B must leave B first; an unconfirmed address may not
    ("agencies.join", "POST"): row("ok", unverified="forbidden", other_officer="conflict"),
    # the last coordinator may not leave; people in no agency have nothing to leave
    ("agencies.leave", "POST"): row("refused", learner="ok", other_officer="ok"),
    ("agencies.dashboard", "GET"): COORDINATOR_ONLY,
    # the world holds no request to join, so even its coordinator finds none: a plain 404
    ("agencies.decide_join", "POST"): row("missing"),
    ("agencies.settings", "GET"): COORDINATOR_ONLY,
    ("agencies.post_export", "GET"): COORDINATOR_ONLY,
    ("agencies.settings", "POST"): COORDINATOR_ONLY,
    ("agencies.members", "GET"): COORDINATOR_ONLY,
    ("agencies.invite", "POST"): COORDINATOR_ONLY,
    ("agencies.revoke", "POST"): COORDINATOR_ONLY,
    ("agencies.member_role", "POST"): COORDINATOR_ONLY,
    ("agencies.roster_import", "POST"): COORDINATOR_ONLY,
    ("agencies.roster_export", "GET"): COORDINATOR_ONLY,
    ("agencies.roster_records", "GET"): COORDINATOR_ONLY,
    ("agencies.roster_records_preview", "POST"): COORDINATOR_ONLY,
    # the coordinator's post names no previewed file here: a 409 (upload again), nothing written
    ("agencies.roster_records_apply", "POST"): row("missing", coordinator="conflict"),
    ("agencies.award_edit", "GET"): COORDINATOR_ONLY,
    ("agencies.award_edit", "POST"): COORDINATOR_ONLY,
    # the world's award has SROs: deleting it is refused until they are gone
    ("agencies.award_delete", "POST"): row("missing", coordinator="refused"),
    ("agencies.sro_delete", "POST"): COORDINATOR_ONLY,
    ("agencies.member_remove", "POST"): COORDINATOR_ONLY,
    ("agencies.new_award", "GET"): COORDINATOR_ONLY,
    ("agencies.new_award", "POST"): COORDINATOR_ONLY,
    ("agencies.award", "GET"): COORDINATOR_ONLY,
    ("agencies.award", "POST"): COORDINATOR_ONLY,
    ("agencies.new_sro", "GET"): COORDINATOR_ONLY,
    ("agencies.new_sro", "POST"): COORDINATOR_ONLY,
    ("agencies.sro", "GET"): COORDINATOR_ONLY,
    ("agencies.sro", "POST"): COORDINATOR_ONLY,
    ("agencies.sro_certificate", "GET"): COORDINATOR_ONLY,
    ("agencies.certificate_mail", "GET"): COORDINATOR_ONLY,
    ("agencies.claim", "GET"): COORDINATOR_ONLY,
    ("agencies.claim", "POST"): COORDINATOR_ONLY,
    ("agencies.delete_expense", "POST"): COORDINATOR_ONLY,
    ("agencies.claim_pdf", "GET"): COORDINATOR_ONLY,
}


# -- how each case is asked --------------------------------------------------------------

def url_values(world, endpoint: str) -> dict:
    """The real objects a route is asked about: the learner's, agency A's, showing A."""
    ids = world.ids
    values = {"pack_id": SERIES if endpoint.startswith("rollcall.") else COURSE, "lesson_id": ids["lesson"],
              "episode_id": ids["episode"], "kind": "post", "attempt_id": ids["attempt"],
              "number": ids["certificate"], "version": ids["pack_version"], "filename": ids["pack_file"],
              "versioned": ids["asset"], "showing_id": ids["showing_a"], "agency_id": ids["agency_a"],
              "award_id": ids["award_a"], "sro_id": ids["sro_a"], "expense_id": ids["expense_a"],
              "invite_id": ids["invite_a"], "member_id": ids["member_a"], "user_id": ids["user_subject"],
              "action": "grant", "uid": "00000000-0000-4000-8000-000000000000", "content_key": "none",
              "path": "index.html", "fetch_key": "none", "resource": "statements"}
    values["token"] = {"accounts.verify": TOKENS["verify"], "accounts.reset_password": TOKENS["reset"],
                       "accounts.confirm_email_change": TOKENS["change_email"],
                       "agencies.join": ids["invite_token_a"]}.get(endpoint, "")
    if endpoint == "support.confirm":
        values["user_id"] = ids["user_unverified"]
    elif endpoint == "support.reactivate":
        values["user_id"] = ids["user_inactive"]
    return values


QUERIES = {"reports.items": "?course=" + COURSE, "reports.items_csv": "?course=" + COURSE}


def sro_form(**more) -> dict:
    return {"name": "Ofc. Changed", "role": "initial", "hire_date": "2026-04-15", "placement_date": "",
            "training_completed": "2026-06-01", "expenses_submitted": "", **more}


def form_data(world, endpoint: str) -> dict:
    """Valid form data for each POST, so that an allowed request does its work."""
    ids = world.ids
    forms = {
        "accounts.login": {"email": EMAILS["subject"], "password": PASSWORD},
        "accounts.signup": {"name": "New Person", "email": "new-person@example.gov", "agency": "",
                            "password": NEW_PASSWORD, "confirm": NEW_PASSWORD},
        "accounts.verify_resend": {"email": EMAILS["unverified"]},
        "accounts.forgot_password": {"email": EMAILS["subject"]},
        "accounts.reset_password": {"password": NEW_PASSWORD, "confirm": NEW_PASSWORD},
        "accounts.profile": {"name": "Changed Name", "agency": "Changed Agency"},
        "accounts.change_password": {"current_password": PASSWORD, "password": NEW_PASSWORD,
                                     "confirm": NEW_PASSWORD},
        "accounts.change_email": {"email": "moved@example.gov", "password": PASSWORD},
        "site.contact": {"name": "Pat Visitor", "email": "visitor@example.gov", "subject": "Question",
                         "message": "How do I enroll?"},
        "learning.save_position": {"seconds": "12"},
        "assessments.submit": {"attempt_id": str(ids["attempt"])},
        "assessments.save": {"attempt_id": str(ids["attempt"])},
        "assessments.honor_code": {"answer": "yes"},
        "rollcall.log_showing": {"shown_on": "2026-06-15", "agency": "Elm City PD", "officers_present": "12",
                                 "attendees": "", "notes": "matrix"},
        "support.confirm": {"reason": "matrix"}, "support.send_reset": {"reason": "matrix"},
        "support.deactivate": {"reason": "matrix"}, "support.reactivate": {"reason": "matrix"},
        "support.change_role": {"role": "support"},
        "reports.providers": {"email": EMAILS["subject"], "provider": ids["provider_name"]},
        "agencies.create": {"name": "New Agency", "coordinator_email": EMAILS["subject"],
                            "program_manager_email": ""},
        "agencies.member_role": {"role": "coordinator"},
        "agencies.settings": {"program_manager_email": "pm@cops.example.gov"},
        "agencies.roster_import": {"as_of": "2026-06-15", "roster": (io.BytesIO(ROSTER), "roster.csv", "text/csv")},
        "agencies.roster_records_preview": {"roster": (io.BytesIO(ROSTER), "roster.csv", "text/csv")},
        "agencies.new_award": {"award_number": "NEW-1", "award_date": "2026-04-01", "funded_positions": "1",
                               "mou_submitted_on": ""},
        "agencies.award": {"mou_submitted_on": "2026-05-01"},
        "agencies.award_edit": {"award_number": "EDITED-1", "award_date": "2026-03-02", "funded_positions": "5",
                                "mou_submitted_on": ""},
        "agencies.new_sro": sro_form(role="backfill", placement_date="2026-05-01"),
        "agencies.sro": sro_form(),
        "agencies.claim": {"category": "lodging", "description": "Hotel", "incurred_on": "2026-06-01",
                           "amount": "50.00"},
    }
    return forms.get(endpoint, {})


def rules_by_endpoint(app) -> dict[str, object]:
    return {rule.endpoint: rule for rule in app.url_map.iter_rules()}


def path_of(world, endpoint: str) -> str:
    rule = rules_by_endpoint(world.app)[endpoint]
    return path_for(world.app, rule, url_values(world, endpoint)) + QUERIES.get(endpoint, "")


def ask(world, role: str, endpoint: str, method: str, headers: dict | None = None):
    """One request as the role, in a fresh copy of its browser; returns (client, path, response)."""
    client = world.browser(role)
    path = path_of(world, endpoint)
    if method == "GET":
        return client, path, client.get(path, headers=headers or {})
    data = {"csrf_token": world.csrf(role), **form_data(world, endpoint)}
    return client, path, client.post(path, data=data)


def outcome(client, method: str, path: str, response) -> str:
    status = response.status_code
    if 200 <= status < 300:
        return "ok"
    if 300 <= status < 400:
        location = urlsplit(response.headers["Location"])
        if location.path == "/account/login" and "next" in parse_qs(location.query):
            if method == "GET":
                assert parse_qs(location.query)["next"] == [path], f"log-in sends back to {location.query}"
            return "login"
        assert not location.netloc or location.netloc == "portal.test", f"redirect off site: {location}"
        landing = client.get(location.path + (f"?{location.query}" if location.query else ""),
                             follow_redirects=True)
        return "refused" if 'class="flash error"' in landing.get_data(as_text=True) else "ok"
    return {400: "bad", 403: "forbidden", 404: "missing", 405: "method", 409: "conflict",
            422: "invalid"}.get(status, f"status {status}")


# -- the tests -----------------------------------------------------------------------------



def routes(app) -> set[tuple[str, str]]:
    return {(rule.endpoint, method) for rule in app.url_map.iter_rules()
            for method in rule.methods - {"HEAD", "OPTIONS"}}


def test_every_route_has_an_entry(app):
    """A new route, or a new method on one, needs its row here before it can ship."""
    in_app = routes(app)
    missing = sorted(in_app - set(MATRIX))
    stale = sorted(set(MATRIX) - in_app)
    assert not missing, "routes with no entry in the authorization matrix:\n" + "\n".join(map(str, missing))
    assert not stale, "matrix entries for routes that no longer exist:\n" + "\n".join(map(str, stale))
    assert all(set(outcomes) == set(ROLES) for outcomes in MATRIX.values())


def check(world, role: str, endpoint: str, method: str, expected: str, failures: list, headers=None):
    """Ask once and note any difference from the matrix; returns the response (None if it broke)."""
    label = ("htmx " if headers else "") + f"{method} {path_of(world, endpoint)}"
    try:
        client, path, response = ask(world, role, endpoint, method, headers)
        got = outcome(client, method, path, response)
    except AssertionError as error:
        failures.append(f"{label}: {error}")
        return None, "?"
    if got != expected:
        failures.append(f"{label}: expected {expected}, got {got} ({response.status_code})")
    return response, got


@pytest.mark.parametrize("role", ROLES)
def test_each_role_gets_what_the_matrix_says(world, role):
    failures = []
    gets = sorted(key for key in MATRIX if key[1] == "GET")
    posts = sorted(key for key in MATRIX if key[1] == "POST")
    for endpoint, method in gets:
        expected = MATRIX[(endpoint, method)][role]
        response, _ = check(world, role, endpoint, method, expected, failures)
        if MATRIX[(endpoint, method)] != PUBLIC and response is not None and response.mimetype == "text/html":
            # an htmx request gets a fragment of the page: the same page to the access rules
            check(world, role, endpoint, method, expected, failures, headers={"HX-Request": "true"})
    if world.changed():
        failures.append(f"the GET requests wrote: {world.diff()}")
        world.reset()
    for endpoint, method in posts:
        expected = MATRIX[(endpoint, method)][role]
        _, got = check(world, role, endpoint, method, expected, failures)
        if "ok" in (expected, got):
            world.reset()
        elif world.changed():
            failures.append(f"POST {path_of(world, endpoint)} was refused ({got}) but wrote: {world.diff()}")
            world.reset()
    assert not failures, f"{role}:\n" + "\n".join(failures)


@pytest.mark.parametrize("action", ["confirm", "send-reset", "deactivate", "reactivate"])
def test_support_staff_help_learners_but_never_act_on_staff_accounts(world, action):
    """Within the support pages, the object decides too: only an administrator acts on a staff
    account (a support member could otherwise, say, have reset links mailed to an administrator)."""
    client = world.browser("support")
    response = client.post(f"/support/users/{world.ids['user_admin']}/{action}",
                           data={"csrf_token": world.csrf("support"), "reason": "matrix"})
    assert response.status_code == 303
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Only an administrator can change a staff account." in page
    assert not world.changed(), world.diff()


def test_an_administrator_may_act_on_staff_accounts(world):
    client = world.browser("admin")
    response = client.post(f"/support/users/{world.ids['user_support']}/send-reset",
                           data={"csrf_token": world.csrf("admin"), "reason": ""})
    assert outcome(client, "POST", "", response) == "ok"
    assert "mail_outbox" in world.diff()
    world.reset()
