"""The engine's metrics and the processes' logs, without a real part: what each counter counts
(once per stay), the metrics address's token, and every log line one JSON object with its
logger's name, stdlib loggers (panoramisk, aiohttp) included. The same against the real
Asterisk: tests/test_engine_shift.py (counters, histograms) and tests/test_engine_api.py
(/api/metrics, /healthz, the access log)."""

from __future__ import annotations

import subprocess
import sys

from aiohttp.test_utils import TestClient, TestServer

from acd.calls.state import CallState, QueueOutcome, Stay
from acd.metrics import EngineMetrics, metrics_app
from tests.support.metrics import not_json_lines


def _snapshot() -> dict[str, object]:
    return {"queues": {"manual": {"waiting_count": 2, "longest_wait_s": 7.5,
                                  "seats": {"ready": 1, "busy": 1}}},
            "seats": {"8001": {"state": "ready"}, "8002": {"state": "busy"}},
            "nodes": {"pbx1": {"ami": "up", "events": 42}}}


def _value(m: EngineMetrics, name: str, **labels: str) -> float | None:
    return m.registry.get_sample_value(name, labels)


def test_each_stay_is_counted_once_and_an_abandon_taken_back_is_no_abandon() -> None:
    m = EngineMetrics(_snapshot, ["manual", "highway"], ["pbx1"])
    answered = CallState("pbx1-1.1", "pbx1-1.1", stays={"manual": Stay("manual", 100.0)})
    m.calls([answered, answered])
    m.calls([answered])
    stay = answered.stays["manual"]
    stay.outcome, stay.answered = QueueOutcome.ANSWERED, 104.0
    m.calls([answered])
    m.calls([answered])
    # Asterisk said Abandon, then the dialplan said the queue timed out: a timeout.
    timed_out = CallState("pbx1-2.1", "pbx1-2.1", stays={"highway": Stay("highway", 100.0)})
    timed_out.stays["highway"].outcome = QueueOutcome.ABANDONED
    m.calls([timed_out])  # not yet ended: nothing final counted
    timed_out.stays["highway"].outcome = QueueOutcome.TIMEOUT
    timed_out.stays["highway"].left = 130.0
    timed_out.ended = 131.0
    m.calls([timed_out])
    m.calls([timed_out])
    gone = CallState("pbx1-3.1", "pbx1-3.1", stays={"manual": Stay("manual", 100.0)})
    gone.stays["manual"].outcome, gone.stays["manual"].left = QueueOutcome.ABANDONED, 103.0
    gone.ended = 103.0
    m.calls([gone])
    assert _value(m, "hotline_queue_offered_total", queue="manual") == 2
    assert _value(m, "hotline_queue_offered_total", queue="highway") == 1
    assert _value(m, "hotline_queue_answered_total", queue="manual") == 1
    assert _value(m, "hotline_queue_abandoned_total", queue="manual") == 1
    assert _value(m, "hotline_queue_abandoned_total", queue="highway") == 0
    assert _value(m, "hotline_queue_wait_seconds_count", queue="manual", outcome="answered") == 1
    assert _value(m, "hotline_queue_wait_seconds_sum", queue="manual", outcome="answered") == 4
    assert _value(m, "hotline_queue_wait_seconds_count", queue="highway", outcome="timeout") == 1
    # Live gauges come from the snapshot, every seat state present, zeros included.
    assert _value(m, "hotline_queue_waiting", queue="manual") == 2
    assert _value(m, "hotline_queue_longest_wait_seconds", queue="manual") == 7.5
    assert _value(m, "hotline_queue_seats", queue="manual", state="on_call") == 0
    assert _value(m, "hotline_seats", state="busy") == 1
    assert _value(m, "hotline_seats", state="wrapup") == 0
    assert _value(m, "hotline_ami_events_total", node="pbx1") == 42


async def test_the_metrics_address_wants_its_token_when_one_is_set() -> None:
    m = EngineMetrics(_snapshot, ["manual"], ["pbx1"])
    async with TestClient(TestServer(metrics_app(m, lambda: {"pbx1": "up"}, "s3cret"))) as c:
        assert (await c.get("/metrics")).status == 401
        assert (await c.get("/metrics", headers={"Authorization": "Bearer wrong"})).status == 401
        ok = await c.get("/metrics", headers={"Authorization": "Bearer s3cret"})
        assert ok.status == 200 and "hotline_queue_waiting" in await ok.text()
        health = await c.get("/healthz")  # no token: it says only up or down
        assert health.status == 200 and (await health.json())["nodes"] == {"pbx1": "up"}
    async with TestClient(TestServer(metrics_app(m, lambda: {}, ""))) as c:
        assert (await c.get("/metrics")).status == 200


def test_every_log_line_is_one_json_object_with_its_logger() -> None:
    code = """
import logging
from hotline import logs
logs.configure("INFO")
logs.get_logger("acd.engine").info("ami connected", node="pbx1", caller="13912345678")
logging.getLogger("panoramisk.manager").warning("Not connected to %s", "127.0.0.1:5038")
logging.getLogger("aiohttp.server").info("plain stdlib line")
try:
    raise ValueError("boom")
except ValueError:
    logging.getLogger("asyncio").exception("Task exception was never retrieved")
"""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=30)
    lines = out.stderr.splitlines()
    assert out.returncode == 0 and len(lines) == 4, out.stderr
    assert not_json_lines(lines) == []
    assert [line.split('"logger": "')[1].split('"')[0] for line in lines] == \
        ["acd.engine", "panoramisk.manager", "aiohttp.server", "asyncio"]
    assert "13912345678" not in out.stderr  # caller numbers masked
    assert "ValueError: boom" in lines[3]   # the traceback inside the one line
