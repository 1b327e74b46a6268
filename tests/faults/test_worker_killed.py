"""A gunicorn worker killed in the middle of a post-test submission leaves no partial rows,
and the learner's retry of the same submission counts exactly once.

The kill lands at a known point. Either the submission is blocked on a lock the test holds
(on PostgreSQL a row of the report summaries, written last, so the attempt, its answers and
the enrollment summary are already written in the open transaction; on SQLite the write lock,
which the submission takes before anything else), or the worker is paused by the test hooks
just before its first summary write, after all of its other writes.
"""

from __future__ import annotations

import threading
from typing import Callable

from sqlalchemy import create_engine, text
from sqlalchemy.pool import NullPool
from sqlmodel import select

from portal.learning.models import Attempt, Enrollment, ItemStat
from tests.faults.gunicorn import Browser, learner_at_post_test, wait_until
from tests.helpers import PASSWORD, services, snapshot
from tests.learning.journey import COURSE, items_of

FORM = f"/learn/{COURSE}/tests/post"
SUBMIT = FORM + "/submit"
SUMMARY_INSERT = "INSERT INTO item_stat"
# What the submission writes before the summaries, in its one transaction.
EARLIER_WRITES = ("UPDATE attempt SET submitted_at", "UPDATE attempt_item SET", "UPDATE enrollment SET")


def post_in_background(browser: Browser, data: dict) -> tuple[threading.Thread, list]:
    outcome: list = []

    def post():
        try:
            outcome.append(browser.request("POST", SUBMIT, data))
        except OSError as error:  # the worker died with the request in hand
            outcome.append(error)

    thread = threading.Thread(target=post, daemon=True)
    thread.start()
    return thread, outcome


def backends(database_url: str, where: str) -> Callable[[], list[int]]:
    """A poll of pg_stat_activity for this database; autocommit, since within a transaction
    PostgreSQL answers every query from one snapshot of the activity table."""
    engine = create_engine(database_url, isolation_level="AUTOCOMMIT", poolclass=NullPool)

    def poll() -> list[int]:
        with engine.connect() as connection:
            return list(connection.execute(text(
                "SELECT pid FROM pg_stat_activity WHERE datname = current_database() "
                f"AND pid <> pg_backend_pid() AND {where}")).scalars())

    return poll


def new_trace(server, since: int) -> list[tuple[int, str]]:
    return server.trace()[since:]


def worker_serving_submission(server, since: int, reached: str) -> int:
    """The pid of the worker that took the submission, once its trace shows `reached`."""
    def found():
        lines = new_trace(server, since)
        pids = [pid for pid, what in lines if what == f"REQUEST POST {SUBMIT}"]
        if not pids:
            return None
        sent = [what for pid, what in lines if pid == pids[0]]
        return pids[0] if any(s.startswith(reached) for s in sent) else None

    return wait_until(found, 30, f"the submission to reach {reached!r}")


def statements_of(server, since: int, pid: int) -> list[str]:
    return [what[4:] for p, what in new_trace(server, since) if p == pid and what.startswith("SQL ")]


def assert_written_before(statements: list[str], blocked_on: str) -> None:
    index = next(i for i, s in enumerate(statements) if s.startswith(blocked_on))
    for write in EARLIER_WRITES:
        assert any(s.startswith(write) for s in statements[:index]), \
            f"{write!r} did not happen before {blocked_on!r}: {statements}"


def summaries(app, attempt_id: int) -> tuple:
    with services(app).database.session() as db:
        attempt = db.get(Attempt, attempt_id)
        enrollment = db.get(Enrollment, attempt.enrollment_id)
        stats = sorted((s.question_id, s.answered, s.correct)
                       for s in db.exec(select(ItemStat).where(ItemStat.kind == "post")).all())
        return attempt, enrollment, stats


def assert_untouched(app, before: dict, attempt_id: int) -> None:
    assert snapshot(app) == before, "the killed submission left rows behind"
    attempt, enrollment, stats = summaries(app, attempt_id)
    assert attempt.submitted_at is None and attempt.score is None
    assert all(item.chosen is None and item.correct is None for item in items_of(app, attempt_id))
    assert enrollment.post_attempts == 0 and enrollment.best_post_score is None and enrollment.passed_at is None
    assert stats == []


def assert_retry_counts_once(server, app, browser: Browser, attempt_id: int, data: dict) -> None:
    for _ in range(2):  # the retry, then a second click of the same button
        response = browser.request("POST", SUBMIT, data)  # `data` carries the page's CSRF token
        assert response.status == 303, response.text[:500]
        assert response.location.endswith(f"/learn/{COURSE}/results/{attempt_id}")
    attempt, enrollment, stats = summaries(app, attempt_id)
    items = items_of(app, attempt_id)
    assert attempt.submitted_at is not None and attempt.passed and attempt.correct_count == len(items)
    assert all(item.correct for item in items)
    assert enrollment.post_attempts == 1 and enrollment.best_post_score == 100.0
    assert enrollment.passed_at is not None
    assert stats == sorted((item.question_id, 1, 1) for item in items)
    assert browser.get(f"/learn/{COURSE}/results/{attempt_id}").status == 200


def killed_request_failed(thread: threading.Thread, outcome: list) -> None:
    thread.join(timeout=60)
    assert not thread.is_alive(), "the killed request never ended"
    [result] = outcome
    assert isinstance(result, OSError) or result.status >= 500, f"the killed request succeeded: {result}"


def prepare(app, start_server, database_url, **env):
    attempt, _items, data = learner_at_post_test(app)
    server = start_server(database_url, env=env)
    browser = Browser(server.base_url)
    browser.log_in("learner@example.gov", PASSWORD)
    data = {"csrf_token": browser.csrf_token(FORM), **data}
    return server, browser, attempt.id, data


# -- blocked on a lock the test holds -----------------------------------------------------------

def test_worker_killed_while_its_submission_waits_on_a_lock(app, start_server, database_url):
    # A long busy timeout: on SQLite the submission waits for the lock rather than giving up.
    server, browser, attempt_id, data = prepare(app, start_server, database_url, SQLITE_BUSY_TIMEOUT_MS=120_000)
    before = snapshot(app)
    postgres = database_url.startswith("postgresql")
    holder = create_engine(database_url)
    lock = holder.connect()
    try:
        if postgres:
            # An uncommitted summary row for the question the submission upserts last (they go in
            # question order): it waits for this transaction after every other write of its own.
            enrollment = summaries(app, attempt_id)[1]
            last = max(items_of(app, attempt_id), key=lambda item: item.question_id)
            lock.begin()
            lock.execute(text("INSERT INTO item_stat (pack_id, session_year, kind, question_id, answered, correct) "
                              "VALUES (:p, :y, 'post', :q, 0, 0)"),
                         {"p": COURSE, "y": enrollment.session_year, "q": last.question_id})
            blocked_on = SUMMARY_INSERT
        else:
            lock.exec_driver_sql("BEGIN IMMEDIATE")
            blocked_on = "BEGIN IMMEDIATE"
        since = len(server.trace())
        thread, outcome = post_in_background(browser, data)
        pid = worker_serving_submission(server, since, "SQL " + blocked_on)
        backend = None
        if postgres:
            waiting = backends(database_url, "wait_event_type = 'Lock' AND query LIKE 'INSERT INTO item_stat%'")
            [backend] = wait_until(waiting, 30, "the submission to wait on the row lock")
            statements = statements_of(server, since, pid)
            assert_written_before(statements, blocked_on)
            assert sum(s.startswith(SUMMARY_INSERT) for s in statements) == len(items_of(app, attempt_id))
        server.kill_workers({pid})
        killed_request_failed(thread, outcome)
    finally:
        lock.rollback()
        lock.close()
    if postgres:
        # The killed worker's backend notices its client is gone once the lock frees, and rolls back.
        alive = backends(database_url, f"pid = {int(backend)}")
        wait_until(lambda: not alive(), 30, "the orphaned backend to end")
    holder.dispose()
    assert_untouched(app, before, attempt_id)
    assert_retry_counts_once(server, app, browser, attempt_id, data)


# -- paused by the test hooks after its other writes --------------------------------------------

def test_worker_killed_after_its_writes_but_before_commit(app, start_server, database_url, tmp_path):
    pause = tmp_path / "pause"
    pause.touch()
    server, browser, attempt_id, data = prepare(app, start_server, database_url,
                                                PORTAL_FAULT_PAUSE_AT=SUMMARY_INSERT, PORTAL_FAULT_PAUSE_FILE=pause)
    before = snapshot(app)
    since = len(server.trace())
    thread, outcome = post_in_background(browser, data)
    pid = worker_serving_submission(server, since, "PAUSED " + SUMMARY_INSERT)
    assert_written_before(statements_of(server, since, pid), SUMMARY_INSERT)
    server.kill_workers({pid})
    killed_request_failed(thread, outcome)
    pause.unlink()
    if database_url.startswith("postgresql"):
        open_transactions = backends(database_url, "state LIKE 'idle in transaction%'")
        wait_until(lambda: not open_transactions(), 30, "the killed worker's transaction to end")
    assert_untouched(app, before, attempt_id)
    assert_retry_counts_once(server, app, browser, attempt_id, data)
