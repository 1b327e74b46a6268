"""Aggregate reports, computed in the database with SQL aggregates; no learner rows are
loaded into Python. Any figure built from fewer than MIN_GROUP learners is suppressed,
and no report ever shows one person's pre-test score.

The SQL is written once for SQLite and PostgreSQL: medians use window functions, and the
few date functions that differ are chosen by dialect.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import text
from sqlmodel import Session

MIN_GROUP = 5
EASY, HARD = 0.90, 0.20  # items nearly everyone / nearly no one answers correctly on the post-test


def _days_between(dialect: str, later: str, earlier: str) -> str:
    if dialect == "postgresql":
        return f"(EXTRACT(EPOCH FROM ({later} - {earlier})) / 86400.0)"
    return f"(julianday({later}) - julianday({earlier}))"


def _month(dialect: str, column: str) -> str:
    return f"to_char({column}, 'YYYY-MM')" if dialect == "postgresql" else f"strftime('%Y-%m', {column})"


def _medians_sql(dialect: str, days: str, packs_sql: str, year_sql: str) -> str:
    """Median days to complete per course and year: PostgreSQL's ordered-set aggregate, or
    the middle row(s) by window functions on SQLite, which has no median."""
    where = f"WHERE passed_at IS NOT NULL AND pack_id IN {packs_sql}{year_sql}"
    if dialect == "postgresql":
        return f"""medians AS (
        SELECT pack_id, session_year, percentile_cont(0.5) WITHIN GROUP (ORDER BY {days}) AS median_days
        FROM enrollment {where} GROUP BY pack_id, session_year
    )"""
    return f"""durations AS (
        SELECT pack_id, session_year, {days} AS days,
               ROW_NUMBER() OVER (PARTITION BY pack_id, session_year ORDER BY {days}) AS rn,
               COUNT(*) OVER (PARTITION BY pack_id, session_year) AS n
        FROM enrollment {where}
    ),
    medians AS (
        SELECT pack_id, session_year, AVG(days) AS median_days FROM durations
        WHERE rn IN ((n + 1) / 2, (n + 2) / 2) GROUP BY pack_id, session_year
    )"""


def _scope(pack_ids: list[str], year: int | None) -> tuple[str, str, dict]:
    """SQL for "these courses" and "this session year" (or any), with their parameters."""
    packs_sql, params = _in_clause("p", pack_ids)
    if year is None:
        return packs_sql, "", params
    return packs_sql, " AND session_year = :year", {**params, "year": year}


def _in_clause(name: str, values: list) -> tuple[str, dict]:
    params = {f"{name}{i}": v for i, v in enumerate(values)}
    return "(" + ", ".join(f":{k}" for k in params) + ")", params


@dataclass
class CourseYear:
    pack_id: str
    year: int
    enrollments: int
    completions: int
    median_days: float | None
    mean_pre: float | None
    mean_post: float | None
    scored_learners: int
    first_attempt_takers: int
    first_attempt_passes: int
    post_attempts: int
    post_takers: int
    suppressed: set[str] = field(default_factory=set)

    @property
    def completion_rate(self) -> float | None:
        return self.completions / self.enrollments if self.enrollments else None

    @property
    def growth(self) -> float | None:
        if self.mean_pre is None or self.mean_post is None:
            return None
        return self.mean_post - self.mean_pre

    @property
    def first_attempt_pass_rate(self) -> float | None:
        return self.first_attempt_passes / self.first_attempt_takers if self.first_attempt_takers else None

    @property
    def attempts_per_learner(self) -> float | None:
        return self.post_attempts / self.post_takers if self.post_takers else None


def course_years(db: Session, pack_ids: list[str], year: int | None = None) -> list[CourseYear]:
    """One row per course and session year: enrollments, completions and their rate, median
    days to complete, mean pre and best post score and growth (on learners with both),
    first-attempt pass rate and post-test attempts per learner. Reads the per-enrollment
    summaries kept at each submission, one row per enrollment."""
    if not pack_ids:
        return []
    dialect = db.get_bind().dialect.name
    packs_sql, year_sql, params = _scope(pack_ids, year)
    days = _days_between(dialect, "passed_at", "enrolled_at")
    both = "pre_score IS NOT NULL AND best_post_score IS NOT NULL"
    sql = f"""
    WITH base AS (
        SELECT pack_id, session_year, COUNT(*) AS enrollments, COUNT(passed_at) AS completions,
               AVG(CASE WHEN {both} THEN pre_score END) AS mean_pre,
               AVG(CASE WHEN {both} THEN best_post_score END) AS mean_post,
               SUM(CASE WHEN {both} THEN 1 ELSE 0 END) AS scored,
               COUNT(first_post_passed) AS first_takers,
               SUM(CASE WHEN first_post_passed THEN 1 ELSE 0 END) AS first_passes,
               SUM(post_attempts) AS post_attempts,
               SUM(CASE WHEN post_attempts > 0 THEN 1 ELSE 0 END) AS post_takers
        FROM enrollment WHERE pack_id IN {packs_sql}{year_sql}
        GROUP BY pack_id, session_year
    ),
    {_medians_sql(dialect, days, packs_sql, year_sql)}
    SELECT base.pack_id, base.session_year, base.enrollments, base.completions, medians.median_days,
           base.mean_pre, base.mean_post, base.scored, base.first_takers, base.first_passes,
           base.post_attempts, base.post_takers
    FROM base LEFT JOIN medians ON medians.pack_id = base.pack_id AND medians.session_year = base.session_year
    ORDER BY base.session_year DESC, base.pack_id
    """
    rows = []
    for r in db.connection().execute(text(sql), params).all():
        row = CourseYear(r[0], int(r[1]), int(r[2]), int(r[3]), _num(r[4]), _num(r[5]), _num(r[6]), int(r[7] or 0),
                         int(r[8] or 0), int(r[9] or 0), int(r[10] or 0), int(r[11] or 0))
        rows.append(_suppress(row))
    return rows


def _num(value) -> float | None:
    return None if value is None else float(value)


def _suppress(row: CourseYear) -> CourseYear:
    """Blank every figure that rests on fewer than MIN_GROUP learners."""
    if row.enrollments < MIN_GROUP:
        row.suppressed.update({"enrollments", "completions", "completion_rate"})
    if row.completions < MIN_GROUP:
        row.suppressed.update({"completions", "completion_rate", "median_days"})
    if row.scored_learners < MIN_GROUP:
        row.suppressed.update({"mean_pre", "mean_post", "growth"})
    if row.first_attempt_takers < MIN_GROUP:
        row.suppressed.add("first_attempt_pass_rate")
    if row.post_takers < MIN_GROUP:
        row.suppressed.add("attempts_per_learner")
    return row


@dataclass
class ItemRow:
    question_id: str
    pre_n: int
    pre_correct: float | None
    post_n: int
    post_correct: float | None

    @property
    def flag(self) -> str:
        if self.post_correct is None:
            return ""
        if self.post_correct >= EASY:
            return "nearly everyone answers correctly"
        if self.post_correct <= HARD:
            return "nearly no one answers correctly"
        return ""


def item_analysis(db: Session, pack_id: str, year: int | None = None) -> list[ItemRow]:
    """For each question: the share answering correctly on the pre-test and on the post-test,
    from the running counts kept at each submission."""
    params = {"pack": pack_id}
    year_sql = ""
    if year is not None:
        year_sql, params["year"] = " AND session_year = :year", year
    sql = f"""
    SELECT question_id,
           SUM(CASE WHEN kind = 'pre' THEN answered ELSE 0 END),
           SUM(CASE WHEN kind = 'pre' THEN correct ELSE 0 END),
           SUM(CASE WHEN kind = 'post' THEN answered ELSE 0 END),
           SUM(CASE WHEN kind = 'post' THEN correct ELSE 0 END)
    FROM item_stat WHERE pack_id = :pack{year_sql}
    GROUP BY question_id ORDER BY question_id
    """
    rows = []
    for qid, pre_n, pre_ok, post_n, post_ok in db.connection().execute(text(sql), params).all():
        pre_n, post_n = int(pre_n or 0), int(post_n or 0)
        rows.append(ItemRow(qid, pre_n, (int(pre_ok) / pre_n) if pre_n >= MIN_GROUP else None,
                            post_n, (int(post_ok) / post_n) if post_n >= MIN_GROUP else None))
    return rows


def completions_by_month(db: Session, pack_ids: list[str], year: int | None = None) -> list[tuple[str, int | None]]:
    """Completions per calendar month (UTC); months with fewer than MIN_GROUP are suppressed."""
    if not pack_ids:
        return []
    dialect = db.get_bind().dialect.name
    packs_sql, year_sql, params = _scope(pack_ids, year)
    month = _month(dialect, "passed_at")
    sql = f"""SELECT {month} AS month, COUNT(*) FROM enrollment
              WHERE passed_at IS NOT NULL AND pack_id IN {packs_sql}{year_sql}
              GROUP BY {month} ORDER BY month"""
    return [(m, int(n) if n >= MIN_GROUP else None) for m, n in db.connection().execute(text(sql), params).all()]
