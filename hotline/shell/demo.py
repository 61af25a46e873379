"""`hotline demo`: a simulated shift on the real Asterisk.

Brings up Asterisk, Redis and the engine, signs SIPp seats in (they answer, talk for a random
time, do wrap-up and now and then go busy with a reason), lets SIPp callers arrive at random
(Poisson, some hanging up while they wait), shows a progress line, and at the end prints the
indicators from the engine's ledger, reconciled call by call with Asterisk's queue_log; then
shuts everything down.

Callers who do not wait (issue 16, hotline/shell/simulate/callers.py): a share press 1 in the
queue to keep their place and are called back (a SIPp phone on the node's carrier gateway, a
local stand-in for the public network, answers, or is busy for some); a share choose a queue no
seat signs in to this shift (`--unstaffed`) and leave a message, which becomes a work order
with its recording. When the callers are done, the shift's seats sign in to that queue too (it
"opens"), and the platform calls each message back: a seat first, then the caller's phone on
the public network. The summary counts callbacks booked, reached and failed, and lists each
message with its order and its callback, from the ledger.
"""

from __future__ import annotations

import argparse
import dataclasses
import hashlib
import json
import os
import random
import secrets
import shutil
import signal
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from acd.callers import callbacks as callbacks_mod
from acd.errors import Invalid
from acd.history import db, queue_log
from acd.history.models import Call
from acd.history.queue_log import LogCall
from asterisk_conf import rig
from hotline import center as center_mod
from hotline import paths
from hotline.center import Center
from hotline.logs import get_logger, mask_number
from hotline.shell.redis_server import RedisServer
from hotline.shell.simulate import callers as shift_callers
from hotline.shell.simulate.ports import free_ports
from hotline.shell.simulate.processes import stop
from hotline.shell.simulate.sipp import Sipp, SippProcess
from hotline.shell.wiring import rig_installers
from ivr import menu as menu_mod
from ivr import prompts
from queue_stats import report
from queue_stats.indicators import call_indicators
from queue_stats.reconcile import differences

log = get_logger(__name__)

def _progress(calls: dict[str, LogCall], placed: int) -> str:
    """One line of how the shift goes, from queue_log: a call counts in its last queue (a
    callback's leg is no call of its own)."""
    by = {"waiting": 0, "talking": 0, "answered": 0, "abandoned": 0, "exit_key": 0}
    for callid, c in calls.items():
        if shift_callers.LEG_MARK in callid:
            continue
        last = max(c.stays.values(), key=lambda s: s.entered)
        if last.outcome in ("answered", "transferred"):
            by["answered" if last.talk_s is not None else "talking"] += 1
        elif last.outcome in by:
            by[last.outcome] += 1
    return (f"placed {placed:3d}  waiting {by['waiting']:3d}  talking {by['talking']:3d}  "
            f"answered {by['answered'] + by['talking']:3d}  abandoned {by['abandoned']:3d}  "
            f"callback {by['exit_key']:3d}")


class Services:
    """The processes of a shift, started in order and always stopped in reverse."""

    def __init__(self) -> None:
        self.procs: list[subprocess.Popen[bytes]] = []
        self.logs: list[Any] = []

    def start(self, name: str, args: list[str], log_dir: Path, env: dict[str, str]) -> None:
        log_file = open(log_dir / f"{name}.log", "ab")
        self.logs.append(log_file)
        self.procs.append(subprocess.Popen(args, stdout=log_file, stderr=subprocess.STDOUT,
                                           env=env, start_new_session=True))

    def stop(self) -> None:
        for proc in reversed(self.procs):
            stop(proc)
        for f in self.logs:
            f.close()


def _hotline(*args: str) -> list[str]:
    exe = Path(sys.executable).parent / "hotline"
    return [str(exe) if exe.exists() else "hotline", *args]


# What callers press, shaped like the seeds' mix (seed 004: 96 % consultation, 3 % complaint,
# under 1 % suggestion; 87 % about highways): (share, keys with the delay before each).
MIX: tuple[tuple[float, list[tuple[float, str]]], ...] = (
    (0.55, [(1.5, "1"), (2.0, "2")]),   # highway: ETC
    (0.10, [(1.5, "1"), (2.0, "3")]),   # highway: tolls
    (0.05, [(1.5, "1"), (2.0, "1")]),   # highway: road conditions read out, then a seat
    (0.07, [(1.5, "2")]),               # urban transit
    (0.05, [(1.5, "3")]),               # road transport
    (0.03, [(1.5, "4"), (2.0, "1")]),   # waterway and maritime
    (0.08, [(1.5, "0")]),               # a seat directly
    (0.03, [(1.5, "5")]),               # complaint
    (0.008, [(1.5, "6")]),              # suggestion
    (0.012, [(1.5, "7"), (2.0, "1")]),  # rail: told 12306
)


def caller_plan(rng: random.Random, patience: float,
                survey_share: float) -> tuple[list[tuple[float, str]], float]:
    """One caller's keys and how long it holds on after them. A caller who will rate the
    service presses its rating every 4 s once it is through the menu: keys are ignored while
    it talks, and the first one heard in the survey is its answer. While it waits in a queue
    that offers the callback, a 1 keeps its place and it is called back, as any caller's 1
    would (the demo's summary counts it with the callbacks)."""
    roll, acc = rng.random(), 0.0
    keys = MIX[-1][1]
    for share, plan in MIX:
        acc += share
        if roll < acc:
            keys = plan
            break
    keys = list(keys)
    if rng.random() < survey_share:
        rating = rng.choices("1234", weights=(60, 30, 7, 3))[0]
        repeats = max(1, int(patience // 4))
        keys += [(4.0, rating)] * repeats
        return keys, max(1.0, patience - 4.0 * repeats) + 15.0
    return keys, patience


def _busy_now_and_then(center: Center, seats: list[str], rng: random.Random, env: dict[str, str],
                       center_file: str, stop: threading.Event) -> None:
    """Now and then a seat goes busy for a while, with a reason, then back to ready."""
    while not stop.wait(rng.uniform(20, 40)):
        seat = rng.choice(seats)
        reason = rng.choice(center.busy_reasons)
        base = _hotline("--center", center_file, "--log-level", "WARNING", "seat")
        subprocess.run([*base, "busy", seat, "--reason", reason], env=env,
                       capture_output=True, timeout=30)
        if stop.wait(rng.uniform(5, 15)):
            break
        subprocess.run([*base, "ready", seat], env=env, capture_output=True, timeout=30)


def _shares(args: argparse.Namespace) -> None:
    for name in ("callbacks", "messages", "busy_phones", "survey"):
        if not 0.0 <= getattr(args, name) <= 1.0:
            raise Invalid(f"--{name.replace('_', '-')} must be a share from 0 to 1")
    if args.callbacks + args.messages > 1.0:
        raise Invalid("--callbacks and --messages together must be at most 1")


def _instance_name(center: Center, state: Path) -> str:
    """`demo-<center>-<6 hex of the state directory>`: the demo of one state directory is
    started afresh each time, and never stops another's (tests run demos side by side)."""
    return f"demo-{center.code}-{hashlib.sha256(str(state).encode()).hexdigest()[:6]}"


def _with_local_gateway(center: Center, node: str, env: dict[str, str]) -> tuple[Center, int]:
    """The demo's node calls out (callbacks, hand-offs) to a SIPp phone on a free loopback
    port, never to a carrier the center file names: the engine and the IVR are told so
    through the environment (HOTLINE_PSTN_GATEWAY_<NODE>)."""
    port = free_ports(1)[0]
    gateway = f"127.0.0.1:{port}"
    env[f"HOTLINE_PSTN_GATEWAY_{node.upper()}"] = gateway
    nodes = tuple(dataclasses.replace(n, pstn_gateway=gateway) if n.name == node else n
                  for n in center.nodes)
    return dataclasses.replace(center, nodes=nodes), port


def run_demo(center: Center, args: argparse.Namespace) -> dict[str, Any]:
    if shutil.which("sipp") is None:
        raise SystemExit("hotline demo: SIPp is not installed (Debian package sip-tester); "
                         "./run demo installs it")
    _shares(args)
    rng = random.Random(args.seed)
    root = rig.build_root()
    state = paths.state_dir()
    env = {**os.environ, "HOTLINE_VAR": str(state),
           "HOTLINE_ASTERISK_ROOT": str(root)}
    center, gateway_port = _with_local_gateway(center, center.node().name, env)
    menu = menu_mod.load(menu_mod.DEFAULT, center)
    unstaffed = args.unstaffed or ""
    message_keys = shift_callers.check_unstaffed(center, menu, unstaffed) if unstaffed else []
    inst = rig.instance(center, root=root, name=_instance_name(center, state),
                        installers=rig_installers(center))
    if inst.running():
        inst.down()
    shutil.rmtree(inst.base, ignore_errors=True)
    (state / "demo").mkdir(parents=True, exist_ok=True)
    db_path = state / "demo" / "ledger.sqlite"
    for leftover in state.glob("demo/ledger.sqlite*"):
        leftover.unlink()
    database = f"sqlite:///{db_path}"
    center_file = str(center.source or center_mod.EXAMPLE)
    redis: RedisServer | None = None
    services = Services()
    sipp = Sipp("127.0.0.1", inst.node.sip_port)
    stop_busy = threading.Event()
    stopping = False

    def _stop(*_: Any) -> None:
        nonlocal stopping
        stopping = True

    old = signal.signal(signal.SIGINT, _stop)
    try:
        print(f"==> Asterisk {rig.asterisk_version(root)} ({inst.name})", file=sys.stderr)
        built = prompts.build(menu.prompts)
        print(f"==> {len(built)} Mandarin prompts ready (espeak-ng)", file=sys.stderr)
        inst.up()
        redis_url = center.redis_url
        if not redis_url:
            redis = RedisServer(center.redis_port, state / "redis")
            redis.start()
            redis_url = redis.url
        print(f"==> Redis {redis_url}", file=sys.stderr)
        services.start("engine", _hotline("--center", center_file, "engine", "run",
                                          "--instance", inst.name, "--database", database,
                                          "--redis", redis_url), state / "demo", env)
        _wait_for_log(state / "demo" / "engine.log", "ami connected", 30)
        print(f"==> engine following {inst.name}; ledger {database}", file=sys.stderr)
        password = secrets.token_urlsafe(9)
        subprocess.run(_hotline("--center", center_file, "--log-level", "WARNING", "web", "user",
                                "add", "demo", "--role", "supervisor", "--password-stdin",
                                "--database", database), input=password + "\n", text=True,
                       env=env, check=True, capture_output=True, timeout=60)
        print(f"==> wallboard: http://{center.http_host}:{center.http_port}/wallboard "
              f"(user demo, password {password})", file=sys.stderr)
        services.start("ivr", _hotline("--center", center_file, "ivr", "serve", "--instance",
                                       inst.name, "--redis", redis_url, "--database", database),
                       state / "demo", env)
        _wait_for_log(state / "demo" / "ivr.log", "ivr listening", 30)
        print(f"==> IVR on FastAGI 127.0.0.1:{inst.node.fastagi_port}", file=sys.stderr)
        on_node = [s for s in center.seats_on(inst.node.name)][: args.seats]
        seats = [s.id for s in on_node]
        talk = args.talk
        for seat in on_node:
            seat_talk = max(1.0, rng.uniform(0.5 * talk, 1.5 * talk))
            sipp.seat(seat.id, inst.secrets.seats[seat.id], ring_s=1.0, talk_s=seat_talk,
                      callback_talk_s=seat_talk + shift_callers.CALLBACK_EXTRA_S)
            queues = [q for q in seat.queues if q != unstaffed]
            if queues:
                subprocess.run(_hotline("--center", center_file, "--log-level", "WARNING",
                                        "seat", "signin", seat.id,
                                        *[f"--queue={q}" for q in queues]),
                               env=env, check=True, capture_output=True, timeout=30)
        print(f"==> {len(seats)} seats signed in: {', '.join(seats)}"
              + (f" (none to queue {unstaffed}: its callers leave messages)" if unstaffed
                 else ""), file=sys.stderr)
        sipp.callee("public-network", gateway_port, ring_s=1.0, talk_s=300.0,
                    busy_prefix=shift_callers.BUSY_PREFIX)
        print(f"==> the public network's phones on {inst.node.pstn_gateway} (callbacks, "
              f"hand-offs; numbers {shift_callers.BUSY_PREFIX}... are busy)", file=sys.stderr)
        # The busy breaks draw from a generator of their own: the callers' plan stays the same
        # for a seed whatever the threads' timing.
        busy = threading.Thread(target=_busy_now_and_then, daemon=True,
                                args=(center, seats, random.Random(rng.random()), env,
                                      center_file, stop_busy))
        busy.start()
        since = int(time.time()) - 1
        started = time.time()
        callers: list[SippProcess] = []
        kinds = {"callback": 0, "message": 0, "mix": 0, "busy_phone": 0}
        next_at = time.monotonic()
        placed = 0
        last_line = 0.0
        calls: dict[str, LogCall] = {}
        ledger = db.make_engine(database)
        watch = shift_callers.CallbackWatch(
            ledger, center, datetime.fromtimestamp(started - 2, UTC).replace(tzinfo=None))
        deadline = time.monotonic() + args.max_seconds
        opened = False  # the unstaffed queue's seats came: its messages are called back
        while not stopping and time.monotonic() < deadline:
            now = time.monotonic()
            if placed < args.calls and now >= next_at:
                caller = _next_caller(rng, args, message_keys)
                kinds[caller.kind] += 1
                kinds["busy_phone"] += caller.number.startswith(shift_callers.BUSY_PREFIX)
                callers.append(sipp.callers(f"caller-{placed}", [caller.number],
                                            digits=caller.keys, hold_s=caller.hold_s, rate=1))
                placed += 1
                next_at = now + rng.expovariate(args.rate)
            if now - last_line >= 1.0:
                calls = queue_log.read_file(inst.queue_log, since)
                print("\r" + _progress(calls, placed), end="", file=sys.stderr, flush=True)
                last_line = now
                # The shift ends when every caller hung up and the callbacks they booked are
                # done and talked (a retry due later than SOON_S is left open and shown so).
                if placed == args.calls and all(not c.running() for c in callers) and \
                        not shift_callers.in_progress(calls) and \
                        watch.settled(shift_callers.keyed_in_queue(calls)):
                    if opened or not kinds["message"]:
                        break
                    # The messages were left; now their queue opens: the shift's seats sign
                    # in to it, and the platform calls each message back.
                    print(file=sys.stderr)
                    _open_queue(center_file, env, seats, unstaffed)
                    print(f"==> queue {unstaffed} opens: {', '.join(seats)} signed in to it; "
                          "the platform calls its messages back", file=sys.stderr)
                    opened = watch.messages = True
            time.sleep(0.1)
        print(file=sys.stderr)
        ledger.dispose()
        stop_busy.set()
        time.sleep(2.0)  # the engine writes the last hang-ups
        ended = time.time()
        summary = _summary(database, inst, center, started, ended)
        summary["plan"] = {"callers": placed, "callback_callers": kinds["callback"],
                           "message_callers": kinds["message"],
                           "busy_phones": kinds["busy_phone"], "unstaffed_queue": unstaffed}
        return summary
    finally:
        signal.signal(signal.SIGINT, old)
        stop_busy.set()
        sipp.close()
        try:
            inst.cli("channel request hangup all")
        except rig.RigError:
            pass
        services.stop()
        inst.down()
        if redis is not None:
            redis.stop()
        shutil.rmtree(sipp.workdir, ignore_errors=True)


def _open_queue(center_file: str, env: dict[str, str], seats: list[str], queue: str) -> None:
    """The seats sign in to `queue` too (the one kept without seats for the shift)."""
    for seat in seats:
        subprocess.run(_hotline("--center", center_file, "--log-level", "WARNING", "seat",
                                "signin", seat, f"--queue={queue}"),
                       env=env, check=True, capture_output=True, timeout=30)


def _next_caller(rng: random.Random, args: argparse.Namespace,
                 message_keys: list[tuple[float, str]]) -> shift_callers.Caller:
    """Who calls next: a callback caller, a message caller, or one of the seeds' mix."""
    roll = rng.random()
    if roll < args.callbacks:
        return shift_callers.callback_caller(rng, args.busy_phones)
    if message_keys and roll < args.callbacks + args.messages:
        return shift_callers.message_caller(rng, message_keys)
    patience = rng.expovariate(1 / args.patience)
    number = shift_callers.number(rng)
    digits, hold = caller_plan(rng, patience, args.survey)
    return shift_callers.Caller("mix", number, digits, hold)


def _wait_for_log(path: Path, text: str, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if path.exists() and text in path.read_text(errors="replace"):
            return
        time.sleep(0.1)
    raise SystemExit(f"hotline demo: {path.name} never said {text!r}; see {path}")


def _summary(database: str, inst: rig.Instance, center: Center, started: float,
             ended: float) -> dict[str, Any]:

    engine = db.make_engine(database)
    try:
        since = datetime.fromtimestamp(started - 2, UTC).replace(tzinfo=None)
        until = datetime.fromtimestamp(ended + 1, UTC).replace(tzinfo=None)
        ind = call_indicators(engine, since, until, center=center.code)
        diff = differences(engine, inst.queue_log, started - 2, ended + 1)
        tz = ZoneInfo(center.timezone)

        def local(t: datetime) -> datetime:
            return t.replace(tzinfo=UTC).astimezone(tz).replace(tzinfo=None)

        shift = report.Period.special(f"{center.name} 模拟值班报告", local(since), local(until),
                                      center.timezone)
        files = report.write(engine, shift, Path(database.removeprefix("sqlite:///")).parent
                             / "report", center.code)
    finally:
        engine.dispose()
    values = ind.as_dict()
    rated = _survey_counts(database, started, ended)
    booked, messages = _callers_counts(database, center, started, ended)
    return {
        "survey": rated,
        "callbacks": booked, "messages": messages,
        "queue_log": str(inst.queue_log), "database": database,
        "recordings": str(inst.recordings),
        "calls": {"offered": ind.queued, "answered": ind.answered,
                  "abandoned": ind.abandoned},
        "indicators": {k: values[k] for k in ("manual_connection_rate", "average_wait_s",
                                              "average_queue_wait_s",
                                              "answered_within_10s_rate", "abandon_rate",
                                              "average_handle_time_s")},
        "reconciliation": {"differences": [str(d) for d in diff]},
        "reports": {k: str(v) for k, v in files.items()},
    }


def _callers_counts(database: str, center: Center, started: float,
                    ended: float) -> tuple[dict[str, int], dict[str, Any]]:
    """Callbacks booked in the queue and messages taken in the shift (counted, and each with
    its order and callback), from the ledger."""
    engine = db.make_engine(database)
    since = datetime.fromtimestamp(started - 2, UTC).replace(tzinfo=None)
    until = datetime.fromtimestamp(ended + 1, UTC).replace(tzinfo=None)
    try:
        with Session(engine) as s:
            messages = {**callbacks_mod.messages(s, center.code, since, until),
                        "orders": callbacks_mod.message_orders(s, center.code, since, until)}
            return callbacks_mod.tally(s, center.code, since, until), messages
    finally:
        engine.dispose()


def _survey_counts(database: str, started: float, ended: float) -> dict[str, int]:
    from sqlalchemy import func, select


    engine = db.make_engine(database)
    since = datetime.fromtimestamp(started - 2, UTC).replace(tzinfo=None)
    until = datetime.fromtimestamp(ended + 1, UTC).replace(tzinfo=None)
    try:
        with engine.connect() as conn:
            rows = conn.execute(select(Call.survey_score, func.count())
                                .where(Call.started_at >= since, Call.started_at < until,
                                       Call.seat_id != "")
                                .group_by(Call.survey_score)).all()
    finally:
        engine.dispose()
    names = {1: "very_satisfied", 2: "satisfied", 3: "basic", 4: "unsatisfied",
             None: "not_rated"}
    return {names[score]: n for score, n in rows}


def _demo(args: argparse.Namespace) -> int:
    center = center_mod.load(args.center or center_mod.default_path())
    summary = run_demo(center, args)
    calls = summary["calls"]
    ind = summary["indicators"]

    def pct(x: float | None) -> str:
        return "no data" if x is None else f"{100 * x:.1f} %"

    def sec(x: float | None) -> str:
        return "no data" if x is None else f"{x:.1f} s"

    print(f"calls queued {calls['offered']}, answered {calls['answered']}, "
          f"abandoned {calls['abandoned']}")
    print(f"人工接通率 manual connection rate   {pct(ind['manual_connection_rate']):>9}"
          "   (target ≥ 95 %)")
    print(f"平均等待时长 average wait           {sec(ind['average_wait_s']):>9}"
          "   (target ≤ 25 s; from dialling 12328, the IVR included)")
    print(f"排队等待时长 queue wait             {sec(ind['average_queue_wait_s']):>9}")
    print(f"10秒接通率 answered within 10 s     {pct(ind['answered_within_10s_rate']):>9}")
    print(f"放弃率 abandon rate                 {pct(ind['abandon_rate']):>9}")
    print(f"平均处理时长 average handle time    {sec(ind['average_handle_time_s']):>9}")
    print("满意度 survey of answered calls    " + ", ".join(
        f"{k.replace('_', ' ')} {v}" for k, v in sorted(summary["survey"].items())))
    cb, msg = summary["callbacks"], summary["messages"]
    print(f"回电 callbacks (key 1 in the queue)  booked {cb['booked']}, reached {cb['reached']}, "
          f"failed {cb['failed']}" + (f", still open {cb['open']}" if cb["open"] else "")
          + (f", cancelled {cb['cancelled']}" if cb["cancelled"] else ""))
    print(f"留言 messages (no seat / closed)      taken {msg['taken']} "
          f"(work orders; {msg['recorded']} with their recording), "
          f"called back {msg['called_back']}")
    for m in msg["orders"]:
        print("  " + _message_line(m))
    diffs = summary["reconciliation"]["differences"]
    print(f"reconciled with Asterisk's queue_log: "
          f"{'every call agrees' if not diffs else f'{len(diffs)} difference(s)'}")
    for d in diffs[:10]:
        print(f"  {d}")
    print(f"reports:   {summary['reports']['html']}  {summary['reports']['xlsx']}")
    print(f"queue_log: {summary['queue_log']}")
    print(f"ledger:    {summary['database']}")
    if args.json:
        Path(args.json).write_text(json.dumps(summary, indent=2, ensure_ascii=False))
        print(f"summary:   {args.json}")
    return 0 if not diffs else 1


REASONS = {"closed": "非工作时间 out of hours", "no_seat": "无座席在线 no seat"}


def _message_line(m: dict[str, Any]) -> str:
    """One message of the summary: its order, why and where it was left, its recording, and
    what became of its callback."""
    cb = m["callback"]
    if cb is None:
        back = "no number to call back"
    else:
        tries = f"{cb['attempts']} tr{'y' if cb['attempts'] == 1 else 'ies'}"
        back = f"回电 callback {cb['state']} ({tries}" + \
            (f", seat {cb['seat']}" if cb["seat"] else "") + \
            (f", {cb['last_status']}" if cb["last_status"] else "") + ")"
    queue = cb["queue"] if cb is not None else ""
    return (f"工单 order {m['order']}  {mask_number(str(m['number']))}  {queue}  "
            f"{REASONS.get(str(m['reason']), m['reason'])}  录音 {m['recording'] or 'none'}  "
            f"→ {back}")


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser("demo", help="a simulated shift on real Asterisk, then the figures")
    p.add_argument("--calls", type=int, default=30, help="calls to place (default 30)")
    p.add_argument("--seats", type=int, default=3, help="seats to sign in (default 3)")
    p.add_argument("--rate", type=float, default=0.5, help="mean arrivals per second (0.5)")
    p.add_argument("--talk", type=float, default=6.0, help="seconds a seat talks (6)")
    p.add_argument("--patience", type=float, default=25.0,
                   help="mean seconds a caller waits before hanging up (25)")
    p.add_argument("--max-seconds", type=float, default=300.0, help="stop the shift after this")
    p.add_argument("--seed", type=int, default=None, help="random seed, for a repeatable shift")
    p.add_argument("--survey", type=float, default=0.6,
                   help="share of callers who rate the service (0.6)")
    p.add_argument("--callbacks", type=float, default=0.15,
                   help="share of callers who press 1 in the queue to be called back (0.15)")
    p.add_argument("--busy-phones", type=float, default=0.2,
                   help="share of those whose phone is busy at every callback try (0.2)")
    p.add_argument("--messages", type=float, default=0.1,
                   help="share of callers who choose the queue without seats and leave a "
                        "message (0.1)")
    p.add_argument("--unstaffed", default="waterway",
                   help="a queue no seat signs in to this shift (default waterway; '' none)")
    p.add_argument("--json", help="write a machine-readable summary here")
    p.set_defaults(func=_demo)
