"""Work orders, their append-only history, revisits and the knowledge base (SQLAlchemy 2)."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    Boolean,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from acd.history.models import Base


class WorkOrder(Base):
    __tablename__ = "work_orders"
    __table_args__ = (Index("ix_work_orders_center_status", "center", "status"),
                      Index("ix_work_orders_accepted", "accepted_at"),
                      # an order another system transferred here comes once per its own id
                      UniqueConstraint("source", "external_id",
                                       name="uq_work_orders_source_external"),
                      Index("ix_work_orders_unit_status", "handling_unit", "status"),
                      # a caller's orders: progress by phone, repeat-caller priority
                      Index("ix_work_orders_caller", "caller_number"),
                      # the deadline and revisit figures read only transferred orders, a
                      # few percent of a province's (most are answered on the call): partial
                      Index("ix_work_orders_due", "due", sqlite_where=text("due IS NOT NULL"),
                            postgresql_where=text("due IS NOT NULL")),
                      Index("ix_work_orders_transferred_closed", "closed_at",
                            sqlite_where=text("transferred_at IS NOT NULL"),
                            postgresql_where=text("transferred_at IS NOT NULL")))

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    center: Mapped[str] = mapped_column(String(40))
    # One order per call (None: no call); unique, so counting calls with an order is a join.
    call_uniqueid: Mapped[str | None] = mapped_column(String(64), index=True, unique=True)
    source: Mapped[str] = mapped_column(String(20), default="call")  # call/12345/web/import/...
    type: Mapped[str] = mapped_column(String(20))        # complaint / consultation / suggestion
    domain: Mapped[str] = mapped_column(String(20))      # highway ... other
    sub_item: Mapped[str] = mapped_column(String(60), default="")
    caller_number: Mapped[str] = mapped_column(String(40), default="")
    caller_name: Mapped[str] = mapped_column(String(60), default="")
    subject: Mapped[str] = mapped_column(String(200), default="")  # who is complained about
    content: Mapped[str] = mapped_column(Text, default="")
    seat_id: Mapped[str] = mapped_column(String(20), default="")
    answered_on_call: Mapped[bool] = mapped_column(Boolean, default=False)
    handling_unit: Mapped[str] = mapped_column(String(100), default="")
    cross_region: Mapped[bool] = mapped_column(Boolean, default=False)
    region: Mapped[str] = mapped_column(String(60), default="")
    status: Mapped[str] = mapped_column(String(20), default="accepted")
    refusal: Mapped[str] = mapped_column(String(40), default="")
    accepted_at: Mapped[datetime] = mapped_column(DateTime)
    # Deadlines are days of the center's time zone (acd/orders/service.py, seed 001 arts.
    # 27, 32-34). transfer_due: the center transfers within 3 working days of acceptance
    # (again from a return or a reopening); transfer_late: a transfer came after it.
    transfer_due: Mapped[date] = mapped_column(Date)
    transfer_late: Mapped[bool] = mapped_column(Boolean, default=False)
    # The handling unit's clock: when it received the transfer (naive UTC), and the day by
    # which it replies (5/10/30 working days after the day of receipt, plus an extension).
    # None while no unit holds the order (not yet transferred, returned, answered on the call).
    received_at: Mapped[datetime | None] = mapped_column(DateTime)
    due: Mapped[date | None] = mapped_column(Date)
    extended_days: Mapped[int] = mapped_column(Integer, default=0)
    calendar_estimated: Mapped[bool] = mapped_column(Boolean, default=False)
    transferred_at: Mapped[datetime | None] = mapped_column(DateTime)
    replied_at: Mapped[datetime | None] = mapped_column(DateTime)
    closed_at: Mapped[datetime | None] = mapped_column(DateTime)
    reply: Mapped[str] = mapped_column(Text, default="")
    # Kept on the order so the monthly figures read one table (a province's half year is a
    # million orders): the caller's survey answer for the order's call (written by the order's
    # creation and by the engine when the answer comes), and the data-conformity rules the
    # order breaks ("" = conforms; recomputed whenever the order is written, see service.py).
    survey_score: Mapped[int | None] = mapped_column(Integer)
    nonconformity: Mapped[str] = mapped_column(String(120), default="")
    # The back office (acd/orders/backoffice.py): the id the order has in the system that
    # transferred it here (12345), when the handling unit signed for it (签收: an
    # acknowledgement; its clock runs from `received_at`, the transfer), and the center
    # that first accepted it when it has been sent on to another center or the level above.
    external_id: Mapped[str | None] = mapped_column(String(64))
    signed_at: Mapped[datetime | None] = mapped_column(DateTime)
    origin_center: Mapped[str] = mapped_column(String(40), default="")

    history: Mapped[list[OrderEvent]] = relationship(back_populates="order",
                                                     order_by="OrderEvent.id")


class OrderEvent(Base):
    """Who did what to an order, when: append-only."""

    __tablename__ = "work_order_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("work_orders.id"), index=True)
    at: Mapped[datetime] = mapped_column(DateTime)
    by: Mapped[str] = mapped_column(String(60))
    action: Mapped[str] = mapped_column(String(30))
    from_status: Mapped[str] = mapped_column(String(20))
    to_status: Mapped[str] = mapped_column(String(20))
    reason: Mapped[str] = mapped_column(Text, default="")

    order: Mapped[WorkOrder] = relationship(back_populates="history")


class Revisit(Base):
    """抽查回访: a sampled order called back. An order is sampled at most once per day (the
    day's sampler may run again without adding rows); `assigned_to` is the revisit worker
    whose list it is on ("" = anyone's)."""

    __tablename__ = "revisits"
    __table_args__ = (UniqueConstraint("order_id", "sampled_on",
                                       name="uq_revisits_order_day"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("work_orders.id"), index=True)
    sampled_on: Mapped[date] = mapped_column(Date, index=True)  # the center's day
    assigned_to: Mapped[str] = mapped_column(String(60), default="")
    done_at: Mapped[datetime | None] = mapped_column(DateTime)
    reached: Mapped[bool | None] = mapped_column(Boolean)
    satisfaction: Mapped[int | None] = mapped_column(Integer)  # 1 very satisfied .. 4 not
    notes: Mapped[str] = mapped_column(Text, default="")
    by: Mapped[str] = mapped_column(String(60), default="")

    order: Mapped[WorkOrder] = relationship()


class KnowledgeEntry(Base):
    __tablename__ = "kb_entries"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    title: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)
    domain: Mapped[str] = mapped_column(String(20), default="other")
    valid_from: Mapped[date | None] = mapped_column(Date)
    valid_to: Mapped[date | None] = mapped_column(Date)
    for_ivr: Mapped[bool] = mapped_column(Boolean, default=False)
    usage_count: Mapped[int] = mapped_column(Integer, default=0)
    # Its key in the exchange format (acd/orders/knowledge.py): given by the system it came
    # from (12345's id), else "<center>:<id>" when exported; unique, so an import updates.
    ref: Mapped[str | None] = mapped_column(String(80), unique=True)


class KnowledgeToken(Base):
    """A word of an entry (jieba, search mode): the index Chinese full-text search uses."""

    __tablename__ = "kb_tokens"
    __table_args__ = (Index("ix_kb_tokens_token", "token"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    entry_id: Mapped[int] = mapped_column(ForeignKey("kb_entries.id"), index=True)
    token: Mapped[str] = mapped_column(String(60))
