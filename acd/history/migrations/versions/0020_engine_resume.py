"""engine_cursors: where queue_log was read to (inode, byte offset) and the last journal record
applied, so a restarted engine replays only what it missed and applies each record once

Revision ID: 3c9e1a7d5b20
Revises: 16c0a11e4516
Create Date: 2026-12-10 09:00:00.000000
"""
import sqlalchemy as sa
from alembic import op

revision = '3c9e1a7d5b20'
down_revision = '16c0a11e4516'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('engine_cursors', schema=None) as batch_op:
        batch_op.add_column(sa.Column('queue_log_inode', sa.BigInteger(), nullable=True))
        batch_op.add_column(sa.Column('queue_log_offset', sa.BigInteger(), nullable=True))
        batch_op.add_column(sa.Column('journal_seq', sa.BigInteger(), server_default='0',
                                      nullable=False))


def downgrade() -> None:
    with op.batch_alter_table('engine_cursors', schema=None) as batch_op:
        batch_op.drop_column('journal_seq')
        batch_op.drop_column('queue_log_offset')
        batch_op.drop_column('queue_log_inode')
