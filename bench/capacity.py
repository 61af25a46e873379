"""Capacity of one Asterisk node on this machine: the highest calls per second it sustains with
under 0.1 % failed calls, (a) with a pure-dialplan IVR and queue, (b) with the engine (ledger and
Redis) and the FastAGI IVR in the path. Both are measured in the same run, step by step.

    .venv/bin/python bench/capacity.py --cps 10,20,24,26,28,30,32,34 --seconds 15

A call: dial, IVR (press 0 for a seat), queue, recorded (MixMonitor), a seat answers after
0.2 s and talks 2 s, then 2 s of wrap-up for the seat; the caller goes on to the survey (not
answered: it times out) and goodbye.

A call counts as a success only if all of these hold:
- the IVR reported success: the `HotlineIvr` UserEvent with Status `queue`, Queue `manual`,
  Path `0` and AgiStatus `SUCCESS` (an IVR failure also lands in `manual`, the default queue:
  without this, a dead FastAGI server or engine would look like a working one). In (a) the
  dialplan reports the same event from its own Read();
- queue_log shows the call connected to a seat;
- in (b), the engine's ledger has the call, answered, with that IVR result and path and a
  recording.
A step counts only if SIPp's own tally is complete (successful + failed = calls placed; a
missing tally fails the step) and, in (b), the ledger reconciles with queue_log (no
difference). Asterisk's CPU, the Python side's CPU, the peak of concurrent channels and the load
average are read at each step.
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

from sqlalchemy import select

from acd.history import db
from acd.history.models import Call
from asterisk_conf import rig
from hotline import center as center_mod
from hotline.shell.redis_server import RedisServer
from hotline.shell.simulate.ports import free_ports
from hotline.shell.simulate.processes import stop
from hotline.shell.simulate.sipp import Sipp
from hotline.shell.wiring import rig_installers
from queue_stats.reconcile import differences
from tests.support.ami_tap import AmiTap
from tests.support.rig import dump_toml

TALK_S = 2.0
RING_S = 0.2
WRAPUP_S = 2
MODES = ("dialplan", "hotline")

# (a): the same call in dialplan alone, with the same prompts: welcome and main menu (a key
# interrupts them), the IVR's report, the recording, the queue, the survey (two tries of 6 s),
# thanks.
PURE_DIALPLAN = """
[hotline-inbound-local]
exten => 12329,1,Answer()
 same => n,Read(KEY,${PROMPTS}/welcome&${PROMPTS}/main_menu,1,,3,5)
 same => n,Set(STATUS=${IF($["${KEY}" = "0"]?queue:error)})
 same => n,UserEvent(HotlineIvr,Path: ${KEY},Status: ${STATUS},Queue: manual,AgiStatus: SUCCESS)
 same => n,Set(HOTLINE_QUEUE=manual)
 same => n,MixMonitor(bench/${UNIQUEID}.wav,b)
 same => n,Queue(manual,c,,,600)
 same => n,Read(SURVEY,${PROMPTS}/survey,1,,2,6)
 same => n,ExecIf($["${SURVEY}" != ""]?Playback(${PROMPTS}/survey_thanks))
 same => n,Hangup(16)
"""


def bench_data(seats: int) -> dict[str, Any]:
    """The example center with free ports, recording on, `manual` with WRAPUP_S of wrap-up,
    and `seats` seats in `manual`."""
    data = tomllib.loads(center_mod.EXAMPLE.read_text(encoding="utf-8"))
    sip, ami, agi, redis, http = free_ports(5)
    data["nodes"][0].update(sip_port=sip, ami_port=ami, fastagi_port=agi,
                            rtp_start=20000, rtp_end=29999)
    data["engine"].update(redis_port=redis, http_port=http)
    data["center"]["recording"] = True
    for q in data["queues"]:
        q["wrapup_s"] = WRAPUP_S
    data["seats"] = [{"id": f"{7000 + i}", "queues": ["manual"]} for i in range(seats)]
    return data


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


def sipp_totals(workdir: Path) -> tuple[int, int] | None:
    """(successful, failed) calls from a caller SIPp's final statistics; None without them."""
    out = workdir / "stdout.txt"
    text = out.read_text(errors="replace") if out.exists() else ""
    ok = failed = None
    for line in text.splitlines():
        if line.strip().startswith("Successful call"):
            ok = int(line.split("|")[2].split()[0])
        if line.strip().startswith("Failed call"):
            failed = int(line.split("|")[2].split()[0])
    return None if ok is None or failed is None else (ok, failed)


def connected_numbers(queue_log: Path, since: int, numbers: set[str]) -> set[str]:
    """The caller numbers whose call queue_log shows connected to a seat."""
    number_of: dict[str, str] = {}
    out: set[str] = set()
    if not queue_log.exists():
        return out
    for line in queue_log.read_text(errors="replace").splitlines():
        row = line.split("|")
        if len(row) < 5 or not row[0].isdigit() or int(row[0]) < since:
            continue
        if row[4] == "ENTERQUEUE" and len(row) > 6 and row[6] in numbers:
            number_of[row[1]] = row[6]
        elif row[4] == "CONNECT" and row[1] in number_of:
            out.add(number_of[row[1]])
    return out


def ivr_succeeded(tap: AmiTap, numbers: set[str]) -> set[str]:
    return {e.get("CallerIDNum", "") for e in list(tap.events)
            if e.get("UserEvent") == "HotlineIvr" and e.get("CallerIDNum") in numbers
            and (e.get("Status"), e.get("Queue"), e.get("Path"), e.get("AgiStatus"))
            == ("queue", "manual", "0", "SUCCESS")}


def ledger_answered(database: str, numbers: set[str]) -> set[str]:
    """Numbers whose call the ledger has answered, with the IVR's success, path and a
    recording."""
    engine = db.make_engine(database)
    try:
        with engine.connect() as conn:
            rows = conn.execute(select(Call.caller_number, Call.outcome, Call.ivr_result,
                                       Call.ivr_path, Call.recording)).all()
    finally:
        engine.dispose()
    return {n for n, outcome, result, path, recording in rows if n in numbers
            and (outcome, result, path) == ("answered", "queue", "0") and recording}


def _wait_text(path: Path, text: str, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if path.exists() and text in path.read_text(errors="replace"):
            return
        time.sleep(0.1)
    raise RuntimeError(f"{path.name} never said {text!r}")


def python_side(mode: str, inst: rig.Instance, center_file: Path, env: dict[str, str],
                tmp: Path, database: str) -> tuple[list[subprocess.Popen[bytes]],
                                                   RedisServer | None]:
    """(b): Redis, the FastAGI IVR and the engine, as `hotline` runs them."""
    if mode != "hotline":
        return [], None
    redis = RedisServer(free_ports(1)[0], tmp / f"redis-{inst.name}")
    redis.start()
    hotline = shutil.which("hotline") or str(Path(sys.executable).parent / "hotline")
    procs = []
    for args in (["ivr", "serve", "--instance", inst.name, "--redis", redis.url],
                 ["engine", "run", "--instance", inst.name, "--redis", redis.url,
                  "--database", database]):
        with open(tmp / f"{args[0]}-{inst.name}.log", "ab") as log:
            procs.append(subprocess.Popen([hotline, "--center", str(center_file),
                                           "--log-level", "WARNING", *args], env=env,
                                          stdout=subprocess.DEVNULL, stderr=log,
                                          start_new_session=True))
    # (Not by connecting to its port: a connection closed without an AGI request leaves
    # the FastAGI server spinning, a bug noted in BENCHMARKS.md.)
    _wait_text(tmp / f"ivr-{inst.name}.log", "ivr listening", 30)
    import redis as redis_client
    r = redis_client.Redis.from_url(redis.url)
    deadline = time.monotonic() + 60
    while b'"ami": "up"' not in (r.hget(f"hotline:{inst.center.code}:nodes", "pbx1") or b""):
        if time.monotonic() > deadline or any(p.poll() is not None for p in procs):
            raise RuntimeError("the engine did not connect to AMI")
        time.sleep(0.2)
    r.close()
    return procs, redis


def run_step(mode: str, cps: float, seconds: float, tmp: Path) -> dict[str, Any]:
    calls = int(cps * seconds)
    per_call = 1.0 + 3.0 + TALK_S + RING_S + 12.0
    seats = max(4, math.ceil(cps * (TALK_S + RING_S + WRAPUP_S + 0.5) * 1.5))
    data = bench_data(seats)
    center = center_mod.parse(data)
    center_file = tmp / f"center-{mode}-{cps}.toml"
    center_file.write_text(dump_toml(data), encoding="utf-8")
    state = tmp / "state"
    inst = rig.instance(center, name=f"bench-{mode}-{int(cps)}-{os.getpid()}", state=state,
                        installers=rig_installers(center))
    if mode == "dialplan":
        inst.extra_config["extensions_local.conf"] = PURE_DIALPLAN
    shutil.rmtree(inst.base, ignore_errors=True)
    env = {**os.environ, "HOTLINE_VAR": str(state)}
    hotline = shutil.which("hotline") or str(Path(sys.executable).parent / "hotline")
    subprocess.run([hotline, "prompts", "build"], env=env, check=True, capture_output=True)
    os.environ["HOTLINE_VAR"] = str(state)  # the rig installs the prompts from there
    inst.up()
    database = f"sqlite:///{tmp / f'ledger-{mode}-{cps}.sqlite'}"
    procs: list[subprocess.Popen[bytes]] = []
    redis: RedisServer | None = None
    sipp = Sipp("127.0.0.1", inst.node.sip_port, workdir=tmp / f"sipp-{mode}-{cps}")
    tap = AmiTap("127.0.0.1", inst.node.ami_port, inst.node.ami_user, inst.ami_secret)
    try:
        procs, redis = python_side(mode, inst, center_file, env, tmp, database)
        sipp.seat_pool({s.id: inst.secrets.seats[s.id] for s in center.seats},
                       ring_s=RING_S, talk_s=TALK_S)
        for s in center.seats:
            inst.cli(f"queue add member PJSIP/{s.id} to manual penalty 0 as {s.id}")
        ast_pid = inst.pid() or 0
        py_pids = [p.pid for p in procs]
        cpu0 = cpu_seconds([ast_pid]), cpu_seconds(py_pids)
        load0 = os.getloadavg()[0]
        started = time.time()
        since = int(started) - 1
        prefix = f"13{MODES.index(mode)}{int(cps):03d}"
        numbers = [f"{prefix}{i:05d}" for i in range(calls)]
        service = "12329" if mode == "dialplan" else center.hotline_number
        caller = sipp.callers("load", numbers, digits=[(1.0, "0")], hold_s=120, rate=cps,
                              service=service)
        peak = 0
        deadline = time.monotonic() + seconds + per_call + 120
        while caller.running() and time.monotonic() < deadline:
            out = inst.cli("core show channels count")
            for line in out.splitlines():
                if "active channel" in line:
                    peak = max(peak, int(line.split()[0]))
            time.sleep(1.0)
        finished = not caller.running()
        caller.stop()
        cpu1 = cpu_seconds([ast_pid]), cpu_seconds(py_pids)
        load1 = os.getloadavg()[0]
        tally = sipp_totals(caller.workdir) if finished else None
        placed = set(numbers)
        ivr_ok = ivr_succeeded(tap, placed)
        connected = connected_numbers(inst.queue_log, since, placed)
        success = ivr_ok & connected
        in_ledger: set[str] | None = None
        reconcile: int | None = None
        if mode == "hotline":
            # The engine writes what it has read; give it until the ledger stops growing.
            seen, stable = -1, 0
            while stable < 3:
                now_seen = len(ledger_answered(database, placed))
                stable = stable + 1 if now_seen == seen else 0
                seen = now_seen
                time.sleep(1.0)
            in_ledger = ledger_answered(database, placed)
            success &= in_ledger
            sql = db.make_engine(database)
            reconcile = len(differences(sql, inst.queue_log, started - 2, time.time()))
            sql.dispose()
        failures = calls - len(success)
        tally_complete = tally is not None and sum(tally) == calls
        return {"mode": mode, "cps": cps, "calls": calls, "seats": seats,
                "sipp_ok": tally[0] if tally else None,
                "sipp_failed": tally[1] if tally else None,
                "tally_complete": tally_complete, "successes": len(success),
                # each condition on its own, to tell where the failures come from
                "ivr_succeeded": len(ivr_ok), "connected": len(connected),
                "ledger_answered": None if in_ledger is None else len(in_ledger),
                "failures": failures, "failure_rate": round(failures / calls, 5),
                "reconcile_differences": reconcile,
                "step_ok": tally_complete and failures / calls < 0.001 and not reconcile,
                "peak_channels": peak, "load_average": [round(load0, 2), round(load1, 2)],
                "asterisk_cpu_s_per_call": round((cpu1[0] - cpu0[0]) / calls, 5),
                "python_cpu_s_per_call": round((cpu1[1] - cpu0[1]) / calls, 5)}
    finally:
        tap.close()
        sipp.close()
        for p in procs:
            stop(p, 5)
        if redis is not None:
            redis.stop()
        try:
            inst.cli("channel request hangup all")
        except rig.RigError:
            pass
        inst.down()
        shutil.rmtree(inst.base, ignore_errors=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cps", default="10,20,24,26,28,30,32,34",
                        help="comma-separated call rates (steps of 2 near the limit)")
    parser.add_argument("--seconds", type=float, default=15.0, help="length of each step")
    parser.add_argument("--modes", default=",".join(MODES))
    parser.add_argument("--json", help="write the results here")
    args = parser.parse_args()
    results = []
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True,
                            text=True, cwd=Path(__file__).resolve().parent).stdout.strip()
    with tempfile.TemporaryDirectory(prefix="hotline-bench-") as tmp:
        for cps in [float(x) for x in args.cps.split(",")]:
            for mode in args.modes.split(","):
                r = run_step(mode, cps, args.seconds, Path(tmp))
                results.append(r)
                print(json.dumps(r), flush=True)
    best: dict[str, float] = {}
    for r in results:
        if r["step_ok"]:
            best[r["mode"]] = max(best.get(r["mode"], 0.0), r["cps"])
    summary: dict[str, Any] = {"commit": commit, "steps": results, "capacity_cps": best}
    if "dialplan" in best and "hotline" in best:
        summary["ratio_hotline_to_dialplan"] = round(best["hotline"] / best["dialplan"], 3)
    print(json.dumps({k: v for k, v in summary.items() if k != "steps"}))
    if args.json:
        Path(args.json).write_text(json.dumps(summary, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
