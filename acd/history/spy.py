"""The audit trail of listening (ChanSpy): who listened to, whispered to or barged into which
seat's call, in which mode, from when to when; kept in the ledger (`spy_sessions`) and shown
to admins (/audit).

Where the rows come from:
- the wallboard's request (acd/web/spy.py) opens a row at once (`requested`, with the web
  user and the supervisor phone) and hands its id to the dialplan as SPY_AUDIT;
- the dialplan (extensions_supervisor.conf) reports UserEvent HotlineSpy on the supervisor's
  channel: `start` (with SPY_AUDIT when the wallboard asked, without when the phone dialled
  *31/*32/*33), `end`, or a refusal (`no_call`, `not_a_seat`, `no_target`);
- Asterisk itself reports ChanSpyStart and ChanSpyStop: the moments listening really began
  and ended.
The live model turns these events into `SpyEvent`s (acd/model.py); `record` writes them in
order, keyed by the supervisor channel's Uniqueid, so a repeated event changes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import DateTime, Integer, String, select
from sqlalchemy.orm import Mapped, Session, mapped_column, sessionmaker

from acd.ami.events import utc
from acd.history.models import Base

MODES = ("listen", "whisper", "barge")
REFUSALS = ("no_call", "not_a_seat", "no_target")


class SpySession(Base):
    """One supervisor listening in on one seat's call (or one refused attempt)."""

    __tablename__ = "spy_sessions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    center: Mapped[str] = mapped_column(String(40), index=True)
    node: Mapped[str] = mapped_column(String(40), default="")
    # The supervisor phone's channel that ran ChanSpy ("" until the phone answered).
    spyer_uniqueid: Mapped[str] = mapped_column(String(64), default="", index=True)
    supervisor: Mapped[str] = mapped_column(String(20), default="")  # the phone's endpoint
    by_user: Mapped[str] = mapped_column(String(60), default="")  # web user; "" = dial code
    seat: Mapped[str] = mapped_column(String(20), default="")
    mode: Mapped[str] = mapped_column(String(10), default="")
    target: Mapped[str] = mapped_column(String(80), default="")  # the seat's channel
    # requested (rung, not yet answered) | started | ended | refused:<reason>
    status: Mapped[str] = mapped_column(String(30), default="requested")
    requested_at: Mapped[datetime | None] = mapped_column(DateTime, index=True)
    started_at: Mapped[datetime | None] = mapped_column(DateTime, index=True)
    ended_at: Mapped[datetime | None] = mapped_column(DateTime)


@dataclass(frozen=True)
class SpyEvent:
    """One audit-relevant event, as the live model reads it."""

    kind: str               # start | end | refused | chanspy_start | chanspy_stop
    at: float               # Asterisk's time of the event
    spyer_uniqueid: str
    supervisor: str = ""
    seat: str = ""
    mode: str = ""
    target: str = ""
    by_user: str = ""
    audit_id: int | None = None
    reason: str = ""


def requested(sessions: sessionmaker[Session], center: str, node: str, supervisor: str,
              by_user: str, seat: str, mode: str, target: str, at: datetime) -> int:
    """The wallboard asked: a row now, whatever the phone does next; its id."""
    with sessions.begin() as s:
        row = SpySession(center=center, node=node, supervisor=supervisor[:20],
                         by_user=by_user[:60], seat=seat[:20], mode=mode[:10],
                         target=target[:80], status="requested", requested_at=at)
        s.add(row)
        s.flush()
        return row.id


def _row(s: Session, center: str, node: str, e: SpyEvent) -> SpySession:
    """The row of this spy: by the supervisor's channel, else the wallboard's row, else new."""
    if e.spyer_uniqueid:
        row = s.scalars(select(SpySession).where(
            SpySession.spyer_uniqueid == e.spyer_uniqueid)).first()
        if row is not None:
            return row
    if e.audit_id is not None:
        row = s.get(SpySession, e.audit_id)
        if row is not None and row.center == center and not row.spyer_uniqueid and \
                (not e.seat or row.seat == e.seat):
            row.spyer_uniqueid = e.spyer_uniqueid
            return row
    row = SpySession(center=center, node=node, spyer_uniqueid=e.spyer_uniqueid,
                     status="requested")
    s.add(row)
    return row


def _fill(row: SpySession, e: SpyEvent) -> None:
    for field_, value, width in (("supervisor", e.supervisor, 20), ("seat", e.seat, 20),
                                 ("mode", e.mode if e.mode in MODES else "", 10),
                                 ("target", e.target, 80), ("by_user", e.by_user, 60)):
        if value and not getattr(row, field_):
            setattr(row, field_, value[:width])


def apply(s: Session, center: str, node: str, events: list[SpyEvent]) -> None:
    for e in events:
        row = _row(s, center, node, e)
        _fill(row, e)
        at = utc(e.at)
        if row.requested_at is None:  # dialled from the phone: asked when first seen
            row.requested_at = at
        if e.kind in ("start", "chanspy_start"):
            if row.started_at is None or (e.kind == "chanspy_start" and at > row.started_at):
                row.started_at = at
            if row.status == "requested":
                row.status = "started"
        elif e.kind in ("end", "chanspy_stop"):
            if row.ended_at is None:
                row.ended_at = at
            if not row.status.startswith("refused"):
                row.status = "ended"
        elif e.kind == "refused":
            row.status = f"refused:{e.reason[:20]}"
            row.ended_at = row.ended_at or at
        s.flush()


def record(sessions: sessionmaker[Session], center: str, node: str,
           events: list[SpyEvent]) -> None:
    """Write a batch of spy events in one transaction, in order."""
    if not events:
        return
    with sessions.begin() as s:
        apply(s, center, node, events)


def recent(s: Session, center: str, since: datetime, limit: int = 500) -> list[SpySession]:
    """The center's spy sessions since `since` (requested or started), newest first."""
    return list(s.scalars(select(SpySession).where(
        SpySession.center == center,
        (SpySession.requested_at >= since) | (SpySession.started_at >= since))
        .order_by(SpySession.id.desc()).limit(limit)))
