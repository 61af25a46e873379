"""`hotline recordings retention [--delete]`."""

from __future__ import annotations

import argparse
from pathlib import Path

from asterisk_conf import rig
from hotline import center as center_mod
from recordings import retention


def _retention(args: argparse.Namespace) -> int:
    if args.dir:
        directory = Path(args.dir)
    else:
        center = center_mod.load(args.center or center_mod.default_path())
        directory = rig.instance(center, node=args.node).recordings
    p = retention.plan(directory, args.keep_days)
    print(f"{len(p.files)} recording(s), {p.bytes / 1e6:.1f} MB, older than {args.keep_days} "
          f"days under {directory}")
    for f in p.files[:50]:
        print(f"  {f}")
    if args.delete:
        print(f"deleted {retention.delete(directory, args.keep_days)}")
    else:
        print("nothing deleted (dry run); --delete to delete them")
    return 0


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser("recordings", help="call recordings: retention")
    rs = p.add_subparsers(dest="recordings_command", metavar="ACTION", required=True)
    r = rs.add_parser("retention", help="list (and with --delete remove) recordings past "
                      "their retention; never one younger than a year")
    r.add_argument("--keep-days", type=int, default=retention.MIN_DAYS)
    r.add_argument("--dir", help="the recordings directory (default: the rig instance's)")
    r.add_argument("--node")
    r.add_argument("--delete", action="store_true")
    r.set_defaults(func=_retention)
