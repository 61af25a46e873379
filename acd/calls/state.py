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
        end = self.answered if self.answered is not None else self.left
        return None if end is None else round(max(0.0, end - self.entered), 3)


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
        waits = [s.wait_s for s in self.stays.values() if s.wait_s is not None]
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
