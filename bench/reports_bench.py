"""Time every report on report-scale data (see reports_data.py), on SQLite and PostgreSQL.

    .venv/bin/python bench/reports_bench.py sqlite:///bench/out/reports.db postgresql://postgres@127.0.0.1:5432/bench_reports

Prints each report's median time over several runs. The goal is under one second per
report on PostgreSQL on a 2-core machine.
"""

from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import text  # noqa: E402

from portal.common.db import Database  # noqa: E402
from portal.config import normalise_database_url  # noqa: E402
from portal.reports import services as reports  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))
from reports_data import COURSES  # noqa: E402

RUNS = 5


def timed(function) -> tuple[float, object]:
    times, result = [], None
    for _ in range(RUNS):
        began = time.perf_counter()
        result = function()
        times.append(time.perf_counter() - began)
    return statistics.median(times), result


def bench(url: str) -> None:
    database = Database(normalise_database_url(url))
    with database.session() as db:
        counts = {t: db.connection().execute(text(f"SELECT COUNT(*) FROM {t}")).scalar()
                  for t in ("user_account", "enrollment", "attempt", "attempt_item")}
        print(f"\n{database.engine.dialect.name}: " + ", ".join(f"{t} {n:,}" for t, n in counts.items()))
        cases = [
            ("courses, all years", lambda: reports.course_years(db, COURSES)),
            ("courses, one year", lambda: reports.course_years(db, COURSES, 2026)),
            ("one course, one year", lambda: reports.course_years(db, COURSES[:1], 2026)),
            ("item analysis, one course", lambda: reports.item_analysis(db, COURSES[0])),
            ("item analysis, one course and year", lambda: reports.item_analysis(db, COURSES[0], 2026)),
            ("completions per month", lambda: reports.completions_by_month(db, COURSES)),
        ]
        print(f"{'report':40} {'median':>9} {'rows':>6}   (median of {RUNS} runs)")
        for name, function in cases:
            seconds, result = timed(function)
            print(f"{name:40} {seconds * 1000:7.0f} ms {len(result):6}")
    database.dispose()


if __name__ == "__main__":
    for url in sys.argv[1:] or ["sqlite:///bench/out/reports.db"]:
        bench(url)
