"""Capacity of one Asterisk node on this machine: the highest calls per second it sustains with
under 0.1 % failures, (a) with a pure-dialplan IVR and queue, (b) with the engine and the
FastAGI IVR in the path. Both are measured in the same run, step by step.

    .venv/bin/python bench/capacity.py --cps 5,10,20,30,40 --seconds 20 --modes dialplan,hotline

A call: dial, IVR (press 0 for a seat), queue, a seat answers after 0.2 s and talks 2 s, then
the survey (not answered: it times out) and goodbye. A failure is a SIPp call that failed or a
call that never reached a seat. Asterisk's CPU, the Python side's CPU and the peak of
concurrent channels are read from /proc and the Asterisk CLI at each step.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import shutil
import subprocess
import sys
import tempfile
import time
import tomllib
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from asterisk_conf import rig
from hotline import center as center_mod
from hotline.shell.simulate.ports import free_ports
from hotline.shell.simulate.processes import stop
from hotline.shell.simulate.sipp import Sipp
from hotline.shell.wiring import rig_installers

TALK_S = 2.0
RING_S = 0.2

# (a): the same call in dialplan alone, with the same prompts: welcome and main menu (a key
# interrupts them), the queue, the survey (two tries of 6 s), thanks.
PURE_DIALPLAN = """
[hotline-inbound-local]
exten => 12329,1,Answer()
 same => n,Read(KEY,${PROMPTS}/welcome&${PROMPTS}/main_menu,1,,3,5)
 same => n,Set(HOTLINE_QUEUE=manual)
 same => n,Queue(manual,c,,,600)
 same => n,Read(SURVEY,${PROMPTS}/survey,1,,2,6)
 same => n,ExecIf($["${SURVEY}" != ""]?Playback(${PROMPTS}/survey_thanks))
 same => n,Hangup(16)
"""


def bench_center(seats: int) -> center_mod.Center:
    data = tomllib.loads(center_mod.EXAMPLE.read_text(encoding="utf-8"))
    sip, ami, agi, redis, http = free_ports(5)
    data["nodes"][0].update(sip_port=sip, ami_port=ami, fastagi_port=agi,
                            rtp_start=20000, rtp_end=29999)
    data["engine"].update(redis_port=redis, http_port=http)
    data["center"]["recording"] = False
    for q in data["queues"]:
        q["wrapup_s"] = 0
    data["seats"] = [{"id": f"{7000 + i}", "queues": ["manual"]} for i in range(seats)]
    return center_mod.parse(data)


def cpu_seconds(pids: list[int]) -> float:
    total = 0.0
    tick = os.sysconf("SC_CLK_TCK")
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += (int(fields[11]) + int(fields[12])) / tick
    return total


def sipp_totals(workdir: Path) -> tuple[int, int]:
    """(successful, failed) calls from a caller SIPp's final statistics."""
    text = (workdir / "stdout.txt").read_text(errors="replace")
    ok = failed = 0
    for line in text.splitlines():
        if line.strip().startswith("Successful call"):
            ok = int(line.split("|")[2].split()[0])
        if line.strip().startswith("Failed call"):
            failed = int(line.split("|")[2].split()[0])
    return ok, failed


def connected(queue_log: Path, since: int, prefix: str) -> tuple[int, int]:
    """(calls that entered a queue, calls connected to a seat) for caller numbers with prefix."""
    entered: set[str] = set()
    connects: set[str] = set()
    if not queue_log.exists():
        return 0, 0
    for line in queue_log.read_text(errors="replace").splitlines():
        row = line.split("|")
        if len(row) < 5 or not row[0].isdigit() or int(row[0]) < since:
            continue
        if row[4] == "ENTERQUEUE" and len(row) > 6 and row[6].startswith(prefix):
            entered.add(row[1])
        elif row[4] == "CONNECT" and row[1] in entered:
            connects.add(row[1])
    return len(entered), len(connects)


def python_side(mode: str, inst: rig.Instance, center_file: Path, env: dict[str, str]
                ) -> list[subprocess.Popen[bytes]]:
    """(b): the FastAGI IVR and the engine, as `hotline` runs them."""
    if mode != "hotline":
        return []
    hotline = shutil.which("hotline") or str(Path(sys.executable).parent / "hotline")
    procs = []
    for args in (["ivr", "serve", "--instance", inst.name, "--no-redis"],
                 ["engine", "run", "--instance", inst.name, "--no-redis"]):
        procs.append(subprocess.Popen([hotline, "--center", str(center_file), "--log-level",
                                       "WARNING", *args], env=env, stdout=subprocess.DEVNULL,
                                      stderr=subprocess.DEVNULL, start_new_session=True))
    time.sleep(2.0)
    for p in procs:
        if p.poll() is not None:
            raise RuntimeError(f"{p.args} exited with {p.returncode}")
    return procs


def run_step(mode: str, cps: float, seconds: float, tmp: Path) -> dict[str, Any]:
    calls = int(cps * seconds)
    per_call = 1.0 + 3.0 + TALK_S + RING_S + 3.0
    seats = max(4, math.ceil(cps * (TALK_S + RING_S + 0.5) * 1.5))
    center = bench_center(seats)
    center_file = tmp / f"center-{mode}-{cps}.toml"
    center_file.write_text(_to_toml(center), encoding="utf-8")
    state = tmp / "state"
    inst = rig.instance(center, name=f"bench-{mode}-{int(cps)}", state=state,
                        installers=rig_installers(center))
    if mode == "dialplan":
        inst.extra_config["extensions_local.conf"] = PURE_DIALPLAN
    shutil.rmtree(inst.base, ignore_errors=True)
    env = {**os.environ, "HOTLINE_VAR": str(state)}
    hotline = shutil.which("hotline") or str(Path(sys.executable).parent / "hotline")
    subprocess.run([hotline, "prompts", "build"], env=env, check=True, capture_output=True)
    os.environ["HOTLINE_VAR"] = str(state)  # the rig installs the prompts from there
    inst.up()
    procs: list[subprocess.Popen[bytes]] = []
    sipp = Sipp("127.0.0.1", inst.node.sip_port, workdir=tmp / f"sipp-{mode}-{cps}")
    try:
        procs = python_side(mode, inst, center_file, env)
        sipp.seat_pool({s.id: inst.secrets.seats[s.id] for s in center.seats},
                       ring_s=RING_S, talk_s=TALK_S)
        for s in center.seats:
            inst.cli(f"queue add member PJSIP/{s.id} to manual penalty 0 as {s.id}")
        ast_pid = inst.pid() or 0
        py_pids = [p.pid for p in procs]
        cpu0 = cpu_seconds([ast_pid]), cpu_seconds(py_pids)
        since = int(time.time()) - 1
        prefix = "1380"
        numbers = [f"{prefix}{i:07d}" for i in range(calls)]
        service = "12329" if mode == "dialplan" else center.hotline_number
        caller = sipp.callers("load", numbers, digits=[(1.0, "0")], hold_s=120, rate=cps,
                              service=service)
        peak = 0
        deadline = time.monotonic() + seconds + per_call + 60
        while caller.running() and time.monotonic() < deadline:
            out = inst.cli("core show channels count")
            for line in out.splitlines():
                if "active channel" in line:
                    peak = max(peak, int(line.split()[0]))
            time.sleep(1.0)
        caller.stop()
        cpu1 = cpu_seconds([ast_pid]), cpu_seconds(py_pids)
        ok, failed = sipp_totals(caller.workdir)
        entered, answered = connected(inst.queue_log, since, prefix)
        failures = failed + (calls - answered)
        return {"mode": mode, "cps": cps, "calls": calls, "seats": seats,
                "sipp_ok": ok, "sipp_failed": failed, "entered_queue": entered,
                "answered": answered, "failure_rate": round(failures / calls, 5),
                "peak_channels": peak,
                "asterisk_cpu_s_per_call": round((cpu1[0] - cpu0[0]) / calls, 5),
                "python_cpu_s_per_call": round((cpu1[1] - cpu0[1]) / calls, 5)}
    finally:
        sipp.close()
        for p in procs:
            stop(p, 5)
        try:
            inst.cli("channel request hangup all")
        except rig.RigError:
            pass
        inst.down()
        shutil.rmtree(inst.base, ignore_errors=True)


def _to_toml(center: center_mod.Center) -> str:
    """The bench center as a TOML file, for the `hotline` processes of mode (b)."""
    n = center.nodes[0]
    lines = ['[center]', f'code = "{center.code}"', f'name = "{center.name}"',
             f'default_queue = "{center.default_queue}"', 'recording = false', '',
             '[[nodes]]', f'name = "{n.name}"', f'sip_port = {n.sip_port}',
             f'ami_port = {n.ami_port}', f'fastagi_port = {n.fastagi_port}',
             f'rtp_start = {n.rtp_start}', f'rtp_end = {n.rtp_end}', '']
    for q in center.queues:
        lines += ['[[queues]]', f'name = "{q.name}"', f'title = "{q.title}"',
                  f'domain = "{q.domain}"', 'wrapup_s = 0', '']
    for s in center.seats:
        lines += ['[[seats]]', f'id = "{s.id}"', 'queues = ["manual"]', '']
    lines += ['[engine]', f'redis_url = "{center.redis_url}"', f'redis_port = {center.redis_port}',
              f'http_port = {center.http_port}']
    return "\n".join(lines) + "\n"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cps", default="5,10,20", help="comma-separated call rates")
    parser.add_argument("--seconds", type=float, default=20.0, help="length of each step")
    parser.add_argument("--modes", default="dialplan,hotline")
    parser.add_argument("--json", help="write the results here")
    args = parser.parse_args()
    results = []
    with tempfile.TemporaryDirectory(prefix="hotline-bench-") as tmp:
        for cps in [float(x) for x in args.cps.split(",")]:
            for mode in args.modes.split(","):
                r = run_step(mode, cps, args.seconds, Path(tmp))
                results.append(r)
                print(json.dumps(r), flush=True)
    best: dict[str, float] = {}
    for r in results:
        if r["failure_rate"] < 0.001:
            best[r["mode"]] = max(best.get(r["mode"], 0.0), r["cps"])
    summary = {"steps": results, "capacity_cps": best}
    if "dialplan" in best and "hotline" in best:
        summary["ratio_hotline_to_dialplan"] = round(best["hotline"] / best["dialplan"], 3)
    print(json.dumps(summary["capacity_cps"]))
    if args.json:
        Path(args.json).write_text(json.dumps(summary, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
