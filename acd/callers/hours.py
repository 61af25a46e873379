"""Opening hours: is a schedule open at a local time, and when does it open next.

A schedule (the center file's `[schedules.NAME]`) gives opening hours per kind of day; which
kind a day is comes from China's official calendar (acd/orders/workdays.py: a swapped working
Saturday is a workday, a public holiday a holiday). Times are the center's local times.

`Clock` is the one source of "now" for these decisions, so a test or a rehearsal can run the
IVR and the dialer as if it were a holiday (`--clock 2026-10-01T10:00`) while everything else
(timestamps, timers) keeps the real time.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from acd.orders.workdays import day_kind
from hotline.center import Center, Schedule
from hotline.localtime import zone

MAX_DAYS = 40  # a schedule closed longer than this is "no opening in sight"


@dataclass(frozen=True)
class Clock:
    """The center's local time, for hours and days only. `start`: pretend it is this local
    time when the clock is made (it then runs on with the real one)."""

    timezone: str
    start: datetime | None = None
    _made: float = 0.0

    @classmethod
    def real(cls, timezone: str) -> Clock:
        return cls(timezone)

    @classmethod
    def starting_at(cls, timezone: str, start: datetime) -> Clock:
        return cls(timezone, start.replace(tzinfo=None), time.monotonic())

    def now(self) -> datetime:
        """The local time, naive."""
        if self.start is None:
            return datetime.now(zone(self.timezone)).replace(tzinfo=None)
        return self.start + timedelta(seconds=time.monotonic() - self._made)

    def today(self) -> date:
        return self.now().date()


def parse_clock(text: str | None, timezone: str) -> Clock:
    """`--clock YYYY-MM-DDTHH:MM` (a local time of the center), or the real clock."""
    if not text:
        return Clock.real(timezone)
    try:
        start = datetime.fromisoformat(text)
    except ValueError:
        raise ValueError(f"--clock must be a local time like 2026-10-01T10:00, got {text!r}") \
            from None
    if start.tzinfo is not None:
        start = start.astimezone(zone(timezone)).replace(tzinfo=None)
    return Clock.starting_at(timezone, start)


def is_open(schedule: Schedule, at: datetime) -> bool:
    """Whether the schedule is open at the local time `at`."""
    minute = at.hour * 60 + at.minute
    return any(a <= minute < b for a, b in schedule.ranges(day_kind(at.date())))


def next_open(schedule: Schedule, at: datetime) -> datetime | None:
    """The first local time at or after `at` when the schedule is open (None: not within
    MAX_DAYS)."""
    day = at.date()
    for i in range(MAX_DAYS):
        d = day + timedelta(days=i)
        for a, b in schedule.ranges(day_kind(d)):
            start = datetime.combine(d, datetime.min.time()) + timedelta(minutes=a)
            end = datetime.combine(d, datetime.min.time()) + timedelta(minutes=b)
            if end > at:
                return at if start <= at else start
    return None


def queue_open(center: Center, queue: str, clock: Clock) -> bool:
    return is_open(center.hours_of(queue), clock.now())


def seconds_until_open(schedule: Schedule, clock: Clock) -> float | None:
    """0 when open now; else how long until it opens (None: not in sight)."""
    now = clock.now()
    if is_open(schedule, now):
        return 0.0
    nxt = next_open(schedule, now)
    return None if nxt is None else max(0.0, (nxt - now).total_seconds())
