"""Run the real portal under gunicorn for a benchmark, on loopback only.

    from server import Server, fresh_database
    url = fresh_database("sqlite:///bench/out/load.db")       # or postgresql://…/bench_load
    with Server(url, workers=2) as server:                   # migrated, started, /healthz answers
        print(server.base_url, server.worker_pids())

`fresh_database` drops and recreates the database (a SQLite file, or a PostgreSQL database
by name) and applies every migration, plugins' included. `Server` starts gunicorn with its
own temporary data folder and secret key, waits for /healthz with a deadline, and stops
it with SIGTERM (then SIGKILL, if it hangs) when the block ends.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import create_engine, text  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402

from portal import migrate  # noqa: E402
from portal.config import normalise_database_url  # noqa: E402

SECRET_KEY = "bench-secret-key-not-for-production"


def fresh_database(url: str) -> str:
    """Drop and recreate the database, migrate it, and return its normalised URL."""
    url = normalise_database_url(url)
    parsed = make_url(url)
    if parsed.get_backend_name() == "postgresql":
        admin = create_engine(parsed.set(database="postgres"), isolation_level="AUTOCOMMIT")
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{parsed.database}" WITH (FORCE)'))
            connection.execute(text(f'CREATE DATABASE "{parsed.database}"'))
        admin.dispose()
    else:
        path = Path(parsed.database)
        path.parent.mkdir(parents=True, exist_ok=True)
        for suffix in ("", "-wal", "-shm"):
            Path(str(path) + suffix).unlink(missing_ok=True)
    migrate.upgrade(url)
    return url


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def bench_env(url: str, data_dir: str, port: int, **extra: str) -> dict[str, str]:
    """The environment the benchmark server (and any in-process app) is built from."""
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "PORTAL_DATA_DIR": data_dir,
        "PORTAL_BASE_URL": f"http://127.0.0.1:{port}",
        "SECRET_KEY": SECRET_KEY,
        "MAIL_TRANSPORT": "file",
        "PYTHONPATH": str(ROOT),
    }
    env.update(extra)
    return env


class Server:
    """gunicorn serving `portal:create_app()` on 127.0.0.1 with `workers` workers."""

    def __init__(self, url: str, workers: int = 2, threads: int = 4, port: int | None = None,
                 startup_seconds: float = 60.0, **env: str):
        self.url = url
        self.workers, self.threads = workers, threads
        self.port = port or free_port()
        self.startup_seconds = startup_seconds
        self.data_dir = tempfile.mkdtemp(prefix="portal-bench-")
        self.env = bench_env(url, self.data_dir, self.port, **env)
        self.process: subprocess.Popen | None = None
        self.log_path = Path(self.data_dir) / "gunicorn.log"

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> "Server":
        log = open(self.log_path, "wb")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "--bind", f"127.0.0.1:{self.port}", "--workers", str(self.workers),
             "--threads", str(self.threads), "--forwarded-allow-ips", "127.0.0.1", "portal:create_app()"],
            cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.monotonic() + self.startup_seconds
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"gunicorn exited with {self.process.returncode}:\n{self.log_tail()}")
            try:
                with urllib.request.urlopen(self.base_url + "/healthz", timeout=2) as response:
                    if response.status == 200 and len(self.worker_pids()) >= self.workers:
                        return self
            except OSError:
                pass
            time.sleep(0.2)
        self.stop()
        raise RuntimeError(f"gunicorn did not answer /healthz within {self.startup_seconds:.0f} s:\n{self.log_tail()}")

    def worker_pids(self) -> list[int]:
        """gunicorn's worker processes: the children of its master."""
        if self.process is None:
            return []
        try:
            children = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children").read_text().split()
        except OSError:
            return []
        return sorted(int(pid) for pid in children)

    def worker_rss_mb(self) -> dict[int, float]:
        """Resident memory of each worker, in MiB (from /proc)."""
        sizes = {}
        for pid in self.worker_pids():
            try:
                for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                    if line.startswith("VmRSS:"):
                        sizes[pid] = int(line.split()[1]) / 1024
            except OSError:
                continue
        return sizes

    def worker_cpu_seconds(self) -> float:
        """CPU time (user + system) the workers have used so far, from /proc: divided by the
        requests served, a cost per request that other load on the machine barely changes."""
        tick = os.sysconf("SC_CLK_TCK")
        total = 0.0
        for pid in self.worker_pids():
            try:
                fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            total += (int(fields[11]) + int(fields[12])) / tick  # utime, stime
        return total

    def log_tail(self, lines: int = 40) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=10)
        self.process = None
        shutil.rmtree(self.data_dir, ignore_errors=True)

    def __enter__(self) -> "Server":
        return self.start()

    def __exit__(self, *_exc) -> None:
        self.stop()
