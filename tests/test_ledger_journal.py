"""The journal and the writer on a real SQLite ledger: a write the database refuses is kept and
retried in order until it goes in, the event loop does not wait meanwhile, a record is
applied once even when it is handed over twice, and what a killed engine left in its journal
is applied by the next one. (On the rig, with the engine as its own process:
tests/test_engine_durability.py.)"""

from __future__ import annotations

import asyncio
import time

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from acd.engine import Engine
from acd.history import db
from acd.history.journal import Journal
from acd.history.ledger import Ledger
from acd.history.models import Call, EngineCursor, QueueCall, SeatInterval
from acd.history.writer import LedgerWriter
from acd.seats.state import SeatState
from hotline.center import EXAMPLE, load

CENTER = load(EXAMPLE)
T = 1796100000.0


def ledger_db(tmp_path):  # type: ignore[no-untyped-def]
    engine = db.make_engine(f"sqlite:///{tmp_path / 'ledger.sqlite'}", timeout_s=0.5)
    db.create_schema(engine)
    return engine


def arm_fault(engine) -> None:  # type: ignore[no-untyped-def]
    """From now on the database refuses to write a call's end (as a full disk or a broken
    constraint would), until `disarm`."""
    with engine.begin() as c:
        c.execute(text("CREATE TABLE IF NOT EXISTS fault (armed INTEGER)"))
        c.execute(text("DELETE FROM fault"))
        c.execute(text("INSERT INTO fault VALUES (1)"))
        for op in ("INSERT", "UPDATE"):
            c.execute(text(f"CREATE TRIGGER IF NOT EXISTS refuse_end_{op} BEFORE {op} ON calls "
                           "WHEN NEW.ended_at IS NOT NULL AND (SELECT armed FROM fault) = 1 "
                           "BEGIN SELECT RAISE(ABORT, 'injected write failure'); END"))


def disarm(engine) -> None:  # type: ignore[no-untyped-def]
    with engine.begin() as c:
        c.execute(text("UPDATE fault SET armed = 0"))


def call_events(uid: str, seat: str, t: float, talk: float) -> list[dict[str, str]]:
    """A call as Asterisk 22 reports it: in, queued, rung, answered, completed, hung up."""
    def ev(name: str, at: float, **f: str) -> dict[str, str]:
        return {"Event": name, "Uniqueid": uid, "Timestamp": f"{at:.3f}", **f}
    return [ev("Newchannel", t, Context="hotline-inbound", CallerIDNum="13900000001",
               Exten="12328", Linkedid=uid),
            ev("QueueCallerJoin", t + 5, Queue="manual", Position="1"),
            ev("AgentCalled", t + 6, Queue="manual", MemberName=seat),
            ev("QueueCallerLeave", t + 7, Queue="manual"),
            ev("AgentConnect", t + 7, Queue="manual", MemberName=seat, HoldTime="2"),
            ev("AgentComplete", t + 7 + talk, Queue="manual", MemberName=seat,
               TalkTime=str(int(talk)), Reason="agent"),
            ev("Hangup", t + 9 + talk)]


def rows(engine, uid: str) -> tuple[Call | None, list[QueueCall]]:  # type: ignore[no-untyped-def]
    with Session(engine) as s:
        return s.get(Call, uid), list(s.scalars(select(QueueCall).where(
            QueueCall.uniqueid == uid)))


def test_a_refused_write_is_kept_and_retried_until_it_goes_in(tmp_path) -> None:
    engine_db = ledger_db(tmp_path)
    engine = Engine(CENTER, db.session_factory(engine_db), {"pbx1": "x"}, None,
                    {"pbx1": None}, journal_dir=tmp_path / "journal")
    link = engine.links["pbx1"]
    uid = "pbx1-1796100000.1"

    async def shift() -> list[float]:
        link.writer.start()
        await engine._on_event(link, {"Event": "QueueMemberAdded", "Queue": "manual",
                                      "MemberName": "8001", "Paused": "0",
                                      "Timestamp": f"{T - 10:.3f}"})
        arm_fault(engine_db)
        stalls = []
        for raw in call_events(uid, "8001", T, talk=42.0):
            t0 = time.perf_counter()
            await engine._on_event(link, raw)
            stalls.append(time.perf_counter() - t0)
        # The database refuses; the live model went on all the same.
        deadline = time.monotonic() + 10
        while link.writer.failures < 2 and time.monotonic() < deadline:
            await asyncio.sleep(0.05)
        assert engine.model.seats["8001"].state is SeatState.WRAPUP
        assert uid not in engine.model.calls
        assert link.writer.backlog > 0 and "injected write failure" in link.writer.last_error
        await engine._on_event(link, {"Event": "HotlineWrapupOver", "MemberName": "8001",
                                      "Timestamp": f"{T + 59:.3f}"})
        disarm(engine_db)
        assert await engine.drained(20)
        await asyncio.to_thread(link.writer.stop)
        return stalls

    stalls = asyncio.run(shift())
    assert max(stalls) < 0.2, "the event loop waited for the database"
    call, stays = rows(engine_db, uid)
    assert call is not None and call.ended_at is not None
    assert call.talk_s == 42.0 and call.seat_id == "8001" and call.wrapup_s == 10.0
    assert [(s.outcome, s.wait_s, s.talk_s) for s in stays] == [("answered", 2.0, 42.0)]
    with Session(engine_db) as s:
        states = [(i.state, i.ended_at is None) for i in s.scalars(
            select(SeatInterval).where(SeatInterval.seat_id == "8001")
            .order_by(SeatInterval.started_at))]
    # In order: ready, rung, on the call, wrap-up (closed after 10 s), ready again (open).
    assert states == [("ready", False), ("ringing", False), ("on_call", False),
                      ("wrapup", False), ("ready", True)]


def test_a_record_is_applied_once_and_a_killed_engines_journal_is_applied_next_start(
        tmp_path) -> None:
    engine_db = ledger_db(tmp_path)
    sessions = db.session_factory(engine_db)
    path = tmp_path / "journal" / "pbx1.jsonl"
    ledger = Ledger(sessions, CENTER.code, "pbx1")
    # An engine keeps two records and is killed before its writer ran (the file is all).
    journal = Journal(path)
    seats = [{"seat": "8002", "new": "busy", "at": T, "reason": "meal", "queue": "",
              "uniqueid": ""}]
    first = journal.append({"calls": [], "seats": seats, "cursor": None, "outages": []})
    second = journal.append({"calls": [], "seats": [], "cursor": {"at": T + 1}, "outages":
                             [{"start": T + 1, "reason": "lost"}]})
    assert second > first
    del journal  # SIGKILL: nothing more happens to it
    # The next engine's writer applies them, in one transaction with the last seq.
    again = LedgerWriter(ledger, Journal(path))
    assert again.journal.backlog == 2
    again.start()
    assert again.stop(10)
    assert path.stat().st_size == 0  # caught up: emptied
    # Handing the same records over again (a crash between the commit and emptying the
    # journal) changes nothing.
    assert ledger.apply([{"seq": first, "calls": [], "seats": seats, "cursor": None,
                          "outages": []}]) == 0
    with Session(engine_db) as s:
        busy = list(s.scalars(select(SeatInterval).where(SeatInterval.seat_id == "8002")))
        cursor = s.get(EngineCursor, "pbx1")
    assert [(b.state, b.reason) for b in busy] == [("busy", "meal")]
    assert cursor is not None and cursor.journal_seq == second
    # Numbers keep growing after a restart even with the journal gone.
    path.unlink()
    assert Journal(path).append({"calls": [], "seats": [], "cursor": None,
                                 "outages": []}) > second


def test_a_lock_longer_than_the_timeout_delays_writes_never_the_loop(tmp_path) -> None:
    """Another connection holds the database's write lock for 3 s (the engine's timeout is
    0.5 s): the writer's statements time out and are retried; events keep flowing."""
    import sqlite3
    import threading

    engine_db = ledger_db(tmp_path)
    engine = Engine(CENTER, db.session_factory(engine_db), {"pbx1": "x"}, None,
                    {"pbx1": None}, journal_dir=tmp_path / "journal")
    link = engine.links["pbx1"]
    locked, release = threading.Event(), threading.Event()

    def hold_lock() -> None:
        conn = sqlite3.connect(tmp_path / "ledger.sqlite", isolation_level=None)
        conn.execute("BEGIN EXCLUSIVE")
        locked.set()
        release.wait(10)
        conn.execute("COMMIT")
        conn.close()

    async def shift() -> float:
        link.writer.start()
        await engine._on_event(link, {"Event": "QueueMemberAdded", "Queue": "manual",
                                      "MemberName": "8003", "Paused": "0",
                                      "Timestamp": f"{T:.3f}"})
        holder = threading.Thread(target=hold_lock)
        holder.start()
        locked.wait(5)
        worst = 0.0
        for raw in call_events("pbx1-1796100000.9", "8003", T + 1, talk=5.0):
            t0 = time.perf_counter()
            await engine._on_event(link, raw)
            worst = max(worst, time.perf_counter() - t0)
        deadline = time.monotonic() + 10
        while link.writer.failures == 0 and time.monotonic() < deadline:
            await asyncio.sleep(0.05)
        assert link.writer.failures >= 1 and "locked" in link.writer.last_error
        await asyncio.sleep(2.5)
        release.set()
        holder.join()
        assert await engine.drained(20)
        await asyncio.to_thread(link.writer.stop)
        return worst

    worst = asyncio.run(shift())
    assert worst < 0.2
    call, stays = rows(engine_db, "pbx1-1796100000.9")
    assert call is not None and call.ended_at is not None and call.talk_s == 5.0


def test_a_missing_queue_log_is_an_error_on_the_nodes_view(tmp_path) -> None:
    missing = tmp_path / "nowhere" / "queue_log"
    engine = Engine(CENTER, db.session_factory(ledger_db(tmp_path)), {"pbx1": "x"}, None,
                    {"pbx1": missing})
    link = engine.links["pbx1"]
    asyncio.run(engine._replay(link))
    view = engine.snapshot()["nodes"]["pbx1"]
    assert str(missing) in view["queue_log_error"]
    assert not link.replayed  # tried again at the next connect
