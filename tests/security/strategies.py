"""Shared pieces of the hostile-input suite: the database's invariants (what no request,
however malformed, may break), a small world with a row behind every URL argument, and the
hypothesis strategies for form values."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from datetime import date, timedelta

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from sqlalchemy import LargeBinary, text
from sqlmodel import SQLModel

from tests.helpers import PASSWORD, log_in, make_user, services

IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}

# max_examples: 200 per form in CI, fewer locally unless HYPOTHESIS_EXAMPLES says otherwise.
settings.register_profile("portal-ci", max_examples=200, deadline=None, database=None,
                          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                                 HealthCheck.function_scoped_fixture])
settings.register_profile("portal-local", settings.get_profile("portal-ci"),
                          max_examples=int(os.environ.get("HYPOTHESIS_EXAMPLES", "25")),
                          database=settings.default.database)
FUZZ_SETTINGS = settings.get_profile("portal-ci" if IN_CI else "portal-local")


# -- invariants ---------------------------------------------------------------------------

# Each query counts the rows that break one rule; every count must be 0.
_RULES = {
    "two enrollments of one user in one course session": """
        SELECT COUNT(*) FROM (SELECT user_id FROM enrollment GROUP BY user_id, pack_id, session_year
                              HAVING COUNT(*) > 1) d""",
    "two certificates for one enrollment": """
        SELECT COUNT(*) FROM (SELECT enrollment_id FROM certificate GROUP BY enrollment_id HAVING COUNT(*) > 1) d""",
    "a certificate without a passed, attested enrollment of its own learner": """
        SELECT COUNT(*) FROM certificate c LEFT JOIN enrollment e ON e.id = c.enrollment_id
        LEFT JOIN attestation a ON a.enrollment_id = c.enrollment_id
        WHERE e.id IS NULL OR e.passed_at IS NULL OR a.id IS NULL OR e.user_id <> c.user_id""",
    "an attempt score outside 0..100": "SELECT COUNT(*) FROM attempt WHERE score < 0 OR score > 100",
    "a correct count outside 0..question count": """
        SELECT COUNT(*) FROM attempt WHERE correct_count < 0 OR correct_count > question_count""",
    "a submitted attempt without a score, or an open one with a score": """
        SELECT COUNT(*) FROM attempt WHERE (submitted_at IS NULL AND (score IS NOT NULL OR correct_count IS NOT NULL
                                                                       OR passed IS NOT NULL))
                                     OR (submitted_at IS NOT NULL AND (score IS NULL OR correct_count IS NULL))""",
    "a submitted post-test without passed/failed": """
        SELECT COUNT(*) FROM attempt WHERE kind = 'post' AND submitted_at IS NOT NULL AND passed IS NULL""",
    "an attempt whose items do not match its question count": """
        SELECT COUNT(*) FROM attempt a WHERE a.question_count <>
            (SELECT COUNT(*) FROM attempt_item i WHERE i.attempt_id = a.id)""",
    "an attempt whose correct count disagrees with its items": """
        SELECT COUNT(*) FROM attempt a WHERE a.submitted_at IS NOT NULL AND a.correct_count <>
            (SELECT COUNT(*) FROM attempt_item i WHERE i.attempt_id = a.id AND i.correct = TRUE)""",
    "an attempt item without its attempt": """
        SELECT COUNT(*) FROM attempt_item i LEFT JOIN attempt a ON a.id = i.attempt_id WHERE a.id IS NULL""",
    "an attempt without its enrollment, or of another course": """
        SELECT COUNT(*) FROM attempt a LEFT JOIN enrollment e ON e.id = a.enrollment_id
        WHERE e.id IS NULL OR e.pack_id <> a.pack_id""",
    "lesson progress without its enrollment": """
        SELECT COUNT(*) FROM lesson_progress p LEFT JOIN enrollment e ON e.id = p.enrollment_id WHERE e.id IS NULL""",
    "an enrollment without its user": """
        SELECT COUNT(*) FROM enrollment e LEFT JOIN user_account u ON u.id = e.user_id WHERE u.id IS NULL""",
    "an attestation that is not a yes to a passed enrollment": """
        SELECT COUNT(*) FROM attestation a LEFT JOIN enrollment e ON e.id = a.enrollment_id
        WHERE e.id IS NULL OR e.passed_at IS NULL OR a.answer <> 'yes'""",
    "an enrollment's post-test count that is not its submitted post-tests": """
        SELECT COUNT(*) FROM enrollment e WHERE e.post_attempts <>
            (SELECT COUNT(*) FROM attempt a WHERE a.enrollment_id = e.id AND a.kind = 'post'
                                              AND a.submitted_at IS NOT NULL)""",
    "an enrollment's best post-test score that is not its best": """
        SELECT COUNT(*) FROM enrollment e WHERE COALESCE(e.best_post_score, -1) <> COALESCE(
            (SELECT MAX(a.score) FROM attempt a WHERE a.enrollment_id = e.id AND a.kind = 'post'
                                                  AND a.submitted_at IS NOT NULL), -1)""",
    "an enrollment's pre-test score that is not its pre-test's": """
        SELECT COUNT(*) FROM enrollment e WHERE COALESCE(e.pre_score, -1) <> COALESCE(
            (SELECT MAX(a.score) FROM attempt a WHERE a.enrollment_id = e.id AND a.kind = 'pre'
                                                  AND a.submitted_at IS NOT NULL), -1)""",
    "more than one submitted pre-test": """
        SELECT COUNT(*) FROM (SELECT enrollment_id FROM attempt WHERE kind = 'pre' AND submitted_at IS NOT NULL
                              GROUP BY enrollment_id HAVING COUNT(*) > 1) d""",
    "a passed enrollment without a passed post-test, or the other way round": """
        SELECT COUNT(*) FROM enrollment e WHERE (e.passed_at IS NOT NULL) <> EXISTS(
            SELECT 1 FROM attempt a WHERE a.enrollment_id = e.id AND a.kind = 'post' AND a.passed = TRUE)""",
    "item statistics with more right than answered": "SELECT COUNT(*) FROM item_stat WHERE correct > answered OR correct < 0",
    "a role, log-in session or token without its user": """
        SELECT (SELECT COUNT(*) FROM user_role r LEFT JOIN user_account u ON u.id = r.user_id WHERE u.id IS NULL)
             + (SELECT COUNT(*) FROM login_session s LEFT JOIN user_account u ON u.id = s.user_id WHERE u.id IS NULL)
             + (SELECT COUNT(*) FROM account_token t LEFT JOIN user_account u ON u.id = t.user_id WHERE u.id IS NULL)""",
    "an unknown staff role": "SELECT COUNT(*) FROM user_role WHERE role NOT IN ('support', 'admin', 'provider')",
    "a user with an empty name or address": """
        SELECT COUNT(*) FROM user_account WHERE TRIM(name) = '' OR email NOT LIKE '%_@_%'""",
    "an outbox message that cannot be sent (no address, a header with a line break, no body)": """
        SELECT COUNT(*) FROM mail_outbox WHERE to_address NOT LIKE '%_@_%' OR body_text = '' OR subject = ''
               OR attempts < 0 OR to_address LIKE :cr OR to_address LIKE :lf OR subject LIKE :cr OR subject LIKE :lf""",
    "a contact request without its text": """
        SELECT COUNT(*) FROM contact_request WHERE TRIM(name) = '' OR TRIM(subject) = '' OR TRIM(message) = ''""",
    "an agency with no coordinator": """
        SELECT COUNT(*) FROM agency a WHERE NOT EXISTS(
            SELECT 1 FROM agency_member m WHERE m.agency_id = a.id AND m.role = 'coordinator')""",
    "an agency member with an unknown role, or without agency or user": """
        SELECT COUNT(*) FROM agency_member m LEFT JOIN agency a ON a.id = m.agency_id
        LEFT JOIN user_account u ON u.id = m.user_id
        WHERE a.id IS NULL OR u.id IS NULL OR m.role NOT IN ('coordinator', 'officer')""",
    "an award, SRO or expense without its parent, or out of range": """
        SELECT (SELECT COUNT(*) FROM chp_award w LEFT JOIN agency a ON a.id = w.agency_id
                WHERE a.id IS NULL OR w.funded_positions < 1 OR TRIM(w.award_number) = '')
             + (SELECT COUNT(*) FROM chp_sro s LEFT JOIN chp_award w ON w.id = s.award_id
                WHERE w.id IS NULL OR s.role NOT IN ('initial', 'backfill') OR TRIM(s.name) = '')
             + (SELECT COUNT(*) FROM chp_travel_expense x LEFT JOIN chp_sro s ON s.id = x.sro_id
                WHERE s.id IS NULL OR x.amount <= 0 OR x.amount > 100000
                   OR x.category NOT IN ('transportation', 'lodging', 'mie'))""",
    "a roll-call showing out of range, or an attendee without showing": """
        SELECT (SELECT COUNT(*) FROM rollcall_showing WHERE officers_present < 1 OR officers_present > 1000
                   OR addresses_listed < 0 OR addresses_listed > officers_present OR TRIM(agency) = '')
             + (SELECT COUNT(*) FROM rollcall_attendee t LEFT JOIN rollcall_showing s ON s.id = t.showing_id
                WHERE s.id IS NULL)
             + (SELECT COUNT(*) FROM rollcall_showing s WHERE (SELECT COUNT(*) FROM rollcall_attendee t
                WHERE t.showing_id = s.id) > s.addresses_listed)""",
}


def _length_rule(tables) -> str:
    """Every declared VARCHAR length is kept (SQLite would store a longer value silently)."""
    parts = []
    for table in tables:
        for column in table.columns:
            length = getattr(column.type, "length", None)  # String, and SQLModel's AutoString
            if length and not isinstance(column.type, LargeBinary):
                parts.append(f'(SELECT COUNT(*) FROM "{table.name}" WHERE LENGTH("{column.name}") > {length})')
    assert parts, "no length-limited text columns found: is the model metadata loaded?"
    return "SELECT " + " + ".join(parts)


_COMBINED: dict[str, tuple[list[str], str]] = {}


def _combined_rules(engine) -> tuple[list[str], str]:
    """Every rule as one statement (one round trip per check), built once per database."""
    key = str(engine.url)
    if key not in _COMBINED:
        import portal_agencies.models  # noqa: F401 - the plugin's tables are part of the metadata

        present = set(_table_names(engine))
        tables = [t for t in SQLModel.metadata.sorted_tables if t.name in present]
        rules = {**_RULES, "a text longer than its column allows": _length_rule(tables)}
        names = list(rules)
        sql = "SELECT " + ", ".join(f"({' '.join(rules[name].split())}) AS r{i}" for i, name in enumerate(names))
        _COMBINED[key] = (names, sql)
    return _COMBINED[key]


def invariant_problems(app) -> list[str]:
    """Every rule the database breaks now, with the count of offending rows; [] when sound."""
    engine = services(app).database.engine
    names, sql = _combined_rules(engine)
    problems = []
    with engine.connect() as connection:
        counts = connection.execute(text(sql), {"cr": "%\r%", "lf": "%\n%"}).one()
        problems += [f"{name}: {found} row(s)" for name, found in zip(names, counts) if found]
        emails = [row[0] for row in connection.execute(text("SELECT email FROM user_account"))]
        problems += [f"an address that is not lower case: {e!r}" for e in emails if e != e.lower() or e != e.strip()]
        if len({e.lower() for e in emails}) != len(emails):
            problems.append("two accounts share an address")
        problems += _item_stat_problems(connection)
    return problems


def _item_stat_problems(connection) -> list[str]:
    """Item analysis counts each submitted answer exactly once."""
    stats = {tuple(r[:4]): (r[4], r[5]) for r in connection.execute(text(
        "SELECT pack_id, session_year, kind, question_id, answered, correct FROM item_stat"))}
    counted = {tuple(r[:4]): (r[4], r[5]) for r in connection.execute(text(
        "SELECT a.pack_id, e.session_year, a.kind, i.question_id, COUNT(*), "
        "SUM(CASE WHEN i.correct = TRUE THEN 1 ELSE 0 END) FROM attempt_item i "
        "JOIN attempt a ON a.id = i.attempt_id JOIN enrollment e ON e.id = a.enrollment_id "
        "WHERE a.submitted_at IS NOT NULL GROUP BY a.pack_id, e.session_year, a.kind, i.question_id"))}
    if stats != counted:
        wrong = sorted(k for k in set(stats) | set(counted) if stats.get(k) != counted.get(k))
        return [f"item statistics disagree with the submitted answers for {wrong[:5]}"]
    return []


def _table_names(engine) -> list[str]:
    from sqlalchemy import inspect

    return inspect(engine).get_table_names()


# -- a world with a row behind every URL argument ------------------------------------------

@dataclass
class World:
    """Ids of the seeded rows, by URL argument name, and the accounts to act as."""

    values: dict = field(default_factory=dict)
    emails: dict = field(default_factory=dict)  # role -> email


def build_world(app) -> World:
    """Accounts for every role, a learner in the middle of a course (post-test open), an
    agency with an award, an SRO, an expense, a member and an invitation, a roll-call
    showing and a contact request."""
    from portal_agencies.models import AgencyMember
    from tests.agencies.support import add_award, add_expense, add_invite, add_sro, new_agency
    from tests.learning.journey import complete_all_lessons, enroll, open_attempt_of, start_test, take_test_scoring
    from tests.rollcall.support import SERIES, post_showing

    s = services(app)
    emails = {"learner": "learner@example.gov", "admin": "admin@example.gov", "coordinator": "coord@example.gov",
              "officer": "officer@example.gov", "target": "target@example.gov", "unverified": "new@example.gov"}
    make_user(app, email=emails["admin"], name="Ada Admin", roles=("admin", "support"))
    make_user(app, email=emails["target"], name="Tess Target")
    make_user(app, email=emails["unverified"], name="Newt New", verified=False)
    learner = make_user(app, email=emails["learner"], name="Pat Learner", agency="Elm City PD")
    client = app.test_client()
    log_in(client, emails["learner"])
    enroll(client)
    take_test_scoring(client, app, "pre", 5, emails["learner"])
    complete_all_lessons(client, app)
    start_test(client, "post")
    attempt, _ = open_attempt_of(app, "post", emails["learner"])
    showing = post_showing(client, app.extensions["packs"].get(SERIES).lessons[0].id)
    assert showing.status_code == 303, showing.get_data(as_text=True)[:300]

    agency_id = new_agency(app, coordinator=emails["coordinator"])
    officer = make_user(app, email=emails["officer"], name="Ofc. Rivera")
    with s.database.session() as db:
        member = AgencyMember(agency_id=agency_id, user_id=officer.id, role="officer", joined_at=s.clock.now())
        db.add(member)
        db.commit()
        member_id = member.id
    award_id = add_award(app, agency_id)
    sro_id = add_sro(app, award_id, training_completed=date(2026, 5, 1))
    expense_id = add_expense(app, sro_id)
    invite_id, token = add_invite(app, agency_id, emails["coordinator"])
    with s.database.engine.connect() as connection:
        showing_id = connection.execute(text("SELECT MAX(id) FROM rollcall_showing")).scalar_one()
    return World(values={"user_id": learner.id, "agency_id": agency_id, "award_id": award_id, "sro_id": sro_id,
                         "expense_id": expense_id, "invite_id": invite_id, "member_id": member_id,
                         "showing_id": showing_id, "attempt_id": attempt.id, "token": token,
                         "target_id": _user_id(app, emails["target"])},
                 emails=emails)


def _user_id(app, email) -> int:
    from tests.helpers import get_user

    return get_user(app, email).id


def signed_in(app, email: str):
    client = app.test_client()
    response = log_in(client, email)
    assert response.status_code == 302, f"could not log in {email}: {response.status_code}"
    return client


# -- form values ----------------------------------------------------------------------------

TODAY = date(2026, 6, 15)

# Values a real browser could send for a field of this name; mixed with hostile ones, they let
# the fuzzer get past the first validation and reach the services.
PLAUSIBLE = {
    "email": ["learner@example.gov", "target@example.gov", "fresh@example.gov", "COORD@example.gov", "a@b.c"],
    "coordinator_email": ["target@example.gov", "coord@example.gov", "nobody@example.gov"],
    "program_manager_email": ["pm@cops.example.gov", ""],
    "password": [PASSWORD, "another good passphrase"], "current_password": [PASSWORD],
    "confirm": [PASSWORD, "another good passphrase"],
    "name": ["Pat Learner", "Ofc. Dana Park", "  "], "agency": ["Elm City PD", ""],
    "award_number": ["2026-UL-WX-0001", "2026-UL-WX-0042"], "funded_positions": ["1", "2", "0", "501", "-3"],
    "officers_present": ["1", "12", "1000", "1001", "0"], "amount": ["125.50", "$1,000.00", "0.001", "NaN", "1e9"],
    "role": ["initial", "backfill", "coordinator", "officer", "support", "admin"],
    "category": ["transportation", "lodging", "mie"], "answer": ["yes", "Yes ", "no"],
    "attempt_id": ["1", "2", "0", "99999999999"], "remember": ["y"], "download": ["1"], "position": ["12.5", "-1"],
    "seconds": ["12.5", "-1", "inf", "nan"],
}
DATE_VALUES = [TODAY.isoformat(), (TODAY - timedelta(days=30)).isoformat(), (TODAY + timedelta(days=3)).isoformat(),
               "1999-12-31", "0001-01-01", "9999-12-31", "2026-02-30", "06/15/2026"]

_any_char = st.characters(exclude_categories=("Cs",))  # no lone surrogates: a browser cannot send them
_control = st.characters(min_codepoint=0, max_codepoint=0x1f) | st.sampled_from(["\x7f", "\u2028", "\ufeff", "\u202e"])

hostile_text = st.one_of(
    st.text(_any_char, max_size=40),
    st.text(_control | st.sampled_from("<>\"'&;=/\\%"), max_size=20),
    st.builds(lambda c, n: c * n, st.sampled_from(["a", "é", "😀", "<", " ", "\n", "%", "\x00"]),
              st.integers(100, 30_000)),  # huge (past every length limit: the largest is 20,000), cheap to make
    st.sampled_from(["", " ", "0", "-1", "1e308", "NaN", "null", "[]", "{}", "true", "../../etc/passwd",
                     "<script>alert(1)</script>", "' OR 1=1 --", "%00", "\\x00", "２０２６-０６-１５"]),
)
# Bytes that are not UTF-8 ride in the raw form body, percent-encoded, as a broken client would send them.
hostile_bytes = st.binary(max_size=40)


def value_for(name: str) -> st.SearchStrategy:
    """A value for a field: often plausible, often hostile, sometimes raw bytes."""
    plausible = PLAUSIBLE.get(name) or (DATE_VALUES if any(w in name for w in ("date", "_on", "completed", "submitted", "shown", "as_of")) else ["x"])
    return st.one_of(st.sampled_from(plausible), hostile_text, hostile_bytes)


def field_values(names: list[str]) -> st.SearchStrategy:
    """A form: each real field present or not, with one or several values, plus random extra fields."""
    per_field = {name: st.one_of(st.none(), st.lists(value_for(name), min_size=1, max_size=3))
                 for name in names}
    extras = st.dictionaries(st.text(_any_char, min_size=1, max_size=12).filter(lambda k: k != "csrf_token"),
                             st.lists(value_for("extra"), min_size=1, max_size=2), max_size=3)
    return st.builds(lambda fixed, more: {**{k: v for k, v in fixed.items() if v is not None}, **more},
                     st.fixed_dictionaries(per_field), extras)
