"""`hotline ivr serve|check|broadcast` and `hotline prompts build`.

`ivr serve` is parsed here and run by the function the shell hands in
(hotline.shell.wiring.serve_ivr)."""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from collections.abc import Callable

from redis.exceptions import RedisError

from acd.live.broadcast import Broadcasts
from hotline import center as center_mod
from hotline.center import Center
from ivr import menu as menu_mod
from ivr import prompts


def _center(args: argparse.Namespace) -> Center:
    return center_mod.load(args.center or center_mod.default_path())


def _menu(args: argparse.Namespace, center: Center) -> menu_mod.Menu:
    return menu_mod.load(args.menu or menu_mod.DEFAULT, center)


def _check(args: argparse.Namespace) -> int:
    center = _center(args)
    m = _menu(args, center)
    print(f"menu {m.source}: {len(m.nodes)} nodes, {len(m.prompts)} prompts: valid")
    return 0


async def _broadcast(args: argparse.Namespace) -> int:
    center = _center(args)
    code = center.known_center(args.center_code or center.code, "--center-code")
    url = center.live_redis_url(args.redis)
    b = Broadcasts(url, code)
    try:
        if args.action == "set" and not " ".join(args.text).strip():
            print("hotline ivr broadcast set: give the text to play", file=sys.stderr)
            return 2
        if args.action == "set":
            await b.set(" ".join(args.text))
            print(f"broadcast set: it plays after the welcome on every call to {code} from now on")
        elif args.action == "clear":
            await b.clear()
            print("broadcast cleared")
        else:
            print(await b.current(strict=True) or "(no broadcast)")
    except (RedisError, OSError) as exc:
        print(f"hotline ivr broadcast: Redis at {url.rpartition('@')[2]} did not answer: {exc}",
              file=sys.stderr)
        return 1
    except ValueError as exc:
        print(f"hotline ivr broadcast: {exc}", file=sys.stderr)
        return 2
    finally:
        await b.close()
    return 0


def _build(args: argparse.Namespace) -> int:
    center = _center(args)
    m = _menu(args, center)
    done = prompts.build(m.prompts)
    counts = {k: sum(1 for v in done.values() if v == k) for k in ("synthetic", "cached",
                                                                    "recorded")}
    print(f"prompts in {prompts.build_dir()}: {counts['synthetic']} spoken, "
          f"{counts['cached']} unchanged, {counts['recorded']} recorded")
    return 0


def register(sub: argparse._SubParsersAction,  # type: ignore[type-arg]
             serve_ivr: Callable[[argparse.Namespace], int]) -> None:
    ivr = sub.add_parser("ivr", help="the Mandarin IVR: serve (FastAGI), check, broadcast")
    isub = ivr.add_subparsers(dest="ivr_command", metavar="ACTION", required=True)
    s = isub.add_parser("serve", help="the FastAGI server for routes ivr and survey")
    s.add_argument("--menu", help="menu file (default: ivr/menus/default.yaml)")
    s.add_argument("--node", help="node whose fastagi_port to listen on (default: the first)")
    s.add_argument("--instance", default=os.environ.get("HOTLINE_INSTANCE") or None,
                   help="the rig instance whose prompts directory to fill (default: "
                   "$HOTLINE_INSTANCE)")
    s.add_argument("--redis", help="Redis URL for the emergency broadcast")
    s.add_argument("--no-redis", action="store_true")
    s.add_argument("--database", help="the knowledge base's database (default: the center's)")
    s.add_argument("--no-database", action="store_true", help="no knowledge base readouts")
    s.add_argument("--clock", metavar="LOCAL_TIME",
                   help="decide opening hours as if it were this local time, e.g. "
                   "2026-10-01T10:00 (rehearsing a holiday's hours)")
    s.set_defaults(func=serve_ivr)
    c = isub.add_parser("check", help="validate a menu file against the center")
    c.add_argument("--menu")
    c.set_defaults(func=_check)
    b = isub.add_parser("broadcast", help="the emergency broadcast: set TEXT | clear | show")
    b.add_argument("action", choices=("set", "clear", "show"))
    b.add_argument("text", nargs="*")
    b.add_argument("--redis")
    b.add_argument("--center-code", metavar="CODE", help="the center whose callers hear it "
                   "([center] or a [[hosted]] code; default: the primary)")
    b.set_defaults(func=lambda a: asyncio.run(_broadcast(a)))
    p = sub.add_parser("prompts", help="IVR prompts: build")
    psub = p.add_subparsers(dest="prompts_command", metavar="ACTION", required=True)
    pb = psub.add_parser("build", help="speak every prompt of the menu (espeak-ng, sox)")
    pb.add_argument("--menu")
    pb.set_defaults(func=_build)
