"""The seat state machine (acd/seats/state.py) on its own: every state against every event, as
one table of (state, event, next state or UnexpectedEvent), read from the diagram in the
module's docstring:

    signed_out --added--> ready | busy(paused)
    ready --called--> ringing --connected--> on_call --completed--> wrapup --wrapup_over--> ready
    ringing --not_answered--> ready
    ready | wrapup --paused--> busy --unpaused--> ready (or wrapup, if it is not over)
    any --removed from its last queue--> signed_out

Where the diagram is silent, the row says why its answer is the right one for a seat."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from acd.seats.state import SeatMachine, SeatState, UnexpectedEvent

SO, READY, RINGING, ON_CALL, WRAPUP, BUSY = (SeatState.SIGNED_OUT, SeatState.READY,
                                              SeatState.RINGING, SeatState.ON_CALL,
                                              SeatState.WRAPUP, SeatState.BUSY)
T = 1_000.0      # when the seat's last call ended, for the states that had one
WRAPUP_S = 5     # the queue's wrap-up
LATER = T + 2    # inside that wrap-up
OVER = T + 10    # after it

# An event: what it does to a machine. The model (acd/model.py) sets the returned state.
Step = Callable[[SeatMachine], SeatState]
EVENTS: dict[str, Step] = {
    "added": lambda s: s.added("highway", False, ""),
    "added_paused": lambda s: s.added("highway", True, "meal"),
    "removed_last": lambda s: s.removed("manual"),
    "paused": lambda s: s.pause("meal"),
    "unpaused": lambda s: s.unpause(LATER),
    "unpaused_after": lambda s: s.unpause(OVER),
    "called": lambda s: s.called("manual", "pbx1-2.2"),
    "not_answered": lambda s: s.not_answered(LATER),
    "connected": lambda s: s.connected("manual", "pbx1-2.2"),
    "completed": lambda s: s.completed(T, WRAPUP_S),
    "completed_no_wrapup": lambda s: s.completed(T, 0),
    "wrapup_over": lambda s: s.wrapup_over(T + WRAPUP_S),
}


def step(seat: SeatMachine, event: str) -> SeatMachine:
    seat.state = EVENTS[event](seat)
    return seat


# Each starting state is reached from a new seat by events, as a seat reaches it live (seats
# sign in to one queue, manual).
PATHS: dict[str, list[str]] = {
    "signed_out": [],
    "ready": ["signin"],
    "ringing": ["signin", "called"],
    "on_call": ["signin", "called", "connected"],
    "wrapup": ["signin", "called", "connected", "completed"],
    "busy": ["signin", "paused"],
    "busy_in_wrapup": ["signin", "called", "connected", "completed", "paused"],
    "ringing_paused": ["signin", "called", "paused"],
    "on_call_paused": ["signin", "called", "connected", "paused"],
}
REACHED = {"signed_out": SO, "ready": READY, "ringing": RINGING, "on_call": ON_CALL,
           "wrapup": WRAPUP, "busy": BUSY, "busy_in_wrapup": BUSY, "ringing_paused": RINGING,
           "on_call_paused": ON_CALL}


def seat_in(start: str) -> SeatMachine:
    seat = SeatMachine("8001")
    for event in PATHS[start]:
        if event == "signin":
            seat.state = seat.added("manual", False, "")
        else:
            step(seat, event)
    assert seat.state is REACHED[start], (start, seat.state)
    return seat


X = UnexpectedEvent
TABLE: list[tuple[str, str, SeatState | type[UnexpectedEvent]]] = [
    # signed out: only signing in makes sense; removing is harmless (already out)
    ("signed_out", "added", READY),
    ("signed_out", "added_paused", BUSY),
    ("signed_out", "removed_last", SO),
    ("signed_out", "paused", X),
    ("signed_out", "unpaused", X),
    ("signed_out", "called", X),
    ("signed_out", "not_answered", X),
    ("signed_out", "connected", X),
    ("signed_out", "completed", X),
    ("signed_out", "wrapup_over", SO),          # a stale timer: ignored
    # ready
    ("ready", "added", READY),                   # one more queue
    ("ready", "removed_last", SO),
    ("ready", "paused", BUSY),
    ("ready", "unpaused", READY),
    ("ready", "called", RINGING),
    ("ready", "not_answered", X),
    ("ready", "connected", ON_CALL),             # the answer is the truth, seen or not rung
    ("ready", "completed", X),
    ("ready", "wrapup_over", READY),
    # ringing
    ("ringing", "added", RINGING),
    ("ringing", "removed_last", SO),
    ("ringing", "paused", RINGING),              # takes effect when the ringing ends
    ("ringing", "unpaused", RINGING),
    ("ringing", "called", RINGING),              # rung again (another queue, a retry)
    ("ringing", "not_answered", READY),
    ("ringing", "connected", ON_CALL),
    ("ringing", "completed", X),
    ("ringing", "wrapup_over", RINGING),
    # on a call
    ("on_call", "added", ON_CALL),
    ("on_call", "removed_last", SO),
    ("on_call", "paused", ON_CALL),              # takes effect when the call ends
    ("on_call", "unpaused", ON_CALL),
    ("on_call", "called", X),                    # ringinuse = no: never offered a second call
    ("on_call", "not_answered", X),
    ("on_call", "connected", X),
    ("on_call", "completed", WRAPUP),
    ("on_call", "completed_no_wrapup", READY),
    ("on_call", "wrapup_over", ON_CALL),
    # wrap-up
    ("wrapup", "added", WRAPUP),
    ("wrapup", "removed_last", SO),
    ("wrapup", "paused", BUSY),
    ("wrapup", "unpaused", WRAPUP),
    ("wrapup", "called", RINGING),               # wrap-up is per queue: another may ring it
    ("wrapup", "not_answered", X),
    ("wrapup", "connected", ON_CALL),
    ("wrapup", "completed", X),
    ("wrapup", "wrapup_over", READY),
    # busy
    ("busy", "added", BUSY),
    ("busy", "removed_last", SO),
    ("busy", "paused", BUSY),                    # another reason: still busy
    ("busy", "unpaused", READY),
    ("busy", "called", X),                       # a paused member is not rung
    ("busy", "not_answered", X),
    ("busy", "connected", ON_CALL),              # the answer is the truth
    ("busy", "completed", X),
    ("busy", "wrapup_over", BUSY),
    # busy during a wrap-up: back to the wrap-up while it lasts, to ready after it
    ("busy_in_wrapup", "unpaused", WRAPUP),
    ("busy_in_wrapup", "unpaused_after", READY),
    ("busy_in_wrapup", "wrapup_over", BUSY),     # the timer of a wrap-up cut short by busy
    # paused while ringing or talking: busy as soon as that ends
    ("ringing_paused", "not_answered", BUSY),
    ("on_call_paused", "completed", BUSY),
]


@pytest.mark.parametrize(("start", "event", "expected"), TABLE,
                         ids=[f"{s}-{e}" for s, e, _ in TABLE])
def test_transition(start: str, event: str,
                    expected: SeatState | type[UnexpectedEvent]) -> None:
    seat = seat_in(start)
    if expected is UnexpectedEvent:
        before = seat.state
        with pytest.raises(UnexpectedEvent):
            EVENTS[event](seat)
        assert seat.state is before
    else:
        assert EVENTS[event](seat) is expected


def test_the_table_has_every_state_against_every_event() -> None:
    plain = {"added", "removed_last", "paused", "unpaused", "called", "not_answered",
             "connected", "completed", "wrapup_over"}
    covered = {(start, event) for start, event, _ in TABLE}
    for state in SeatState:
        missing = {e for e in plain if (state.value, e) not in covered}
        assert not missing, (state.value, missing)


def test_a_seat_through_a_shift_keeps_what_the_wallboard_shows() -> None:
    seat = SeatMachine("8001")
    assert step(seat, "added").state is READY and seat.queues == {"highway"}
    seat.state = seat.added("manual", False, "")
    assert seat.queues == {"highway", "manual"}
    step(seat, "called")
    assert (seat.queue, seat.uniqueid) == ("manual", "pbx1-2.2")
    step(seat, "connected")
    assert seat.calls_today == 1
    step(seat, "completed")
    assert seat.state is WRAPUP and seat.wrapup_until == T + WRAPUP_S
    step(seat, "wrapup_over")
    assert seat.state is READY and (seat.queue, seat.uniqueid) == ("", "")
    assert seat.pause("") is BUSY and seat.reason == "other"  # a pause with no reason given
    seat.state = BUSY
    assert seat.unpause(OVER) is READY and (seat.paused, seat.reason) == (False, "")
    seat.state = READY
    # Removed from one of two queues: still signed in; from the last: out, pause forgotten.
    assert seat.removed("highway") is READY and seat.queues == {"manual"}
    seat.pause("meal")
    assert seat.removed("manual") is SO and (seat.paused, seat.reason) == (False, "")


def test_signing_in_paused_keeps_the_reason() -> None:
    seat = SeatMachine("8003")
    assert seat.added("complaint", True, "training") is BUSY
    assert (seat.paused, seat.reason) == (True, "training")
