"""the handling unit's clock and the revisit lists: work_orders.received_at (when the unit
received the transfer; its deadline runs from that day, seed 001 art. 33), work_orders.due
nullable (no unit holds the order: no deadline), work_orders.transfer_late (a transfer after
the 3 working days of art. 27), partial indexes on due and on the transferred orders'
closed_at (the deadline and revisit figures); revisits.assigned_to (the revisit worker) and
one revisit per order and day.

Existing rows: received_at is the transfer time; an order no unit holds (never transferred,
or returned) loses the deadline it was given at acceptance; transfer_late is computed from
the stored transfer_due and the transfer's day in Asia/Shanghai; a second revisit of an order
on the same day (the sampler run twice) is deleted, keeping the one with a result.
Deadlines already stored for transferred orders are kept as they are.

Revision ID: 5c1e0a2b7d12
Revises: f29fffa0c745
Create Date: 2026-12-02 10:00:00
"""
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from alembic import op

revision = '5c1e0a2b7d12'
down_revision = 'f29fffa0c745'
branch_labels = None
depends_on = None


def _stored(value):  # type: ignore[no-untyped-def]
    """A stored date or timestamp as Python's (SQLite hands text back through plain SQL)."""
    if isinstance(value, str):
        return datetime.fromisoformat(value) if len(value) > 10 else date.fromisoformat(value)
    return value


def upgrade() -> None:
    with op.batch_alter_table('work_orders', schema=None) as batch_op:
        batch_op.add_column(sa.Column('transfer_late', sa.Boolean(), nullable=False,
                                      server_default=sa.false()))
        batch_op.add_column(sa.Column('received_at', sa.DateTime(), nullable=True))
        batch_op.alter_column('due', existing_type=sa.Date(), nullable=True)
        batch_op.create_index('ix_work_orders_due', ['due'], unique=False,
                              sqlite_where=sa.text('due IS NOT NULL'),
                              postgresql_where=sa.text('due IS NOT NULL'))
        batch_op.create_index('ix_work_orders_transferred_closed', ['closed_at'], unique=False,
                              sqlite_where=sa.text('transferred_at IS NOT NULL'),
                              postgresql_where=sa.text('transferred_at IS NOT NULL'))
    op.execute("UPDATE work_orders SET received_at = transferred_at "
               "WHERE transferred_at IS NOT NULL AND status <> 'returned'")
    op.execute("UPDATE work_orders SET due = NULL "
               "WHERE transferred_at IS NULL OR status = 'returned'")
    conn = op.get_bind()
    shanghai = ZoneInfo("Asia/Shanghai")
    late = [{"i": r.id} for r in conn.execute(sa.text(
        "SELECT id, transferred_at, transfer_due FROM work_orders "
        "WHERE transferred_at IS NOT NULL")).all()
        if _stored(r.transferred_at).replace(tzinfo=UTC).astimezone(shanghai).date()
        > _stored(r.transfer_due)]
    if late:
        conn.execute(sa.text("UPDATE work_orders SET transfer_late = true WHERE id = :i"), late)

    # One revisit per order and day: of a day's duplicates (the sampler run twice) keep the
    # one with a result, else the first; two results for one day keep the first.
    same_day = ("EXISTS (SELECT 1 FROM revisits r2 WHERE r2.order_id = revisits.order_id "
                "AND r2.sampled_on = revisits.sampled_on AND r2.id <> revisits.id AND {})")
    op.execute("DELETE FROM revisits WHERE done_at IS NULL AND "
               + same_day.format("(r2.done_at IS NOT NULL OR r2.id < revisits.id)"))
    op.execute("DELETE FROM revisits WHERE " + same_day.format("r2.id < revisits.id"))
    with op.batch_alter_table('revisits', schema=None) as batch_op:
        batch_op.add_column(sa.Column('assigned_to', sa.String(length=60), nullable=False,
                                      server_default=''))
        batch_op.create_index('ix_revisits_sampled_on', ['sampled_on'], unique=False)
        batch_op.create_unique_constraint('uq_revisits_order_day', ['order_id', 'sampled_on'])


def downgrade() -> None:
    with op.batch_alter_table('revisits', schema=None) as batch_op:
        batch_op.drop_constraint('uq_revisits_order_day', type_='unique')
        batch_op.drop_index('ix_revisits_sampled_on')
        batch_op.drop_column('assigned_to')
    op.execute("UPDATE work_orders SET due = transfer_due WHERE due IS NULL")
    with op.batch_alter_table('work_orders', schema=None) as batch_op:
        batch_op.drop_index('ix_work_orders_transferred_closed')
        batch_op.drop_index('ix_work_orders_due')
        batch_op.alter_column('due', existing_type=sa.Date(), nullable=False)
        batch_op.drop_column('received_at')
        batch_op.drop_column('transfer_late')
