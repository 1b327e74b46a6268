"""The real portal on a loopback port with seeded learners, for the benchmarks and the
network-budget tests (they measure the same pages the same way).

The seed: Casey holds a certificate from last year's session and is halfway through this
year's (pre-test done, half the lessons done); Robin has just opened the pre-test, so the
test page shows its questions. Both use PASSWORD.
"""

from __future__ import annotations

import shutil
import sys
import tempfile
import threading
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from werkzeug.serving import make_server  # noqa: E402

from portal.common.clock import FrozenClock  # noqa: E402

COURSE = "intro-sro-programs"
CASEY = "casey@example.gov"
ROBIN = "robin@example.gov"
PASSWORD = "a quiet morning patrol on elm street"


def free_port() -> int:
    probe = make_server("127.0.0.1", 0, lambda environ, start: [])
    port = probe.server_port
    probe.server_close()
    return port


def seed(app) -> dict:
    """Seed the two learners through the app's own forms; returns the URLs worth measuring.

    The app must run on a FrozenClock: the certificate is earned in last year's session."""
    from tests.helpers import make_user, services, submit
    from tests.learning.journey import enroll, pack, reach_certificate, take_test_scoring

    clock = services(app).clock
    assert isinstance(clock, FrozenClock), "seed() needs an app built with CLOCK=FrozenClock(...)"
    today = clock.now()
    make_user(app, CASEY, name="Casey Morgan", password=PASSWORD)
    make_user(app, ROBIN, name="Robin Diaz", password=PASSWORD)
    casey = app.test_client()
    submit(casey, "/account/login", {"email": CASEY, "password": PASSWORD})
    clock.set(today.replace(year=today.year - 1, month=6, day=15, hour=15))
    number = reach_certificate(casey, app, CASEY)
    clock.set(today)
    assert enroll(casey).status_code == 303
    take_test_scoring(casey, app, "pre", 5, CASEY)
    lessons = pack(app).lessons
    for lesson in lessons[: len(lessons) // 2]:
        page = f"/learn/{COURSE}/lessons/{lesson.id}"
        assert submit(casey, page + "/complete", {}, form_page=page).status_code == 303
    robin = app.test_client()
    submit(robin, "/account/login", {"email": ROBIN, "password": PASSWORD})
    assert enroll(robin).status_code == 303
    test_page = f"/learn/{COURSE}/tests/pre"
    assert submit(robin, test_page + "/start", {}, form_page=test_page).status_code == 303
    assert "Submit the pre-test" in robin.get(test_page).get_data(as_text=True)
    return {
        "certificate": number,
        "lesson": f"/learn/{COURSE}/lessons/{lessons[len(lessons) // 2].id}",
        "pdf": f"/certificates/{number}.pdf",
    }


def key_pages(seeded: dict) -> list[tuple[str, str, str | None]]:
    """(name, path, who signs in first) for every page the budgets cover."""
    return [
        ("home", "/", None),
        ("catalog", "/catalog", None),
        ("course", f"/courses/{COURSE}", CASEY),
        ("lesson", seeded["lesson"], CASEY),
        ("test", f"/learn/{COURSE}/tests/pre", ROBIN),
        ("my certificates", "/my/certificates", CASEY),
    ]



def bench_config(folder: Path, port: int, database_url: str | None = None) -> dict:
    from portal import migrate
    from portal.config import normalise_database_url

    database_url = normalise_database_url(database_url or f"sqlite:///{folder / 'portal.db'}")
    migrate.upgrade(database_url)
    return {
        "DATABASE_URL": database_url,
        "PORTAL_DATA_DIR": str(folder / "data"),
        "PORTAL_BASE_URL": f"http://127.0.0.1:{port}",
        "SECRET_KEY": "bench-secret-key",
        "SESSION_COOKIE_SECURE": False,
        "REMEMBER_COOKIE_SECURE": False,
        # Cheap hashing: seeding signs in a few times, and sign-in speed is not measured here.
        "ARGON2_TIME_COST": 1,
        "ARGON2_MEMORY_COST": 1024,
        "RATELIMIT_ENABLED": False,
        "MAIL_TRANSPORT": "file",
        "SUPPORT_EMAIL": "support@portal.test",
        "CLOCK": FrozenClock(datetime.now(UTC).replace(microsecond=0)),
    }


@contextmanager
def serving(app, port: int):
    """Serve `app` on 127.0.0.1:port from a thread (threaded, like a small production server)."""
    server = make_server("127.0.0.1", port, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.shutdown()
        thread.join(timeout=5)


@contextmanager
def live_portal(database_url: str | None = None):
    """The portal, migrated (SQLite in a temporary folder, or the empty database at the URL
    given), seeded and served: yields (app, base URL, seeded)."""
    import logging

    from portal import create_app

    folder = Path(tempfile.mkdtemp(prefix="portal-bench-"))
    try:
        port = free_port()
        app = create_app(bench_config(folder, port, database_url))
        logging.getLogger("werkzeug").setLevel(logging.WARNING)
        seeded = seed(app)
        with serving(app, port) as url:
            yield app, url, seeded
        app.extensions["portal"].database.dispose()
    finally:
        shutil.rmtree(folder, ignore_errors=True)
