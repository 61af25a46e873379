"""`hotline demo`: a simulated shift on the real Asterisk.

Brings up Asterisk (and Redis, the engine and the IVR where they are part of the build), signs
in SIPp seats, lets SIPp callers arrive at random (Poisson), shows a progress line, and at the
end prints what happened, as Asterisk's own queue_log tells it, then shuts everything down.
"""

from __future__ import annotations

import argparse
import json
import random
import shutil
import signal
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from acd import center as center_mod
from acd import paths
from acd.center import Center
from acd.logs import get_logger
from acd.redis_server import RedisServer
from acd.simulate.sipp import Sipp, SippProcess
from asterisk_conf import rig

log = get_logger(__name__)

TERMINAL = {"ABANDON", "COMPLETEAGENT", "COMPLETECALLER", "EXITWITHTIMEOUT", "EXITEMPTY",
            "EXITWITHKEY"}


@dataclass
class CallView:
    """One call as queue_log tells it."""

    callid: str
    queue: str
    caller: str
    entered: int
    events: list[list[str]] = field(default_factory=list)

    @property
    def outcome(self) -> str:
        for row in self.events:
            if row[4] in ("COMPLETEAGENT", "COMPLETECALLER"):
                return "answered"
            if row[4] == "ABANDON":
                return "abandoned"
            if row[4] in ("EXITWITHTIMEOUT", "EXITEMPTY", "EXITWITHKEY"):
                return "left"
        if any(r[4] == "CONNECT" for r in self.events):
            return "talking"
        return "waiting"

    @property
    def wait_s(self) -> int | None:
        for row in self.events:
            if row[4] == "CONNECT":
                return int(row[5])
            if row[4] == "ABANDON":
                return int(row[7])
            if row[4] in ("EXITWITHTIMEOUT",):
                return int(row[7]) if len(row) > 7 and row[7].isdigit() else None
        return None


def read_queue_log(path: Path, since: int) -> dict[str, CallView]:
    """Calls that entered a queue at or after `since` (epoch seconds)."""
    calls: dict[str, CallView] = {}
    if not path.exists():
        return calls
    for line in path.read_text(errors="replace").splitlines():
        row = line.split("|")
        if len(row) < 5 or not row[0].isdigit() or int(row[0]) < since:
            continue
        if row[4] == "ENTERQUEUE":
            calls.setdefault(row[1], CallView(row[1], row[2], row[6] if len(row) > 6 else "",
                                              int(row[0])))
        if row[1] in calls:
            calls[row[1]].events.append(row)
    return calls


def summarize(calls: dict[str, CallView]) -> dict[str, Any]:
    offered = len(calls)
    answered = [c for c in calls.values() if c.outcome in ("answered", "talking")]
    abandoned = [c for c in calls.values() if c.outcome == "abandoned"]
    waits = [c.wait_s for c in answered if c.wait_s is not None]
    return {
        "calls": {"offered": offered, "answered": len(answered), "abandoned": len(abandoned)},
        "indicators": {
            "manual_connection_rate": round(len(answered) / offered, 4) if offered else None,
            "average_wait_s": round(sum(waits) / len(waits), 2) if waits else None,
            "answered_within_10s_rate":
                round(sum(1 for w in waits if w <= 10) / len(waits), 4) if waits else None,
        },
    }


def _progress(calls: dict[str, CallView], placed: int) -> str:
    by = {"waiting": 0, "talking": 0, "answered": 0, "abandoned": 0, "left": 0}
    for c in calls.values():
        by[c.outcome] += 1
    return (f"placed {placed:3d}  waiting {by['waiting']:3d}  talking {by['talking']:3d}  "
            f"answered {by['answered'] + by['talking']:3d}  abandoned {by['abandoned']:3d}")


def run_demo(center: Center, args: argparse.Namespace) -> dict[str, Any]:
    if shutil.which("sipp") is None:
        raise SystemExit("hotline demo: SIPp is not installed (Debian package sip-tester); "
                         "./run demo installs it")
    rng = random.Random(args.seed)
    root = rig.build_root()
    inst = rig.instance(center, root=root, name=f"demo-{center.code}")
    if inst.running():
        inst.down()
    shutil.rmtree(inst.base, ignore_errors=True)
    redis: RedisServer | None = None
    sipp = Sipp("127.0.0.1", inst.node.sip_port)
    stopping = False

    def _stop(*_: Any) -> None:
        nonlocal stopping
        stopping = True

    old = signal.signal(signal.SIGINT, _stop)
    try:
        print(f"==> Asterisk {rig.asterisk_version(root)} ({inst.name})", file=sys.stderr)
        inst.up()
        if not center.redis_url:
            redis = RedisServer(center.redis_port, paths.state_dir() / "redis")
            redis.start()
            print(f"==> Redis {redis.url}", file=sys.stderr)
        seats = center.seats_on(inst.node.name)[: args.seats]
        for seat in seats:
            sipp.seat(seat.id, inst.secrets.seats[seat.id], ring_s=1.0, talk_s=args.talk)
            for q in seat.queues:
                inst.cli(f"queue add member PJSIP/{seat.id} to {q} penalty 0 as {seat.id}")
        print(f"==> {len(seats)} seats signed in: {', '.join(s.id for s in seats)}",
              file=sys.stderr)
        since = int(time.time()) - 1
        callers: list[SippProcess] = []
        next_at = time.monotonic()
        placed = 0
        last_line = 0.0
        deadline = time.monotonic() + args.max_seconds
        while not stopping and time.monotonic() < deadline:
            now = time.monotonic()
            if placed < args.calls and now >= next_at:
                patience = rng.expovariate(1 / args.patience)
                number = f"139{rng.randrange(10**8):08d}"
                callers.append(sipp.callers(f"caller-{placed}", [number], hold_s=patience,
                                            rate=1))
                placed += 1
                next_at = now + rng.expovariate(args.rate)
            calls = read_queue_log(inst.queue_log, since)
            if now - last_line >= 1.0:
                print("\r" + _progress(calls, placed), end="", file=sys.stderr, flush=True)
                last_line = now
            if placed == args.calls and all(not c.running() for c in callers):
                break
            time.sleep(0.1)
        print(file=sys.stderr)
        calls = read_queue_log(inst.queue_log, since)
        summary = summarize(calls)
        summary["queue_log"] = str(inst.queue_log)
        summary["recordings"] = str(inst.recordings)
        return summary
    finally:
        signal.signal(signal.SIGINT, old)
        sipp.close()
        try:
            inst.cli("channel request hangup all")
        except rig.RigError:
            pass
        inst.down()
        if redis is not None:
            redis.stop()
        shutil.rmtree(sipp.workdir, ignore_errors=True)


def _demo(args: argparse.Namespace) -> int:
    center = center_mod.load(args.center or center_mod.default_path())
    summary = run_demo(center, args)
    calls = summary["calls"]
    ind = summary["indicators"]

    def pct(x: float | None) -> str:
        return "no data" if x is None else f"{100 * x:.1f} %"

    print(f"calls offered {calls['offered']}, answered {calls['answered']}, "
          f"abandoned {calls['abandoned']}")
    print(f"人工接通率 manual connection rate  {pct(ind['manual_connection_rate'])}  (target ≥ 95 %)")
    wait = ind["average_wait_s"]
    print(f"平均等待时长 average wait          {'no data' if wait is None else f'{wait:.1f} s'}"
          "  (target ≤ 25 s)")
    print(f"10秒接通率 answered within 10 s    {pct(ind['answered_within_10s_rate'])}")
    print(f"queue_log: {summary['queue_log']}")
    if args.json:
        Path(args.json).write_text(json.dumps(summary, indent=2, ensure_ascii=False))
        print(f"summary: {args.json}")
    return 0


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser("demo", help="a simulated shift on real Asterisk, then the figures")
    p.add_argument("--calls", type=int, default=30, help="calls to place (default 30)")
    p.add_argument("--seats", type=int, default=3, help="seats to sign in (default 3)")
    p.add_argument("--rate", type=float, default=0.5, help="mean arrivals per second (0.5)")
    p.add_argument("--talk", type=float, default=6.0, help="seconds a seat talks (6)")
    p.add_argument("--patience", type=float, default=25.0,
                   help="mean seconds a caller waits before hanging up (25)")
    p.add_argument("--max-seconds", type=float, default=300.0, help="stop the shift after this")
    p.add_argument("--seed", type=int, default=None, help="random seed, for a repeatable shift")
    p.add_argument("--json", help="write a machine-readable summary here")
    p.set_defaults(func=_demo)
