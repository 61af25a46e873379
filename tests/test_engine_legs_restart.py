"""Calls and callback legs that end while the engine is dead are ended on recovery (issue 13,
the soak's `open_calls: 1`), on the real Asterisk with the engine as its own process:

- a caller who pressed 1 in a queue (its callback booked) and was hung up while the engine was
  dead: the restarted engine took the call up twice (open, and among the ended calls whose
  callback is to come), its queue_log line dropped it from the calls in progress and its row
  stayed open for good (the soak's open call; red before the fix);
- a callback's leg (a Local channel holding a place in a queue, as the dialer places it) hung
  up while the engine was dead (the resync ended it already: kept as a guard);
- rows older than the day a restart takes up: the resync ends the one whose channel is gone
  and leaves alone the one whose channel is up (red before: such rows stayed open).
"""

from __future__ import annotations

import signal
import time
from datetime import UTC, datetime

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from acd.history.models import Call, QueueCall
from tests.support.ami_tap import AmiTap
from tests.support.callers import build_prompts
from tests.support.engine import EngineProcess
from tests.support.rig import RunningPbx
from tests.support.waiting import wait_for

pytestmark = pytest.mark.asterisk


def leg(tap: AmiTap, row: int, number: str, call: str) -> str:
    """A leg as acd/callers/dialer.py places it; the Uniqueid of its half in the queue."""
    uid = f"pbx1-hotline-cb-{row}-1-q"
    tap.send({"Action": "Originate", "ActionID": f"hotline-cb-{row}-1",
              "Channel": f"Local/{row}@hotline-callback-leg/n",
              "Context": "hotline-callback-dial", "Exten": str(row), "Priority": "1",
              "Timeout": "600000", "Async": "true", "CallerID": f'"回电" <{number}>',
              "ChannelId": f"pbx1-hotline-cb-{row}-1-a", "OtherChannelId": uid,
              "Variable": f"__CB_CALL={call},__CB_QUEUE=manual,__CB_POSITION=,"
                          f"__CB_PRIORITY=0,__CB_NUMBER={number},__CB_RING_S=5,"
                          f"__CB_WAIT_S=600,__CB_LEG={uid}"})
    return uid


def row(engine, uid: str) -> Call | None:  # type: ignore[no-untyped-def]
    with Session(engine) as s:
        return s.scalars(select(Call).where(Call.uniqueid == uid)).first()


def epoch(dt: datetime) -> float:
    return dt.replace(tzinfo=UTC).timestamp()


def test_a_leg_that_ends_while_the_engine_is_dead_is_ended_on_recovery(
        pbx: RunningPbx, ledger, numbers, tmp_path) -> None:
    url, engine = ledger
    ended_number, kept_number = numbers(2)
    proc = EngineProcess(pbx, url, None, tmp_path / "engine.log")
    tap = AmiTap(**pbx.ami, events="user,call")
    try:
        proc.start()
        # The calls they call back (any id: the leg's model only names it).
        gone = leg(tap, 9101, ended_number, "pbx1-1.1")
        kept = leg(tap, 9102, kept_number, "pbx1-1.2")
        for uid in (gone, kept):
            wait_for(f"the leg {uid} in the ledger, in its queue", lambda uid=uid: (
                (c := row(engine, uid)) is not None and c.callback_of is not None and
                c.queued_at is not None), 30)
        proc.kill()
        killed = time.time()
        pbx.instance.cli(f"channel request hangup Local/9101@hotline-callback-leg-"
                         f"{_local_suffix(pbx, 9101)};2")
        wait_for("the leg gone from the queue", lambda: any(
            r[1] == gone and r[4] == "ABANDON" for r in pbx.queue_log()), 30)
        hung_up = time.time()
        proc.start()
        restarted = time.time()
        c = wait_for("the leg that ended meanwhile ended in the ledger", lambda: (
            (c := row(engine, gone)) is not None and c.ended_at is not None and c), 30)
        assert c.callback_of == "pbx1-1.1"  # still a leg, not a call into the center
        assert killed - 5 <= epoch(c.ended_at) <= restarted + 1, (c.ended_at, killed, hung_up)
        time.sleep(2)  # the resync has run (ami connected): the leg still up stays open
        still = row(engine, kept)
        assert still is not None and still.ended_at is None
    finally:
        tap.close()
        proc.stop()


def test_a_call_that_booked_a_callback_and_hung_up_while_the_engine_was_dead_ends(
        pbx: RunningPbx, sipp, ledger, numbers, tmp_path) -> None:
    """The soak's open call (issue 13): a caller in a queue presses 1 (a callback keeps its
    place), the engine writes the callback and dies before the caller's hang-up (it hears
    that its callback is booked, then Asterisk hangs up). The restarted engine took the call
    up twice, open and among the ended calls whose callback is to come, and its queue_log
    line after the saved position (EXITWITHKEY) dropped it from the calls in progress: the
    resync never ended it, its row stayed open for good. It must end, before the restart."""
    url, engine = ledger
    proc = EngineProcess(pbx, url, None, tmp_path / "engine.log")
    tap = AmiTap(**pbx.ami, events="user,call")

    def hung_up(uid: str, events: list[dict[str, str]]) -> bool:
        return any(e.get("Event") == "Hangup" and e.get("Uniqueid") == uid for e in events)

    try:
        proc.start()
        # A seat signed in but busy: the caller waits in the queue (none signed in: a message).
        sipp.seat("8001", pbx.seat_password("8001"), ring_s=0.3, talk_s=2.0)
        pbx.instance.cli("queue add member PJSIP/8001 to manual penalty 0 as 8001")
        pbx.instance.cli("queue pause member PJSIP/8001 queue manual reason meeting")
        build_prompts(pbx)  # "callback booked" is played: 7 s before Asterisk hangs up
        # The engine must stop between writing the callback and the caller's hang-up (about
        # 7 s later, after "callback booked"): on a loaded machine the write may be seen too
        # late, and then the scene is played again with another caller.
        for number in numbers(3):
            sipp.callers(f"books-{number}", [number], digits=[(3.0, "1")] * 8, hold_s=30)
            uid = wait_for("the callback written by the engine", lambda n=number: (
                _callback_booked(engine, n)), 40)
            # The engine stops on the spot (then dies): the caller's hang-up comes meanwhile.
            proc.proc.send_signal(signal.SIGSTOP)  # type: ignore[union-attr]
            stopped = time.time()
            seen = list(tap.events)
            wait_for("the caller hung up by Asterisk",
                     lambda uid=uid: hung_up(uid, list(tap.events)), 30)
            if not hung_up(uid, seen):
                break
            proc.proc.send_signal(signal.SIGCONT)  # type: ignore[union-attr]
        assert not hung_up(uid, seen), "each time, the hang-up came before the engine stopped"
        c = row(engine, uid)
        assert c is not None and c.ended_at is None  # the engine never saw the hang-up
        proc.kill()
        proc.start()
        restarted = time.time()
        c = wait_for("the call ended in the ledger", lambda: (
            (c := row(engine, uid)) is not None and c.ended_at is not None and c), 20)
        assert stopped - 15 <= epoch(c.ended_at) <= restarted + 1, (c.ended_at, stopped)
        assert c.callback_of is None and c.outcome == "callback"  # the call, as it was
    finally:
        tap.close()
        if proc.proc is not None and proc.proc.poll() is None:
            proc.proc.send_signal(signal.SIGCONT)
        proc.stop()


def _callback_booked(engine, number: str) -> str | None:  # type: ignore[no-untyped-def]
    """The call from `number` once the ledger has its stay as a callback: its Uniqueid."""
    with Session(engine) as s:
        return s.scalars(select(Call.uniqueid).join(QueueCall).where(
            Call.caller_number == number, Call.callback_of.is_(None),
            QueueCall.outcome == "callback")).first()


def test_rows_the_engine_does_not_follow_are_ended_when_their_channel_is_gone(
        pbx: RunningPbx, ledger, numbers, tmp_path) -> None:
    """Open rows older than the take-up horizon (a restart takes up a day of open calls):
    the resync on connect ends the one whose channel is gone, at the last moment the ledger
    knows of it, and leaves alone the one whose channel is up (a leg still in its queue)."""
    url, engine = ledger
    gone_number, up_number = numbers(2)
    day_ago = time.time() - 90000  # 25 h: older than Ledger.resume's horizon
    tap = AmiTap(**pbx.ami, events="user,call")
    proc = EngineProcess(pbx, url, None, tmp_path / "engine.log")
    try:
        up = leg(tap, 9103, up_number, "pbx1-1.3")
        wait_for("the leg in its queue", lambda: any(
            r[1] == up and r[4] == "ENTERQUEUE" for r in pbx.queue_log()), 30)
        gone = f"pbx1-{int(day_ago)}.1"
        with Session(engine) as s, s.begin():
            for uid, number, leg_of in ((gone, gone_number, None), (up, up_number, "pbx1-1.3")):
                s.add(Call(uniqueid=uid, linkedid=uid, node="pbx1", center=pbx.center.code,
                           caller_number=number, started_at=_utc(day_ago),
                           queued_at=_utc(day_ago + 12), first_queue="manual",
                           final_queue="manual", outcome="waiting", callback_of=leg_of))
                s.add(QueueCall(uniqueid=uid, center=pbx.center.code, queue="manual",
                                entered_at=_utc(day_ago + 12), outcome="waiting"))
        proc.start()
        c = wait_for("the row whose channel is gone ended", lambda: (
            (c := row(engine, gone)) is not None and c.ended_at is not None and c), 20)
        assert abs(epoch(c.ended_at) - (day_ago + 12)) < 1  # the last moment known of it
        assert c.outcome == "abandoned"  # gone from the queue with no word: abandoned
        still = row(engine, up)
        assert still is not None and still.ended_at is None  # its channel is up
        assert any("call ended while not seen" in line and gone in line
                   for line in proc.lines)
    finally:
        tap.close()
        proc.stop()


def _utc(ts: float) -> datetime:
    return datetime.fromtimestamp(ts, UTC).replace(tzinfo=None)


def _local_suffix(pbx: RunningPbx, exten: int) -> str:
    """The Local channel's instance suffix, as `core show channels concise` lists it."""
    out = pbx.instance.cli("core show channels concise")
    for line in out.splitlines():
        name = line.split("!")[0]
        prefix = f"Local/{exten}@hotline-callback-leg-"
        if name.startswith(prefix) and name.endswith(";2"):
            return name[len(prefix):-2]
    raise AssertionError(f"no Local/{exten} channel: {out}")
