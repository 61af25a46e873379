"""security: web users' session version (logout and revocation end every session), and the
listening audit (spy_sessions: who listened to which seat, how, from when to when)

Revision ID: 6a9dab46be45
Revises: f29fffa0c745
Create Date: 2026-12-02 00:30:00
"""
import sqlalchemy as sa
from alembic import op

revision = '6a9dab46be45'
down_revision = '539ebf07f21c'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('web_users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('session_version', sa.Integer(), server_default='1',
                                      nullable=False))
    op.create_table('spy_sessions',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('center', sa.String(length=40), nullable=False),
    sa.Column('node', sa.String(length=40), nullable=False),
    sa.Column('spyer_uniqueid', sa.String(length=64), nullable=False),
    sa.Column('supervisor', sa.String(length=20), nullable=False),
    sa.Column('by_user', sa.String(length=60), nullable=False),
    sa.Column('seat', sa.String(length=20), nullable=False),
    sa.Column('mode', sa.String(length=10), nullable=False),
    sa.Column('target', sa.String(length=80), nullable=False),
    sa.Column('status', sa.String(length=30), nullable=False),
    sa.Column('requested_at', sa.DateTime(), nullable=True),
    sa.Column('started_at', sa.DateTime(), nullable=True),
    sa.Column('ended_at', sa.DateTime(), nullable=True),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('spy_sessions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_spy_sessions_center'), ['center'], unique=False)
        batch_op.create_index(batch_op.f('ix_spy_sessions_requested_at'), ['requested_at'],
                              unique=False)
        batch_op.create_index(batch_op.f('ix_spy_sessions_spyer_uniqueid'), ['spyer_uniqueid'],
                              unique=False)
        batch_op.create_index(batch_op.f('ix_spy_sessions_started_at'), ['started_at'],
                              unique=False)


def downgrade() -> None:
    with op.batch_alter_table('spy_sessions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_spy_sessions_started_at'))
        batch_op.drop_index(batch_op.f('ix_spy_sessions_spyer_uniqueid'))
        batch_op.drop_index(batch_op.f('ix_spy_sessions_requested_at'))
        batch_op.drop_index(batch_op.f('ix_spy_sessions_center'))
    op.drop_table('spy_sessions')
    with op.batch_alter_table('web_users', schema=None) as batch_op:
        batch_op.drop_column('session_version')
