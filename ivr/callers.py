"""The IVR's part in issue 16 (callers never left waiting with nothing), beside the menu walk
of ivr/fastagi.py:

- before the menu: a blocked number is told so and goes nowhere (acd/callers/blocklist.py);
- after the menu chose a queue: out of the queue's hours the caller goes to the message path
  (`closed`, acd/callers/hours.py), and a repeat caller gets its queue priority
  (acd/callers/priority.py);
- the menu's progress node: order progress by phone (acd/callers/progress.py);
- route `announce`: what PERIODIC_HOOK whispers to a waiting caller, its position and the
  engine's estimate of its wait (acd/callers/estimate.py), and the callback offer;
- route `revisit`: a revisit the platform dialled, rated 1-4 by keypad.

Routes stay thin: they read, ask the domain, play, and set variables the dialplan reports.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from acd.callers import blocklist, estimate, hours, priority, progress
from acd.callers.hours import Clock
from acd.callers.live import LiveReader
from acd.callers.models import Callback
from acd.orders.models import Revisit, WorkOrder
from hotline.center import Center
from hotline.logs import get_logger, mask_number
from ivr import flow

log = get_logger(__name__)


class Callers:
    def __init__(self, center: Center, sessions: sessionmaker[Session] | None, clock: Clock,
                 live: LiveReader, callback_offered: bool,
                 channel: Callable[[Any], Any]) -> None:
        self.center = center
        self.sessions = sessions
        self.clock = clock
        self.live = live
        self.callback_offered = callback_offered
        self._channel = channel  # request -> the AgiChannel (ivr/fastagi.py)

    async def _db(self, fn: Callable[[Session], Any], default: Any = None) -> Any:
        """A read in a worker thread; the database down is `default` (logged), never a
        failed call."""
        if self.sessions is None:
            return default

        def run() -> Any:
            assert self.sessions is not None
            with self.sessions() as s:
                return fn(s)

        try:
            return await asyncio.to_thread(run)
        except Exception:
            log.exception("database unavailable to the ivr")
            return default

    # --- the ivr route's steps ---------------------------------------------------------------

    async def blocked(self, caller: str) -> bool:
        found = await self._db(lambda s: blocklist.block_of(s, self.center.code, caller))
        return found is not None

    def closed(self, queue: str) -> bool:
        return not hours.queue_open(self.center, queue, self.clock)

    async def priority(self, caller: str) -> str:
        """The caller's QUEUE_PRIO ("" = none) and why, logged."""
        why = await self._db(lambda s: priority.reason(s, self.center.codes, caller,
                                                       self.center.callers), "")
        if not why:
            return ""
        log.info("repeat caller goes ahead", caller=mask_number(caller), why=why)
        return str(self.center.callers.priority)

    async def progress(self, channel: Any, caller: str, prompt: str) -> None:
        """The caller keys an order's number (# alone: its own orders) and hears how it goes."""
        digits = await read_digits(channel, prompt, 12)
        if not digits:
            orders = await self._db(lambda s: [(o.id, o.status, progress.spoken(o, self.center))
                                               for o in progress.of_caller(s, self.center,
                                                                           caller)], [])
            if not orders:
                await channel.play("progress_none")
                await user_event(channel, "HotlineProgress", Order="", Status="none",
                                 Matched="number")
            for order_id, status, text in orders:
                await channel.play_text(text)
                await user_event(channel, "HotlineProgress", Order=str(order_id),
                                 Status=status, Matched="number")
            return

        def find(s: Session) -> tuple[progress.Lookup, str]:
            found = progress.lookup(s, self.center, digits, caller)
            text = progress.spoken(found.order, self.center) if found.order else ""
            return found, text

        found, text = await self._db(find, (progress.Lookup(), ""))
        order: WorkOrder | None = found.order
        if order is not None and found.needs_check:
            last4 = await read_digits(channel, "progress_verify", 4)
            if not progress.check(order, last4):
                order = None
        if order is None:
            await channel.play("progress_none")
            await user_event(channel, "HotlineProgress", Order=digits, Status="none",
                             Matched="")
            return
        await channel.play_text(text)
        await user_event(channel, "HotlineProgress", Order=str(order.id), Status=order.status,
                         Matched="check" if found.needs_check else "number")

    # --- route announce ----------------------------------------------------------------------

    async def announce(self, request: Any) -> None:
        """Args: prompts, queue, position, the caller's uniqueid."""
        uid = request.headers.get("agi_uniqueid", "")
        try:
            channel = self._channel(request)
            queue = request.headers.get("agi_arg_2", "")
            try:
                position = int(request.headers.get("agi_arg_3", "0"))
            except ValueError:
                position = 0
            if position < 1 or queue not in {q.name for q in self.center.queues}:
                raise ValueError(f"announce: bad queue {queue!r} or position")
            views, seats = await self.live.views_and_seats()
            q = self.center.queue(queue)
            e = estimate.estimate(queue, position, views, seats, time.time(), q.wrapup_s,
                                  self.center.callers.default_handle_s)
            log.info("wait announced", uniqueid=request.headers.get("agi_arg_4", "")[:64],
                     queue=queue, position=position, expected_s=e.expected_s,
                     serving=e.serving, handle_s=e.handle_s, ring_s=e.ring_s,
                     seats={k: f"{v.get('state')}:{v.get('queue') or ''}"
                            for k, v in seats.items() if queue in (v.get("queues") or ())})
            await channel.set("HOTLINE_EXPECTED",
                              "" if e.expected_s is None else f"{e.expected_s:.0f}")
            await channel.play_text(estimate.spoken(e))
            if self.callback_offered:
                await channel.play("callback_offer")
        except flow.Hangup:
            pass
        except Exception:
            log.exception("announce route failed; no announcement", uniqueid=uid)

    # --- route revisit -----------------------------------------------------------------------

    async def revisit(self, request: Any) -> None:
        """Args: prompts, the callback's id. The caller rates 1-4; HOTLINE_REVISIT_SCORE."""
        uid = request.headers.get("agi_uniqueid", "")
        try:
            channel = self._channel(request)
            raw = request.headers.get("agi_arg_2", "")
            callback_id = int(raw) if raw.isdigit() else 0

            def intro(s: Session) -> str | None:
                cb = s.get(Callback, callback_id)
                if cb is None or cb.revisit_id is None or cb.center != self.center.code:
                    return None
                r = s.get(Revisit, cb.revisit_id)
                o = s.get(WorkOrder, r.order_id) if r is not None else None
                if o is None:
                    return None
                day = hours_day(o)
                return (f"您好，这里是{self.center.hotline_number}交通运输服务监督电话回访。"
                        f"您{day}反映的问题，承办单位已经答复。")

            text = await self._db(intro)
            if text is None:
                raise ValueError(f"revisit: no revisit for callback {raw!r}")
            await channel.play_text(text)
            score = await flow.survey(_Asking(channel), retries=1, timeout_s=6.0)
            await channel.set("HOTLINE_REVISIT_SCORE", "" if score is None else str(score))
            log.info("revisit rated by keypad", uniqueid=uid, callback=callback_id, score=score)
        except flow.Hangup:
            log.info("revisit caller hung up", uniqueid=uid)
        except Exception:
            log.exception("revisit route failed; not rated", uniqueid=uid)


def hours_day(order: WorkOrder) -> str:
    d = order.accepted_at
    return f"于{d.month}月{d.day}日" if d else ""


class _Asking:
    """The revisit's question through flow.survey: its prompts renamed."""

    NAMES = {"survey": "revisit_ask", "survey_thanks": "revisit_thanks"}

    def __init__(self, channel: Any) -> None:
        self.channel = channel

    async def play(self, prompt: str, keys: str = "") -> str:
        return str(await self.channel.play(self.NAMES.get(prompt, prompt), keys))

    async def wait_digit(self, timeout_s: float) -> str:
        return str(await self.channel.wait_digit(timeout_s))


async def read_digits(channel: Any, prompt: str, max_digits: int, timeout_s: float = 8.0) -> str:
    """Digits keyed after a prompt, ended by # (AGI GET DATA); "" for none."""
    reply = await channel.command(f"GET DATA {channel.inner}/{prompt} "
                                  f"{int(timeout_s * 1000)} {max_digits}")
    value = str((reply.get("result") or ("",))[0] or "")
    return value if value.isdigit() else ""


async def user_event(channel: Any, name: str, **fields: str) -> None:
    """Report to AMI from a route (a UserEvent on the caller's channel)."""
    body = ",".join([name] + [f"{k}: {str(v).replace(',', ' ').replace(chr(34), '')}"
                              for k, v in fields.items()])
    await channel.command(f'EXEC UserEvent "{body}"')
