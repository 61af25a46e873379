"""A seat's state as an explicit machine.

Each event method returns the next state; an event that makes no sense in the current state
raises `UnexpectedEvent` (the model logs it and resyncs the seat from Asterisk's view). Every
transition is one log line, written by the model.

    signed_out --added--> ready | busy(paused)
    ready --called--> ringing --connected--> on_call --completed--> wrapup --wrapup_over--> ready
    ringing --not_answered--> ready
    ready | wrapup --paused--> busy --unpaused--> ready (or wrapup, if it is not over)
    any --removed from its last queue--> signed_out
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field


class SeatState(str, enum.Enum):
    SIGNED_OUT = "signed_out"
    READY = "ready"
    RINGING = "ringing"
    ON_CALL = "on_call"
    WRAPUP = "wrapup"
    BUSY = "busy"


class UnexpectedEvent(RuntimeError):
    pass


@dataclass
class SeatMachine:
    """One seat as the engine follows it (the center file's `hotline.center.Seat` is its
    configuration)."""

    id: str
    state: SeatState = SeatState.SIGNED_OUT
    since: float = 0.0
    queues: set[str] = field(default_factory=set)
    paused: bool = False
    reason: str = ""
    queue: str = ""          # the queue of the call being rung / talked / wrapped up
    uniqueid: str = ""       # that call
    wrapup_until: float = 0.0
    calls_today: int = 0

    # --- events: each returns the next state ------------------------------------------------

    def added(self, queue: str, paused: bool, reason: str) -> SeatState:
        self.queues.add(queue)
        if self.state is not SeatState.SIGNED_OUT:
            return self.state  # one more queue for a seat already signed in
        self.paused, self.reason = paused, reason if paused else ""
        return SeatState.BUSY if paused else SeatState.READY

    def removed(self, queue: str) -> SeatState:
        self.queues.discard(queue)
        if self.queues:
            return self.state
        self.paused, self.reason = False, ""
        return SeatState.SIGNED_OUT

    def pause(self, reason: str) -> SeatState:
        if self.state is SeatState.SIGNED_OUT:
            raise UnexpectedEvent("paused while signed out")
        self.paused, self.reason = True, reason or "other"
        if self.state in (SeatState.RINGING, SeatState.ON_CALL):
            return self.state  # takes effect when the call ends
        return SeatState.BUSY

    def unpause(self, now: float) -> SeatState:
        if self.state is SeatState.SIGNED_OUT:
            raise UnexpectedEvent("unpaused while signed out")
        self.paused, self.reason = False, ""
        if self.state is SeatState.BUSY:
            return SeatState.WRAPUP if now < self.wrapup_until else SeatState.READY
        return self.state

    def called(self, queue: str, uniqueid: str) -> SeatState:
        if self.state not in (SeatState.READY, SeatState.RINGING, SeatState.WRAPUP):
            raise UnexpectedEvent(f"offered a call while {self.state.value}")
        self.queue, self.uniqueid = queue, uniqueid
        return SeatState.RINGING

    def not_answered(self, now: float) -> SeatState:
        if self.state is not SeatState.RINGING:
            raise UnexpectedEvent(f"ring-no-answer while {self.state.value}")
        self.queue = self.uniqueid = ""
        return self._idle(now)

    def connected(self, queue: str, uniqueid: str) -> SeatState:
        if self.state in (SeatState.SIGNED_OUT, SeatState.ON_CALL):
            raise UnexpectedEvent(f"connected while {self.state.value}")
        self.queue, self.uniqueid = queue, uniqueid
        self.calls_today += 1
        return SeatState.ON_CALL

    def completed(self, now: float, wrapup_s: int) -> SeatState:
        if self.state is not SeatState.ON_CALL:
            raise UnexpectedEvent(f"call completed while {self.state.value}")
        self.wrapup_until = now + wrapup_s
        return self._idle(now)

    def wrapup_over(self, now: float) -> SeatState:
        if self.state is not SeatState.WRAPUP:
            return self.state  # a timer that outlived its wrap-up (ended early, or busy)
        self.wrapup_until = min(self.wrapup_until, now)
        self.queue = self.uniqueid = ""
        return self._idle(now)

    def _idle(self, now: float) -> SeatState:
        if self.paused:
            return SeatState.BUSY
        return SeatState.WRAPUP if now < self.wrapup_until else SeatState.READY

    def snapshot(self) -> dict[str, object]:
        return {"seat": self.id, "state": self.state.value, "since": round(self.since, 3),
                "reason": self.reason, "queues": sorted(self.queues), "queue": self.queue,
                "uniqueid": self.uniqueid, "wrapup_until": round(self.wrapup_until, 3),
                "calls_today": self.calls_today}
