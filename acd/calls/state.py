"""A call as the engine follows it: the caller's channel, its IVR, its stays in queues.

Mirrors the ledger rows (acd.history.models.Call / QueueCall); `acd.history.ledger` writes it.
Times are epoch seconds (Asterisk's event timestamps), converted when written.
"""

from __future__ import annotations

import enum
from dataclasses import asdict, dataclass, field
from typing import Any


class QueueOutcome(str, enum.Enum):
    WAITING = "waiting"          # still in the queue
    ANSWERED = "answered"        # a seat took it (CONNECT)
    ABANDONED = "abandoned"      # caller hung up while waiting (ABANDON)
    TIMEOUT = "timeout"          # the queue's max wait passed (EXITWITHTIMEOUT)
    EXIT_EMPTY = "exit_empty"    # no seat signed in (EXITEMPTY)
    EXIT_KEY = "exit_key"        # caller pressed a key to leave (EXITWITHKEY)
    OVERFLOWED = "overflowed"    # moved to another queue after overflow_after_s
    TRANSFERRED = "transferred"  # answered, then transferred by the seat
    # The caller pressed 1 to keep its place and be called back (EXITWITHKEY in queue_log):
    # waiting for the callback, or never reached by it (docs/indicators.md).
    CALLBACK = "callback"
    CALLBACK_ANSWERED = "callback_answered"  # ...and the callback reached it: answered


CALLBACKS = (QueueOutcome.CALLBACK, QueueOutcome.CALLBACK_ANSWERED)


@dataclass
class Stay:
    queue: str
    entered: float
    position: int = 0
    left: float | None = None
    outcome: QueueOutcome = QueueOutcome.WAITING
    seat: str = ""
    answered: float | None = None
    talk_s: float | None = None
    ended: float | None = None

    @property
    def wait_s(self) -> float | None:
        """The time in the queue, as queue_log has it (a callback's: until the caller pressed
        1 and left)."""
        end = self.left if self.outcome in CALLBACKS else (
            self.answered if self.answered is not None else self.left)
        return None if end is None else round(max(0.0, end - self.entered), 3)

    @property
    def service_wait_s(self) -> float | None:
        """The time until a seat served the caller: for a callback that reached it, from
        entering the queue to being reached; otherwise the time in the queue."""
        if self.outcome is QueueOutcome.CALLBACK_ANSWERED and self.answered is not None:
            return round(max(0.0, self.answered - self.entered), 3)
        return self.wait_s


@dataclass
class CallState:
    uniqueid: str
    linkedid: str
    caller: str = ""
    caller_name: str = ""
    dialed: str = ""
    started: float = 0.0
    ended: float | None = None
    ivr_path: str = ""
    ivr_seconds: float | None = None
    ivr_result: str = ""
    handoff_to: str = ""
    heard_broadcast: bool = False
    recording: str = ""
    hangup_by: str = ""
    survey_score: int | None = None
    survey_at: float | None = None
    callback_of: str = ""  # a callback's leg: the uniqueid of the call it calls back
    stays: dict[str, Stay] = field(default_factory=dict)

    def stay(self, queue: str) -> Stay | None:
        return self.stays.get(queue)

    @property
    def current(self) -> Stay | None:
        return max(self.stays.values(), key=lambda s: s.entered) if self.stays else None

    @property
    def outcome(self) -> str:
        last = self.current
        if last is not None:
            return last.outcome.value
        if self.ivr_result == "handoff":
            return "handoff"
        return "ivr" if self.ivr_result else ""

    @property
    def wait_s(self) -> float | None:
        waits = [s.service_wait_s for s in self.stays.values() if s.service_wait_s is not None]
        return round(sum(waits), 3) if waits else None

    @property
    def answered_stay(self) -> Stay | None:
        return next((s for s in self.stays.values() if s.answered is not None), None)

    @property
    def last_seen(self) -> float:
        """The latest moment anything was known of the call (its end, if no hang-up was seen,
        was no earlier than this)."""
        times = [self.started, self.survey_at or 0.0, self.ended or 0.0]
        for s in self.stays.values():
            times += [s.entered, s.left or 0.0, s.answered or 0.0, s.ended or 0.0]
        return max(times)

    def to_dict(self) -> dict[str, Any]:
        """Plain values (the ledger's journal keeps calls as JSON)."""
        out = asdict(self)
        out["stays"] = [{**asdict(s), "outcome": s.outcome.value} for s in self.stays.values()]
        return out

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> CallState:
        stays = [Stay(**{**s, "outcome": QueueOutcome(s["outcome"])}) for s in data["stays"]]
        return cls(**{**data, "stays": {s.queue: s for s in stays}})
