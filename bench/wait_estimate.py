"""The caller's expected wait against the wait it then had (issue 16), over demo shifts.

Each load is one `hotline demo` shift on the rig (its own state directory, instance, Redis and
ledger): the seeds' mix of callers at `--rate` calls/s on `--seats` SIPp seats, callbacks and
messages at the demo's shares, no survey (a rater's early 1 would book callbacks beyond the
set share). From that shift's ledger and queue_log, for every queue stay a seat answered
(not a callback's leg) whose caller was told an estimate on entering (`wait_estimates`, the
first announcement):

- engine:   the estimate the caller heard (acd/callers/estimate.py: the seats' live state and
            the day's handle time);
- holdtime: app_queue's own (`announce-holdtime`): the queue's holdtime at the caller's entry,
            its formula (holdtime = (3 * holdtime + wait) / 4 at each CONNECT, in whole
            seconds) replayed over the shift's queue_log;
- naive:    position x average handle time / seats signed in to the queue, the handle time
            (talk + the queue's wrap-up) averaged over the stays ended before the entry
            (before any: the center's default_handle_s + wrap-up, as the engine starts;
            the shift's center file sets default_handle_s to the demo's talk time, at least
            10 s, as a center sets its typical one, unless --default-handle says otherwise).

against the stay's real wait (queue entry to a seat's answer). Mean absolute error, and
relative: MAE / mean real wait. Goal: engine within 20 %. Prints JSON; BENCHMARKS.md records a
run.

    .venv/bin/python bench/wait_estimate.py --calls 50 --loads 0.1,0.28 --json wait.json
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from statistics import mean
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import select
from sqlalchemy.orm import Session

from acd.callers.models import WaitEstimate
from acd.history import db
from acd.history.models import Call, QueueCall
from hotline import center as center_mod
from hotline.center import Center
from tests.support.rig import dump_toml, example_center_data


@dataclass
class Pair:
    uniqueid: str
    queue: str
    position: int
    real_s: float
    engine_s: float
    holdtime_s: float
    naive_s: float


def holdtimes(queue_log: Path) -> dict[tuple[str, str], float]:
    """app_queue's holdtime of the queue as each caller entered it, from queue_log."""
    held: dict[str, int] = {}
    at_entry: dict[tuple[str, str], float] = {}
    for line in queue_log.read_text(encoding="utf-8", errors="replace").splitlines():
        f = line.split("|")
        if len(f) < 5:
            continue
        callid, queue, event = f[1], f[2], f[4]
        if event == "ENTERQUEUE":
            at_entry[(callid, queue)] = float(held.get(queue, 0))
        elif event == "CONNECT" and len(f) > 5 and f[5].isdigit():
            old = held.get(queue, 0)
            held[queue] = ((old << 2) - old + int(f[5])) >> 2
    return at_entry


def pairs(database: str, queue_log: Path, center: Center, seats: int,
          unstaffed: str) -> tuple[list[Pair], int, dict[str, Any]]:
    """Every answered stay with its estimates; the number of answered stays; the load."""
    serving = {q.name: sum(1 for s in center.seats[:seats] if q.name in s.queues
                           and q.name != unstaffed) for q in center.queues}
    wrapup = {q.name: q.wrapup_s for q in center.queues}
    held = holdtimes(queue_log)
    engine = db.make_engine(database)
    try:
        with Session(engine) as s:
            stays = list(s.execute(select(QueueCall).join(Call, Call.uniqueid == QueueCall.uniqueid)
                                   .where(Call.callback_of.is_(None))).scalars())
            told = {(e.uniqueid, e.queue): e for e in s.scalars(select(WaitEstimate))}
            legs = list(s.execute(select(QueueCall).join(Call, Call.uniqueid == QueueCall.uniqueid)
                                  .where(Call.callback_of.is_not(None))).scalars())
    finally:
        engine.dispose()
    ended = sorted(((st.ended_at, (st.talk_s or 0.0) + wrapup.get(st.queue, 0))
                    for st in stays + legs if st.ended_at is not None and st.talk_s is not None),
                   key=lambda x: x[0])
    answered = [st for st in stays if st.outcome in ("answered", "transferred")
                and st.wait_s is not None]
    out = []
    for st in answered:
        e = told.get((st.uniqueid, st.queue))
        if e is None or e.expected_s is None:
            continue
        before = [h for t, h in ended if t <= e.at]
        aht = mean(before) if before else center.callers.default_handle_s + wrapup[st.queue]
        out.append(Pair(st.uniqueid, st.queue, e.position, float(st.wait_s), e.expected_s,
                        held.get((st.uniqueid, st.queue), 0.0),
                        e.position * aht / max(1, serving.get(st.queue, 1))))
    first = min((st.entered_at for st in stays), default=None)
    last = max((st.entered_at for st in stays), default=None)
    handle = [h for _, h in ended]
    load = {"queued": len(stays), "answered": len(answered),
            "abandoned": sum(st.outcome == "abandoned" for st in stays),
            "mean_handle_s": round(mean(handle), 1) if handle else None,
            "arrivals_per_s": round((len(stays) - 1) / (last - first).total_seconds(), 3)
            if first and last and last > first else None}
    if load["mean_handle_s"] and load["arrivals_per_s"]:
        load["utilisation"] = round(load["arrivals_per_s"] * load["mean_handle_s"]
                                    / max(1, seats), 2)
    return out, len(answered), load


def errors(ps: list[Pair]) -> dict[str, Any]:
    if not ps:
        return {"n": 0}
    real = mean(p.real_s for p in ps)
    out: dict[str, Any] = {"n": len(ps), "mean_real_wait_s": round(real, 2)}
    for name in ("engine", "holdtime", "naive"):
        got = [getattr(p, f"{name}_s") for p in ps]
        mae = mean(abs(g - p.real_s) for g, p in zip(got, ps))
        out[name] = {"mae_s": round(mae, 2),
                     "relative": round(mae / real, 3) if real > 0 else None,
                     "bias_s": round(mean(g - p.real_s for g, p in zip(got, ps)), 2)}
    for name in ("holdtime", "naive"):
        base = out[name]["mae_s"]
        out[f"engine_to_{name}"] = round(out["engine"]["mae_s"] / base, 2) if base else None
    return out


def shift(rate: float, args: argparse.Namespace, work: Path) -> dict[str, Any]:
    """One demo shift at `rate` calls/s; its figures."""
    data = example_center_data()
    # The talk time the estimate starts the day with (before a queue's first answered call)
    # is the center's typical one: the demo's talk time (at least 10 s, the file's lower
    # bound), not the example file's 180 s.
    start = args.default_handle if args.default_handle is not None else args.talk
    data["callers"].update(calling_hours="24h", callback_attempts=2, callback_retry_s=10,
                           default_handle_s=max(10, int(round(start))))
    center_file = work / "center.toml"
    center_file.write_text(dump_toml(data), encoding="utf-8")
    summary = work / "summary.json"
    env = {**os.environ, "HOTLINE_VAR": str(work / "var")}
    load_start = os.getloadavg()[0]
    cmd = [sys.executable, "-m", "hotline.shell.cli", "--center", str(center_file),
           "--log-level", "WARNING", "demo", "--calls", str(args.calls), "--seats",
           str(args.seats), "--rate", str(rate), "--talk", str(args.talk), "--patience",
           str(args.patience), "--seed", str(args.seed), "--survey", "0",
           "--max-seconds", str(args.calls / rate * 2 + 300), "--json", str(summary)]
    started = time.monotonic()
    run = subprocess.run(cmd, env=env, capture_output=True, text=True)
    if not summary.exists():
        raise SystemExit(f"the demo at {rate} calls/s failed (exit {run.returncode}):\n"
                         + run.stdout[-3000:] + run.stderr[-3000:])
    result = json.loads(summary.read_text())
    center = center_mod.load(center_file)
    ps, answered, load = pairs(result["database"], Path(result["queue_log"]), center,
                               args.seats, result["plan"]["unstaffed_queue"])
    base = Path(result["queue_log"]).parents[1]   # the shift's instance, in the shared root
    if base.name.startswith("demo-"):
        shutil.rmtree(base, ignore_errors=True)
    return {"rate": rate, "seconds": round(time.monotonic() - started), "demo_exit":
            run.returncode, "load_average": [round(load_start, 1),
                                             round(os.getloadavg()[0], 1)],
            "load": load, "with_estimate": len(ps), "answered_stays": answered,
            "callbacks": result["callbacks"],
            "messages": {k: v for k, v in result["messages"].items() if k != "orders"},
            "reconcile_differences": len(result["reconciliation"]["differences"]),
            "errors": errors(ps),
            "pairs": [p.__dict__ for p in ps] if args.pairs else None}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--calls", type=int, default=50, help="callers per shift (50)")
    ap.add_argument("--loads", default="0.1,0.28",
                    help="arrival rates, calls/s (0.1,0.28: a light load and one near the "
                         "3 seats' capacity)")
    ap.add_argument("--seats", type=int, default=3)
    ap.add_argument("--talk", type=float, default=6.0)
    ap.add_argument("--patience", type=float, default=25.0)
    ap.add_argument("--seed", type=int, default=16)
    ap.add_argument("--default-handle", type=float, default=None,
                    help="the center's default_handle_s for the shift (default: --talk)")
    ap.add_argument("--pairs", action="store_true", help="list every caller's figures too")
    ap.add_argument("--json", help="write the figures here too")
    args = ap.parse_args()
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT,
                            capture_output=True, text=True).stdout.strip()
    out: dict[str, Any] = {"commit": commit,
                           "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
                           "args": vars(args), "shifts": []}
    for rate in (float(x) for x in args.loads.split(",")):
        with tempfile.TemporaryDirectory(prefix="hotline-wait-") as tmp:
            out["shifts"].append(shift(rate, args, Path(tmp)))
            print(json.dumps({k: v for k, v in out["shifts"][-1].items() if k != "pairs"},
                             ensure_ascii=False), file=sys.stderr)
    print(json.dumps(out, indent=2, ensure_ascii=False))
    if args.json:
        Path(args.json).write_text(json.dumps(out, indent=2, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
