"""`hotline recordings retention [--delete]` (recordings only) and `hotline retention run
[--apply]` (every kind of personal data: recordings/purge.py)."""

from __future__ import annotations

import argparse
from pathlib import Path

from acd.history import db
from asterisk_conf import rig
from asterisk_conf.render import InstancePaths
from hotline import center as center_mod
from hotline import paths
from recordings import purge, retention


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


def _directories(center: center_mod.Center, explicit: list[str]) -> dict[str, Path | None]:
    """Each node's recordings directory: NODE=PATH options, else the rig's layout."""
    out: dict[str, Path | None] = {}
    for item in explicit:
        node, sep, path = item.partition("=")
        if not sep or node not in {n.name for n in center.nodes}:
            raise SystemExit(f"hotline retention: --recordings wants NODE=PATH for a node of "
                             f"the center, got {item!r}")
        out[node] = Path(path)
    root = paths.asterisk_root()
    for n in center.nodes:
        inner = InstancePaths(f"/srv/hotline/{center.code}-{n.name}").recordings
        out.setdefault(n.name, root / inner.lstrip("/"))
    return out


def _run(args: argparse.Namespace) -> int:
    center = center_mod.load(args.center or center_mod.default_path())
    engine = db.open_database(center, args.database)
    try:
        sessions = db.session_factory(engine)
        directories = _directories(center, args.recordings or [])
        if args.apply:
            done = purge.apply(sessions, center.codes, directories)
            print(f"retention applied: {done.purged_orders} work order(s) purged, "
                  f"{len(done.calls)} call(s) anonymised, {done.deleted_files} recording(s) "
                  f"deleted, {len(done.dangling)} call(s) unlinked from their recording")
        else:
            planned = purge.plan(sessions, center.codes, directories)
            print(f"retention (dry run): {planned.summary()}")
            print("nothing changed; --apply to do it (e.g. daily from cron)")
    finally:
        engine.dispose()
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

    ret = sub.add_parser("retention", help="retention of personal data: orders 5 years, "
                         "callers and recordings 1 year")
    rsub = ret.add_subparsers(dest="retention_command", metavar="ACTION", required=True)
    run = rsub.add_parser("run", help="list what is past its retention (dry run); --apply "
                          "deletes it (schedule this daily)")
    run.add_argument("--apply", action="store_true", help="delete and anonymise (default: "
                     "only list)")
    run.add_argument("--database", help="SQLAlchemy URL (default: the center's)")
    run.add_argument("--recordings", action="append", metavar="NODE=PATH",
                     help="a node's recordings directory (default: the rig's layout)")
    run.set_defaults(func=_run)
