"""A database locked past its timeout: real gunicorn answers each write with a 503 page that
says to retry (with Retry-After), writes nothing, and the retry after the lock frees succeeds.

SQLite: another connection holds the write lock (BEGIN IMMEDIATE) past SQLITE_BUSY_TIMEOUT_MS.
PostgreSQL: another transaction holds the table a route writes, past the `lock_timeout` set on
the server's connections (the operator's setting, in DATABASE_URL). For the post-test the held
table is the report summaries, which the submission writes last: the 503 comes after its other
writes, and the snapshot shows they were all rolled back.
"""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager

from sqlalchemy import create_engine, func, select
from sqlalchemy.pool import NullPool

from portal.accounts.models import User
from portal.learning.models import Attempt, Enrollment
from portal.mail.models import OutboxMessage
from tests.faults.gunicorn import Browser, learner_at_post_test
from tests.helpers import PASSWORD, make_user, services, snapshot
from tests.learning.journey import COURSE, page_text

TIMEOUT_MS = 300


@contextmanager
def locked(database_url: str, table: str):
    engine = create_engine(database_url, poolclass=NullPool)
    with engine.connect() as connection:
        if database_url.startswith("postgresql"):
            connection.exec_driver_sql(f'LOCK TABLE "{table}" IN EXCLUSIVE MODE')  # reads go on, writes wait
        else:
            connection.exec_driver_sql("BEGIN IMMEDIATE")
        try:
            yield
        finally:
            connection.rollback()
    engine.dispose()


def server_url(database_url: str) -> str:
    if database_url.startswith("postgresql"):
        return f"{database_url}?options=-c%20lock_timeout%3D{TIMEOUT_MS}"
    return database_url


def count(app, statement) -> int:
    with services(app).database.session() as db:
        return db.execute(statement).scalar_one()


def assert_busy_and_nothing_written(app, table: str, database_url: str, send) -> None:
    before = snapshot(app)
    with locked(database_url, table):
        response = send()
        assert response.status == 503, f"{response.status}: {response.text[:500]}"
        assert response.headers.get("Retry-After", "").isdigit()
        text = page_text(response.text)
        assert "busy" in text.lower() and "Nothing you sent was lost" in text
        assert "Traceback" not in response.text
        assert snapshot(app) == before, f"a {table} write was left half-done"


def test_writes_get_503_with_retry_after_and_leave_nothing_then_the_retry_succeeds(app, start_server,
                                                                                   database_url):
    attempt, _items, answers = learner_at_post_test(app)
    make_user(app, "enrolls@example.gov", name="Enrolling Learner")
    server = start_server(server_url(database_url), env={"SQLITE_BUSY_TIMEOUT_MS": TIMEOUT_MS})

    # Sign-up: the new account, its token and its mail are one transaction.
    visitor = Browser(server.base_url)
    form = {"name": "New Officer", "email": "new@example.gov", "agency": "", "password": PASSWORD,
            "confirm": PASSWORD, "csrf_token": visitor.csrf_token("/account/signup")}
    assert_busy_and_nothing_written(app, "user_account", database_url,
                                    lambda: visitor.request("POST", "/account/signup", form))
    response = visitor.request("POST", "/account/signup", form)
    assert response.status == 302 and response.location.endswith("/account/verify/sent")
    assert count(app, select(func.count()).select_from(User).where(User.email == "new@example.gov")) == 1
    assert count(app, select(func.count()).select_from(OutboxMessage)
                 .where(OutboxMessage.to_address == "new@example.gov")) == 1

    # Enrollment.
    enrolling = Browser(server.base_url)
    enrolling.log_in("enrolls@example.gov", PASSWORD)
    form = {"csrf_token": enrolling.csrf_token(f"/courses/{COURSE}")}
    assert_busy_and_nothing_written(app, "enrollment", database_url,
                                    lambda: enrolling.request("POST", f"/courses/{COURSE}/enroll", form))
    response = enrolling.request("POST", f"/courses/{COURSE}/enroll", form)
    assert response.status == 303, response.text[:500]
    assert count(app, select(func.count()).select_from(Enrollment).join(User, User.id == Enrollment.user_id)
                 .where(User.email == "enrolls@example.gov")) == 1

    # The post-test submission.
    learner = Browser(server.base_url)
    learner.log_in("learner@example.gov", PASSWORD)
    form = {"csrf_token": learner.csrf_token(f"/learn/{COURSE}/tests/post"), **answers}
    submit = f"/learn/{COURSE}/tests/post/submit"
    since = len(server.trace())
    assert_busy_and_nothing_written(app, "item_stat", database_url, lambda: learner.request("POST", submit, form))
    if database_url.startswith("postgresql"):  # the lock stopped it after its other writes
        sent = [what for _pid, what in server.trace()[since:]]
        assert any(s.startswith("SQL UPDATE attempt SET submitted_at") for s in sent), sent
        assert any(s.startswith("SQL UPDATE enrollment SET") for s in sent), sent
    response = learner.request("POST", submit, form)
    assert response.status == 303 and response.location.endswith(f"/results/{attempt.id}"), response.text[:500]
    with services(app).database.session() as db:
        done = db.get(Attempt, attempt.id)
        assert done.submitted_at is not None and done.passed
        assert db.get(Enrollment, done.enrollment_id).post_attempts == 1


BURST = 16


def test_a_burst_of_account_writes_waits_its_turn_instead_of_failing(app, start_server, database_url):
    """Many log-ins, password-reset requests and sign-ups at once across 2 workers: each waits
    for the write lock within the timeout (5 s by default) and succeeds; none is turned away busy.
    (On SQLite a write after reads in one transaction used to fail at once with a 503.)"""
    for i in range(BURST):
        make_user(app, f"officer{i}@example.gov", name=f"Officer {i}")
    server = start_server(database_url, workers=2)

    def burst(path: str, form) -> list[int]:
        browsers = [Browser(server.base_url) for _ in range(BURST)]
        tokens = [b.csrf_token(path) for b in browsers]
        start = threading.Barrier(BURST)

        def post(i):
            start.wait(timeout=30)
            return browsers[i].request("POST", path, {"csrf_token": tokens[i], **form(i)}).status

        with ThreadPoolExecutor(BURST) as pool:
            return list(pool.map(post, range(BURST)))

    assert burst("/account/login", lambda i: {"email": f"officer{i}@example.gov", "password": PASSWORD}) == \
        [302] * BURST
    assert burst("/account/password/forgot", lambda i: {"email": f"officer{i}@example.gov"}) == [302] * BURST
    assert burst("/account/signup", lambda i: {"name": f"Recruit {i}", "email": f"recruit{i}@example.gov",
                                               "agency": "", "password": PASSWORD, "confirm": PASSWORD}) == \
        [302] * BURST
    with services(app).database.session() as db:
        assert db.execute(select(func.count()).select_from(User).where(User.email.like("recruit%"))).scalar() == BURST
        assert db.execute(select(func.count()).select_from(OutboxMessage)
                          .where(OutboxMessage.subject.like("Reset your%"))).scalar() == BURST
