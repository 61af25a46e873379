"""`hotline stats ...`, `hotline report`, `hotline assess` and `hotline staffing`.

Every `--since`/`--until`, month, quarter and year is the center's local time
(`center.timezone`): `--since 2021-03-01 --until 2021-03-04` is the 1st to the 3rd of March
in Beijing time, whatever the machine's zone; the database's UTC never shows through.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from sqlalchemy import select, union

from acd.errors import Invalid
from acd.history import db
from acd.history.models import Call
from acd.history.traffic import plan_day
from acd.live.staffing import PlanError, seats_needed
from acd.orders.models import WorkOrder
from asterisk_conf import rig
from hotline import center as center_mod
from hotline.localtime import now_utc, parse_local, to_local
from queue_stats import assessment, report, upward
from queue_stats.indicators import Options, broadcast_hangups, call_indicators, call_indicators_by
from queue_stats.reconcile import differences
from queue_stats.report import Period
from queue_stats.seats import seat_report
from queue_stats.synthetic import GeneratorError, main
from queue_stats.upward import upload

LOCAL = ("a local date or time of the center's time zone, e.g. 2021-03-01 or "
         "2021-03-01T08:30")


def _period(args: argparse.Namespace, timezone: str) -> tuple[datetime, datetime]:
    """--since/--until, local times of the center, as the ledger's UTC [since, until)."""
    try:
        until = parse_local(args.until, timezone, "--until") if args.until else now_utc()
        since = parse_local(args.since, timezone, "--since") if args.since \
            else until - timedelta(days=1)
    except ValueError as exc:
        raise Invalid(str(exc)) from None
    if until <= since:
        raise Invalid("--until must be after --since")
    return since, until


def _shown(t: datetime, timezone: str) -> str:
    return f"{to_local(t, timezone):%Y-%m-%d %H:%M}"


def _engine(args: argparse.Namespace, read_only: bool = True):  # type: ignore[no-untyped-def]
    """The center and its database: as it is for a command that only reads (never migrated:
    acd/history/db.py open_existing), brought to the current schema for one that writes."""
    center = center_mod.load(args.center or center_mod.default_path())
    if read_only:
        return center, db.open_existing(center, args.database)
    return center, db.open_database(center, args.database)


def _reconcile(args: argparse.Namespace) -> int:

    center, engine = _engine(args)
    queue_log = Path(args.queue_log) if args.queue_log else rig.instance(center).queue_log
    since, until = _period(args, center.timezone)
    found = differences(engine, queue_log, since.replace(tzinfo=UTC).timestamp(),
                        until.replace(tzinfo=UTC).timestamp())
    for d in found:
        print(d)
    print(f"{len(found)} difference(s) between the ledger and {queue_log} "
          f"from {_shown(since, center.timezone)} to {_shown(until, center.timezone)} "
          f"({center.timezone})", file=sys.stderr)
    return 1 if found else 0


def _deployment_center(center: center_mod.Center, engine, code: str | None  # type: ignore[no-untyped-def]
                       ) -> None:
    """--center-code names a center of this deployment's file (primary or [[hosted]]) or of
    the database, else it is a one-line mistake (an empty figure would hide it)."""
    if not code or code in center.codes:
        return
    with engine.connect() as conn:
        known = {c for (c,) in conn.execute(select(Call.center).distinct())}
    if code not in known:
        raise Invalid(f"--center-code: {code!r} is no center of this deployment or of the "
                      f"database (centers: {', '.join(sorted(set(center.codes) | known))})")


def _calls(args: argparse.Namespace) -> int:

    center, engine = _engine(args)
    _deployment_center(center, engine, args.only_center)
    code = args.only_center or center.code
    since, until = _period(args, center.timezone)
    options = Options(short_abandon_s=args.short_abandon)
    if args.by != "all":
        groups = call_indicators_by(engine, since, until, args.by, code, args.queue,
                                    args.seat, options, timezone=center.timezone)
        print(f"{args.by:<16} {'queued':>7} {'answered':>9} {'接通率':>9} {'平均等待':>9} "
              f"{'排队等待':>9} {'10秒接通':>9}")
        for key, g in groups.items():
            print(f"{key:<16} {g.queued:>7} {g.answered:>9} {g.manual_connection_rate!s:>9} "
                  f"{g.average_wait_s!s:>9} {g.average_queue_wait_s!s:>9} "
                  f"{g.answered_within_10s_rate!s:>9}")
        return 0
    ind = call_indicators(engine, since, until, center=code, queue=args.queue,
                          seat=args.seat, options=options)
    print(f"{center.center_name(code)} ({code}) "
          f"{_shown(since, center.timezone)} to {_shown(until, center.timezone)} "
          f"({center.timezone}): queued {ind.queued}, answered {ind.answered}, "
          f"abandoned {ind.abandoned}")
    for label, value in (("人工接通率 manual connection rate", ind.manual_connection_rate),
                         ("平均等待时长 average wait (from dialling)", ind.average_wait_s),
                         ("排队等待时长 queue wait", ind.average_queue_wait_s),
                         ("10秒接通率 answered within 10 s", ind.answered_within_10s_rate),
                         ("放弃率 abandon rate", ind.abandon_rate),
                         ("平均处理时长 average handle time", ind.average_handle_time_s)):
        print(f"{label:<36} {value}")
    heard = broadcast_hangups(engine, since, until, code)
    print(f"{'heard the broadcast, hung up before queueing':<36} "
          f"{heard.numerator:g} of {heard.denominator:g}")
    return 0


def _report_period(args: argparse.Namespace, timezone: str):  # type: ignore[no-untyped-def]

    try:
        if args.month:
            year, month = (int(x) for x in args.month.split("-"))
            return Period.month(year, month, timezone)
        if args.year:
            return Period.year(int(args.year), timezone)
        if args.event:
            if not (args.since and args.until):
                raise ValueError("a special event needs --since and --until")
            since, until = _period(args, timezone)
            return Period.special(args.event, to_local(since, timezone), to_local(until, timezone),
                                  timezone)
    except ValueError as exc:
        raise Invalid(str(exc)) from None
    raise Invalid("say --month YYYY-MM, --year YYYY or --event TITLE --since ... --until ...")


def _rules(args: argparse.Namespace):  # type: ignore[no-untyped-def]

    try:
        rules = assessment.Rules.load(Path(args.rules)) if args.rules else assessment.Rules.load()
        adjustments = assessment.load_adjustments(Path(args.adjustments)) \
            if args.adjustments else None
    except (OSError, ValueError) as exc:
        raise Invalid(str(exc)) from None
    return rules, adjustments


def _known_center(engine, code: str | None, rules,  # type: ignore[no-untyped-def]
                  deployment: tuple[str, ...] = ()) -> None:
    """--center-code names a center of the rules' [centers], of this deployment's center file
    or of the database, else it is a mistake (an empty report would hide it)."""
    if not code or code in rules.centers or code in deployment:
        return
    with engine.connect() as conn:
        known = sorted({c for (c,) in conn.execute(union(select(Call.center).distinct(),
                                                         select(WorkOrder.center).distinct()))}
                       | set(rules.centers))
    if code not in known:
        shown = ", ".join(known[:20]) + (" ..." if len(known) > 20 else "")
        raise Invalid(f"--center-code: {code!r} is no center of the database or of the "
                      f"rules' [centers] (known: {shown or 'none'})")


def _report(args: argparse.Namespace) -> int:

    center, engine = _engine(args, read_only=not args.submit)
    p = _report_period(args, center.timezone)
    rules, adjustments = _rules(args)
    _known_center(engine, args.only_center, rules, center.codes)
    files = report.write(engine, p, Path(args.out), args.only_center, rules, adjustments,
                         busy_title=center.busy_title)
    for kind, path in files.items():
        print(f"{kind}: {path}")
    if args.submit and center.exchange.platform_url:
        queued = upward.enqueue_report(engine, args.only_center or center.code, p.kind, p.title,
                                       p.lo, p.hi)
        _, done = asyncio.run(upward.push(engine, center))
        print(f"{p.kind} report {p.title!r} {'queued' if queued else 'was queued before'} for "
              f"the platform; {done.sent} message(s) acknowledged"
              + (", the platform did not answer: it is sent on the next push" if done.down
                 else ""))
    elif args.submit:
        sub = upward.submit(engine, args.only_center or center.code, p.kind, p.title,
                               p.lo, p.hi)
        late = "on time" if sub.submitted_at <= p.utc(sub.due_at) else "LATE"
        print(f"submitted {p.kind} report {p.title!r}: due {sub.due_at:%Y-%m-%d %H:%M} "
              f"({center.timezone}), {late}")
    return 0


def _assess(args: argparse.Namespace) -> int:

    center, engine = _engine(args)
    rules, adjustments = _rules(args)
    _known_center(engine, args.only_center, rules, center.codes)
    try:
        if args.month:
            year, month = (int(x) for x in args.month.split("-"))
            t = assessment.monthly_table(engine, year, month, rules, center.timezone)
            rows, title = t.rows, t.title
        elif args.quarter:
            year, q = args.quarter.upper().split("-Q")
            r = assessment.quarter_tables(engine, int(year), int(q), rules, center.timezone)
            rows, title = r.rows, r.title
        elif args.year:
            r = assessment.year_tables(engine, int(args.year), rules, adjustments,
                                       center.timezone)
            rows, title = r.rows, r.title
        else:
            raise ValueError("which period?")
    except ValueError as exc:
        raise Invalid(f"{exc} (say --month 2026-10, --quarter 2026-Q3 or --year 2026)") from None
    if args.only_center:  # its row, ranked among all the centers
        rows = [r for r in rows if r.center == args.only_center]
    print(f"{title} · {rules.name} · base {rules.base:g} · ties by "
          f"{', '.join(assessment.LABELS[k] for k in rules.tie_break) or '(shared)'}")
    print(f"{'rank':>4} {'score':>7} {'工单数量':>8} {'人工接通率':>9}  center")
    for row in rows:
        mcr = row.values.get("manual_connection_rate")
        print(f"{row.rank:>4} {row.score:>7.2f} {int(row.value('orders') or 0):>8} "
              f"{str(mcr) if mcr is not None else '':>10}  {row.name or row.center}")
    return 0


def _seats(args: argparse.Namespace) -> int:

    center, engine = _engine(args)
    _deployment_center(center, engine, args.only_center)
    since, until = _period(args, center.timezone)
    print(f"{'seat':<6} {'day':<10} {'signed in':>9} {'busy':>7} {'wrap-up':>7} {'calls':>5} "
          f"{'AHT':>7} {'occupancy':>9}  busy by reason (hours)")
    for d in seat_report(engine, since, until, args.only_center, center.timezone):
        reasons = ", ".join(f"{k} {v / 3600:.2f}" for k, v in sorted(d.busy_s.items()))
        print(f"{d.seat:<6} {d.day:<10} {d.signed_in_s / 3600:>8.2f}h {d.busy_total_s / 3600:>6.2f}h "
              f"{d.wrapup_s / 3600:>6.2f}h {d.answered:>5} {d.average_handle_time_s!s:>7} "
              f"{d.occupancy!s:>9}  "
              f"{reasons}")
    return 0


def _upload(args: argparse.Namespace) -> int:

    center, engine = _engine(args, read_only=False)
    _deployment_center(center, engine, args.only_center)
    since, until = _period(args, center.timezone)
    up = upload(engine, since, until, Path(args.out), args.only_center)
    print(f"{up.records} call record(s) written to {up.path}")
    return 0


def _push(args: argparse.Namespace) -> int:
    """Call records and reports to the platform ([exchange] platform_url)."""
    center, engine = _engine(args, read_only=False)
    if not center.exchange.platform_url:
        raise Invalid("the center file has no [exchange] platform_url")
    n, done = asyncio.run(upward.push(engine, center))
    print(f"{n} call record(s) queued; {done.sent} acknowledged, {done.retried} to retry, "
          f"{done.rejected} rejected" + (" (the platform is not reachable: an outage is "
                                         "recorded, the next push resumes)" if done.down else ""))
    return 1 if done.down else 0


def _number(name: str, lo: float, hi: float, above: bool = False):  # type: ignore[no-untyped-def]
    """An argparse type: a number from lo (or above it) to hi, else one line naming it."""
    def read(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            value = float("nan")
        if not (value > lo if above else value >= lo) or not value <= hi:
            raise argparse.ArgumentTypeError(
                f"{name}: must be a number {'above' if above else 'from'} {lo:g} "
                f"{'and at most' if above else 'to'} {hi:g}, got {text!r}")
        return value
    return read


def _staffing(args: argparse.Namespace) -> int:

    r = seats_needed(args.calls_per_hour, args.handle_s, args.answered, args.wait_s,
                     args.patience_s)
    print(f"{r.seats} seats for {args.calls_per_hour:g} calls/hour of {args.handle_s:g} s "
          f"({r.traffic_erlangs} erlangs): average wait {r.average_wait_s} s, "
          f"{100 * r.within_patience:.1f} % answered within {args.patience_s:g} s, "
          f"occupancy {100 * r.occupancy:.1f} %")
    return 0


def _staffing_plan(args: argparse.Namespace) -> int:
    """Seats per queue and hour for days to come, from their counterparts of last year."""
    center, engine = _engine(args)
    try:
        first = date.fromisoformat(args.day) if args.day else center.today()
        reference = date.fromisoformat(args.reference) if args.reference else None
    except ValueError as exc:
        raise SystemExit(f"hotline staffing-plan: {exc} (dates are YYYY-MM-DD)") from None
    if not 1 <= args.days <= 31 or args.growth <= 0:
        raise SystemExit("hotline staffing-plan: --days from 1 to 31, --growth above 0")
    queues = args.queue or [q.name for q in center.queues]
    unknown = sorted(set(queues) - {q.name for q in center.queues})
    if unknown:
        raise SystemExit(f"hotline staffing-plan: no queue named {unknown[0]!r}")
    sessions = db.session_factory(engine)
    plans = []
    try:
        for i in range(args.days):
            day = first + timedelta(days=i)
            ref = reference + timedelta(days=i) if reference else None
            plans.append(plan_day(sessions, center, day, args.growth, ref))
    except PlanError as exc:
        print(f"hotline staffing-plan: {exc}", file=sys.stderr)
        return 2
    finally:
        engine.dispose()
    if args.json:
        print(json.dumps([p.as_dict() for p in plans], ensure_ascii=False, indent=1))
        return 0
    for p in plans:
        print(f"{p.counterpart.day}  {p.counterpart.label}  (calls ×{p.growth:g}; Erlang C: "
              "95 % answered within 60 s, average wait ≤ 25 s)")
        print("hour  " + "".join(f"{q:>16}" for q in queues))
        for hour in range(24):
            cells = []
            for q in queues:
                h = p.queues[q][hour]
                cells.append(f"{'-' if h.seats is None else h.seats:>5} seats {h.calls:>5g}")
            print(f"{hour:02d}    " + "".join(f"{c:>16}" for c in cells))
        print()
    return 0


def _period_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--month", help="YYYY-MM, a month of the center's time zone")
    p.add_argument("--year", help="YYYY, a year of the center's time zone")
    p.add_argument("--center-code", dest="only_center", metavar="CODE",
                   help="one center's figures (default: every center in the database)")
    p.add_argument("--rules", help="scoring rules, TOML (default: queue_stats/scoring/henan.toml)")
    p.add_argument("--adjustments", help="the year's 加减分, TOML")
    p.add_argument("--database")


def _generate(args: argparse.Namespace) -> int:
    """`hotline stats generate`: a synthetic half year (queue_stats/synthetic.py)."""
    from sqlalchemy.exc import ArgumentError, OperationalError


    try:
        summary = main(args.database, args.seed, args.scale)
    except (GeneratorError, ArgumentError, OperationalError) as e:
        print(f"hotline stats generate: {e}", file=sys.stderr)
        return 2
    print(", ".join(f"{k} {v}" for k, v in summary.as_dict().items()))
    return 0


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser("stats", help="indicators from the ledger; reconcile with queue_log")
    ps = p.add_subparsers(dest="stats_command", metavar="ACTION", required=True)
    for name, func, text in (("reconcile", _reconcile,
                              "every call where the ledger and queue_log differ (exit 1 if any)"),
                             ("calls", _calls, "the call indicators of a period"),
                             ("seats", _seats, ("per seat and day: signed in, busy by "
                                                "reason, wrap-up, calls, average handle time")),
                             ("upload", _upload, ("write the period's call records not yet "
                                                  "uploaded into a file for the provincial "
                                                  "platform"))):
        c = ps.add_parser(name, help=text)
        c.add_argument("--since", help=f"start: {LOCAL} (default: a day before --until)")
        c.add_argument("--until", help=f"end, exclusive: {LOCAL} (default: now)")
        c.add_argument("--database")
        c.set_defaults(func=func)
        if name in ("seats", "upload"):
            c.add_argument("--center-code", dest="only_center", metavar="CODE",
                           help="one center's records only (default: all in the database)")
            if name == "upload":
                c.add_argument("--out", default="uploads", help="directory for the file")
        elif name == "reconcile":
            c.add_argument("--queue-log", help="default: the rig instance's queue_log")
        else:
            c.add_argument("--center-code", dest="only_center", metavar="CODE",
                           help="the calls whose queue was this center's (default: the "
                           "center file's primary center)")
            c.add_argument("--queue")
            c.add_argument("--seat")
            c.add_argument("--short-abandon", type=float, default=0.0)
            c.add_argument("--by", default="all",
                           choices=("all", "hour", "day", "month", "quarter", "year", "center",
                                    "queue", "seat"),
                           help="one row per group (times in the center's time zone)")
    pu = ps.add_parser("push", help="send the call records not yet reported (and queued "
                       "reports) to the provincial platform ([exchange] platform_url): "
                       "retried, idempotent, resumed after an outage")
    pu.add_argument("--database")
    pu.set_defaults(func=_push)
    g = ps.add_parser("generate", help="fill an empty database with a synthetic half year "
                      "shaped like seed 000 (Liaoning, 16 centers), for benchmarks and tests")
    g.add_argument("--database", required=True, help="SQLAlchemy URL of an empty database")
    g.add_argument("--seed", type=int, default=0)
    g.add_argument("--scale", type=float, default=1.0, help="volume factor, e.g. 0.01")
    g.set_defaults(func=_generate)
    rp = sub.add_parser("report", help="report files (XLSX, HTML with charts) for a month, "
                        "a year or a special event")
    _period_args(rp)
    rp.add_argument("--event", help="a special event's title (with --since and --until)")
    rp.add_argument("--since", help=f"special event: start, {LOCAL}")
    rp.add_argument("--until", help=f"special event: end, exclusive, {LOCAL}")
    rp.add_argument("--submit", action="store_true",
                    help="record the report as handed in now (timely-reporting rate)")
    rp.add_argument("--out", default="report", help="directory for the files")
    rp.set_defaults(func=_report)
    ap = sub.add_parser("assess", help="the monthly assessment table, or a quarter's or "
                        "year's ranking")
    _period_args(ap)
    ap.add_argument("--quarter", help="YYYY-QN, a quarter of the center's time zone")
    ap.set_defaults(func=_assess)
    st = sub.add_parser("staffing", help="Erlang C: seats needed for 95 %% answered, 25 s wait")
    st.add_argument("calls_per_hour", type=_number("calls_per_hour", 0, 1e6))
    st.add_argument("handle_s", type=_number("handle_s", 0, 86400, above=True),
                    help="average handle time in seconds")
    st.add_argument("--answered", type=_number("--answered", 0, 1, above=True), default=0.95,
                    help="the share to answer, above 0 and at most 1 (default 0.95)")
    st.add_argument("--wait-s", type=_number("--wait-s", 0, 86400, above=True), default=25.0)
    st.add_argument("--patience-s", type=_number("--patience-s", 0, 86400, above=True),
                    default=60.0)
    st.set_defaults(func=_staffing)
    sp = sub.add_parser("staffing-plan", help="seats per queue and hour for days to come (a "
                        "holiday), from the same day of last year (Erlang C per hour)")
    sp.add_argument("--day", help="first day, YYYY-MM-DD (default: the center's today)")
    sp.add_argument("--days", type=int, default=1, help="how many days from it (default 1)")
    sp.add_argument("--reference", help="plan from this day (and the next ones) instead of "
                    "the calendar's counterpart")
    sp.add_argument("--growth", type=float, default=1.0,
                    help="last year's calls times this (the year's trend, e.g. 1.28)")
    sp.add_argument("--queue", action="append", help="only these queues")
    sp.add_argument("--json", action="store_true")
    sp.add_argument("--database")
    sp.set_defaults(func=_staffing_plan)
