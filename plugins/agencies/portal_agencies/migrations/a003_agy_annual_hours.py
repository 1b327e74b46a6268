"""agencies: the annual in-service hours an agency requires, and the month its training year starts

Revision ID: a003_agy_annual_hours
Revises: a002_agy_records
"""
from alembic import op
import sqlalchemy as sa


revision = 'a003_agy_annual_hours'
down_revision = 'a002_agy_records'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('agency', schema=None) as batch_op:
        batch_op.add_column(sa.Column('annual_hours_required', sa.Integer(), nullable=False, server_default='0'))
        batch_op.add_column(sa.Column('training_year_start_month', sa.Integer(), nullable=False, server_default='1'))


def downgrade() -> None:
    with op.batch_alter_table('agency', schema=None) as batch_op:
        batch_op.drop_column('training_year_start_month')
        batch_op.drop_column('annual_hours_required')
