"""Recorded AMI traffic (tests/fixtures/ami/): the center it was recorded with, the fixture
files, and their replay through the engine's own pipeline with no Asterisk.

A fixture is one scenario played on the real rig (tests/fixtures/ami/record.py): `NAME.jsonl`,
every AMI event of the scenario in arrival order, each the mapping panoramisk hands the
engine (all fields, Asterisk's `Timestamp` included); `NAME.queue_log`, the lines Asterisk
wrote to queue_log meanwhile.

`replay()` feeds the events to `Engine._handle_batch`, one event a batch as the engine's
`_on_event` does (or, with `burst_s`, the events of each burst as one batch, as `_consume`
takes what is already queued), so `Event.parse`, `LiveModel.handle`, `Ledger.write` and the
wrap-up timers of `Engine._commit` all run as they do live. Those timers are the one thing not
on the wire: the engine puts `HotlineWrapupOver` on its own queue when a wrap-up is due.
Recorded due times are in the past, so the timer fires at once; the replay holds each one back
and applies it where it falls among the recorded events (before the first event at or after
its due time), as it would have fallen live.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
import json
import tomllib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import Engine as SqlEngine
from sqlalchemy import select
from sqlalchemy.orm import Session

from acd.engine import Engine
from acd.history import db
from acd.history.models import Call, QueueCall, SeatInterval
from hotline import center as center_mod
from hotline.center import Center

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "ami"
NODE = "pbx1"


def recording_center_data() -> dict[str, Any]:
    """The example center as the fixtures were recorded with it: the highway queue overflows
    to manual after 5 s (120 s in the example) and the complaint queue's longest wait is 4 s
    (600 s), so a recorded overflow and timeout take seconds; no position announcements. Ports are the example's (the
    recorder replaces them with free ones)."""
    data = tomllib.loads(center_mod.EXAMPLE.read_text(encoding="utf-8"))
    # No position announcements: each is a channel of its own, and a recording stays small.
    data["callers"]["announce_every_s"] = 0
    for q in data["queues"]:
        if q["name"] == "highway":
            q["overflow_after_s"] = 5
        if q["name"] == "complaint":
            q["max_wait_s"] = 4
    return data


def recording_center() -> Center:
    return center_mod.parse(recording_center_data())


@dataclass(frozen=True)
class Recording:
    name: str
    events: list[dict[str, Any]]
    queue_log: Path

    @property
    def queue_log_lines(self) -> list[str]:
        return self.queue_log.read_text(encoding="utf-8").splitlines()

    @property
    def span(self) -> tuple[float, float]:
        """The first and last event's Asterisk time."""
        stamps = [float(e["Timestamp"]) for e in self.events if e.get("Timestamp")]
        return min(stamps), max(stamps)


def names() -> list[str]:
    return sorted(p.stem for p in FIXTURES.glob("*.jsonl"))


def load(name: str) -> Recording:
    path = FIXTURES / f"{name}.jsonl"
    with open(path, encoding="utf-8") as f:
        events = [json.loads(line) for line in f if line.strip()]
    return Recording(name, events, FIXTURES / f"{name}.queue_log")


async def replay(engine: Engine, events: list[dict[str, Any]], node: str = NODE,
                 burst_s: float = 0.0) -> None:
    """The recorded events through the engine's pipeline, with its wrap-up timers in place;
    one event a batch, or the events within `burst_s` of a batch's first one."""
    link = engine.links[node]
    due: list[tuple[float, int, dict[str, Any]]] = []  # the engine's own timer events
    order = 0

    async def apply(*batch: dict[str, Any]) -> None:
        nonlocal order
        await engine._handle_batch(link, list(batch))
        # Engine._commit schedules each timer with loop.call_later(due - now): already due,
        # it runs on the loop's next turn; two turns let it put its event on the queue.
        await asyncio.sleep(0)
        await asyncio.sleep(0)
        while not link.queue.empty():
            timer = link.queue.get_nowait()
            order += 1
            heapq.heappush(due, (float(timer["Timestamp"]), order, timer))

    def at(k: int) -> float:
        return float(events[k]["Timestamp"])

    i = 0
    while i < len(events):
        while due and due[0][0] <= at(i):
            await apply(heapq.heappop(due)[2])
        j = i + 1  # the burst: what came within burst_s, up to a timer falling due
        while (burst_s and j < len(events) and at(j) <= at(i) + burst_s
               and not (due and due[0][0] <= at(j))):
            j += 1
        await apply(*events[i:j])
        i = j
    while due:
        await apply(heapq.heappop(due)[2])


@dataclass(frozen=True)
class Interval:
    """A seat interval as a test reads it: its length in seconds (None: still open)."""

    state: str
    reason: str
    queue: str
    uniqueid: str
    seconds: float | None


@dataclass
class Replayed:
    """A recording replayed into a fresh SQLite ledger."""

    recording: Recording
    engine: Engine          # the ACD engine (its live model holds the final state)
    db: SqlEngine           # the ledger

    def calls(self) -> dict[str, Call]:
        """The ledger's calls by caller number."""
        with Session(self.db) as s:
            return {c.caller_number: c for c in s.scalars(select(Call))}

    def stays(self, uniqueid: str) -> list[QueueCall]:
        with Session(self.db) as s:
            return list(s.scalars(select(QueueCall).where(QueueCall.uniqueid == uniqueid)
                                  .order_by(QueueCall.entered_at)))

    def intervals(self, seat: str) -> list[Interval]:
        with Session(self.db) as s:
            rows = s.scalars(select(SeatInterval).where(SeatInterval.seat_id == seat)
                             .order_by(SeatInterval.started_at, SeatInterval.id))
            return [Interval(i.state, i.reason, i.queue, i.uniqueid,
                             (i.ended_at - i.started_at).total_seconds() if i.ended_at
                             else None) for i in rows]


_ledgers = itertools.count(1)


@contextmanager
def replayed(name: str, directory: Path, burst_s: float = 0.0,
             stop: int | None = None) -> Iterator[Replayed]:
    """The recording replayed (its first `stop` events only, if given) into a new ledger."""
    recording = load(name)
    ledger = db.make_engine(f"sqlite:///{directory / f'{name}-{next(_ledgers)}.sqlite'}")
    db.create_schema(ledger)
    try:
        engine = Engine(recording_center(), db.session_factory(ledger), {NODE: ""}, None,
                        {NODE: None})
        asyncio.run(replay(engine, recording.events[:stop], burst_s=burst_s))
        yield Replayed(recording, engine, ledger)
    finally:
        ledger.dispose()
