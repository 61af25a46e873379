"""The expected wait of a caller at a position in a queue: the engine's own estimate, from the
seats serving the queue as they are now and the queue's handle time (not app_queue's
holdtime, an average of past waits that knows nothing of who is on a call now).

Each seat signed in to the queue and not busy can start ringing for the next caller at a time
of its own: now when ready; at the end of its wrap-up; after the rest of an average call (and
the wrap-up) when on a call; when ringing, it depends for whom:
- for a caller waiting in this queue: it is ringing already. app_queue rings seats for the
  callers at the head, so the seat takes one of the first callers (the caller being told, or
  one ahead of it) when its ring ends; counting it busy for a ring, a whole call and a wrap-up
  told callers at position 1, whose seat was already ringing, 8 s and more for a wait of one
  ring;
- for a caller no longer waiting in the seat's queue (hung up, or answered elsewhere): now.
  app_queue reports a ring the caller's hang-up cancelled in queue_log only (RINGCANCELED, no
  AMI event), so the engine shows the seat ringing until its next call; such a seat told a
  caller 17 s who was answered in 1 s;
- for a caller still waiting in another queue (or one whose view is unknown): after that ring,
  an average call and the wrap-up.
The caller at position p is answered a ring after the p-th such time, every seat taking the
next caller in turn (a ring and a handle time each). The ring is the queue's own: today's
average from a seat being rung to its answer (the engine's `ring_s`), RING_S before the day's
first. Busy and signed-out seats serve no one: with none serving, there is no estimate (the
caller hears its position only).

It reads what the engine publishes (acd/live/store.py): the queues' views (their waiting
callers; the queue's staffing has today's handle time, average talk + wrap-up, and ring), and
the seats' views.
"""

from __future__ import annotations

import heapq
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from typing import Any

RING_S = 2.0          # a seat's phone rings before it answers (before the day's first answer)
RESIDUAL_SHARE = 0.3  # a call already longer than the average: this share of it still to go
SERVING = ("ready", "ringing", "on_call", "wrapup")


@dataclass(frozen=True)
class Estimate:
    position: int
    expected_s: float | None   # None: no seat serves the queue now
    serving: int               # seats signed in to the queue and not busy
    handle_s: float
    ring_s: float = RING_S


def free_at(seat: Mapping[str, Any], now: float, talk_s: float, wrapup_s: float,
            queue: str = "", waiting: Mapping[str, Collection[str]] | None = None,
            ring_s: float = RING_S) -> float | None:
    """When a seat can start ringing for the next caller of `queue` (epoch seconds; at or
    before now for a seat already ringing for one of them), None when it serves no one.
    `waiting`: the callers waiting in each queue whose view is known (uniqueids)."""
    state = seat.get("state")
    if state == "ready":
        return now
    if state == "wrapup":
        return max(now, float(seat.get("wrapup_until") or now))
    if state == "ringing":
        since = min(now, float(seat.get("since") or now))
        rung_in = str(seat.get("queue") or "")
        rung = (waiting or {}).get(rung_in)
        if rung is not None and rung_in == queue and str(seat.get("uniqueid") or "") in rung:
            return since  # ringing for one of the first callers here
        if rung is not None and str(seat.get("uniqueid") or "") not in rung:
            return now    # its caller has gone: the ring is over
        return max(now, since + ring_s) + talk_s + wrapup_s
    if state == "on_call":
        elapsed = max(0.0, now - float(seat.get("since") or now))
        left = talk_s - elapsed if elapsed < talk_s * (1 - RESIDUAL_SHARE) \
            else talk_s * RESIDUAL_SHARE
        return now + left + wrapup_s
    return None


def expected_wait(position: int, releases: list[float], now: float,
                  handle_s: float, ring_s: float = RING_S) -> float | None:
    """Seconds until the caller at `position` (1 = next) is answered, seats starting to ring
    at `releases` and then a ring and a handle time later each."""
    if position < 1 or not releases:
        return None
    heap = list(releases)
    heapq.heapify(heap)
    for k in range(1, position + 1):
        t = heapq.heappop(heap)
        if k == position:
            return round(max(0.0, t + ring_s - now), 1)
        heapq.heappush(heap, max(t + ring_s, now) + handle_s)
    return None  # not reached


def waiting_callers(views: Mapping[str, Mapping[str, Any] | None]) -> dict[str, set[str]]:
    """Queue -> the uniqueids waiting in it, for each queue whose view is known."""
    return {name: {str(w.get("uniqueid")) for w in (v.get("waiting") or ())}
            for name, v in views.items() if v is not None}


def estimate(queue: str, position: int, views: Mapping[str, Mapping[str, Any] | None],
             seats: Mapping[str, Mapping[str, Any]], now: float, wrapup_s: float,
             default_handle_s: float) -> Estimate:
    """The estimate for the caller at `position` of `queue`, from the engine's views of the
    queues (`views`: queue name -> view) and of the seats."""
    staffing = (views.get(queue) or {}).get("staffing") or {}
    handle = staffing.get("handle_s")
    handle_s = float(handle) if handle else float(default_handle_s) + wrapup_s
    talk_s = max(1.0, handle_s - wrapup_s)
    ring = staffing.get("ring_s")
    ring_s = float(ring) if isinstance(ring, (int, float)) and ring >= 0 else RING_S
    waiting = waiting_callers(views)
    releases = [t for seat in seats.values() if queue in (seat.get("queues") or ())
                and (t := free_at(seat, now, talk_s, wrapup_s, queue, waiting, ring_s))
                is not None]
    return Estimate(position, expected_wait(position, releases, now, handle_s, ring_s),
                    len(releases), handle_s, ring_s)


def spoken(e: Estimate) -> str:
    """The announcement, in Mandarin."""
    ahead = e.position - 1
    text = "您是下一位。" if ahead == 0 else f"您前面还有{ahead}位来电者。"
    if e.expected_s is None:
        return text + "目前暂无空闲座席，请耐心等待。"
    if e.expected_s < 60:
        return text + "预计等待不到一分钟。"
    minutes = int(e.expected_s // 60 + (1 if e.expected_s % 60 >= 30 else 0))
    return text + f"预计等待约{minutes}分钟。"
