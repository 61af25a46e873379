"""The queue_log reader against hand-written Asterisk 22 lines, one call per event the project
uses, each checked against the literal record it must give; and reading from a saved position
(rotation noticed by inode and by size, a line cut by the position, a missing file).

The lines follow app_queue.c's `ast_queue_log` formats in Asterisk 22 (the same as those the
rig writes: see the overflow and shift lines below, copied from a rig run); `|`-separated
`epoch|callid|queue|agent|event|data...`.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from acd.history import db
from acd.history.queue_log import (
    LogStay,
    ParseReport,
    Position,
    QueueLogError,
    read_calls,
    read_file,
    read_from,
)

T = 1796169381

LINES = f"""\
{T - 6}|NONE|NONE|NONE|QUEUESTART|
{T - 4}|MANAGER|manual|8001|ADDMEMBER|
{T - 1}|NONE|NONE|8003|PAUSEALL|meal
{T - 1}|NONE|manual|8003|PAUSE|meal
{T}|pbx1-{T}.0|manual|NONE|ENTERQUEUE||13960000000|1
{T}|pbx1-{T}.0|manual|8001|CONNECT|0|pbx1-{T}.1|0
{T + 2}|pbx1-{T}.0|manual|8001|COMPLETEAGENT|0|2|1
{T}|pbx1-{T}.2|manual|NONE|ENTERQUEUE||13960000001|2
{T + 3}|pbx1-{T}.2|manual|8002|RINGNOANSWER|15000
{T + 4}|pbx1-{T}.2|manual|8001|CONNECT|4|pbx1-{T}.3|1
{T + 94}|pbx1-{T}.2|manual|8001|COMPLETECALLER|4|90|2
{T + 1}|pbx1-{T}.4|manual|NONE|ENTERQUEUE||13961110000|3
{T + 5}|pbx1-{T}.4|manual|NONE|ABANDON|2|3|4
{T + 1}|pbx1-{T}.5|highway|NONE|ENTERQUEUE||13983000001|1
{T + 4}|pbx1-{T}.5|highway|NONE|EXITWITHTIMEOUT|1|1|3
{T + 4}|pbx1-{T}.5|manual|NONE|ENTERQUEUE||13983000001|1
{T + 4}|pbx1-{T}.5|manual|8004|CONNECT|0|pbx1-{T}.6|0
{T + 5}|pbx1-{T}.5|manual|8004|COMPLETEAGENT|0|1|1
{T + 2}|pbx1-{T}.7|complaint|NONE|ENTERQUEUE||13990000007|1
{T + 32}|pbx1-{T}.7|complaint|NONE|EXITWITHTIMEOUT|1|1|30
{T + 2}|pbx1-{T}.8|urban|NONE|ENTERQUEUE||13990000008|1
{T + 9}|pbx1-{T}.8|urban|NONE|EXITWITHKEY|0|1|1|7
{T + 3}|pbx1-{T}.9|road|NONE|ENTERQUEUE||13990000009|1
{T + 3}|pbx1-{T}.9|road|NONE|EXITEMPTY|1|1|0
{T + 3}|pbx1-{T}.10|manual|NONE|ENTERQUEUE||13990000010|1
{T + 5}|pbx1-{T}.10|manual|8002|CONNECT|2|pbx1-{T}.11|1
{T + 65}|pbx1-{T}.10|manual|8002|BLINDTRANSFER|8003|seats|2|60|1
{T + 3}|pbx1-{T}.12|manual|NONE|ENTERQUEUE||13990000012|2
{T + 6}|pbx1-{T}.12|manual|8003|CONNECT|3|pbx1-{T}.13|1
{T + 46}|pbx1-{T}.12|manual|8003|ATTENDEDTRANSFER|BRIDGE|a1b2c3d4-bridge|3|40|1
{T + 7}|pbx1-{T}.14|manual|NONE|ENTERQUEUE||13990000014|3
{T + 8}|pbx1-{T}.14|manual|8003|CONNECT|1|pbx1-{T}.15|0
{T + 28}|pbx1-{T}.14|manual|8003|ATTENDEDTRANSFER|LINK|PJSIP/8003-00000010|PJSIP/8004-00000011|1|20|3
{T + 8}|pbx1-{T}.16|manual|NONE|ENTERQUEUE||13990000016|4
{T + 12}|pbx1-{T}.16|manual|8001|RINGCANCELED|1200
{T + 12}|pbx1-{T}.16|manual|NONE|ABANDON|1|4|4
{T + 9}|pbx1-{T}.17|manual|NONE|ENTERQUEUE||13990000017|2
{T + 10}|pbx1-{T}.17|manual|8004|CONNECT|1|pbx1-{T}.18|0
this is not a queue_log line
{T + 20}|pbx1-{T}.17|manual
{T + 99}|CLI|manual|8001|REMOVEMEMBER|
"""

# What each call must give: (callid suffix, queue) -> the stay, field by field.
EXPECTED = {
    ("0", "manual"): LogStay(queue="manual", entered=T, caller="13960000000", position=1,
                             outcome="answered", seat="8001", wait_s=0, talk_s=2,
                             hangup_by="seat", left=T, answered=T, ended=T + 2, last=T + 2),
    ("2", "manual"): LogStay(queue="manual", entered=T, caller="13960000001", position=2,
                             outcome="answered", seat="8001", wait_s=4, talk_s=90,
                             hangup_by="caller", left=T + 4, answered=T + 4, ended=T + 94,
                             rings=[("8002", 15000)], last=T + 94),
    ("4", "manual"): LogStay(queue="manual", entered=T + 1, caller="13961110000", position=3,
                             outcome="abandoned", wait_s=4, left=T + 5, last=T + 5),
    ("5", "highway"): LogStay(queue="highway", entered=T + 1, caller="13983000001", position=1,
                              outcome="overflowed", wait_s=3, left=T + 4, last=T + 4),
    ("5", "manual"): LogStay(queue="manual", entered=T + 4, caller="13983000001", position=1,
                             outcome="answered", seat="8004", wait_s=0, talk_s=1,
                             hangup_by="seat", left=T + 4, answered=T + 4, ended=T + 5,
                             last=T + 5),
    ("7", "complaint"): LogStay(queue="complaint", entered=T + 2, caller="13990000007",
                                position=1, outcome="timeout", wait_s=30, left=T + 32,
                                last=T + 32),
    ("8", "urban"): LogStay(queue="urban", entered=T + 2, caller="13990000008", position=1,
                            outcome="exit_key", key="0", wait_s=7, left=T + 9, last=T + 9),
    ("9", "road"): LogStay(queue="road", entered=T + 3, caller="13990000009", position=1,
                           outcome="exit_empty", wait_s=0, left=T + 3, last=T + 3),
    ("10", "manual"): LogStay(queue="manual", entered=T + 3, caller="13990000010", position=1,
                              outcome="transferred", seat="8002", wait_s=2, talk_s=60,
                              transferred=True, transfer_to="8003@seats", left=T + 5,
                              answered=T + 5, ended=T + 65, last=T + 65),
    ("12", "manual"): LogStay(queue="manual", entered=T + 3, caller="13990000012", position=2,
                              outcome="transferred", seat="8003", wait_s=3, talk_s=40,
                              transferred=True, transfer_to="BRIDGE|a1b2c3d4-bridge",
                              left=T + 6, answered=T + 6, ended=T + 46, last=T + 46),
    ("14", "manual"): LogStay(queue="manual", entered=T + 7, caller="13990000014", position=3,
                              outcome="transferred", seat="8003", wait_s=1, talk_s=20,
                              transferred=True,
                              transfer_to="LINK|PJSIP/8003-00000010|PJSIP/8004-00000011",
                              left=T + 8, answered=T + 8, ended=T + 28, last=T + 28),
    ("16", "manual"): LogStay(queue="manual", entered=T + 8, caller="13990000016", position=4,
                              outcome="abandoned", wait_s=4, left=T + 12,
                              rings=[("8001", 1200)], last=T + 12),
    ("17", "manual"): LogStay(queue="manual", entered=T + 9, caller="13990000017", position=2,
                              outcome="answered", seat="8004", wait_s=1, left=T + 10,
                              answered=T + 10, last=T + 10),
}


def test_every_event_gives_its_literal_record() -> None:
    report = ParseReport()
    calls = read_calls(LINES.splitlines(), report=report)
    got = {(callid.rsplit(".", 1)[1], queue): stay
           for callid, call in calls.items() for queue, stay in call.stays.items()}
    assert sorted(got) == sorted(EXPECTED)
    for key, stay in EXPECTED.items():
        assert got[key] == stay, key
    # Two lines are not queue_log lines; the seat lines and QUEUESTART belong to no call.
    assert (report.lines, report.malformed) == (len(LINES.splitlines()), 2)
    # Still open: the call answered and not completed (talking), nothing else.
    assert [c for c, call in calls.items() if call.open] == [f"pbx1-{T}.17"]
    overflow = calls[f"pbx1-{T}.5"]
    assert (overflow.first.queue, overflow.final.queue, overflow.outcome) == (
        "highway", "manual", "answered")


def test_since_and_until_select_calls_by_their_first_entry() -> None:
    calls = read_calls(LINES.splitlines(), since=T + 3, until=T + 8)
    assert sorted(int(c.rsplit(".", 1)[1]) for c in calls) == [9, 10, 12, 14, 16]
    # The overflowed call entered its second queue at T+4, but its first entry was at T+1.
    assert f"pbx1-{T}.5" not in calls


def write(path: Path, text: str) -> None:
    with open(path, "a", encoding="utf-8") as f:
        f.write(text)


def test_reading_on_from_a_saved_position(tmp_path) -> None:
    log = tmp_path / "queue_log"
    lines = LINES.splitlines(keepends=True)
    write(log, "".join(lines[:6]))
    first, pos = read_from(log, None)
    assert [line.event for line in first] == ["QUEUESTART", "ADDMEMBER", "PAUSEALL", "PAUSE",
                                              "ENTERQUEUE", "CONNECT"]
    assert pos == Position(os.stat(log).st_ino, log.stat().st_size)
    # A line still being written is left for next time; the rest is read once.
    write(log, lines[6] + lines[7][:10])
    more, pos2 = read_from(log, pos)
    assert [line.event for line in more] == ["COMPLETEAGENT"]
    write(log, lines[7][10:])
    rest, pos3 = read_from(log, pos2)
    assert [line.event for line in rest] == ["ENTERQUEUE"] and pos3.offset == log.stat().st_size
    assert read_from(log, pos3)[0] == []
    # A position inside a line (a file rewritten under it) skips to the next whole line.
    inside, _ = read_from(log, Position(pos.inode, pos.offset - 3))
    assert [line.event for line in inside] == ["COMPLETEAGENT", "ENTERQUEUE"]


def test_rotation_is_noticed_by_inode_and_by_size(tmp_path) -> None:
    log = tmp_path / "queue_log"
    lines = LINES.splitlines(keepends=True)
    write(log, "".join(lines[:5]))
    _, pos = read_from(log, None)
    # Asterisk's `logger rotate`: the old file renamed, a new one started; what was written
    # to the old file after the position is read first.
    write(log, lines[5])
    log.rename(tmp_path / "queue_log.0")
    write(log, lines[6])
    got, pos2 = read_from(log, pos)
    assert [line.event for line in got] == ["CONNECT", "COMPLETEAGENT"]
    assert pos2 == Position(os.stat(log).st_ino, len(lines[6].encode()))
    # Truncated in place (copytruncate): shorter than the position, read from the start.
    log.write_text(lines[7], encoding="utf-8")
    got, _ = read_from(log, pos2 if log.stat().st_size < pos2.offset else
                       Position(pos2.inode, pos2.offset + 1000))
    assert [line.event for line in got] == ["ENTERQUEUE"]
    # Rotated and the old file gone: the new file from its start.
    (tmp_path / "queue_log.0").unlink()
    log.rename(tmp_path / "queue_log.1")
    (tmp_path / "queue_log.1").unlink()
    write(log, lines[8])
    got, _ = read_from(log, pos)
    assert [line.event for line in got] == ["RINGNOANSWER"]


def test_a_missing_or_unreadable_queue_log_is_an_error_naming_the_path(tmp_path) -> None:
    missing = tmp_path / "nowhere" / "queue_log"
    with pytest.raises(QueueLogError, match=str(missing)):
        read_file(missing)
    with pytest.raises(QueueLogError, match=str(missing)):
        read_from(missing, None)
    directory = tmp_path / "a-directory"
    directory.mkdir()
    with pytest.raises(QueueLogError, match=str(directory)):
        read_file(directory)


def test_reconcile_names_a_missing_queue_log_and_exits_2(tmp_path) -> None:
    import subprocess
    import sys

    missing = tmp_path / "gone" / "queue_log"
    url = f"sqlite:///{tmp_path / 'ledger.sqlite'}"
    ledger = db.make_engine(url)
    db.create_schema(ledger)  # read-only commands never migrate: a ledger at the head
    ledger.dispose()
    out = subprocess.run([sys.executable, "-m", "hotline.shell.cli", "stats", "reconcile",
                          "--database", url,
                          "--queue-log", str(missing)], capture_output=True, text=True,
                         timeout=60, env={**os.environ, "HOTLINE_VAR": str(tmp_path)})
    assert out.returncode == 2
    assert str(missing) in out.stderr and "Traceback" not in out.stderr
