"""Every SIPp scenario the simulators generate is one SIPp accepts: SIPp refuses a scenario
whose variable is assigned and never read ("Variable $x is referenced 1 times!") and then
places or answers nothing, which once made every seat of the suite silent."""

from __future__ import annotations

import shutil
import subprocess

import pytest

from hotline.shell.simulate import sipp
from hotline.shell.simulate.ports import free_ports

SCENARIOS = {
    "seat": lambda: sipp.seat_scenario(0.5, 5.0),
    "seat, callback legs longer": lambda: sipp.seat_scenario(0.5, 5.0, 10.0),
    "callee": lambda: sipp.callee_scenario(0.5, 2.0),
    "callee with keys, busy prefix": lambda: sipp.callee_scenario(0.5, 2.0, [(1.0, "2")],
                                                                 busy_prefix="137"),
    "caller": lambda: sipp.caller_scenario([(1.5, "1"), (2.0, "2")], 5.0),
    "seat dialling": lambda: sipp.seat_dial_scenario(5.0),
}


@pytest.mark.parametrize("name", list(SCENARIOS))
def test_sipp_accepts_the_scenario(name: str, tmp_path) -> None:
    if shutil.which("sipp") is None:
        pytest.skip("SIPp is not installed (./run installs sip-tester)")
    xml = tmp_path / "scenario.xml"
    xml.write_text(SCENARIOS[name](), encoding="utf-8")
    port, target = free_ports(2)
    out = subprocess.run(["sipp", "-sf", str(xml), "-p", str(port), f"127.0.0.1:{target}",
                          "-m", "1", "-timeout", "1s", "-nostdin", "-s", "12328"],
                         capture_output=True, text=True, timeout=30, cwd=tmp_path)
    said = out.stdout + out.stderr
    assert "referenced" not in said and "rror in" not in said, said[-2000:]
