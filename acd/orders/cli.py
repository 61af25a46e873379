"""`hotline orders ...`: work orders, revisits and the knowledge base from the command line.
Days (deadlines, `--day`) are the center's local days (`center.timezone`)."""

from __future__ import annotations

import argparse
import asyncio
import csv
import json
import sys
from datetime import date

from sqlalchemy import select

from acd.errors import Refused
from acd.history import db
from acd.history.models import Call
from acd.orders import backoffice, bodies, knowledge, service
from acd.orders.models import Revisit, WorkOrder
from acd.orders.service import InvalidOrder, OrderError
from acd.outbox import sender
from acd.outbox.models import OutboxMessage
from acd.web.users import WebUser
from hotline import center as center_mod
from hotline.center import DOMAINS, ORDER_TYPES
from hotline.localtime import to_local
from hotline.logs import mask_number


def _sessions(args: argparse.Namespace, read_only: bool = False):  # type: ignore[no-untyped-def]
    """The center and its database's sessions: as it is for a command that only reads (never
    migrated: acd/history/db.py open_existing), brought to the current schema for one that
    writes."""
    center = center_mod.load(args.center or center_mod.default_path())
    opened = db.open_existing if read_only else db.open_database
    return center, db.session_factory(opened(center, args.database))


def _code(center: center_mod.Center, args: argparse.Namespace) -> str:
    """--center-code: the center of the deployment the command acts for (default the
    primary; an unknown code is an error naming the centers)."""
    return center.known_center(getattr(args, "center_code", None) or center.code,
                               "--center-code")


def _line(o: WorkOrder) -> str:
    due = f"due {o.due}" if o.due else f"transfer by {o.transfer_due}"
    late = " LATE-TRANSFER" if o.transfer_late else ""
    return (f"#{o.id} {o.status:<12} {o.type:<12} {o.domain:<14} {due}{late} "
            f"{mask_number(o.caller_number):<13} {o.content[:30]}")


def _day(text: str | None, center: center_mod.Center) -> date:
    """`--day YYYY-MM-DD`, a day of the center's time zone; today there when not given."""
    if not text:
        return center.today()
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise InvalidOrder(f"--day must be a date like 2026-03-01, got {text!r}") from None


def _create(args: argparse.Namespace) -> int:
    center, sessions = _sessions(args)
    code = _code(center, args)
    with sessions.begin() as s:
        call = s.get(Call, args.call) if args.call else None
        if call is not None and not args.center_code:
            code = call.center  # an order for a call is the call's center's
        o = service.create(s, center=code, type=args.type, domain=args.domain,
                           content=args.content, caller_number=args.caller or "",
                           call_uniqueid=args.call, source=args.source,
                           subject=args.subject or "", by=args.by, timezone=center.timezone)
        print(_line(o))
    return 0


def _show(args: argparse.Namespace) -> int:
    _, sessions = _sessions(args, read_only=True)
    with sessions() as s:
        o = s.get(WorkOrder, args.id)
        if o is None:
            print(f"hotline orders: no order {args.id}", file=sys.stderr)
            return 1
        print(_line(o))
        for e in o.history:
            print(f"  {e.at:%Y-%m-%d %H:%M} {e.by:<12} {e.action:<14} {e.from_status} -> "
                  f"{e.to_status} {e.reason}")
        problems = service.conformity(o)
        print(f"  conformity: {'ok' if not problems else ', '.join(problems)}")
    return 0


def _list(args: argparse.Namespace) -> int:
    center, sessions = _sessions(args, read_only=True)
    with sessions() as s:
        if args.overdue:
            for kind, orders in service.overdue(s, _code(center, args),
                                                center.today()).items():
                print(f"{kind}: {len(orders)}")
                for o in orders:
                    print("  " + _line(o))
            return 0
        q = select(WorkOrder).where(WorkOrder.center == _code(center, args)).order_by(
            WorkOrder.id)
        if args.status:
            q = q.where(WorkOrder.status == args.status)
        for o in s.scalars(q):
            print(_line(o))
    return 0


def _transition(args: argparse.Namespace) -> int:
    center, sessions = _sessions(args)
    tz = center.timezone
    with sessions.begin() as s:
        o = s.get(WorkOrder, args.id)
        if o is None:
            print(f"hotline orders: no order {args.id}", file=sys.stderr)
            return 1
        text = args.text or ""
        fn = {"answer_on_call": lambda: service.answer_on_call(s, o, args.by, text),
              "refuse": lambda: service.refuse(s, o, args.by, text),
              "transfer": lambda: (backoffice.transfer(s, center, o, args.by, text)
                                   if center.units else
                                   service.transfer(s, o, args.by, text, timezone=tz)),
              "receive": lambda: service.receive(s, o, args.by),
              "remind": lambda: backoffice.remind(s, center, o, args.by, text),
              "forward": lambda: backoffice.forward(s, center, o, args.by, args.center_to or "",
                                                    text),
              "escalate": lambda: backoffice.escalate(s, center, o, args.by, text),
              "return": lambda: service.return_(s, o, args.by, text, timezone=tz),
              "extend": lambda: service.extend(s, o, args.by, args.days or 0, text,
                                               timezone=tz),
              "reply": lambda: service.reply(s, o, args.by, text),
              "close": lambda: service.close(s, o, args.by),
              "archive": lambda: service.archive(s, o, args.by),
              "reopen": lambda: service.reopen(s, o, args.by, text, timezone=tz)}[args.action]
        fn()
        print(_line(o))
    return 0


def _import(args: argparse.Namespace) -> int:
    """CSV with a header: type,domain,content[,caller_number,subject,source]. All or nothing."""
    center, sessions = _sessions(args)
    with open(args.file, newline="", encoding="utf-8-sig") as f:
        rows = list(csv.DictReader(f))
    with sessions.begin() as s:
        for n, row in enumerate(rows, start=2):
            try:
                service.create(s, center=center.code, type=row.get("type", ""),
                               domain=row.get("domain", ""), content=row.get("content", ""),
                               caller_number=row.get("caller_number", ""),
                               subject=row.get("subject", ""),
                               source=row.get("source") or "import", by=args.by,
                               timezone=center.timezone)
            except OrderError as exc:
                raise InvalidOrder(f"{args.file} line {n}: {exc}; nothing imported") from None
    print(f"imported {len(rows)} orders")
    return 0


def _revisit_line(r: Revisit, timezone: str) -> str:
    o = r.order
    if r.done_at is None:
        result = "to do"
    else:
        result = (f"{'reached' if r.reached else 'not reached'}"
                  f"{f' {r.satisfaction} {service.SATISFACTION[r.satisfaction]}' if r.satisfaction else ''}"
                  f" by {r.by} at {to_local(r.done_at, timezone):%Y-%m-%d %H:%M}")
    return (f"revisit {r.id:<5} {r.sampled_on} {r.assigned_to or '(anyone)':<12} order #{o.id} "
            f"{o.type:<12} {o.caller_number:<13} {result}")


def _workers(sessions, code: str, named: list[str] | None) -> list[str]:  # type: ignore[no-untyped-def]
    """The revisit workers to share the day's list: as named, else the center's web users
    with the revisit role (none: the list is everyone's)."""
    if named:
        return named
    with sessions() as s:
        return list(s.scalars(select(WebUser.name).where(
            WebUser.center == code, WebUser.role == "revisit").order_by(WebUser.name)))


def _revisit_sample(args: argparse.Namespace) -> int:
    center, sessions = _sessions(args)
    day = _day(args.day, center)
    workers = _workers(sessions, _code(center, args), args.worker)
    with sessions.begin() as s:
        day_list = service.sample_revisits(s, _code(center, args), day, seed=args.seed, workers=workers,
                                           timezone=center.timezone)
        print(f"{len(day_list)} orders to revisit for {day} ({center.timezone})")
        for r in day_list:
            print("  " + _revisit_line(r, center.timezone))
    return 0


def _revisit_list(args: argparse.Namespace) -> int:
    center, sessions = _sessions(args, read_only=True)
    day = _day(args.day, center)
    with sessions() as s:
        day_list = service.revisits_of(s, _code(center, args), day, args.worker)
        print(f"{len(day_list)} revisits for {day}"
              f"{f' on the list of {args.worker}' if args.worker else ''}")
        for r in day_list:
            print("  " + _revisit_line(r, center.timezone))
    return 0


def _revisit_record(args: argparse.Namespace) -> int:
    center, sessions = _sessions(args)
    with sessions.begin() as s:
        r = service.find_revisit(s, _code(center, args), args.id)
        service.record_revisit(s, r, args.by, args.reached, args.satisfaction, args.note or "",
                               timezone=center.timezone)
        print(_revisit_line(r, center.timezone))
        print("  " + _line(r.order))
    return 0


def _kb(args: argparse.Namespace) -> int:
    center, sessions = _sessions(args, read_only=args.kb_command in ("export", "search"))
    if args.kb_command == "export":
        with sessions() as s:
            doc = knowledge.export(s, center.code)
        with open(args.file, "w", encoding="utf-8") as f:
            json.dump(doc, f, ensure_ascii=False, indent=1)
        print(f"{len(doc['entries'])} entries written to {args.file}")
        return 0
    if args.kb_command == "import":
        try:
            with open(args.file, encoding="utf-8-sig") as f:
                doc = json.load(f)
        except (OSError, json.JSONDecodeError) as exc:
            raise InvalidOrder(f"{args.file}: {exc}") from None
        entries = bodies.check_document(doc)
        with sessions.begin() as s:
            done = knowledge.import_(s, entries, center.code)
        print(f"added {done.added}, updated {done.updated}, unchanged {done.unchanged}")
        return 0
    if args.kb_command == "add":
        with sessions.begin() as s:
            e = knowledge.add(s, args.title, args.body, args.domain, args.for_ivr)
            print(f"entry {e.id}")
    else:
        with sessions() as s:
            for e in knowledge.search(s, " ".join(args.words), center.today()):
                print(json.dumps({"id": e.id, "title": e.title, "body": e.body[:80]},
                                 ensure_ascii=False))
    return 0


def _remind_overdue(args: argparse.Namespace) -> int:
    center, sessions = _sessions(args)
    with sessions.begin() as s:
        events = backoffice.remind_overdue(s, center, center.today(), args.by)
        print(f"{len(events)} overdue order(s) reminded")
    return 0


def _outbox(args: argparse.Namespace) -> int:
    """What waits for 12345, the platform and the SMS gateway; --deliver sends it now."""
    center, sessions = _sessions(args, read_only=not args.deliver)
    if args.deliver:
        done = asyncio.run(sender.deliver(sessions, center))
        print(f"sent {done.sent}, to retry {done.retried}, rejected {done.rejected}"
              + (f"; not reachable: {', '.join(done.down)}" if done.down else ""))
    with sessions() as s:
        counts: dict[tuple[str, str], int] = {}
        for m in s.scalars(select(OutboxMessage).where(OutboxMessage.center == center.code)):
            counts[(m.channel, m.state)] = counts.get((m.channel, m.state), 0) + 1
            if m.state == "rejected":
                print(f"rejected {m.channel} {m.key}: {m.last_error[:120]}")
        for (channel, state), n in sorted(counts.items()):
            print(f"{channel:<9} {state:<8} {n}")
    return 0


def _guard(func):  # type: ignore[no-untyped-def]
    def run(args: argparse.Namespace) -> int:
        try:
            return int(func(args))
        except (Refused, ValueError) as exc:
            print(f"hotline orders: {exc}", file=sys.stderr)
            return 2
    return run


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser("orders", help="work orders (工单), revisits, knowledge base")
    p.add_argument("--database", help="SQLAlchemy URL (default: the center's)")
    p.add_argument("--by", default="cli", help="who acts (recorded in the history)")
    p.add_argument("--center-code", metavar="CODE",
                   help="the center of the deployment ([center] or a [[hosted]] code) whose "
                   "orders and revisits (default: the primary's; an order for --call: the "
                   "call's center's)")
    o = p.add_subparsers(dest="orders_command", metavar="ACTION", required=True)
    c = o.add_parser("create", help="accept a new order")
    c.add_argument("--type", required=True, choices=sorted(ORDER_TYPES))
    c.add_argument("--domain", required=True, choices=tuple(DOMAINS))
    c.add_argument("--content", required=True)
    c.add_argument("--caller")
    c.add_argument("--subject")
    c.add_argument("--call", help="the call's Uniqueid")
    c.add_argument("--source", default="call")
    c.set_defaults(func=_guard(_create))
    sh = o.add_parser("show", help="an order with its history")
    sh.add_argument("id", type=int)
    sh.set_defaults(func=_guard(_show))
    ls = o.add_parser("list", help="orders (--status S, --overdue)")
    ls.add_argument("--status")
    ls.add_argument("--overdue", action="store_true")
    ls.set_defaults(func=_guard(_list))
    t = o.add_parser("transition", help="a lifecycle action on an order")
    t.add_argument("id", type=int)
    t.add_argument("action", choices=sorted(service.ALL_ACTIONS))
    t.add_argument("--text", help="unit code, reason, reply or refusal code")
    t.add_argument("--to", dest="center_to", help="the center, for forward")
    t.add_argument("--days", type=int, help="working days, for extend")
    t.set_defaults(func=_guard(_transition))
    im = o.add_parser("import-csv", help="orders from a CSV (12345 transfers, other centers)")
    im.add_argument("file")
    im.set_defaults(func=_guard(_import))
    day_help = "a day of the center's time zone, YYYY-MM-DD (default: today there)"
    rv = o.add_parser("revisit-sample", help="the day's revisit list: every complaint and at "
                      "least 30 %% of the orders replied that day (again: adds nothing twice)")
    rv.add_argument("--day", help=day_help)
    rv.add_argument("--seed", type=int)
    rv.add_argument("--worker", action="append", help="a revisit worker to share the list "
                    "(repeat; default: the center's web users with the revisit role)")
    rv.set_defaults(func=_guard(_revisit_sample))
    rl = o.add_parser("revisits", help="the day's revisits, with their results")
    rl.add_argument("--day", help=day_help)
    rl.add_argument("--worker", help="only this worker's list (and what nobody has)")
    rl.set_defaults(func=_guard(_revisit_list))
    rr = o.add_parser("revisit", help="record a revisit's result: ID --reached --satisfaction "
                      "1-4 [--note TEXT], or ID --not-reached")
    rr.add_argument("id", type=int)
    reach = rr.add_mutually_exclusive_group(required=True)
    reach.add_argument("--reached", dest="reached", action="store_true",
                       help="the caller was reached")
    reach.add_argument("--not-reached", dest="reached", action="store_false",
                       help="no answer (may be tried again)")
    rr.add_argument("--satisfaction", type=int, choices=sorted(service.SATISFACTION),
                    help="1 非常满意, 2 满意, 3 基本满意, 4 不满意 (the order is reopened)")
    rr.add_argument("--note")
    rr.set_defaults(func=_guard(_revisit_record))
    kb = o.add_parser("kb", help="the knowledge base: add | search")
    kbs = kb.add_subparsers(dest="kb_command", metavar="ACTION", required=True)
    ka = kbs.add_parser("add")
    ka.add_argument("--title", required=True)
    ka.add_argument("--body", required=True)
    ka.add_argument("--domain", default="other")
    ka.add_argument("--for-ivr", action="store_true")
    ka.set_defaults(func=_guard(_kb))
    ks = kbs.add_parser("search")
    ks.add_argument("words", nargs="+")
    ks.set_defaults(func=_guard(_kb))
    for name, text in (("export", "every entry into FILE, in the exchange format "
                                  "(docs/knowledge-exchange.md)"),
                       ("import", "entries from FILE in the exchange format: added, or "
                                  "updated by their ref; all or nothing")):
        kx = kbs.add_parser(name, help=text)
        kx.add_argument("file")
        kx.set_defaults(func=_guard(_kb))
    ro = o.add_parser("remind-overdue", help="remind the unit of every overdue order "
                      "(once a day; SMS when [exchange] sms_url is set)")
    ro.set_defaults(func=_guard(_remind_overdue))
    ob = o.add_parser("outbox", help="messages waiting for 12345, the platform, the SMS gateway")
    ob.add_argument("--deliver", action="store_true", help="send what is due now")
    ob.set_defaults(func=_guard(_outbox))
