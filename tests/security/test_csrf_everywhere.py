"""CSRF on every state-changing route and no writes on any GET, walked over app.url_map with
real ids (the seeded world of canary_pack/seeded.py), so routes added later are covered
without anyone editing a list.

Every POST rule is sent with a missing token, a tampered one, another user's, an anonymous
session's, and bad tokens in the htmx header instead, by the role that may use it, by a
learner and by a visitor: each is refused with the portal's 400 page and the database is
unchanged. A control request with the client's own token gets past the check, so the refusals
are the token's doing. Every GET rule is requested as the role that may see it, as a learner
and as a visitor, as a page and as an htmx fragment, and no row changes.

The one write a GET may make is to login_session.last_seen_at and expires_at, at most every
5 minutes per signed-in browser (portal/accounts/sessions.py: the idle expiry slides). On the
frozen clock they stay still, so the main walk ignores nothing; a second walk after a 6-minute
pause ignores exactly those two columns and checks that nothing else moved."""

from __future__ import annotations

import pytest

from tests.helpers import PASSWORD, csrf_token, log_in, snapshot
from tests.security.canary_pack import config
from tests.security.canary_pack.seeded import FINISHED, POST_OPEN, PRE_OPEN, World, build_world

CSRF_PAGE = "Your form expired or came from another page"
STATE_CHANGING = {"POST", "PUT", "PATCH", "DELETE"}


@pytest.fixture
def world(make_app, clock) -> World:
    return build_world(make_app(CLOCK=clock, **config()))


def form_data(w: World, endpoint: str) -> dict:
    """Form data that the view would accept, so that only the token decides the outcome."""
    new = "a fresh and entirely different passphrase"
    return {
        "site.contact": {"name": "Vic", "email": "vic@example.gov", "subject": "Hi", "message": "Hello"},
        "accounts.signup": {"name": "New Person", "email": "new@example.gov", "agency": "", "password": PASSWORD,
                            "confirm": PASSWORD},
        "accounts.verify_resend": {"email": "fresh@example.gov"},
        "accounts.login": {"email": FINISHED, "password": PASSWORD},
        "accounts.forgot_password": {"email": FINISHED},
        "accounts.reset_password": {"password": new, "confirm": new},
        "accounts.profile": {"name": "Renamed", "agency": "HQ"},
        "accounts.change_password": {"current_password": PASSWORD, "password": new, "confirm": new},
        "accounts.change_email": {"email": "moved@example.gov", "password": PASSWORD},
        "support.deactivate": {"reason": "test"},
        "support.change_role": {"role": "support"},
        "agencies.create": {"name": "Pine Police", "coordinator_email": POST_OPEN, "program_manager_email": ""},
        "agencies.new_award": {"award_number": "2026-UL-WX-0777", "award_date": "2026-04-01",
                               "funded_positions": "1"},
        "agencies.award": {"mou_submitted_on": "2026-05-01"},
        "agencies.new_sro": {"name": "Ofc. New", "role": "initial"},
        "agencies.sro": {"name": "Ofc. Renamed", "role": "initial"},
        "agencies.claim": {"category": "lodging", "description": "Hotel", "incurred_on": "2026-06-01",
                           "amount": "50.00"},
        "agencies.member_role": {"role": "coordinator"},
        "reports.providers": {"email": POST_OPEN, "provider": "Canary Test Provider"},
        "rollcall.log_showing": {"shown_on": "2026-06-15", "agency": "Elm City PD", "officers_present": "9"},
        "learning.save_position": {"seconds": "5"},
        "assessments.submit": {"attempt_id": str(w.ids["post_attempt"]), "q-1": "1"},
        "assessments.save": {"attempt_id": str(w.ids["post_attempt"]), "q-1": "1"},
        "assessments.honor_code": {"answer": "yes"},
        "standards.launch": {"au": "0", "mode": "Normal"},
        "standards.waive": {"registration": w.ids["std_registration"], "au": "0", "reason": "Administrative"},
        "standards.abandon": {"session": w.ids["std_session"]},
    }.get(endpoint, {})


# The control requests that would end the account's sessions, change its password or address
# run last, so the ones before them still have signed-in clients to work with.
LAST = ("standards.delete", "accounts.logout", "accounts.reset_password", "accounts.confirm_email_change")
# The content origin's routes (cmi5 fetch URL, xAPI LRS, SCORM runtime) answer only on
# CONTENT_BASE_URL's host, authorized by per-launch credentials, never by cookies: they have no
# CSRF token to check, and on the portal's origin they do not exist (checked below).
CONTENT_ORIGIN = "std_content"
# The control changes a password for real: another learner's, so the learner can still sign in.
CONTROL_EMAIL = {"accounts.change_password": PRE_OPEN}
# Links work without signing in; the control follows them as a visitor.
BY_LINK = ("accounts.verify", "accounts.reset_password", "accounts.confirm_email_change")


def post_rules(app) -> list:
    rules = [r for r in app.url_map.iter_rules()
             if r.methods & STATE_CHANGING and r.endpoint.split(".")[0] != CONTENT_ORIGIN]
    return sorted(rules, key=lambda r: (r.endpoint in LAST, LAST.index(r.endpoint) if r.endpoint in LAST else 0,
                                        r.rule))


def _tampered(token: str) -> str:
    return token[:-2] + ("AA" if not token.endswith("AA") else "BB")


def assert_refused(response, label):
    assert response.status_code == 400, (label, response.status_code)
    html = response.get_data(as_text=True)
    assert "<h1>Bad request</h1>" in html and CSRF_PAGE in html, label  # the page, or its htmx fragment
    assert "Traceback" not in html, label


def assert_the_walk_covers_every_state_changing_rule(world):
    """Only GET and POST are routed; every POST rule gets a real path (no stand-in values)."""
    app = world.app
    methods = set().union(*(r.methods for r in app.url_map.iter_rules()
                            if r.endpoint.split(".")[0] != CONTENT_ORIGIN)) - {"HEAD", "OPTIONS"}
    assert methods == {"GET", "POST"}, methods
    rules = post_rules(app)
    assert len(rules) >= 40
    for rule in rules:
        for path in world.paths(rule):
            assert "/x/" not in path and not path.endswith("/x"), (rule.endpoint, path)


def test_every_post_refuses_a_missing_wrong_or_foreign_token(world):
    app = world.app
    assert_the_walk_covers_every_state_changing_rule(world)
    other_user_token = csrf_token(world.client("other"), "/contact")
    anonymous_token = csrf_token(app.test_client(), "/contact")
    checked = 0
    for rule in post_rules(app):
        for path in world.paths(rule):
            data = form_data(world, rule.endpoint)
            for who in dict.fromkeys([world.role_for(rule.endpoint), "learner", "anonymous"]):
                client = world.client(who)
                own = csrf_token(client, "/contact")
                before = snapshot(app)
                variants = [("missing", data, {}), ("wrong", {**data, "csrf_token": _tampered(own)}, {}),
                            ("garbage", {**data, "csrf_token": "not-a-token"}, {}),
                            ("another user's", {**data, "csrf_token": other_user_token}, {}),
                            ("an anonymous session's", {**data, "csrf_token": anonymous_token}, {}),
                            ("wrong header", data, {"X-CSRFToken": _tampered(own), "HX-Request": "true"}),
                            ("another user's header", data, {"X-CSRFToken": other_user_token}),
                            ("anonymous header", data, {"X-CSRFToken": anonymous_token})]
                for label, sent, headers in variants:
                    assert_refused(client.post(path, data=sent, headers=headers), (rule.endpoint, path, who, label))
                    checked += 1
                assert snapshot(app) == before, (rule.endpoint, path, who)
    assert checked >= len(post_rules(app)) * 2 * 8


def test_the_content_origins_routes_do_not_exist_on_the_portals_origin(world):
    rules = [r for r in world.app.url_map.iter_rules() if r.endpoint.split(".")[0] == CONTENT_ORIGIN]
    assert len(rules) >= 10
    for rule in rules:
        for path in world.paths(rule):
            for method in rule.methods - {"HEAD", "OPTIONS"}:
                for who in ("learner", "admin", "anonymous"):
                    response = world.client(who).open(path, method=method)
                    assert response.status_code == 404, (rule.endpoint, method, who, response.status_code)


def test_a_good_token_gets_past_the_check_on_every_post(world):
    """The control: with the client's own token, each request reaches its view (a fresh
    sign-in per request, so no earlier control can spoil a later one)."""
    app = world.app
    emails = {"learner": FINISHED, "coordinator": "coord@example.gov", "admin": "admin@example.gov"}
    changed = []
    for rule in post_rules(app):
        role = world.role_for(rule.endpoint)
        for path in world.paths(rule):
            client = app.test_client()
            email = CONTROL_EMAIL.get(rule.endpoint, emails[role])
            if rule.endpoint not in BY_LINK:
                assert log_in(client, email).status_code == 302, (rule.endpoint, email)
            before = snapshot(app)
            response = client.post(path, data={**form_data(world, rule.endpoint),
                                               "csrf_token": csrf_token(client, "/contact")})
            body = response.get_data(as_text=True)
            assert response.status_code < 500, (rule.endpoint, path, response.status_code)
            assert CSRF_PAGE not in body, (rule.endpoint, path)
            changed.append(snapshot(app) != before)
    # Many really changed something (the rest are repeats the rules make no-ops, such as
    # enrolling again or issuing a certificate that exists): the walk is of real writes.
    assert sum(changed) >= len(changed) // 2, sum(changed)


def get_rules(app) -> list:
    return sorted((r for r in app.url_map.iter_rules()
                   if "GET" in r.methods and r.endpoint.split(".")[0] != CONTENT_ORIGIN), key=lambda r: r.rule)


def test_no_get_changes_the_database(world):
    app = world.app
    before = snapshot(app)
    walked, server_errors, as_role = 0, [], {}
    for rule in get_rules(app):
        role = world.role_for(rule.endpoint)
        for path in world.paths(rule):
            for who in dict.fromkeys([role, "learner", "other", "anonymous"]):
                for headers in ({}, {"HX-Request": "true"}):
                    response = world.client(who).get(path, headers=headers)
                    walked += 1
                    if response.status_code >= 500:
                        server_errors.append(f"{who} GET {path} {headers} -> {response.status_code}")
                    if who == role and not headers:
                        as_role[(rule.endpoint, path)] = response.status_code
            after = snapshot(app)
            assert after == before, (rule.endpoint, path, _changed_tables(before, after))
    assert not server_errors, "\n".join(server_errors)
    assert walked > 300
    # The walk is worth something only if the role it uses got each page itself, not a refusal.
    refused = {k: v for k, v in as_role.items() if v >= 400}
    assert not refused, refused
    assert as_role[("certificates.pdf", f"/certificates/{world.ids['certificate']}.pdf")] == 200
    assert as_role[("agencies.claim_pdf", f"/agencies/{world.ids['agency']}/sros/{world.ids['sro']}/claim.pdf")] == 200


SLIDING = {"login_session": {"last_seen_at", "expires_at"}}


def test_after_a_pause_a_get_moves_only_the_sessions_idle_clock(world, clock):
    """The one write a GET may make: at most every 5 minutes, a signed-in browser's session
    notes when it was last seen and slides its idle expiry. Nothing else, for any page."""
    app = world.app
    clock.advance(minutes=6)
    before_all, before = snapshot(app), snapshot(app, SLIDING)
    for rule in get_rules(app):
        for path in world.paths(rule):
            for who in dict.fromkeys([world.role_for(rule.endpoint), "learner", "anonymous"]):
                world.client(who).get(path)
            assert snapshot(app, SLIDING) == before, (rule.endpoint, path)
    after_all = snapshot(app)
    assert _changed_tables(before_all, after_all) == ["login_session"]  # the sessions did slide


def _changed_tables(before, after) -> list[str]:
    return sorted(t for t in set(before) | set(after) if before.get(t) != after.get(t))
