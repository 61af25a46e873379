"""A day's traffic from the ledger, per queue and local hour, and the staffing plan of a day
to come made from it (acd/live/staffing.py: the counterpart day, Erlang C per hour).

A call counts in the queue it ended in (an overflowed stay is left out, as in
docs/indicators.md); the hour is the hour of the center's day in which it entered the queue.
The handle time is the average talk of the day's answered calls in the queue plus the
queue's wrap-up.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from acd.history.models import QueueCall
from acd.live.staffing import Counterpart, HourPlan, counterpart, hourly_plan
from hotline.center import Center


@dataclass(frozen=True)
class QueueTraffic:
    calls_by_hour: tuple[int, ...]   # 24 counts
    talk_s: float | None             # average talk of answered calls, None if none


@dataclass(frozen=True)
class DayPlan:
    counterpart: Counterpart
    growth: float
    queues: dict[str, list[HourPlan]]
    timezone: str = "Asia/Shanghai"

    def as_dict(self) -> dict[str, object]:
        return {"day": self.counterpart.day.isoformat(),
                "reference": self.counterpart.reference.isoformat(),
                "holiday": self.counterpart.holiday, "label": self.counterpart.label,
                "growth": self.growth, "timezone": self.timezone,
                "queues": {q: [{"hour": h.hour, "calls": h.calls, "handle_s": h.handle_s,
                                "seats": h.seats} for h in hours]
                           for q, hours in self.queues.items()}}


def day_traffic(sessions: sessionmaker[Session], center: Center,
                day: date) -> dict[str, QueueTraffic]:
    start = datetime.combine(day, time(0), center.tz).astimezone(UTC).replace(tzinfo=None)
    with sessions() as s:
        rows = s.execute(select(QueueCall.queue, QueueCall.entered_at, QueueCall.outcome,
                                QueueCall.talk_s)
                         .where(QueueCall.center.in_(center.codes),  # every center's queue
                                QueueCall.entered_at >= start,
                                QueueCall.entered_at < start + timedelta(days=1))).all()
    counts: dict[str, list[int]] = {q.name: [0] * 24 for q in center.queues}
    talk: dict[str, list[float]] = {q.name: [] for q in center.queues}
    for queue, entered, outcome, talk_s in rows:
        if outcome == "overflowed":
            continue
        hour = entered.replace(tzinfo=UTC).astimezone(center.tz).hour
        counts.setdefault(queue, [0] * 24)[hour] += 1
        if talk_s is not None and outcome in ("answered", "transferred"):
            talk.setdefault(queue, []).append(talk_s)
    return {q: QueueTraffic(tuple(counts[q]), sum(talk[q]) / len(talk[q]) if talk.get(q)
                            else None) for q in counts}


def plan_day(sessions: sessionmaker[Session], center: Center, day: date, growth: float = 1.0,
             reference: date | None = None) -> DayPlan:
    """Seats per queue and hour for `day`, from its counterpart of last year (or `reference`)."""
    match = counterpart(day) if reference is None else Counterpart(
        day, reference, "", f"指定参照日 ← {reference.isoformat()}")
    traffic = day_traffic(sessions, center, match.reference)
    wrapup = {q.name: q.wrapup_s for q in center.queues}
    queues = {}
    for name, t in traffic.items():
        handle = None if t.talk_s is None else t.talk_s + wrapup.get(name, 0)
        queues[name] = hourly_plan(t.calls_by_hour, handle, growth)
    return DayPlan(match, growth, queues, center.timezone)
