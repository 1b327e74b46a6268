"""Tampering: extra or changed fields on every form are ignored or refused, ids of other
people's rows are refused, and the learner's steps cannot be skipped or repeated.

Each form is posted with its real fields plus a set of forged ones (score, passed, user_id,
email_verified, is_active, role, another pack, another agency, another learner's enrollment
or attempt, ...). The database is compared row by row before and after: the request must
either be refused (4xx) with nothing changed, or change exactly what its real fields ask for,
in rows that belong to whoever sent it, as if the forged fields were not there."""

from __future__ import annotations

import pytest
from sqlalchemy import text as sql

from tests.helpers import PASSWORD, csrf_token, get_user, services
from tests.learning.journey import (answers_scoring, attempts_of_user, enrollments_of_user, field_and_values,
                                    items_of, open_attempt_of, pack)
from tests.rollcall.support import SERIES
from tests.security.canary_pack import PACK_ID, config
from tests.security.canary_pack.rows import allowed, changes, inserted, owned, table_rows, updated
from tests.security.canary_pack.seeded import (COORDINATOR, FINISHED, POST_OPEN, PRE_OPEN, SCORE_MARKER, World,
                                               build_world)

INTRO = "intro-sro-programs"


@pytest.fixture
def world(make_app, clock) -> World:
    return build_world(make_app(CLOCK=clock, **config()))


# -- forged fields -------------------------------------------------------------------------------------

def forged(w: World) -> dict:
    """Fields no form has, set to what an attacker would want. A form's own fields win."""
    other_user = w.user_id(POST_OPEN)
    other_enrollment = enrollments_of_user(w.app, POST_OPEN, PACK_ID)[0].id
    return {
        "score": "100", "passed": "1", "correct_count": "99", "pre_score": "100", "best_post_score": "100",
        "user_id": str(other_user), "id": str(other_user), "trainer_id": str(other_user),
        "actor_id": str(other_user), "created_by": str(other_user),
        "email_verified": "1", "email_verified_at": "2020-01-01T00:00:00", "verified": "1",
        "is_active": "0", "active": "0", "role": "admin", "roles": "admin", "is_admin": "1", "admin": "1",
        "pack_id": INTRO, "course": INTRO, "pack_version": "0.0.1", "kind": "pre", "session_year": "2020",
        "agency_id": str(w.ids["other_agency"]), "award_id": str(w.ids["other_award"]),
        "sro_id": str(w.ids["other_sro"]), "enrollment_id": str(other_enrollment),
        "attempt_id": str(w.ids["other_post_attempt"]), "passed_at": "2026-01-02T00:00:00",
        "email": "mallory@example.gov", "password_hash": "x", "name": "Mallory", "learner_name": "Mallory",
        "hours": "99", "certificate_key": "agencies/2/sro/2/certificate.pdf", "status": "revoked",
        "number": "PSTP-2026-AAAA-AAAA", "created_at": "2000-01-01T00:00:00", "amount": "99999.00",
    }


def post(w: World, role: str, path: str, data: dict, tamper=True):
    """POST with the client's real token, the form's fields and every forged field it lacks."""
    client = w.client(role)
    extra = {k: v for k, v in forged(w).items() if k not in data} if tamper else {}
    response = client.post(path, data={**extra, **data, "csrf_token": csrf_token(client, "/contact")})
    # Refusals here must be the view's, not the CSRF check's, or they would prove nothing.
    assert "Your form expired" not in response.get_data(as_text=True), (role, path)
    return response


def assert_ignored_or_refused(w: World, role: str, path: str, data: dict, allow: dict, owners: dict,
                              effect=None):
    """The forged request either changes only what `allow` permits, in rows owned as `owners`
    says, with `effect(changes)` true, or is refused with a 4xx and changes nothing."""
    before = table_rows(w.app)
    response = post(w, role, path, data)
    made = changes(before, table_rows(w.app))
    label = f"{role} POST {path}"
    assert response.status_code < 500, (label, response.status_code)
    if response.status_code >= 400:
        assert not made, (label, response.status_code, [str(c) for c in made])
        return response, made
    problems = allowed(made, allow)
    for column, values in owners.items():
        problems += owned(made, column, values)
    assert not problems, f"{label}:\n" + "\n".join(problems)
    if effect is not None:
        assert effect(made), f"{label}: the real fields had no effect: {[str(c) for c in made]}"
    return response, made


# -- the learner's forms --------------------------------------------------------------------------------

def test_the_learners_forms_ignore_forged_fields(world):
    w, app = world, world.app
    me, other = w.user_id(PRE_OPEN), w.user_id(POST_OPEN)
    mine = lambda: {e.id for e in enrollments_of_user(app, PRE_OPEN, PACK_ID)}  # noqa: E731

    # Enroll in the intro course: the enrollment is the sender's, in this session, not passed.
    _, made = assert_ignored_or_refused(
        w, "pre_open", f"/courses/{INTRO}/enroll", {}, {"enrollment": {"insert"}},
        {"user_id": {me}, "pack_id": {INTRO}, "session_year": {2026}, "passed_at": {None}, "pre_score": {None}},
        effect=lambda m: len(inserted(m, "enrollment")) == 1)

    # The pre-test, one of four right, with score=100 and another learner's ids forged.
    attempt, items = open_attempt_of(app, "pre", PRE_OPEN, PACK_ID)
    data = answers_scoring(app, attempt, items, 1, PACK_ID)
    _, made = assert_ignored_or_refused(
        w, "pre_open", f"/learn/{PACK_ID}/tests/pre/submit", data,
        {"attempt": {"submitted_at", "correct_count", "score"}, "attempt_item": {"chosen", "correct"},
         "enrollment": {"pre_score", "last_activity_at"}, "item_stat": {"insert", "answered", "correct"}},
        {"attempt.id": {attempt.id}, "attempt_item.attempt_id": {attempt.id}, "enrollment.user_id": {me},
         "pack_id": {PACK_ID}},
        effect=lambda m: bool(updated(m, "attempt")))
    [pre] = [a for a in attempts_of_user(app, PRE_OPEN, "pre", PACK_ID)]
    assert (pre.score, pre.correct_count, pre.passed) == (25.0, 1, None)

    # Each lesson, with another lesson, enrollment and completion time forged.
    for lesson in pack(app, PACK_ID).lessons:
        _, made = assert_ignored_or_refused(
            w, "pre_open", f"/learn/{PACK_ID}/lessons/{lesson.id}/complete",
            {"lesson_id": "no-such-lesson", "completed_at": "2020-01-01T00:00:00"},
            {"lesson_progress": {"insert"}, "enrollment": {"last_lesson_id", "last_activity_at"}},
            {"enrollment_id": mine(), "lesson_id": {lesson.id}, "enrollment.user_id": {me}},
            effect=lambda m: len(inserted(m, "lesson_progress")) == 1)

    # The post-test opens for the sender, as a post-test of this course (kind=pre forged).
    _, made = assert_ignored_or_refused(
        w, "pre_open", f"/learn/{PACK_ID}/tests/post/start", {},
        {"attempt": {"insert"}, "attempt_item": {"insert"}},
        {"enrollment_id": mine(), "attempt.kind": {"post"}, "pack_id": {PACK_ID}, "attempt.number": {1}},
        effect=lambda m: len(inserted(m, "attempt")) == 1)

    # Failing it with score=100 and passed=1 forged: failed, not passed, no pass date.
    attempt, items = open_attempt_of(app, "post", PRE_OPEN, PACK_ID)
    _, made = assert_ignored_or_refused(
        w, "pre_open", f"/learn/{PACK_ID}/tests/post/submit", answers_scoring(app, attempt, items, 2, PACK_ID),
        {"attempt": {"submitted_at", "correct_count", "score", "passed"}, "attempt_item": {"chosen", "correct"},
         "enrollment": {"post_attempts", "best_post_score", "first_post_passed", "last_activity_at"},
         "item_stat": {"insert", "answered", "correct"}},
        {"attempt.id": {attempt.id}, "attempt_item.attempt_id": {attempt.id}, "enrollment.user_id": {me},
         "pack_id": {PACK_ID}},
        effect=lambda m: bool(updated(m, "attempt")))
    post_attempt = attempts_of_user(app, PRE_OPEN, "post", PACK_ID)[-1]
    assert (post_attempt.score, post_attempt.passed) == (40.0, False)
    assert enrollments_of_user(app, PRE_OPEN, PACK_ID)[0].passed_at is None

    # The honor code after passing, with another name, user, pack and hours forged on it.
    attempt, items = open_attempt_of(app, "post", POST_OPEN, PACK_ID)
    data = answers_scoring(app, attempt, items, 5, PACK_ID)
    assert post(w, "other", f"/learn/{PACK_ID}/tests/post/submit", data).status_code == 303
    [enrollment] = enrollments_of_user(app, POST_OPEN, PACK_ID)
    _, made = assert_ignored_or_refused(
        w, "other", f"/learn/{PACK_ID}/honor-code", {"answer": "yes"},
        {"attestation": {"insert"}, "certificate": {"insert"}, "stored_file": {"insert"}},
        {"user_id": {other}, "enrollment_id": {enrollment.id}, "pack_id": {PACK_ID},
         "learner_name": {"Olive Open"}, "course_title": {"Canary Course"}, "status": {"valid"}},
        effect=lambda m: len(inserted(m, "certificate")) == 1 and len(inserted(m, "attestation")) == 1)
    [certificate] = inserted(made, "certificate")
    assert certificate["hours"] == pack(app, PACK_ID).estimated_hours
    assert certificate["number"] != "PSTP-2026-AAAA-AAAA"

    # Logging a showing: the sender is the trainer, the series is the URL's.
    episode = app.extensions["packs"].get(SERIES).lessons[0].id
    _, made = assert_ignored_or_refused(
        w, "other", f"/series/{SERIES}/{episode}/log",
        {"shown_on": "2026-06-15", "agency": "Elm City PD", "officers_present": "3", "attendees": PRE_OPEN},
        {"rollcall_showing": {"insert"}, "rollcall_attendee": {"insert"}},
        {"trainer_id": {other}, "pack_id": {SERIES}, "episode_id": {episode}, "rollcall_attendee.user_id": {me}},
        effect=lambda m: len(inserted(m, "rollcall_showing")) == 1)


# -- account, support, agency and report forms ---------------------------------------------------------

def test_account_forms_ignore_forged_fields(world):
    w, app = world, world.app
    me = w.user_id(FINISHED)
    before_user = get_user(app, FINISHED)

    _, made = assert_ignored_or_refused(
        w, "learner", "/account/profile", {"name": "Pat Renamed", "agency": "Elm City PD"},
        {"user_account": {"name", "agency"}}, {"user_account.id": {me}},
        effect=lambda m: any(r["name"] == "Pat Renamed" for r in updated(m, "user_account")))
    after_user = get_user(app, FINISHED)
    assert (after_user.email, after_user.is_active, after_user.email_verified_at) == (
        before_user.email, before_user.is_active, before_user.email_verified_at)

    assert_ignored_or_refused(
        w, "learner", "/account/profile/email", {"email": "pat.new@example.gov", "password": PASSWORD},
        # A new request spends the learner's earlier unconfirmed one (its used_at is set).
        {"account_token": {"insert", "used_at"}, "mail_outbox": {"insert"}},
        {"account_token.user_id": {me}, "to_address": {"pat.new@example.gov"}},
        effect=lambda m: [r["email"] for r in inserted(m, "account_token")] == ["pat.new@example.gov"])

    assert_ignored_or_refused(
        w, "learner", "/contact", {"name": "Pat", "email": FINISHED, "subject": "Help", "message": "Please"},
        {"contact_request": {"insert"}, "mail_outbox": {"insert"}}, {"contact_request.user_id": {me}},
        effect=lambda m: len(inserted(m, "contact_request")) == 1)

    _, made = assert_ignored_or_refused(
        w, "anonymous", "/account/signup", {"name": "Nina New", "email": "nina@example.gov", "agency": "",
                                            "password": PASSWORD, "confirm": PASSWORD},
        {"user_account": {"insert"}, "account_token": {"insert"}, "mail_outbox": {"insert"}},
        {"email_verified_at": {None}, "is_active": {True, 1}, "email": {"nina@example.gov"},
         "name": {"Nina New"}},
        effect=lambda m: len(inserted(m, "user_account")) == 1)
    nina = get_user(app, "nina@example.gov")
    assert nina.email_verified_at is None and nina.is_active
    assert not _roles_of(app, nina.id)

    # Changing one's password never reaches another account (user_id forged).
    other_hash = get_user(app, POST_OPEN).password_hash
    new = "a fresh and entirely different passphrase"
    assert_ignored_or_refused(
        w, "pre_open", "/account/profile/password", {"current_password": PASSWORD, "password": new, "confirm": new},
        {"user_account": {"password_hash", "password_changed_at"}, "login_session": {"ended_at"},
         "mail_outbox": {"insert"}, "account_token": {"used_at"}},
        {"user_account.id": {w.user_id(PRE_OPEN)}, "user_id": {w.user_id(PRE_OPEN)}},
        effect=lambda m: bool(updated(m, "user_account")))
    assert get_user(app, POST_OPEN).password_hash == other_hash


def test_staff_forms_act_only_on_the_user_in_the_address(world):
    w, app = world, world.app
    target, admin = w.ids["target_user"], w.user_id("admin@example.gov")
    _, made = assert_ignored_or_refused(
        w, "admin", f"/support/users/{target}/deactivate", {"reason": "testing"},
        {"user_account": {"is_active"}, "login_session": {"ended_at"}, "audit_log": {"insert"}},
        {"user_account.id": {target}, "login_session.user_id": {target}, "actor_id": {admin},
         "target_user_id": {target}},
        effect=lambda m: any(not r["is_active"] for r in updated(m, "user_account")))
    # A role from outside the list is refused, whatever else is sent.
    before = table_rows(app)
    post(w, "admin", f"/support/users/{target}/roles/grant", {"role": "superuser"})
    assert not changes(before, table_rows(app))
    grantee = w.user_id(PRE_OPEN)
    assert_ignored_or_refused(
        w, "admin", f"/support/users/{grantee}/roles/grant", {"role": "support"},
        {"user_role": {"insert"}, "audit_log": {"insert"}},
        {"user_id": {grantee}, "role": {"support"}, "actor_id": {admin}, "target_user_id": {grantee}},
        effect=lambda m: len(inserted(m, "user_role")) == 1)
    # Provider access: only a provider that exists, only for the account named.
    before = table_rows(app)
    post(w, "admin", "/reports/providers", {"email": POST_OPEN, "provider": "No Such Provider"})
    assert not changes(before, table_rows(app))
    assert_ignored_or_refused(
        w, "admin", "/reports/providers", {"email": PRE_OPEN, "provider": "Canary Test Provider"},
        {"provider_staff": {"insert"}, "audit_log": {"insert"}},
        {"user_id": {w.user_id(PRE_OPEN)}, "provider_name": {"Canary Test Provider"}},
        effect=lambda m: len(inserted(m, "provider_staff")) == 1)


def test_agency_forms_stay_inside_the_coordinators_agency(world):
    w, app = world, world.app
    agency, award, sro = w.ids["agency"], w.ids["award"], w.ids["sro"]
    base = f"/agencies/{agency}"
    _, made = assert_ignored_or_refused(
        w, "coordinator", base + "/awards/new",
        {"award_number": "2026-UL-WX-0500", "award_date": "2026-04-01", "funded_positions": "1"},
        {"chp_award": {"insert"}, "agency_change": {"insert"}, "audit_log": {"insert"}}, {"agency_id": {agency}, "award_number": {"2026-UL-WX-0500"}},
        effect=lambda m: len(inserted(m, "chp_award")) == 1)
    assert_ignored_or_refused(
        w, "coordinator", f"{base}/awards/{award}", {"mou_submitted_on": "2026-05-01"},
        {"chp_award": {"mou_submitted_on"}, "agency_change": {"insert"}, "audit_log": {"insert"}}, {"chp_award.id": {award}}, effect=lambda m: bool(updated(m, "chp_award")))
    assert_ignored_or_refused(
        w, "coordinator", f"{base}/awards/{award}/sros/new", {"name": "Ofc. New", "role": "initial"},
        {"chp_sro": {"insert"}, "agency_change": {"insert"}, "audit_log": {"insert"}}, {"award_id": {award}, "certificate_key": {None}},
        effect=lambda m: len(inserted(m, "chp_sro")) == 1)
    assert_ignored_or_refused(
        w, "coordinator", f"{base}/sros/{sro}", {"name": "Ofc. Dana Park-Lee", "role": "initial",
                                                 "hire_date": "2026-03-10", "training_completed": "2026-05-01"},
        {"chp_sro": {"name"}, "agency_change": {"insert"}, "audit_log": {"insert"}}, {"chp_sro.id": {sro}}, effect=lambda m: bool(updated(m, "chp_sro")))
    assert_ignored_or_refused(
        w, "coordinator", f"{base}/sros/{sro}/claim",
        {"category": "lodging", "description": "Hotel night", "incurred_on": "2026-06-01", "amount": "80.00"},
        {"chp_travel_expense": {"insert"}, "agency_change": {"insert"}, "audit_log": {"insert"}}, {"sro_id": {sro}, "description": {"Hotel night"}},
        effect=lambda m: len(inserted(m, "chp_travel_expense")) == 1)
    assert_ignored_or_refused(
        w, "coordinator", base + "/invites", {}, {"agency_invite": {"insert"}, "agency_change": {"insert"}, "audit_log": {"insert"}},
        {"agency_id": {agency}, "created_by": {w.user_id(COORDINATOR)}},
        effect=lambda m: len(inserted(m, "agency_invite")) == 1)
    member = w.ids["officer_member"]
    assert_ignored_or_refused(
        w, "coordinator", f"{base}/members/{member}/role", {"role": "coordinator"},
        {"agency_member": {"role"}, "agency_change": {"insert"}, "audit_log": {"insert"}}, {"agency_member.id": {member}, "agency_id": {agency}},
        effect=lambda m: bool(updated(m, "agency_member")))
    # A role that is not an agency role changes nothing.
    before = table_rows(app)
    response = post(w, "coordinator", f"{base}/members/{member}/role", {"role": "admin"})
    assert response.status_code < 500 and not changes(before, table_rows(app))
    # Joining by invitation makes an officer of the invitation's agency, whatever is forged.
    assert_ignored_or_refused(
        w, "pre_open", f"/agencies/join/{w.ids['invite_token']}", {},
        # the world's link is single-use: this join spends it
        {"agency_member": {"insert"}, "agency_invite": {"used_at", "used_by"}, "agency_change": {"insert"}, "audit_log": {"insert"}},
        {"agency_id": {agency}, "user_id": {w.user_id(PRE_OPEN)}, "role": {"officer"}},
        effect=lambda m: len(inserted(m, "agency_member")) == 1)
    # Leaving removes the sender's own membership and no other.
    mine = [k for k, r in table_rows(app)["agency_member"].items() if r["user_id"] == w.user_id(PRE_OPEN)]
    assert_ignored_or_refused(
        w, "pre_open", "/agencies/leave", {"member_id": str(member)}, {"agency_member": {"delete"}, "agency_change": {"insert"}, "audit_log": {"insert"}},
        {}, effect=lambda m: [c.row["id"] for c in m if c.op == "delete"] == [mine[0][0]])
    assert_ignored_or_refused(
        w, "admin", "/agencies/create", {"name": "Pine Police", "coordinator_email": PRE_OPEN},
        {"agency": {"insert"}, "agency_member": {"insert"}, "agency_change": {"insert"}, "audit_log": {"insert"}},
        {"name": {"Pine Police"}, "user_id": {w.user_id(PRE_OPEN)}, "role": {"coordinator"}},
        effect=lambda m: len(inserted(m, "agency")) == 1)


def test_another_agencys_rows_are_not_found_from_ones_own(world):
    """Every agency route, with the other agency's ids in the address (directly, or mixed
    with the coordinator's own agency), answers 404 and changes nothing."""
    w, app = world, world.app
    own, other = w.ids["agency"], w.ids["other_agency"]
    forged_paths = [
        f"/agencies/{other}", f"/agencies/{other}/members", f"/agencies/{other}/roster/export.csv",
        f"/agencies/{other}/awards/{w.ids['other_award']}", f"/agencies/{own}/awards/{w.ids['other_award']}",
        f"/agencies/{other}/awards/new", f"/agencies/{own}/awards/{w.ids['other_award']}/sros/new",
        f"/agencies/{own}/sros/{w.ids['other_sro']}", f"/agencies/{own}/sros/{w.ids['other_sro']}/claim",
        f"/agencies/{own}/sros/{w.ids['other_sro']}/claim.pdf",
        f"/agencies/{own}/sros/{w.ids['other_sro']}/certificate",
        f"/agencies/{own}/sros/{w.ids['other_sro']}/certificate-mail.eml",
        f"/agencies/{other}/sros/{w.ids['sro']}",
    ]
    posts = [
        (f"/agencies/{other}/invites", {}),
        (f"/agencies/{own}/invites/{w.ids['other_invite']}/revoke", {}),
        (f"/agencies/{own}/sros/{w.ids['sro']}/claim/{w.ids['other_expense']}/delete", {}),
        (f"/agencies/{own}/sros/{w.ids['other_sro']}/claim/{w.ids['other_expense']}/delete", {}),
        (f"/agencies/{own}/members/{_member_id(app, w.user_id('coord2@example.gov'))}/role", {"role": "officer"}),
        (f"/agencies/{own}/awards/{w.ids['other_award']}", {"mou_submitted_on": "2026-05-01"}),
        (f"/agencies/{own}/sros/{w.ids['other_sro']}", {"name": "Hijacked", "role": "initial"}),
        (f"/agencies/{own}/sros/{w.ids['other_sro']}/claim",
         {"category": "lodging", "description": "x", "incurred_on": "2026-06-01", "amount": "1.00"}),
        (f"/agencies/{other}/roster/import", {}),
    ]
    before = table_rows(app)
    for path in forged_paths:
        response = w.client("coordinator").get(path)
        assert response.status_code == 404, (path, response.status_code)
    for path, data in posts:
        response = post(w, "coordinator", path, data)
        assert response.status_code == 404, (path, response.status_code)
        assert not changes(before, table_rows(app)), path
    # Every one of them works for the agency's own coordinator: the 404s are about ownership.
    assert w.client("other_coordinator").get(f"/agencies/{other}/sros/{w.ids['other_sro']}/claim").status_code == 200


def test_other_peoples_rows_are_not_found(world):
    w, app = world, world.app
    before = table_rows(app)
    attempts = {
        # another learner's open post-test, submitted by the learner who passed and by one still at the pre-test
        ("learner", f"/learn/{PACK_ID}/tests/post/submit", "other_post_attempt"),
        ("pre_open", f"/learn/{PACK_ID}/tests/post/submit", "other_post_attempt"),
        ("pre_open", f"/learn/{PACK_ID}/tests/pre/submit", "other_post_attempt"),
    }
    for role, path, attempt in attempts:
        attempt_id = w.ids[attempt]
        items = items_of(app, attempt_id)
        data = {"attempt_id": str(attempt_id)}
        data.update({f"q-{i.position + 1}": "1" for i in items})
        response = post(w, role, path, data, tamper=False)
        assert response.status_code == 404, (role, path, response.status_code)
    # The learner's roll-call showing cannot be deleted by someone else; another's result is 404.
    assert post(w, "other", f"/rollcall/log/{w.ids['showing']}/delete", {}, tamper=False).status_code == 404
    assert w.client("other").get(f"/learn/{PACK_ID}/results/{w.ids['post_attempt']}").status_code == 404
    assert w.client("other").get(f"/certificates/{w.ids['certificate']}").status_code == 404
    assert w.client("other").get(f"/certificates/{w.ids['certificate']}.pdf").status_code == 404
    # The learner's membership cannot be moved by a coordinator of another agency.
    response = post(w, "other_coordinator", f"/agencies/{w.ids['other_agency']}/members/{w.ids['officer_member']}/role",
                    {"role": "coordinator"}, tamper=False)
    assert response.status_code == 404
    # Support staff cannot grant roles (admins only), whatever the form says.
    response = post(w, "support", f"/support/users/{w.user_id(PRE_OPEN)}/roles/grant", {"role": "admin"})
    assert response.status_code == 403
    assert not changes(before, table_rows(app))


# -- the learner's steps ----------------------------------------------------------------------------

def test_the_learners_steps_cannot_be_skipped_or_repeated(world):
    w, app = world, world.app
    pre_open_enrollment = enrollments_of_user(app, PRE_OPEN, PACK_ID)[0]
    finished_post = attempts_of_user(app, FINISHED, "post", PACK_ID)
    failed, passed = finished_post[0], finished_post[-1]
    assert (failed.passed, passed.passed) == (False, True)
    [finished_pre] = attempts_of_user(app, FINISHED, "pre", PACK_ID)
    lesson = pack(app, PACK_ID).lessons[0].id
    intro_lesson = pack(app, INTRO).lessons[0].id

    def right_answers(attempt_id):
        questions = {q.id: q for q in pack(app, PACK_ID).questions}
        data = {"attempt_id": str(attempt_id)}
        for item in items_of(app, attempt_id):
            name, values = field_and_values(item, sorted(questions[item.question_id].correct_ids))
            data[name] = values
        return data

    # A resubmitted closed attempt answers with its own, unchanged result; every other step is
    # refused: 404 for what is not the learner's, else back to the course with a message.
    steps = [
        # Before the pre-test: no lesson, no post-test, no honor code, no certificate.
        ("pre_open", f"/learn/{PACK_ID}/lessons/{lesson}/complete", {}),
        ("pre_open", f"/learn/{PACK_ID}/tests/post/start", {}),
        ("pre_open", f"/learn/{PACK_ID}/honor-code", {"answer": "yes", "passed": "1"}),
        ("pre_open", f"/learn/{PACK_ID}/certificate", {"passed": "1"}),
        # With the post-test open but not passed: no honor code, no certificate.
        ("other", f"/learn/{PACK_ID}/honor-code", {"answer": "yes", "passed": "1", "score": "100"}),
        ("other", f"/learn/{PACK_ID}/certificate", {}),
        # After passing: the pre-test again, a new post-test, a closed attempt resubmitted.
        ("learner", f"/learn/{PACK_ID}/tests/pre/start", {}),
        ("learner", f"/learn/{PACK_ID}/tests/pre/submit", right_answers(finished_pre.id)),
        ("learner", f"/learn/{PACK_ID}/tests/post/start", {}),
        ("learner", f"/learn/{PACK_ID}/tests/post/submit", right_answers(failed.id)),
        ("learner", f"/learn/{PACK_ID}/tests/post/submit", {**right_answers(passed.id), "q-1": ["1", "2", "3"]}),
        # A post-test attempt on the pre-test address, and the reverse.
        ("learner", f"/learn/{PACK_ID}/tests/pre/submit", right_answers(passed.id)),
        ("learner", f"/learn/{PACK_ID}/tests/post/submit", right_answers(finished_pre.id)),
        # A course the learner never enrolled in, and forms for kinds and packs that do not exist.
        ("learner", f"/learn/{INTRO}/lessons/{intro_lesson}/complete", {}),
        ("learner", f"/learn/{INTRO}/tests/pre/start", {}),
        ("learner", f"/learn/{INTRO}/honor-code", {"answer": "yes"}),
        ("learner", f"/learn/{INTRO}/certificate", {}),
        ("learner", f"/learn/{PACK_ID}/tests/final/start", {}),
        ("learner", "/learn/no-such-pack/tests/pre/start", {}),
        ("learner", f"/courses/{SERIES}/enroll", {}),
        ("learner", "/courses/inperson-sro-basic/enroll", {}),
    ]
    before = table_rows(app)
    for role, path, data in steps:
        response = post(w, role, path, data, tamper=False)
        assert response.status_code in (302, 303, 404), (role, path, response.status_code)
        if response.status_code != 404 and "/results/" not in response.location:
            # Refused with a redirect for the browser: the page it leads to says why.
            page = w.client(role).get(response.location, follow_redirects=True).get_data(as_text=True)
            assert 'class="flash' in page, (role, path, response.location)
        made = changes(before, table_rows(app))
        assert not made, (role, path, response.status_code, [str(c) for c in made])
    # The closed attempts kept their results; the pre-test kept its (marker) score.
    now_post = attempts_of_user(app, FINISHED, "post", PACK_ID)
    assert [(a.id, a.score, a.passed) for a in now_post] == [(a.id, a.score, a.passed) for a in finished_post]
    assert attempts_of_user(app, FINISHED, "pre", PACK_ID)[0].score == SCORE_MARKER
    assert enrollments_of_user(app, PRE_OPEN, PACK_ID)[0].passed_at is pre_open_enrollment.passed_at is None


def test_answers_are_read_only_from_the_attempts_own_questions(world):
    """Duplicate and out-of-range choice positions, fields for questions the attempt does not
    have, and a second value on a one-answer question: none of them scores."""
    w, app = world, world.app
    attempt, items = open_attempt_of(app, "post", POST_OPEN, PACK_ID)
    questions = {q.id: q for q in pack(app, PACK_ID).questions}
    base = f"/learn/{PACK_ID}/tests/post/submit"

    # Only out-of-range positions for one question: it is unanswered, so nothing is scored; the
    # other answers are kept as the draft (post/redirect/get, issue 15 B9), that one left empty.
    before = table_rows(app)
    data = answers_scoring(app, attempt, items, 5, PACK_ID)
    first = f"q-{items[0].position + 1}"
    data[first] = ["0", "-1", "99", "abc", "1.0", " 1", str(len(items[0].choice_order.split(",")) + 1)]
    response = post(w, "other", base, data, tamper=False)
    assert response.status_code == 303
    made = changes(before, table_rows(app))
    assert all((c.table, c.op) in {("attempt_item", "update"), ("enrollment", "update")} for c in made), made
    assert all(c.columns <= {"chosen"} for c in made if c.table == "attempt_item"), made
    assert all(c.columns <= {"last_activity_at"} for c in made if c.table == "enrollment"), made
    assert not any(c.row["id"] == items[0].id for c in made if c.table == "attempt_item"), made

    # Right answers repeated, extra question fields, and a single-choice question ticked twice.
    data = answers_scoring(app, attempt, items, 5, PACK_ID)
    single = next(i for i in items if questions[i.question_id].type == "single")
    order = single.choice_order.split(",")
    right = order.index(sorted(questions[single.question_id].correct_ids)[0]) + 1
    wrong = next(n for n in range(1, len(order) + 1) if n != right)
    data[f"q-{single.position + 1}"] = [str(right), str(right), str(wrong)]
    for item in items:
        if item is not single:
            data[f"q-{item.position + 1}"] = data[f"q-{item.position + 1}"] * 3
    data.update({"q-0": "1", "q-99": "1", f"q-{len(items) + 1}": "1", "q-1x": "1", "attempt_id": str(attempt.id)})
    response = post(w, "other", base, data)
    assert response.status_code == 303
    submitted = [a for a in attempts_of_user(app, POST_OPEN, "post", PACK_ID) if a.id == attempt.id][0]
    assert (submitted.correct_count, submitted.score, submitted.passed) == (len(items) - 1, 80.0, True)
    assert [i.correct for i in items_of(app, attempt.id) if i.id == single.id] == [False]


def _roles_of(app, user_id) -> list:
    with services(app).database.engine.connect() as connection:
        return list(connection.execute(sql("SELECT role FROM user_role WHERE user_id = :u"), {"u": user_id}))


def _member_id(app, user_id) -> int:
    return next(k[0] for k, r in table_rows(app)["agency_member"].items() if r["user_id"] == user_id)
