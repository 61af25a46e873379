"""The README's first command, shortened: a shift on the real Asterisk with the engine, whose
figures come from the ledger and agree with queue_log call for call."""

from __future__ import annotations

import json
import os
import subprocess
import sys

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
    assert result["calls"]["offered"] == 6
    assert result["calls"]["answered"] + result["calls"]["abandoned"] <= 6
    assert result["reconciliation"]["differences"] == []
    assert 0.0 <= result["indicators"]["manual_connection_rate"] <= 1.0
    assert os.path.exists(result["queue_log"])
    from openpyxl import load_workbook
    assert load_workbook(result["reports"]["xlsx"])["指标"]["A1"].value.endswith("模拟值班报告")
    assert os.path.exists(result["reports"]["html"]) and os.path.exists(result["reports"]["calls-by-queue"])
    assert "人工接通率" in out.stdout
