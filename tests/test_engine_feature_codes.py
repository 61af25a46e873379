"""A seat acts on itself from its own phone: *21 sign in, *23N busy with a reason, *24 ready,
*22 sign out; Asterisk confirms by voice and the engine records each change."""

from __future__ import annotations

import pytest

from tests.support.engine import EngineProcess
from tests.support.rig import RunningPbx
from tests.test_engine_shift import intervals, wait_until

pytestmark = pytest.mark.asterisk


def members(pbx: RunningPbx, queue: str) -> str:
    return pbx.instance.cli(f"queue show {queue}")


def test_feature_codes_from_the_seats_phone(pbx: RunningPbx, sipp, tmp_path, ledger) -> None:
    url, engine = ledger
    proc = EngineProcess(pbx, url, None, tmp_path / "engine.log")
    proc.start()
    password = pbx.seat_password("8003")
    try:
        assert sipp.seat_dial("8003", password, "*21") == 0
        for queue in ("manual", "highway", "complaint"):  # 8003's skill queues
            assert "PJSIP/8003" in members(pbx, queue)
        assert "PJSIP/8003" not in members(pbx, "urban")
        reasons = pbx.center.busy_reasons
        assert sipp.seat_dial("8003", password, f"*23{reasons.index('training') + 1}") == 0
        assert "(paused:training" in members(pbx, "manual")
        assert sipp.seat_dial("8003", password, "*24") == 0
        assert sipp.seat_dial("8003", password, "*22") == 0
        assert "PJSIP/8003" not in members(pbx, "manual")
        # A wrong password is refused before anything happens.
        assert sipp.seat_dial("8003", "wrong", "*21") != 0
        assert "PJSIP/8003" not in members(pbx, "manual")
        wait_until(lambda: [i.state for i in intervals(engine, "8003")] ==
                   ["ready", "busy", "ready"] and intervals(engine, "8003")[-1].ended_at
                   is not None, 10, lambda: intervals(engine, "8003"))
    finally:
        proc.stop()
    busy = [i for i in intervals(engine, "8003") if i.state == "busy"]
    assert busy[0].reason == "training"
