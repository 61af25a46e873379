"""The engine's expected wait (acd/callers/estimate.py): unit tests on the live views the IVR
reads from Redis. The estimate heard by real callers is measured against their real wait on
the rig by bench/wait_estimate.py (BENCHMARKS.md)."""

from __future__ import annotations

from typing import Any

from acd.callers import estimate

NOW = 1_800_000_000.0
WRAPUP = 5.0
TALK = 10.0   # today's average talk in the views below: handle = talk + wrap-up


def view(*waiting: str) -> dict[str, Any]:
    return {"waiting": [{"uniqueid": u, "since": NOW - 5 + i} for i, u in enumerate(waiting)],
            "staffing": {"handle_s": TALK + WRAPUP}}


def seat(state: str, queue: str = "", uniqueid: str = "", since: float = NOW,
         wrapup_until: float = 0.0, queues: tuple[str, ...] = ("highway", "road")
         ) -> dict[str, Any]:
    return {"state": state, "queue": queue, "uniqueid": uniqueid, "since": since,
            "wrapup_until": wrapup_until, "queues": list(queues)}


def wait(position: int, views: dict[str, Any], seats: dict[str, Any]) -> float | None:
    return estimate.estimate("highway", position, views, seats, NOW, WRAPUP, 180).expected_s


def test_a_seat_already_ringing_for_the_caller_or_one_ahead_serves_the_queue_now() -> None:
    """Found in the benchmark's shifts (BENCHMARKS.md, issue 16): a caller at position 1 told
    8 s while the seat app_queue was already ringing for it answered in a second. A seat
    ringing for a caller waiting in this queue takes one of the first callers now; it is not
    busy for a ring, a whole call and a wrap-up before it serves anyone here."""
    views = {"highway": view("me"), "road": view()}
    seats = {"8001": seat("ringing", "highway", "me", since=NOW - 0.5),
             "8002": seat("on_call", "highway", "other", since=NOW - 1)}
    assert wait(1, views, seats) == estimate.RING_S - 0.5   # the rest of the ring
    # Behind the caller being rung: the next seat to free (8003's wrap-up, over in 3 s) is
    # ours, not the ringing one's.
    views = {"highway": view("head", "me"), "road": view()}
    seats = {"8001": seat("ringing", "highway", "head"),
             "8002": seat("on_call", "highway", "other", since=NOW - 1),
             "8003": seat("wrapup", "highway", wrapup_until=NOW + 3)}
    assert wait(2, views, seats) == 3 + estimate.RING_S


def test_a_seat_ringing_for_a_caller_who_has_gone_is_free() -> None:
    """Found in the same shifts (a caller told 17 s answered in 1 s): a caller who hangs up
    while a seat rings for it leaves the seat shown ringing until its next call (app_queue
    reports the cancelled ring in queue_log only, RINGCANCELED, with no AMI event). A ring for
    a caller no longer waiting in its queue is a ring that ends now."""
    views = {"highway": view("me"), "road": view()}          # the road caller has gone
    seats = {"8001": seat("ringing", "road", "gone-caller", since=NOW - 1),
             "8002": seat("on_call", "highway", "other", since=NOW - 1)}
    assert wait(1, views, seats) == estimate.RING_S   # rung for this caller next


def test_a_seat_ringing_for_another_queue_or_on_a_call_serves_later() -> None:
    """A ring for a caller still waiting in another queue: that call first (ring, talk,
    wrap-up). A queue whose view is unknown is taken to have its caller still there."""
    busy_for = estimate.RING_S + TALK + WRAPUP
    views = {"highway": view("me"), "road": view("road-caller")}
    seats = {"8001": seat("ringing", "road", "road-caller")}
    assert wait(1, views, seats) == busy_for + estimate.RING_S
    assert wait(1, {"highway": view("me")}, seats) == busy_for + estimate.RING_S
    # On a call for 4 s of an average 10: 6 s of talk and the wrap-up still to go.
    seats = {"8001": seat("on_call", "highway", "x", since=NOW - 4)}
    assert wait(1, views, seats) == 6 + WRAPUP + estimate.RING_S
    # Busy and signed out serve no one: no estimate.
    seats = {"8001": seat("busy"), "8002": seat("signed_out", queues=())}
    assert wait(1, views, seats) is None


def test_positions_take_the_releases_in_turn() -> None:
    """Two seats: one ready, one in wrap-up for 3 s. Positions 1 and 2 take them, each a ring
    later (a seat free now still rings before it answers); position 3 waits for the first to
    serve a whole call (ring, talk, wrap-up) and be rung again."""
    views = {"highway": view("a", "b", "me"), "road": view()}
    seats = {"8001": seat("ready"), "8002": seat("wrapup", wrapup_until=NOW + 3)}
    assert [wait(p, views, seats) for p in (1, 2, 3)] == [
        estimate.RING_S, 3 + estimate.RING_S, TALK + WRAPUP + 2 * estimate.RING_S]


def test_the_ring_is_the_queues_own() -> None:
    """The ring is today's average from a seat being rung to its answer, as the engine
    publishes it (`staffing.ring_s`); before the day's first answer, RING_S."""
    views = {"highway": {**view("a", "me"), "staffing": {"handle_s": TALK + WRAPUP,
                                                         "ring_s": 0.5}}}
    seats = {"8001": seat("ready")}
    assert [wait(p, views, seats) for p in (1, 2)] == [0.5, 0.5 + TALK + WRAPUP + 0.5]
    views["highway"]["staffing"]["ring_s"] = None
    assert wait(1, views, seats) == estimate.RING_S
