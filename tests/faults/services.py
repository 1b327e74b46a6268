"""Private dependency servers the fault and deployment tests may stop and start at will:
a Redis of their own on a port of the ops range (18000-18999), never the machine's shared one."""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
from pathlib import Path

from tests.faults.gunicorn import require, wait_until


def free_port_in(low: int, high: int) -> int:
    """A free loopback port in [low, high): the ops tests keep to their own range."""
    for port in range(low, high):
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise AssertionError(f"no free port in {low}-{high}")


def port_open(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.2):
            return True
    except OSError:
        return False


class PrivateRedis:
    """redis-server on loopback with no persistence, started and stopped by the test."""

    def __init__(self, folder: Path, port: int | None = None):
        require(shutil.which("redis-server") is not None, "redis-server is not installed (apt install redis-server)")
        self.folder = folder
        folder.mkdir(parents=True, exist_ok=True)
        self.port = port or free_port_in(18600, 18700)
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> "PrivateRedis":
        self.process = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
             "--dir", str(self.folder)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_until(lambda: port_open(self.port), 20, f"redis-server on port {self.port}")
        return self

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=10)
        wait_until(lambda: not port_open(self.port), 10, "redis-server to stop")
        time.sleep(0.05)
