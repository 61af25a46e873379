"""The wallboard's trend: today by 15 minutes against the same weekday last week, read from the
ledger.

    GET /web/wallboard/trend[?queue=NAME]

Each quarter hour of the center's day has the calls whose first queue entry falls in it
(the period a call belongs to, as in queue_stats/indicators.py), counted as the indicators
count them (docs/indicators.md): queued, answered (answered or transferred), the manual
connection rate answered / queued, and the average wait from the call's arrival (dialling
12328, the IVR included) to the answer, seed 002 art. 6 (四). Quarter hours of today that have
not begun are null, so the line stops at now. A day holds a few thousand calls at most: they
are read once and put into their quarter hours here, the same on SQLite and PostgreSQL.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from aiohttp import web
from sqlalchemy import select
from sqlalchemy.orm import Session

from acd.errors import NotFound
from acd.history.models import Call
from acd.seats.service import Actor
from acd.web.auth import ACTOR, allow
from acd.web.deps import CENTER, SESSIONS
from hotline.center import Center

STEP_MIN = 15
BUCKETS = 24 * 60 // STEP_MIN
ANSWERED = ("answered", "transferred")
UTC = ZoneInfo("UTC")


def _window(center: Center, day: date) -> tuple[datetime, datetime, datetime]:
    """The local day's start (aware) and the day as naive UTC [since, until)."""
    start = datetime.combine(day, time(), tzinfo=center.tz)
    end = datetime.combine(day + timedelta(days=1), time(), tzinfo=center.tz)
    return (start, start.astimezone(UTC).replace(tzinfo=None),
            end.astimezone(UTC).replace(tzinfo=None))


def day_series(s: Session, center: Center, day: date, queue: str | None = None,
               now: datetime | None = None,
               codes: tuple[str, ...] | None = None) -> dict[str, list[Any]]:
    """Per quarter hour of the local day: queued, answered, rate, average wait (s), of the
    calls of the centers given (default: every center of the deployment)."""
    start, since, until = _window(center, day)
    q = (select(Call.queued_at, Call.outcome, Call.started_at, Call.answered_at, Call.wait_s)
         .where(Call.center.in_(codes or center.codes), Call.queued_at >= since,
                Call.queued_at < until))
    if queue:
        q = q.where(Call.final_queue == queue)
    queued = [0] * BUCKETS
    answered = [0] * BUCKETS
    waits = [0.0] * BUCKETS
    for queued_at, outcome, started, answered_at, wait in s.execute(q):
        local = queued_at.replace(tzinfo=UTC).astimezone(center.tz)
        i = min(BUCKETS - 1, int((local - start).total_seconds() // (STEP_MIN * 60)))
        queued[i] += 1
        if outcome in ANSWERED:
            answered[i] += 1
            waits[i] += (answered_at - started).total_seconds() if answered_at and started \
                else (wait or 0.0)
    # Quarter hours not begun yet (today): no figure at all, not a zero.
    begun = BUCKETS
    if now is not None:
        begun = max(0, min(BUCKETS, int((now - start).total_seconds() // (STEP_MIN * 60)) + 1))
    return {
        "queued": [n if i < begun else None for i, n in enumerate(queued)],
        "answered": [n if i < begun else None for i, n in enumerate(answered)],
        "rate": [round(a / n, 4) if n and i < begun else None
                 for i, (a, n) in enumerate(zip(answered, queued, strict=True))],
        "average_wait_s": [round(w / a, 1) if a and i < begun else None
                           for i, (w, a) in enumerate(zip(waits, answered, strict=True))],
    }


def trend(s: Session, center: Center, queue: str | None = None,
          now: datetime | None = None, codes: tuple[str, ...] | None = None) -> dict[str, Any]:
    now = now or datetime.now(center.tz)
    today = now.date()
    before = today - timedelta(days=7)
    return {
        "timezone": center.timezone, "queue": queue or "", "step_min": STEP_MIN,
        "labels": [f"{i * STEP_MIN // 60:02d}:{i * STEP_MIN % 60:02d}" for i in range(BUCKETS)],
        "today": {"date": today.isoformat(),
                  **day_series(s, center, today, queue, now, codes)},
        "last_week": {"date": before.isoformat(),
                      **day_series(s, center, before, queue, None, codes)},
    }


@allow("supervisor", "admin")
async def wallboard_trend(request: web.Request) -> web.Response:
    """The trend of the actor's center's calls (an admin of the primary: every center's);
    another center's queue is a 404."""
    actor: Actor = request[ACTOR]
    center = request.config_dict[CENTER]
    codes = center.codes if actor.deployment_wide(center) else (actor.home(center),)
    queue = request.query.get("queue", "") or None
    if queue is not None and queue not in {q.name for c in codes for q in center.queues_of(c)}:
        raise NotFound(f"no queue {queue!r} in center {actor.home(center)}")
    with request.config_dict[SESSIONS]() as s:
        return web.json_response(trend(s, center, queue, codes=codes))


ROUTES = [web.get("/web/wallboard/trend", wallboard_trend)]
