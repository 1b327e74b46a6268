"""learning: time on each lesson, measured by the server

Revision ID: 0008_learning_lesson_time
Revises: 0007_ops_rebuild_summaries
"""
from alembic import op
import sqlalchemy as sa

import portal.common.db

revision = '0008_learning_lesson_time'
down_revision = '0007_ops_rebuild_summaries'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('lesson_progress', schema=None) as batch_op:
        batch_op.add_column(sa.Column('seconds_spent', sa.Integer(), nullable=False, server_default='0'))
        batch_op.add_column(sa.Column('counted_until', portal.common.db.UTCDateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('lesson_progress', schema=None) as batch_op:
        batch_op.drop_column('counted_until')
        batch_op.drop_column('seconds_spent')
