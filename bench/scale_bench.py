"""Scale benchmark: dashboards, catalog and certificate verification at small and large data.

    .venv/bin/python bench/scale_data.py sqlite:///bench/out/scale_small.db --learners 1000
    .venv/bin/python bench/scale_data.py sqlite:///bench/out/scale.db
    .venv/bin/python bench/scale_data.py postgresql://postgres@127.0.0.1:5432/bench_scale_small --learners 1000
    .venv/bin/python bench/scale_data.py postgresql://postgres@127.0.0.1:5432/bench_scale
    .venv/bin/python bench/scale_bench.py                 # both backends, the four databases above

Each page is requested through the real app (Flask's test client, in this process: the
server's HTTP layer is load.py's business) as the same people on both databases: learner 2
(ten enrollments, their certificates) for My courses and My certificates, learner 1 (the
coordinator of agency 1, 100 members with ten enrollments each) for the agency dashboard and
members, nobody for the catalog and /verify/<number> (certificate 1, and a number that does
not exist). Each page is requested --warm times, then timed --runs times, the requests to the
two databases alternating so that load from elsewhere on the machine weighs on both alike. The
table shows the medians and large/small, then the fastest of each (the least disturbed by
other work on the machine). Goal: at most 2x.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE))

from load import Learner, build_app, sign_cookies  # noqa: E402
from scale_data import certificate_number  # noqa: E402
from portal.config import normalise_database_url  # noqa: E402


def sign_in_as(app, user_id: int) -> str:
    """A log-in session for an existing account, and the cookie it would get."""
    import secrets

    from portal.accounts.models import LoginSession
    from portal.accounts.sessions import hash_token

    token = secrets.token_urlsafe(32)
    now = datetime.now(UTC)
    with app.extensions["portal"].database.session() as db:
        db.add(LoginSession(token_hash=hash_token(token), user_id=user_id, remember=True, created_at=now,
                            last_seen_at=now, expires_at=now + timedelta(days=1)))
        db.commit()
    learner = Learner(user_id, token)
    sign_cookies(app, [learner])
    return learner.cookie.split("=", 1)[1]


def pages(app) -> list[tuple[str, str, int | None]]:
    """(name, path, user to sign in as)."""
    with app.extensions["portal"].database.session() as db:
        from portal.certificates.models import Certificate

        first = db.get(Certificate, 1)
    return [
        ("learner: My courses", "/my/courses", 2),
        ("learner: My certificates", "/my/certificates", 2),
        ("coordinator: agency dashboard", "/agencies/1", 1),
        ("coordinator: agency members", "/agencies/1/members", 1),
        ("catalog (anonymous)", "/catalog", None),
        ("verify a certificate", f"/verify/{first.number}", None),
        ("verify: no such number", f"/verify/{certificate_number(10**9, 2025)}", None),
    ]


class Site:
    """The app on one database, with a signed-in client per person."""

    def __init__(self, url: str):
        self.app = build_app(normalise_database_url(url), tempfile.mkdtemp(prefix="portal-scale-"))
        self.cookies: dict[int, str] = {}

    def client(self, user_id: int | None):
        client = self.app.test_client()
        if user_id is not None:
            self.cookies.setdefault(user_id, sign_in_as(self.app, user_id))
            client.set_cookie(self.app.config["SESSION_COOKIE_NAME"], self.cookies[user_id])
        return client

    def close(self) -> None:
        self.app.extensions["portal"].database.dispose()


def time_pages(small_url: str, large_url: str, warm: int, runs: int) -> list[tuple[str, float, float, float, float]]:
    """Median and fastest milliseconds per page on each database. Requests to the two alternate, so a
    machine that gets busier during the run slows both alike."""
    small, large = Site(small_url), Site(large_url)
    results = []
    for (name, path, user_id), (_, large_path, _) in zip(pages(small.app), pages(large.app)):
        assert path == large_path, "the two databases must hold the same first learners"
        clients = (small.client(user_id), large.client(user_id))
        expected = 404 if "no such" in name else 200
        for client in clients:
            for _ in range(warm):
                response = client.get(path)
                assert response.status_code == expected, f"{path}: {response.status_code}"
        times: tuple[list[float], list[float]] = ([], [])
        for _ in range(runs):
            for client, kept in zip(clients, times):
                began = time.perf_counter()
                client.get(path)
                kept.append(time.perf_counter() - began)
        results.append((name, statistics.median(times[0]) * 1000, statistics.median(times[1]) * 1000,
                        min(times[0]) * 1000, min(times[1]) * 1000))
    small.close()
    large.close()
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sqlite", nargs=2, metavar=("SMALL", "LARGE"),
                        default=[f"sqlite:///{HERE / 'out' / name}" for name in ("scale_small.db", "scale.db")])
    parser.add_argument("--pg", nargs=2, metavar=("SMALL", "LARGE"),
                        default=["postgresql://postgres@127.0.0.1:5432/bench_scale_small",
                                 "postgresql://postgres@127.0.0.1:5432/bench_scale"])
    parser.add_argument("--backend", choices=("sqlite", "postgresql", "both"), default="both")
    parser.add_argument("--warm", type=int, default=10)
    parser.add_argument("--runs", type=int, default=50)
    args = parser.parse_args()
    print(f"median of {args.runs} requests after {args.warm} warm-up ones; in-process test client")
    print(f"{'backend':10} {'page':32} {'small ms':>9} {'large ms':>9} {'large/small':>11}   "
          f"{'fastest: small':>14} {'large':>6} {'ratio':>6}")
    worst = 0.0
    for name, (small_url, large_url) in (("sqlite", args.sqlite), ("postgresql", args.pg)):
        if args.backend not in (name, "both"):
            continue
        for page, small_ms, large_ms, small_min, large_min in time_pages(small_url, large_url, args.warm, args.runs):
            ratio = large_ms / small_ms
            worst = max(worst, ratio)
            print(f"{name:10} {page:32} {small_ms:9.2f} {large_ms:9.2f} {ratio:10.2f}x   "
                  f"{small_min:14.2f} {large_min:6.2f} {large_min / small_min:5.2f}x", flush=True)
    print(f"worst ratio {worst:.2f}x (goal: at most 2x)")


if __name__ == "__main__":
    main()
