"""The engine's commands: `hotline engine run|token`, `hotline seat ...`, `hotline web user`.

    hotline web user add NAME --role R [--seat S] [--center-code C] --password-stdin
    hotline web user reset NAME --password-stdin     a new password; every session ends
    hotline web user revoke NAME                     every session of the user ends
    hotline web user remove NAME                     gone; its open pages stop at once
    hotline engine token add NAME --role R [--seat S] [--center-code C] | token remove NAME

Every user and token belongs to one center of the deployment (--center-code, default the
primary; an unknown code is a one-line error): it logs in there and sees that center only.

`engine run` is parsed here and run by the function the shell hands in
(hotline.shell.wiring.run_engine): the engine, its web app and its API are put together there."""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from collections.abc import Callable

from panoramisk import Manager

from acd.api import tokens
from acd.errors import Refused
from acd.history import db
from acd.seats.service import Actor, SeatService
from acd.web import users
from hotline import center as center_mod
from hotline import paths
from hotline import secrets as secrets_mod
from hotline.center import Center


def _center(args: argparse.Namespace) -> Center:
    return center_mod.load(args.center or center_mod.default_path())


def _home(center: Center, args: argparse.Namespace) -> str:
    """The center a user or token belongs to (--center-code, default the primary): a center
    of this deployment, and a seat user's seat one of that center's (CenterError otherwise)."""
    code = center.known_center(args.center_code or center.code, "--center-code")
    if args.seat:
        if not any(s.id == args.seat for s in center.seats):
            raise ValueError(f"--seat: no seat {args.seat!r} in this deployment")
        if center.center_of_seat(args.seat) != code:
            raise ValueError(f"--seat: seat {args.seat} is {center.center_of_seat(args.seat)}'s,"
                             f" not {code}'s")
    return code


def _token_add(args: argparse.Namespace) -> int:

    center = _center(args)
    engine_db = db.open_database(center, args.database)
    try:
        if args.unit and center.unit(args.unit) is None:
            raise ValueError(f"--unit: {args.unit!r} is not a unit of the center file")
        token = tokens.create(db.session_factory(engine_db), args.name, args.role,
                              _home(center, args), args.seat or "", args.unit or "")
    except ValueError as exc:
        print(f"hotline engine token add: {exc}", file=sys.stderr)
        return 2
    finally:
        engine_db.dispose()
    print(token)
    return 0


async def _seat_action(args: argparse.Namespace) -> int:

    center = _center(args)
    seat_node = next((s.node for s in center.seats if s.id == args.seat), None)
    node = center.node(args.node or seat_node)
    secrets = secrets_mod.load_or_create(center, paths.state_dir())
    manager = Manager(host=node.bind, port=node.ami_port, username=node.ami_user,
                      secret=secrets.ami_secret(node.name), events="off",
                      loop=asyncio.get_running_loop())
    try:
        await asyncio.wait_for(manager.connect(), 5)
        for _ in range(50):
            if manager.authenticated:
                break
            await asyncio.sleep(0.1)
        else:
            print(f"hotline seat: AMI on {node.bind}:{node.ami_port} refused the login",
                  file=sys.stderr)
            return 1
        seats = SeatService(center, lambda _node: manager)
        actor = Actor.operator()
        if args.seat_command == "signin":
            await seats.sign_in(actor, args.seat, tuple(args.queue or ()))
        elif args.seat_command == "signout":
            await seats.sign_out(actor, args.seat)
        elif args.seat_command == "busy":
            await seats.busy(actor, args.seat, args.reason)
        elif args.seat_command == "ready":
            await seats.ready(actor, args.seat)
        elif args.seat_command == "end-wrapup":
            await seats.end_wrapup(actor, args.seat)
        print(f"seat {args.seat}: {args.seat_command} done")
        return 0
    except Refused as exc:
        print(f"hotline seat: {exc}", file=sys.stderr)
        return 2
    except (TimeoutError, OSError) as exc:
        print(f"hotline seat: cannot reach AMI on {node.bind}:{node.ami_port}: {exc}",
              file=sys.stderr)
        return 1
    finally:
        manager.close()


def _user_add(args: argparse.Namespace) -> int:

    center = _center(args)
    password = sys.stdin.readline().rstrip("\n") if args.password_stdin else args.password
    if not password:
        print("hotline web user add: give --password-stdin (or --password)", file=sys.stderr)
        return 2
    engine_db = db.open_database(center, args.database)
    try:
        if args.unit and center.unit(args.unit) is None:
            raise ValueError(f"--unit: {args.unit!r} is not a unit of the center file")
        users.add(db.session_factory(engine_db), args.name, args.role, _home(center, args),
                  password, args.seat or "", args.unit or "")
    except ValueError as exc:
        print(f"hotline web user add: {exc}", file=sys.stderr)
        return 2
    finally:
        engine_db.dispose()
    print(f"user {args.name} ({args.role}) added")
    return 0


def _read_password(args: argparse.Namespace, command: str) -> str | None:
    password = sys.stdin.readline().rstrip("\n") if args.password_stdin else args.password
    if not password:
        print(f"hotline web user {command}: give --password-stdin (or --password)",
              file=sys.stderr)
        return None
    return password


def _with_db(args: argparse.Namespace, what: str, act: Callable[..., object]) -> int:
    """Run `act(sessions, center_code)` on the center's database (the user's or token's
    center: --center-code, default the primary); a refusal is one line."""
    center = _center(args)
    engine_db = db.open_database(center, args.database)
    try:
        code = center.known_center(getattr(args, "center_code", None) or center.code,
                                   "--center-code")
        act(db.session_factory(engine_db), code)
    except ValueError as exc:
        print(f"hotline {what}: {exc}", file=sys.stderr)
        return 2
    finally:
        engine_db.dispose()
    return 0


def _user_reset(args: argparse.Namespace) -> int:
    password = _read_password(args, "reset")
    if password is None:
        return 2
    code = _with_db(args, "web user reset",
                    lambda s, c: users.reset(s, args.name, c, password))
    if code == 0:
        print(f"user {args.name}: new password; every session ended")
    return code


def _user_revoke(args: argparse.Namespace) -> int:
    code = _with_db(args, "web user revoke", lambda s, c: users.revoke(s, args.name, c))
    if code == 0:
        print(f"user {args.name}: every session ended")
    return code


def _user_remove(args: argparse.Namespace) -> int:
    code = _with_db(args, "web user remove", lambda s, c: users.remove(s, args.name, c))
    if code == 0:
        print(f"user {args.name} removed")
    return code


def _token_remove(args: argparse.Namespace) -> int:
    code = _with_db(args, "engine token remove", lambda s, c: tokens.remove(s, args.name, c))
    if code == 0:
        print(f"token {args.name} removed")
    return code


CENTER_CODE = ("the center of the deployment it belongs to ([center] or a [[hosted]] code; "
               "default the primary): it logs in there and sees that center only")


def register(sub: argparse._SubParsersAction,  # type: ignore[type-arg]
             run_engine: Callable[[argparse.Namespace], int]) -> None:
    webp = sub.add_parser("web", help="web users (the pages are served by hotline engine run)")
    wsub = webp.add_subparsers(dest="web_command", metavar="ACTION", required=True)
    ua = wsub.add_parser("user", description="web users: add, reset, revoke, remove", help="web users: add NAME --role R [--seat S] | reset | revoke | "
                         "remove NAME")
    usub = ua.add_subparsers(dest="user_command", metavar="ACTION", required=True)
    uadd = usub.add_parser("add", help="a new user: NAME --role R [--seat S | --unit U] --password-stdin")
    uadd.add_argument("name")
    uadd.add_argument("--role", required=True, choices=users.ROLES,
                      help="revisit: a revisit worker (回访员), who sees the day's revisit list")
    uadd.add_argument("--seat")
    uadd.add_argument("--unit", help="the handling unit's code ([[units]]) a unit user acts for")
    uadd.add_argument("--password-stdin", action="store_true")
    uadd.add_argument("--password", help="(for scripts; prefer --password-stdin)")
    uadd.add_argument("--center-code", metavar="CODE", help=CENTER_CODE)
    uadd.add_argument("--database")
    uadd.set_defaults(func=_user_add)
    ureset = usub.add_parser("reset", help="a new password for the user; every session ends")
    ureset.add_argument("name")
    ureset.add_argument("--password-stdin", action="store_true")
    ureset.add_argument("--password", help="(for scripts; prefer --password-stdin)")
    ureset.add_argument("--center-code", metavar="CODE", help=CENTER_CODE)
    ureset.add_argument("--database")
    ureset.set_defaults(func=_user_reset)
    for name, func, text in (("revoke", _user_revoke, "end every session of the user"),
                             ("remove", _user_remove, "delete the user; its pages stop at once")):
        up = usub.add_parser(name, help=text)
        up.add_argument("name")
        up.add_argument("--center-code", metavar="CODE", help=CENTER_CODE)
        up.add_argument("--database")
        up.set_defaults(func=func)
    eng = sub.add_parser("engine", help="the ACD engine: AMI in, ledger and live state out")
    esub = eng.add_subparsers(dest="engine_command", metavar="ACTION", required=True)
    run = esub.add_parser("run", help="follow every node of the center until stopped")
    run.add_argument("--database", help="SQLAlchemy URL (default: the center's, else SQLite "
                     "in the state directory)")
    run.add_argument("--redis", help="Redis URL (default: the center's, else the rig's)")
    run.add_argument("--no-redis", action="store_true", help="run without a live snapshot")
    run.add_argument("--instance", default=os.environ.get("HOTLINE_INSTANCE") or None,
                     help="the rig instance name, for a one-node center (default: "
                     "$HOTLINE_INSTANCE)")
    run.add_argument("--queue-log", action="append", metavar="NODE=PATH",
                     help="where a node's queue_log is (default: the rig's layout)")
    run.add_argument("--journal", metavar="DIR", help="where changes wait until the database "
                     "takes them (default: the state directory's journal/)")
    run.add_argument("--db-timeout", type=float, default=3.0, metavar="S",
                     help="the longest a database connect or statement may wait (default 3)")
    run.add_argument("--no-http", action="store_true", help="serve no HTTP API")
    run.add_argument("--http-port", type=int, help="API port (default: the center's http_port)")
    run.add_argument("--clock", metavar="LOCAL_TIME",
                     help="decide hours and the day as if it were this local time, e.g. "
                     "2026-10-01T10:00 (rehearsing a holiday; calls out go on the real time)")
    run.add_argument("--no-dialer", action="store_true",
                     help="no callbacks, messages, revisits dialled or blocked numbers pushed")
    run.set_defaults(func=run_engine)
    tok = esub.add_parser("token", help="API tokens: add NAME --role "
                          "seat|supervisor|admin|unit|partner|revisit")
    tsub = tok.add_subparsers(dest="token_command", metavar="ACTION", required=True)
    add = tsub.add_parser("add", help="make a token (printed once)")
    add.add_argument("name")
    add.add_argument("--role", required=True, choices=tokens.ROLES)
    add.add_argument("--seat", help="the seat a seat token acts for")
    add.add_argument("--unit", help="the handling unit a unit token acts for")
    add.add_argument("--center-code", metavar="CODE", help=CENTER_CODE)
    add.add_argument("--database")
    add.set_defaults(func=_token_add)
    rm = tsub.add_parser("remove", help="delete a token: it is refused from the next request")
    rm.add_argument("name")
    rm.add_argument("--center-code", metavar="CODE", help=CENTER_CODE)
    rm.add_argument("--database")
    rm.set_defaults(func=_token_remove)

    seat = sub.add_parser("seat", help="act on a seat: signin, signout, busy, ready, end-wrapup")
    ssub = seat.add_subparsers(dest="seat_command", metavar="ACTION", required=True)
    for name, text in (("signin", "sign in to the seat's skill queues"),
                       ("signout", "sign out of every queue"),
                       ("busy", "go busy (示忙) with a reason"),
                       ("ready", "back from busy"),
                       ("end-wrapup", "end after-call work (整理态) now")):
        p = ssub.add_parser(name, help=text)
        p.add_argument("seat")
        p.add_argument("--node", help="the node to act on (default: the seat's own node)")
        if name == "busy":
            p.add_argument("--reason", required=True)
        if name == "signin":
            p.add_argument("--queue", action="append",
                           help="only these queues (e.g. another center's, at a peak)")
        p.set_defaults(func=lambda a: asyncio.run(_seat_action(a)))
