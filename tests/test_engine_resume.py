"""Taking up after a restart, on a real SQLite ledger with queue_log files written here: a
390-second call that spans an engine restart and ends while nobody listens gets its talk,
wrap-up and end from queue_log (issue 13's reproduction); the replay reads on from the saved
position, not from the start; a talk whose AgentComplete was lost or came without the
caller's Uniqueid is completed. (The same on the rig: tests/test_engine_durability.py.)"""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from acd.engine import Engine
from acd.history import db
from acd.history.models import Call, EngineCursor, SeatInterval
from acd.seats.state import SeatState
from hotline.center import EXAMPLE, load

CENTER = load(EXAMPLE)
# An hour ago, whenever the test runs: a restarted engine takes up calls of the last 24 h
# only (Ledger.resume's horizon, on the real clock); a fixed date failed a day later.
T = int(time.time()) // 100 * 100 - 3600
UID = f"pbx1-{T}.7"


def new_engine(tmp_path: Path, queue_log: Path | None) -> Engine:
    url = f"sqlite:///{tmp_path / 'ledger.sqlite'}"
    sql = db.make_engine(url)
    db.create_schema(sql)
    return Engine(CENTER, db.session_factory(sql), {"pbx1": "x"}, None, {"pbx1": queue_log},
                  journal_dir=tmp_path / "journal")


def log(path: Path, *lines: str) -> None:
    with open(path, "a", encoding="utf-8") as f:
        f.writelines(line + "\n" for line in lines)


def ev(name: str, at: float, **fields: str) -> dict[str, str]:
    return {"Event": name, "Timestamp": f"{at:.3f}", **fields}


def test_a_long_call_that_ends_while_the_engine_is_dead_is_completed(tmp_path) -> None:
    queue_log = tmp_path / "queue_log"
    log(queue_log, f"{T - 100}|NONE|NONE|NONE|QUEUESTART|",
        f"{T - 60}|MANAGER|manual|8001|ADDMEMBER|")

    async def first_run() -> None:
        engine = new_engine(tmp_path, queue_log)
        link = engine.links["pbx1"]
        await engine._resume(link)
        await engine._commit(link, await engine._replay(link))  # a new ledger: imports
        await engine._on_event(link, ev("QueueMemberAdded", T - 60, Queue="manual",
                                        MemberName="8001", Paused="0"))
        await engine._on_event(link, ev("Newchannel", T - 20, Uniqueid=UID, Linkedid=UID,
                                        Context="hotline-inbound", CallerIDNum="13900000777",
                                        Exten="12328"))
        log(queue_log, f"{T}|{UID}|manual|NONE|ENTERQUEUE||13900000777|1")
        await engine._on_event(link, ev("QueueCallerJoin", T + 0.4, Uniqueid=UID,
                                        Queue="manual", Position="1"))
        log(queue_log, f"{T + 3}|{UID}|manual|8001|CONNECT|3|pbx1-{T}.8|1")
        await engine._on_event(link, ev("AgentConnect", T + 3.2, Uniqueid=UID,
                                        Queue="manual", MemberName="8001", HoldTime="3"))
        assert await engine.drained()
        # SIGKILL: the engine goes; nothing more is applied.

    asyncio.run(first_run())
    with Session(db.make_engine(f"sqlite:///{tmp_path / 'ledger.sqlite'}")) as s:
        cursor = s.get(EngineCursor, "pbx1")
        assert cursor is not None and cursor.queue_log_offset is not None
        saved = cursor.queue_log_offset
    # While the engine is dead: the seat hangs up after 390 s of talk, the caller rates.
    log(queue_log, f"{T + 393}|{UID}|manual|8001|COMPLETEAGENT|3|390|1",
        f"{T + 500}|MANAGER|manual|8002|ADDMEMBER|")

    async def second_run() -> Engine:
        engine = new_engine(tmp_path, queue_log)
        link = engine.links["pbx1"]
        await engine._resume(link)
        assert link.position is not None and link.position.offset == saved
        assert UID in engine.model.calls  # open in the ledger: taken up
        assert engine.model.seats["8001"].state is SeatState.ON_CALL
        await engine._commit(link, await engine._replay(link))
        # The resync finds the caller's channel gone: it ended, no earlier than it was seen.
        await engine._end_gone(link, [UID], T + 2000)
        assert await engine.drained()
        return engine

    engine = asyncio.run(second_run())
    assert engine.model.seats["8001"].state is SeatState.READY
    with Session(db.make_engine(f"sqlite:///{tmp_path / 'ledger.sqlite'}")) as s:
        call = s.get(Call, UID)
        assert call is not None
        wraps = list(s.scalars(select(SeatInterval).where(
            SeatInterval.seat_id == "8001", SeatInterval.state == "wrapup")))
        states = [i.state for i in s.scalars(select(SeatInterval).where(
            SeatInterval.seat_id == "8001").order_by(SeatInterval.started_at))]
    # The end is the line's whole second, the answer the live event's: 393 - 3.2.
    assert call.talk_s == 389.8 and call.seat_id == "8001" and call.outcome == "answered"
    assert call.ended_at is not None and call.ended_at.timestamp() > 0
    assert call.wait_s is not None and abs(call.wait_s - 2.8) < 0.01  # live, to the ms
    # The wrap-up (5 s on manual) ran while nobody listened: written as it happened.
    assert [(w.uniqueid, (w.ended_at - w.started_at).total_seconds()) for w in wraps] == [
        (UID, 5.0)]
    assert call.wrapup_s == 5.0
    assert states == ["ready", "on_call", "wrapup", "ready"]


def test_the_replay_reads_on_from_the_saved_position(tmp_path) -> None:
    queue_log = tmp_path / "queue_log"
    log(queue_log, *[f"{T + i}|pbx1-{T}.{i}|manual|NONE|ENTERQUEUE||1390000{i:04d}|1"
                     for i in range(200)])

    async def run() -> tuple[int, int]:
        engine = new_engine(tmp_path, queue_log)
        link = engine.links["pbx1"]
        await engine._resume(link)
        await engine._replay(link)
        first = link.position
        log(queue_log, f"{T + 300}|pbx1-{T}.300|manual|NONE|ENTERQUEUE||13900000300|1")
        link.replayed = False
        lines = []
        import acd.history.replay as replay_mod
        real = replay_mod.replay

        def counting(model, got, *a, **k):  # type: ignore[no-untyped-def]
            lines.extend(got)
            return real(model, got, *a, **k)
        import acd.engine as engine_mod
        engine_mod.replay = counting  # type: ignore[assignment]
        try:
            await engine._replay(link)
        finally:
            engine_mod.replay = real  # type: ignore[assignment]
        assert first is not None and link.position is not None
        return len(lines), link.position.offset - first.offset

    read, grown = asyncio.run(run())
    assert read == 1 and grown == len(f"{T + 300}|pbx1-{T}.300|manual|NONE|ENTERQUEUE||"
                                       "13900000300|1\n")


def test_a_talk_is_completed_when_its_agentcomplete_is_lost_or_names_no_caller(
        tmp_path) -> None:
    engine = new_engine(tmp_path, None)
    link = engine.links["pbx1"]
    a, b = f"pbx1-{T}.1", f"pbx1-{T}.2"

    async def run() -> None:
        link.writer.start()
        for seat in ("8001", "8002"):
            await engine._on_event(link, ev("QueueMemberAdded", T, Queue="manual",
                                            MemberName=seat, Paused="0"))
        for uid, seat in ((a, "8001"), (b, "8002")):
            await engine._on_event(link, ev("QueueCallerJoin", T + 1, Uniqueid=uid,
                                            Queue="manual", Position="1"))
            await engine._on_event(link, ev("AgentConnect", T + 2, Uniqueid=uid,
                                            Queue="manual", MemberName=seat))
        # a: the caller hangs up first; Asterisk 22's AgentComplete has no caller fields.
        await engine._on_event(link, ev("AgentComplete", T + 30, Queue="manual",
                                        MemberName="8001", TalkTime="28", Reason="caller"))
        await engine._on_event(link, ev("Hangup", T + 30.1, Uniqueid=a))
        # b: its AgentComplete never comes (Asterisk stopping); the caller's Hangup does.
        await engine._on_event(link, ev("Hangup", T + 40, Uniqueid=b))
        assert await engine.drained()
        await asyncio.to_thread(link.writer.stop)

    asyncio.run(run())
    assert link.malformed == 0
    assert {s: engine.model.seats[s].state for s in ("8001", "8002")} == {
        "8001": SeatState.WRAPUP, "8002": SeatState.WRAPUP}
    with Session(db.make_engine(f"sqlite:///{tmp_path / 'ledger.sqlite'}")) as s:
        talk = {c.uniqueid: c.talk_s for c in s.scalars(select(Call))}
    assert talk == {a: 28.0, b: 38.0}
