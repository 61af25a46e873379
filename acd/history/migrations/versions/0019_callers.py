"""callers (issue 16): the platform's calls out (callbacks, messages, revisits), blocked numbers,
the wait told to each caller; a callback's leg marked on its call; a caller's calls and orders
indexed by number

Revision ID: 16c0a11e4516
Revises: 0017qascores01
Create Date: 2026-12-10 10:00:00
"""
import sqlalchemy as sa
from alembic import op

revision = '16c0a11e4516'
down_revision = '0017qascores01'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('callbacks',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('center', sa.String(length=40), nullable=False),
    sa.Column('node', sa.String(length=40), nullable=False),
    sa.Column('kind', sa.String(length=10), nullable=False),
    sa.Column('number', sa.String(length=40), nullable=False),
    sa.Column('queue', sa.String(length=40), nullable=False),
    sa.Column('call_uniqueid', sa.String(length=64), nullable=True),
    sa.Column('order_id', sa.Integer(), nullable=True),
    sa.Column('revisit_id', sa.Integer(), nullable=True),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('priority', sa.Integer(), nullable=False),
    sa.Column('state', sa.String(length=12), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('max_attempts', sa.Integer(), nullable=False),
    sa.Column('requested_at', sa.DateTime(), nullable=False),
    sa.Column('next_at', sa.DateTime(), nullable=False),
    sa.Column('last_try_at', sa.DateTime(), nullable=True),
    sa.Column('seat_id', sa.String(length=20), nullable=False),
    sa.Column('reached_at', sa.DateTime(), nullable=True),
    sa.Column('ended_at', sa.DateTime(), nullable=True),
    sa.Column('last_status', sa.String(length=60), nullable=False),
    sa.Column('leg', sa.String(length=80), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('kind', 'call_uniqueid', name='uq_callbacks_kind_call'),
    sa.UniqueConstraint('revisit_id', name='uq_callbacks_revisit')
    )
    with op.batch_alter_table('callbacks', schema=None) as batch_op:
        batch_op.create_index('ix_callbacks_state_next', ['state', 'next_at'], unique=False)

    op.create_table('blocked_numbers',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('center', sa.String(length=40), nullable=False),
    sa.Column('number', sa.String(length=40), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('created_by', sa.String(length=60), nullable=False),
    sa.Column('expires_at', sa.DateTime(), nullable=False),
    sa.Column('lifted_at', sa.DateTime(), nullable=True),
    sa.Column('lifted_by', sa.String(length=60), nullable=False),
    sa.Column('lift_reason', sa.Text(), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('blocked_numbers', schema=None) as batch_op:
        batch_op.create_index('ix_blocked_numbers_number', ['center', 'number'], unique=False)

    op.create_table('wait_estimates',
    sa.Column('uniqueid', sa.String(length=64), nullable=False),
    sa.Column('queue', sa.String(length=40), nullable=False),
    sa.Column('center', sa.String(length=40), nullable=False),
    sa.Column('at', sa.DateTime(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('expected_s', sa.Float(), nullable=True),
    sa.Column('announcements', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('uniqueid', 'queue')
    )

    with op.batch_alter_table('calls', schema=None) as batch_op:
        batch_op.add_column(sa.Column('callback_of', sa.String(length=64), nullable=True))
        batch_op.create_index('ix_calls_caller_started', ['caller_number', 'started_at'],
                              unique=False)

    with op.batch_alter_table('work_orders', schema=None) as batch_op:
        batch_op.create_index('ix_work_orders_caller', ['caller_number'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('work_orders', schema=None) as batch_op:
        batch_op.drop_index('ix_work_orders_caller')
    with op.batch_alter_table('calls', schema=None) as batch_op:
        batch_op.drop_index('ix_calls_caller_started')
        batch_op.drop_column('callback_of')
    op.drop_table('wait_estimates')
    with op.batch_alter_table('blocked_numbers', schema=None) as batch_op:
        batch_op.drop_index('ix_blocked_numbers_number')
    op.drop_table('blocked_numbers')
    with op.batch_alter_table('callbacks', schema=None) as batch_op:
        batch_op.drop_index('ix_callbacks_state_next')
    op.drop_table('callbacks')
