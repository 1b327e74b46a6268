"""Generate report-scale data: 100,000 learners and about 1,000,000 test attempts.

    .venv/bin/python bench/reports_data.py sqlite:///bench/out/reports.db
    .venv/bin/python bench/reports_data.py postgresql://postgres@127.0.0.1:5432/bench_reports

The database is created and migrated first. Rows are written with the driver's bulk paths
(executemany on SQLite, COPY on PostgreSQL): this is a benchmark fixture, not portal code.
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from sqlalchemy import create_engine  # noqa: E402

from server import fresh_database  # noqa: E402

COURSES = ["intro-sro-programs"] + [f"bench-course-{n:02d}" for n in range(1, 10)]
QUESTIONS = [f"q{n:02d}" for n in range(1, 19)]
YEARS = (2024, 2025, 2026)


def rows(learners: int, items_per_attempt: int, seed: int):
    """Yield (table, row) in insertion order; ids are assigned here."""
    rng = random.Random(seed)
    start = datetime(2024, 1, 1, tzinfo=UTC)
    enrollment_id = attempt_id = item_id = 0
    for user_id in range(1, learners + 1):
        created = start + timedelta(minutes=user_id)
        yield "user_account", (user_id, f"learner{user_id}@bench.example", f"Learner {user_id}", None, "x",
                               created, True, created, None, created)
        for course in rng.sample(COURSES, rng.choice((3, 4, 5, 6, 7))):
            enrollment_id += 1
            year = rng.choice(YEARS)
            enrolled = datetime(year, rng.randint(1, 11), rng.randint(1, 28), 12, tzinfo=UTC)
            skill = rng.random()
            posts = [] if rng.random() < 0.25 else [None] * rng.choice((1, 1, 1, 2, 2, 3))
            passed_at = None
            attempts = [("pre", 1, min(100.0, round(skill * 70 + rng.random() * 20, 1)), None)]
            for number in range(1, len(posts) + 1):
                score = min(100.0, round(55 + skill * 35 + number * 5 + rng.random() * 10, 1))
                passed = score >= 80
                attempts.append(("post", number, score, passed))
                if passed:
                    passed_at = enrolled + timedelta(days=rng.randint(1, 120))
                    break
            yield "enrollment", (enrollment_id, user_id, course, "1.0.0", year, enrolled, None, enrolled, passed_at)
            for kind, number, score, passed in attempts:
                attempt_id += 1
                when = enrolled + timedelta(days=number)
                yield "attempt", (attempt_id, enrollment_id, course, "1.0.0", kind, number, when, when,
                                  round(score / 10), 10, score, passed)
                for position, question in enumerate(rng.sample(QUESTIONS, items_per_attempt)):
                    item_id += 1
                    yield "attempt_item", (item_id, attempt_id, position, question, "a,b,c,d", "a",
                                           rng.random() < (score / 100))


COLUMNS = {
    "user_account": "id, email, name, agency, password_hash, email_verified_at, is_active, created_at, last_login_at, "
                    "password_changed_at",
    "enrollment": "id, user_id, pack_id, pack_version, session_year, enrolled_at, last_lesson_id, last_activity_at, "
                  "passed_at",
    "attempt": "id, enrollment_id, pack_id, pack_version, kind, number, started_at, submitted_at, correct_count, "
               "question_count, score, passed",
    "attempt_item": "id, attempt_id, position, question_id, choice_order, chosen, correct",
}


def load(url: str, learners: int, items_per_attempt: int, seed: int) -> dict[str, int]:
    counts = {table: 0 for table in COLUMNS}
    buffers: dict[str, list] = {table: [] for table in COLUMNS}
    engine = create_engine(url)
    raw = engine.raw_connection()
    cursor = raw.cursor()
    postgres = engine.dialect.name == "postgresql"

    def flush(table: str) -> None:
        batch = buffers[table]
        if not batch:
            return
        if postgres:
            with cursor.copy(f"COPY {table} ({COLUMNS[table]}) FROM STDIN") as copy:
                for row in batch:
                    copy.write_row(row)
        else:
            marks = ", ".join("?" for _ in COLUMNS[table].split(","))
            cursor.executemany(f"INSERT INTO {table} ({COLUMNS[table]}) VALUES ({marks})",
                               [tuple(v.replace(tzinfo=None).isoformat(" ") if isinstance(v, datetime) else v
                                      for v in row) for row in batch])
        counts[table] += len(batch)
        batch.clear()

    for table, row in rows(learners, items_per_attempt, seed):
        buffers[table].append(row)
        if len(buffers[table]) >= 20000:
            for name in COLUMNS:  # parents first, so foreign keys always find their rows
                flush(name)
    for name in COLUMNS:
        flush(name)
    raw.commit()
    engine_session = __import__("sqlmodel").Session(engine)
    from portal.reports.summaries import rebuild

    rebuild(engine_session)  # the summaries the portal keeps at each submission, built in one pass
    engine_session.close()
    if postgres:
        for table in COLUMNS:
            cursor.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT MAX(id) FROM {table}))")
        raw.commit()
        raw.driver_connection.autocommit = True  # VACUUM cannot run inside a transaction
        raw.driver_connection.execute("VACUUM ANALYZE")
    else:
        cursor.execute("ANALYZE")
        raw.commit()
    raw.close()
    engine.dispose()
    return counts


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("url")
    parser.add_argument("--learners", type=int, default=100_000)
    parser.add_argument("--items-per-attempt", type=int, default=10)
    parser.add_argument("--seed", type=int, default=20261122)
    args = parser.parse_args()
    began = time.perf_counter()
    url = fresh_database(args.url)
    counts = load(url, args.learners, args.items_per_attempt, args.seed)
    print(f"{url}: " + ", ".join(f"{table} {n:,}" for table, n in counts.items())
          + f" in {time.perf_counter() - began:.0f} s")


if __name__ == "__main__":
    main()
