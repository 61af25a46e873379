"""The README's first command, shortened: a shift on the real Asterisk with the engine, whose
figures come from the ledger and agree with queue_log call for call, callbacks and messages
(and the messages' callbacks) included."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from acd.callers.models import Callback
from acd.history import db
from acd.history.models import Call
from acd.orders.models import WorkOrder
from tests.support.rig import dump_toml, example_center_data

pytestmark = pytest.mark.asterisk

# A seed whose plan has, among its 8 callers, callback callers behind others in the queue
# (the first callers are answered before they would press 1), a busy phone among them, and a
# message caller: 0 mix, 0.3 s mix, 0.4 s mix, 0.9 s callback (busy), 0.9 s mix, 1.9 s
# callback, 2.0 s callback (busy), 3.5 s message.
SEED = "27"


def test_a_short_demo_shift(tmp_path) -> None:
    """One seat, eight callers in a few seconds. Besides the seeds' mix, callers who do not
    wait (issue 16): some press 1 in the queue and are called back by the public network's
    phone (some of those lines are busy: with one try in this center file, their callbacks
    fail), and some choose the queue no seat signed in to and leave a message, which becomes
    a work order; when the callers are done, that queue opens (the seat signs in to it) and
    the platform calls each message back, the seat first, then the caller's phone.

    The summary's callbacks (booked, reached, failed) and messages come from the ledger; here
    they are checked against the ledger's own rows and against what Asterisk saw: queue_log's
    key-1 exits are the callbacks booked, the busy numbers are the failed ones, and a reached
    callback counts as an answered call (docs/indicators.md, "Callers who do not wait")."""
    data = example_center_data()
    data["callers"].update(calling_hours="24h", callback_attempts=1)
    center = tmp_path / "center.toml"
    center.write_text(dump_toml(data), encoding="utf-8")
    summary = tmp_path / "summary.json"
    env = {**os.environ, "HOTLINE_VAR": str(tmp_path / "var")}
    out = subprocess.run([sys.executable, "-m", "hotline.shell.cli", "--center", str(center),
                          "--log-level", "WARNING", "demo", "--calls", "8", "--seats", "1",
                          "--rate", "1", "--talk", "3", "--patience", "60", "--seed", SEED,
                          "--callbacks", "0.4", "--busy-phones", "0.5", "--messages", "0.2",
                          "--survey", "0.3", "--max-seconds", "240", "--json", str(summary)],
                         env=env, capture_output=True, text=True, timeout=330)
    print(out.stdout)  # the demo's report (pytest -rP shows it)
    try:
        assert out.returncode == 0, out.stdout + out.stderr
        check(json.loads(summary.read_text()), out.stdout)
    finally:
        # The demo keeps its instance for a person to look at; the test's goes.
        if summary.exists() and not os.environ.get("HOTLINE_KEEP_INSTANCES"):
            base = Path(json.loads(summary.read_text())["queue_log"]).parents[1]
            if base.name.startswith("demo-"):
                shutil.rmtree(base, ignore_errors=True)


def check(result: dict, stdout: str) -> None:
    # What happened, read from Asterisk's queue_log by hand: each call that queued, and which
    # of them a seat answered, the caller abandoned, or left with key 1 for a callback (no
    # call waits out a queue's limit here). A callback's leg (the Local channel holding the
    # caller's place, Uniqueid ...-hotline-cb-<id>-<try>-q) is no call of its own.
    rows = [line.split("|") for line in
            Path(result["queue_log"]).read_text(encoding="utf-8").splitlines()]
    rows = [r for r in rows if len(r) > 4 and "-hotline-cb-" not in r[1]]
    queued = {r[1] for r in rows if r[4] == "ENTERQUEUE"}
    answered = {r[1] for r in rows if r[4] == "CONNECT"}
    abandoned = {r[1] for r in rows if r[4] == "ABANDON"}
    keyed = {r[1] for r in rows if r[4] == "EXITWITHKEY" and r[5] == "1"}
    assert len(answered) + len(abandoned) + len(keyed) == len(answered | abandoned | keyed)
    assert answered | abandoned | keyed == queued, "every call that queued left one way"
    assert result["reconciliation"]["differences"] == []

    engine = db.make_engine(result["database"])
    try:
        with Session(engine) as s:
            booked = list(s.scalars(select(Callback).where(Callback.kind == "queue")))
            reached_calls = list(s.scalars(select(Call).where(
                Call.outcome == "callback_answered")))
            orders = list(s.scalars(select(WorkOrder).where(WorkOrder.source == "message")))
            messages = [s.get(Call, o.call_uniqueid) for o in orders]
    finally:
        engine.dispose()
    cb = result["callbacks"]
    assert cb["booked"] == len(booked) == len(keyed) > 0
    assert {c.call_uniqueid for c in booked} == keyed
    assert cb["reached"] == sum(c.state == "reached" for c in booked) == len(reached_calls) > 0
    assert cb["failed"] == sum(c.state == "failed" for c in booked) > 0
    assert cb["open"] == 0
    # The busy lines' callbacks failed after both tries; every other was reached.
    assert {c.state for c in booked if c.number.startswith("137")} == {"failed"}
    assert {c.state for c in booked if not c.number.startswith("137")} == {"reached"}
    assert all(c.attempts == 1 for c in booked)
    # A reached callback is an answered call (人工接通率: answered / queued).
    assert result["calls"] == {"offered": len(queued),
                               "answered": len(answered) + cb["reached"],
                               "abandoned": len(abandoned)}
    assert result["indicators"]["manual_connection_rate"] == \
        pytest.approx((len(answered) + cb["reached"]) / len(queued))

    msg = result["messages"]
    assert msg["taken"] == len(orders) > 0 and msg["recorded"] == msg["taken"]
    for call in messages:
        assert call is not None and call.ivr_result == "no_seat" and call.queued_at is None
        assert (Path(result["recordings"]) / call.recording).exists()
    assert result["plan"]["unstaffed_queue"] == "waterway"
    # When the callers were done, the queue kept without seats opened (the shift's seat signed
    # in to it) and the platform called each message back: the seat first (a leg of the
    # callback answered in that queue), then the caller's phone on the public network, which
    # answered. The summary lists each message with its order and its callback.
    assert msg["called_back"] == msg["taken"] == len(msg["orders"])
    legs = [r[1] for r in (line.split("|") for line in Path(result["queue_log"]).read_text(
        encoding="utf-8").splitlines()) if len(r) > 4 and r[4] == "CONNECT"
        and r[2] == "waterway" and "-hotline-cb-" in r[1]]
    engine = db.make_engine(result["database"])
    try:
        with Session(engine) as s:
            called = {c.order_id: c for c in s.scalars(select(Callback).where(
                Callback.kind == "message"))}
    finally:
        engine.dispose()
    for m in msg["orders"]:
        row = called[m["order"]]
        assert (row.state, row.seat_id, row.last_status, row.queue) == \
            ("reached", "8001", "ANSWER", "waterway")
        assert m["callback"]["state"] == "reached" and m["reason"] == "no_seat"
        assert any(f"-hotline-cb-{row.id}-" in leg for leg in legs), legs
        assert f"工单 order {m['order']} " in stdout
    assert f"called back {msg['called_back']}" in stdout
    assert "回电 callback reached (1 try, seat 8001, ANSWER)" in stdout

    from openpyxl import load_workbook
    assert load_workbook(result["reports"]["xlsx"])["指标"]["A1"].value.endswith("模拟值班报告")
    assert os.path.exists(result["reports"]["html"]) and os.path.exists(result["reports"]["calls-by-queue"])
    assert "人工接通率" in stdout
    assert f"booked {cb['booked']}, reached {cb['reached']}, failed {cb['failed']}" in stdout
    assert f"taken {msg['taken']} " in stdout
