"""`hotline ivr serve|check|broadcast` and `hotline prompts build`."""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import sys
from pathlib import Path

from hotline import center as center_mod
from hotline import paths
from hotline.center import Center
from ivr import menu as menu_mod
from ivr import prompts


def _center(args: argparse.Namespace) -> Center:
    return center_mod.load(args.center or center_mod.default_path())


def _menu(args: argparse.Namespace, center: Center) -> menu_mod.Menu:
    return menu_mod.load(args.menu or menu_mod.DEFAULT, center)


def _redis(center: Center, explicit: str | None) -> str:
    return explicit or center.redis_url or f"redis://127.0.0.1:{center.redis_port}/0"


def _host_prompts(center: Center, instance: str | None) -> Path:
    name = instance or f"{center.code}-{center.nodes[0].name}"
    return paths.asterisk_root() / "srv/hotline" / name / "prompts"


async def _serve(args: argparse.Namespace) -> int:
    from acd.live.broadcast import Broadcasts
    from ivr.fastagi import IvrServer, serve

    center = _center(args)
    menu = _menu(args, center)
    node = center.node(args.node)
    host_prompts = _host_prompts(center, args.instance)
    prompts.install(host_prompts)
    broadcasts = Broadcasts(None if args.no_redis else _redis(center, args.redis), center.code)
    sessions = None
    if not args.no_database:
        from acd.history import db
        # Read-only use: the engine migrates the schema; two processes must not both do it.
        engine = db.make_engine(args.database or db.database_url(center))
        sessions = db.session_factory(engine)
    server = IvrServer(center, menu, broadcasts, host_prompts, node.name, sessions)
    srv = await serve(server, "127.0.0.1", node.fastagi_port)
    print(f"ivr listening on 127.0.0.1:{node.fastagi_port} (routes ivr, survey)",
          file=sys.stderr, flush=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()
    srv.close()
    await srv.wait_closed()
    await broadcasts.close()
    from ivr import fastagi
    if fastagi.TIMINGS is not None:
        Path(os.environ["HOTLINE_AGI_TIMINGS"]).write_text(
            "\n".join(f"{t:.6f}" for t in fastagi.TIMINGS))
    return 0


def _check(args: argparse.Namespace) -> int:
    center = _center(args)
    m = _menu(args, center)
    print(f"menu {m.source}: {len(m.nodes)} nodes, {len(m.prompts)} prompts: valid")
    return 0


async def _broadcast(args: argparse.Namespace) -> int:
    from redis.exceptions import RedisError

    from acd.live.broadcast import Broadcasts

    center = _center(args)
    url = _redis(center, args.redis)
    b = Broadcasts(url, center.code)
    try:
        if args.action == "set" and not " ".join(args.text).strip():
            print("hotline ivr broadcast set: give the text to play", file=sys.stderr)
            return 2
        if args.action == "set":
            await b.set(" ".join(args.text))
            print("broadcast set: it plays after the welcome on every call from now on")
        elif args.action == "clear":
            await b.clear()
            print("broadcast cleared")
        else:
            print(await b.current(strict=True) or "(no broadcast)")
    except (RedisError, OSError) as exc:
        print(f"hotline ivr broadcast: Redis at {url} did not answer: {exc}", file=sys.stderr)
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


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    ivr = sub.add_parser("ivr", help="the Mandarin IVR: serve (FastAGI), check, broadcast")
    isub = ivr.add_subparsers(dest="ivr_command", metavar="ACTION", required=True)
    s = isub.add_parser("serve", help="the FastAGI server for routes ivr and survey")
    s.add_argument("--menu", help="menu file (default: ivr/menus/default.yaml)")
    s.add_argument("--node", help="node whose fastagi_port to listen on (default: the first)")
    s.add_argument("--instance", help="the rig instance whose prompts directory to fill")
    s.add_argument("--redis", help="Redis URL for the emergency broadcast")
    s.add_argument("--no-redis", action="store_true")
    s.add_argument("--database", help="the knowledge base's database (default: the center's)")
    s.add_argument("--no-database", action="store_true", help="no knowledge base readouts")
    s.set_defaults(func=lambda a: asyncio.run(_serve(a)))
    c = isub.add_parser("check", help="validate a menu file against the center")
    c.add_argument("--menu")
    c.set_defaults(func=_check)
    b = isub.add_parser("broadcast", help="the emergency broadcast: set TEXT | clear | show")
    b.add_argument("action", choices=("set", "clear", "show"))
    b.add_argument("text", nargs="*")
    b.add_argument("--redis")
    b.set_defaults(func=lambda a: asyncio.run(_broadcast(a)))
    p = sub.add_parser("prompts", help="IVR prompts: build")
    psub = p.add_subparsers(dest="prompts_command", metavar="ACTION", required=True)
    pb = psub.add_parser("build", help="speak every prompt of the menu (espeak-ng, sox)")
    pb.add_argument("--menu")
    pb.set_defaults(func=_build)
