"""The seat report: per seat and per day (the center's time zone), signed-in time, busy time
by reason, wrap-up time, calls answered and average handle time, from the ledger's seat
intervals and calls.

- signed-in time: every interval whose state is not `signed_out` (ready, ringing, on a call,
  wrap-up, busy), clipped to the day; an interval still open counts up to `now`.
- busy by reason: `busy` intervals per reason ("" is shown as "-").
- calls answered: calls the seat answered (`answered_at` in the day).
- average handle time: (talk time of those calls + the seat's wrap-up time in the day) /
  calls answered; "no data" with no calls.
- occupancy: time on calls and in wrap-up / time available for calls (ready, ringing, on a
  call, wrap-up; busy is not available); per seat-day, and for a period with `occupancy`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import Engine, or_, select

from acd.history.models import Call, SeatInterval
from queue_stats.indicators import Mean, Ratio


@dataclass
class SeatDay:
    seat: str
    day: str
    signed_in_s: float = 0.0
    busy_s: dict[str, float] = field(default_factory=dict)
    wrapup_s: float = 0.0
    on_call_s: float = 0.0
    ringing_s: float = 0.0
    ready_s: float = 0.0
    answered: int = 0
    talk_s: float = 0.0

    @property
    def average_handle_time_s(self) -> Mean:
        return Mean(self.talk_s + self.wrapup_s, self.answered)

    @property
    def occupancy(self) -> Ratio:
        working = self.on_call_s + self.wrapup_s
        return Ratio(working, working + self.ready_s + self.ringing_s)

    @property
    def busy_total_s(self) -> float:
        return sum(self.busy_s.values())


def _split_by_day(start: datetime, end: datetime, tz: ZoneInfo):  # type: ignore[no-untyped-def]
    """(local day, seconds) pieces of a UTC interval."""
    a = start.replace(tzinfo=UTC).astimezone(tz)
    b = end.replace(tzinfo=UTC).astimezone(tz)
    while a < b:
        midnight = (a + timedelta(days=1)).replace(hour=0, minute=0, second=0, microsecond=0)
        piece_end = min(b, midnight)
        yield f"{a:%Y-%m-%d}", (piece_end - a).total_seconds()
        a = piece_end


def seat_report(engine: Engine, since: datetime, until: datetime, center: str | None = None,
                timezone: str = "Asia/Shanghai", now: datetime | None = None) -> list[SeatDay]:
    """Seat days of [since, until) (UTC), sorted by seat then day."""
    tz = ZoneInfo(timezone)
    now = now or datetime.now(UTC).replace(tzinfo=None)
    days: dict[tuple[str, str], SeatDay] = {}

    def day(seat: str, d: str) -> SeatDay:
        return days.setdefault((seat, d), SeatDay(seat, d))

    q = select(SeatInterval.seat_id, SeatInterval.state, SeatInterval.reason,
               SeatInterval.started_at, SeatInterval.ended_at).where(
        SeatInterval.started_at < until,
        or_(SeatInterval.ended_at.is_(None), SeatInterval.ended_at > since))
    # A call a callback reached is the seat's work through the callback's leg (counted there).
    c = select(Call.seat_id, Call.answered_at, Call.talk_s).where(
        Call.answered_at >= since, Call.answered_at < until, Call.seat_id != "",
        Call.outcome != "callback_answered")
    if center:
        q = q.where(SeatInterval.center == center)
        c = c.where(Call.center == center)
    with engine.connect() as conn:
        for seat, state, reason, start, end in conn.execute(q):
            start, end = max(start, since), min(end or now, until)
            if state == "signed_out" or end <= start:
                continue
            for d, secs in _split_by_day(start, end, tz):
                sd = day(seat, d)
                sd.signed_in_s += secs
                if state == "busy":
                    sd.busy_s[reason or "-"] = sd.busy_s.get(reason or "-", 0.0) + secs
                elif state == "wrapup":
                    sd.wrapup_s += secs
                elif state == "on_call":
                    sd.on_call_s += secs
                elif state == "ringing":
                    sd.ringing_s += secs
                elif state == "ready":
                    sd.ready_s += secs
        for seat, answered_at, talk in conn.execute(c):
            local = answered_at.replace(tzinfo=UTC).astimezone(tz)
            sd = day(seat, f"{local:%Y-%m-%d}")
            sd.answered += 1
            sd.talk_s += talk or 0.0
    return [days[k] for k in sorted(days)]


def occupancy(days: list[SeatDay]) -> Ratio:
    """Occupancy of a set of seat days (e.g. a whole period's `seat_report`)."""
    working = sum(d.on_call_s + d.wrapup_s for d in days)
    return Ratio(working, working + sum(d.ready_s + d.ringing_s for d in days))
