"""The outbox: one row per message to another system, written in the same transaction as the
change it reports (an order's result, a call record, a reminder), so nothing is lost between
the two, and deleted never: its `sent_at` is the receiver's acknowledgement."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from acd.history.models import Base


class OutboxMessage(Base):
    __tablename__ = "outbox"
    __table_args__ = (Index("ix_outbox_channel_state_next", "channel", "state", "next_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    center: Mapped[str] = mapped_column(String(40))
    # where it goes: "12345" (results), "platform" (call records, reports), "sms" (reminders)
    channel: Mapped[str] = mapped_column(String(20))
    kind: Mapped[str] = mapped_column(String(20))       # result / call / report / reminder
    # The idempotency key: sent as `Idempotency-Key`, unique, so enqueuing twice is one message.
    key: Mapped[str] = mapped_column(String(120), unique=True)
    payload: Mapped[str] = mapped_column(Text)          # JSON
    created_at: Mapped[datetime] = mapped_column(DateTime)
    next_at: Mapped[datetime] = mapped_column(DateTime)  # not tried before this
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    state: Mapped[str] = mapped_column(String(10), default="pending")  # pending/sent/rejected
    sent_at: Mapped[datetime | None] = mapped_column(DateTime)  # acknowledged by the receiver
    last_error: Mapped[str] = mapped_column(Text, default="")
