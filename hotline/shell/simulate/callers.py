"""The demo's callers who do not wait for a seat (issue 16), beside the seeds' mix of
`hotline/shell/demo.py`:

- a **callback caller** asks for a seat (key 0), hears its place and the offer in the queue,
  and presses 1 to keep its place and be called back; the public network's phone (a SIPp
  callee on the node's carrier gateway) answers the callback, unless its number starts with
  `BUSY_PREFIX`: that line is busy at every try, so the callback fails;
- a **message caller** chooses a queue no seat is signed in to this shift (`--unstaffed`),
  hears that no seat is there and the rescue numbers, and leaves a message (留言), which the
  platform makes a work order with its recording; at the end of the shift the seats sign in
  to that queue, and the platform calls the message back (a seat first, then the caller's
  phone on the public network).

`CallbackWatch` tells the demo when the callbacks its callers booked are done (reached,
failed, or waiting for a retry too far off to wait for), `in_progress` whether a callback's
conversation is still going on.
"""

from __future__ import annotations

import random
from collections import deque
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from acd.callers.hours import Clock, is_open
from acd.callers.models import Callback
from acd.errors import Invalid
from acd.history.queue_log import LogCall
from hotline.center import Center
from hotline.localtime import now_utc
from ivr.menu import Menu

BUSY_PREFIX = "137"        # a caller's phone that is always busy when called back
CALLBACK_PRESS_S = 9.0     # after key 0: queued, its place and the callback offer heard
CALLBACK_HOLD_S = 20.0     # then it waits for the "place kept" prompt and Asterisk's hang-up
MESSAGE_HOLD_S = 30.0      # no seat, the rescue numbers, the beep, then some 10 s of message
CALLBACK_EXTRA_S = 10.0    # a seat on a callback: who it is for, the caller rung and greeted
LEG_MARK = "-hotline-cb-"  # in a callback leg's Uniqueid (acd/callers/dialer.py)
SOON_S = 15.0              # a retry due within this is waited for at the end of the shift


@dataclass(frozen=True)
class Caller:
    kind: str                        # callback / message / mix
    number: str
    keys: list[tuple[float, str]]    # (delay before it, key)
    hold_s: float                    # hangs up this long after its last key


def number(rng: random.Random, busy: bool = False) -> str:
    """A mobile number; a busy line's starts with BUSY_PREFIX, every other with 139."""
    return f"{BUSY_PREFIX if busy else '139'}{rng.randrange(10**8):08d}"


def callback_caller(rng: random.Random, busy_share: float) -> Caller:
    return Caller("callback", number(rng, rng.random() < busy_share),
                  [(1.5, "0"), (CALLBACK_PRESS_S, "1")], CALLBACK_HOLD_S)


def message_caller(rng: random.Random, keys: list[tuple[float, str]]) -> Caller:
    return Caller("message", number(rng), list(keys), MESSAGE_HOLD_S)


def keys_to_queue(menu: Menu, queue: str) -> list[tuple[float, str]]:
    """The fewest keys that take a caller from the menu's start to `queue` (1.5 s before the
    first, 2 s before each next); Invalid when the menu never gets there."""
    seen = {menu.start}
    todo: deque[tuple[str, list[str]]] = deque([(menu.start, [])])
    while todo:
        name, keys = todo.popleft()
        node = menu.node(name)
        if node.kind == "queue" and node.queue == queue:
            return [(1.5 if i == 0 else 2.0, k) for i, k in enumerate(keys)]
        steps = [(k, nxt) for k, nxt in sorted(node.options.items())] if node.kind == "menu" \
            else [("", node.next)] if node.next else []
        for key, nxt in steps:
            if nxt in menu.nodes and nxt not in seen:
                seen.add(nxt)
                todo.append((nxt, keys + [key] if key else keys))
    raise Invalid(f"--unstaffed: the IVR menu leads no caller to queue {queue!r}")


def check_unstaffed(center: Center, menu: Menu, queue: str) -> list[tuple[float, str]]:
    """The keys to the queue kept without seats; it must be one that gives a caller the
    message path when empty (no overflow_to)."""
    try:
        q = center.queue(queue)
    except KeyError:
        raise Invalid(f"--unstaffed: {queue!r} is not a queue of the center file") from None
    if q.overflow_to:
        raise Invalid(f"--unstaffed: queue {queue!r} overflows to {q.overflow_to!r}: its "
                      "callers never get the message path")
    return keys_to_queue(menu, queue)


def in_progress(calls: dict[str, LogCall]) -> bool:
    """Whether queue_log has a stay still open: waiting, or a seat still talking (a reached
    callback talks on after its row says `reached`)."""
    return any(s.open for c in calls.values() for s in c.stays.values())


def keyed_in_queue(calls: dict[str, LogCall]) -> int:
    """Callers (not callback legs) who left a queue with key 1, from queue_log."""
    return sum(1 for callid, c in calls.items() if LEG_MARK not in callid
               and any(s.outcome == "exit_key" and s.key == "1" for s in c.stays.values()))


class CallbackWatch:
    """Whether the shift's callbacks are done: each key 1 of queue_log has its row, none is
    holding a place or ringing the caller, and none is due again soon (in calling hours).
    Once `messages` is set (a seat came to the queue they were left in), the messages'
    callbacks too: none is still to be tried a first time."""

    def __init__(self, engine: Engine, center: Center, since: datetime) -> None:
        self.engine = engine
        self.center = center
        self.since = since
        self.clock = Clock.real(center.timezone)
        self.messages = False

    def settled(self, keyed: int) -> bool:
        kinds = ("queue", "message") if self.messages else ("queue",)
        with Session(self.engine) as s:
            rows = list(s.scalars(select(Callback).where(
                Callback.center == self.center.code, Callback.kind.in_(kinds),
                Callback.requested_at >= self.since)))
        if sum(r.kind == "queue" for r in rows) < keyed:
            return False
        calling = is_open(self.center.schedule(self.center.callers.calling_hours),
                          self.clock.now())
        soon = now_utc() + timedelta(seconds=SOON_S)
        return not any(r.state in ("holding", "dialling")
                       or (calling and r.state == "waiting"
                           and (r.next_at <= soon or r.kind == "message" and not r.attempts))
                       for r in rows)
