"""Replaying queue_log into the ledger: what happened while the engine was not listening.

After a restart (or an AMI outage) the engine reads queue_log from its cursor on and writes
every call it finds. What the ledger already knows from live events (to the millisecond) wins;
queue_log (whole seconds) fills what is missing. Idempotent, like every ledger write.
"""

from __future__ import annotations

from pathlib import Path

from acd.calls.state import CallState, QueueOutcome, Stay
from acd.history.ledger import Ledger
from acd.history.queue_log import LogCall, ParseReport, read_file
from hotline.logs import get_logger

log = get_logger(__name__)


def _stay_from_log(s) -> Stay:  # type: ignore[no-untyped-def]
    stay = Stay(queue=s.queue, entered=float(s.entered), position=s.position,
                outcome=QueueOutcome(s.outcome) if s.outcome != "waiting"
                else QueueOutcome.WAITING, seat=s.seat)
    if s.wait_s is not None:
        if s.outcome in ("answered", "transferred"):
            stay.answered = stay.entered + s.wait_s
            stay.left = stay.answered
        elif s.outcome != "waiting":
            stay.left = stay.entered + s.wait_s
    if s.talk_s is not None and stay.answered is not None:
        stay.talk_s = float(s.talk_s)
        stay.ended = stay.answered + s.talk_s
    return stay


def merge(known: CallState | None, logged: LogCall) -> CallState:
    first = logged.first
    call = known or CallState(uniqueid=logged.callid, linkedid=logged.callid,
                              caller=first.caller, started=float(first.entered))
    for queue, s in logged.stays.items():
        mine = call.stays.get(queue)
        if mine is None or mine.outcome is QueueOutcome.WAITING or (
                mine.talk_s is None and s.talk_s is not None):
            replayed = _stay_from_log(s)
            if mine is not None and mine.outcome is not QueueOutcome.WAITING:
                # Live events knew the answer; queue_log adds only the talk time.
                mine.talk_s, mine.ended = replayed.talk_s, replayed.ended
            else:
                if mine is not None:  # keep the precise entry time seen live
                    replayed.entered = mine.entered
                call.stays[queue] = replayed
        if s.hangup_by and not call.hangup_by:
            call.hangup_by = s.hangup_by
    return call


def replay(ledger: Ledger, queue_log: Path, since: float) -> int:
    """Write every call of queue_log that entered a queue at or after `since`; how many."""
    report = ParseReport()
    calls = read_file(queue_log, since=int(since) - 1, report=report)
    merged = [merge(ledger.load_call(callid), logged) for callid, logged in calls.items()]
    ledger.write_calls(merged)
    log.info("queue_log replayed", path=str(queue_log), calls=len(merged),
             malformed_lines=report.malformed)
    return len(merged)
