"""ops: mail sender heartbeat, permanent mail failures

Revision ID: 0006_ops_mail_heartbeat
Revises: 0005_std_packages_lrs
"""
from alembic import op
import sqlalchemy as sa
import sqlmodel

import portal.common.db


revision = '0006_ops_mail_heartbeat'
down_revision = '0005_std_packages_lrs'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('mail_sender_heartbeat',
    sa.Column('sender', sqlmodel.sql.sqltypes.AutoString(length=120), nullable=False),
    sa.Column('started_at', portal.common.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('beat_at', portal.common.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('sent_total', sa.Integer(), nullable=False),
    sa.Column('failed_total', sa.Integer(), nullable=False),
    sa.Column('problem', sqlmodel.sql.sqltypes.AutoString(length=500), nullable=True),
    sa.PrimaryKeyConstraint('sender')
    )
    with op.batch_alter_table('mail_sender_heartbeat', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_mail_sender_heartbeat_beat_at'), ['beat_at'], unique=False)
    with op.batch_alter_table('mail_outbox', schema=None) as batch_op:
        batch_op.add_column(sa.Column('failed_at', portal.common.db.UTCDateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('mail_outbox', schema=None) as batch_op:
        batch_op.drop_column('failed_at')
    with op.batch_alter_table('mail_sender_heartbeat', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_mail_sender_heartbeat_beat_at'))
    op.drop_table('mail_sender_heartbeat')
