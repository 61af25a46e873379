"""Three ways a seat stayed stuck on the wallboard, seen in the shift with faults (issue 13's
soak ended unsettled: `seat 7002 ringing pbx1-hotline-cb-3-1-q`, `seat 7000 ringing
pbx1-1796193540.55`, `seat 7001 wrapup pbx1-1796193020.76`). Unit tests of the model; the
soak (tests/test_soak.py) runs them on the rig, where the 3-second seats hang up during a
callback leg's announcement many times a shift.

- A seat that answers and hangs up during the queue's announcement (AgentDump, queue_log's
  AGENTDUMP; Asterisk sends no AgentRingNoAnswer for it) was left ringing until its next call.
- A seat ringing for a caller who hung up (queue_log RINGCANCELED; no AMI event for the seat)
  was left ringing too.
- A seat whose call ended while it was busy, then unpaused inside the call's wrap-up, went
  back to wrap-up with no timer to end it, and stayed in wrap-up for good.
"""

from __future__ import annotations

from acd.ami.events import Event
from acd.history.queue_log import parse_line
from acd.history.replay import replay
from acd.model import LiveModel
from acd.seats.state import SeatState
from hotline.center import EXAMPLE, load

CENTER = load(EXAMPLE)
T = 1_800_000_000.0
LEG = "pbx1-hotline-cb-3-1-q"


def ev(name: str, at: float, **fields: str) -> Event:
    return Event(name, {"Timestamp": f"{at:.3f}", **fields}, "pbx1")


def ringing(model: LiveModel, seat: str = "8001", uid: str = LEG) -> None:
    model.handle(ev("QueueMemberAdded", T, Queue="manual", MemberName=seat, Paused="0"))
    model.handle(ev("QueueCallerJoin", T + 1, Uniqueid=uid, Queue="manual", Position="1"))
    model.handle(ev("AgentCalled", T + 2, Uniqueid=uid, Queue="manual", MemberName=seat))
    assert model.seats[seat].state is SeatState.RINGING


def test_a_seat_that_hangs_up_during_the_announcement_is_ready_again() -> None:
    model = LiveModel(CENTER)
    ringing(model)
    changes = model.handle(ev("AgentDump", T + 6, Uniqueid=LEG, Queue="manual",
                              MemberName="8001"))
    seat = model.seats["8001"]
    assert (seat.state, seat.uniqueid) == (SeatState.READY, "")
    assert [(t.old, t.new, t.at) for t in changes.seats] == [
        (SeatState.RINGING, SeatState.READY, T + 6)]
    # A dump of another call leaves a seat ringing for this one alone.
    ringing(model, "8002", "pbx1-1800000000.7")
    model.handle(ev("AgentDump", T + 7, Uniqueid=LEG, Queue="manual", MemberName="8002"))
    assert model.seats["8002"].state is SeatState.RINGING


def test_a_seat_ringing_for_a_caller_who_hangs_up_is_ready_again() -> None:
    """The caller gives up while a seat rings (queue_log RINGCANCELED, no AMI event for the
    seat): its Hangup ends the ring, live or when the resync ends the call."""
    model = LiveModel(CENTER)
    uid = "pbx1-1800000000.5"
    ringing(model, "8001", uid)
    changes = model.handle(ev("Hangup", T + 9, Uniqueid=uid))
    assert model.seats["8001"].state is SeatState.READY
    assert [(t.seat, t.new, t.at) for t in changes.seats] == [("8001", SeatState.READY, T + 9)]


def test_a_dump_while_the_engine_was_away_is_replayed_from_queue_log() -> None:
    model = LiveModel(CENTER)
    ringing(model)
    line = parse_line(f"{int(T) + 6}|{LEG}|manual|8001|AGENTDUMP|")
    assert line is not None
    done = replay(model, [line], "pbx1", now=T + 60)
    assert done.applied == 1 and model.seats["8001"].state is SeatState.READY


def test_unpaused_inside_the_wrapup_of_a_call_that_ended_while_busy_ends_it_on_time() -> None:
    model = LiveModel(CENTER)
    uid = "pbx1-1800000000.9"
    model.handle(ev("QueueMemberAdded", T, Queue="manual", MemberName="8001", Paused="0"))
    model.handle(ev("QueueCallerJoin", T + 1, Uniqueid=uid, Queue="manual", Position="1"))
    model.handle(ev("AgentConnect", T + 2, Uniqueid=uid, Queue="manual", MemberName="8001",
                    HoldTime="1"))
    model.handle(ev("QueueMemberPause", T + 3, Queue="manual", MemberName="8001",
                    Paused="1", PausedReason="meal"))  # busy at the end of the call
    done = model.handle(ev("AgentComplete", T + 4, Uniqueid=uid, Queue="manual",
                           MemberName="8001", TalkTime="2", Reason="agent"))
    assert model.seats["8001"].state is SeatState.BUSY and not done.wrapup_timers
    back = model.handle(ev("QueueMemberPause", T + 6, Queue="manual", MemberName="8001",
                           Paused="0"))
    seat = model.seats["8001"]
    wrapup_s = next(q.wrapup_s for q in CENTER.queues if q.name == "manual")
    assert seat.state is SeatState.WRAPUP  # 2 s into a 5 s wrap-up
    assert back.wrapup_timers == [("8001", T + 4 + wrapup_s)]
    model.handle(ev("HotlineWrapupOver", T + 4 + wrapup_s, MemberName="8001"))
    assert seat.state is SeatState.READY
