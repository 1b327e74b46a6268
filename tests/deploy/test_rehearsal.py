"""The deployment rehearsal: what an operator does on the first real install, as the README's
production section says, on loopback only and in a few minutes.

Real nginx round-robins over two gunicorn hosts (separate data folders, each with its own
`portal mail send --watch`), one PostgreSQL (a private cluster, so it can be stopped), Redis
for rate limits (a private redis-server) and an aiosmtpd relay. The rehearsal races two
`db upgrade`s on the empty database, walks a learner from sign-up to a verified certificate
with consecutive requests on different hosts, proves the per-IP limit counts real client
addresses through the proxy, stops Redis, then the database for 10 s, then SMTP (no 5xx but the
documented 503s, /readyz red while broken and green after, every mail delivered exactly once),
and kills a host during bounded load (every write a client saw succeed is stored). It prints
its figures.
"""

from __future__ import annotations

import itertools
import os
import pwd
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.pool import NullPool

from tests.faults.gunicorn import REPO, Browser, _gunicorn_version, require, wait_until
from tests.faults.services import PrivateRedis, free_port_in, port_open
from tests.faults.test_postgres_restart import Cluster, server_binaries
from tests.helpers import PASSWORD, link_in, submit
from tests.learning.journey import reach_certificate
from tests.smtp import LoopbackSmtpServer

SECRET = "rehearsal-secret-key-the-same-on-every-host"


# -- the pieces ----------------------------------------------------------------------------------

class Page:
    """A response in the shape tests/helpers.py and tests/learning/journey.py expect."""

    def __init__(self, response):
        self.status_code, self.headers, self._text = response.status, response.headers, response.text
        location = response.headers.get("Location", "")
        self.location = "/" + location.split("://", 1)[1].split("/", 1)[1] if "://" in location else location

    def get_data(self, as_text=False):
        return self._text if as_text else self._text.encode()


class HttpClient:
    """The test client's interface over real HTTP through nginx, keeping cookies."""

    def __init__(self, base_url: str, source_ip: str | None = None):
        self.browser = Browser(base_url, source_ip=source_ip)

    def get(self, path: str, **_):
        return Page(self.browser.get(path))

    def post(self, path: str, data=None, **_):
        return Page(self.browser.request("POST", path, data or {}))


@pytest.fixture
def cluster():
    """A private PostgreSQL cluster with an empty `portal` database (nothing migrated)."""
    bindir = server_binaries()
    require(bindir is not None and (bindir / "pg_ctl").exists(), "PostgreSQL server binaries are not installed")
    root = Path(tempfile.mkdtemp(prefix="portal-rehearsal-pg-"))
    run_as: list[str] = []
    if os.geteuid() == 0:
        owner = pwd.getpwnam("postgres")
        os.chown(root, owner.pw_uid, owner.pw_gid)
        run_as = ["runuser", "-u", "postgres", "--"]
    pg = Cluster(root, bindir, free_port_in(18700, 18800), run_as)
    started = False
    try:
        subprocess.run([*run_as, str(bindir / "initdb"), "-D", str(root / "data"), "-U", "postgres", "-A", "trust",
                        "-E", "UTF8", "--locale=C", "--no-sync"], check=True, capture_output=True, timeout=120)
        with open(root / "data" / "postgresql.conf", "a") as conf:
            conf.write(f"port = {pg.port}\nlisten_addresses = '127.0.0.1'\nunix_socket_directories = '{root}'\n"
                       "max_connections = 200\nfsync = off\n")
        pg.pg_ctl("start")
        started = True
        admin = create_engine(pg.url.replace("/portal", "/postgres"), isolation_level="AUTOCOMMIT", poolclass=NullPool)
        with admin.connect() as connection:
            connection.execute(text("CREATE DATABASE portal"))
        admin.dispose()
        yield pg
    finally:
        if started:
            try:
                pg.pg_ctl("stop", "-m", "immediate")
            except subprocess.CalledProcessError:
                pass
        shutil.rmtree(root, ignore_errors=True)


NGINX_CONF = """
daemon off;
worker_processes 1;
pid {root}/nginx.pid;
error_log {root}/error.log warn;
{user}
events {{ worker_connections 512; }}
http {{
    access_log {root}/access.log;
    client_body_temp_path {root}/body;
    proxy_temp_path {root}/proxy;
    fastcgi_temp_path {root}/fastcgi;
    uwsgi_temp_path {root}/uwsgi;
    scgi_temp_path {root}/scgi;
    upstream portal {{
        server 127.0.0.1:{host_a} max_fails=1 fail_timeout=10s;
        server 127.0.0.1:{host_b} max_fails=1 fail_timeout=10s;
    }}
    server {{
        listen 127.0.0.1:{port};
        client_max_body_size 8m;
        location / {{
            proxy_pass http://portal;
            proxy_set_header Host $host;
            proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
            proxy_set_header X-Forwarded-Proto $scheme;
            proxy_next_upstream error timeout;
        }}
    }}
}}
"""


class Deployment:
    def __init__(self, root: Path, database_url: str, redis: PrivateRedis, smtp: LoopbackSmtpServer):
        self.root, self.database_url, self.redis, self.smtp = root, database_url, redis, smtp
        self.port = free_port_in(18300, 18400)
        self.host_ports = [free_port_in(18400, 18450), free_port_in(18450, 18500)]
        self.processes: dict[str, subprocess.Popen] = {}

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def environment(self, host: int) -> dict:
        """Exactly the README's production settings, for one host."""
        env = {k: v for k, v in os.environ.items() if not k.startswith("PORTAL_TEST_")}
        env.update({
            "DATABASE_URL": self.database_url, "PORTAL_DATA_DIR": str(self.root / f"host{host}"),
            "PORTAL_BASE_URL": self.base_url, "SECRET_KEY": SECRET, "PROXY_FIX": "1",
            "RATELIMIT_STORAGE_URI": self.redis.url, "MAIL_TRANSPORT": "smtp", "SMTP_HOST": "127.0.0.1",
            "SMTP_PORT": str(self.smtp.port), "SMTP_SECURITY": "none", "SMTP_TIMEOUT": "5",
            "MAIL_FROM": "Training Portal <no-reply@training.example.gov>", "MAIL_SENDER_MAX_SILENCE": "10",
            "ARGON2_TIME_COST": "1", "ARGON2_MEMORY_COST": "1024", "PYTHONUNBUFFERED": "1",
        })
        return env

    def log(self, name: str) -> Path:
        return self.root / f"{name}.log"

    def start(self, name: str, command: list[str], env: dict) -> None:
        with open(self.log(name), "ab") as log:
            self.processes[name] = subprocess.Popen(command, cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT,
                                                    start_new_session=True)

    def upgrade(self, host: int) -> subprocess.Popen:
        return subprocess.Popen([sys.executable, "-m", "portal.cli", "db", "upgrade"], cwd=REPO,
                                env=self.environment(host), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)

    def start_host(self, host: int) -> None:
        command = [sys.executable, "-m", "gunicorn", "--bind", f"127.0.0.1:{self.host_ports[host]}",
                   "--workers", "2", "--threads", "4", "--graceful-timeout", "5", "portal:create_app()"]
        if _gunicorn_version() >= (27,):  # two servers on one machine would share its control socket
            command[-1:-1] = ["--no-control-socket"]
        self.start(f"host{host}", command, self.environment(host))
        self.start(f"mail{host}", [sys.executable, "-m", "portal.cli", "mail", "send", "--watch", "--interval", "0.5"],
                   self.environment(host))

    def start_nginx(self) -> None:
        folder = self.root / "nginx"
        folder.mkdir()
        conf = folder / "nginx.conf"
        conf.write_text(NGINX_CONF.format(root=folder, port=self.port, host_a=self.host_ports[0],
                                          host_b=self.host_ports[1], user="user root;" if os.geteuid() == 0 else ""))
        self.start("nginx", [shutil.which("nginx") or "/usr/sbin/nginx", "-c", str(conf), "-p", str(folder),
                             "-e", str(folder / "error.log")], os.environ.copy())
        wait_until(lambda: port_open(self.port), 20, "nginx to listen")

    def ready(self, host: int) -> tuple[int, str]:
        try:
            response = Browser(f"http://127.0.0.1:{self.host_ports[host]}", timeout=30).get("/readyz")
        except OSError as error:  # not listening yet, or too slow: not ready
            return 0, str(error)
        return response.status, response.text

    def requests_served(self, host: int) -> int:
        return self.log(f"host{host}").read_text(errors="replace").count(" portal.request: request ")

    def kill(self, name: str) -> None:
        process = self.processes[name]
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=20)

    def stop_all(self) -> None:
        for name, process in self.processes.items():
            if process.poll() is None:
                try:
                    os.killpg(process.pid, signal.SIGTERM)
                    process.wait(timeout=15)
                except (subprocess.TimeoutExpired, ProcessLookupError):
                    self.kill(name)


@pytest.fixture
def deployment(cluster, tmp_path):
    require(shutil.which("nginx") is not None or Path("/usr/sbin/nginx").exists(),
            "nginx is not installed (apt install nginx-light; .ci/run does)")
    redis = PrivateRedis(tmp_path / "redis", port=free_port_in(18600, 18650)).start()
    smtp = LoopbackSmtpServer()
    smtp.start()
    deployment = Deployment(tmp_path, cluster.url, redis, smtp)
    deployment.cluster = cluster
    try:
        yield deployment
    finally:
        deployment.stop_all()
        smtp.stop()
        if redis.process and redis.process.poll() is None:
            redis.stop()


# -- the rehearsal -------------------------------------------------------------------------------

class Tally:
    def __init__(self):
        self.statuses: Counter = Counter()
        self.lock = threading.Lock()

    def add(self, status: int) -> int:
        with self.lock:
            self.statuses[status] += 1
        return status

    @property
    def requests(self) -> int:
        return sum(self.statuses.values())

    def server_errors(self, allowed=()) -> dict:
        return {s: n for s, n in self.statuses.items() if s >= 500 and s not in allowed}


def sign_up(base_url: str, email: str, source_ip: str, tally: Tally) -> int:
    client = HttpClient(base_url, source_ip)
    try:
        page = client.get("/account/signup")
        tally.add(page.status_code)
        if page.status_code != 200:
            return page.status_code
        response = submit(client, "/account/signup", {"name": "Rehearsal Learner", "email": email, "agency": "",
                                                      "password": PASSWORD, "confirm": PASSWORD})
    except (OSError, AssertionError):
        return tally.add(599)  # no answer at all, or a page without a form
    return tally.add(response.status_code)


def users_stored(database_url: str, emails: set[str]) -> set[str]:
    engine = create_engine(database_url, poolclass=NullPool)
    try:
        with engine.connect() as connection:
            rows = connection.execute(text("SELECT email FROM user_account")).all()
    finally:
        engine.dispose()
    return {row[0] for row in rows} & emails


def test_the_deployment_rehearsal(deployment, request, tmp_path):
    figures: list[str] = []
    tally = Tally()
    started = time.monotonic()

    # 1. Two hosts run `portal db upgrade` on the empty database at once.
    racers = [deployment.upgrade(0), deployment.upgrade(1)]
    outcomes = [(p.wait(timeout=240), p.stderr.read()) for p in racers]
    assert all(code == 0 and "Traceback" not in err for code, err in outcomes), outcomes
    figures.append(f"db upgrade raced on an empty database: {len(outcomes)} hosts, "
                   f"{sum(code != 0 for code, _ in outcomes)} failures")

    for host in (0, 1):
        deployment.start_host(host)
    deployment.start_nginx()
    for host in (0, 1):
        wait_until(lambda: port_open(deployment.host_ports[host]) and deployment.ready(host)[0] == 200, 120,
                   f"host {host} to be ready")

    # 2. A learner from sign-up to a verified certificate, consecutive requests on alternate hosts.
    from portal import create_app

    app = create_app({"DATABASE_URL": deployment.database_url, "PORTAL_DATA_DIR": str(tmp_path / "reader"),
                      "SECRET_KEY": SECRET, "MAIL_SENDER_MAX_SILENCE": 0})  # reads the answers, as the tests do
    served_before = [deployment.requests_served(h) for h in (0, 1)]
    learner = HttpClient(deployment.base_url, "127.0.0.10")
    email = "learner@example.gov"
    assert tally.add(submit(learner, "/account/signup", {"name": "Dana Officer", "email": email, "agency": "",
                                                         "password": PASSWORD, "confirm": PASSWORD}).status_code) == 302
    mail = wait_until(lambda: next((m for m in list(deployment.smtp.messages) if m["To"] == email), None), 60,
                      "the verification mail")
    verify = link_in(mail.get_content(), "/account/verify/")
    assert tally.add(submit(learner, verify, {}).status_code) in (302, 303)
    assert tally.add(submit(learner, "/account/login", {"email": email, "password": PASSWORD}).status_code) == 302
    number = reach_certificate(learner, app, email=email)
    check = HttpClient(deployment.base_url, "127.0.0.11").get(f"/verify/{number}")
    assert tally.add(check.status_code) == 200 and "Dana Officer" in check.get_data(as_text=True)
    served = [deployment.requests_served(h) - served_before[h] for h in (0, 1)]
    assert min(served) >= 0.3 * sum(served), served
    figures.append(f"learner journey to certificate {number}: {sum(served)} requests, host A {served[0]}, "
                   f"host B {served[1]}")

    # 3. The per-IP log-in limit counts real client addresses through the proxy.
    first = [tally.add(submit(HttpClient(deployment.base_url, "127.0.0.20"), "/account/login",
                              {"email": f"nobody{n}@example.gov", "password": "wrong"}).status_code) for n in range(11)]
    other = tally.add(submit(HttpClient(deployment.base_url, "127.0.0.21"), "/account/login",
                             {"email": "someone@example.gov", "password": "wrong"}).status_code)
    assert 429 not in first[:10] and first[10] == 429 and other == 422, (first, other)
    figures.append("log-in limit through nginx: client 127.0.0.20 refused at attempt 11, client 127.0.0.21 "
                   "not refused")

    expected_mail = {email}
    addresses = (f"127.0.{a}.{b}" for a in range(100, 200) for b in range(1, 250))

    # 4. Redis stops: log-in works (limits per process), /readyz names Redis; back: green.
    deployment.redis.stop()
    during = [tally.add(submit(HttpClient(deployment.base_url, next(addresses)), "/account/login",
                               {"email": "someone@example.gov", "password": "wrong"}).status_code) for _ in range(4)]
    assert set(during) == {422}, during
    readiness = [deployment.ready(h) for h in (0, 1)]
    assert all(status == 503 and '"redis"' in body for status, body in readiness), readiness
    deployment.redis.start()
    for host in (0, 1):
        wait_until(lambda: deployment.ready(host)[0] == 200, 30, f"host {host} ready after Redis")
    figures.append("Redis down: 4 log-ins answered 422 (none 5xx), /readyz 503 on both hosts, green after")

    # 5. The database stops for 10 s: only documented 503s; mail queued before goes out once.
    for n in range(3):
        address = f"before-db-{n}@example.gov"
        if sign_up(deployment.base_url, address, next(addresses), tally) == 302:
            expected_mail.add(address)
    deployment.cluster.pg_ctl("stop", "-m", "fast")
    outage = Tally()
    outage_end = time.monotonic() + 10
    red = set()
    while time.monotonic() < outage_end:
        sign_up(deployment.base_url, f"during-db-{uuid.uuid4().hex[:8]}@example.gov", next(addresses), outage)
        outage.add(HttpClient(deployment.base_url, next(addresses)).get("/faq").status_code)
        for host in (0, 1):
            if deployment.ready(host)[0] == 503:
                red.add(host)
        time.sleep(0.2)
    deployment.cluster.pg_ctl("start")
    assert outage.server_errors(allowed=(503,)) == {}, outage.statuses
    assert red == {0, 1}
    for host in (0, 1):
        wait_until(lambda: deployment.ready(host)[0] == 200, 60, f"host {host} ready after the database")
    tally.statuses.update(outage.statuses)
    figures.append(f"database down 10 s: {outage.requests} requests, statuses {dict(sorted(outage.statuses.items()))}, "
                   "/readyz 503 on both hosts, green after")

    # 6. SMTP stops: mail waits, /readyz turns red; back: every message delivered once.
    deployment.smtp.stop()
    for n in range(3):
        address = f"during-smtp-{n}@example.gov"
        if sign_up(deployment.base_url, address, next(addresses), tally) == 302:
            expected_mail.add(address)
    wait_until(lambda: deployment.ready(0)[0] == 503 and '"mail_sender"' in deployment.ready(0)[1], 60,
               "/readyz to report mail not going out")
    deployment.smtp.start()
    wait_until(lambda: expected_mail <= {m["To"] for m in list(deployment.smtp.messages)}, 150,
               "every queued mail to be delivered")
    for host in (0, 1):
        wait_until(lambda: deployment.ready(host)[0] == 200, 60, f"host {host} ready after SMTP")
    delivered = Counter(m["To"] for m in list(deployment.smtp.messages))
    ids = Counter(m["Message-ID"] for m in list(deployment.smtp.messages))
    assert all(delivered[a] == 1 for a in expected_mail), delivered
    assert max(ids.values()) == 1
    figures.append(f"mail: {len(expected_mail)} queued, {sum(delivered[a] for a in expected_mail)} delivered "
                   f"(each once), {len(deployment.smtp.messages)} messages at the relay in all")

    # 7. A host is killed during bounded load: every write a client saw succeed is stored.
    load = Tally()
    seen: set[str] = set()
    seen_lock = threading.Lock()
    stop_at = time.monotonic() + 12
    ips = itertools.count()

    def worker(index: int) -> None:
        while time.monotonic() < stop_at:
            address = f"load-{index}-{uuid.uuid4().hex[:10]}@example.gov"
            n = next(ips)
            if sign_up(deployment.base_url, address, f"127.1.{n // 250 % 250}.{n % 250 + 1}", load) == 302:
                with seen_lock:
                    seen.add(address)

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(6)]
    for thread in threads:
        thread.start()
    time.sleep(4)
    deployment.kill("host0")
    for thread in threads:
        thread.join(timeout=120)
    stored = users_stored(deployment.database_url, seen)
    assert seen and stored == seen, len(seen - stored)
    # Only requests in flight on the killed host may fail (nginx answers 502 for them).
    assert set(load.server_errors()) <= {502}, load.statuses
    assert load.statuses[502] <= 2 * 2 * 4, load.statuses  # at most its workers' threads' worth, twice over
    figures.append(f"host A killed under load: {load.requests} requests, statuses "
                   f"{dict(sorted(load.statuses.items()))}, writes seen {len(seen)}, stored {len(stored)}")
    tally.statuses.update(load.statuses)
    app.extensions["portal"].database.dispose()

    figures.append(f"in all: {tally.requests} requests, {sum(tally.server_errors().values())} 5xx "
                   f"({dict(sorted(tally.server_errors().items()))}), {time.monotonic() - started:.0f} s")
    report = "\n".join(["deployment rehearsal:", *(f"  {line}" for line in figures)])
    terminal = request.config.pluginmanager.get_plugin("terminalreporter")
    if terminal:
        terminal.write_line("")
        terminal.write_line(report)
    print(report)
