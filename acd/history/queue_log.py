"""Asterisk's queue_log, read into calls.

Each line is ``epoch|callid|queue|agent|event|data1|data2|...``. The events of a call's stay in
a queue, as app_queue in Asterisk 22 writes them:

    ENTERQUEUE      url|callerid|position
    CONNECT         holdtime|bridged channel uniqueid|ringtime
    COMPLETEAGENT   holdtime|calltime|origposition      (the seat hung up)
    COMPLETECALLER  holdtime|calltime|origposition      (the caller hung up)
    ABANDON         position|origposition|waittime
    EXITWITHTIMEOUT position|origposition|waittime
    EXITEMPTY       position|origposition|waittime
    EXITWITHKEY     key|position|origposition|waittime
    BLINDTRANSFER / ATTENDEDTRANSFER   ...|holdtime|calltime|origposition

Lines of other events (QUEUESTART, ADDMEMBER, PAUSE, ...) belong to no call and are skipped;
a malformed line is counted, never fatal.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path


@dataclass
class LogStay:
    queue: str
    entered: int
    caller: str = ""
    position: int = 0
    outcome: str = "waiting"   # answered / abandoned / timeout / exit_empty / exit_key / overflowed
    seat: str = ""
    wait_s: int | None = None
    talk_s: int | None = None
    hangup_by: str = ""
    transferred: bool = False


@dataclass
class LogCall:
    callid: str
    stays: dict[str, LogStay] = field(default_factory=dict)

    @property
    def first(self) -> LogStay:
        return min(self.stays.values(), key=lambda s: s.entered)

    @property
    def outcome(self) -> str:
        return max(self.stays.values(), key=lambda s: s.entered).outcome


@dataclass
class ParseReport:
    lines: int = 0
    malformed: int = 0


def _int(value: str) -> int | None:
    try:
        return int(value)
    except ValueError:
        return None


def rows(lines: Iterable[str], report: ParseReport | None = None) -> Iterator[list[str]]:
    for line in lines:
        line = line.rstrip("\n")
        if not line:
            continue
        if report is not None:
            report.lines += 1
        row = line.split("|")
        if len(row) < 5 or _int(row[0]) is None:
            if report is not None:
                report.malformed += 1
            continue
        yield row


def _d(row: list[str], i: int) -> str:
    return row[4 + i] if len(row) > 4 + i else ""


def read_calls(lines: Iterable[str], since: int = 0, until: int | None = None,
               report: ParseReport | None = None) -> dict[str, LogCall]:
    """Calls whose first ENTERQUEUE is in [since, until], with what became of each stay."""
    calls: dict[str, LogCall] = {}
    for row in rows(lines, report):
        epoch, callid, queue, agent, event = int(row[0]), row[1], row[2], row[3], row[4]
        if event == "ENTERQUEUE":
            if callid not in calls and (epoch < since or (until is not None and epoch > until)):
                continue
            call = calls.setdefault(callid, LogCall(callid))
            for other in call.stays.values():
                if other.outcome == "timeout" and other.queue != queue:
                    other.outcome = "overflowed"
            call.stays.setdefault(queue, LogStay(queue=queue, entered=epoch, caller=_d(row, 2),
                                                 position=_int(_d(row, 3)) or 0))
            continue
        call = calls.get(callid)
        stay = call.stays.get(queue) if call else None
        if stay is None:
            continue
        if event == "CONNECT":
            stay.outcome, stay.seat, stay.wait_s = "answered", agent, _int(_d(row, 1))
        elif event in ("COMPLETEAGENT", "COMPLETECALLER"):
            stay.outcome, stay.seat = "answered", agent
            stay.wait_s = _int(_d(row, 1)) if stay.wait_s is None else stay.wait_s
            stay.talk_s = _int(_d(row, 2))
            stay.hangup_by = "seat" if event == "COMPLETEAGENT" else "caller"
        elif event in ("BLINDTRANSFER", "ATTENDEDTRANSFER"):
            stay.outcome, stay.transferred = "transferred", True
            stay.talk_s = _int(_d(row, 4))
        elif event == "ABANDON":
            stay.outcome, stay.wait_s = "abandoned", _int(_d(row, 3))
        elif event in ("EXITWITHTIMEOUT", "EXITEMPTY"):
            stay.outcome = "timeout" if event == "EXITWITHTIMEOUT" else "exit_empty"
            stay.wait_s = _int(_d(row, 3))
        elif event == "EXITWITHKEY":
            stay.outcome, stay.wait_s = "exit_key", _int(_d(row, 4))
    return calls


def read_file(path: Path, since: int = 0, until: int | None = None,
              report: ParseReport | None = None) -> dict[str, LogCall]:
    if not path.exists():
        return {}
    with open(path, encoding="utf-8", errors="replace") as f:
        return read_calls(f, since, until, report)
