"""Aggregate reports, computed in the database with SQL aggregates; no learner rows are
loaded into Python. Any figure built from fewer than MIN_GROUP distinct learners is
suppressed, and no report ever shows one person's pre-test score, not even to someone
comparing two views of it (docs/security.md, "Reports"):

- score means count learners in whole blocks of MIN_GROUP, in the order they first took the
  post-test: one more learner changes nothing until a block of MIN_GROUP is complete, so the
  difference between two views is the mean of at least MIN_GROUP people;
- score figures are rounded to a step at least as large as one learner's whole influence on
  them (COARSE_STEPS), so a retake (one learner's improvement) moves a figure by one step at
  most and says nothing finer than that.

The SQL is written once for SQLite and PostgreSQL: medians use window functions, and the
few date functions that differ are chosen by dialect.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from sqlalchemy import text
from sqlmodel import Session

MIN_GROUP = 5
# The steps figures are rounded to, on their own scale (points of 100): the smallest one at
# least as large as one learner's influence, span / learners.
COARSE_STEPS = (1, 2, 5, 10, 20, 25, 50, 100)


def coarse_step(learners: int, span: float = 100.0) -> float:
    """The rounding step for a figure over `learners` people whose values span `span` points."""
    influence = span / max(learners, 1)
    return next((step for step in COARSE_STEPS if step >= influence), COARSE_STEPS[-1])


def coarsen(value: float | None, learners: int, span: float = 100.0) -> float | None:
    """`value` rounded to coarse_step: one learner more or less, or one learner's change, can
    move it by one step at most."""
    if value is None:
        return None
    step = coarse_step(learners, span)
    return math.floor(value / step + 0.5) * step  # half up: 50 at steps of 20 is 60, as on paper
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

    growth: float | None = None  # the rounded mean post minus the rounded mean pre

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
    sql = f"""
    WITH base AS (
        SELECT pack_id, session_year, COUNT(*) AS enrollments, COUNT(passed_at) AS completions,
               COUNT(first_post_passed) AS first_takers,
               SUM(CASE WHEN first_post_passed THEN 1 ELSE 0 END) AS first_passes,
               SUM(post_attempts) AS post_attempts,
               SUM(CASE WHEN post_attempts > 0 THEN 1 ELSE 0 END) AS post_takers
        FROM enrollment WHERE pack_id IN {packs_sql}{year_sql}
        GROUP BY pack_id, session_year
    ),
    scored AS (
        -- learners with both scores, in the order they first took the post-test (a newcomer
        -- always comes last), numbered, so that whole blocks of MIN_GROUP can be taken
        SELECT pack_id, session_year, pre_score, best_post_score,
               ROW_NUMBER() OVER (PARTITION BY pack_id, session_year ORDER BY first_post_at, id) AS rn,
               COUNT(*) OVER (PARTITION BY pack_id, session_year) AS n
        FROM (SELECT e.id, e.pack_id, e.session_year, e.pre_score, e.best_post_score,
                     (SELECT MIN(a.submitted_at) FROM attempt a WHERE a.enrollment_id = e.id AND a.kind = 'post'
                      AND a.submitted_at IS NOT NULL) AS first_post_at
              FROM enrollment e WHERE e.pack_id IN {packs_sql}{year_sql.replace("session_year", "e.session_year")}
                AND e.pre_score IS NOT NULL AND e.best_post_score IS NOT NULL) AS both_scores
    ),
    score_means AS (
        SELECT pack_id, session_year, AVG(pre_score) AS mean_pre, AVG(best_post_score) AS mean_post,
               COUNT(*) AS scored
        FROM scored WHERE rn <= n - (n % {MIN_GROUP}) GROUP BY pack_id, session_year
    ),
    {_medians_sql(dialect, days, packs_sql, year_sql)}
    SELECT base.pack_id, base.session_year, base.enrollments, base.completions, medians.median_days,
           score_means.mean_pre, score_means.mean_post, score_means.scored, base.first_takers, base.first_passes,
           base.post_attempts, base.post_takers
    FROM base LEFT JOIN medians ON medians.pack_id = base.pack_id AND medians.session_year = base.session_year
    LEFT JOIN score_means ON score_means.pack_id = base.pack_id AND score_means.session_year = base.session_year
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
    """Blank every figure that rests on fewer than MIN_GROUP learners; round the score figures."""
    row.mean_pre = coarsen(row.mean_pre, row.scored_learners)
    row.mean_post = coarsen(row.mean_post, row.scored_learners)
    if row.mean_pre is not None and row.mean_post is not None:
        row.growth = row.mean_post - row.mean_pre  # from the rounded figures: it tells nothing more
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
    from the running counts kept at each submission. A share is shown only when at least
    MIN_GROUP distinct learners answered (one learner answering twice is one learner), and
    rounded to the coarse step for that many learners."""
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
    learners = _learners_per_question(db, pack_id, year)
    rows = []
    for qid, pre_n, pre_ok, post_n, post_ok in db.connection().execute(text(sql), params).all():
        pre_n, post_n = int(pre_n or 0), int(post_n or 0)
        pre_people, post_people = learners.get((qid, "pre"), 0), learners.get((qid, "post"), 0)
        rows.append(ItemRow(qid, pre_n, _share(pre_ok, pre_n, pre_people), post_n, _share(post_ok, post_n, post_people)))
    return rows


def _share(correct, answers: int, learners: int) -> float | None:
    if learners < MIN_GROUP or not answers:
        return None
    return coarsen(100.0 * int(correct) / answers, learners) / 100.0


def _learners_per_question(db: Session, pack_id: str, year: int | None) -> dict[tuple[str, str], int]:
    """How many distinct learners answered each question, per test kind."""
    params = {"pack": pack_id}
    year_sql = ""
    if year is not None:
        year_sql, params["year"] = " AND e.session_year = :year", year
    sql = f"""
    SELECT i.question_id, a.kind, COUNT(DISTINCT e.user_id)
    FROM attempt_item i JOIN attempt a ON a.id = i.attempt_id JOIN enrollment e ON e.id = a.enrollment_id
    WHERE a.pack_id = :pack AND a.submitted_at IS NOT NULL{year_sql}
    GROUP BY i.question_id, a.kind
    """
    return {(qid, kind): int(n) for qid, kind, n in db.connection().execute(text(sql), params).all()}


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


@dataclass
class LessonTime:
    lesson_id: str
    learners: int | None  # distinct learners who completed the lesson; None: fewer than MIN_GROUP
    median_minutes: int | None  # None: fewer than MIN_GROUP learners (suppressed)


def lesson_times(db: Session, pack_id: str, year: int | None = None) -> list[LessonTime]:
    """For each lesson, the median of the time the server measured on it (a whole minute) over the
    enrollments that completed it; a time is not a score, so it is suppressed under MIN_GROUP
    distinct learners only. The median by window functions, the same on SQLite and PostgreSQL."""
    params = {"pack": pack_id}
    year_sql = ""
    if year is not None:
        year_sql, params["year"] = " AND e.session_year = :year", year
    sql = f"""
    WITH done AS (
        SELECT p.lesson_id, e.user_id, p.seconds_spent,
               ROW_NUMBER() OVER (PARTITION BY p.lesson_id ORDER BY p.seconds_spent) AS rn,
               COUNT(*) OVER (PARTITION BY p.lesson_id) AS n
        FROM lesson_progress p JOIN enrollment e ON e.id = p.enrollment_id
        WHERE e.pack_id = :pack AND p.completed_at IS NOT NULL{year_sql}
    )
    SELECT lesson_id, COUNT(DISTINCT user_id),
           AVG(CASE WHEN rn IN ((n + 1) / 2, (n + 2) / 2) THEN seconds_spent END)
    FROM done GROUP BY lesson_id
    """
    rows = []
    for lesson_id, learners, median in db.connection().execute(text(sql), params).all():
        if int(learners) < MIN_GROUP or median is None:
            rows.append(LessonTime(lesson_id, None, None))
        else:
            rows.append(LessonTime(lesson_id, int(learners), round(float(median) / 60)))
    return rows
