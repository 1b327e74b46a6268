"""A portal with something real behind every URL argument, for the security walks: the canary
course taken by learners in every state, an agency with an award, an officer record, an
expense and an invitation, a second agency, a roll-call showing, provider staff, support and
admin accounts, unspent account links and a contact request.

`World.paths(rule)` fills a url_map rule with these real values, so routes added later are
walked with real ids without anyone editing a list."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import text as sql
from sqlmodel import select

from portal.learning.models import Attempt, Enrollment
from portal.reports.models import ProviderStaff
from tests.agencies.support import (add_award, add_expense, add_invite, add_member, add_sro, attach_certificate,
                                    new_agency)
from tests.helpers import get_user, issue_links, log_in, make_user, services, submit
from tests.learning.journey import (attempts_of_user, backdate_post_attempts, certificate_number, complete_all_lessons,
                                    enroll, open_attempt_of, start_test, take_test_scoring)
from tests.rollcall.support import SERIES, post_showing
from tests.security.canary_pack import PACK_ID

# The pre-test score every submitted canary pre-test is given afterwards: it renders as
# "37.12", "37.1" or "37%", none of which the course shows for anything else (its post-tests
# score 40% and 100%, its lessons count in halves). Three of four right is shown nowhere else.
SCORE_MARKER = 37.1234
SCORE_CORRECT, PRE_DRAW = 3, 4

FINISHED, POST_OPEN, PRE_OPEN = "learner@example.gov", "open@example.gov", "fresh-pre@example.gov"
ADMIN, SUPPORT, PROVIDER = "admin@example.gov", "support@example.gov", "provider@example.gov"
COORDINATOR, OTHER_COORDINATOR = "coord@example.gov", "coord2@example.gov"
INACTIVE = "inactive@example.gov"


@dataclass
class World:
    app: object
    clients: dict = field(default_factory=dict)
    ids: dict = field(default_factory=dict)
    links: dict = field(default_factory=dict)

    def client(self, role: str):
        return self.clients[role]

    def user_id(self, email: str) -> int:
        return get_user(self.app, email).id

    # -- filling rules with real values -------------------------------------------------

    def values(self, rule) -> list[dict]:
        """Real argument sets for a rule: one normally, each test kind for tests."""
        endpoint = rule.endpoint
        pack_id = SERIES if endpoint.startswith("rollcall.") else PACK_ID
        pack = self.app.extensions["packs"].get(pack_id)
        base = {"pack_id": pack_id, "version": pack.version, "lesson_id": pack.lessons[0].id,
                "episode_id": pack.lessons[0].id, "filename": "downloads/handout.txt",
                "attempt_id": self.ids["post_attempt"], "number": self.ids["certificate"],
                "agency_id": self.ids["agency"], "award_id": self.ids["award"], "sro_id": self.ids["sro"],
                "expense_id": self.ids["expense"], "invite_id": self.ids["invite"],
                "member_id": self.ids["officer_member"], "showing_id": self.ids["showing"],
                "user_id": self.ids["target_user"], "action": "grant", "kind": "post",
                "versioned": self.ids["asset"], "uid": self.ids["std_package"], "content_key": "no-such-launch",
                "path": "index.html", "fetch_key": "no-such-launch", "resource": "statements"}
        tokens = {"accounts.verify": self.links["verify"], "accounts.reset_password": self.links["reset"],
                  "accounts.confirm_email_change": self.links["confirm_email"],
                  "agencies.join": self.ids["invite_token"]}
        if endpoint in tokens:
            base["token"] = tokens[endpoint].rstrip("/").rsplit("/", 1)[-1]
        if endpoint == "support.reactivate":
            base["user_id"] = self.ids["inactive_user"]
        if endpoint == "support.confirm":
            base["user_id"] = self.ids["unverified_user"]
        sets = [base]
        if "kind" in rule.arguments:
            sets.append({**base, "kind": "pre"})
        return sets

    def paths(self, rule) -> list[str]:
        from tests.helpers import path_for

        query = f"?course={PACK_ID}" if rule.endpoint in ("reports.items", "reports.items_csv") else ""
        return sorted({path_for(self.app, rule, values) + query for values in self.values(rule)})

    def role_for(self, endpoint: str) -> str:
        """The most privileged role that can use an endpoint (for the rest it is refused anyway)."""
        blueprint = endpoint.split(".")[0]
        if blueprint in ("support", "admin", "reports", "standards") or endpoint == "agencies.create":
            return "admin"
        if blueprint == "agencies" and endpoint not in ("agencies.home", "agencies.join", "agencies.leave"):
            return "coordinator"
        return "learner"


def _seed_package(app) -> tuple[str, str, str]:
    """A small cmi5 package of the provider's, for the package pages (portal/standards), and the
    administrator's preview registration in it, with a session open: (package uid, registration
    code, session code)."""
    from portal.standards import cmi5
    from portal.standards.importer import import_package
    from tests.standards.test_import import LIMITS, VALID, zip_upload

    base, now = app.config["PORTAL_BASE_URL"], services(app).clock.now()
    with services(app).database.session() as db:
        package = import_package(db, services(app).storage, zip_upload(VALID), LIMITS, "Canary Test Provider", None,
                                 now)
        ids = cmi5.Ids(base, package.uid)
        registration = cmi5.registration_for(db, package, get_user(app, ADMIN).id, base, now, ids)
        launched = cmi5.launch(db, package, registration, 0, "Normal", now, ids, app.config["CONTENT_BASE_URL"], base)
        db.commit()
        return package.uid, registration.code, launched.session.code


def _signed_in(app, email):
    client = app.test_client()
    response = log_in(client, email)
    assert response.status_code == 302, (email, response.status_code)
    return client


def _seed_learners(app, clients) -> None:
    """FINISHED: pre-test, both lessons, a failed then a passed post-test, honor code and
    certificate. POST_OPEN: pre-test, lessons, a post-test open. PRE_OPEN: a pre-test open."""
    for email in (FINISHED, POST_OPEN, PRE_OPEN):
        assert enroll(clients[email], PACK_ID).status_code == 303
    for email in (FINISHED, POST_OPEN):
        take_test_scoring(clients[email], app, "pre", SCORE_CORRECT, email, PACK_ID)
    seed_pre_score_marker(app, expected=2)
    for email in (FINISHED, POST_OPEN):
        complete_all_lessons(clients[email], app, PACK_ID)
    take_test_scoring(clients[FINISHED], app, "post", 2, FINISHED, PACK_ID)  # 40%: failed
    start_test(clients[POST_OPEN], "post", PACK_ID)
    start_test(clients[PRE_OPEN], "pre", PACK_ID)
    assert open_attempt_of(app, "post", POST_OPEN, PACK_ID)[0] is not None
    assert open_attempt_of(app, "pre", PRE_OPEN, PACK_ID)[0] is not None


def seed_pre_score_marker(app, expected: int) -> None:
    """Give every submitted canary pre-test, and the enrollment summaries, the marker score."""
    with services(app).database.engine.begin() as connection:
        updated = connection.execute(sql(
            "UPDATE attempt SET score = :m, correct_count = :c WHERE kind = 'pre' AND pack_id = :p "
            "AND submitted_at IS NOT NULL"), {"m": SCORE_MARKER, "c": SCORE_CORRECT, "p": PACK_ID}).rowcount
        connection.execute(sql("UPDATE enrollment SET pre_score = :m WHERE pack_id = :p AND pre_score IS NOT NULL"),
                           {"m": SCORE_MARKER, "p": PACK_ID})
    assert updated == expected
    with services(app).database.session() as db:
        assert {a.score for a in db.exec(select(Attempt).where(Attempt.kind == "pre", Attempt.pack_id == PACK_ID,
                                                               Attempt.submitted_at.is_not(None))).all()
                } == {SCORE_MARKER}
        assert {e.pre_score for e in db.exec(select(Enrollment).where(Enrollment.pack_id == PACK_ID,
                                                                      Enrollment.pre_score.is_not(None))).all()
                } == {SCORE_MARKER}


def finish_course(world: World) -> None:
    """FINISHED passes the post-test (100%) and attests: a certificate is issued."""
    app, client = world.app, world.client("learner")
    backdate_post_attempts(app, 11, FINISHED, PACK_ID)  # the retake comes after the cooldown
    take_test_scoring(client, app, "post", 10, FINISHED, PACK_ID)
    response = submit(client, f"/learn/{PACK_ID}/honor-code", {"answer": "yes"})
    assert response.status_code == 303, response.status_code
    world.ids["certificate"] = certificate_number(client.get(response.location).get_data(as_text=True))
    world.ids["post_attempt"] = attempts_of_user(app, FINISHED, "post", PACK_ID)[-1].id


def build_world(app, finished: bool = True) -> World:
    w = World(app)
    make_user(app, ADMIN, name="Ada Admin", roles=("admin",))
    make_user(app, SUPPORT, name="Sam Support", roles=("support",))
    make_user(app, PROVIDER, name="Pia Provider")
    make_user(app, FINISHED, name="Pat Learner", agency="Elm City Police Department")
    make_user(app, POST_OPEN, name="Olive Open")
    make_user(app, PRE_OPEN, name="Fred Fresh")
    make_user(app, INACTIVE, name="Ina Active", active=False)
    w.links = issue_links(app)  # makes fresh@example.gov (unverified) and spends nothing
    with services(app).database.session() as db:
        db.add(ProviderStaff(user_id=get_user(app, PROVIDER).id, provider_name="Canary Test Provider",
                             granted_at=services(app).clock.now()))
        db.commit()
    std_package, std_registration, std_session = _seed_package(app)

    agency = new_agency(app, coordinator=COORDINATOR)
    other_agency = new_agency(app, name="Oak County Sheriff", coordinator=OTHER_COORDINATOR,
                              coordinator_name="Sgt. Other")
    member = add_member(app, agency, FINISHED)
    award = add_award(app, agency)
    sro = add_sro(app, award, hire_date=date(2026, 3, 10), training_completed=date(2026, 5, 1))
    attach_certificate(app, agency, sro)
    expense = add_expense(app, sro)
    invite, token = add_invite(app, agency)
    other_award = add_award(app, other_agency, number="2026-UL-WX-0099")
    other_sro = add_sro(app, other_award, name="Ofc. Elsewhere")
    other_expense = add_expense(app, other_sro)
    other_invite, _ = add_invite(app, other_agency, by_email=OTHER_COORDINATOR)

    w.clients = {"anonymous": app.test_client()}
    for role, email in (("learner", FINISHED), ("other", POST_OPEN), ("pre_open", PRE_OPEN),
                        ("coordinator", COORDINATOR), ("other_coordinator", OTHER_COORDINATOR),
                        ("support", SUPPORT), ("admin", ADMIN), ("provider", PROVIDER)):
        w.clients[role] = _signed_in(app, email)
    _seed_learners(app, {FINISHED: w.clients["learner"], POST_OPEN: w.clients["other"],
                         PRE_OPEN: w.clients["pre_open"]})

    response = post_showing(w.clients["learner"], app.extensions["packs"].get(SERIES).lessons[0].id,
                            attendees=POST_OPEN, notes="Shift briefing")
    assert response.status_code == 303, response.status_code
    contact = submit(w.clients["anonymous"], "/contact", {"name": "Vic Visitor", "email": "vic@example.gov",
                                                          "subject": "Hello", "message": "A question"})
    assert contact.status_code == 302

    from portal.common.assets import asset_url

    with app.test_request_context():
        asset = asset_url("portal.css").removeprefix("/assets/")
    with services(app).database.engine.connect() as connection:
        showing = connection.execute(sql("SELECT MIN(id) FROM rollcall_showing")).scalar_one()
    w.ids = {"std_package": std_package, "std_registration": std_registration, "std_session": std_session,
             "agency": agency, "other_agency": other_agency, "award": award, "other_award": other_award,
             "sro": sro, "other_sro": other_sro, "expense": expense, "other_expense": other_expense,
             "invite": invite, "other_invite": other_invite, "invite_token": token, "officer_member": member,
             "showing": showing, "asset": asset, "target_user": w.user_id(POST_OPEN),
             "inactive_user": w.user_id(INACTIVE), "unverified_user": w.user_id("fresh@example.gov"),
             "post_attempt": attempts_of_user(app, FINISHED, "post", PACK_ID)[-1].id,
             "other_post_attempt": open_attempt_of(app, "post", POST_OPEN, PACK_ID)[0].id,
             "certificate": "PSTP-2026-ZZZZ-ZZZZ"}
    if finished:
        finish_course(w)
    return w
