"""`portal serve` as an operator runs it: `--port` flows into every link it mails, the log-in
limit is the documented 10 a minute in its default set-up (one worker process, threads: the
limits' memory:// counts are not multiplied by workers), and SIGTERM stops gunicorn and the
mail sender before it exits."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from portal import migrate
from tests.faults.gunicorn import REPO, Browser, children_of, is_alive, wait_until
from tests.faults.services import free_port_in, port_open
from tests.helpers import PASSWORD

def descendants(pid: int) -> set[int]:
    found = set()
    for child in children_of(pid):
        found |= {child} | descendants(child)
    return found


@pytest.fixture
def served(tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    migrate.upgrade(f"sqlite:///{data / 'portal.db'}")
    port = free_port_in(18100, 18200)
    while port_open(port + 1):  # serve also listens on PORT+1 for the content origin
        port = free_port_in(port + 2, 18200)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PORTAL_TEST_", "PORT", "PORTAL_BASE_URL"))}
    env.update(PORTAL_DATA_DIR=str(data), ARGON2_TIME_COST="1", ARGON2_MEMORY_COST="1024", PYTHONUNBUFFERED="1")
    env.pop("DATABASE_URL", None)
    log = open(tmp_path / "serve.log", "wb")
    process = subprocess.Popen([sys.executable, "-m", "portal.cli", "serve", "--port", str(port)], cwd=REPO,
                               env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        wait_until(lambda: port_open(port) and Browser(f"http://127.0.0.1:{port}").get("/healthz").status == 200,
                   90, "portal serve to answer")
        yield process, port, data
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=10)
        log.close()


def test_serve_port_limits_and_sigterm(served):
    process, port, data = served
    base = f"http://127.0.0.1:{port}"

    # --port is in the links it mails (it used to put 5000 there unless PORT was set too).
    browser = Browser(base)
    response = browser.submit("/account/signup", {"name": "Dana Officer", "email": "dana@example.gov", "agency": "",
                                                  "password": PASSWORD, "confirm": PASSWORD})
    assert response.status == 302
    mail = wait_until(lambda: next(iter((data / "mail").glob("*.eml")), None), 60, "the mail sender to write the mail")
    assert f"{base}/account/verify/" in mail.read_text()

    # The documented limit: the 11th log-in a minute from one address is refused, not the 21st.
    statuses = [Browser(base).submit("/account/login", {"email": f"user{n}@example.gov", "password": "wrong"}).status
                for n in range(11)]
    assert 429 not in statuses[:10] and statuses[10] == 429, statuses

    # SIGTERM: gunicorn and the mail sender stop, then serve exits.
    children = descendants(process.pid)
    assert len(children) >= 2
    process.send_signal(signal.SIGTERM)
    assert process.wait(timeout=30) == 0
    wait_until(lambda: not any(is_alive(pid) for pid in children), 10, "serve's children to end")
    assert not port_open(port)


def test_serve_refuses_several_workers_counting_limits_in_memory(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PORTAL_TEST_", "RATELIMIT_"))}
    env.update(PORTAL_DATA_DIR=str(tmp_path / "data"))
    result = subprocess.run([sys.executable, "-m", "portal.cli", "serve", "--workers", "2", "--port", "18199"],
                            cwd=REPO, env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode == 2
    assert "--workers 2 needs RATELIMIT_STORAGE_URI=redis://" in result.stderr
    assert not port_open(18199)
