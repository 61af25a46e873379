"""SQLAlchemy 2 models of the ledger. Times are UTC, naive `datetime`s (SQLite and PostgreSQL agree).

Identity is Asterisk's full Uniqueid / Linkedid; every row written from an AMI event is keyed
so that writing it twice (a resync, a replay) changes nothing.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    BigInteger,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from acd.calls.state import QueueOutcome


class Base(DeclarativeBase):
    pass


class Call(Base):
    """One caller's call into the center, from the first channel to hang-up."""

    __tablename__ = "calls"
    # The calls of one number, latest first: repeat-caller priority, order progress by phone.
    __table_args__ = (Index("ix_calls_caller_started", "caller_number", "started_at"),)

    uniqueid: Mapped[str] = mapped_column(String(64), primary_key=True)
    linkedid: Mapped[str] = mapped_column(String(64), index=True)
    node: Mapped[str] = mapped_column(String(40))
    center: Mapped[str] = mapped_column(String(40), index=True)
    caller_number: Mapped[str] = mapped_column(String(40), default="")
    caller_name: Mapped[str] = mapped_column(String(80), default="")
    dialed: Mapped[str] = mapped_column(String(40), default="")
    started_at: Mapped[datetime] = mapped_column(DateTime, index=True)
    ended_at: Mapped[datetime | None] = mapped_column(DateTime)
    ivr_path: Mapped[str] = mapped_column(String(200), default="")   # keys pressed, e.g. "1>2"
    ivr_seconds: Mapped[float | None] = mapped_column(Float)
    ivr_result: Mapped[str] = mapped_column(String(40), default="")  # queue / handoff / hangup
    handoff_to: Mapped[str] = mapped_column(String(20), default="")
    heard_broadcast: Mapped[bool] = mapped_column(default=False)
    # When the call first entered a queue (None: it never queued). Kept on the call so the
    # indicators, which put a call in the period of its first queue entry, read one table.
    queued_at: Mapped[datetime | None] = mapped_column(DateTime, index=True)
    first_queue: Mapped[str] = mapped_column(String(40), default="")
    final_queue: Mapped[str] = mapped_column(String(40), default="")
    outcome: Mapped[str] = mapped_column(String(20), default="")  # final QueueOutcome, or "ivr"
    seat_id: Mapped[str] = mapped_column(String(20), default="", index=True)
    answered_at: Mapped[datetime | None] = mapped_column(DateTime)
    wait_s: Mapped[float | None] = mapped_column(Float)       # queue entry -> answer/leave, summed
    talk_s: Mapped[float | None] = mapped_column(Float)
    # The seat's after-call work for this call, summed over its wrap-up intervals (kept here
    # by the ledger as each one closes: the average handle time reads the calls alone).
    wrapup_s: Mapped[float | None] = mapped_column(Float)
    hangup_by: Mapped[str] = mapped_column(String(10), default="")  # caller / seat / system
    recording: Mapped[str] = mapped_column(String(300), default="")
    survey_score: Mapped[int | None] = mapped_column(Integer)  # 1..4; None = not rated
    survey_at: Mapped[datetime | None] = mapped_column(DateTime)
    # A callback's leg (acd/callers/): the Local channel that held a caller's place in a queue
    # and then rang the caller back, for the call whose uniqueid this is. Not a call into the
    # center: the indicators count the original call (docs/indicators.md).
    callback_of: Mapped[str | None] = mapped_column(String(64))

    attempts: Mapped[list[QueueCall]] = relationship(
        back_populates="call", order_by="QueueCall.entered_at")


class QueueCall(Base):
    """One stay of a call in one queue (a call that overflows has two)."""

    __tablename__ = "queue_calls"
    # A call enters a given queue once (overflow goes on to another queue; the center file
    # refuses overflow cycles), so (uniqueid, queue) identifies a stay, whatever clock saw it.
    __table_args__ = (UniqueConstraint("uniqueid", "queue"),
                      Index("ix_queue_calls_queue_entered", "queue", "entered_at"))

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    uniqueid: Mapped[str] = mapped_column(ForeignKey("calls.uniqueid"), index=True)
    center: Mapped[str] = mapped_column(String(40))
    queue: Mapped[str] = mapped_column(String(40))
    entered_at: Mapped[datetime] = mapped_column(DateTime)
    position: Mapped[int] = mapped_column(Integer, default=0)
    left_at: Mapped[datetime | None] = mapped_column(DateTime)
    outcome: Mapped[str] = mapped_column(String(20), default=QueueOutcome.WAITING.value)
    wait_s: Mapped[float | None] = mapped_column(Float)
    seat_id: Mapped[str] = mapped_column(String(20), default="")
    answered_at: Mapped[datetime | None] = mapped_column(DateTime)
    talk_s: Mapped[float | None] = mapped_column(Float)
    ended_at: Mapped[datetime | None] = mapped_column(DateTime)

    call: Mapped[Call] = relationship(back_populates="attempts")

    def __repr__(self) -> str:
        return (f"QueueCall({self.uniqueid} {self.queue} {self.outcome} wait={self.wait_s} "
                f"seat={self.seat_id} talk={self.talk_s})")


class SeatInterval(Base):
    """A seat in one state for a time: "how long was 8003 busy today, and why" is a query."""

    __tablename__ = "seat_intervals"
    # Append-only, written by the engine alone: no unique key, so no write of a batch can
    # fail on two changes of one seat in the same instant.
    __table_args__ = (Index("ix_seat_intervals_seat_started", "seat_id", "started_at"),
                      Index("ix_seat_intervals_seat_open", "seat_id", "ended_at"))

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    seat_id: Mapped[str] = mapped_column(String(20))
    center: Mapped[str] = mapped_column(String(40))
    state: Mapped[str] = mapped_column(String(20))        # SeatState
    reason: Mapped[str] = mapped_column(String(40), default="")  # busy reason
    queue: Mapped[str] = mapped_column(String(40), default="")   # wrap-up/call: which queue
    uniqueid: Mapped[str] = mapped_column(String(64), default="")  # on_call/wrapup: which call
    started_at: Mapped[datetime] = mapped_column(DateTime)
    ended_at: Mapped[datetime | None] = mapped_column(DateTime)


class EngineCursor(Base):
    """How far the engine has followed a node: the last event it applied, where it read
    queue_log to (a restart replays from there), and the last journal record the database
    took (acd/history/journal.py: each record is applied once)."""

    __tablename__ = "engine_cursors"

    node: Mapped[str] = mapped_column(String(40), primary_key=True)
    last_event_at: Mapped[datetime] = mapped_column(DateTime)
    queue_log_inode: Mapped[int | None] = mapped_column(BigInteger)
    queue_log_offset: Mapped[int | None] = mapped_column(BigInteger)
    journal_seq: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")


class Outage(Base):
    """A loss of the AMI connection to a node (断网): the assessment counts these."""

    __tablename__ = "outages"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    node: Mapped[str] = mapped_column(String(40), index=True)
    center: Mapped[str] = mapped_column(String(40))
    started_at: Mapped[datetime] = mapped_column(DateTime)
    ended_at: Mapped[datetime | None] = mapped_column(DateTime)
    reason: Mapped[str] = mapped_column(Text, default="")
