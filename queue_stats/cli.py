"""`hotline stats reconcile`, `hotline stats calls` and `hotline staffing`."""

from __future__ import annotations

import argparse
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

from acd import center as center_mod
from acd.history import db
from asterisk_conf import rig


def _period(args: argparse.Namespace) -> tuple[datetime, datetime]:
    until = datetime.fromisoformat(args.until) if args.until else datetime.now(UTC).replace(
        tzinfo=None)
    since = datetime.fromisoformat(args.since) if args.since else until - timedelta(days=1)
    return since, until


def _engine(args: argparse.Namespace):  # type: ignore[no-untyped-def]
    center = center_mod.load(args.center or center_mod.default_path())
    return center, db.make_engine(args.database or db.database_url(center))


def _reconcile(args: argparse.Namespace) -> int:
    from queue_stats.reconcile import differences

    center, engine = _engine(args)
    queue_log = Path(args.queue_log) if args.queue_log else rig.instance(center).queue_log
    since, until = _period(args)
    found = differences(engine, queue_log, since.replace(tzinfo=UTC).timestamp(),
                        until.replace(tzinfo=UTC).timestamp())
    for d in found:
        print(d)
    print(f"{len(found)} difference(s) between the ledger and {queue_log} "
          f"from {since:%Y-%m-%d %H:%M} to {until:%Y-%m-%d %H:%M} (UTC)", file=sys.stderr)
    return 1 if found else 0


def _calls(args: argparse.Namespace) -> int:
    from queue_stats.indicators import Options, call_indicators, call_indicators_by

    center, engine = _engine(args)
    since, until = _period(args)
    if args.by != "all":
        groups = call_indicators_by(engine, since, until, args.by, center.code, args.queue,
                                    args.seat, Options(short_abandon_s=args.short_abandon,
                                                       wait_from=args.wait_from),
                                    timezone=center.timezone)
        print(f"{args.by:<16} {'queued':>7} {'answered':>9} {'接通率':>9} {'平均等待':>9} "
              f"{'10秒接通':>9}")
        for key, g in groups.items():
            print(f"{key:<16} {g.queued:>7} {g.answered:>9} {str(g.manual_connection_rate):>9} "
                  f"{str(g.average_wait_s):>9} {str(g.answered_within_10s_rate):>9}")
        return 0
    ind = call_indicators(engine, since, until, center=center.code, queue=args.queue,
                          seat=args.seat, options=Options(short_abandon_s=args.short_abandon,
                                                          wait_from=args.wait_from))
    print(f"queued {ind.queued}, answered {ind.answered}, abandoned {ind.abandoned}")
    for label, value in (("人工接通率 manual connection rate", ind.manual_connection_rate),
                         ("平均等待时长 average wait", ind.average_wait_s),
                         ("10秒接通率 answered within 10 s", ind.answered_within_10s_rate),
                         ("放弃率 abandon rate", ind.abandon_rate),
                         ("平均处理时长 average handle time", ind.average_handle_time_s)):
        print(f"{label:<36} {value}")
    from queue_stats.indicators import broadcast_hangups
    heard = broadcast_hangups(engine, since, until, center.code)
    print(f"{'heard the broadcast, hung up before queueing':<36} "
          f"{heard.numerator:g} of {heard.denominator:g}")
    return 0


def _report(args: argparse.Namespace) -> int:
    from queue_stats import report

    center, engine = _engine(args)
    since, until = _period(args)
    title = args.title or f"{center.name} {since:%Y-%m-%d} — {until:%Y-%m-%d}"
    files = report.write(engine, since, until, center.code, title, Path(args.out))
    for kind, path in files.items():
        print(f"{kind}: {path}")
    return 0


def _staffing(args: argparse.Namespace) -> int:
    from queue_stats.staffing import seats_needed

    r = seats_needed(args.calls_per_hour, args.handle_s, args.answered, args.wait_s,
                     args.patience_s)
    print(f"{r.seats} seats for {args.calls_per_hour:g} calls/hour of {args.handle_s:g} s "
          f"({r.traffic_erlangs} erlangs): average wait {r.average_wait_s} s, "
          f"{100 * r.within_patience:.1f} % answered within {args.patience_s:g} s, "
          f"occupancy {100 * r.occupancy:.1f} %")
    return 0


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser("stats", help="indicators from the ledger; reconcile with queue_log")
    ps = p.add_subparsers(dest="stats_command", metavar="ACTION", required=True)
    for name, func, text in (("reconcile", _reconcile,
                              "every call where the ledger and queue_log differ (exit 1 if any)"),
                             ("calls", _calls, "the call indicators of a period")):
        c = ps.add_parser(name, help=text)
        c.add_argument("--since", help="ISO time, UTC (default: a day before --until)")
        c.add_argument("--until", help="ISO time, UTC (default: now)")
        c.add_argument("--database")
        c.set_defaults(func=func)
        if name == "reconcile":
            c.add_argument("--queue-log", help="default: the rig instance's queue_log")
        else:
            c.add_argument("--queue")
            c.add_argument("--seat")
            c.add_argument("--short-abandon", type=float, default=0.0)
            c.add_argument("--wait-from", choices=("queue", "call"), default="queue")
            c.add_argument("--by", default="all",
                           choices=("all", "hour", "day", "month", "quarter", "year", "center",
                                    "queue", "seat"),
                           help="one row per group (times in the center's time zone)")
    rp = sub.add_parser("report", help="report files (XLSX, HTML with charts) for a period")
    rp.add_argument("--since", help="ISO time, UTC (default: a day before --until)")
    rp.add_argument("--until", help="ISO time, UTC (default: now)")
    rp.add_argument("--title", help="e.g. a special event's name")
    rp.add_argument("--out", default="report", help="directory for the files")
    rp.add_argument("--database")
    rp.set_defaults(func=_report)
    st = sub.add_parser("staffing", help="Erlang C: seats needed for 95 %% answered, 25 s wait")
    st.add_argument("calls_per_hour", type=float)
    st.add_argument("handle_s", type=float, help="average handle time in seconds")
    st.add_argument("--answered", type=float, default=0.95)
    st.add_argument("--wait-s", type=float, default=25.0)
    st.add_argument("--patience-s", type=float, default=60.0)
    st.set_defaults(func=_staffing)
