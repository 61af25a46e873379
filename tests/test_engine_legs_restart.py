"""A callback's leg that ends while the engine is dead is ended on recovery (issue 13, the soak's
`open_calls`), on the real Asterisk with the engine as its own process: a leg placed as the
dialer places it (a Local channel whose second half holds a place in a queue,
`hotline-callback-leg`) waits in a queue nobody answers; the engine is SIGKILLed; the leg is
hung up while it is dead; the engine starts again. Its ledger row must end, no later than the
restart and no earlier than the engine last heard of it, and the leg stays a leg. A leg still
up across the same restart stays open (the rule never closes a call that is still up).
"""

from __future__ import annotations

import time
from datetime import UTC, datetime

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from acd.history.models import Call, QueueCall
from tests.support.ami_tap import AmiTap
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
