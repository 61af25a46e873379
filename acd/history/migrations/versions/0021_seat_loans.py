"""seat_loans: seats lent from one center of the deployment to another center's queues for a
time (issue 18, seed 000 §四), with who lent them, until when, and who or what ended them

Revision ID: 5b7d2e9c4a31
Revises: 3c9e1a7d5b20
Create Date: 2026-12-02 06:30:00.000000
"""
import sqlalchemy as sa
from alembic import op

revision = '5b7d2e9c4a31'
down_revision = '3c9e1a7d5b20'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'seat_loans',
        sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
        sa.Column('seat_id', sa.String(length=20), nullable=False),
        sa.Column('from_center', sa.String(length=40), nullable=False),
        sa.Column('to_center', sa.String(length=40), nullable=False),
        sa.Column('queues', sa.Text(), nullable=False),
        sa.Column('lent_by', sa.String(length=80), nullable=False),
        sa.Column('lent_at', sa.DateTime(), nullable=False),
        sa.Column('until_at', sa.DateTime(), nullable=False),
        sa.Column('ended_at', sa.DateTime(), nullable=True),
        sa.Column('ended_by', sa.String(length=80), nullable=False),
        sa.Column('applied_at', sa.DateTime(), nullable=True),
        sa.Column('released_at', sa.DateTime(), nullable=True),
        sa.PrimaryKeyConstraint('id'),
    )
    with op.batch_alter_table('seat_loans', schema=None) as batch_op:
        batch_op.create_index('ix_seat_loans_open', ['released_at', 'seat_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('seat_loans', schema=None) as batch_op:
        batch_op.drop_index('ix_seat_loans_open')
    op.drop_table('seat_loans')
