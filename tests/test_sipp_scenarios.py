"""Every SIPp scenario the simulators generate is one SIPp accepts: SIPp refuses a scenario
whose variable is assigned and never read ("Variable $x is referenced 1 times!") and then
places or answers nothing, which once made every seat of the suite silent."""

from __future__ import annotations

import shutil
import socket
import subprocess

import pytest

from hotline.shell.simulate import ports, sipp
from hotline.shell.simulate.ports import free_ports

SCENARIOS = {
    "seat": lambda: sipp.seat_scenario(0.5, 5.0),
    "seat, callback legs longer": lambda: sipp.seat_scenario(0.5, 5.0, 10.0),
    "callee": lambda: sipp.callee_scenario(0.5, 2.0),
    "callee with keys, busy prefix": lambda: sipp.callee_scenario(0.5, 2.0, [(1.0, "2")],
                                                                 busy_prefix="137"),
    "callee, first call busy": lambda: sipp.callee_scenario(0.5, 2.0, busy_first=1),
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


def test_callee_busy_first_refuses_then_answers(tmp_path) -> None:
    """`busy_first=1`: the callee's first call gets 486, the next ones are answered; the
    callback test's "busy, then reached on the retry" rests on it."""
    if shutil.which("sipp") is None:
        pytest.skip("SIPp is not installed (./run installs sip-tester)")
    xml = tmp_path / "callee.xml"
    xml.write_text(sipp.callee_scenario(0.1, 0.5, busy_first=1), encoding="utf-8")
    port, caller = free_ports(2)
    media = ports.media_port()
    callee = subprocess.Popen(["sipp", "-sf", str(xml), "-p", str(port), "-mp", str(media),
                               "-m", "3", "-trace_msg", "-message_file", "callee.log",
                               "-nostdin", "-timeout", "20s"],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=tmp_path)
    try:
        subprocess.run(["sipp", "-sn", "uac", f"127.0.0.1:{port}", "-p", str(caller), "-m", "3",
                        "-r", "2", "-nostdin", "-timeout", "20s", "-s", "12328"],
                       capture_output=True, timeout=40, cwd=tmp_path)
    finally:
        callee.wait(30)
    finals = [line.split()[1] for line in (tmp_path / "callee.log").read_text().splitlines()
              if line.startswith("SIP/2.0 ") and line.split()[1] in ("486", "200")]
    # In order: 486 for the first INVITE; 200 (INVITE) and 200 (BYE) for each later call.
    assert finals[0] == "486" and finals[1:] == ["200"] * 4, finals


def test_a_media_port_taken_meanwhile_is_drawn_again(tmp_path, monkeypatch) -> None:
    """SIPp binds its media base and base+2, and exits at once when one is taken: a caller that
    dies so never calls, and a test waits for its events in vain (seen in CI). Another process
    takes base+2 between the draw and SIPp's start: SIPp is started again on a fresh base."""
    if shutil.which("sipp") is None:
        pytest.skip("SIPp is not installed (./run installs sip-tester)")
    drawn: list[int] = []
    squatter = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)

    def media_port() -> int:
        base = ports.media_port()
        if not drawn:
            squatter.bind(("127.0.0.1", base + 2))
        drawn.append(base)
        return base

    monkeypatch.setattr(sipp, "media_port", media_port)
    runner = sipp.Sipp("127.0.0.1", free_ports(1)[0], workdir=tmp_path)
    try:
        p = runner.answerer("answerer", free_ports(1)[0])
        try:
            p.proc.wait(0.5)   # SIPp that failed to bind is gone by now
        except subprocess.TimeoutExpired:
            pass
        assert p.running(), (p.workdir / "stdout.txt").read_text(errors="replace")[-500:]
        assert len(drawn) == 2, drawn
    finally:
        runner.close()
        squatter.close()
