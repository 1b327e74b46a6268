"""Real gunicorn for fault tests: serve the portal with N workers on a free port, see which
worker does what, kill workers, stop cleanly; and a small cookie-keeping HTTP client.

Gunicorn gets a config file of test hooks (written to the test's folder, never shipped):
each worker appends `pid<TAB>what` lines to a trace file for every request it starts and every
SQL statement it sends, and can be told to pause just before a chosen statement, so a test can
kill it at an exact point inside a transaction.
"""

from __future__ import annotations

import http.client
import importlib.util
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.parse
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import pytest

REPO = Path(__file__).resolve().parents[2]
IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}

HOOKS = '''\
import os
import time


def _write(line):
    path = os.environ.get("PORTAL_FAULT_TRACE")
    if path:
        with open(path, "a") as trace:
            trace.write(f"{os.getpid()}\\t{line}\\n")


def post_worker_init(worker):
    from sqlalchemy import event
    from sqlalchemy.engine import Engine

    pause_at = os.environ.get("PORTAL_FAULT_PAUSE_AT", "")
    pause_file = os.environ.get("PORTAL_FAULT_PAUSE_FILE", "")

    @event.listens_for(Engine, "before_cursor_execute")
    def _trace(conn, cursor, statement, parameters, context, executemany):
        text = " ".join(statement.split())[:160]
        _write("SQL " + text)
        if pause_at and text.startswith(pause_at) and os.path.exists(pause_file):
            _write("PAUSED " + text)
            while os.path.exists(pause_file):
                time.sleep(0.01)

    _write("READY")


def pre_request(worker, req):
    _write(f"REQUEST {req.method} {req.path}")
'''


def require(available: bool, message: str) -> None:
    """A missing tool or service skips the test with a clear message, except in CI, where it fails."""
    if available:
        return
    if IN_CI:
        pytest.fail(f"{message} (CI=true: the fault tests must run here)")
    pytest.skip(message)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until(condition: Callable[[], object], timeout: float, what: str, interval: float = 0.02):
    """Poll `condition` until it returns something truthy; fail with `what` at the deadline."""
    deadline = time.monotonic() + timeout
    while True:
        result = condition()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(interval)


def _gunicorn_version() -> tuple[int, ...]:
    import gunicorn

    return tuple(gunicorn.version_info)


def children_of(pid: int) -> set[int]:
    try:
        text = Path(f"/proc/{pid}/task/{pid}/children").read_text()
    except OSError:
        return set()
    return {int(p) for p in text.split()}


def is_alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


@dataclass
class Server:
    """One gunicorn master serving the portal; its env points at `database_url` and `folder`."""

    folder: Path
    database_url: str
    workers: int = 2
    threads: int = 4
    env: dict = field(default_factory=dict)
    app_config: dict = field(default_factory=dict)

    def __post_init__(self):
        self.folder.mkdir(parents=True, exist_ok=True)
        self.port = free_port()
        self.trace_path = self.folder / "trace.log"
        self.access_path = self.folder / "access.log"
        self.log_path = self.folder / "gunicorn.log"
        self.process: subprocess.Popen | None = None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def environment(self) -> dict:
        env = {key: value for key, value in os.environ.items() if not key.startswith("PORTAL_TEST_")}
        env.update({
            "DATABASE_URL": self.database_url,
            "PORTAL_DATA_DIR": str(self.folder / "data"),
            "PORTAL_BASE_URL": self.base_url,
            "SECRET_KEY": "fault-test-secret-key",
            "ARGON2_TIME_COST": "1",
            "ARGON2_MEMORY_COST": "1024",
            "RATELIMIT_ENABLED": "false",
            "MAIL_TRANSPORT": "file",
            "PORTAL_FAULT_TRACE": str(self.trace_path),
            "PYTHONUNBUFFERED": "1",
        })
        env.update({key: str(value) for key, value in self.env.items()})
        return env

    def start(self, timeout: float = 90) -> "Server":
        hooks = self.folder / "gunicorn_hooks.py"
        hooks.write_text(HOOKS)
        spec = f"portal:create_app({self.app_config!r})" if self.app_config else "portal:create_app()"
        command = [sys.executable, "-m", "gunicorn", "--config", str(hooks),
                   "--bind", f"127.0.0.1:{self.port}", "--workers", str(self.workers),
                   "--threads", str(self.threads), "--graceful-timeout", "5",
                   "--access-logfile", str(self.access_path),
                   "--access-logformat", '%(p)s %(s)s "%(m)s %(U)s" %(h)s', spec]
        if _gunicorn_version() >= (27,):  # its control socket is one path per user: servers would share it
            command[-1:-1] = ["--no-control-socket"]
        with open(self.log_path, "ab") as log:
            self.process = subprocess.Popen(command, cwd=REPO, env=self.environment(), stdout=log,
                                            stderr=subprocess.STDOUT, start_new_session=True)
        try:
            wait_until(self._ready, timeout, f"gunicorn to serve /healthz with {self.workers} workers")
        except AssertionError:
            self.stop()
            raise AssertionError(f"gunicorn did not start:\n{self.log()[-3000:]}") from None
        return self

    def _ready(self) -> bool:
        if self.process.poll() is not None:
            raise AssertionError(f"gunicorn exited with {self.process.returncode}:\n{self.log()[-3000:]}")
        if len(self.ready_workers()) < self.workers:
            return False
        try:
            return Browser(self.base_url).get("/healthz").status == 200
        except OSError:
            return False

    def ready_workers(self) -> set[int]:
        """Live workers that have finished loading the app (their hooks wrote READY)."""
        ready = {pid for pid, what in self.trace() if what == "READY"}
        return {pid for pid in self.worker_pids() if pid in ready}

    def worker_pids(self) -> set[int]:
        return {pid for pid in children_of(self.process.pid) if is_alive(pid)}

    def kill_workers(self, pids: set[int]) -> set[int]:
        """SIGKILL these workers and wait for gunicorn to replace them; returns the new worker set."""
        for pid in pids:
            os.kill(pid, signal.SIGKILL)
        wait_until(lambda: not any(is_alive(pid) for pid in pids), 30, f"workers {pids} to die")
        return wait_until(lambda: (len(w := self.ready_workers()) == self.workers and not w & pids) and w,
                          90, "gunicorn to replace the killed workers")

    def trace(self) -> list[tuple[int, str]]:
        if not self.trace_path.exists():
            return []
        lines = []
        for line in self.trace_path.read_text().splitlines():
            pid, _, what = line.partition("\t")
            if pid.isdigit():
                lines.append((int(pid), what))
        return lines

    def access(self) -> list[tuple[int, int, str, str, str]]:
        """(worker pid, status, method, path, client address) for each request gunicorn logged
        (once it has answered it)."""
        if not self.access_path.exists():
            return []
        rows = []
        for line in self.access_path.read_text().splitlines():
            match = re.match(r'<?(\d+)>? (\d+) "(\S+) (\S+)" (\S+)', line)
            if match:
                rows.append((int(match[1]), int(match[2]), match[3], match[4], match[5]))
        return rows

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGINT)  # gunicorn's quick shutdown: tests wait for nothing
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=10)


@pytest.fixture
def start_server(tmp_path):
    """Start gunicorn servers for this test: `start_server(database_url, workers=2, env={...})`;
    every one is stopped at the end, before the database fixtures clean up."""
    require(importlib.util.find_spec("gunicorn") is not None, "gunicorn is not installed")
    servers: list[Server] = []

    def start(database_url: str, **kwargs) -> Server:
        server = Server(tmp_path / f"server{len(servers)}", database_url, **kwargs)
        servers.append(server)
        return server.start()

    yield start
    for server in servers:
        server.stop()


# -- a browser that keeps cookies -------------------------------------------------------------

_CSRF = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"|name="csrf_token" value="([^"]+)"')


@dataclass
class Response:
    status: int
    headers: http.client.HTTPMessage
    text: str

    @property
    def location(self) -> str:
        return self.headers.get("Location", "")


class Browser:
    """A user agent over plain http.client: one connection per request, cookies kept,
    redirects not followed (tests look at them). `source_ip` picks another loopback address,
    which the portal sees as another client."""

    def __init__(self, base_url: str, source_ip: str | None = None, timeout: float = 60):
        parts = urllib.parse.urlsplit(base_url)
        self.host, self.port = parts.hostname, parts.port
        self.source_ip, self.timeout = source_ip, timeout
        self.cookies: dict[str, str] = {}

    def request(self, method: str, path: str, data: dict | None = None) -> Response:
        connection = http.client.HTTPConnection(
            self.host, self.port, timeout=self.timeout,
            source_address=(self.source_ip, 0) if self.source_ip else None)
        headers = {"Connection": "close"}
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        body = None
        if data is not None:
            body = urllib.parse.urlencode(data, doseq=True)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        try:
            connection.request(method, path, body=body, headers=headers)
            raw = connection.getresponse()
            response = Response(raw.status, raw.headers, raw.read().decode("utf-8", "replace"))
        finally:
            connection.close()
        for header in response.headers.get_all("Set-Cookie") or []:
            name, _, rest = header.partition("=")
            value = rest.split(";", 1)[0]
            if value and "max-age=0" not in header.lower():
                self.cookies[name] = value
            else:
                self.cookies.pop(name, None)
        return response

    def get(self, path: str) -> Response:
        return self.request("GET", path)

    def csrf_token(self, path: str) -> str:
        page = self.get(path)
        match = _CSRF.search(page.text)
        assert match, f"no CSRF token on {path} ({page.status}): {page.text[:300]}"
        return match.group(1) or match.group(2)

    def submit(self, path: str, data: dict, form_page: str | None = None) -> Response:
        """POST a form with the CSRF token of the page it is on, as a browser would."""
        return self.request("POST", path, {"csrf_token": self.csrf_token(form_page or path), **data})

    def log_in(self, email: str, password: str) -> Response:
        response = self.submit("/account/login", {"email": email, "password": password})
        assert response.status in (302, 303), f"log-in failed ({response.status}): {response.text[:300]}"
        return response


# -- the learner the submission tests use ---------------------------------------------------

def learner_at_post_test(app, email: str = "learner@example.gov"):
    """A verified learner who has done the pre-test and every lesson and has the post-test open
    (set up in-process); returns (attempt, items, form data answering every question right)."""
    from tests.helpers import log_in, make_user
    from tests.learning.journey import (answers_scoring, complete_all_lessons, enroll, open_attempt_of,
                                        start_test, take_test_scoring)

    make_user(app, email)
    client = app.test_client()
    log_in(client, email)
    assert enroll(client).status_code == 303
    take_test_scoring(client, app, "pre", 5, email)
    complete_all_lessons(client, app)
    start_test(client, "post")
    attempt, items = open_attempt_of(app, "post", email)
    assert attempt is not None and items
    return attempt, items, answers_scoring(app, attempt, items, len(items))
