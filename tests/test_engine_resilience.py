"""The engine when its parts fail mid-shift: Redis goes away and comes back; Asterisk restarts."""

from __future__ import annotations

import asyncio
import os
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from acd.history.models import Call, Outage
from acd.live.store import read_snapshot
from hotline.shell.redis_server import RedisServer
from hotline.shell.simulate.ports import free_ports
from tests.support.engine import EngineProcess
from tests.support.rig import RunningPbx, example_center_data, running_pbx
from tests.test_engine_shift import hotline, stays, wait_until
from tests.test_rig_calls import wait_for_outcomes

pytestmark = pytest.mark.asterisk


def utcnow() -> datetime:
    """Now as the ledger stores times: naive UTC."""
    return datetime.now(UTC).replace(tzinfo=None)


def snapshot(url: str, center: str) -> dict:  # type: ignore[type-arg]
    return asyncio.run(read_snapshot(url, center))


def test_redis_stops_and_returns_mid_shift(pbx: RunningPbx, sipp, tmp_path, ledger,
                                          numbers) -> None:
    url, engine = ledger
    port = free_ports(1)[0]
    redis = RedisServer(port, tmp_path / "redis")
    redis.start()
    proc = EngineProcess(pbx, url, redis.url, tmp_path / "engine.log")
    try:
        proc.start()
        for seat in ("8001", "8002"):
            sipp.seat(seat, pbx.seat_password(seat), ring_s=0.2, talk_s=1.0)
            hotline(pbx, "seat", "signin", seat)
        wait_until(lambda: snapshot(redis.url, "shenyang")["seats"].get("8001", {})
                   .get("state") == "ready", 10)
        redis.stop()                        # Redis gone mid-shift
        numbers = numbers(4)
        sipp.callers("during", numbers, hold_s=30, rate=2)
        hotline(pbx, "seat", "busy", "8002", "--reason", "training")
        wait_for_outcomes(pbx, set(numbers), timeout=60)
        wait_until(lambda: len([s for s in stays(engine, numbers) if s.talk_s is not None])
                   == 4, 30, lambda: stays(engine, numbers))
        redis.start()                       # back, empty: the engine rewrites the snapshot
        wait_until(lambda: snapshot(redis.url, "shenyang")["seats"].get("8002", {})
                   .get("state") == "busy", 15)
        snap = snapshot(redis.url, "shenyang")
    finally:
        proc.stop()
        redis.stop()
    assert snap["seats"]["8002"]["reason"] == "training"
    assert snap["seats"]["8001"]["state"] in ("ready", "wrapup")
    assert snap["nodes"]["pbx1"]["ami"] == "up"
    # Every call of the outage is in the and the snapshot counts them.
    assert all(s.outcome == "answered" for s in stays(engine, numbers))
    # The ledger holds this test's calls alone: the day's counts are exactly them.
    assert snap["queues"]["manual"]["answered_today"] == 4


def test_asterisk_restart_is_an_outage_then_a_resync(tmp_path, ledger, numbers) -> None:
    from hotline.shell.simulate.sipp import Sipp

    url, engine = ledger
    data = example_center_data()
    with running_pbx(tmp_path, f"restart-{os.getpid()}", data) as pbx:
        proc = EngineProcess(pbx, url, None, tmp_path / "engine.log")
        sipp = Sipp("127.0.0.1", pbx.node.sip_port)
        try:
            proc.start()
            sipp.seat("8001", pbx.seat_password("8001"), ring_s=0.2, talk_s=1.0)
            hotline(pbx, "seat", "signin", "8001")
            down_at = utcnow()
            pbx.instance.down()             # Asterisk restarts mid-shift
            proc.wait_for("ami connection lost", 30)
            up_at = utcnow()
            pbx.instance.up()
            proc.wait_for("ami connected", 30)
            wait_until(lambda: sum("ami connected" in line for line in proc.lines) >= 2, 30)
            # Members and registrations survive the restart (persistent members, astdb).
            numbers = numbers(1)
            sipp.callers("after", numbers, hold_s=30, rate=1)
            wait_until(lambda: len([s for s in stays(engine, numbers) if s.talk_s is not None])
                       == 1, 40, lambda: stays(engine, numbers))
        finally:
            sipp.close()
            proc.stop()
    with Session(engine) as s:
        outages = list(s.scalars(select(Outage)))
        call = s.scalars(select(Call).where(Call.caller_number == numbers[0])).one()
    assert len(outages) == 1
    o = outages[0]
    assert o.node == "pbx1" and o.ended_at is not None
    # From the loss (after Asterisk went down) to the reconnect (after it was up again).
    assert down_at - timedelta(seconds=1) <= o.started_at <= up_at <= o.ended_at
    assert (o.ended_at - o.started_at).total_seconds() <= 60
    assert call.outcome == "answered" and call.seat_id == "8001"
