"""`hotline callers ...`: blocked numbers, the platform's callbacks, opening hours.

    hotline callers block 13800000000 --reason "辱骂话务员" --days 30 [--by NAME]
    hotline callers unblock 13800000000 --reason "误封"
    hotline callers blocked                 the blocks in force, then the audit trail
    hotline callers callbacks [--state waiting]
    hotline callers cancel ID               take a waiting callback off the list
    hotline callers hours [--clock 2026-10-01T10:00]   each queue open or closed, next opening
"""

from __future__ import annotations

import argparse

from sqlalchemy import select

from acd.callers import blocklist, callbacks
from acd.callers.hours import is_open, next_open, parse_clock
from acd.callers.models import Callback
from acd.errors import Invalid
from acd.history import db
from hotline import center as center_mod
from hotline.localtime import to_local
from hotline.logs import mask_number


def _sessions(args: argparse.Namespace):  # type: ignore[no-untyped-def]
    center = center_mod.load(args.center or center_mod.default_path())
    return center, db.session_factory(db.open_database(center, args.database))


def _code(center: center_mod.Center, args: argparse.Namespace) -> str:
    """--center-code: the center whose blocks and callbacks (default the primary's)."""
    return center.known_center(getattr(args, "center_code", None) or center.code,
                               "--center-code")


def _block(args: argparse.Namespace) -> int:
    center, sessions = _sessions(args)
    with sessions.begin() as s:
        row = blocklist.block(s, _code(center, args), args.number, args.reason, args.days, args.by)
        until = to_local(row.expires_at, center.timezone)
        print(f"{row.number} blocked until {until:%Y-%m-%d %H:%M} ({center.timezone}): "
              f"{row.reason} (by {row.created_by})")
    return 0


def _unblock(args: argparse.Namespace) -> int:
    center, sessions = _sessions(args)
    with sessions.begin() as s:
        row = blocklist.lift(s, _code(center, args), args.number, args.reason, args.by)
        print(f"{row.number}: block lifted by {row.lifted_by}: {row.lift_reason}")
    return 0


def _blocked(args: argparse.Namespace) -> int:
    center, sessions = _sessions(args)
    tz = center.timezone
    with sessions() as s:
        active = {b.id for b in blocklist.active(s, _code(center, args))}
        for b in blocklist.history(s, _code(center, args)):
            state = "ACTIVE " if b.id in active else ("lifted " if b.lifted_at else "expired")
            lifted = (f"; lifted {to_local(b.lifted_at, tz):%Y-%m-%d %H:%M} by {b.lifted_by}: "
                      f"{b.lift_reason}") if b.lifted_at else ""
            print(f"{state} {b.number:<14} {to_local(b.created_at, tz):%Y-%m-%d %H:%M} "
                  f"by {b.created_by} until {to_local(b.expires_at, tz):%Y-%m-%d %H:%M}: "
                  f"{b.reason}{lifted}")
    return 0


def _callbacks(args: argparse.Namespace) -> int:
    center, sessions = _sessions(args)
    if args.state and args.state not in (*callbacks.OPEN, *callbacks.FINAL):
        raise Invalid(f"--state: one of {', '.join((*callbacks.OPEN, *callbacks.FINAL))}")
    with sessions() as s:
        q = select(Callback).where(Callback.center == _code(center, args)).order_by(
            Callback.id.desc()).limit(args.limit)
        if args.state:
            q = q.where(Callback.state == args.state)
        for r in s.scalars(q):
            print(f"#{r.id} {r.kind:<8} {r.state:<9} {mask_number(r.number):<13} "
                  f"{r.queue or '-':<10} tries {r.attempts}/{r.max_attempts} "
                  f"next {to_local(r.next_at, center.timezone):%m-%d %H:%M} {r.last_status}")
    return 0


def _cancel(args: argparse.Namespace) -> int:
    center, sessions = _sessions(args)
    with sessions.begin() as s:
        row = callbacks.find(s, _code(center, args), args.id)
        callbacks.cancel(row, args.by)
        print(f"callback #{row.id} cancelled")
    return 0


def _hours(args: argparse.Namespace) -> int:
    center = center_mod.load(args.center or center_mod.default_path())
    try:
        clock = parse_clock(args.clock, center.timezone)
    except ValueError as exc:
        raise Invalid(str(exc)) from None
    now = clock.now()
    print(f"{now:%Y-%m-%d %H:%M} {center.timezone}")
    for q in center.queues:
        sched = center.hours_of(q.name)
        if is_open(sched, now):
            print(f"{q.name:<12} {sched.name:<10} open")
        else:
            nxt = next_open(sched, now)
            opens = f", opens {nxt:%Y-%m-%d %H:%M}" if nxt else ""
            print(f"{q.name:<12} {sched.name:<10} closed{opens}")
    calling = center.schedule(center.callers.calling_hours)
    print(f"calling out ({calling.name}): {'open' if is_open(calling, now) else 'closed'}")
    return 0


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser("callers", help="blocked numbers, callbacks, opening hours")
    p.add_argument("--database", help="SQLAlchemy URL (default: the center's)")
    p.add_argument("--center-code", metavar="CODE", help="the center of the deployment "
                   "whose blocks and callbacks (default: the primary's)")
    csub = p.add_subparsers(dest="callers_command", metavar="ACTION", required=True)
    b = csub.add_parser("block", help="keep a number from the seats (a reason, an expiry)")
    b.add_argument("number")
    b.add_argument("--reason", required=True)
    b.add_argument("--days", type=int, required=True, help="1 to 366")
    b.add_argument("--by", default="cli", help="who blocks (kept on the record)")
    b.set_defaults(func=_block)
    u = csub.add_parser("unblock", help="lift a number's block, with a reason")
    u.add_argument("number")
    u.add_argument("--reason", required=True)
    u.add_argument("--by", default="cli")
    u.set_defaults(func=_unblock)
    csub.add_parser("blocked", help="the blocks, in force and past (the audit trail)"
                    ).set_defaults(func=_blocked)
    c = csub.add_parser("callbacks", help="the platform's calls out")
    c.add_argument("--state")
    c.add_argument("--limit", type=int, default=50)
    c.set_defaults(func=_callbacks)
    x = csub.add_parser("cancel", help="take a waiting callback off the list")
    x.add_argument("id", type=int)
    x.add_argument("--by", default="cli")
    x.set_defaults(func=_cancel)
    h = csub.add_parser("hours", help="each queue open or closed now (or at --clock)")
    h.add_argument("--clock", help="a local time, e.g. 2026-10-01T10:00")
    h.set_defaults(func=_hours)
