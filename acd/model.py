"""The live model of one center: calls, queues and seats, driven by AMI events.

`LiveModel.handle(event)` applies one event and returns what changed (`Changes`): the calls to
write to the ledger, the seat transitions to record, the queues whose live view moved. It
does no I/O; the engine applies the changes (ledger, Redis) in the same order.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field

from acd.ami.events import Event, MalformedEvent
from acd.calls.state import CALLBACKS, CallState, QueueOutcome, Stay
from acd.history.spy import REFUSALS, SpyEvent
from acd.live.staffing import seats_needed
from acd.seats.state import SeatMachine, SeatState, UnexpectedEvent
from hotline.center import Center
from hotline.logs import get_logger, mask_number

log = get_logger(__name__)


@dataclass
class SeatTransition:
    seat: str
    old: SeatState
    new: SeatState
    at: float
    reason: str = ""
    queue: str = ""
    uniqueid: str = ""


@dataclass
class Changes:
    calls: list[CallState] = field(default_factory=list)
    seats: list[SeatTransition] = field(default_factory=list)
    queues: set[str] = field(default_factory=set)
    wrapup_timers: list[tuple[str, float]] = field(default_factory=list)  # (seat, due at)
    cursor: float | None = None  # replay queue_log from here after a restart
    spies: list[SpyEvent] = field(default_factory=list)  # the listening audit (acd/history/spy.py)
    # Seats whose view changed without a change of state (another queue signed in to, a
    # pause reason while on a call, ...): published like those that changed state.
    seat_views: set[str] = field(default_factory=set)

    def __bool__(self) -> bool:
        return bool(self.calls or self.seats or self.queues or self.wrapup_timers
                    or self.spies or self.seat_views)

    def merge(self, other: Changes) -> None:
        """Add another event's changes after these (calls are written in their last state)."""
        self.calls.extend(other.calls)
        self.seats.extend(other.seats)
        self.queues |= other.queues
        self.wrapup_timers.extend(other.wrapup_timers)
        self.spies.extend(other.spies)
        self.seat_views |= other.seat_views
        if other.cursor is not None:
            self.cursor = other.cursor


@dataclass
class QueueToday:
    offered: int = 0
    answered: int = 0
    abandoned: int = 0
    answered_within_sl: int = 0
    wait_sum: float = 0.0
    # From the call's arrival (dialling 12328, the IVR included) to the answer: the average
    # wait the province scores (seed 002 art. 6 (四), docs/indicators.md), for the wallboard.
    arrival_wait_sum: float = 0.0
    talk_sum: float = 0.0
    talked: int = 0
    # From a seat being rung for a caller of the queue to its answer (the wait estimate's ring)
    ring_sum: float = 0.0
    rung: int = 0
    entries: deque[float] = field(default_factory=deque)  # queue entries of the last hour

    def entered(self, at: float) -> None:
        self.offered += 1
        self.entries.append(at)

    def last_hour(self, now: float) -> int:
        while self.entries and self.entries[0] < now - 3600:
            self.entries.popleft()
        return len(self.entries)


CLOSED_KEEP_S = 300.0


class LiveModel:
    def __init__(self, center: Center,
                 load_call: Callable[[str], CallState | None] = lambda _: None) -> None:
        self.center = center
        self.calls: dict[str, CallState] = {}
        self.seats: dict[str, SeatMachine] = {s.id: SeatMachine(s.id) for s in center.seats}
        self.today: dict[str, QueueToday] = {q.name: QueueToday() for q in center.queues}
        self._load_call = load_call
        self._wrapup = {q.name: q.wrapup_s for q in center.queues}
        self._called: dict[str, CallState] = {}  # calls called back lately (ended)
        self._sl = {q.name: q.service_level_s for q in center.queues}
        # Calls that ended in the last CLOSED_KEEP_S seconds, as they ended: a replay of
        # queue_log may still complete them (a line whose AMI event was lost, e.g. when
        # Asterisk stops), and their guards keep what is known live.
        self.closed: dict[str, CallState] = {}
        # While queue_log is replayed (acd/history/replay.py): lines older than a seat's last
        # known change leave it alone, and with follow_seats False (a ledger that never
        # followed the seats) call events change the calls only.
        self.replaying = False
        self.follow_seats = True

    # --- dispatch ------------------------------------------------------------------------------

    def handle(self, event: Event) -> Changes:
        changes = Changes()
        handler = getattr(self, f"on_{event.name}", None)
        if event.name == "UserEvent":
            handler = getattr(self, f"on_user_{event.get('UserEvent')}", None)
        if handler is None:
            return changes  # an event the model does not follow
        handler(event, changes)
        return changes

    # --- calls ---------------------------------------------------------------------------------

    def _call(self, event: Event, create: bool = True) -> CallState | None:
        uid = event.uniqueid
        call = self.calls.get(uid)
        if call is None and uid in self.closed:
            # Ended lately: a late event (a Local leg's AgentComplete after its Hangup, a
            # queue_log line replayed) completes it as it ended; it is not in progress again.
            return self.closed[uid]
        if call is None:
            call = self._load_call(uid)
            if call is None and create:
                call = CallState(uniqueid=uid, linkedid=event.get("Linkedid", uid),
                                 caller=event.get("CallerIDNum"), started=event.timestamp)
            if call is not None:
                self.calls[uid] = call
        return call

    def on_Newchannel(self, event: Event, changes: Changes) -> None:
        if event.get("Context") != "hotline-inbound":
            return  # seats' channels, local channels: not calls into the center
        if event.get("Linkedid", event.uniqueid) != event.uniqueid:
            return  # a leg the call dialled (a hand-off to 12306 ...): part of its call
        call = self._call(event)
        assert call is not None
        call.caller = event.get("CallerIDNum")
        name = event.get("CallerIDName")
        call.caller_name = "" if name in ("", "<unknown>", call.caller) else name[:80]
        call.dialed = event.get("Exten")
        call.started = event.timestamp
        changes.calls.append(call)

    def on_user_HotlineIvr(self, event: Event, changes: Changes) -> None:
        call = self._call(event)
        assert call is not None
        call.ivr_path = event.get("Path")[:200]
        seconds = event.get("Seconds")
        call.ivr_seconds = float(seconds) if seconds.lstrip("-").isdigit() else None
        call.ivr_result = event.get("Status")[:40]
        call.handoff_to = event.get("Handoff")[:20]
        call.heard_broadcast = event.get("Broadcast") == "1"
        changes.calls.append(call)

    def on_user_HotlineQueue(self, event: Event, changes: Changes) -> None:
        call = self._call(event)
        assert call is not None
        if event.get("Recording"):
            call.recording = event.get("Recording")[:300]
            changes.calls.append(call)

    def on_user_HotlineSurvey(self, event: Event, changes: Changes) -> None:
        """The caller's answer, credited to the call. A survey never makes a call: an event
        for a channel that is no call into the center (a seat's own channel, a forged id) is
        dropped, so no rated call reaches the figures or the upload."""
        call = self._call(event, create=False)
        if call is None:
            log.warning("survey for no known call dropped", uniqueid=event.uniqueid,
                        seat=event.get("Seat"))
            return
        score = event.get("Score")
        call.survey_score = int(score) if score in ("1", "2", "3", "4") else None
        call.survey_at = event.timestamp
        changes.calls.append(call)

    # --- callers who do not wait (issue 16; the dialplan's contract: extensions_hotline.conf) ---

    def on_user_HotlineMessage(self, event: Event, changes: Changes) -> None:
        """A message (留言) recorded out of hours or with no seat: the call keeps its recording;
        with no seat signed in, the call's IVR result says so (it never queued)."""
        call = self._call(event)
        assert call is not None
        if event.get("Recording"):
            call.recording = event.get("Recording")[:300]
        if event.get("Reason") == "no_seat":
            call.ivr_result = "no_seat"
        changes.calls.append(call)

    def on_user_HotlineCallback(self, event: Event, changes: Changes) -> None:
        """The caller pressed 1 in the queue: it keeps its place and will be called back. Its
        stay is neither abandoned nor timed out (docs/indicators.md)."""
        call = self._call(event)
        assert call is not None
        stay = self._stay(event, call)
        if stay is None or stay.outcome not in (QueueOutcome.WAITING, QueueOutcome.EXIT_KEY,
                                                QueueOutcome.TIMEOUT):
            return
        stay.outcome = QueueOutcome.CALLBACK
        stay.left = stay.left or event.timestamp
        call.hangup_by = "caller"
        changes.calls.append(call)
        changes.queues.add(stay.queue)

    def on_user_HotlineCallbackLeg(self, event: Event, changes: Changes) -> None:
        """The Local channel that holds a callback's place in the queue: a leg of the call it
        calls back, not a call into the center."""
        call = self._call(event)
        assert call is not None
        call.callback_of = event.get("Call")[:64]
        call.caller = call.caller or event.get("CallerIDNum")
        changes.calls.append(call)

    def _called_back(self, event: Event) -> tuple[CallState, Stay] | None:
        """The original call and its callback stay, for a callback's events (they come from
        the leg's channels and name the call in `Call`)."""
        uid, queue = event.get("Call"), event.get("Queue")
        if not uid:
            return None
        call = self.calls.get(uid) or self._called.get(uid) or self.closed.get(uid) or \
            self._load_call(uid)
        if call is not None and uid not in self.calls:
            # Ended long ago: kept a while (its next event may come before this one is
            # written), never among the calls in progress.
            self.keep_called(call)
        stay = call.stays.get(queue) if call is not None else None
        if call is None or stay is None or stay.outcome not in CALLBACKS:
            log.warning("callback event for an unknown call", ami_event=event.get("UserEvent"),
                        call=uid, queue=queue)
            return None
        return call, stay

    def keep_called(self, call: CallState) -> None:
        """Keep an ended call whose callback is still to come (the engine has no ledger read
        in its event loop: the call is kept here until its callback's events came)."""
        self._called[call.uniqueid] = call
        while len(self._called) > 200:
            self._called.pop(next(iter(self._called)))

    def on_user_HotlineCallbackReached(self, event: Event, changes: Changes) -> None:
        """The callback reached the caller, a seat on the line: the call counts as answered
        from now (its wait ran from dialling 12328 to this moment)."""
        found = self._called_back(event)
        if found is None:
            return
        call, stay = found
        if stay.outcome is QueueOutcome.CALLBACK_ANSWERED:
            return
        leg = self.calls.get(event.get("Leg"))
        leg_stay = leg.answered_stay if leg is not None else None
        stay.outcome, stay.answered = QueueOutcome.CALLBACK_ANSWERED, event.timestamp
        stay.seat = (leg_stay.seat if leg_stay is not None else "") or event.get("Seat")[:20]
        today = self._today(stay.queue)
        today.answered += 1
        wait = stay.service_wait_s or 0.0
        today.wait_sum += wait
        today.arrival_wait_sum += max(0.0, event.timestamp - call.started) \
            if call.started else wait
        if wait <= self._sl.get(stay.queue, 10):
            today.answered_within_sl += 1
        changes.calls.append(call)
        changes.queues.add(stay.queue)

    def _leg_hung_up(self, leg: CallState, at: float, changes: Changes) -> None:
        """A callback's leg ended: the conversation with the caller it reached ended too (the
        talk time, when the dialplan could not report it: the seat hung up first)."""
        stay = leg.current
        if stay is None:
            return
        found = self._called_back(Event("UserEvent", {"UserEvent": "HotlineCallbackLeg",
                                                      "Call": leg.callback_of,
                                                      "Queue": stay.queue}, ""))
        if found is None:
            return
        call, original = found
        if original.outcome is QueueOutcome.CALLBACK_ANSWERED and original.talk_s is None \
                and original.answered is not None:
            original.talk_s = round(max(0.0, at - original.answered), 3)
            original.ended = at
            changes.calls.append(call)

    def on_user_HotlineCallbackResult(self, event: Event, changes: Changes) -> None:
        """The callback's conversation ended (or the caller was not reached): its talk time."""
        found = self._called_back(event)
        if found is None:
            return
        call, stay = found
        talk = event.get("Talk")
        if stay.outcome is QueueOutcome.CALLBACK_ANSWERED and talk.isdigit():
            stay.talk_s, stay.ended = float(talk), event.timestamp
            changes.calls.append(call)

    # --- listening (ChanSpy): the audit trail -------------------------------------------------

    def on_user_HotlineSpy(self, event: Event, changes: Changes) -> None:
        status = event.get("Status")
        kind = "refused" if status in REFUSALS else status
        if kind not in ("start", "end", "refused"):
            return
        audit = event.get("Audit")
        changes.spies.append(SpyEvent(
            kind=kind, at=event.timestamp, spyer_uniqueid=event.uniqueid,
            supervisor=event.get("Supervisor"), seat=event.get("Seat"), mode=event.get("Mode"),
            target=event.get("Target"), by_user=event.get("By"),
            audit_id=int(audit) if audit.isdigit() and len(audit) < 12 else None,
            reason=status))

    def on_ChanSpyStart(self, event: Event, changes: Changes) -> None:
        changes.spies.append(SpyEvent(kind="chanspy_start", at=event.timestamp,
                                      spyer_uniqueid=event.require("SpyerUniqueid"),
                                      target=event.get("SpyeeChannel")))

    def on_ChanSpyStop(self, event: Event, changes: Changes) -> None:
        changes.spies.append(SpyEvent(kind="chanspy_stop", at=event.timestamp,
                                      spyer_uniqueid=event.require("SpyerUniqueid")))

    def on_QueueCallerJoin(self, event: Event, changes: Changes) -> None:
        call = self._call(event)
        assert call is not None
        queue = event.require("Queue")
        if not call.caller:
            call.caller = event.get("CallerIDNum")
        for stay in call.stays.values():
            left_unanswered = stay.outcome is QueueOutcome.WAITING and stay.left is not None
            if stay.queue != queue and (left_unanswered or stay.outcome is QueueOutcome.TIMEOUT):
                stay.outcome = QueueOutcome.OVERFLOWED
                # The call now counts in the queue it overflowed to (as in the indicators,
                # where a call belongs to its last queue).
                self._today(stay.queue).offered -= 1
                changes.queues.add(stay.queue)
        if queue not in call.stays:
            call.stays[queue] = Stay(queue=queue, entered=event.timestamp,
                                     position=event.integer("Position"))
            if not call.callback_of:  # a callback's leg is its call's, counted there
                self._today(queue).entered(event.timestamp)
        changes.calls.append(call)
        changes.queues.add(queue)

    def _stay(self, event: Event, call: CallState) -> Stay | None:
        queue = event.get("Queue")
        stay = call.stays.get(queue)
        if stay is None:
            log.warning("event for a stay the engine never saw", ami_event=event.name,
                        uniqueid=call.uniqueid, queue=queue)
        return stay

    def on_QueueCallerAbandon(self, event: Event, changes: Changes) -> None:
        call = self._call(event)
        assert call is not None
        stay = self._stay(event, call)
        if stay is None or stay.outcome is not QueueOutcome.WAITING:
            return
        stay.outcome, stay.left = QueueOutcome.ABANDONED, event.timestamp
        call.hangup_by = "caller"
        today = self._today(stay.queue)
        today.abandoned += 1
        changes.calls.append(call)
        changes.queues.add(stay.queue)

    def on_user_HotlineQueueResult(self, event: Event, changes: Changes) -> None:
        """Queue() returned and the caller is still there: it did not abandon."""
        status = event.get("Status")
        outcome = {"TIMEOUT": QueueOutcome.TIMEOUT, "LEAVEEMPTY": QueueOutcome.EXIT_EMPTY,
                   "JOINEMPTY": QueueOutcome.EXIT_EMPTY, "LEAVEUNAVAIL": QueueOutcome.EXIT_EMPTY,
                   "JOINUNAVAIL": QueueOutcome.EXIT_EMPTY, "FULL": QueueOutcome.EXIT_EMPTY,
                   "EXITWITHKEY": QueueOutcome.EXIT_KEY,  # queue_log's EXITWITHKEY, replayed
                   }.get(status)
        if outcome is None:
            return
        call = self._call(event)
        assert call is not None
        stay = self._stay(event, call)
        if stay is None or stay.answered is not None:
            return
        if stay.outcome is QueueOutcome.ABANDONED:
            self._today(stay.queue).abandoned -= 1
        if stay.outcome in (QueueOutcome.ABANDONED, QueueOutcome.WAITING):
            stay.outcome = outcome
            stay.left = stay.left or event.timestamp
            if call.hangup_by == "caller":
                call.hangup_by = ""
            changes.calls.append(call)
            changes.queues.add(stay.queue)

    def on_QueueCallerLeave(self, event: Event, changes: Changes) -> None:
        call = self._call(event)
        assert call is not None
        stay = self._stay(event, call)
        if stay is None:
            return
        # Asterisk says Leave before AgentConnect and after Abandon, so leaving decides nothing
        # yet: AgentConnect makes it answered, a join elsewhere an overflow, and a hang-up
        # with no other word a timeout.
        if stay.left is None:
            stay.left = event.timestamp
        changes.calls.append(call)
        changes.queues.add(stay.queue)

    def on_AgentCalled(self, event: Event, changes: Changes) -> None:
        self._seat_event(event, changes, lambda s: s.called(event.get("Queue"), event.uniqueid))

    def on_AgentRingNoAnswer(self, event: Event, changes: Changes) -> None:
        self._seat_event(event, changes, lambda s: s.not_answered(event.timestamp))

    def on_AgentDump(self, event: Event, changes: Changes) -> None:
        """The seat answered and hung up while it heard the queue's announcement (a
        callback's leg tells the seat who it is for): not answered. Asterisk sends no
        AgentRingNoAnswer for it; without this the seat stayed ringing until its next call."""
        def dumped(seat: SeatMachine) -> SeatState:
            if seat.state is not SeatState.RINGING or seat.uniqueid != event.uniqueid:
                return seat.state  # not ringing for this call (its ring was not followed)
            return seat.not_answered(event.timestamp)
        self._seat_event(event, changes, dumped)

    def on_AgentConnect(self, event: Event, changes: Changes) -> None:
        call = self._call(event)
        assert call is not None
        stay = self._stay(event, call)
        seat = self.seats.get(event.seat)
        if stay is not None and stay.answered is not None and seat is not None and \
                seat.uniqueid == call.uniqueid:
            return  # seen already (queue_log replayed what was also seen live)
        if stay is not None and stay.answered is None:
            stay.answered = event.timestamp
            stay.left = stay.left or event.timestamp
            stay.outcome = QueueOutcome.ANSWERED
            stay.seat = event.seat
            today = self._today(stay.queue)
            if seat is not None and seat.state is SeatState.RINGING and \
                    seat.uniqueid == call.uniqueid and 0 <= event.timestamp - seat.since < 600:
                today.ring_sum += event.timestamp - seat.since
                today.rung += 1
            if not call.callback_of:  # a callback's leg: its call counts when reached
                today.answered += 1
                wait = stay.wait_s or 0.0
                today.wait_sum += wait
                today.arrival_wait_sum += max(0.0, event.timestamp - call.started) \
                    if call.started else wait
                if wait <= self._sl.get(stay.queue, 10):
                    today.answered_within_sl += 1
            changes.calls.append(call)
            changes.queues.add(stay.queue)
        self._seat_event(event, changes,
                         lambda s: s.connected(event.get("Queue"), event.uniqueid))

    def on_AgentComplete(self, event: Event, changes: Changes) -> None:
        if not event.get("Uniqueid"):
            # Asterisk 22 leaves the caller's fields out of AgentComplete when the caller's
            # channel is already gone (seen when Asterisk stops): the call is the one the
            # seat is on.
            seat = self.seats.get(event.seat)
            if seat is None or not seat.uniqueid:
                raise MalformedEvent("AgentComplete without Uniqueid, for a seat on no call")
            event = Event(event.name, {**event.fields, "Uniqueid": seat.uniqueid}, event.node)
        call = self._call(event)
        assert call is not None
        stay = self._stay(event, call)
        reason = event.get("Reason")
        if stay is not None and stay.ended is not None:
            return  # completed already (queue_log replayed what was also seen live)
        if stay is not None and stay.ended is None:
            stay.ended = event.timestamp
            stay.talk_s = float(event.integer("TalkTime")) if stay.answered is None else round(
                max(0.0, event.timestamp - stay.answered), 3)
            today = self._today(stay.queue)
            today.talk_sum += stay.talk_s
            today.talked += 1
            if reason == "transfer":
                stay.outcome = QueueOutcome.TRANSFERRED
            call.hangup_by = {"agent": "seat", "caller": "caller"}.get(reason, reason)[:10]
            changes.calls.append(call)
            changes.queues.add(stay.queue)
        wrapup = self._wrapup.get(event.get("Queue"), 0)
        seat = self._seat_event(event, changes,
                                lambda s: s.completed(event.timestamp, wrapup))
        if seat is not None and seat.state is SeatState.WRAPUP:
            changes.wrapup_timers.append((seat.id, seat.wrapup_until))

    def on_Hangup(self, event: Event, changes: Changes) -> None:
        uid = event.get("Uniqueid")
        call = self.calls.get(uid) if uid else None
        if call is None:
            return
        call.ended = event.timestamp
        for stay in call.stays.values():
            if stay.answered is not None and stay.ended is None:
                self._talk_ended(call, stay, event.timestamp, changes)
            if stay.outcome is not QueueOutcome.WAITING:
                continue
            if stay.left is not None:  # left the queue unanswered, then the call ended
                stay.outcome = QueueOutcome.TIMEOUT
            else:  # gone without a queue event: abandoned
                stay.outcome, stay.left = QueueOutcome.ABANDONED, event.timestamp
                self._today(stay.queue).abandoned += 1
            changes.queues.add(stay.queue)
        if not call.hangup_by:
            call.hangup_by = "caller"
        changes.calls.append(call)
        del self.calls[uid]
        self.closed[uid] = call
        if any(s.outcome is QueueOutcome.CALLBACK for s in call.stays.values()):
            self.keep_called(call)  # its callback may come after CLOSED_KEEP_S
        log.info("call ended", uniqueid=uid, outcome=call.outcome, stays=len(call.stays))
        if len(self.closed) > 500:
            horizon = call.ended - CLOSED_KEEP_S
            self.closed = {k: c for k, c in self.closed.items() if (c.ended or 0) >= horizon}
        if call.callback_of:
            self._leg_hung_up(call, event.timestamp, changes)
        self._rings_ended(uid, event.timestamp, changes)

    def _rings_ended(self, uid: str, at: float, changes: Changes) -> None:
        """A seat still ringing for a call that ended stops ringing: Asterisk sends no
        AgentRingNoAnswer when the caller hangs up while a seat rings (queue_log says
        RINGCANCELED), and the seat stayed ringing until its next call."""
        if not self.follow_seats:
            return
        for seat in self.seats.values():
            if seat.state is SeatState.RINGING and seat.uniqueid == uid:
                self._transition(seat, seat.state, seat.not_answered(at), at, changes)

    def _talk_ended(self, call: CallState, stay: Stay, at: float, changes: Changes) -> None:
        """The caller hung up on a talk whose end was not reported (an AgentComplete lost,
        e.g. when Asterisk stops): the talk ended then, and the seat goes to wrap-up."""
        stay.ended = at
        stay.talk_s = round(max(0.0, at - (stay.answered or at)), 3)
        today = self._today(stay.queue)
        today.talk_sum += stay.talk_s
        today.talked += 1
        changes.queues.add(stay.queue)
        seat = self.seats.get(stay.seat)
        if not self.follow_seats or seat is None or seat.state is not SeatState.ON_CALL or \
                seat.uniqueid != call.uniqueid:
            return
        old = seat.state
        new = seat.completed(at, self._wrapup.get(stay.queue, 0))
        self._transition(seat, old, new, at, changes)
        if seat.state is SeatState.WRAPUP:
            changes.wrapup_timers.append((seat.id, seat.wrapup_until))

    # --- seats ---------------------------------------------------------------------------------

    def on_QueueMemberAdded(self, event: Event, changes: Changes) -> None:
        paused = event.get("Paused") == "1"
        self._seat_event(event, changes,
                         lambda s: s.added(event.require("Queue"), paused,
                                           event.get("PausedReason")))

    def on_QueueMemberRemoved(self, event: Event, changes: Changes) -> None:
        self._seat_event(event, changes, lambda s: s.removed(event.require("Queue")))

    def on_QueueMemberPause(self, event: Event, changes: Changes) -> None:
        if event.get("Paused") == "1":
            self._seat_event(event, changes, lambda s: s.pause(event.get("PausedReason")))
        else:
            seat = self._seat_event(event, changes, lambda s: s.unpause(event.timestamp))
            if seat is not None and seat.state is SeatState.WRAPUP:
                # Back to a wrap-up the pause interrupted: its end needs its timer (the
                # call's end set none, the seat being busy then).
                changes.wrapup_timers.append((seat.id, seat.wrapup_until))

    def on_HotlineWrapupOver(self, event: Event, changes: Changes) -> None:
        self._seat_event(event, changes, lambda s: s.wrapup_over(event.timestamp))

    def on_QueueMember(self, event: Event, changes: Changes) -> None:
        """A member as QueueStatus reports it (resync): membership and pause, as they are."""
        seat = self._seat(event)
        if seat is None:
            return
        queue = event.require("Queue")
        paused = event.get("Paused") == "1"
        reason = event.get("PausedReason")
        old = seat.state
        if seat.state is SeatState.SIGNED_OUT:
            new = seat.added(queue, paused, reason)
        else:
            seat.queues.add(queue)
            new = seat.state
            if paused and not seat.paused:
                new = seat.pause(reason)
            elif not paused and seat.paused:
                new = seat.unpause(event.timestamp)
        self._transition(seat, old, new, event.timestamp, changes)

    def _seat(self, event: Event) -> SeatMachine | None:
        seat_id = event.seat
        seat = self.seats.get(seat_id)
        if seat is None:
            # A member the center file does not list (another center's seat, signed in here
            # at a peak): follow it all the same.
            seat = self.seats[seat_id] = SeatMachine(seat_id)
        return seat

    def _seat_event(self, event: Event, changes: Changes,
                    step: Callable[[SeatMachine], SeatState]) -> SeatMachine | None:
        if not self.follow_seats:
            return None
        seat = self._seat(event)
        if self.replaying and event.timestamp < int(seat.since):
            return seat  # a replayed line older than what is known of the seat
        if seat is None:
            return None
        old = seat.state
        try:
            new = step(seat)
        except UnexpectedEvent as exc:
            log.warning("seat event out of order", seat=seat.id, ami_event=event.name,
                        state=old.value, problem=str(exc))
            return seat
        self._transition(seat, old, new, event.timestamp, changes)
        return seat

    def _transition(self, seat: SeatMachine, old: SeatState, new: SeatState, at: float,
                    changes: Changes) -> None:
        for q in seat.queues or set():
            changes.queues.add(q)
        changes.seat_views.add(seat.id)
        if new is old:
            return
        seat.state, seat.since = new, at
        log.info("seat", seat=seat.id, old=old.value, new=new.value, reason=seat.reason,
                 queue=seat.queue)
        changes.seats.append(SeatTransition(seat.id, old, new, at, seat.reason if
                                            new is SeatState.BUSY else "", seat.queue,
                                            seat.uniqueid))

    def _today(self, queue: str) -> QueueToday:
        return self.today.setdefault(queue, QueueToday())

    # --- views ---------------------------------------------------------------------------------

    def queue_view(self, name: str, now: float) -> dict[str, object]:
        waiting = []
        for call in self.calls.values():
            stay = call.stays.get(name)
            if stay is not None and stay.outcome is QueueOutcome.WAITING and stay.left is None:
                waiting.append({"uniqueid": call.uniqueid, "caller": mask_number(call.caller),
                                "since": round(stay.entered, 3), "position": stay.position,
                                "callback": bool(call.callback_of)})
        waiting.sort(key=lambda w: float(w["since"]))  # type: ignore[arg-type]
        t = self._today(name)
        states: dict[str, int] = {s.value: 0 for s in SeatState}
        for seat in self.seats.values():
            if name in seat.queues:
                states[seat.state.value] += 1
        return {
            "queue": name, "waiting": waiting, "waiting_count": len(waiting),
            "longest_wait_s": round(now - float(waiting[0]["since"]), 1) if waiting else 0.0,
            "offered_today": t.offered, "answered_today": t.answered,
            "abandoned_today": t.abandoned,
            "answered_within_sl_today": t.answered_within_sl,
            "average_wait_today_s": round(t.wait_sum / t.answered, 2) if t.answered else None,
            # From the call's arrival to the answer (the assessed average wait), and its sum
            # so a wallboard adds queues up into the center's figure.
            "average_arrival_wait_today_s":
                round(t.arrival_wait_sum / t.answered, 2) if t.answered else None,
            "arrival_wait_sum_today_s": round(t.arrival_wait_sum, 3),
            # As in docs/indicators.md: answered / queued (calls still waiting included).
            "manual_connection_rate_today":
                round(t.answered / t.offered, 4) if t.offered > 0 else None,
            "service_level_today": round(t.answered_within_sl / t.answered, 4)
                if t.answered else None,
            "seats": states,
            "staffing": self.staffing(name, now),
        }

    def staffing(self, name: str, now: float) -> dict[str, object]:
        """Erlang C for this hour (acd.live.staffing): the calls that entered the queue in
        the last 60 minutes as the hour's arrivals, today's average talk time plus the queue's
        wrap-up as the handle time; the seats needed for 95 % answered and a 25 s average
        wait, beside the seats signed in. No talk time yet today: no advice."""

        t = self._today(name)
        arrivals = t.last_hour(now)
        signed_in = sum(1 for seat in self.seats.values()
                        if name in seat.queues and seat.state is not SeatState.SIGNED_OUT)
        # Today's ring, from a seat being rung to its answer (the wait estimate's, issue 16).
        ring = round(t.ring_sum / t.rung, 2) if t.rung else None
        if not t.talked:
            return {"calls_last_hour": arrivals, "handle_s": None, "seats_needed": None,
                    "signed_in": signed_in, "ring_s": ring}
        handle = t.talk_sum / t.talked + self._wrapup.get(name, 0)
        advice = seats_needed(arrivals, max(handle, 1.0))
        return {"calls_last_hour": arrivals, "handle_s": round(handle, 1),
                "seats_needed": advice.seats if arrivals else 0, "signed_in": signed_in,
                "average_wait_s": advice.average_wait_s if arrivals else 0.0, "ring_s": ring}
