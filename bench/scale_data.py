"""Generate scale data: 100,000 learners, 1,000,000 enrollments, their certificates and agencies.

    .venv/bin/python bench/scale_data.py sqlite:///bench/out/scale.db
    .venv/bin/python bench/scale_data.py postgresql://postgres@127.0.0.1:5432/bench_scale
    .venv/bin/python bench/scale_data.py sqlite:///bench/out/scale_small.db --learners 1000   # the small data

The database is dropped, recreated and migrated first. Each learner has ten enrollments (ten
courses over three session years, as in reports_data.py; the installed course is one of them);
about four in ten passed and got a certificate. Learners are grouped 100 to an agency; the
first member of each is its coordinator, and each agency has two CHP awards with five SROs and
their travel expenses. Learner n gets the same rows whatever --learners is (each learner's
random choices are seeded by their id), so the small and large databases differ only in how
many other learners there are. Rows are written with COPY on PostgreSQL and executemany on
SQLite (bulk.py): a benchmark fixture, not portal code.
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE))

from sqlalchemy import create_engine  # noqa: E402

from bulk import BulkWriter  # noqa: E402
from reports_data import COURSES, YEARS  # noqa: E402
from server import fresh_database  # noqa: E402

ENROLLMENTS_PER_LEARNER = 10
AGENCY_SIZE = 100
ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"  # the certificates' own alphabet

COLUMNS = {
    "user_account": "id, email, name, agency, password_hash, email_verified_at, is_active, created_at, last_login_at, "
                    "password_changed_at",
    "enrollment": "id, user_id, pack_id, pack_version, session_year, enrolled_at, last_lesson_id, last_activity_at, "
                  "passed_at, pre_score, best_post_score, post_attempts, first_post_passed",
    "certificate": "id, number, enrollment_id, user_id, pack_id, pack_version, learner_name, course_title, "
                   "provider_name, completed_on, session_year, hours, accreditation, issued_at, status",
    "agency": "id, name, chp_program_manager_email, created_at",
    "agency_member": "id, agency_id, user_id, role, joined_at",
    "chp_award": "id, agency_id, award_number, award_date, funded_positions, mou_submitted_on, created_at",
    "chp_sro": "id, award_id, name, role, hire_date, placement_date, training_completed, expenses_submitted, "
               "created_at",
    "chp_travel_expense": "id, sro_id, category, description, incurred_on, amount",
}


def certificate_number(certificate_id: int, year: int) -> str:
    body, n = "", certificate_id
    for _ in range(8):
        body, n = ALPHABET[n % 32] + body, n // 32
    return f"PSTP-{year}-{body[:4]}-{body[4:]}"


def rows(learners: int):
    """Yield (table, row) in insertion order; ids are assigned here."""
    start = datetime(2024, 1, 1, tzinfo=UTC)
    enrollment_id = certificate_id = 0
    combos = [(course, year) for course in COURSES for year in YEARS]
    for agency_id in range(1, (learners + AGENCY_SIZE - 1) // AGENCY_SIZE + 1):
        yield "agency", (agency_id, f"Bench Agency {agency_id:05d}", f"pm{agency_id}@cops.example.gov", start)
        for a in range(2):
            award_id = agency_id * 2 - 1 + a
            yield "chp_award", (award_id, agency_id, f"2025-UL-WX-{award_id:05d}", date(2025, 3, 2 + a), 5,
                                date(2025, 5, 1) if a == 0 else None, start)
            for s in range(5):
                sro_id = (award_id - 1) * 5 + s + 1
                yield "chp_sro", (sro_id, award_id, f"Ofc. Bench {sro_id}", "initial", date(2025, 4, 1),
                                  date(2025, 8, 1), date(2025, 7, 1) if s % 2 else None, None, start)
                yield "chp_travel_expense", (sro_id, sro_id, "lodging", "Hotel", date(2025, 7, 1), Decimal("450.00"))
    for user_id in range(1, learners + 1):
        rng = random.Random(user_id)
        created = start + timedelta(minutes=user_id)
        name = f"Learner {user_id}"
        agency_id = (user_id - 1) // AGENCY_SIZE + 1
        yield "user_account", (user_id, f"learner{user_id}@bench.example", name, f"Bench Agency {agency_id:05d}", "x",
                               created, True, created, None, created)
        role = "coordinator" if (user_id - 1) % AGENCY_SIZE == 0 else "officer"
        yield "agency_member", (user_id, agency_id, user_id, role, created)
        for course, year in rng.sample(combos, ENROLLMENTS_PER_LEARNER):
            enrollment_id += 1
            enrolled = datetime(year, rng.randint(1, 11), rng.randint(1, 28), 12, tzinfo=UTC)
            passed = rng.random() < 0.4
            passed_at = enrolled + timedelta(days=rng.randint(1, 30)) if passed else None
            yield "enrollment", (enrollment_id, user_id, course, "1.0.0", year, enrolled, None, enrolled, passed_at,
                                 round(rng.random() * 100, 1), 90.0 if passed else None, 1 if passed else 0,
                                 passed or None)
            if passed:
                certificate_id += 1
                yield "certificate", (certificate_id, certificate_number(certificate_id, year), enrollment_id, user_id,
                                      course, "1.0.0", name, f"Course {course}", "Bench Provider",
                                      passed_at.date(), year, 4.0, "", passed_at, "valid")


def load(url: str, learners: int) -> dict[str, int]:
    engine = create_engine(url)
    writer = BulkWriter(engine, COLUMNS)
    for table, row in rows(learners):
        writer.add(table, row)
    counts = writer.finish(analyze=True)
    engine.dispose()
    return counts


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("url")
    parser.add_argument("--learners", type=int, default=100_000)
    args = parser.parse_args()
    began = time.perf_counter()
    url = fresh_database(args.url)
    counts = load(url, args.learners)
    print(f"{url}: " + ", ".join(f"{table} {n:,}" for table, n in counts.items())
          + f" in {time.perf_counter() - began:.0f} s")


if __name__ == "__main__":
    main()
