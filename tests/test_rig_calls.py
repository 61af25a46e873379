"""The Asterisk rig end to end: SIPp callers dial 12328, SIPp seats answer, and Asterisk's own
queue_log shows every call with its outcome and wait."""

from __future__ import annotations

import time
from collections import defaultdict

import pytest

from tests.support.rig import RunningPbx
from tests.support.waiting import wait_for

pytestmark = pytest.mark.asterisk

TERMINAL = {"ABANDON", "COMPLETEAGENT", "COMPLETECALLER", "EXITWITHTIMEOUT", "EXITEMPTY",
            "EXITWITHKEY"}


def add_members(pbx: RunningPbx, queue: str, seats: list[str]) -> None:
    for seat in seats:
        pbx.instance.cli(f"queue add member PJSIP/{seat} to {queue} penalty 0 as {seat}")


def calls_by_number(pbx: RunningPbx, numbers: set[str]) -> dict[str, list[list[str]]]:
    """queue_log rows of the calls whose ENTERQUEUE carries one of these caller numbers."""
    rows = pbx.queue_log()
    callid_of: dict[str, str] = {}
    for r in rows:
        if len(r) > 6 and r[4] == "ENTERQUEUE" and r[6] in numbers:
            callid_of[r[1]] = r[6]
    out: dict[str, list[list[str]]] = defaultdict(list)
    for r in rows:
        if r[1] in callid_of:
            out[callid_of[r[1]]].append(r)
    return out


def wait_for_outcomes(pbx: RunningPbx, numbers: set[str], timeout: float) -> dict[str, list[list[str]]]:
    deadline = time.monotonic() + timeout
    while True:
        calls = calls_by_number(pbx, numbers)
        done = [n for n, rows in calls.items() if any(r[4] in TERMINAL for r in rows)]
        if len(done) == len(numbers) or time.monotonic() > deadline:
            return calls
        time.sleep(0.5)


def test_twenty_calls_three_seats_queue_log_shows_every_outcome(pbx: RunningPbx, sipp,
                                                               numbers) -> None:
    seats = ["8001", "8002", "8003"]
    talk_s = 3.0
    for seat in seats:
        sipp.seat(seat, pbx.seat_password(seat), ring_s=0.5, talk_s=talk_s)
    add_members(pbx, "manual", seats)

    # 14 patient callers fill the queue; 6 impatient ones arrive behind them and give up after
    # 2 s, long before three seats can work through the 14 ahead (about 14 s).
    patient = numbers(14)
    impatient = numbers(6)
    first = sipp.callers("patient", patient, hold_s=90, rate=10)
    wait_for("the 14 patient callers in the queue",
             lambda: len(calls_by_number(pbx, set(patient))) == 14, 30)
    second = sipp.callers("impatient", impatient, hold_s=2.0, rate=10)

    calls = wait_for_outcomes(pbx, set(patient) | set(impatient), timeout=90)
    assert first.wait(60) == 0, first.errors()
    assert second.wait(30) == 0, second.errors()

    assert set(calls) == set(patient) | set(impatient), "every call must reach queue_log"
    for number, rows in calls.items():
        events = [r[4] for r in rows]
        assert events[0] == "ENTERQUEUE", (number, events)
        assert rows[0][2] == "manual"
        terminal = [r for r in rows if r[4] in TERMINAL]
        assert len(terminal) == 1, (number, events)
        end = terminal[0]
        if number in patient:
            # Answered, and the seat hung up first (talk_s < the caller's patience).
            connect = next(r for r in rows if r[4] == "CONNECT")
            assert connect[3] in seats
            wait = int(connect[5])
            assert abs((int(connect[0]) - int(rows[0][0])) - wait) <= 1, (number, rows)
            assert end[4] == "COMPLETEAGENT", (number, events)
            assert int(end[5]) == wait
            assert abs(int(end[6]) - talk_s) <= 1, (number, end)
        else:
            assert "CONNECT" not in events, (number, events)
            assert end[4] == "ABANDON", (number, events)
            waited = int(end[7])  # ABANDON|position|origposition|waittime
            assert 1 <= waited <= 3, (number, end)

    answered_by = {r[3] for rows in calls.values() for r in rows if r[4] == "CONNECT"}
    assert answered_by == set(seats), "the queue must spread calls over all three seats"


def test_seat_with_wrong_password_is_refused(pbx: RunningPbx, sipp) -> None:
    from hotline.shell.simulate.ports import free_ports

    port = free_ports(1)[0]
    # (An earlier test's SIPp seat may still be registered as 8004 from another port: only
    # this test's port tells.)
    mine = f"8004/sip:8004@127.0.0.1:{port}"
    assert sipp.register("8004", "not-the-password", port, timeout=4) != 0
    contacts = pbx.instance.cli("pjsip show contacts")
    assert mine not in contacts
    # ...while the right password registers.
    assert sipp.register("8004", pbx.seat_password("8004"), port, timeout=4) == 0
    assert mine in pbx.instance.cli("pjsip show contacts")


def test_one_sipp_answers_for_a_pool_of_seats(pbx: RunningPbx, sipp, numbers) -> None:
    seats = ["8001", "8002", "8003", "8004"]
    sipp.seat_pool({s: pbx.seat_password(s) for s in seats}, ring_s=0.2, talk_s=2.0)
    contacts = pbx.instance.cli("pjsip show contacts")
    for seat in seats:
        assert f"{seat}/sip:{seat}@127.0.0.1" in contacts
    add_members(pbx, "manual", seats)
    numbers = numbers(4)
    sipp.callers("pool", numbers, hold_s=30, rate=20).wait(40)
    calls = wait_for_outcomes(pbx, set(numbers), timeout=20)
    seats_used = {r[3] for rows in calls.values() for r in rows if r[4] == "CONNECT"}
    assert seats_used == set(seats)
    assert all(any(r[4] == "COMPLETEAGENT" for r in rows) for rows in calls.values())
