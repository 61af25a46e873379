"""Lag from an AMI event to the wallboard's feed, under load.

A rig instance, Redis, the engine (`hotline engine run`), a pool of SIPp seats and SIPp callers
at `--cps` for `--seconds`; the engine's peak RSS (VmHWM) is read at the end. A subscriber on the Redis change channel (what the wallboard reads)
takes every seat change and measures now minus the change's `since`, which is the Timestamp
Asterisk put on the AMI event that caused it. Baseline in the same run: a bare Redis publish
to the same subscriber.

    .venv/bin/python bench/lag.py --cps 20 --seconds 15
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import redis

from asterisk_conf import rig
from hotline import center as center_mod
from hotline.shell.redis_server import RedisServer
from hotline.shell.simulate.ports import free_ports
from hotline.shell.simulate.sipp import Sipp
from hotline.shell.wiring import rig_installers
from tests.support.rig import dump_toml


def percentile(xs: list[float], p: float) -> float:
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(p * len(xs)))] if xs else float("nan")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--cps", type=float, default=20)
    ap.add_argument("--seconds", type=float, default=15)
    ap.add_argument("--json")
    args = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="hotline-lag-"))
    data = tomllib.loads(center_mod.EXAMPLE.read_text(encoding="utf-8"))
    sip, ami, agi, rport, http = free_ports(5)
    seats = int(args.cps * 3) + 4
    data["nodes"][0].update(sip_port=sip, ami_port=ami, fastagi_port=agi, rtp_start=20000,
                            rtp_end=29999)
    data["center"]["recording"] = False
    for q in data["queues"]:
        q["wrapup_s"] = 0
    data["seats"] = [{"id": f"{7000 + i}", "queues": ["manual"]} for i in range(seats)]
    data["engine"].update(redis_port=rport, http_port=http)
    center_file = tmp / "center.toml"
    center_file.write_text(dump_toml(data), encoding="utf-8")
    center = center_mod.load(center_file)
    os.environ["HOTLINE_VAR"] = str(tmp)
    inst = rig.instance(center, name=f"bench-lag-{os.getpid()}", state=tmp,
                        installers=rig_installers(center))
    shutil.rmtree(inst.base, ignore_errors=True)
    inst.up()
    server = RedisServer(rport, tmp / "redis")
    server.start()
    lags: list[float] = []
    base: list[float] = []
    stop = threading.Event()
    r = redis.Redis(port=rport)
    channel = f"hotline:{center.code}:changes"

    def listen() -> None:
        ps = r.pubsub()
        ps.subscribe(channel)
        while not stop.is_set():
            m = ps.get_message(ignore_subscribe_messages=True, timeout=0.2)
            if m is None:
                continue
            now = time.time()
            msg = json.loads(m["data"])
            if msg.get("kind") == "seat" and msg["data"].get("since"):
                lags.append(now - msg["data"]["since"])
            elif msg.get("kind") == "probe":
                base.append(now - msg["sent"])
        ps.close()

    t = threading.Thread(target=listen, daemon=True)
    t.start()
    engine = subprocess.Popen([sys.executable, "-m", "hotline.shell.cli", "--center", str(center_file),
                               "--log-level", "WARNING", "engine", "run", "--instance",
                               inst.name, "--redis", server.url, "--no-http"],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    sipp = Sipp("127.0.0.1", sip, workdir=tmp / "sipp")
    try:
        time.sleep(3)
        sipp.seat_pool({s.id: inst.secrets.seats[s.id] for s in center.seats}, ring_s=0.2,
                       talk_s=2.0)
        for s in center.seats:
            inst.cli(f"queue add member PJSIP/{s.id} to manual penalty 0 as {s.id}")
        time.sleep(2)
        lags.clear()
        load0 = os.getloadavg()[0]
        calls = int(args.cps * args.seconds)
        caller = sipp.callers("lag", [f"1386{i:07d}" for i in range(calls)], hold_s=30,
                              rate=args.cps)
        deadline = time.monotonic() + args.seconds + 40
        while caller.running() and time.monotonic() < deadline:
            r.publish(channel, json.dumps({"kind": "probe", "sent": time.time()}))
            time.sleep(0.05)
        time.sleep(2)
        load1 = os.getloadavg()[0]
        hwm = next((int(line.split()[1]) for line in
                    Path(f"/proc/{engine.pid}/status").read_text().splitlines()
                    if line.startswith("VmHWM")), 0)
    finally:
        stop.set()
        t.join(2)
        sipp.close()
        engine.terminate()
        engine.wait(10)
        try:
            inst.cli("channel request hangup all")
        except rig.RigError:
            pass
        inst.down()
        server.stop()
        shutil.rmtree(inst.base, ignore_errors=True)
        shutil.rmtree(tmp, ignore_errors=True)
    out = {"cps": args.cps, "calls": calls, "seat_changes": len(lags),
           "lag_p50_ms": round(1000 * percentile(lags, 0.5), 2),
           "lag_p99_ms": round(1000 * percentile(lags, 0.99), 2),
           "redis_only_p50_ms": round(1000 * percentile(base, 0.5), 2),
           "redis_only_p99_ms": round(1000 * percentile(base, 0.99), 2),
           "engine_peak_rss_kb": hwm, "seats": seats,
           "load_average": [round(load0, 2), round(load1, 2)],
           "commit": subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT,
                                    capture_output=True, text=True).stdout.strip()}
    out["p99_ratio_to_redis_only"] = round(out["lag_p99_ms"] / out["redis_only_p99_ms"], 2) \
        if out["redis_only_p99_ms"] else None
    print(json.dumps(out, indent=2))
    if args.json:
        Path(args.json).write_text(json.dumps(out, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
