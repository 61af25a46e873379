"""Nothing lost (issue 13), on the real Asterisk with the engine as its own process and a
SQLite ledger: one shift in which a call of 70 s spans two engine SIGKILLs (it ends while the
engine is dead), the database refuses the writes of a call's end, then is locked for longer
than the engine's timeout while a call completes and hangs up, and the engine's AMI
connection is cut while a waiting caller gives up (its Hangup is never seen). Meanwhile the
wallboard (Redis) and the API keep answering. It ends with the ledger equal to queue_log call
for call (`hotline stats reconcile` finds no difference), every call ended and in the upload.

The long call runs through all the other faults (70 s is what they take here): the suite
gets the long-call check for the time of the others.
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import threading
import time
import urllib.request
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from acd.history.models import Call, QueueCall
from acd.live.store import read_snapshot
from hotline.shell.simulate.faults import TcpProxy, allow_call_ends, hold_lock, refuse_call_ends
from tests.support.engine import EngineProcess
from tests.support.rig import RunningPbx, dump_toml
from tests.support.waiting import wait_for
from tests.test_rig_calls import calls_by_number

pytestmark = pytest.mark.asterisk

LONG_S = 70


def cli(pbx: RunningPbx, *args: str, center: Path | None = None) -> subprocess.CompletedProcess:
    import os
    env = {**os.environ, "HOTLINE_VAR": str(pbx.state)}
    return subprocess.run([sys.executable, "-m", "hotline.shell.cli", "--center",
                           str(center or pbx.center_file), *args], env=env,
                          capture_output=True, text=True, timeout=60)


def ok(out: subprocess.CompletedProcess) -> str:  # type: ignore[type-arg]
    assert out.returncode == 0, out.stdout + out.stderr
    return out.stdout


def snapshot(redis_url: str) -> dict:  # type: ignore[type-arg]
    return asyncio.run(read_snapshot(redis_url, "shenyang"))


def calls(engine, numbers) -> dict[str, Call]:  # type: ignore[no-untyped-def]
    with Session(engine) as s:
        return {c.caller_number: c for c in s.scalars(
            select(Call).where(Call.caller_number.in_(list(numbers))))}


def stay(engine, number: str) -> QueueCall | None:  # type: ignore[no-untyped-def]
    with Session(engine) as s:
        return s.scalars(select(QueueCall).join(Call)
                         .where(Call.caller_number == number)).first()


def logged(pbx: RunningPbx, number: str, event: str) -> list[str] | None:
    """queue_log's line of that event for the call from that number, if written yet."""
    rows = calls_by_number(pbx, {number}).get(number, [])
    return next((r for r in rows if r[4] == event), None)


def ended(engine, number: str) -> bool:  # type: ignore[no-untyped-def]
    c = calls(engine, [number]).get(number)
    return c is not None and c.ended_at is not None


def api_live_s(port: int, token: str) -> float:
    """How long the API takes to answer GET /api/live."""
    t0 = time.monotonic()
    req = urllib.request.Request(f"http://127.0.0.1:{port}/api/live",
                                 headers={"Authorization": f"Bearer {token}"})
    with urllib.request.urlopen(req, timeout=10) as r:
        assert r.status == 200
    return time.monotonic() - t0


def test_nothing_lost_across_kills_refusals_locks_and_a_lost_hangup(
        pbx: RunningPbx, sipp, ledger, redis_url, numbers, tmp_path) -> None:
    import tomllib

    url, engine = ledger
    # The engine reaches AMI through a relay the test can cut (Asterisk keeps running).
    proxy = TcpProxy(pbx.node.ami_port)
    data = tomllib.loads(pbx.center_file.read_text(encoding="utf-8"))
    data["nodes"][0]["ami_port"] = proxy.port
    relayed = tmp_path / "center-relayed.toml"
    relayed.write_text(dump_toml(data), encoding="utf-8")
    proc = EngineProcess(pbx, url, redis_url, tmp_path / "engine.log",
                         ("--instance", pbx.instance.name, "--db-timeout", "1"),
                         center_file=relayed)
    started = time.time()
    keys = ("long", "dead1", "dead2", "refused", "locked", "gave_up")
    n = dict(zip(keys, numbers(len(keys)), strict=True))
    try:
        proc.start()
        token = ok(cli(pbx, "engine", "token", "add", "wallboard", "--role", "supervisor",
                       "--database", url)).strip()
        sipp.seat("8001", pbx.seat_password("8001"), ring_s=0.2, talk_s=LONG_S)
        ok(cli(pbx, "seat", "signin", "8001"))
        sipp.callers("long", [n["long"]], hold_s=LONG_S + 60)
        connect = wait_for("the long call answered", lambda: logged(pbx, n["long"],
                                                                     "CONNECT"), 30)
        long_connected = int(connect[0])
        sipp.seat("8002", pbx.seat_password("8002"), ring_s=0.2, talk_s=2.0)
        ok(cli(pbx, "seat", "signin", "8002"))

        # 1. SIGKILL mid-shift: two calls come, are answered, end while the engine is dead.
        wait_for("the engine saw the long call", lambda: (s := stay(engine, n["long"]))
                 is not None and s.answered_at is not None, 20)
        proc.kill()
        sipp.callers("while-dead", [n["dead1"], n["dead2"]], hold_s=30, rate=2)
        wait_for("both calls completed", lambda: all(
            logged(pbx, n[k], "COMPLETEAGENT") for k in ("dead1", "dead2")), 40)
        proc.start()
        wait_for("the calls of the outage in the ledger, ended",
                 lambda: ended(engine, n["dead1"]) and ended(engine, n["dead2"]), 30)

        # 2. The database refuses to write a call's end during AgentComplete and Hangup;
        # the wallboard keeps moving, the write goes in once the database takes it again.
        refuse_call_ends(engine)
        sipp.callers("refused", [n["refused"]], hold_s=30)
        wait_for("the refused call completed", lambda: logged(pbx, n["refused"],
                                                              "COMPLETEAGENT"), 30)
        wait_for("the writer refused and kept its records", lambda: snapshot(redis_url)[
            "nodes"]["pbx1"]["ledger"]["failures"] > 0, 20)
        wait_for("the wallboard moved on", lambda: snapshot(redis_url)["seats"]["8002"]
                 ["state"] in ("wrapup", "ready") and snapshot(redis_url)["queues"]["manual"]
                 ["waiting_count"] == 0, 20)
        assert not ended(engine, n["refused"])
        allow_call_ends(engine)
        wait_for("the refused call written", lambda: ended(engine, n["refused"]), 30)

        # 3. A lock held longer than the engine's 1 s timeout while a call completes and
        # hangs up; the API answers meanwhile.
        slowest = 0.0
        release = threading.Event()
        holder = threading.Thread(target=lambda: _hold(engine, release))
        holder.start()
        try:
            sipp.callers("locked", [n["locked"]], hold_s=30)
            deadline = time.monotonic() + 30
            while not logged(pbx, n["locked"], "COMPLETEAGENT"):
                slowest = max(slowest, api_live_s(pbx.center.http_port, token))
                assert time.monotonic() < deadline, "the locked call never completed"
                time.sleep(0.2)
            for _ in range(10):  # the hang-up comes while the lock is still held
                slowest = max(slowest, api_live_s(pbx.center.http_port, token))
                time.sleep(0.2)
            errors = snapshot(redis_url)["nodes"]["pbx1"]["ledger"]
        finally:
            release.set()
            holder.join()
        assert "locked" in errors["last_error"], errors
        assert slowest < 1.0, f"the API waited {slowest:.2f} s during the lock"
        wait_for("the locked call written", lambda: ended(engine, n["locked"]), 30)

        # 4. The AMI connection is cut (Asterisk keeps running) while a caller waits and
        # gives up: its Hangup is lost. After the reconnect the wallboard lets it go.
        ok(cli(pbx, "seat", "busy", "8002", "--reason", "meal"))
        sipp.callers("gives-up", [n["gave_up"]], hold_s=8)
        wait_for("the caller on the wallboard", lambda: any(
            w["caller"] for w in snapshot(redis_url)["queues"]["manual"]["waiting"]), 20)
        proxy.cut()
        wait_for("the caller gave up", lambda: logged(pbx, n["gave_up"], "ABANDON"), 30)
        assert snapshot(redis_url)["queues"]["manual"]["waiting_count"] == 1  # stale
        proxy.restore()
        wait_for("the wallboard let the caller go", lambda: snapshot(redis_url)["queues"]
                 ["manual"]["waiting_count"] == 0, 30)
        ok(cli(pbx, "seat", "ready", "8002"))

        # 5. The long call ends while the engine is dead (killed a second time).
        wait_for("the long call nearly over", lambda: time.time() > long_connected +
                 LONG_S - 5, LONG_S + 10)
        proc.kill()
        killed = time.time()
        done = wait_for("the long call completed", lambda: logged(pbx, n["long"],
                                                                   "COMPLETEAGENT"), 30)
        assert int(done[0]) >= int(killed), "the long call ended before the engine died"
        time.sleep(6)  # its seat's wrap-up (5 s) runs out while nobody listens
        proc.start()
        wait_for("the long call in the ledger", lambda: ended(engine, n["long"]), 30)
        assert wait_for("every call written", lambda: proc.proc is not None and all(
            ended(engine, x) for x in n.values()), 30)
    finally:
        proc.stop()
        proxy.close()

    mine = calls(engine, n.values())
    long = mine[n["long"]]
    row = logged(pbx, n["long"], "COMPLETEAGENT")
    assert row is not None
    assert long.talk_s == pytest.approx(int(row[6]), abs=1.0) and long.talk_s >= LONG_S - 1
    assert long.seat_id == "8001" and long.wrapup_s == pytest.approx(5.0, abs=0.01)
    gave_up = mine[n["gave_up"]]
    assert gave_up.outcome == "abandoned" and gave_up.ended_at is not None
    for key in ("dead1", "dead2", "refused", "locked"):
        assert mine[n[key]].outcome == "answered" and mine[n[key]].talk_s is not None, key
    # The ledger is queue_log, call for call, and the upload holds every ended call.
    # With its offset: a time without one is the center's local time (hotline/localtime.py).
    since = datetime.fromtimestamp(started - 2, UTC).isoformat()
    found = cli(pbx, "stats", "reconcile", "--database", url, "--queue-log",
                str(pbx.instance.queue_log), "--since", since)
    assert found.returncode == 0, found.stdout + found.stderr
    ok(cli(pbx, "stats", "upload", "--database", url, "--since", since, "--out",
           str(tmp_path / "uploads")))
    sent = [json.loads(line) for f in (tmp_path / "uploads").glob("*.jsonl")
            for line in f.read_text(encoding="utf-8").splitlines()]
    assert {c.uniqueid for c in mine.values()} <= {r["uniqueid"] for r in sent}


def _hold(engine, release: threading.Event) -> None:  # type: ignore[no-untyped-def]
    with hold_lock(engine):
        release.wait(60)
