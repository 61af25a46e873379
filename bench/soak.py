"""The shift with faults (issue 13), at the size this machine carries: calls through the IVR,
queues, seats and the survey on the rig, the engine on PostgreSQL, and every fault once or
more (engine SIGKILL twice, the second with calls in long talk; Redis and the FastAGI server
stopped; a database lock; PostgreSQL and Asterisk restarted). Prints the verdict as JSON:
calls, faults with their recovery times, records lost, ledger/queue_log differences, open
rows, the upload, callers cut short, engine RSS, the AMI-event-to-wallboard lag outside and
during the faults. RELIABILITY.md records a run.

    .venv/bin/python bench/soak.py --calls 1200 --rate 1 --json soak.json

The defaults are RELIABILITY.md's run (about 25 minutes); `--small` is the suite's size.
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import asdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from hotline.shell.simulate.soak import Plan, Shift


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--calls", type=int, default=Plan.calls)
    ap.add_argument("--rate", type=float, default=Plan.rate, help="calls per second")
    ap.add_argument("--fault-s", type=float, default=Plan.fault_s,
                    help="how long Redis and the FastAGI server stay down")
    ap.add_argument("--lock-s", type=float, default=Plan.lock_s)
    ap.add_argument("--long-talk", type=int, default=Plan.long_talk,
                    help="calls in long talk when the engine is killed the second time")
    ap.add_argument("--small", action="store_true", help="the suite's size")
    ap.add_argument("--json", help="write the verdict here too")
    args = ap.parse_args()
    plan = Plan.small() if args.small else Plan(calls=args.calls, rate=args.rate,
                                            fault_s=args.fault_s, lock_s=args.lock_s,
                                            long_talk=args.long_talk)
    verdict = Shift(plan).run()
    out = {"plan": asdict(plan), **asdict(verdict), "ok": verdict.ok}
    print(json.dumps(out, indent=2, ensure_ascii=False))
    if args.json:
        Path(args.json).write_text(json.dumps(out, indent=2, ensure_ascii=False))
    return 0 if verdict.ok else 1


if __name__ == "__main__":
    sys.exit(main())
