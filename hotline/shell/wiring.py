"""The one place that puts the running parts together.

- `run_engine`: `hotline engine run`, the ACD engine (AMI in; ledger and Redis out) with its
  web pages and HTTP API in one process.
- `serve_ivr`: `hotline ivr serve`, the FastAGI IVR and satisfaction survey.
- `rig_installers`: what an Asterisk instance needs beyond its configuration (the prompts,
  and the classic AGI scripts when the center runs its IVR that way).

Every other module takes its dependencies as arguments; only this one decides which.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import os
import signal
import time
from pathlib import Path

from aiohttp import web
from sqlalchemy.exc import OperationalError

from acd.callers.dialer import Dialer
from acd.callers.hours import Clock, parse_clock
from acd.callers.live import LiveReader
from acd.engine import Engine
from acd.history import db
from acd.live.broadcast import Broadcasts
from acd.metrics import TOKEN as METRICS_TOKEN
from acd.metrics import EngineMetrics, metrics_app
from acd.web.access import AccessLogger
from acd.web.app import make_app
from acd.web.auth import secret_file
from agi_scripts.classic import install_into_root
from asterisk_conf import rig
from hotline import center as center_mod
from hotline import paths
from hotline import secrets as secrets_mod
from hotline.center import Center
from hotline.logs import get_logger
from hotline.shell.dialer_thread import DialerThread
from ivr import fastagi, prompts
from ivr import menu as menu_mod
from ivr.fastagi import IvrServer, serve

log = get_logger(__name__)


def _center(args: argparse.Namespace) -> Center:
    return center_mod.load(args.center or center_mod.default_path())


def _clock(args: argparse.Namespace, center: Center) -> Clock:
    try:
        return parse_clock(getattr(args, "clock", None), center.timezone)
    except ValueError as exc:
        raise SystemExit(f"hotline: {exc}") from None


# --- the rig -------------------------------------------------------------------------------------

def _install_prompts(inst: rig.Instance) -> None:
    prompts.install(inst.prompts)


def _install_classic_agi(inst: rig.Instance) -> None:
    install_into_root(inst.root, inst.center.source or center_mod.EXAMPLE, menu_mod.DEFAULT)


def rig_installers(center: Center) -> tuple[rig.Installer, ...]:
    """The prompts always; the classic AGI scripts when Asterisk runs the IVR itself."""
    if center.ivr == "agi":
        return (_install_prompts, _install_classic_agi)
    return (_install_prompts,)


# --- the engine, its web app and API -------------------------------------------------------------

def queue_log_paths(center: Center, instance: str | None,
                    explicit: list[str]) -> dict[str, Path | None]:
    """Where each node's queue_log is: NODE=PATH options, else the rig's instance layout."""
    out: dict[str, Path | None] = {}
    for item in explicit:
        node, sep, path = item.partition("=")
        if not sep:
            raise SystemExit(f"hotline engine: --queue-log wants NODE=PATH, got {item!r}")
        out[node] = Path(path)
    root = paths.asterisk_root()
    for n in center.nodes:
        if n.name not in out:
            name = instance if instance and len(center.nodes) == 1 else f"{center.code}-{n.name}"
            out[n.name] = root / "srv/hotline" / name / "log/queue_log"
    return out


def journal_dir(center: Center, database_url: str, explicit: str | None) -> Path:
    """Where the engine keeps its journal: `--journal`, else the state directory, one folder
    per center and database (a journal belongs to the database it is applied to)."""
    if explicit:
        return Path(explicit)
    tag = hashlib.sha256(database_url.encode()).hexdigest()[:12]
    return paths.private_state_dir() / "journal" / f"{center.code}-{tag}"


async def _wait_for_database(url: str, timeout: float) -> None:
    """A deployment may start the engine before its database accepts connections: wait
    (logging why), then let the error through."""
    deadline = time.monotonic() + timeout
    probe = db.make_engine(url)
    try:
        while True:
            try:
                with probe.connect():
                    return
            except OperationalError as exc:
                if time.monotonic() > deadline:
                    raise
                log.warning("database not reachable yet", problem=str(exc).splitlines()[0])
                await asyncio.sleep(1)
    finally:
        probe.dispose()


async def _metrics_site(center: Center, engine: Engine,
                        metrics: EngineMetrics) -> web.AppRunner | None:
    """/metrics and /healthz on the center's metrics address. A port that cannot be bound is
    logged, never fatal: routing calls and writing their history come first."""
    if not center.metrics_port:
        return None
    app = metrics_app(metrics, lambda: {n: v["ami"] for n, v in engine.snapshot()["nodes"].items()},
                      os.environ.get("HOTLINE_METRICS_TOKEN", ""))
    runner = web.AppRunner(app, access_log_class=AccessLogger)
    await runner.setup()
    try:
        await web.TCPSite(runner, center.metrics_host, center.metrics_port).start()
    except OSError as exc:
        log.error("metrics not served", host=center.metrics_host, port=center.metrics_port,
                  problem=str(exc))
        await runner.cleanup()
        return None
    log.info("metrics listening", url=f"http://{center.metrics_host}:{center.metrics_port}"
             "/metrics", token=bool(app[METRICS_TOKEN]))
    return runner


async def _run_engine(args: argparse.Namespace) -> int:
    center = _center(args)
    url = args.database or db.database_url(center)
    await _wait_for_database(url, float(os.environ.get("HOTLINE_DATABASE_WAIT_S", "60")))
    db.open_database(center, url).dispose()  # the schema, without the engine's timeouts
    engine_db = db.make_engine(url, args.db_timeout)
    secrets = secrets_mod.load_or_create(center, paths.state_dir())
    redis_url = None if args.no_redis else center.live_redis_url(args.redis)
    engine = Engine(center, db.session_factory(engine_db), secrets.ami, redis_url,
                    queue_log_paths(center, args.instance, args.queue_log or []),
                    journal_dir(center, url, args.journal))
    # Callbacks, messages, revisits dialled, blocked numbers (acd/callers/dialer.py): its own
    # AMI connection per node, beside the engine's, and its own thread and loop (its database
    # work never holds the engine's loop: hotline/shell/dialer_thread.py).
    clock = _clock(args, center)
    dialer = None if args.no_dialer else DialerThread(
        lambda: Dialer(center, db.session_factory(engine_db), secrets.ami, clock))
    engine.metrics = metrics = EngineMetrics(engine.snapshot, [q.name for q in center.queues],
                                             list(engine.links))
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    runner = None
    if args.no_http:
        await engine.start()
    else:
        # The app starts the engine and stops it last (cleanup_ctx).
        app = make_app(engine, center, db.session_factory(engine_db), redis_url,
                       secret_file(paths.state_dir()), metrics=metrics)
        runner = web.AppRunner(app, access_log_class=AccessLogger)
        await runner.setup()
        port = args.http_port or center.http_port
        await web.TCPSite(runner, center.http_host, port).start()
        log.info("engine API listening", api=f"http://{center.http_host}:{port}/api",
                 wallboard=f"http://{center.http_host}:{port}/wallboard")
    metrics_runner = await _metrics_site(center, engine, metrics)
    if dialer is not None:
        dialer.start()
    log.info("engine running", center=center.code, nodes=list(engine.links))
    await stop.wait()
    if dialer is not None:
        await dialer.stop()
    if metrics_runner is not None:
        await metrics_runner.cleanup()
    if runner is not None:
        await runner.cleanup()
    else:
        await engine.stop()
    engine_db.dispose()
    return 0


def run_engine(args: argparse.Namespace) -> int:
    return asyncio.run(_run_engine(args))


# --- the IVR -------------------------------------------------------------------------------------

def _host_prompts(center: Center, instance: str | None) -> Path:
    name = instance or f"{center.code}-{center.nodes[0].name}"
    return paths.asterisk_root() / "srv/hotline" / name / "prompts"


async def _serve_ivr(args: argparse.Namespace) -> int:
    center = _center(args)
    menu = menu_mod.load(args.menu or menu_mod.DEFAULT, center)
    node = center.node(args.node)
    host_prompts = _host_prompts(center, args.instance)
    prompts.install(host_prompts)
    lacking = prompts.missing(host_prompts, [*menu.prompts, *menu_mod.REQUIRED_PROMPTS])
    if lacking:
        log.warning("prompts missing: callers hear nothing there (hotline prompts build)",
                    prompts=lacking, directory=str(host_prompts))
    broadcasts = Broadcasts(None if args.no_redis else center.live_redis_url(args.redis),
                            center.code)
    sessions = None
    if not args.no_database:
        # Read-only use: the engine migrates the schema; two processes must not both do it.
        engine = db.make_engine(args.database or db.database_url(center))
        sessions = db.session_factory(engine)
    live = LiveReader(None if args.no_redis else center.live_redis_url(args.redis),
                      center.code)
    server = IvrServer(center, menu, broadcasts, host_prompts, node.name, sessions,
                       _clock(args, center), live)
    srv = await serve(server, "127.0.0.1", node.fastagi_port)
    log.info("ivr listening", address=f"127.0.0.1:{node.fastagi_port}",
             routes=["ivr", "survey"])
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()
    srv.close()
    await srv.wait_closed()
    await broadcasts.close()
    await live.close()
    if fastagi.TIMINGS is not None:
        Path(os.environ["HOTLINE_AGI_TIMINGS"]).write_text(
            "\n".join(f"{t:.6f}" for t in fastagi.TIMINGS))
    return 0


def serve_ivr(args: argparse.Namespace) -> int:
    return asyncio.run(_serve_ivr(args))
