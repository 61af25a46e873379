"""The README's first command, shortened: a shift on the real Asterisk with the engine, whose
figures come from the ledger and agree with queue_log call for call."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.rig import dump_toml, example_center_data

pytestmark = pytest.mark.asterisk


def test_a_short_demo_shift(tmp_path) -> None:
    center = tmp_path / "center.toml"
    center.write_text(dump_toml(example_center_data()), encoding="utf-8")
    summary = tmp_path / "summary.json"
    env = {**os.environ, "HOTLINE_VAR": str(tmp_path / "var")}
    out = subprocess.run([sys.executable, "-m", "hotline.shell.cli", "--center", str(center),
                          "--log-level", "WARNING", "demo", "--calls", "6", "--rate", "2",
                          "--talk", "2", "--patience", "60", "--seed", "7",
                          "--json", str(summary)],
                         env=env, capture_output=True, text=True, timeout=240)
    assert out.returncode == 0, out.stdout + out.stderr
    result = json.loads(summary.read_text())
    # What happened, read from Asterisk's queue_log by hand: each call that queued, and which
    # of them a seat answered or the caller abandoned (no call waits out a queue's limit here).
    rows = [line.split("|") for line in
            Path(result["queue_log"]).read_text(encoding="utf-8").splitlines()]
    queued = {r[1] for r in rows if len(r) > 4 and r[4] == "ENTERQUEUE"}
    answered = {r[1] for r in rows if len(r) > 4 and r[4] == "CONNECT"}
    abandoned = {r[1] for r in rows if len(r) > 4 and r[4] == "ABANDON"}
    assert answered <= queued and abandoned <= queued and not answered & abandoned
    assert answered | abandoned == queued, "every call that queued was answered or abandoned"
    assert result["calls"] == {"offered": len(queued), "answered": len(answered),
                               "abandoned": len(abandoned)}
    assert len(queued) >= 5  # six callers; at most the odd one told 12306 stays out
    assert result["reconciliation"]["differences"] == []
    # 人工接通率 = answered / calls that queued for a seat (docs/indicators.md).
    assert result["indicators"]["manual_connection_rate"] == \
        pytest.approx(len(answered) / len(queued))
    from openpyxl import load_workbook
    assert load_workbook(result["reports"]["xlsx"])["指标"]["A1"].value.endswith("模拟值班报告")
    assert os.path.exists(result["reports"]["html"]) and os.path.exists(result["reports"]["calls-by-queue"])
    assert "人工接通率" in out.stdout
