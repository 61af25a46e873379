"""Seats recorded on the real rig (tests/fixtures/ami/), replayed through the engine's
pipeline into a fresh SQLite ledger with no Asterisk: busy with a reason and back, signing in
and out from the command line and from the seat's phone. Expected values are what the
recorder did (tests/fixtures/ami/record.py); each `hotline seat` adds the second or so the
command takes to start to the pause before it."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest

from acd.engine import Engine
from acd.history import db
from acd.seats.state import SeatState
from tests.support.recorded import NODE, load, recording_center, replay


def test_busy_with_a_reason_and_back_to_ready(replayed) -> None:
    r = replayed("busy_reason")
    got = r.intervals("8002")
    assert [(i.state, i.reason) for i in got] == [
        ("ready", ""), ("busy", "meal"), ("ready", ""), ("busy", "training"), ("ready", "")]
    # busy 3 s, ready 1 s, busy 2 s, ready 1 s (each plus the next command's start)
    for interval, slept in zip(got[1:], (3, 1, 2, 1)):
        assert slept <= interval.seconds <= slept + 2, (interval, slept)
    # Asterisk pauses the seat in each of its 7 queues: one busy interval per pause, not 7.
    paused = [e for e in r.recording.events if e["Event"] == "QueueMemberPause"]
    assert len(paused) == 4 * 7
    assert r.engine.model.seats["8002"].state is SeatState.SIGNED_OUT


def test_sign_in_and_out_by_command_and_by_phone(replayed) -> None:
    r = replayed("signin_signout")
    by_command, by_phone = r.intervals("8003"), r.intervals("8004")
    assert [(i.state, i.reason) for i in by_command] == [("ready", "")]
    assert 2 <= by_command[0].seconds <= 4          # out 2 s after in
    assert [(i.state, i.reason) for i in by_phone] == [("ready", "")]
    assert 2 <= by_phone[0].seconds <= 8            # *22 2 s after *21 and its confirmation
    seats = r.engine.model.seats
    assert seats["8003"].state is seats["8004"].state is SeatState.SIGNED_OUT
    assert seats["8003"].queues == seats["8004"].queues == set()
    assert r.intervals("8001") == r.intervals("8002") == []


@pytest.mark.parametrize(("name", "seat", "queues"), [
    ("answered_wrapup", "8001", {"manual", "highway", "urban", "road", "waterway", "complaint",
                                 "suggestion"}),                   # all of 8001's queues
    ("signin_signout", "8003", {"manual", "highway", "complaint"}),  # hotline seat signin
    ("signin_signout", "8004", {"manual", "urban", "road", "waterway", "suggestion"}),  # *21
    ("ring_no_answer", "8002", {"manual"}),                         # QueueAdd over AMI
])
def test_signed_in_to_the_queues_it_was_put_in(replayed, name: str, seat: str,
                                               queues: set[str]) -> None:
    """Replayed up to the seat's first ringing or signing out, the model has the seat ready
    in exactly the queues the recorder signed it in to; at the end, in none."""
    events = load(name).events
    stop = next(i for i, e in enumerate(events) if e.get("MemberName") == seat
                and e["Event"] in ("AgentCalled", "QueueMemberRemoved"))
    signed_in = replayed(name, stop=stop).engine.model.seats[seat]
    assert (signed_in.state, signed_in.queues) == (SeatState.READY, queues)
    at_end = replayed(name).engine.model.seats[seat]
    assert (at_end.state, at_end.queues) == (SeatState.SIGNED_OUT, set())


class _Live:
    """The engine's live store (acd/live/store.py), keeping the last view published of each."""

    stale = False

    def __init__(self) -> None:
        self.views: dict[tuple[str, str], dict[str, Any]] = {}

    async def change(self, kind: str, name: str, data: dict[str, Any]) -> None:
        self.views[(kind, name)] = data


@pytest.mark.parametrize(("name", "seat"), [("signin_signout", "8003"),
                                            ("signin_signout", "8004"),
                                            ("answered_wrapup", "8001")])
def test_the_live_view_of_a_seat_lists_every_queue_it_signed_in_to(tmp_path: Path, name: str,
                                                                     seat: str) -> None:
    """Found by the wait-estimate benchmark (issue 16): signing in to a second queue changes
    no seat state, and only seats whose state changed were published, so the seat's live view
    (Redis: the wallboard, the IVR's wait estimate) named its first queue only until its next
    call, and the estimate for a caller of the other queues left the seat out ("no seat free":
    a caller told 15 s was answered in 1 s). Replayed up to the seat's first ringing or
    signing out, the last view published lists all the queues the model has."""
    events = load(name).events
    stop = next(i for i, e in enumerate(events) if e.get("MemberName") == seat
                and e["Event"] in ("AgentCalled", "QueueMemberRemoved"))
    ledger = db.make_engine(f"sqlite:///{tmp_path / 'ledger.sqlite'}")
    db.create_schema(ledger)
    try:
        engine = Engine(recording_center(), db.session_factory(ledger), {NODE: ""}, None,
                        {NODE: None})
        live = _Live()
        engine.live = live  # type: ignore[assignment]
        asyncio.run(replay(engine, events[:stop]))
        queues = engine.model.seats[seat].queues
        assert len(queues) > 1
        view = live.views[("seat", seat)]
        assert (view["state"], set(view["queues"])) == ("ready", queues)
    finally:
        ledger.dispose()


@pytest.mark.parametrize("name", ["ring_no_answer", "overlapping", "answered_wrapup"])
def test_the_queues_ring_runs_from_the_seat_rung_to_its_answer(replayed, name: str) -> None:
    """The wait estimate's ring (issue 16: a caller whose seat is free still waits for it to
    ring and answer) is today's average, per queue, from the AgentCalled of the seat that
    answered to its AgentConnect; a ring nobody answered (ring_no_answer: 8001 rang 15 s, then
    8002 answered) is no answer's ring. A queue without an answer has none yet."""
    r = replayed(name)
    events = r.recording.events
    called = {(e["MemberName"], e["Uniqueid"]): float(e["Timestamp"]) for e in events
              if e["Event"] == "AgentCalled"}
    rings: dict[str, list[float]] = {}
    for e in events:
        if e["Event"] == "AgentConnect":
            rings.setdefault(e["Queue"], []).append(
                float(e["Timestamp"]) - called[(e["MemberName"], e["Uniqueid"])])
    now = float(events[-1]["Timestamp"])
    assert rings
    for queue, got in rings.items():
        ring = r.engine.model.staffing(queue, now)["ring_s"]
        assert ring == pytest.approx(sum(got) / len(got), abs=0.01) and ring < 2, (queue, got)
    assert r.engine.model.staffing("suggestion", now)["ring_s"] is None
