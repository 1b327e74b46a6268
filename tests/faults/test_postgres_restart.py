"""PostgreSQL goes down in the middle of a load run and comes back: every submission a client
saw succeed is in the database exactly once, the requests that met the outage failed cleanly
(503 with Retry-After, never a 500), and the same gunicorn workers serve again once the database
is back, without a restart (the pool checks its connections before use).

The database is a private cluster made for this test (initdb in a temporary folder, its own
port and socket folder), never the machine's shared server. PostgreSQL will not run as root, so
as root the cluster runs as the `postgres` user through runuser.
"""

from __future__ import annotations

import glob
import os
import pwd
import queue
import re
import shutil
import subprocess
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.pool import NullPool

from portal import create_app, migrate
from tests.faults.gunicorn import Browser, free_port, require, wait_until
from tests.helpers import PASSWORD, make_user
from tests.learning.journey import COURSE

LEARNERS = 40
CLIENTS = 4


def server_binaries() -> Path | None:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(p.split("/")[4]))
    if found:
        return Path(found[-1]).parent
    initdb = shutil.which("initdb")
    return Path(initdb).parent if initdb else None


@dataclass
class Cluster:
    root: Path
    bindir: Path
    port: int
    run_as: list[str]

    @property
    def url(self) -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/portal"

    def pg_ctl(self, *args: str) -> None:
        subprocess.run([*self.run_as, str(self.bindir / "pg_ctl"), "-D", str(self.root / "data"),
                        "-l", str(self.root / "server.log"), "-w", "-t", "60", *args],
                       check=True, capture_output=True, timeout=120)

    def log(self) -> str:
        path = self.root / "server.log"
        return path.read_text(errors="replace") if path.exists() else ""


@pytest.fixture
def private_postgres():
    bindir = server_binaries()
    require(bindir is not None and (bindir / "pg_ctl").exists(),
            "PostgreSQL server binaries (initdb, pg_ctl) are not installed")
    run_as: list[str] = []
    root = Path(tempfile.mkdtemp(prefix="portal-faults-pg-"))
    if os.geteuid() == 0:
        require(shutil.which("runuser") is not None, "running as root needs runuser to start PostgreSQL")
        try:
            owner = pwd.getpwnam("postgres")
        except KeyError:
            owner = None
        require(owner is not None, "running as root needs a `postgres` user to start PostgreSQL")
        os.chown(root, owner.pw_uid, owner.pw_gid)
        run_as = ["runuser", "-u", "postgres", "--"]
    cluster = Cluster(root, bindir, free_port(), run_as)
    started = False
    try:
        subprocess.run([*run_as, str(bindir / "initdb"), "-D", str(root / "data"), "-U", "postgres", "-A", "trust",
                        "-E", "UTF8", "--locale=C", "--no-sync"], check=True, capture_output=True, timeout=120)
        with open(root / "data" / "postgresql.conf", "a") as conf:
            conf.write(f"port = {cluster.port}\nlisten_addresses = '127.0.0.1'\n"
                       f"unix_socket_directories = '{root}'\nmax_connections = 100\n")
        cluster.pg_ctl("start")
        started = True
        admin = create_engine(cluster.url.replace("/portal", "/postgres"), isolation_level="AUTOCOMMIT",
                              poolclass=NullPool)
        with admin.connect() as connection:
            connection.execute(text("CREATE DATABASE portal"))
        admin.dispose()
        migrate.upgrade(cluster.url)
        yield cluster
    finally:
        if started:
            try:
                cluster.pg_ctl("stop", "-m", "immediate")
            except subprocess.CalledProcessError:
                pass  # already down: a failed test may have stopped it
        shutil.rmtree(root, ignore_errors=True)


@dataclass
class Record:
    """What the clients saw."""

    submitted: list[tuple[str, int]] = field(default_factory=list)  # (email, attempt id) seen succeed
    outage: list[str] = field(default_factory=list)  # clean failures: 503 with Retry-After, lost connections
    bad: list[str] = field(default_factory=list)  # anything else: a 500, a wrong page
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, kind: str, item) -> None:
        with self.lock:
            getattr(self, kind).append(item)


def until_ok(record: Record, deadline: float, what: str, send, ok) -> object:
    """Send until the answer is `ok`; a 503 with Retry-After or a lost connection is the outage
    (try again), anything else is a bug."""
    while time.monotonic() < deadline:
        try:
            response = send()
        except OSError as error:
            record.add("outage", f"{what}: {type(error).__name__}")
        else:
            if ok(response):
                return response
            if response.status == 503 and response.headers.get("Retry-After", "").isdigit():
                record.add("outage", f"{what}: 503")
            else:
                record.add("bad", f"{what}: {response.status} {response.text[:300]}")
                return None
        time.sleep(0.05)
    record.add("bad", f"{what}: still failing at the deadline")
    return None


def take_pre_test(base_url: str, email: str, record: Record, deadline: float) -> None:
    """Log in, enroll, start the pre-test and submit it, as a browser would, retrying each step."""
    browser = Browser(base_url, timeout=30)
    redirect = lambda r: r.status in (302, 303)  # noqa: E731
    token = until_ok(record, deadline, "log-in page", lambda: browser.get("/account/login"), lambda r: r.status == 200)
    if token is None:
        return
    csrf = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', token.text)[1]
    if not until_ok(record, deadline, "log in", lambda: browser.request(
            "POST", "/account/login", {"csrf_token": csrf, "email": email, "password": PASSWORD}), redirect):
        return
    page = until_ok(record, deadline, "course page", lambda: browser.get(f"/courses/{COURSE}"),
                    lambda r: r.status == 200)
    if page is None:
        return
    csrf = {"csrf_token": re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page.text)[1]}
    base = f"/learn/{COURSE}/tests/pre"
    for what, path in (("enroll", f"/courses/{COURSE}/enroll"), ("start", base + "/start")):
        if not until_ok(record, deadline, what, lambda: browser.request("POST", path, csrf), redirect):
            return
    test = until_ok(record, deadline, "test page", lambda: browser.get(base), lambda r: r.status == 200)
    if test is None:
        return
    attempt_id = int(re.search(r'name="attempt_id" value="(\d+)"', test.text)[1])
    answers = {name: "1" for name in set(re.findall(r'name="(q-\d+)"', test.text))}
    done = until_ok(record, deadline, "submit", lambda: browser.request(
        "POST", base + "/submit", {**csrf, "attempt_id": str(attempt_id), **answers}),
        lambda r: r.status == 303 and r.location.endswith(f"/learn/{COURSE}"))
    if done:
        record.add("submitted", (email, attempt_id))


# "fast" ends every session with an error the clients' requests see; "immediate" is a crash:
# connections drop without a word and the server recovers from its log on start.
@pytest.mark.parametrize("mode", ["fast", "immediate"])
def test_postgres_restart_mid_load_loses_nothing_and_fails_cleanly(private_postgres, start_server, tmp_path, mode):
    cluster = private_postgres
    setup = create_app({"TESTING": True, "DATABASE_URL": cluster.url, "PORTAL_DATA_DIR": str(tmp_path / "setup"),
                        "SECRET_KEY": "x", "ARGON2_TIME_COST": 1, "ARGON2_MEMORY_COST": 1024,
                        "RATELIMIT_ENABLED": False})
    emails = [f"learner{i}@example.gov" for i in range(LEARNERS)]
    for email in emails:
        make_user(setup, email, name=f"Learner {email}")
    setup.extensions["portal"].database.dispose()

    server = start_server(cluster.url)
    workers = server.worker_pids()
    record, todo = Record(), queue.Queue()
    for email in emails:
        todo.put(email)
    deadline = time.monotonic() + 240

    def client():
        while True:
            try:
                email = todo.get_nowait()
            except queue.Empty:
                return
            take_pre_test(server.base_url, email, record, deadline)

    threads = [threading.Thread(target=client, daemon=True) for _ in range(CLIENTS)]
    for thread in threads:
        thread.start()
    try:
        wait_until(lambda: len(record.submitted) >= 3, 120, "the first submissions")
        cluster.pg_ctl("stop", "-m", mode)
        try:
            wait_until(lambda: len(record.outage) + len(record.bad) >= CLIENTS, 60, "clients to meet the outage")
        finally:
            cluster.pg_ctl("start")
    finally:
        for thread in threads:
            thread.join(timeout=max(1.0, deadline - time.monotonic()))
    assert not any(thread.is_alive() for thread in threads), "clients still running at the deadline"

    assert record.bad == [], "requests failed uncleanly during the outage:\n" + "\n".join(record.bad[:20])
    assert len(record.outage) >= CLIENTS
    assert sorted(email for email, _ in record.submitted) == sorted(emails)  # every client got through in the end
    assert server.worker_pids() == workers, "workers were replaced: the app did not recover by itself"
    assert Browser(server.base_url).get("/readyz").status == 200

    engine = create_engine(cluster.url, poolclass=NullPool)
    with engine.connect() as connection:
        for email, attempt_id in record.submitted:
            rows = connection.execute(text(
                "SELECT a.id, a.submitted_at, e.pre_score FROM attempt a JOIN enrollment e ON e.id = a.enrollment_id "
                "JOIN user_account u ON u.id = e.user_id WHERE u.email = :email AND a.kind = 'pre'"),
                {"email": email}).all()
            assert [(r.id, r.submitted_at is not None, r.pre_score is not None) for r in rows] == \
                [(attempt_id, True, True)], f"{email}: {rows}"
        enrollments = connection.execute(text(
            "SELECT COUNT(*), COUNT(DISTINCT user_id) FROM enrollment")).one()
        assert tuple(enrollments) == (LEARNERS, LEARNERS)
        answered = connection.execute(text("SELECT SUM(answered) FROM item_stat WHERE kind = 'pre'")).scalar()
        drawn = connection.execute(text(
            "SELECT SUM(question_count) FROM attempt WHERE kind = 'pre' AND submitted_at IS NOT NULL")).scalar()
        assert answered == drawn  # each submission counted in the summaries once
    engine.dispose()
