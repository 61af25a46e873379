"""`hotline seats lend|loans|return`: seats lent between the deployment's centers for a time
(acd/seats/loans.py). The commands record and end loans in the database; the running engine
puts the seats into the other center's queues and takes them out at the loan's end.

    hotline seats lend 8001 8002 --to huludao [--queue hld_highway ...] --hours 8
    hotline seats lend 8001 --to huludao --until 2026-10-01T20:00   (the center's local time)
    hotline seats loans [--all]
    hotline seats return 8001 8002
"""

from __future__ import annotations

import argparse
import getpass
from datetime import datetime

from acd.errors import Invalid
from acd.history import db
from acd.seats.loans import Loan, LoanService
from acd.seats.service import Actor
from hotline import center as center_mod
from hotline.center import Center
from hotline.localtime import to_local


def _operator() -> Actor:
    """The operator at the console: an admin, named by the login (kept as who lent)."""
    try:
        name = getpass.getuser()
    except (KeyError, OSError):
        name = "operator"
    return Actor(f"cli:{name}"[:80], "admin")


def _hours(text: str | None) -> float | None:
    if text is None:
        return None
    try:
        return float(text)
    except ValueError:
        raise Invalid(f"--hours: must be a number of hours, got {text[:20]!r}") from None


def _line(c: Center, loan: Loan) -> str:
    def local(t: datetime | None) -> str:
        return "-" if t is None else f"{to_local(t, c.tz):%Y-%m-%d %H:%M}"
    state = ("lent" if loan.applied else "lent (waiting for the engine)") if loan.current \
        else (f"ended {local(loan.ended_at)} by {loan.ended_by}"
              + ("" if loan.released else " (the engine has yet to take it out)"))
    return (f"{loan.id:>5}  seat {loan.seat}  {loan.from_center} -> {loan.to_center} "
            f"({', '.join(loan.queues)})  until {local(loan.until)}  by {loan.lent_by}  {state}")


def _run(args: argparse.Namespace) -> int:
    c = center_mod.load(args.center or center_mod.default_path())
    engine = db.open_database(c, args.database)
    try:
        service = LoanService(c, db.session_factory(engine))
        if args.loans_command == "lend":
            loans = service.lend(_operator(), args.seat, args.to, args.queue, args.until,
                                 _hours(args.hours))
        elif args.loans_command == "return":
            loans = service.return_(_operator(), args.seat)
        else:
            loans = service.loans(current_only=not args.all)
            if not loans:
                print("no seat is lent" if not args.all else "no loans")
        for loan in loans:
            print(_line(c, loan))
    finally:
        engine.dispose()
    return 0


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser("seats", help="lend seats to another center's queues for a time "
                       "(节假日岗位互换): lend, loans, return")
    ps = p.add_subparsers(dest="loans_command", metavar="ACTION", required=True)
    lend = ps.add_parser("lend", help="lend seats to another center of the deployment")
    lend.add_argument("seat", nargs="+")
    lend.add_argument("--to", required=True, help="the center's code")
    lend.add_argument("--queue", action="append",
                      help="only these queues of that center (default: all of them)")
    lend.add_argument("--until", help="until this local time of the center, e.g. "
                      "2026-10-01T20:00")
    lend.add_argument("--hours", help="for this many hours from now (at most 72)")
    loans = ps.add_parser("loans", help="the seats lent now (--all: with the ended loans)")
    loans.add_argument("--all", action="store_true")
    back = ps.add_parser("return", help="end the seats' loans now")
    back.add_argument("seat", nargs="+")
    for q in (lend, loans, back):
        q.add_argument("--database")
        q.set_defaults(func=_run)
