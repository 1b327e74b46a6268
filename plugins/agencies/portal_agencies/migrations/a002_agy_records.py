"""agencies: change history, COPS Response Center answers, single-use invitations and join requests

Revision ID: a002_agy_records
Revises: a001_agencies
"""
from alembic import op
import sqlalchemy as sa
import sqlmodel
import portal.common.db


revision = 'a002_agy_records'
down_revision = 'a001_agencies'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('agency_change',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('agency_id', sa.Integer(), nullable=False),
    sa.Column('record_kind', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
    sa.Column('record_id', sa.Integer(), nullable=False),
    sa.Column('action', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
    sa.Column('actor_id', sa.Integer(), nullable=True),
    sa.Column('changed_at', portal.common.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('before', sa.Text(), nullable=False),
    sa.Column('after', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['actor_id'], ['user_account.id'], ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['agency_id'], ['agency.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('agency_change', schema=None) as batch_op:
        batch_op.create_index('ix_agency_change_record', ['agency_id', 'record_kind', 'record_id'], unique=False)

    op.create_table('agency_join_request',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('agency_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('invite_id', sa.Integer(), nullable=True),
    sa.Column('requested_at', portal.common.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['agency_id'], ['agency.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['invite_id'], ['agency_invite.id'], ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['user_id'], ['user_account.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('agency_id', 'user_id', name='uq_agency_join_request')
    )
    with op.batch_alter_table('agency_join_request', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_agency_join_request_agency_id'), ['agency_id'], unique=False)

    with op.batch_alter_table('agency_invite', schema=None) as batch_op:
        batch_op.add_column(sa.Column('multi_use', sa.Boolean(), nullable=False, server_default=sa.false()))
        batch_op.add_column(sa.Column('used_at', portal.common.db.UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('used_by', sa.Integer(), nullable=True))
        batch_op.create_foreign_key('fk_agency_invite_used_by', 'user_account', ['used_by'], ['id'],
                                    ondelete='SET NULL')

    with op.batch_alter_table('chp_sro', schema=None) as batch_op:
        batch_op.add_column(sa.Column('response_center_reported_on', sa.Date(), nullable=True))
        batch_op.add_column(sa.Column('response_center_answer', sqlmodel.sql.sqltypes.AutoString(length=20),
                                      nullable=False, server_default=''))


def downgrade() -> None:
    with op.batch_alter_table('chp_sro', schema=None) as batch_op:
        batch_op.drop_column('response_center_answer')
        batch_op.drop_column('response_center_reported_on')
    with op.batch_alter_table('agency_invite', schema=None) as batch_op:
        batch_op.drop_constraint('fk_agency_invite_used_by', type_='foreignkey')
        batch_op.drop_column('used_by')
        batch_op.drop_column('used_at')
        batch_op.drop_column('multi_use')
    with op.batch_alter_table('agency_join_request', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_agency_join_request_agency_id'))
    op.drop_table('agency_join_request')
    with op.batch_alter_table('agency_change', schema=None) as batch_op:
        batch_op.drop_index('ix_agency_change_record')
    op.drop_table('agency_change')
