"""No N+1: the number of SQL statements a page runs does not grow with the rows it shows.

Each case signs someone in, adds a few of the rows its page lists (2 officers, 1 certificate,
2 showings…), counts the statements one GET runs (SQLAlchemy's before_cursor_execute on the
app's engine), adds many more rows (20, 10, 20…) and counts again. The counts must be equal;
a failure lists both sets of statements. Rows are written straight to the database: the pages,
not the writes, are under test.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Callable
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import event

from portal.accounts.models import ROLE_ADMIN, User
from portal.certificates.models import Certificate
from portal.learning.models import POST, PRE, Attempt, Enrollment, ItemStat, LessonProgress
from portal.learning.sessions import session_year
from portal.rollcall.models import RollCallAttendee, RollCallShowing
from portal.support.models import AuditEntry
from portal_agencies.models import Agency, AgencyInvite, AgencyMember, ChpAward, SchoolResourceOfficer, TravelExpense
from tests.helpers import PASSWORD, log_in, make_user, services

COURSE = "intro-sro-programs"


def count_statements(app, client, path: str, sizes: list[int] | None = None) -> list[str]:
    """The SQL statements one GET of `path` runs (it must answer 200); the body's size
    is appended to `sizes` if given."""
    statements: list[str] = []
    engine = services(app).database.engine

    def record(_conn, _cursor, statement, _params, _context, _executemany):
        statements.append(" ".join(statement.split()))

    event.listen(engine, "before_cursor_execute", record)
    try:
        response = client.get(path)
    finally:
        event.remove(engine, "before_cursor_execute", record)
    assert response.status_code == 200, f"{path}: {response.status_code} {response.get_data(as_text=True)[:300]}"
    if sizes is not None:
        sizes.append(len(response.get_data()))
    return statements


# -- row makers (straight to the database) --------------------------------------

class Rows:
    """Adds rows for one case; ids it made are kept so later rounds add more of the same."""

    def __init__(self, app):
        self.app = app
        self.s = services(app)
        self.now = self.s.clock.now()
        self.year = session_year(self.now, ZoneInfo(app.config["PORTAL_TIMEZONE"]))
        self.made = 0

    def _next(self) -> int:
        self.made += 1
        return self.made

    def user(self, prefix="person", **fields) -> User:
        n = self._next()
        with self.s.database.session() as db:
            user = User(email=f"{prefix}{n}@example.gov", name=f"{prefix.title()} {n}", password_hash="x",
                        created_at=self.now, password_changed_at=self.now, email_verified_at=self.now, **fields)
            db.add(user)
            db.commit()
            return user

    def enrollment(self, user_id: int, year: int, *, passed=True, certificate=False, attempts=True) -> int:
        pack = self.app.extensions["packs"].get(COURSE)
        with self.s.database.session() as db:
            e = Enrollment(user_id=user_id, pack_id=COURSE, pack_version=pack.version, session_year=year,
                           enrolled_at=self.now, last_activity_at=self.now, passed_at=self.now if passed else None,
                           pre_score=50.0, best_post_score=90.0 if passed else 60.0, post_attempts=1,
                           first_post_passed=passed)
            db.add(e)
            db.flush()
            if attempts:
                db.add(Attempt(enrollment_id=e.id, pack_id=COURSE, pack_version=pack.version, kind=PRE, number=1,
                               started_at=self.now, submitted_at=self.now, correct_count=5, question_count=10,
                               score=50.0))
                db.add(Attempt(enrollment_id=e.id, pack_id=COURSE, pack_version=pack.version, kind=POST, number=1,
                               started_at=self.now, submitted_at=self.now, correct_count=9 if passed else 6,
                               question_count=10, score=90.0 if passed else 60.0, passed=passed))
            for lesson in pack.lessons[:3]:
                db.add(LessonProgress(enrollment_id=e.id, lesson_id=lesson.id, pack_version=pack.version,
                                      completed_at=self.now, updated_at=self.now))
            if certificate:
                db.add(Certificate(number=f"PSTP-{year}-TEST-{e.id:04d}", enrollment_id=e.id, user_id=user_id,
                                   pack_id=COURSE, pack_version=pack.version, learner_name="Pat Learner",
                                   course_title=pack.title, provider_name=pack.provider.name,
                                   completed_on=self.now.date(), session_year=year, hours=4.0, issued_at=self.now))
            db.commit()
            return e.id

    def add(self, *objects) -> None:
        with self.s.database.session() as db:
            db.add_all(objects)
            db.commit()


def signed_in(app, email="learner@example.gov", roles=()):
    user = make_user(app, email=email, roles=roles)
    client = app.test_client()
    assert log_in(client, email, PASSWORD).status_code == 302
    return user, client


# -- cases ---------------------------------------------------------------------

@dataclass
class Case:
    """`start(app)` signs someone in and returns (client, path, grow); `grow(n)` adds n rows."""

    start: Callable
    small: int = 2
    large: int = 20
    lists_rows: bool = True  # the page shows the rows, so it must get longer as they are added


def _learner_with_enrollments(app, certificates: bool, path: str | Callable):
    user, client = signed_in(app)
    rows = Rows(app)
    years = iter(range(rows.year, rows.year - 100, -1))  # one enrollment per course session

    def grow(n):
        for _ in range(n):
            rows.enrollment(user.id, next(years), passed=certificates, certificate=certificates)
    return client, path, grow


def catalog(app):
    rows = Rows(app)
    client = app.test_client()

    def grow(n):  # other learners' enrollments: the catalog must not read them row by row
        for _ in range(n):
            rows.enrollment(rows.user().id, rows.year)
    return client, "/catalog", grow


def my_courses(app):
    return _learner_with_enrollments(app, False, "/my/courses")


def my_certificates(app):
    return _learner_with_enrollments(app, True, "/my/certificates")


def course_page(app):
    client, _, grow = _learner_with_enrollments(app, True, "")
    return client, f"/courses/{COURSE}", grow


def lesson_page(app):
    user, client = signed_in(app)
    rows = Rows(app)
    rows.enrollment(user.id, rows.year, passed=False)  # this session's, with three lessons done
    pack = app.extensions["packs"].get(COURSE)
    other_years = iter(range(rows.year - 1, rows.year - 100, -1))

    def grow(n):  # earlier sessions of the course and other learners in this one
        for _ in range(n):
            rows.enrollment(user.id, next(other_years), passed=False)
            rows.enrollment(rows.user().id, rows.year, passed=False)
    return client, f"/learn/{COURSE}/lessons/{pack.lessons[1].id}", grow


def support_search(app):
    _, client = signed_in(app, "support@example.gov", roles=("support",))
    rows = Rows(app)

    def grow(n):
        for _ in range(n):
            user = rows.user("findme")
            rows.enrollment(user.id, rows.year, certificate=True)
    return client, "/support/?q=findme", grow


def support_user(app):
    admin, client = signed_in(app, "admin@example.gov", roles=(ROLE_ADMIN,))
    rows = Rows(app)
    target = rows.user("target")
    years = iter(range(rows.year, rows.year - 100, -1))

    def grow(n):
        for _ in range(n):
            rows.enrollment(target.id, next(years), certificate=True)
            rows.add(AuditEntry(actor_id=admin.id, action="confirm_account", target_user_id=target.id,
                                detail="checked", created_at=rows.now))
    return client, f"/support/users/{target.id}", grow


def _agency(app):
    coordinator, client = signed_in(app, "coord@example.gov")
    rows = Rows(app)
    agency = Agency(name="Elm City Police Department", created_at=rows.now)
    rows.add(agency)
    rows.add(AgencyMember(agency_id=agency.id, user_id=coordinator.id, role="coordinator", joined_at=rows.now))
    award = ChpAward(agency_id=agency.id, award_number="2026-UL-WX-0042", award_date=date(2026, 3, 2),
                     funded_positions=40, created_at=rows.now)
    rows.add(award)
    today = rows.now.date()

    def grow(n):  # officers (with enrollments and certificates), SROs with expenses, invites
        for _ in range(n):
            officer = rows.user("officer")
            rows.add(AgencyMember(agency_id=agency.id, user_id=officer.id, role="officer", joined_at=rows.now))
            rows.enrollment(officer.id, rows.year, certificate=True)
            sro = SchoolResourceOfficer(award_id=award.id, name=f"Ofc. {officer.name}", role="initial",
                                        hire_date=today - timedelta(days=30), placement_date=today - timedelta(days=20),
                                        created_at=rows.now)
            rows.add(sro)
            rows.add(TravelExpense(sro_id=sro.id, category="lodging", description="Hotel", incurred_on=today,
                                   amount=Decimal("100.00")),
                     AgencyInvite(agency_id=agency.id, token_hash=f"{sro.id:064d}", created_by=coordinator.id,
                                  created_at=rows.now, expires_at=rows.now + timedelta(days=7)))
    return client, agency.id, grow


def agency_dashboard(app):
    client, agency_id, grow = _agency(app)
    return client, f"/agencies/{agency_id}", grow


def agency_members(app):
    client, agency_id, grow = _agency(app)
    return client, f"/agencies/{agency_id}/members", grow


def agency_roster_export(app):
    client, agency_id, grow = _agency(app)
    return client, f"/agencies/{agency_id}/roster/export.csv", grow


def _rollcall(app, path):
    trainer, client = signed_in(app, "trainer@example.gov")
    rows = Rows(app)
    series = app.extensions["packs"].get("rollcall-school-safety")
    episode = series.lessons[0]

    def grow(n):
        for i in range(n):
            showing = RollCallShowing(trainer_id=trainer.id, pack_id=series.id, pack_version=series.version,
                                      episode_id=episode.id, series_title=series.title, episode_title=episode.title,
                                      shown_on=rows.now.date() - timedelta(days=i), agency="Elm City PD",
                                      agency_key="elm city pd", officers_present=5, addresses_listed=1,
                                      created_at=rows.now)
            rows.add(showing)
            rows.add(RollCallAttendee(showing_id=showing.id, user_id=rows.user("attendee").id))
    return client, path, grow


def rollcall_log(app):
    return _rollcall(app, "/rollcall/log")


def rollcall_log_csv(app):
    return _rollcall(app, "/rollcall/log.csv")


def _reports(app, path):
    _, client = signed_in(app, "admin@example.gov", roles=(ROLE_ADMIN,))
    rows = Rows(app)
    years = [rows.year, rows.year - 1, rows.year - 2]

    pack = app.extensions["packs"].get(COURSE)
    questions = [(kind, q.id) for kind in (PRE, POST) for q in pack.questions_for(kind)]
    made = iter(range(10_000))

    def grow(n):  # learners across three session years, and per-question counts for item analysis
        for _ in range(n):
            i = next(made)
            rows.enrollment(rows.user().id, years[i % 3], passed=bool(i % 2), certificate=bool(i % 2))
            kind, question_id = questions[i % len(questions)]
            rows.add(ItemStat(pack_id=COURSE, session_year=years[i // len(questions)], kind=kind,
                              question_id=question_id, answered=10, correct=7))
    return client, path, grow


CASES = {
    "catalog": Case(catalog, lists_rows=False),
    "my courses": Case(my_courses, 1, 12),
    "my certificates": Case(my_certificates, 1, 10),
    "course page": Case(course_page, 1, 10, lists_rows=False),  # shows one enrollment of many
    "lesson": Case(lesson_page, lists_rows=False),
    "support search": Case(support_search),
    "support user detail": Case(support_user),
    "agency dashboard": Case(agency_dashboard),
    "agency members": Case(agency_members),
    "agency roster export": Case(agency_roster_export),
    "rollcall log": Case(rollcall_log),
    "rollcall log csv": Case(rollcall_log_csv),
    "reports": Case(lambda app: _reports(app, "/reports/")),
    "reports items": Case(lambda app: _reports(app, f"/reports/items?course={COURSE}")),
    "reports courses csv": Case(lambda app: _reports(app, "/reports/courses.csv")),
    "reports items csv": Case(lambda app: _reports(app, f"/reports/items.csv?course={COURSE}")),
    # Every completion falls in this month: one row, whatever the count.
    "reports completions csv": Case(lambda app: _reports(app, "/reports/completions.csv"), lists_rows=False),
}


def _listing(statements: list[str]) -> str:
    return "\n".join(f"  {i + 1:2}. {s[:300]}" for i, s in enumerate(statements))


@pytest.mark.parametrize("name", CASES)
def test_statements_per_page_do_not_grow_with_rows(app, name):
    case = CASES[name]
    client, path, grow = case.start(app)
    grow(case.small)
    sizes: list[int] = []
    count_statements(app, client, path)  # the first request may warm per-process state
    small = count_statements(app, client, path, sizes)
    grow(case.large - case.small)
    large = count_statements(app, client, path, sizes)
    if case.lists_rows:  # else the rows were not on the page and the comparison proves nothing
        assert sizes[1] > sizes[0], f"{path} did not get longer with {case.large} rows instead of {case.small}"
    assert len(large) == len(small), (
        f"{path} ran {len(small)} statements with {case.small} rows and {len(large)} with {case.large}:\n"
        f"small:\n{_listing(small)}\nlarge:\n{_listing(large)}")


def test_the_counter_catches_a_page_that_reads_row_by_row(app):
    """The check can fail: a page that loads each row with its own query is caught."""
    from sqlmodel import select

    from portal.common.web import db

    def row_by_row():
        ids = db().exec(select(Enrollment.id)).all()
        return {"certificates": [db().exec(select(Certificate).where(Certificate.enrollment_id == i)).first()
                                 is not None for i in ids]}

    app.add_url_rule("/test-row-by-row", "test_row_by_row", row_by_row)
    client = app.test_client()
    rows = Rows(app)
    for _ in range(2):
        rows.enrollment(rows.user().id, rows.year)
    small = count_statements(app, client, "/test-row-by-row")
    for _ in range(3):
        rows.enrollment(rows.user().id, rows.year)
    assert len(count_statements(app, client, "/test-row-by-row")) == len(small) + 3
