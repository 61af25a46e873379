"""The tables of issue 16: the platform's calls out (callbacks, messages to call back,
revisits), blocked numbers with their audit trail, and the wait each caller was told."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, Float, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from acd.history.models import Base


class Callback(Base):
    """One caller the platform calls: back at the place it kept in a queue (kind `queue`),
    back about the message it left (`message`), or for a revisit (`revisit`).

        waiting --placed--> holding --a seat answered--> dialling --reached--> reached
        waiting --dialled (revisit)--> dialling --reached--> reached
        holding | dialling --not reached--> waiting (next_at: a retry) | failed (no tries left)
        waiting | holding --cancel--> cancelled
    """

    __tablename__ = "callbacks"
    __table_args__ = (UniqueConstraint("kind", "call_uniqueid", name="uq_callbacks_kind_call"),
                      UniqueConstraint("revisit_id", name="uq_callbacks_revisit"),
                      Index("ix_callbacks_state_next", "state", "next_at"))

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    center: Mapped[str] = mapped_column(String(40))
    node: Mapped[str] = mapped_column(String(40), default="")  # the Asterisk node to call from
    kind: Mapped[str] = mapped_column(String(10))           # queue / message / revisit
    number: Mapped[str] = mapped_column(String(40))         # whom to call
    queue: Mapped[str] = mapped_column(String(40), default="")
    call_uniqueid: Mapped[str | None] = mapped_column(String(64))  # the call it comes from
    order_id: Mapped[int | None] = mapped_column(Integer)   # the message's / revisit's order
    revisit_id: Mapped[int | None] = mapped_column(Integer)
    position: Mapped[int] = mapped_column(Integer, default=0)  # the place kept (1 = first)
    priority: Mapped[int] = mapped_column(Integer, default=0)
    state: Mapped[str] = mapped_column(String(12), default="waiting")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    max_attempts: Mapped[int] = mapped_column(Integer, default=3)
    requested_at: Mapped[datetime] = mapped_column(DateTime)
    next_at: Mapped[datetime] = mapped_column(DateTime)     # not placed before this
    last_try_at: Mapped[datetime | None] = mapped_column(DateTime)
    seat_id: Mapped[str] = mapped_column(String(20), default="")
    reached_at: Mapped[datetime | None] = mapped_column(DateTime)
    ended_at: Mapped[datetime | None] = mapped_column(DateTime)
    last_status: Mapped[str] = mapped_column(String(60), default="")  # DIALSTATUS, a reason
    leg: Mapped[str] = mapped_column(String(80), default="")  # the current attempt's AMI id


class BlockedNumber(Base):
    """A number supervisors keep from the seats (恶意骚扰): with a reason and an expiry. Rows are
    never deleted or rewritten but for the lifting: each block, who set it and why, and who
    lifted it and why, stays (the audit trail)."""

    __tablename__ = "blocked_numbers"
    __table_args__ = (Index("ix_blocked_numbers_number", "center", "number"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    center: Mapped[str] = mapped_column(String(40))
    number: Mapped[str] = mapped_column(String(40))
    reason: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime)
    created_by: Mapped[str] = mapped_column(String(60))
    expires_at: Mapped[datetime] = mapped_column(DateTime)
    lifted_at: Mapped[datetime | None] = mapped_column(DateTime)
    lifted_by: Mapped[str] = mapped_column(String(60), default="")
    lift_reason: Mapped[str] = mapped_column(Text, default="")


class WaitEstimate(Base):
    """What a caller was told on entering a queue: its position and the engine's estimate of
    its wait (the first announcement), beside which its real wait is measured (BENCHMARKS.md)."""

    __tablename__ = "wait_estimates"

    uniqueid: Mapped[str] = mapped_column(String(64), primary_key=True)
    queue: Mapped[str] = mapped_column(String(40), primary_key=True)
    center: Mapped[str] = mapped_column(String(40))
    at: Mapped[datetime] = mapped_column(DateTime)
    position: Mapped[int] = mapped_column(Integer)
    expected_s: Mapped[float | None] = mapped_column(Float)  # None: no seat to estimate from
    announcements: Mapped[int] = mapped_column(Integer, default=1)
