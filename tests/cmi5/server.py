"""A real portal for the cmi5 LMS Test Suite: a fresh SQLite database, a provider staff
account, and the one app served on two loopback ports, the portal's and the content origin's.

`python -m tests.cmi5.server PORT` serves one by hand (Ctrl-C stops it) for running the suite
yourself; tests/cmi5/test_lts.py uses `PortalServers`.
"""

from __future__ import annotations

import sys
import tempfile
import threading
from datetime import UTC, datetime
from pathlib import Path

from werkzeug.serving import make_server

EMAIL = "lts-provider@example.gov"
PASSWORD = "lts provider password 1"
PROVIDER = "CATAPULT Test Provider"
LRS_KEY, LRS_SECRET = "lts-reporting", "lts-reporting-secret"


class PortalServers:
    def __init__(self, port: int, data_dir: Path, **settings):
        from portal import create_app, migrate

        self.port = port
        self.url = f"http://127.0.0.1:{port}"
        self.content_url = f"http://localhost:{port + 1}"
        database = f"sqlite:///{data_dir / 'portal.db'}"
        migrate.upgrade(database)
        self.app = create_app({
            "DATABASE_URL": database, "PORTAL_DATA_DIR": str(data_dir), "SECRET_KEY": "lts-secret-key",
            "PORTAL_BASE_URL": self.url, "CONTENT_BASE_URL": self.content_url,
            "SESSION_COOKIE_SECURE": False, "REMEMBER_COOKIE_SECURE": False,
            "RATELIMIT_ENABLED": False, "ARGON2_TIME_COST": 1, "ARGON2_MEMORY_COST": 1024,
            "LRS_REPORTING_KEY": LRS_KEY, "LRS_REPORTING_SECRET": LRS_SECRET, **settings,
        })
        self._make_provider()
        self.servers = [make_server("127.0.0.1", port, self.app, threaded=True),
                        make_server("127.0.0.1", port + 1, self.app, threaded=True)]
        self.threads = [threading.Thread(target=s.serve_forever, daemon=True) for s in self.servers]

    def _make_provider(self) -> None:
        from portal.accounts.models import User
        from portal.reports.models import ProviderStaff

        services = self.app.extensions["portal"]
        moment = datetime.now(UTC)
        with services.database.session() as db:
            user = User(email=EMAIL, name="LTS Provider", password_hash=services.hasher.hash(PASSWORD),
                        created_at=moment, password_changed_at=moment, email_verified_at=moment, is_active=True)
            db.add(user)
            db.flush()
            db.add(ProviderStaff(user_id=user.id, provider_name=PROVIDER, granted_at=moment))
            db.commit()

    def env(self) -> dict[str, str]:
        return {"PORTAL_URL": self.url, "PORTAL_EMAIL": EMAIL, "PORTAL_PASSWORD": PASSWORD,
                "PORTAL_PROVIDER": PROVIDER, "LRS_ENDPOINT": f"{self.content_url}/std/xapi/",
                "LRS_KEY": LRS_KEY, "LRS_SECRET": LRS_SECRET}

    def start(self) -> None:
        for thread in self.threads:
            thread.start()

    def stop(self) -> None:
        for server in self.servers:
            server.shutdown()
        for thread in self.threads:
            thread.join(timeout=5)
        self.app.extensions["portal"].database.dispose()


if __name__ == "__main__":
    servers = PortalServers(int(sys.argv[1]) if len(sys.argv) > 1 else 21000, Path(tempfile.mkdtemp()))
    servers.start()
    print("\n".join(f"{k}={v}" for k, v in servers.env().items()), flush=True)
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        servers.stop()
