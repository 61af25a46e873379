"""The shift with faults: a whole center on the rig (Asterisk, the FastAGI IVR, the engine on
PostgreSQL, Redis), SIPp callers through the IVR, queues, seats and the survey, and while it
runs every fault issue 13 names, each at least once:

    kill1     the engine SIGKILLed, started again
    redis     Redis stopped for `fault_s`, started again (empty)
    fastagi   the IVR's FastAGI server stopped for `fault_s` (callers fall to the default queue)
    lock      the database's write lock held by another connection for `lock_s`
    postgres  PostgreSQL restarted (pg_ctl stop -m fast, start)
    kill2     the engine SIGKILLed again once `long_talk` calls are in long talk
    asterisk  Asterisk restarted (`core stop now`: the calls on it are dropped)

then checks what must hold after it (`Verdict`): every call of queue_log has its ledger row
and the two agree (queue_stats.reconcile: outcome, wait, seat, talk, every stay), no stay or
call is left open, every wrap-up interval is closed, the upload holds every ended call, and
the only callers cut short are those on the Asterisk that restarted. A callback's leg (a rater
who presses 1 while waiting books a callback, issue 16) is reconciled and must end like a
call, but it is not a call into the center (docs/indicators.md): it is not uploaded and is no
caller to be cut short. It measures the time to
recover from each fault, the engine's RSS and the lag from an AMI event to the wallboard's
feed, inside and outside the faults.

`bench/soak.py` runs it at the size this machine carries and writes RELIABILITY.md's figures;
tests/test_soak.py runs a small one in the suite. Seats are SIPp seat pools, each with its
own talk time (a pool of long talkers gives the calls in long talk).
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import tomllib
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import redis as redis_sync
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from acd.ami import actions as ami
from acd.history import db
from acd.history.models import Call, SeatInterval
from acd.history.queue_log import LogCall, read_file
from asterisk_conf import rig
from hotline import center as center_mod
from hotline.shell.demo import caller_plan
from hotline.shell.postgres_server import PostgresServer
from hotline.shell.redis_server import RedisServer
from hotline.shell.simulate.faults import hold_lock
from hotline.shell.simulate.ports import free_ports
from hotline.shell.simulate.processes import stop
from hotline.shell.simulate.sipp import Sipp, SippProcess
from hotline.shell.wiring import rig_installers
from ivr import menu as menu_mod
from ivr import prompts
from queue_stats.reconcile import differences
from queue_stats.upward import upload

FAULTS = ("kill1", "redis", "fastagi", "lock", "postgres", "kill2", "asterisk")


@dataclass
class Plan:
    calls: int = 1200
    rate: float = 1.0                    # calls per second, Poisson arrivals
    # Seat pools: (seats, talk seconds). The last pool is the long talkers.
    pools: tuple[tuple[int, float], ...] = ((12, 5.0), (8, 20.0), (8, 60.0), (24, 240.0))
    impatient: float = 0.1               # callers who give up after 5-20 s of waiting
    patience_s: float = 900.0            # the others hang up this long after their keys
    survey: float = 0.3                  # callers who rate the service in the survey
    fault_s: float = 60.0                # Redis and FastAGI stopped this long
    lock_s: float = 30.0                 # the database lock held this long
    db_timeout_s: float = 3.0            # the engine's statement/lock timeout
    long_talk: int = 20                  # calls in long talk at the second SIGKILL
    busy_every_s: tuple[float, float] = (20.0, 40.0)
    seed: int = 12328
    # When each fault starts, as a share of the arrivals' duration.
    at: dict[str, float] = field(default_factory=lambda: {
        "kill1": 0.08, "redis": 0.16, "fastagi": 0.30, "lock": 0.44, "postgres": 0.56,
        "kill2": 0.66, "asterisk": 0.80})

    @classmethod
    def small(cls) -> Plan:
        """The suite's shift (tests/test_soak.py): two dozen calls, every fault once, short,
        one after the other from the start."""
        return cls(calls=24, rate=0.8, pools=((3, 3.0), (4, 15.0)), impatient=0.1,
                   patience_s=60.0, survey=0.2, fault_s=3.0, lock_s=5.0, db_timeout_s=1.0, long_talk=3,
                   busy_every_s=(8.0, 12.0), at=dict.fromkeys(FAULTS, 0.05))


@dataclass
class Fault:
    name: str
    started: float = 0.0
    ended: float = 0.0          # the fault is over (the part is back)
    recovered: float = 0.0      # ...and the system has caught up
    note: str = ""

    @property
    def recovery_s(self) -> float | None:
        return round(self.recovered - self.ended, 2) if self.recovered else None


@dataclass
class Verdict:
    calls_placed: int = 0
    calls_in_queue_log: int = 0       # calls into the center (callback legs apart)
    calls_in_ledger: int = 0
    callback_legs: int = 0            # Local legs that held a callback's place (not calls)
    lost: int = 0                     # queue_log calls with no ledger row
    differences: int = 0              # every disagreement reconcile finds (lost included)
    difference_lines: list[str] = field(default_factory=list)
    open_calls: int = 0               # ledger rows of the shift with no end (legs included)
    open_call_lines: list[str] = field(default_factory=list)  # ...each named (`_open_line`)
    open_wrapups: int = 0
    talks_without_interval: int = 0   # answered stays with no on_call interval of their seat
    uploaded: int = 0
    ended_not_uploaded: int = 0       # ended calls into the center missing from the upload
    dropped: int = 0                  # callers cut short (the seat's talk or patience unmet)
    dropped_outside_restart: int = 0
    faults: list[dict[str, Any]] = field(default_factory=list)
    rss_kb: list[tuple[str, int, int]] = field(default_factory=list)  # (process, start, end)
    lag_p50_ms_outside: float | None = None
    lag_p99_ms_outside: float | None = None
    lag_p99_ms_during: float | None = None
    lag_samples: tuple[int, int] = (0, 0)
    settled: bool = False             # at the end: no seat busy with a call, no caller waiting
    unsettled: list[str] = field(default_factory=list)  # ...else what was still busy or waiting
    journal_backlog_high: int = 0
    pipeline_queue_high: int = 0
    duration_s: float = 0.0

    @property
    def ok(self) -> bool:
        return (self.lost == 0 and self.differences == 0 and self.open_calls == 0 and
                self.open_wrapups == 0 and self.talks_without_interval == 0 and
                self.ended_not_uploaded == 0 and
                self.dropped_outside_restart == 0)


def _hotline(*args: str) -> list[str]:
    return [sys.executable, "-m", "hotline.shell.cli", *args]


def percentile(xs: list[float], p: float) -> float | None:
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(p * len(xs)))] if xs else None


def _rss_kb(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


class Shift:
    """One shift with faults; `run()` returns its Verdict."""

    def __init__(self, plan: Plan, workdir: Path | None = None,
                 say: Callable[[str], None] = lambda s: print(s, file=sys.stderr, flush=True)
                 ) -> None:
        self.plan = plan
        self.say = say
        self.rng = random.Random(plan.seed)
        self.tmp = workdir or Path(tempfile.mkdtemp(prefix="hotline-soak-"))
        self.tmp.mkdir(parents=True, exist_ok=True)
        self.faults: dict[str, Fault] = {}
        self.lags: list[tuple[float, float]] = []   # (when shown, lag s)
        self.nodes: list[tuple[float, dict[str, Any]]] = []
        self.engine_proc: subprocess.Popen[bytes] | None = None
        self.ivr_proc: subprocess.Popen[bytes] | None = None
        self.rss: list[tuple[str, int, int]] = []
        self.seat_talk: dict[str, float] = {}
        self.plans: dict[str, tuple[float, bool]] = {}  # number -> (patience, impatient)
        self.unsettled: list[str] = []
        self._stop = threading.Event()

    # --- the center ---------------------------------------------------------------------------

    def _center_data(self) -> dict[str, Any]:
        data = tomllib.loads(center_mod.EXAMPLE.read_text(encoding="utf-8"))
        sip, ami_port, agi, rport, http, pstn, metrics = free_ports(7)
        data["nodes"][0].update(sip_port=sip, ami_port=ami_port, fastagi_port=agi,
                                rtp_start=20000, rtp_end=29999,
                                pstn_gateway=f"127.0.0.1:{pstn}")
        queues = [q["name"] for q in data["queues"]]
        seats, n = [], 0
        for count, talk in self.plan.pools:
            for _ in range(count):
                sid = f"{7000 + n}"
                seats.append({"id": sid, "queues": queues})
                self.seat_talk[sid] = talk
                n += 1
        data["seats"] = seats
        data.pop("supervisors", None)
        data["engine"].update(redis_port=rport, http_port=http, metrics_port=metrics)
        return data

    # The pieces, started and stopped by the shift --------------------------------------------

    def _start_engine(self) -> float:
        """Start `hotline engine run`; the seconds until it is following Asterisk again."""
        t0 = time.time()
        mark = self._mark("engine.log")
        log = open(self.tmp / "engine.log", "ab")
        self.engine_proc = subprocess.Popen(
            _hotline("--center", str(self.center_file), "engine", "run", "--instance",
                     self.inst.name, "--database", self.database, "--redis", self.redis.url,
                     "--db-timeout", str(self.plan.db_timeout_s), "--no-http"),
            env=self.env, stdout=subprocess.DEVNULL, stderr=log, start_new_session=True)
        log.close()
        self._wait_log(self.tmp / "engine.log", "ami connected", mark, 60)
        return time.time() - t0

    def _kill_engine(self) -> None:
        assert self.engine_proc is not None
        self.rss.append((f"engine pid {self.engine_proc.pid}", self._rss_start,
                         _rss_kb(self.engine_proc.pid)))
        self.engine_proc.send_signal(signal.SIGKILL)
        self.engine_proc.wait(10)

    def _start_ivr(self) -> None:
        mark = self._mark("ivr.log")
        log = open(self.tmp / "ivr.log", "ab")
        self.ivr_proc = subprocess.Popen(
            _hotline("--center", str(self.center_file), "ivr", "serve", "--instance",
                     self.inst.name, "--redis", self.redis.url, "--no-database"),
            env=self.env, stdout=subprocess.DEVNULL, stderr=log, start_new_session=True)
        log.close()
        self._wait_log(self.tmp / "ivr.log", "ivr listening", mark, 60)

    def _mark(self, name: str) -> int:
        path = self.tmp / name
        return path.stat().st_size if path.exists() else 0

    def _wait_log(self, path: Path, text: str, mark: int, timeout: float) -> None:
        """Wait until `text` is in the log, written after byte `mark`."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            data = path.read_bytes() if path.exists() else b""
            if text.encode() in data[mark:]:
                return
            time.sleep(0.1)
        raise RuntimeError(f"{path.name} never said {text!r} (see {path})")

    def _sign_in(self) -> None:
        async def run() -> None:
            from panoramisk import Manager
            n = self.center.nodes[0]
            m = Manager(host=n.bind, port=n.ami_port, username=n.ami_user,
                        secret=self.inst.ami_secret, events="off",
                        loop=asyncio.get_running_loop())
            await asyncio.wait_for(m.connect(), 10)
            for _ in range(100):
                if m.authenticated:
                    break
                await asyncio.sleep(0.1)
            try:
                for s in self.center.seats:
                    for q in s.queues:
                        await ami.queue_add(m, q, s.id)
            finally:
                m.close()
        asyncio.run(run())

    def _busy_spells(self) -> None:
        seats = [s.id for s in self.center.seats]
        lo, hi = self.plan.busy_every_s
        while not self._stop.wait(self.rng.uniform(lo, hi)):
            seat = self.rng.choice(seats)
            reason = self.rng.choice(self.center.busy_reasons)
            base = _hotline("--center", str(self.center_file), "--log-level", "WARNING", "seat")
            subprocess.run([*base, "busy", seat, "--reason", reason], env=self.env,
                           capture_output=True, timeout=30)
            if self._stop.wait(self.rng.uniform(5, 15)):
                subprocess.run([*base, "ready", seat], env=self.env, capture_output=True,
                               timeout=30)
                break
            subprocess.run([*base, "ready", seat], env=self.env, capture_output=True,
                           timeout=30)

    def _listen(self) -> None:
        """The wallboard's feed: every seat change's lag (now - the AMI event's time), and the
        nodes' views (the ledger's backlog) as they come."""
        channel = f"hotline:{self.center.code}:changes"
        while not self._stop.is_set():
            try:
                r = redis_sync.Redis(port=self.center.redis_port, socket_timeout=1)
                ps = r.pubsub()
                ps.subscribe(channel)
                while not self._stop.is_set():
                    m = ps.get_message(ignore_subscribe_messages=True, timeout=0.2)
                    if m is None:
                        continue
                    now = time.time()
                    msg = json.loads(m["data"])
                    if msg.get("kind") == "seat" and msg["data"].get("since"):
                        self.lags.append((now, now - msg["data"]["since"]))
                    elif msg.get("kind") == "node":
                        self.nodes.append((now, msg["data"]))
            except (redis_sync.RedisError, OSError):
                time.sleep(0.5)

    def _caught_up_after(self, since: float, timeout: float = 120.0,
                         reconnected: bool = False) -> float:
        """When the node's view (Redis) next showed the ledger caught up (nothing kept, no
        error) with AMI up; `reconnected`: on a connection made after `since`."""
        r = redis_sync.Redis(port=self.center.redis_port, socket_timeout=1)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                raw = r.hget(f"hotline:{self.center.code}:nodes", self.center.nodes[0].name)
            except redis_sync.RedisError:
                raw = None
            view = json.loads(raw) if raw else {}
            led = view.get("ledger") or {}
            if view.get("ami") == "up" and led.get("backlog") == 0 and \
                    not led.get("last_error") and (not reconnected or view["since"] >= since):
                return time.time()
            time.sleep(0.2)
        return 0.0

    def _long_talking(self) -> int:
        r = redis_sync.Redis(port=self.center.redis_port, socket_timeout=1)
        long_seats = {s for s, talk in self.seat_talk.items()
                      if talk == self.plan.pools[-1][1]}
        try:
            seats = r.hgetall(f"hotline:{self.center.code}:seats")
        except redis_sync.RedisError:
            return 0
        return sum(1 for k, v in seats.items()
                   if k.decode() in long_seats and json.loads(v)["state"] == "on_call")

    # --- the faults -----------------------------------------------------------------------------

    def _fault(self, name: str) -> None:
        f = self.faults[name] = Fault(name, started=time.time())
        self.say(f"==> fault {name}")
        if name in ("kill1", "kill2"):
            if name == "kill2":
                deadline = time.monotonic() + 120
                while self._long_talking() < self.plan.long_talk and \
                        time.monotonic() < deadline:
                    time.sleep(0.5)
                f.note = f"{self._long_talking()} calls in long talk"
                f.started = time.time()
            self._kill_engine()
            time.sleep(2)
            f.ended = time.time()
            self._start_engine()
            f.recovered = self._caught_up_after(f.ended, reconnected=True)
            self._rss_start = _rss_kb(self.engine_proc.pid) if self.engine_proc else 0
        elif name == "redis":
            self.redis.stop()
            time.sleep(self.plan.fault_s)
            self.redis.start()
            f.ended = time.time()
            f.recovered = self._redis_rewritten_after(f.ended)
        elif name == "fastagi":
            stop(self.ivr_proc)
            time.sleep(self.plan.fault_s)
            f.ended = time.time()
            self._start_ivr()
            f.recovered = time.time()  # listening: the next caller gets the menu
        elif name == "lock":
            with hold_lock(self.sql):
                time.sleep(self.plan.lock_s)
            f.ended = time.time()
            f.recovered = self._caught_up_after(f.ended)
        elif name == "postgres":
            self.pg.stop()
            time.sleep(2)
            self.pg.start()
            f.ended = time.time()
            f.recovered = self._caught_up_after(f.ended)
        elif name == "asterisk":
            self.inst.down()
            self.inst.up()
            f.ended = time.time()
            f.recovered = self._caught_up_after(f.ended, 90, reconnected=True)
        self.say(f"    {name}: back after {f.ended - f.started:.1f} s, caught up "
                 f"{f.recovery_s} s later")

    def _settled(self, timeout: float) -> bool:
        """No seat on a call, ringing or in wrap-up, no caller waiting, the ledger caught up."""
        r = redis_sync.Redis(port=self.center.redis_port, socket_timeout=1,
                             decode_responses=True)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                seat_views: dict[str, Any] = {str(k): json.loads(v) for k, v in r.hgetall(
                    f"hotline:{self.center.code}:seats").items()}
                queue_views: dict[str, Any] = {str(k): json.loads(v) for k, v in r.hgetall(
                    f"hotline:{self.center.code}:queues").items()}
            except redis_sync.RedisError as exc:
                seat_views, queue_views = {"?": {"state": f"? (Redis: {exc})"}}, {}
            # What is not settled yet, named (the verdict keeps the last of it).
            self.unsettled = [
                f"seat {k} {v['state']} {v.get('uniqueid') or ''}".rstrip()
                for k, v in sorted(seat_views.items())
                if v["state"] in ("on_call", "ringing", "wrapup") or k == "?"] + [
                f"queue {k} waiting " + ",".join(str(w.get("uniqueid")) for w in v["waiting"])
                for k, v in sorted(queue_views.items()) if v["waiting_count"]]
            if not self.unsettled and self._caught_up_after(0, 1):
                return True
            time.sleep(0.5)
        if not self.unsettled:
            self.unsettled = ["the ledger never caught up"]
        return False

    def _redis_rewritten_after(self, since: float, timeout: float = 60.0) -> float:
        r = redis_sync.Redis(port=self.center.redis_port, socket_timeout=1)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                if r.hlen(f"hotline:{self.center.code}:seats"):
                    return time.time()
            except redis_sync.RedisError:
                pass
            time.sleep(0.1)
        return 0.0

    # --- the shift -------------------------------------------------------------------------------

    def run(self) -> Verdict:
        plan = self.plan
        self.center_file = self.tmp / "center.toml"
        self.center_file.write_text(_toml(self._center_data()), encoding="utf-8")
        self.center = center_mod.load(self.center_file)
        self.env = {**os.environ, "HOTLINE_VAR": str(self.tmp)}
        menu = menu_mod.load(menu_mod.DEFAULT, self.center)
        prompts.build(menu.prompts)
        self.inst = rig.instance(self.center, name=f"soak-{os.getpid()}", state=self.tmp,
                                 installers=rig_installers(self.center))
        shutil.rmtree(self.inst.base, ignore_errors=True)
        self.pg = PostgresServer(free_ports(1)[0])
        self.redis = RedisServer(self.center.redis_port, self.tmp / "redis")
        sipp = Sipp("127.0.0.1", self.center.nodes[0].sip_port, workdir=self.tmp / "sipp")
        listener = threading.Thread(target=self._listen, daemon=True)
        busy = threading.Thread(target=self._busy_spells, daemon=True)
        callers: list[SippProcess] = []
        try:
            self.inst.up()
            self.pg.start()
            self.database = self.pg.url
            self.sql = db.make_engine(self.database)
            db.create_schema(self.sql)
            self.redis.start()
            listener.start()
            self._start_engine()
            self._start_ivr()
            secrets = self.inst.secrets.seats
            by_talk: dict[float, dict[str, str]] = {}
            for sid, talk in self.seat_talk.items():
                by_talk.setdefault(talk, {})[sid] = secrets[sid]
            for talk, seats in by_talk.items():
                sipp.seat_pool(seats, ring_s=0.5, talk_s=talk)
            self._sign_in()
            time.sleep(3)
            self._rss_start = _rss_kb(self.engine_proc.pid) if self.engine_proc else 0
            busy.start()
            started = time.time()
            since = int(started) - 1
            arrivals = plan.calls / plan.rate
            due = sorted((plan.at[name] * arrivals, FAULTS.index(name), name)
                          for name in FAULTS)
            faults = threading.Thread(target=self._faults, args=(due, started), daemon=True)
            faults.start()
            placed, next_at = 0, time.monotonic()
            while placed < plan.calls:
                if time.monotonic() >= next_at:
                    callers.append(self._caller(sipp, placed))
                    placed += 1
                    next_at += self.rng.expovariate(plan.rate)
                    if placed % 50 == 0:
                        callers = [c for c in callers if c.running()]  # reaps the others
                time.sleep(0.02)
            self.say(f"==> {placed} calls placed in {time.time() - started:.0f} s")
            faults.join()
            longest = max(talk for _, talk in plan.pools) + 180
            deadline = time.monotonic() + longest
            while any(c.running() for c in callers) and time.monotonic() < deadline:
                time.sleep(1)
            for c in callers:
                c.stop()
            self._stop.set()
            # Every wrap-up has run out, the engine has written everything.
            self.settled = self._settled(max(q.wrapup_s for q in self.center.queues) + 20)
            ended = time.time()
            assert self.engine_proc is not None
            self.rss.append((f"engine pid {self.engine_proc.pid}", self._rss_start,
                             _rss_kb(self.engine_proc.pid)))
            stop(self.engine_proc, 30)
            return self._verdict(placed, since, ended, started)
        finally:
            self._stop.set()
            try:
                sipp.close()
                for proc in (self.engine_proc, self.ivr_proc):
                    stop(proc)
                try:
                    self.inst.cli("channel request hangup all")
                except rig.RigError:
                    pass
                self.inst.down()
                if self.inst.queue_log.exists():  # kept with the logs, for a look afterwards
                    shutil.copy(self.inst.queue_log, self.tmp / "queue_log")
                self.redis.stop()
            finally:  # the database's connections closed and its server gone, whatever failed
                if hasattr(self, "sql"):
                    self.sql.dispose()
                self.pg.remove()
                if not os.environ.get("HOTLINE_KEEP_INSTANCES"):
                    shutil.rmtree(self.inst.base, ignore_errors=True)

    def _faults(self, due: list[tuple[float, int, str]], started: float) -> None:
        for at, _, name in due:
            wait = started + at - time.time()
            if wait > 0:
                time.sleep(wait)
            try:
                self._fault(name)
            except Exception as exc:  # noqa: BLE001 - recorded: the verdict shows it
                self.faults.setdefault(name, Fault(name)).note = f"failed: {exc}"
                self.say(f"    {name} failed: {exc}")

    def _caller(self, sipp: Sipp, i: int) -> SippProcess:
        number = f"139{self.plan.seed % 100:02d}{i:06d}"
        impatient = self.rng.random() < self.plan.impatient
        patience = self.rng.uniform(5, 20) if impatient else self.plan.patience_s
        digits, hold = caller_plan(self.rng, patience, 0.0)  # the menu's keys
        if not impatient and self.rng.random() < self.plan.survey:
            # A rater presses its rating every 8 s until the survey hears it (SIPp reads
            # no scenario past about a hundred keys: at most 50, 400 s).
            rating = self.rng.choices("1234", weights=(60, 30, 7, 3))[0]
            repeats = min(50, int(patience // 8))
            digits = [*digits, *[(8.0, rating)] * repeats]
            hold = max(15.0, patience - 8.0 * repeats)
        self.plans[number] = (patience, impatient)
        return sipp.callers(f"caller-{i}", [number], digits=digits, hold_s=hold, rate=1)

    # --- the verdict -------------------------------------------------------------------------------

    def _open_line(self, row: Call, logged: LogCall | None, started: float) -> str:
        """A ledger row left open, named so the log alone says what it was: call or leg,
        its stays in the ledger and in queue_log, times in seconds from the shift's start,
        and the fault (if any) it was in when last heard of."""
        def at(dt: datetime | None) -> str:
            if dt is None:
                return "-"
            return f"{dt.replace(tzinfo=UTC).timestamp() - started:+.1f}s"

        def during(t: float) -> str:
            hit = [f.name for f in self.faults.values()
                   if f.started - 1 <= t <= (f.recovered or f.ended or f.started) + 1]
            return ",".join(hit) or "no fault"
        kind = f"leg of {row.callback_of}" if row.callback_of else "call"
        stays = "; ".join(
            f"{q.queue} {q.outcome} entered {at(q.entered_at)} left {at(q.left_at)} "
            f"answered {at(q.answered_at)} ended {at(q.ended_at)} seat {q.seat_id or '-'}"
            for q in sorted(row.attempts, key=lambda q: q.entered_at)) or "no stay"
        last = row.started_at
        for q in row.attempts:
            last = max([last, *(d for d in (q.entered_at, q.left_at, q.answered_at,
                                              q.ended_at) if d is not None)])
        log_part = "not in queue_log"
        if logged is not None:
            log_part = "queue_log: " + "; ".join(
                f"{st.queue} {st.outcome} last line {st.last - started:+.0f}s"
                for st in sorted(logged.stays.values(), key=lambda st: st.entered))
        return (f"{row.uniqueid} ({kind}, {row.caller_number}) started {at(row.started_at)} "
                f"ivr {row.ivr_result or '-'} outcome {row.outcome or '-'} | {stays} | "
                f"{log_part} | last known {at(last)}, "
                f"{during(last.replace(tzinfo=UTC).timestamp())}")

    def _verdict(self, placed: int, since: int, ended: float, started: float) -> Verdict:
        v = Verdict(calls_placed=placed, duration_s=round(ended - started, 1),
                    settled=self.settled, unsettled=self.unsettled)
        queue_log = self.inst.queue_log
        logged = read_file(queue_log, since=since)
        # The callers' calls in queue_log, with the callback legs that carry their numbers
        # (reconciled stay by stay too).
        mine = {c for c in logged if logged[c].first.caller in self.plans}
        found = [d for d in differences(self.sql, queue_log, since, ended)
                 if d.callid in mine or d.what == "missing_in_queue_log"]
        v.lost = sum(1 for d in found if d.what == "missing_in_ledger")
        v.differences = len(found)
        v.difference_lines = [str(d) for d in found[:50]]
        lo = datetime.fromtimestamp(since, UTC).replace(tzinfo=None)
        hi = datetime.fromtimestamp(ended + 1, UTC).replace(tzinfo=None)
        with Session(self.sql) as s:
            numbers = list(self.plans)
            # A callback's leg (`calls.callback_of`) is not a call into the center
            # (docs/indicators.md): in no figure and no upload upward; its call is the record.
            legs = set(s.scalars(select(Call.uniqueid).where(
                Call.caller_number.in_(numbers), Call.callback_of.is_not(None))))
            v.callback_legs = len(legs)
            v.calls_in_ledger = s.scalar(select(func.count()).select_from(Call).where(
                Call.caller_number.in_(numbers), Call.callback_of.is_(None))) or 0
            open_rows = list(s.scalars(select(Call).where(
                Call.caller_number.in_(numbers), Call.ended_at.is_(None))
                .order_by(Call.started_at)))
            v.open_calls = len(open_rows)
            v.open_call_lines = [self._open_line(row, logged.get(row.uniqueid), started)
                                 for row in open_rows]
            v.open_wrapups = s.scalar(select(func.count()).select_from(SeatInterval).where(
                SeatInterval.state == "wrapup", SeatInterval.ended_at.is_(None))) or 0
            ended_ids = set(s.scalars(select(Call.uniqueid).where(
                Call.caller_number.in_(numbers), Call.ended_at.is_not(None),
                Call.callback_of.is_(None))))
            on_call = {(seat, uid) for seat, uid in s.execute(select(
                SeatInterval.seat_id, SeatInterval.uniqueid).where(
                    SeatInterval.state == "on_call"))}
        v.calls_in_queue_log = len(mine - legs)
        up = upload(self.sql, lo, hi, self.tmp / "uploads", self.center.code)
        sent = {json.loads(line)["uniqueid"] for line in
                up.path.read_text(encoding="utf-8").splitlines()}
        v.uploaded = len(sent & ended_ids)
        v.ended_not_uploaded = len(ended_ids - sent)
        # Cut short: a seat's talk ended before its pool's talk time, or a patient caller
        # left the queue; only the Asterisk restart may do that.
        restart = self.faults.get("asterisk")
        window = (restart.started - 1, restart.ended + 2) if restart else (0.0, 0.0)
        for callid in mine:
            for stay in logged[callid].stays.values():
                # Every talk is a seat's on_call interval too (the seat transitions of a
                # batch the database refused were kept, not dropped).
                if stay.answered is not None and (stay.seat, callid) not in on_call:
                    v.talks_without_interval += 1
                    v.difference_lines.append(f"{callid}: no on_call interval of {stay.seat}")
            if callid in legs:
                continue  # a seat on a leg rings the caller back: no caller's patience or talk
            call = logged[callid]
            final = call.final
            patience, impatient = self.plans.get(final.caller, (900.0, False))
            short = (not impatient and final.outcome == "answered" and
                     final.talk_s is not None and
                     final.talk_s < self.seat_talk.get(final.seat, 0) - 1)
            gave_up = final.outcome == "abandoned" and not impatient
            if short or gave_up or final.open:
                v.dropped += 1
                if not window[0] <= call.last <= window[1]:
                    v.dropped_outside_restart += 1
                    v.difference_lines.append(f"{callid}: cut short outside the restart "
                                              f"({final.outcome}, talk {final.talk_s})")
        agi = self.faults.get("fastagi")
        if agi is not None and agi.started:
            with Session(self.sql) as s:
                fell = s.scalar(select(func.count()).select_from(Call).where(
                    Call.caller_number.in_(list(self.plans)),
                    Call.started_at >= datetime.fromtimestamp(agi.started, UTC).replace(
                        tzinfo=None),
                    Call.started_at <= datetime.fromtimestamp(agi.ended, UTC).replace(
                        tzinfo=None),
                    Call.ivr_result == "error"))
            agi.note = f"{fell} callers went to the default queue meanwhile"
        v.faults = [{**asdict(f), "recovery_s": f.recovery_s} for f in self.faults.values()]
        v.rss_kb = self.rss
        windows = {f.name: (f.started, (f.recovered or f.ended) + 1)
                   for f in self.faults.values()}
        during = [lag for at, lag in self.lags
                  if any(a <= at <= b for a, b in windows.values())]
        outside = [lag for at, lag in self.lags
                   if not any(a <= at <= b for a, b in windows.values())]
        for f in v.faults:
            a, b = windows[f["name"]]
            lags = [lag for at, lag in self.lags if a <= at <= b]
            p99 = percentile(lags, 0.99)
            f["lag_p99_ms"] = None if p99 is None else round(1000 * p99, 1)
            f["lag_samples"] = len(lags)

        def ms(x: float | None) -> float | None:
            return None if x is None else round(1000 * x, 1)
        v.lag_p50_ms_outside = ms(percentile(outside, 0.5))
        v.lag_p99_ms_outside = ms(percentile(outside, 0.99))
        v.lag_p99_ms_during = ms(percentile(during, 0.99))
        v.lag_samples = (len(outside), len(during))
        for _, view in self.nodes:
            v.journal_backlog_high = max(v.journal_backlog_high,
                                         (view.get("ledger") or {}).get("backlog_high", 0))
            v.pipeline_queue_high = max(v.pipeline_queue_high, view.get("queued_high", 0))
        return v


def _toml(data: dict[str, Any]) -> str:
    """Enough TOML for a center description: scalars, lists, inline tables, tables, arrays of
    tables (also inside a table, as [[exchange.peers]])."""
    def value(v: Any) -> str:
        if isinstance(v, bool):
            return "true" if v else "false"
        if isinstance(v, int):
            return str(v)
        if isinstance(v, float):
            return repr(v)
        if isinstance(v, str):
            return '"' + v.replace("\\", "\\\\").replace('"', '\\"') + '"'
        if isinstance(v, list):
            return "[" + ", ".join(value(x) for x in v) + "]"
        if isinstance(v, dict):  # an inline table ({ code = "meal", title = "用餐" })
            return "{ " + ", ".join(f"{k} = {value(x)}" for k, x in v.items()) + " }"
        raise TypeError(type(v))

    def tables(v: Any) -> bool:
        return isinstance(v, list) and bool(v) and all(isinstance(x, dict) for x in v)
    lines = [f"{k} = {value(v)}" for k, v in data.items()
             if not isinstance(v, dict) and not tables(v)]
    for k, v in data.items():
        if isinstance(v, dict):
            lines += ["", f"[{k}]"] + [f"{kk} = {value(vv)}" for kk, vv in v.items()
                                       if not tables(vv)]
            for kk, vv in v.items():
                if tables(vv):
                    for item in vv:
                        lines += ["", f"[[{k}.{kk}]]"] + [f"{x} = {value(y)}"
                                                         for x, y in item.items()]
        elif tables(v):
            for item in v:
                lines += ["", f"[[{k}]]"] + [f"{kk} = {value(vv)}" for kk, vv in item.items()]
    return "\n".join(lines) + "\n"
