"""Rebuild the report summaries (enrollment score columns and item statistics) from the
attempts themselves: after a bulk import, or to repair them. Pure SQL, both databases."""

from __future__ import annotations

from sqlalchemy import text
from sqlmodel import Session

REBUILD_ENROLLMENTS = """
UPDATE enrollment SET
  pre_score = (SELECT MAX(a.score) FROM attempt a
               WHERE a.enrollment_id = enrollment.id AND a.kind = 'pre' AND a.submitted_at IS NOT NULL),
  best_post_score = (SELECT MAX(a.score) FROM attempt a
                     WHERE a.enrollment_id = enrollment.id AND a.kind = 'post' AND a.submitted_at IS NOT NULL),
  post_attempts = (SELECT COUNT(*) FROM attempt a
                   WHERE a.enrollment_id = enrollment.id AND a.kind = 'post' AND a.submitted_at IS NOT NULL),
  first_post_passed = (SELECT a.passed FROM attempt a
                       WHERE a.enrollment_id = enrollment.id AND a.kind = 'post' AND a.number = 1
                         AND a.submitted_at IS NOT NULL)
"""

REBUILD_ITEMS = """
INSERT INTO item_stat (pack_id, session_year, kind, question_id, answered, correct)
SELECT a.pack_id, e.session_year, a.kind, i.question_id, COUNT(*),
       SUM(CASE WHEN i.correct THEN 1 ELSE 0 END)
FROM attempt_item i JOIN attempt a ON a.id = i.attempt_id JOIN enrollment e ON e.id = a.enrollment_id
WHERE a.submitted_at IS NOT NULL
GROUP BY a.pack_id, e.session_year, a.kind, i.question_id
"""


def rebuild(db: Session) -> None:
    connection = db.connection()
    connection.execute(text(REBUILD_ENROLLMENTS))
    connection.execute(text("DELETE FROM item_stat"))
    connection.execute(text(REBUILD_ITEMS))
    db.commit()
