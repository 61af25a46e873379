"""FastAGI against classic AGI, side by side in one run: the same calls walk the same menu.

For each mode a rig instance runs the default menu; `--calls` SIPp callers press 1 (highways)
then 2 (ETC) and are queued. Host CPU per call: for FastAGI the `hotline ivr serve` process's
CPU; for classic AGI the CPU of the python3 processes Asterisk starts per call (reaped by
Asterisk, so counted in its children's CPU). Also the FastAGI round trip of an AGI command
that answers at once (SET VARIABLE), p50 and p99.

    .venv/bin/python bench/ivr_agi.py --calls 40
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from asterisk_conf import rig
from hotline import center as center_mod
from hotline.shell.simulate.ports import free_ports
from hotline.shell.simulate.sipp import Sipp
from hotline.shell.wiring import rig_installers
from tests.support.rig import dump_toml

TICK = os.sysconf("SC_CLK_TCK")


def cpu(pid: int, children: bool = False) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    own = int(fields[11]) + int(fields[12])
    kids = int(fields[13]) + int(fields[14])
    return (kids if children else own) / TICK


def run_mode(mode: str, calls: int, tmp: Path) -> dict[str, float]:
    data = tomllib.loads(center_mod.EXAMPLE.read_text(encoding="utf-8"))
    sip, ami, agi = free_ports(3)
    data["nodes"][0].update(sip_port=sip, ami_port=ami, fastagi_port=agi,
                            rtp_start=20000, rtp_end=29999)
    data["center"].update(ivr=mode, recording=False)
    state = tmp / mode
    state.mkdir()
    center_file = state / "center.toml"
    center_file.write_text(dump_toml(data), encoding="utf-8")
    center = center_mod.load(center_file)
    env = {**os.environ, "HOTLINE_VAR": str(state)}
    hotline = [sys.executable, "-m", "hotline.shell.cli", "--center", str(center_file)]
    subprocess.run([*hotline, "prompts", "build"], env=env, check=True, capture_output=True)
    os.environ["HOTLINE_VAR"] = str(state)
    inst = rig.instance(center, name=f"bench-ivr-{mode}", state=state,
                        installers=rig_installers(center))
    shutil.rmtree(inst.base, ignore_errors=True)
    inst.up()
    server = None
    timings = state / "timings.txt"
    sipp = Sipp("127.0.0.1", sip, workdir=state / "sipp")
    try:
        if mode == "fastagi":
            server = subprocess.Popen([*hotline, "--log-level", "WARNING", "ivr", "serve",
                                       "--instance", inst.name, "--no-redis"],
                                      env={**env, "HOTLINE_AGI_TIMINGS": str(timings)},
                                      stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
            assert server.stderr is not None
            while b"ivr listening" not in server.stderr.readline():
                if server.poll() is not None:
                    raise RuntimeError("ivr serve did not start")
        measured = server.pid if server else (inst.pid() or 0)
        before = cpu(measured, children=server is None)
        t0 = time.monotonic()
        caller = sipp.callers("walk", [f"1385{i:07d}" for i in range(calls)],
                              digits=[(1.0, "1"), (1.5, "2")], hold_s=2.0, rate=4)
        caller.wait(calls + 120)
        time.sleep(1.0)
        after = cpu(measured, children=server is None)
        elapsed = time.monotonic() - t0
        result = {"cpu_s_per_call": (after - before) / calls, "wall_s": elapsed}
    finally:
        sipp.close()
        if server is not None:
            server.terminate()
            server.wait(10)
            if server.stderr is not None:
                server.stderr.close()
        inst.down()
        shutil.rmtree(inst.base, ignore_errors=True)
    if mode == "fastagi" and timings.exists():
        ts = sorted(float(x) for x in timings.read_text().split())
        result["agi_round_trip_p50_ms"] = 1000 * statistics.median(ts)
        result["agi_round_trip_p99_ms"] = 1000 * ts[min(len(ts) - 1, int(0.99 * len(ts)))]
        result["agi_round_trips"] = len(ts)
    return result


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--calls", type=int, default=40)
    p.add_argument("--json")
    args = p.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="hotline-bench-ivr-"))
    try:
        fast = run_mode("fastagi", args.calls, tmp)
        classic = run_mode("agi", args.calls, tmp)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    out = {"calls": args.calls, "fastagi": fast, "classic_agi": classic,
           "cpu_ratio_fastagi_to_classic": round(fast["cpu_s_per_call"] /
                                                 classic["cpu_s_per_call"], 4)
           if classic["cpu_s_per_call"] else None}
    print(json.dumps(out, indent=2))
    if args.json:
        Path(args.json).write_text(json.dumps(out, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
