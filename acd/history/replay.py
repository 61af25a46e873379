"""Replaying queue_log through the live model: what happened while the engine was not listening.

After a restart (or an AMI outage) the engine reads queue_log from where it stopped
(acd/history/queue_log.py::read_from) and turns each line into the AMI event Asterisk sent
for it, with the line's time: ENTERQUEUE is a QueueCallerJoin, CONNECT an AgentConnect,
COMPLETEAGENT/COMPLETECALLER and the transfers an AgentComplete, ABANDON a QueueCallerAbandon,
the exits the queue's result; seat lines (ADDMEMBER, REMOVEMEMBER, PAUSE, UNPAUSE) the member
events, AGENTDUMP (a seat that hung up during the announcement) an AgentDump. The model
applies them as it applies live events, so a call that spans the outage is completed (talk,
wait, seat) and the seats' intervals, wrap-up included, are written as they happened; a
wrap-up whose end falls inside the replay ends there, in time order.

Why this is enough (the rule that replaces "replay from the oldest call still open"): the
engine saves a queue_log position only once it has applied every event up to 2 s after the
moment it measured it, and a call still open at that position is in the ledger as open, so a
restarted engine takes it up from the ledger (`Ledger.resume`) and the lines after the position
finish it. Lines the engine had already applied live are recognized (a stay already answered
or completed, a seat already on that call) and change nothing; seat lines older than the
seat's last known change are skipped. A call that ended a moment ago (its Hangup came, a line
of it did not, as when Asterisk stops) is taken back for its lines.

A ledger that has never followed this node (no saved position) takes the calls of the last
`IMPORT_S` seconds of queue_log, but not the seats' history: its seats start from what Asterisk
says now.
"""

from __future__ import annotations

import heapq
from collections.abc import Iterable
from dataclasses import dataclass, field

from acd.ami.events import Event, MalformedEvent
from acd.history.queue_log import CALL_EVENTS, SEAT_EVENTS, LogLine
from acd.model import Changes, LiveModel
from acd.seats.state import SeatState
from hotline.logs import get_logger

log = get_logger(__name__)

IMPORT_S = 86400

_EXIT = {"EXITWITHTIMEOUT": "TIMEOUT", "EXITEMPTY": "LEAVEEMPTY", "EXITWITHKEY": "EXITWITHKEY"}


def event_of(line: LogLine) -> dict[str, str] | None:
    """The AMI event a queue_log line stands for (None: the line changes nothing here)."""
    base = {"Uniqueid": line.callid, "Queue": line.queue, "Timestamp": str(line.epoch)}
    e = line.event
    if e == "ENTERQUEUE":
        return {"Event": "QueueCallerJoin", **base, "Linkedid": line.callid,
                "CallerIDNum": line.d(2), "Position": line.d(3) or "0"}
    if e == "CONNECT":
        return {"Event": "AgentConnect", **base, "MemberName": line.agent,
                "HoldTime": line.d(1)}
    if e in ("COMPLETEAGENT", "COMPLETECALLER"):
        return {"Event": "AgentComplete", **base, "MemberName": line.agent,
                "HoldTime": line.d(1), "TalkTime": line.d(2),
                "Reason": "agent" if e == "COMPLETEAGENT" else "caller"}
    if e in ("BLINDTRANSFER", "ATTENDEDTRANSFER"):
        return {"Event": "AgentComplete", **base, "MemberName": line.agent,
                "HoldTime": line.d(-3), "TalkTime": line.d(-2), "Reason": "transfer"}
    if e == "ABANDON":
        return {"Event": "QueueCallerAbandon", **base}
    if e in _EXIT:
        return {"Event": "UserEvent", "UserEvent": "HotlineQueueResult", **base,
                "Status": _EXIT[e]}
    if e == "AGENTDUMP":  # the seat hung up during the announcement: not answered
        return {"Event": "AgentDump", **base, "MemberName": line.agent}
    seat = {"Queue": line.queue, "MemberName": line.agent, "Timestamp": str(line.epoch)}
    if e == "ADDMEMBER":
        return {"Event": "QueueMemberAdded", **seat,
                "Paused": "1" if line.d(1) == "PAUSED" else "0"}
    if e == "REMOVEMEMBER":
        return {"Event": "QueueMemberRemoved", **seat}
    if e in ("PAUSE", "UNPAUSE"):
        return {"Event": "QueueMemberPause", **seat, "Paused": "1" if e == "PAUSE" else "0",
                "PausedReason": line.d(1) if e == "PAUSE" else ""}
    return None


@dataclass
class Replayed:
    changes: Changes = field(default_factory=Changes)
    lines: int = 0
    applied: int = 0
    calls: set[str] = field(default_factory=set)


def replay(model: LiveModel, lines: Iterable[LogLine], node: str, now: float,
           seats: bool = True, since: float = 0.0) -> Replayed:
    """Apply queue_log lines (at or after `since`) to the model in order; their changes.
    `seats`: follow the seat lines too (False for a ledger that never followed this node).
    Wrap-ups that end before `now` end in the replay; later ones are left to the engine's
    timers (in `changes.wrapup_timers`)."""
    out = Replayed()
    timers: list[tuple[float, str]] = []

    def expire(until: float) -> None:
        while timers and timers[0][0] <= until:
            due, seat_id = heapq.heappop(timers)
            ev = Event("HotlineWrapupOver", {"MemberName": seat_id, "Timestamp": str(due)}, node)
            out.changes.merge(model.handle(ev))

    model.follow_seats, model.replaying = seats, True
    try:
        for line in lines:
            if line.epoch < since or not (line.event in CALL_EVENTS or
                                          (seats and line.event in SEAT_EVENTS)):
                continue
            out.lines += 1
            raw = event_of(line)
            if raw is None:
                continue
            # A call the model follows is never taken back from the ended ones (nor dropped
            # after its line: it would never be ended).
            closed = None if line.callid in model.calls else model.closed.get(line.callid)
            if line.event in CALL_EVENTS:
                # A call the engine does not know began before the position and was closed
                # long ago, unless this line is its entry into a queue. A call it closed a
                # moment ago is taken back for the line (its guards keep what is known).
                if closed is None and line.callid not in model.calls and \
                        line.event != "ENTERQUEUE":
                    continue
                if closed is not None:
                    model.calls[line.callid] = closed
            expire(line.epoch)
            if line.event in SEAT_EVENTS:
                seat = model.seats.get(line.agent)
                # The seat's state is known up to its last change: older lines are history.
                if seat is not None and seat.state is not SeatState.SIGNED_OUT and \
                        line.epoch < int(seat.since):
                    continue
            try:
                changes = model.handle(Event.parse(raw, node))
            except MalformedEvent as exc:
                log.warning("queue_log line skipped", problem=str(exc), line=line.event)
                continue
            finally:
                if closed is not None:
                    model.calls.pop(line.callid, None)
            out.applied += 1
            if line.event in CALL_EVENTS:
                out.calls.add(line.callid)
            for seat_id, due in changes.wrapup_timers:
                heapq.heappush(timers, (due, seat_id))
            changes.wrapup_timers = []
            out.changes.merge(changes)
        expire(now)
    finally:
        model.follow_seats, model.replaying = True, False
    out.changes.wrapup_timers.extend((seat_id, due) for due, seat_id in timers)
    return out
