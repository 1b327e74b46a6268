"""ops: static files of every release under their hashed names, for rolling deploys

Revision ID: 0009_ops_release_assets
Revises: 0008_learning_lesson_time
"""
from alembic import op
import sqlalchemy as sa
import sqlmodel

import portal.common.db


revision = '0009_ops_release_assets'
down_revision = '0008_learning_lesson_time'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('release_asset',
    sa.Column('name', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('sha256', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('data', sa.LargeBinary(), nullable=False),
    sa.Column('published_at', portal.common.db.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('name')
    )


def downgrade() -> None:
    op.drop_table('release_asset')
