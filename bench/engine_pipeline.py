"""The engine's event pipeline against panoramisk merely parsing the same AMI stream.

1. Records a real AMI stream: a rig instance, a pool of SIPp seats, a few hundred SIPp calls
   (some abandon), every frame Asterisk sends captured raw.
2. Grows it into a busy hour: the recorded calls repeated with fresh Uniqueids and shifted
   timestamps until it holds `--calls` calls.
3. Times (a) panoramisk's Message.from_line over every frame, (b) the same parsing plus the
   engine's pipeline (live model, SQLite ledger writes in batches), and prints events/s for
   both and the ratio (goal >= 0.5).
4. Memory: a fresh process holds 300 calls in progress and 100 signed-in seats; its peak RSS
   against the same process with the engine imported but empty.

    .venv/bin/python bench/engine_pipeline.py --record-calls 300 --calls 5000
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import resource
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
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


def bench_center(seats: int) -> center_mod.Center:
    data = tomllib.loads(center_mod.EXAMPLE.read_text(encoding="utf-8"))
    sip, ami, agi = free_ports(3)
    data["nodes"][0].update(sip_port=sip, ami_port=ami, fastagi_port=agi,
                            rtp_start=20000, rtp_end=29999)
    data["center"]["recording"] = False
    for q in data["queues"]:
        q["wrapup_s"] = 0
    data["seats"] = [{"id": f"{7000 + i}", "queues": ["manual"]} for i in range(seats)]
    return center_mod.parse(data)


def record(calls: int, out: Path) -> int:
    """Run `calls` real calls and keep every AMI frame; how many frames."""
    center = bench_center(20)
    state = Path(tempfile.mkdtemp(prefix="hotline-bench-"))
    inst = rig.instance(center, name=f"bench-record-{os.getpid()}", state=state,
                        installers=rig_installers(center))
    shutil.rmtree(inst.base, ignore_errors=True)
    inst.up()
    sipp = Sipp("127.0.0.1", inst.node.sip_port)
    frames: list[bytes] = []
    stop = threading.Event()
    sock = socket.create_connection(("127.0.0.1", inst.node.ami_port))
    sock.sendall(f"Action: Login\r\nUsername: {inst.node.ami_user}\r\nSecret: "
                 f"{inst.ami_secret}\r\nEvents: on\r\n\r\n".encode())

    def reader() -> None:
        buf = b""
        sock.settimeout(0.5)
        while not stop.is_set():
            try:
                chunk = sock.recv(65536)
            except TimeoutError:
                continue
            if not chunk:
                return
            buf += chunk
            *done, buf = buf.split(b"\r\n\r\n")
            frames.extend(f for f in done if f.startswith(b"Event:") or b"\r\nEvent:" in f)

    t = threading.Thread(target=reader, daemon=True)
    t.start()
    try:
        sipp.seat_pool({s.id: inst.secrets.seats[s.id] for s in center.seats},
                       ring_s=0.2, talk_s=2.0)
        for s in center.seats:
            inst.cli(f"queue add member PJSIP/{s.id} to manual penalty 0 as {s.id}")
        patient = sipp.callers("patient", [f"1380{i:07d}" for i in range(calls * 4 // 5)],
                               hold_s=60, rate=10)
        impatient = sipp.callers("impatient", [f"1381{i:07d}" for i in range(calls // 5)],
                                 hold_s=1.0, rate=2)
        patient.wait(calls + 120)
        impatient.wait(calls + 120)
        time.sleep(2)
    finally:
        stop.set()
        t.join(2)
        sock.close()
        sipp.close()
        inst.down()
        shutil.rmtree(inst.base, ignore_errors=True)
        shutil.rmtree(state, ignore_errors=True)
    out.write_bytes(b"\r\n\r\n".join(frames) + b"\r\n\r\n")
    return len(frames)


_UID = re.compile(rb"(Uniqueid|Linkedid|DestUniqueid|DestLinkedid): (\S+)")
_TS = re.compile(rb"Timestamp: ([0-9.]+)")


def busy_hour(recorded: list[bytes], calls_wanted: int) -> list[bytes]:
    """Repeat the recorded frames with fresh ids and shifted times until calls_wanted calls."""
    per_copy = sum(1 for f in recorded if b"Event: QueueCallerJoin" in f) or 1
    copies = max(1, -(-calls_wanted // per_copy))
    stamps = [float(m.group(1)) for f in recorded for m in _TS.finditer(f)]
    span = (max(stamps) - min(stamps) + 1.0) if stamps else 1.0
    out = []
    for k in range(copies):
        for f in recorded:
            g = _UID.sub(lambda m, k=k: m.group(1) + b": " + m.group(2) + f"-{k}".encode(), f)
            g = _TS.sub(lambda m, k=k: b"Timestamp: " +
                        f"{float(m.group(1)) + k * span:.6f}".encode(), g)
            out.append(g)
    return out


def time_parse(frames: list[bytes]) -> tuple[float, list[dict[str, str]]]:
    from panoramisk.message import Message
    texts = [f.decode("utf-8", errors="replace") for f in frames]
    t0 = time.perf_counter()
    messages = [Message.from_line(t) for t in texts]
    elapsed = time.perf_counter() - t0
    return elapsed, [dict(m) for m in messages if m is not None]


def queue_stays_in(frames: list[bytes]) -> int:
    """Queue stays in the stream, read from the raw frames: one per distinct (Uniqueid, Queue)
    of a QueueCallerJoin (the engine writes one QueueCall row for each)."""
    stays = set()
    for f in frames:
        if b"Event: QueueCallerJoin\r\n" not in f + b"\r\n":
            continue
        fields = dict(line.split(b": ", 1) for line in f.split(b"\r\n") if b": " in line)
        stays.add((fields.get(b"Uniqueid"), fields.get(b"Queue")))
    return len(stays)


def time_pipeline(frames: list[bytes], db_path: Path) -> tuple[float, dict[str, int]]:
    """Seconds the engine's pipeline takes over the frames, and its checks: frames refused as
    malformed, handler crashes, queue stays in the ledger (and still waiting) against the
    stream's. `main` fails the run unless every frame was applied and the ledger holds one
    row per queue stay in the stream, none left waiting."""
    from panoramisk.message import Message
    from sqlalchemy import func, select
    from sqlalchemy.orm import Session

    from acd.engine import Engine
    from acd.history import db
    from acd.history.models import QueueCall

    center = bench_center(100)
    engine_db = db.make_engine(f"sqlite:///{db_path}")
    db.create_schema(engine_db)
    engine = Engine(center, db.session_factory(engine_db), {"pbx1": "x"}, None, {"pbx1": None})
    link = engine.links["pbx1"]
    texts = [f.decode("utf-8", errors="replace") for f in frames]

    async def run() -> float:
        t0 = time.perf_counter()
        for t in texts:
            m = Message.from_line(t)
            if m is not None:
                link.queue.put_nowait(dict(m))
        while not link.queue.empty():
            batch = []
            while not link.queue.empty() and len(batch) < 500:
                batch.append(link.queue.get_nowait())
            await engine._handle_batch(link, batch)
        return time.perf_counter() - t0

    elapsed = asyncio.run(run())
    with Session(engine_db) as s:
        rows = s.scalar(select(func.count()).select_from(QueueCall)) or 0
        waiting = s.scalar(select(func.count()).select_from(QueueCall)
                           .where(QueueCall.outcome == "waiting")) or 0
    engine_db.dispose()
    return elapsed, {"refused_as_malformed": link.malformed, "handler_crashes": link.failed,
                     "ledger_queue_stays": rows, "still_waiting": waiting,
                     "stream_queue_stays": queue_stays_in(frames)}


MEMORY_CHILD = """
import asyncio, json, sys, tempfile, time
sys.path.insert(0, {root!r})
from bench.engine_pipeline import bench_center
from acd.engine import Engine
from acd.history import db
full = sys.argv[1] == "full"
center = bench_center(100)
e = db.make_engine("sqlite:///" + tempfile.mktemp(suffix=".sqlite"))
db.create_schema(e)
engine = Engine(center, db.session_factory(e), {{"pbx1": "x"}}, None, {{"pbx1": None}})
link = engine.links["pbx1"]
if full:
    now = time.time()
    events = [{{"Event": "QueueMemberAdded", "Queue": "manual", "MemberName": s.id,
               "Paused": "0", "Timestamp": str(now)}} for s in center.seats]
    for i in range(300):
        uid = f"pbx1-{{now:.0f}}.{{i}}"
        events.append({{"Event": "Newchannel", "Context": "hotline-inbound", "Uniqueid": uid,
                       "Linkedid": uid, "CallerIDNum": f"1390000{{i:04d}}", "Exten": "12328",
                       "Timestamp": str(now)}})
        events.append({{"Event": "QueueCallerJoin", "Queue": "manual", "Uniqueid": uid,
                       "Position": str(i + 1), "Timestamp": str(now)}})
    asyncio.run(engine._handle_batch(link, events))
    assert sum(1 for c in engine.model.calls.values()) == 300
    engine.snapshot()
hwm = next(int(line.split()[1]) for line in open("/proc/self/status") if line.startswith("VmHWM"))
print(json.dumps({{"maxrss_kb": hwm}}))
"""


def memory() -> dict[str, int]:
    out = {}
    for mode in ("empty", "full"):
        r = subprocess.run([sys.executable, "-c", MEMORY_CHILD.format(root=str(ROOT)), mode],
                           capture_output=True, text=True, check=True)
        out[mode] = json.loads(r.stdout.strip().splitlines()[-1])["maxrss_kb"]
    return out


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--record-calls", type=int, default=300)
    p.add_argument("--calls", type=int, default=5000, help="calls in the busy hour")
    p.add_argument("--stream", help="reuse a recorded stream file instead of recording")
    p.add_argument("--json", help="write the results here")
    args = p.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="hotline-bench-"))
    stream = Path(args.stream) if args.stream else tmp / "ami-stream.txt"
    if not args.stream:
        n = record(args.record_calls, stream)
        print(f"recorded {n} frames from {args.record_calls} real calls", file=sys.stderr)
    recorded = [f for f in stream.read_bytes().split(b"\r\n\r\n") if f.strip()]
    frames = busy_hour(recorded, args.calls)
    load0 = os.getloadavg()[0]
    parse_s, _ = time_parse(frames)
    pipe_s, checks = time_pipeline(frames, tmp / "ledger.sqlite")
    mem = memory()
    result = {
        "frames": len(frames), "calls": args.calls,
        "parse_events_per_s": round(len(frames) / parse_s),
        "pipeline_events_per_s": round(len(frames) / pipe_s),
        "ratio_pipeline_to_parse": round(parse_s / pipe_s, 3),
        "rss_kb_empty_engine": mem["empty"], "rss_kb_300_calls_100_seats": mem["full"],
        "rss_ratio": round(mem["full"] / mem["empty"], 3),
        "python": sys.version.split()[0],
        "maxrss_self_kb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
        "load_average": [round(load0, 2), round(os.getloadavg()[0], 2)],
        "commit": subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT,
                                 capture_output=True, text=True).stdout.strip(),
    }
    result["checks"] = checks
    print(json.dumps(result, indent=2))
    if args.json:
        Path(args.json).write_text(json.dumps(result, indent=2))
    shutil.rmtree(tmp, ignore_errors=True)
    problems = []
    if checks["refused_as_malformed"] or checks["handler_crashes"]:
        problems.append(f"{checks['refused_as_malformed']} frames refused as malformed, "
                        f"{checks['handler_crashes']} handler crashes")
    if checks["ledger_queue_stays"] != checks["stream_queue_stays"] or checks["still_waiting"]:
        problems.append(f"ledger: {checks['ledger_queue_stays']} queue stays "
                        f"({checks['still_waiting']} still waiting), the stream has "
                        f"{checks['stream_queue_stays']}")
    for problem in problems:
        print(f"engine_pipeline: FAILED: {problem}", file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
