"""quality scores of recordings: qa_scores (one row per scored call and sheet)

Revision ID: 0017qascores01
Revises: 6a9dab46be45
Create Date: 2026-12-02 02:00:00
"""
import sqlalchemy as sa
from alembic import op

revision = '0017qascores01'
down_revision = '6a9dab46be45'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('qa_scores',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('center', sa.String(length=40), nullable=False),
    sa.Column('uniqueid', sa.String(length=64), nullable=False),
    sa.Column('seat_id', sa.String(length=20), nullable=False),
    sa.Column('call_started_at', sa.DateTime(), nullable=False),
    sa.Column('sheet', sa.String(length=40), nullable=False),
    sa.Column('scores', sa.Text(), nullable=False),
    sa.Column('total', sa.Integer(), nullable=False),
    sa.Column('max_total', sa.Integer(), nullable=False),
    sa.Column('passed', sa.Boolean(), nullable=False),
    sa.Column('comment', sa.Text(), nullable=False),
    sa.Column('by_user', sa.String(length=60), nullable=False),
    sa.Column('scored_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('uniqueid', 'sheet', name='uq_qa_scores_call_sheet')
    )
    with op.batch_alter_table('qa_scores', schema=None) as batch_op:
        batch_op.create_index('ix_qa_scores_center_seat', ['center', 'seat_id'], unique=False)
        batch_op.create_index('ix_qa_scores_scored_at', ['scored_at'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('qa_scores', schema=None) as batch_op:
        batch_op.drop_index('ix_qa_scores_scored_at')
        batch_op.drop_index('ix_qa_scores_center_seat')
    op.drop_table('qa_scores')
