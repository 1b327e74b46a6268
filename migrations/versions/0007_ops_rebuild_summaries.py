"""ops: fill the report summaries from the attempts already stored

0004 added the summary columns and item_stat but left them empty for attempts made before it,
so an upgrade from 0003 with data showed empty reports. The SQL is a copy as of this revision
(a migration must not change when the code does); `portal reports rebuild` runs the current one.

Revision ID: 0007_ops_rebuild_summaries
Revises: 0006_ops_mail_heartbeat
"""
from alembic import op
from sqlalchemy import text


revision = '0007_ops_rebuild_summaries'
down_revision = '0006_ops_mail_heartbeat'
branch_labels = None
depends_on = None

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


def upgrade() -> None:
    op.execute(text(REBUILD_ENROLLMENTS))
    op.execute(text("DELETE FROM item_stat"))
    op.execute(text(REBUILD_ITEMS))


def downgrade() -> None:
    pass  # the figures stay; the schema did not change
