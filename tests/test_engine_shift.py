"""The engine against the real Asterisk with SIPp seats and callers: distribution, busy seats,
wrap-up, abandoned calls; every record checked against Asterisk's own queue_log."""

from __future__ import annotations

import subprocess
import sys
import time
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from acd.history.models import Call, QueueCall, SeatInterval
from queue_stats.reconcile import differences
from tests.support.engine import EngineProcess
from tests.support.metrics import not_json_lines, sample, scrape
from tests.support.rig import RunningPbx
from tests.test_rig_calls import calls_by_number, wait_for_outcomes

pytestmark = pytest.mark.asterisk


def hotline(pbx: RunningPbx, *args: str) -> None:
    import os
    env = {**os.environ, "HOTLINE_VAR": str(pbx.state)}
    out = subprocess.run([sys.executable, "-m", "hotline.shell.cli", "--center", str(pbx.center_file),
                          *args], env=env, capture_output=True, text=True, timeout=30)
    assert out.returncode == 0, out.stderr


def stays(engine, numbers=None) -> list[QueueCall]:  # type: ignore[no-untyped-def]
    """Queue stays in the ledger (of calls from these caller numbers, if given: the engine
    replays the whole session's queue_log into a new ledger, other tests' calls included)."""
    with Session(engine) as s:
        q = select(QueueCall).join(Call).order_by(QueueCall.entered_at)
        if numbers is not None:
            q = q.where(Call.caller_number.in_(list(numbers)))
        return list(s.scalars(q))


def intervals(engine, seat: str) -> list[SeatInterval]:  # type: ignore[no-untyped-def]
    with Session(engine) as s:
        return list(s.scalars(select(SeatInterval).where(SeatInterval.seat_id == seat)
                              .order_by(SeatInterval.started_at)))


def connected(pbx: RunningPbx, numbers: list[str]) -> int:
    """How many of these callers' calls queue_log shows answered (CONNECT)."""
    calls = calls_by_number(pbx, set(numbers))
    return sum(1 for rows in calls.values() if any(r[4] == "CONNECT" for r in rows))


def completed(pbx: RunningPbx, numbers: list[str]) -> int:
    """How many of these callers' calls queue_log shows ended after a talk (COMPLETE...)."""
    calls = calls_by_number(pbx, set(numbers))
    return sum(1 for rows in calls.values()
               if any(r[4] in ("COMPLETEAGENT", "COMPLETECALLER") for r in rows))


def wait_until(check, timeout: float, show=lambda: None) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met in time: {show()}")
        time.sleep(0.2)


def entered(pbx: RunningPbx, numbers: list[str]) -> int:
    """How many of these callers Asterisk's queue_log shows in a queue (ENTERQUEUE)."""
    return sum(1 for r in pbx.queue_log() if len(r) > 6 and r[4] == "ENTERQUEUE"
               and r[6] in numbers)


def test_distribution_busy_wrapup_and_abandon_are_recorded(pbx: RunningPbx, sipp, ledger,
                                                           redis_url, tmp_path,
                                                           numbers) -> None:
    url, engine = ledger
    proc = EngineProcess(pbx, url, redis_url, tmp_path / "engine.log")
    proc.start()
    try:
        for seat in ("8001", "8002", "8003"):
            sipp.seat(seat, pbx.seat_password(seat), ring_s=0.3, talk_s=2.0)
            hotline(pbx, "seat", "signin", seat)
        hotline(pbx, "seat", "busy", "8003", "--reason", "meal")
        started = time.time()
        patient = numbers(6)
        sipp.callers("patient", patient, hold_s=60, rate=2)
        # The impatient caller comes behind the first patient ones.
        wait_until(lambda: entered(pbx, patient) >= 3, 30)
        impatient = numbers(1)
        sipp.callers("impatient", impatient, hold_s=1.5, rate=1)
        calls = wait_for_outcomes(pbx, set(patient) | set(impatient), timeout=90)
        assert len(calls) == 7
        mine = set(patient) | set(impatient)
        wait_until(lambda: sum(1 for s in stays(engine, mine) if s.talk_s is not None or
                               s.outcome == "abandoned") == 7, 30, lambda: stays(engine, mine))
        # The last wrap-ups run out: one closed wrap-up interval per answered call.
        wait_until(lambda: sum(1 for seat in ("8001", "8002") for i in intervals(engine, seat)
                               if i.state == "wrapup" and i.ended_at is not None) == 6, 30,
                   lambda: intervals(engine, "8001") + intervals(engine, "8002"))
        scraped = scrape(pbx.center.metrics_port)
    finally:
        proc.stop()
    # The engine's metrics on their own address (acd/metrics.py): counters per queue, the
    # wait histogram, the Redis lag and ledger write histograms, seats per state with zeros.
    assert sample(scraped, "hotline_queue_offered_total", queue="manual") == 7
    assert sample(scraped, "hotline_queue_answered_total", queue="manual") == 6
    assert sample(scraped, "hotline_queue_abandoned_total", queue="manual") == 1
    assert sample(scraped, "hotline_queue_abandoned_total", queue="highway") == 0
    assert sample(scraped, "hotline_queue_wait_seconds_count", queue="manual",
                  outcome="answered") == 6
    assert sample(scraped, "hotline_queue_wait_seconds_count", queue="manual",
                  outcome="abandoned") == 1
    assert (sample(scraped, "hotline_ami_event_to_redis_seconds_count", node="pbx1") or 0) > 0
    assert (sample(scraped, "hotline_ledger_write_seconds_count", node="pbx1") or 0) > 0
    assert sample(scraped, "hotline_queue_seats", queue="manual", state="busy") == 1
    assert sample(scraped, "hotline_queue_seats", queue="manual", state="on_call") == 0
    assert sample(scraped, "hotline_queue_waiting", queue="manual") == 0
    assert (sample(scraped, "process_resident_memory_bytes") or 0) > 0
    # Every line the engine logged is one JSON object with its logger's name.
    assert not_json_lines(proc.lines) == []

    rows = stays(engine, set(patient) | set(impatient))
    by_caller = {}
    with Session(engine) as s:
        for call in s.scalars(select(Call)):
            by_caller[call.caller_number] = call
    answered = [r for r in rows if r.outcome == "answered"]
    assert {by_caller[n].outcome for n in patient} == {"answered"}
    assert {r.seat_id for r in answered} == {"8001", "8002"}, "the busy seat must get no call"
    # Abandoned: recorded with its wait, matching the caller's patience.
    gone = by_caller[impatient[0]]
    assert gone.outcome == "abandoned" and 1.0 <= gone.wait_s <= 2.5
    # Each call carries its first queue entry (the indicators' period key).
    by_uid = {c.uniqueid: c for c in by_caller.values()}
    for r in rows:
        assert by_uid[r.uniqueid].queued_at == min(x.entered_at for x in rows
                                                   if x.uniqueid == r.uniqueid)
    # Wrap-up (5 s on the manual queue) is respected and recorded: a seat's next call comes
    # no sooner than 5 s after its last one ended, and each wrap-up is an interval.
    for seat in ("8001", "8002"):
        mine = sorted((r for r in answered if r.seat_id == seat), key=lambda r: r.answered_at)
        for prev, nxt in zip(mine, mine[1:]):
            gap = (nxt.answered_at - prev.ended_at).total_seconds()
            assert gap >= 4.0, (seat, gap)  # event times jitter; without wrap-up, ~0 s
        wraps = [i for i in intervals(engine, seat) if i.state == "wrapup"]
        assert len(wraps) == len(mine)
        assert all(abs((w.ended_at - w.started_at).total_seconds() - 5) < 1.0 for w in wraps)
        # ...and the call carries it (the average handle time reads the calls alone).
        for w in wraps:
            assert by_uid[w.uniqueid].wrapup_s == pytest.approx(
                (w.ended_at - w.started_at).total_seconds(), abs=0.01)
    busy = [i for i in intervals(engine, "8003") if i.state == "busy"]
    assert busy and busy[0].reason == "meal"
    # The ledger and Asterisk's queue_log agree call for call.
    assert differences(engine, pbx.instance.queue_log, started - 2, time.time()) == []


def test_sigkill_mid_shift_then_restart_matches_queue_log(pbx: RunningPbx, sipp, ledger,
                                                          tmp_path, numbers) -> None:
    url, engine = ledger
    proc = EngineProcess(pbx, url, None, tmp_path / "engine.log")
    proc.start()
    try:
        for seat in ("8001", "8002"):
            sipp.seat(seat, pbx.seat_password(seat), ring_s=0.3, talk_s=3.0)
            hotline(pbx, "seat", "signin", seat)
        started = time.time()
        numbers = numbers(10)
        sipp.callers("shift", numbers, hold_s=60, rate=1)
        # Mid-shift: calls answered, waiting and still to come.
        wait_until(lambda: connected(pbx, numbers) >= 2, 40)
        proc.kill()
        # While no engine listens, calls end and others are answered.
        killed = connected(pbx, numbers), completed(pbx, numbers)
        wait_until(lambda: connected(pbx, numbers) >= killed[0] + 2 and
                   completed(pbx, numbers) >= killed[1] + 1, 40)
        proc.start()         # replays queue_log from its cursor, then follows live
        wait_for_outcomes(pbx, set(numbers), timeout=120)
        wait_until(lambda: len([s for s in stays(engine, numbers) if s.talk_s is not None]) == 10,
                   40, lambda: stays(engine, numbers))
    finally:
        proc.stop()
    assert differences(engine, pbx.instance.queue_log, started - 2, time.time()) == []
    with Session(engine) as s:
        assert s.query(Call).filter(Call.caller_number.in_(numbers)).count() == 10
    # Checked again without the project's reader (reconcile and replay share it): queue_log's
    # raw fields, split here, against every replayed or live row.
    raw: dict[str, dict[str, str]] = {}
    for line in pbx.instance.queue_log.read_text(errors="replace").splitlines():
        f = line.split("|")
        if len(f) > 6 and f[4] == "ENTERQUEUE" and f[6] in numbers:
            raw[f[1]] = {"number": f[6]}
        elif len(f) > 6 and f[1] in raw and f[4] == "CONNECT":
            raw[f[1]].update(seat=f[3], wait=f[5])
        elif len(f) > 6 and f[1] in raw and f[4] in ("COMPLETEAGENT", "COMPLETECALLER"):
            raw[f[1]].update(talk=f[6])
    assert len(raw) == 10
    with Session(engine) as s:
        for callid, r in raw.items():
            call = s.get(Call, callid)
            assert call is not None and call.caller_number == r["number"], callid
            assert call.ended_at is not None and call.outcome == "answered", callid
            assert call.seat_id == r["seat"], callid
            assert abs(call.wait_s - int(r["wait"])) <= 1.0, (callid, call.wait_s, r)
            assert abs(call.talk_s - int(r["talk"])) <= 1.0, (callid, call.talk_s, r)


def test_reconcile_finds_a_removed_record(pbx: RunningPbx, sipp, ledger, tmp_path,
                                          numbers) -> None:
    url, engine = ledger
    proc = EngineProcess(pbx, url, None, tmp_path / "engine.log")
    proc.start()
    try:
        sipp.seat("8001", pbx.seat_password("8001"), ring_s=0.2, talk_s=1.0)
        hotline(pbx, "seat", "signin", "8001")
        started = time.time()
        numbers = numbers(2)
        sipp.callers("two", numbers, hold_s=30, rate=5)
        wait_for_outcomes(pbx, set(numbers), timeout=60)
        wait_until(lambda: len([s for s in stays(engine, numbers) if s.talk_s is not None]) == 2,
                   30, lambda: stays(engine, numbers))
    finally:
        proc.stop()
    assert differences(engine, pbx.instance.queue_log, started - 2, time.time()) == []
    with Session(engine) as s, s.begin():
        victim = s.scalars(select(QueueCall).join(Call)
                           .where(Call.caller_number == numbers[0])).first()
        assert victim is not None
        callid = victim.uniqueid
        s.delete(victim)
    found = differences(engine, pbx.instance.queue_log, started - 2, time.time())
    assert [(d.callid, d.what) for d in found] == [(callid, "missing_in_ledger")]
    # The same from the command line (--since is the center's local time): listed, exit 1.
    since = datetime.fromtimestamp(started - 2, ZoneInfo(pbx.center.timezone)) \
        .replace(tzinfo=None).isoformat(timespec="seconds")
    out = subprocess.run([sys.executable, "-m", "hotline.shell.cli", "--center", str(pbx.center_file),
                          "stats", "reconcile", "--database", url, "--queue-log",
                          str(pbx.instance.queue_log), "--since", since],
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 1 and f"{callid} manual: missing_in_ledger" in out.stdout
    assert len(out.stdout.splitlines()) == 1, out.stdout   # the window is this test's only


def test_overflow_to_another_queue_is_recorded(tmp_path, ledger, numbers) -> None:
    """A queue whose wait passes its limit sends the caller on to its overflow queue; the
    ledger keeps both stays (overflowed, then answered) and queue_log agrees."""
    import os

    from hotline.shell.simulate.sipp import Sipp
    from tests.support.rig import example_center_data, running_pbx

    url, engine = ledger
    caller = numbers.one()
    data = example_center_data()
    highway = next(q for q in data["queues"] if q["name"] == "highway")
    highway.update(overflow_to="manual", overflow_after_s=3)
    with running_pbx(tmp_path, f"overflow-{os.getpid()}", data) as pbx:
        proc = EngineProcess(pbx, url, None, tmp_path / "engine.log")
        sipp = Sipp("127.0.0.1", pbx.node.sip_port)
        router = subprocess.Popen([sys.executable, "-m", "tests.support.agi_router",
                                   str(pbx.node.fastagi_port), "queue:highway"],
                                  stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        try:
            assert router.stdout is not None and router.stdout.readline().strip() == b"ready"
            proc.start()
            # The only seat is in manual, not in highway: highway's callers overflow.
            sipp.seat("8004", pbx.seat_password("8004"), ring_s=0.2, talk_s=1.0)
            hotline(pbx, "seat", "signin", "8004", "--queue", "manual")
            started = time.time()
            sipp.callers("over", [caller], hold_s=30).wait(40)
            wait_until(lambda: any(s.talk_s is not None for s in stays(engine, [caller])),
                       20, lambda: stays(engine, [caller]))
        finally:
            router.kill()
            router.wait()
            if router.stdout is not None:
                router.stdout.close()
            sipp.close()
            proc.stop()
        found = differences(engine, pbx.instance.queue_log, started - 2, time.time())
    mine = stays(engine, [caller])
    assert [(s.queue, s.outcome) for s in mine] == [("highway", "overflowed"),
                                                   ("manual", "answered")]
    # app_queue sets a caller's expiry in whole seconds (time(NULL) + 3 at entry): the
    # overflow comes between 2 and 3 s after entering, plus its poll (2.002 s seen in CI).
    assert 1.9 <= mine[0].wait_s <= 4.5
    with Session(engine) as s:
        call = s.scalars(select(Call).where(Call.caller_number == caller)).one()
    assert (call.first_queue, call.final_queue, call.outcome) == ("highway", "manual", "answered")
    # queue_log says EXITWITHTIMEOUT then ENTERQUEUE elsewhere: the reconciler reads it as
    # an overflow too, and the two agree.
    assert found == []
