"""Asterisk's queue_log, read into calls, from the start or from a saved position.

Each line is ``epoch|callid|queue|agent|event|data1|data2|...``. The events of a call's stay in
a queue, as app_queue in Asterisk 22 writes them (`tests/test_queue_log.py` holds a literal
line of each, with the record it must give):

    ENTERQUEUE       url|callerid|position
    CONNECT          holdtime|bridged channel uniqueid|ringtime
    COMPLETEAGENT    holdtime|calltime|origposition      (the seat hung up)
    COMPLETECALLER   holdtime|calltime|origposition      (the caller hung up)
    ABANDON          position|origposition|waittime
    EXITWITHTIMEOUT  position|origposition|waittime
    EXITEMPTY        position|origposition|waittime
    EXITWITHKEY      key|position|origposition|waittime
    BLINDTRANSFER    exten|context|holdtime|calltime|origposition
    ATTENDEDTRANSFER BRIDGE|bridge|...  APP|app|...  LINK|chan1|chan2|...  then
                     holdtime|calltime|origposition (the target takes one or two fields, so
                     the times are read from the end)
    RINGNOANSWER     ringtime in ms (the seat in the agent field did not answer)
    RINGCANCELED     ringtime in ms (the caller left while the seat rang)

A call that enters another queue after a timeout overflowed from the first. Seat lines
(ADDMEMBER, REMOVEMEMBER, PAUSE, UNPAUSE, PAUSEALL, UNPAUSEALL) belong to no call; `lines()`
gives them to the replay, `calls()` skips them. A malformed line is counted, never fatal. A
missing or unreadable file is `QueueLogError`, which names the path.

Reading from a saved `Position` (inode, byte offset): the engine keeps where it stopped and
reads only what was written after. A rotation is noticed by the inode (the old file, renamed
beside the new one, is read to its end first) or by a file now shorter than the offset (it
was truncated in place: read from the start).
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from acd.errors import Unavailable

# The events of a stay; the rest (seat lines, QUEUESTART, CONFIGRELOAD...) are no call's.
CALL_EVENTS = frozenset({"ENTERQUEUE", "CONNECT", "COMPLETEAGENT", "COMPLETECALLER", "ABANDON",
                         "EXITWITHTIMEOUT", "EXITEMPTY", "EXITWITHKEY", "BLINDTRANSFER",
                         "ATTENDEDTRANSFER", "RINGNOANSWER", "RINGCANCELED"})
SEAT_EVENTS = frozenset({"ADDMEMBER", "REMOVEMEMBER", "PAUSE", "UNPAUSE", "AGENTDUMP"})


class QueueLogError(Unavailable):
    """queue_log is missing or cannot be read; the message names the path."""


@dataclass(frozen=True)
class LogLine:
    epoch: int
    callid: str
    queue: str
    agent: str
    event: str
    data: tuple[str, ...]

    def d(self, i: int) -> str:
        """The i-th data field, counted from 1 (negative: from the end); "" if absent."""
        try:
            return self.data[i - 1 if i > 0 else i]
        except IndexError:
            return ""


@dataclass
class LogStay:
    queue: str
    entered: int
    caller: str = ""
    position: int = 0
    outcome: str = "waiting"  # answered abandoned timeout exit_empty exit_key overflowed transferred
    seat: str = ""
    wait_s: int | None = None
    talk_s: int | None = None
    hangup_by: str = ""        # seat / caller, from COMPLETEAGENT / COMPLETECALLER
    transferred: bool = False
    transfer_to: str = ""      # exten@context, or the attended transfer's target
    key: str = ""              # EXITWITHKEY: the key pressed
    left: int | None = None    # when the wait ended (answered, abandoned, timed out, ...)
    answered: int | None = None
    ended: int | None = None   # when the talk ended (completed or transferred)
    rings: list[tuple[str, int]] = field(default_factory=list)  # (seat, ms) not answered
    last: int = 0              # the stay's last line

    @property
    def open(self) -> bool:
        """Still waiting, or answered and still talking."""
        return self.outcome == "waiting" or (self.answered is not None and self.ended is None)


@dataclass
class LogCall:
    callid: str
    stays: dict[str, LogStay] = field(default_factory=dict)

    @property
    def first(self) -> LogStay:
        return min(self.stays.values(), key=lambda s: s.entered)

    @property
    def final(self) -> LogStay:
        return max(self.stays.values(), key=lambda s: s.entered)

    @property
    def outcome(self) -> str:
        return self.final.outcome

    @property
    def last(self) -> int:
        return max(s.last for s in self.stays.values())

    @property
    def open(self) -> bool:
        return any(s.open for s in self.stays.values())


@dataclass
class ParseReport:
    lines: int = 0
    malformed: int = 0


@dataclass(frozen=True)
class Position:
    """Where a reader stopped: the file's inode and the byte offset after the last whole line."""

    inode: int
    offset: int


def _int(value: str) -> int | None:
    try:
        return int(value)
    except ValueError:
        return None


def parse_line(text: str) -> LogLine | None:
    """One line, or None if it is not a queue_log line."""
    row = text.rstrip("\r\n").split("|")
    epoch = _int(row[0]) if row else None
    if len(row) < 5 or epoch is None:
        return None
    return LogLine(epoch, row[1], row[2], row[3], row[4], tuple(row[5:]))


def lines(texts: Iterable[str], report: ParseReport | None = None) -> Iterator[LogLine]:
    for text in texts:
        if not text.strip():
            continue
        if report is not None:
            report.lines += 1
        line = parse_line(text)
        if line is None:
            if report is not None:
                report.malformed += 1
            continue
        yield line


def rows(texts: Iterable[str], report: ParseReport | None = None) -> Iterator[list[str]]:
    """Lines as lists of fields (what earlier callers read)."""
    for line in lines(texts, report):
        yield [str(line.epoch), line.callid, line.queue, line.agent, line.event, *line.data]


def apply(calls: dict[str, LogCall], line: LogLine, since: int = 0,
          until: int | None = None, outside: set[str] | None = None) -> LogStay | None:
    """Apply one line to the calls read so far; the stay it touched, if any. A call is kept
    when its first ENTERQUEUE is in [since, until] (`outside` collects the others, so a
    later entry into another queue does not start them anew)."""
    if line.event == "ENTERQUEUE":
        if line.callid not in calls and (
                line.epoch < since or (until is not None and line.epoch > until) or
                (outside is not None and line.callid in outside)):
            if outside is not None:
                outside.add(line.callid)
            return None
        call = calls.setdefault(line.callid, LogCall(line.callid))
        for other in call.stays.values():
            if other.outcome == "timeout" and other.queue != line.queue:
                other.outcome = "overflowed"
        stay = call.stays.setdefault(line.queue, LogStay(
            queue=line.queue, entered=line.epoch, caller=line.d(2),
            position=_int(line.d(3)) or 0))
        stay.last = line.epoch
        return stay
    call = calls.get(line.callid)
    stay = call.stays.get(line.queue) if call else None
    if stay is None:
        return None
    stay.last = max(stay.last, line.epoch)
    event = line.event
    if event == "CONNECT":
        stay.outcome, stay.seat, stay.wait_s = "answered", line.agent, _int(line.d(1))
        stay.answered = stay.left = line.epoch
    elif event in ("COMPLETEAGENT", "COMPLETECALLER"):
        if stay.outcome != "transferred":
            stay.outcome = "answered"
        stay.seat = stay.seat or line.agent
        stay.wait_s = _int(line.d(1)) if stay.wait_s is None else stay.wait_s
        stay.talk_s = _int(line.d(2))
        stay.hangup_by = "seat" if event == "COMPLETEAGENT" else "caller"
        stay.ended = line.epoch
        if stay.answered is None and stay.talk_s is not None:
            stay.answered = stay.left = line.epoch - stay.talk_s
    elif event in ("BLINDTRANSFER", "ATTENDEDTRANSFER"):
        stay.outcome, stay.transferred = "transferred", True
        stay.seat = stay.seat or line.agent
        stay.wait_s = _int(line.d(-3)) if stay.wait_s is None else stay.wait_s
        stay.talk_s = _int(line.d(-2))
        stay.transfer_to = ("@".join(line.data[:2]) if event == "BLINDTRANSFER"
                            else "|".join(line.data[:-3]))
        stay.ended = line.epoch
        if stay.answered is None and stay.talk_s is not None:
            stay.answered = stay.left = line.epoch - stay.talk_s
    elif event in ("ABANDON", "EXITWITHTIMEOUT", "EXITEMPTY"):
        stay.outcome = {"ABANDON": "abandoned", "EXITWITHTIMEOUT": "timeout",
                        "EXITEMPTY": "exit_empty"}[event]
        stay.wait_s, stay.left = _int(line.d(3)), line.epoch
    elif event == "EXITWITHKEY":
        stay.outcome, stay.key = "exit_key", line.d(1)
        stay.wait_s, stay.left = _int(line.d(4)), line.epoch
    elif event in ("RINGNOANSWER", "RINGCANCELED"):
        stay.rings.append((line.agent, _int(line.d(1)) or 0))
    return stay


def calls(log_lines: Iterable[LogLine], since: int = 0,
          until: int | None = None) -> dict[str, LogCall]:
    """Calls whose first ENTERQUEUE is in [since, until], with what became of each stay."""
    out: dict[str, LogCall] = {}
    outside: set[str] = set()
    for line in log_lines:
        if line.event in CALL_EVENTS:
            apply(out, line, since, until, outside)
    return out


def read_calls(texts: Iterable[str], since: int = 0, until: int | None = None,
               report: ParseReport | None = None) -> dict[str, LogCall]:
    return calls(lines(texts, report), since, until)


def _open(path: Path):  # type: ignore[no-untyped-def]
    try:
        return open(path, "rb")
    except FileNotFoundError:
        raise QueueLogError(f"queue_log not found: {path}") from None
    except OSError as exc:
        raise QueueLogError(f"queue_log cannot be read: {path} ({exc.strerror})") from None


def read_file(path: Path, since: int = 0, until: int | None = None,
              report: ParseReport | None = None) -> dict[str, LogCall]:
    """Every call of the file whose first ENTERQUEUE is in [since, until]."""
    with _open(path) as f:
        return read_calls((b.decode("utf-8", errors="replace") for b in f), since, until, report)


def _whole_lines(path: Path, offset: int, report: ParseReport | None) -> tuple[list[LogLine], int]:
    """The whole lines from `offset` on (a line cut by the offset is skipped, a last line
    still being written is left for next time), and the offset after the last one read."""
    with _open(path) as f:
        start = offset
        if offset > 0:
            f.seek(offset - 1)
            if f.read(1) != b"\n":  # the saved offset is inside a line: skip to the next
                rest = f.readline()
                start = offset + len(rest)
        f.seek(start)
        data = f.read()
    end = data.rfind(b"\n") + 1
    texts = data[:end].decode("utf-8", errors="replace").split("\n")
    return list(lines(texts, report)), start + end


def _renamed(path: Path, inode: int) -> Path | None:
    """The rotated file that still has `inode` (queue_log.0, queue_log.1, queue_log.2024...)."""
    try:
        siblings = [p for p in path.parent.iterdir() if p.name.startswith(path.name + ".")]
    except OSError:
        return None
    for p in siblings:
        try:
            if p.stat().st_ino == inode:
                return p
        except OSError:
            continue
    return None


def read_from(path: Path, position: Position | None,
              report: ParseReport | None = None) -> tuple[list[LogLine], Position]:
    """The lines written since `position` (None: the whole file), and where they end."""
    try:
        st = os.stat(path)
    except FileNotFoundError:
        raise QueueLogError(f"queue_log not found: {path}") from None
    except OSError as exc:
        raise QueueLogError(f"queue_log cannot be read: {path} ({exc.strerror})") from None
    out: list[LogLine] = []
    offset = 0
    if position is not None and position.inode == st.st_ino:
        # The same file; shorter than where we stopped means it was truncated in place.
        offset = position.offset if st.st_size >= position.offset else 0
    elif position is not None:
        old = _renamed(path, position.inode)  # rotated: finish the old file first
        if old is not None:
            out, _ = _whole_lines(old, position.offset, report)
    got, offset = _whole_lines(path, offset, report)
    out.extend(got)
    return out, Position(st.st_ino, offset)


def size_of(path: Path) -> Position | None:
    """The file's inode and size now (None if it is not there)."""
    try:
        st = os.stat(path)
    except OSError:
        return None
    return Position(st.st_ino, st.st_size)
