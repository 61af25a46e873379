"""Two Asterisk nodes, one engine: one view of both (calls, seats, queues), each call once."""

from __future__ import annotations

import asyncio
import os

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from acd.history.models import Call
from acd.live.store import read_snapshot
from asterisk_conf import rig
from hotline.shell.simulate.ports import free_ports
from hotline.shell.simulate.sipp import Sipp
from hotline.shell.wiring import rig_installers
from tests.support.engine import EngineProcess
from tests.support.rig import example_center_data, running_pbx
from tests.test_engine_shift import hotline, stays, wait_until

pytestmark = pytest.mark.asterisk


def test_one_engine_gives_one_view_of_two_nodes(tmp_path, redis_url, ledger, numbers) -> None:
    url, engine = ledger
    data = example_center_data()
    sip, ami, agi, pstn = free_ports(4)
    rtp = data["nodes"][0]["rtp_end"] + 1
    data["nodes"].append({"name": "pbx2", "sip_port": sip, "ami_port": ami,
                          "fastagi_port": agi, "rtp_start": rtp, "rtp_end": rtp + 99,
                          "pstn_gateway": f"127.0.0.1:{pstn}"})
    data["seats"][2]["node"] = "pbx2"
    data["seats"][3]["node"] = "pbx2"
    data["center"]["code"] = "twonodes"
    tag = os.getpid()
    with running_pbx(tmp_path, f"two-a-{tag}", data) as pbx:
        second = rig.instance(pbx.center, node="pbx2", name=f"two-b-{tag}",
                              root=pbx.instance.root, state=pbx.state,
                              installers=rig_installers(pbx.center))
        second.up()
        one, two = Sipp("127.0.0.1", pbx.node.sip_port), Sipp("127.0.0.1", second.node.sip_port)
        proc = EngineProcess(pbx, url, redis_url, tmp_path / "engine.log", extra_args=(
            "--queue-log", f"pbx1={pbx.instance.queue_log}",
            "--queue-log", f"pbx2={second.queue_log}"))
        try:
            proc.start()
            wait_until(lambda: sum("ami connected" in line for line in proc.lines) >= 2, 20)
            one.seat("8001", pbx.seat_password("8001"), ring_s=0.2, talk_s=1.0)
            two.seat("8003", pbx.seat_password("8003"), ring_s=0.2, talk_s=1.0)
            hotline(pbx, "seat", "signin", "8001")
            hotline(pbx, "seat", "signin", "8003")   # goes to pbx2: the seat's own node
            numbers = numbers(2)
            one.callers("a", [numbers[0]], hold_s=30).wait(30)
            two.callers("b", [numbers[1]], hold_s=30).wait(30)
            wait_until(lambda: len([s for s in stays(engine, numbers) if s.talk_s is not None])
                       == 2, 30, lambda: stays(engine, numbers))
            snap = asyncio.run(read_snapshot(redis_url, "twonodes"))
        finally:
            proc.stop()
            one.close()
            two.close()
            second.down()
            import shutil
            shutil.rmtree(second.base, ignore_errors=True)
    with Session(engine) as s:
        calls = {c.caller_number: c for c in s.scalars(select(Call))}
    assert calls[numbers[0]].node == "pbx1" and calls[numbers[0]].seat_id == "8001"
    assert calls[numbers[1]].node == "pbx2" and calls[numbers[1]].seat_id == "8003"
    # Uniqueids carry the node's system name: no clash between nodes.
    assert calls[numbers[0]].uniqueid.startswith("pbx1-")
    assert calls[numbers[1]].uniqueid.startswith("pbx2-")
    assert {n: v["ami"] for n, v in snap["nodes"].items()} == {"pbx1": "up", "pbx2": "up"}
    assert snap["queues"]["manual"]["answered_today"] == 2
    assert snap["seats"]["8001"]["state"] in ("ready", "wrapup")
    assert snap["seats"]["8003"]["state"] in ("ready", "wrapup")
