"""`hotline orders ...`: work orders, revisits and the knowledge base from the command line."""

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
from acd.orders import backoffice, bodies, knowledge, service
from acd.orders.models import WorkOrder
from acd.orders.service import InvalidOrder, OrderError
from acd.outbox import sender
from acd.outbox.models import OutboxMessage
from hotline import center as center_mod
from hotline.center import DOMAINS, ORDER_TYPES
from hotline.logs import mask_number


def _sessions(args: argparse.Namespace):  # type: ignore[no-untyped-def]
    center = center_mod.load(args.center or center_mod.default_path())
    engine = db.open_database(center, args.database)
    return center, db.session_factory(engine)


def _line(o: WorkOrder) -> str:
    return (f"#{o.id} {o.status:<12} {o.type:<12} {o.domain:<14} due {o.due} "
            f"{mask_number(o.caller_number):<13} {o.content[:30]}")


def _create(args: argparse.Namespace) -> int:
    center, sessions = _sessions(args)
    with sessions.begin() as s:
        o = service.create(s, center=center.code, type=args.type, domain=args.domain,
                           content=args.content, caller_number=args.caller or "",
                           call_uniqueid=args.call, source=args.source,
                           subject=args.subject or "", by=args.by)
        print(_line(o))
    return 0


def _show(args: argparse.Namespace) -> int:
    _, sessions = _sessions(args)
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
    center, sessions = _sessions(args)
    with sessions() as s:
        if args.overdue:
            for kind, orders in service.overdue(s, center.code, date.today()).items():
                print(f"{kind}: {len(orders)}")
                for o in orders:
                    print("  " + _line(o))
            return 0
        q = select(WorkOrder).where(WorkOrder.center == center.code).order_by(WorkOrder.id)
        if args.status:
            q = q.where(WorkOrder.status == args.status)
        for o in s.scalars(q):
            print(_line(o))
    return 0


def _transition(args: argparse.Namespace) -> int:
    center, sessions = _sessions(args)
    with sessions.begin() as s:
        o = s.get(WorkOrder, args.id)
        if o is None:
            print(f"hotline orders: no order {args.id}", file=sys.stderr)
            return 1
        text = args.text or ""
        fn = {"answer_on_call": lambda: service.answer_on_call(s, o, args.by, text),
              "refuse": lambda: service.refuse(s, o, args.by, text),
              "transfer": lambda: (backoffice.transfer(s, center, o, args.by, text)
                                   if center.units else service.transfer(s, o, args.by, text)),
              "receive": lambda: service.receive(s, o, args.by),
              "remind": lambda: backoffice.remind(s, center, o, args.by, text),
              "forward": lambda: backoffice.forward(s, center, o, args.by, args.center_to or "",
                                                    text),
              "escalate": lambda: backoffice.escalate(s, center, o, args.by, text),
              "return": lambda: service.return_(s, o, args.by, text),
              "extend": lambda: service.extend(s, o, args.by, args.days or 0, text),
              "reply": lambda: service.reply(s, o, args.by, text),
              "close": lambda: service.close(s, o, args.by),
              "archive": lambda: service.archive(s, o, args.by),
              "reopen": lambda: service.reopen(s, o, args.by, text)}[args.action]
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
                               source=row.get("source") or "import", by=args.by)
            except OrderError as exc:
                raise InvalidOrder(f"{args.file} line {n}: {exc}; nothing imported") from None
    print(f"imported {len(rows)} orders")
    return 0


def _revisits(args: argparse.Namespace) -> int:
    center, sessions = _sessions(args)
    day = date.fromisoformat(args.day) if args.day else date.today()
    with sessions.begin() as s:
        picked = service.sample_revisits(s, center.code, day, seed=args.seed)
        print(f"{len(picked)} orders to revisit for {day}")
        for o in picked:
            print("  " + _line(o))
    return 0


def _kb(args: argparse.Namespace) -> int:
    center, sessions = _sessions(args)
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
            for e in knowledge.search(s, " ".join(args.words)):
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
    center, sessions = _sessions(args)
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
    rv = o.add_parser("revisit-sample", help="pick the day's orders to call back")
    rv.add_argument("--day")
    rv.add_argument("--seed", type=int)
    rv.set_defaults(func=_guard(_revisits))
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
