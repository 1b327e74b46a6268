"""Roster import timing (issue 17): a 5,000-row messy roster (Windows-1252, semicolons, U.S.
dates) against an agency that already has 2,500 of those officers, half of them changed.

    .venv/bin/python bench/agencies_import_bench.py [DATABASE_URL ...]

Default: PostgreSQL at postgresql://postgres@127.0.0.1:5432/bench_agy_import and SQLite in
bench/out/agy_import.db. Prints the median of 5 runs of: reading and planning the file
(service), the whole preview request (upload, plan, page), and applying it (one transaction).
"""

from __future__ import annotations

import io
import re
import statistics
import sys
import tempfile
import time
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from server import fresh_database  # noqa: E402

ROWS, EXISTING, RUNS = 5000, 2500, 5
HEADER = "Officer;Award Number;Award Date;Hire Date;Role;Placement Date;Training Completed;Expenses Submitted;Badge"


def roster_bytes() -> bytes:
    lines = [HEADER]
    for n in range(ROWS):
        award = f"2025-UL-{n // 50:04d}"
        hire = date(2025, 9, 1) + timedelta(days=n % 60)
        if n < EXISTING and n % 2:  # a changed hire date on half the existing officers
            hire += timedelta(days=1)
        lines.append(f"Ofc. Peña {n:05d};{award};8/1/2025;{hire.month}/{hire.day}/{hire.year};initial;;;;B{n}")
    return ("\r\n".join(lines) + "\r\n").encode("cp1252")


def seed(app) -> int:
    from portal_agencies import services as agencies
    from portal_agencies.models import ChpAward, SchoolResourceOfficer
    from portal.accounts.models import User

    s = app.extensions["portal"]
    now = datetime(2026, 6, 15, 14, tzinfo=timezone.utc)
    with s.database.session() as db:
        user = User(email="coord@example.gov", name="Lt. Coordinator", password_hash=s.hasher.hash("x" * 20),
                    created_at=now, password_changed_at=now, email_verified_at=now, is_active=True)
        db.add(user)
        db.commit()
        agency = agencies.create_agency(db, "Bench PD", user, now)
        awards = {}
        for n in range(EXISTING):
            number = f"2025-UL-{n // 50:04d}"
            if number not in awards:
                award = ChpAward(agency_id=agency.id, award_number=number, award_date=date(2025, 8, 1),
                                 funded_positions=50, created_at=now)
                db.add(award)
                db.flush()
                awards[number] = award.id
            db.add(SchoolResourceOfficer(award_id=awards[number], name=f"Ofc. Peña {n:05d}", role="initial",
                                         hire_date=date(2025, 9, 1) + timedelta(days=n % 60), created_at=now))
        db.commit()
        return agency.id


def bench(url: str) -> None:
    from portal.app import create_app
    from portal.common.clock import FrozenClock
    from portal_agencies import imports
    from portal_agencies.roster_import import read_roster

    url = fresh_database(url)
    with tempfile.TemporaryDirectory() as data_dir:
        app = create_app({"DATABASE_URL": url, "PORTAL_DATA_DIR": data_dir, "SECRET_KEY": "bench",
                          "PORTAL_BASE_URL": "http://127.0.0.1", "ARGON2_TIME_COST": 1, "ARGON2_MEMORY_COST": 1024,
                          "RATELIMIT_ENABLED": False, "MAIL_TRANSPORT": "file", "WTF_CSRF_ENABLED": False,
                          "CLOCK": FrozenClock(datetime(2026, 6, 15, 14, tzinfo=timezone.utc))})
        agency_id = seed(app)
        raw = roster_bytes()
        s = app.extensions["portal"]
        plan_times, plan_cpu = [], []
        for _ in range(RUNS):
            with s.database.session() as db:
                started, cpu = time.perf_counter(), time.process_time()
                plan = imports.plan_for_agency(db, agency_id, read_roster(raw), date(2026, 6, 15))
                plan_times.append(time.perf_counter() - started)
                plan_cpu.append(time.process_time() - cpu)
        counts = {a: plan.count(a) for a in ("new", "changed", "unchanged", "error")}

        client = app.test_client()
        client.post("/account/login", data={"email": "coord@example.gov", "password": "x" * 20})
        page_times, page_cpu = [], []
        for _ in range(RUNS):
            started, cpu = time.perf_counter(), time.process_time()
            response = client.post(f"/agencies/{agency_id}/roster/records/preview",
                                   data={"roster": (io.BytesIO(raw), "roster.csv")}, content_type="multipart/form-data")
            page_times.append(time.perf_counter() - started)
            page_cpu.append(time.process_time() - cpu)
            assert response.status_code == 200, response.status_code
        body = response.get_data(as_text=True)
        fields = dict(re.findall(r'<input[^>]*name="(payload|digest)"[^>]*value="([^"]*)"', body))
        started = time.perf_counter()
        applied = client.post(f"/agencies/{agency_id}/roster/records/apply", data=fields)
        apply_time = time.perf_counter() - started
        assert applied.status_code == 303, applied.status_code
        s.database.dispose()
    backend = url.split(":", 1)[0]
    print(f"{backend:12} {ROWS} rows ({len(raw) / 1024:.0f} KiB) {counts}")
    print(f"{backend:12} plan (read + compare), median of {RUNS}: {statistics.median(plan_times) * 1000:7.0f} ms "
          f"wall, {statistics.median(plan_cpu) * 1000:5.0f} ms CPU in this process")
    print(f"{backend:12} preview request (upload, plan, page), median of {RUNS}: "
          f"{statistics.median(page_times) * 1000:7.0f} ms wall, {statistics.median(page_cpu) * 1000:5.0f} ms CPU")
    print(f"{backend:12} apply (one transaction, history rows): {apply_time * 1000:7.0f} ms")


if __name__ == "__main__":
    urls = sys.argv[1:] or ["postgresql://postgres@127.0.0.1:5432/bench_agy_import",
                            f"sqlite:///{ROOT / 'bench' / 'out' / 'agy_import.db'}"]
    for database_url in urls:
        bench(database_url)
