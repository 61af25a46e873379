"""The dialer: the platform's side of callers who do not wait, in the engine's process.

It keeps an AMI connection of its own to each node (the engine's pipeline is not touched) and
applies, one at a time from one queue (AMI events and its own clock ticks alike):

- `HotlineCallback` (a caller pressed 1): a callback row, an SMS, and at once a leg that holds
  the caller's place: a Local channel whose second half waits in the same queue at the
  caller's position (Queue()'s position argument). When a seat answers the leg (the seat first),
  the first half rings the caller (`hotline-callback-dial`); reached, the call counts as
  answered (acd/model.py); not reached, it is tried again `callback_retry_s` later at the
  head of the queue, up to `callback_attempts` tries, always within calling hours.
- `HotlineMessage` (a message out of hours or with no seat): a work order with the recording,
  its number by SMS, and a callback when the queue next opens and has a seat signed in (a
  `QueueMemberAdded` to an open queue makes its messages due at once).
- the day's revisits (`revisit_dial` auto or seat): dialled within calling hours; rated by
  keypad (`HotlineRevisit`) or put through to the revisit seat; no answer is retried, and every
  try lands on the revisit record (acd/orders/service.py `record_revisit`).
- `HotlineAnnounce`: the position and estimate a caller was told on entering a queue.
- blocked numbers: AstDB (`hotline-blocked/<number>` = expiry) kept in step with the table.

Every placement is an Originate with an ActionID naming its row and try, so the
OriginateResponse that ends it (no answer, busy) finds its row. On (re)connect the rows a node
was holding are checked against its live channels: a try whose channels are gone is a try
that failed.
"""

from __future__ import annotations

import asyncio
import re
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from panoramisk import Manager
from sqlalchemy.orm import Session, sessionmaker

from acd.ami import actions as ami
from acd.callers import blocklist, callbacks, notify
from acd.callers.hours import Clock, is_open, seconds_until_open
from acd.callers.models import Callback, WaitEstimate
from acd.orders import service
from acd.orders.models import Revisit
from hotline.center import Center, Node
from hotline.localtime import now_utc
from hotline.logs import get_logger, mask_number

log = get_logger(__name__)

LEG_WAIT_S = 4 * 3600   # how long a leg may hold a place (and its Originate wait for a seat)
ACTION = re.compile(r"^hotline-(cb|rv)-([0-9]+)-([0-9]+)$")


@dataclass
class _Link:
    node: Node
    secret: str
    manager: Manager | None = None
    connected: bool = False
    astdb: dict[str, str] = field(default_factory=dict)  # number -> expiry, as pushed


class Dialer:
    def __init__(self, center: Center, sessions: sessionmaker[Session],
                 secrets: dict[str, str], clock: Clock, tick_s: float = 2.0,
                 sync_s: float = 10.0) -> None:
        self.center = center
        self.sessions = sessions
        self.clock = clock
        self.tick_s = tick_s
        self.sync_s = sync_s
        self.links = {n.name: _Link(n, secrets[n.name]) for n in center.nodes}
        self.queue: asyncio.Queue[tuple[Any, ...]] = asyncio.Queue()
        self._tasks: list[asyncio.Task[None]] = []
        self._synced = 0.0

    # --- lifecycle -----------------------------------------------------------------------------

    async def start(self) -> None:
        loop = asyncio.get_running_loop()
        for link in self.links.values():
            self._connect(link)
        self._tasks.append(loop.create_task(self._consume(), name="dialer"))
        self._tasks.append(loop.create_task(self._ticker(), name="dialer-ticks"))

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        for link in self.links.values():
            if link.manager is not None:
                link.manager.callbacks.clear()
                link.manager.on_disconnect = lambda *_: None
                link.manager.close()

    def _connect(self, link: _Link) -> None:
        n = link.node
        name = n.name
        manager = Manager(host=n.bind, port=n.ami_port, username=n.ami_user, secret=link.secret,
                          ping_delay=5, ping_interval=5, reconnect_timeout=2,
                          loop=asyncio.get_running_loop(),
                          on_login=lambda m: self.queue.put_nowait(("connected", name)),
                          on_disconnect=lambda m, exc: self.queue.put_nowait(("lost", name)))
        for event in ("UserEvent", "OriginateResponse", "QueueMemberAdded"):
            manager.register_event(event, lambda m, message: self.queue.put_nowait(
                ("event", name, dict(message))))
        link.manager = manager
        manager.connect()

    async def _ticker(self) -> None:
        while True:
            await asyncio.sleep(self.tick_s)
            self.queue.put_nowait(("tick",))

    async def _consume(self) -> None:
        while True:
            item = await self.queue.get()
            try:
                if item[0] == "event":
                    await self._event(item[1], item[2])
                elif item[0] == "tick":
                    await self._tick()
                elif item[0] == "connected":
                    await self._connected(self.links[item[1]])
                elif item[0] == "lost":
                    self.links[item[1]].connected = False
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("dialer step failed; going on", item=str(item[:2]))

    # --- connection ----------------------------------------------------------------------------

    async def _connected(self, link: _Link) -> None:
        link.connected = True
        assert link.manager is not None
        await ami.blocked_astdb(link.manager, "clear")
        link.astdb = {}
        await self._sync_blocks(link)
        live = {(c.context, c.exten) for c in await ami.channels(link.manager)}
        now = now_utc()
        with self.sessions.begin() as s:
            for row in callbacks.open_rows(s, self.center.codes):
                if row.node != link.node.name:
                    continue
                contexts = ("hotline-revisit", "hotline-revisit-seat") if row.kind == "revisit" \
                    else ("hotline-callback-leg", "hotline-callback-dial")
                if not any((c, str(row.id)) in live for c in contexts):
                    self._not_reached(s, row, "lost (the call was gone after a reconnect)", now)
        log.info("dialer connected", node=link.node.name)

    # --- the clock -----------------------------------------------------------------------------

    async def _tick(self) -> None:
        if time.monotonic() - self._synced >= self.sync_s:
            self._synced = time.monotonic()
            for link in self.links.values():
                if link.connected:
                    await self._sync_blocks(link)
        if not is_open(self.center.schedule(self.center.callers.calling_hours),
                       self.clock.now()):
            return
        self._dial_revisits_of_today()
        with self.sessions() as s:
            due = [r.id for r in callbacks.due(s, self.center.codes)]
        for row_id in due:
            await self._place(row_id)

    async def _sync_blocks(self, link: _Link) -> None:
        """AstDB holds exactly the blocks in force (the dialplan reads it)."""
        assert link.manager is not None
        with self.sessions() as s:
            # The nodes hold one list: a block of any center of the deployment (the latest
            # expiry of a number blocked by several).
            want: dict[str, str] = {}
            for b in sorted(blocklist.active(s, self.center.codes), key=lambda b: b.expires_at):
                want[b.number] = str(int(b.expires_at.replace(tzinfo=UTC).timestamp()))
        for number, expiry in want.items():
            if link.astdb.get(number) != expiry:
                await ami.blocked_astdb(link.manager, "put", number, expiry)
        for number in set(link.astdb) - set(want):
            await ami.blocked_astdb(link.manager, "del", number)
        link.astdb = want

    def _dial_revisits_of_today(self) -> None:
        if self.center.callers.revisit_dial == "off":
            return
        today = self.clock.today()
        node = next(iter(self.links))
        with self.sessions.begin() as s:
            added = callbacks.revisits_to_dial(s, self.center, node, today)
        if added:
            log.info("revisits to dial", day=str(today), count=len(added))

    # --- placing a call ------------------------------------------------------------------------

    async def _place(self, row_id: int) -> None:
        with self.sessions.begin() as s:
            row = s.get(Callback, row_id)
            if row is None or row.state != "waiting":
                return
            link = self.links.get(row.node) or next(iter(self.links.values()))
            if not link.connected or link.manager is None:
                return
            if row.kind == "message" and not await self._seats_in(link, row.queue):
                row.next_at = now_utc() + timedelta(minutes=1)  # seats come back later
                return
            attempt = row.attempts + 1
            kind = "rv" if row.kind == "revisit" else "cb"
            action_id = f"hotline-{kind}-{row.id}-{attempt}"
            spec = self._originate_spec(row, link.node, action_id)
            callbacks.placed(row, action_id)
            number, kind_, rid = row.number, row.kind, row.id
        try:
            await ami.originate_async(link.manager, action_id=action_id, **spec)
            log.info("callback placed", callback=rid, kind=kind_, number=mask_number(number),
                     attempt=attempt)
        except ami.AmiError as exc:
            with self.sessions.begin() as s:
                row = s.get(Callback, rid)
                if row is not None:
                    self._not_reached(s, row, f"originate: {exc}"[:60], now_utc())

    async def _seats_in(self, link: _Link, queue: str) -> bool:
        """A message is called back when its queue is open and has a seat signed in (no line
        is held in an empty queue)."""
        if seconds_until_open(self.center.hours_of(queue), self.clock) != 0.0:
            return False
        assert link.manager is not None
        try:
            logged = await ami.getvar(link.manager, f"QUEUE_MEMBER({queue},logged)")
        except ami.AmiError:
            return False
        return logged.isdigit() and int(logged) > 0

    def _originate_spec(self, row: Callback, node: Node, action_id: str) -> dict[str, Any]:
        c = self.center.callers
        if row.kind == "revisit" and c.revisit_dial == "seat":
            return {"channel": f"PJSIP/{c.revisit_seat}", "context": "hotline-revisit-seat",
                    "exten": str(row.id), "timeout_s": c.callback_ring_s,
                    "caller_id": f'"回访" <{row.number}>',
                    "variables": {"RV_NUMBER": row.number, "RV_RING_S": str(c.callback_ring_s)}}
        if row.kind == "revisit":
            return {"channel": f"PJSIP/{row.number}@pstn", "context": "hotline-revisit",
                    "exten": str(row.id), "timeout_s": c.callback_ring_s,
                    "caller_id": f'"12328" <{self.center.hotline_number}>', "variables": {}}
        leg = f"{node.name}-{action_id}"
        position = str(row.position) if row.kind == "queue" and row.position else ""
        return {"channel": f"Local/{row.id}@hotline-callback-leg/n",
                "context": "hotline-callback-dial", "exten": str(row.id),
                "timeout_s": LEG_WAIT_S, "caller_id": f'"回电" <{row.number}>',
                "channel_id": f"{leg}-a", "other_channel_id": f"{leg}-q",
                "variables": {"__CB_CALL": row.call_uniqueid or "", "__CB_QUEUE": row.queue,
                              "__CB_POSITION": position, "__CB_PRIORITY": str(row.priority),
                              "__CB_NUMBER": row.number, "__CB_RING_S": str(c.callback_ring_s),
                              "__CB_WAIT_S": str(LEG_WAIT_S - 60), "__CB_LEG": f"{leg}-q"}}

    def _not_reached(self, s: Session, row: Callback, status: str, at: datetime) -> None:
        retry = self.center.callers.revisit_retry_s if row.kind == "revisit" \
            else self.center.callers.callback_retry_s
        callbacks.not_reached(row, status, retry, at)
        log.info("callback not reached", callback=row.id, kind=row.kind, status=status,
                 state=row.state, attempts=row.attempts)
        if row.kind == "revisit" and row.revisit_id is not None:
            revisit = s.get(Revisit, row.revisit_id)
            if revisit is not None and not revisit.reached:
                self._record(s, revisit, "dialer", None,
                             f"外呼未接通（第{row.attempts}次）：{status}")

    def _record(self, s: Session, revisit: Revisit, by: str, score: int | None,
                note: str) -> None:
        """A try on the revisit record; the revisit stays on the worker's list it was on."""
        worker = revisit.assigned_to
        service.record_revisit(s, revisit, by, score is not None, score, note[:200],
                               timezone=self.center.timezone)
        revisit.assigned_to = worker

    # --- events --------------------------------------------------------------------------------

    async def _event(self, node: str, e: dict[str, Any]) -> None:
        if e.get("Event") == "OriginateResponse":
            self._originate_response(e)
            return
        if e.get("Event") == "QueueMemberAdded":
            self._seat_came(str(e.get("Queue", ""))[:40])
            return
        name = e.get("UserEvent", "")
        handler = getattr(self, f"_on_{name}", None)
        if handler is not None:
            await handler(node, e)

    def _seat_came(self, queue: str) -> None:
        """A seat signed in to `queue`: if it is open, its messages are called back now."""
        if queue not in {q.name for q in self.center.queues} or \
                seconds_until_open(self.center.hours_of(queue), self.clock) != 0.0:
            return
        with self.sessions.begin() as s:
            due_now = callbacks.seat_came(s, self.center.center_of_queue(queue), queue)
        if due_now:
            log.info("a seat came: messages to call back", queue=queue, callbacks=due_now)

    def _row(self, s: Session, e: dict[str, Any]) -> Callback | None:
        raw = str(e.get("Callback", ""))
        row = s.get(Callback, int(raw)) if raw.isdigit() else None
        return row if row is not None and row.center in self.center.codes else None

    def _originate_response(self, e: dict[str, Any]) -> None:
        m = ACTION.match(str(e.get("ActionID", "")))
        if m is None or e.get("Response") == "Success":
            return
        with self.sessions.begin() as s:
            row = s.get(Callback, int(m[2]))
            if row is None or row.leg != m[0] or row.state not in callbacks.OPEN:
                return
            reason = {"0": "failed", "1": "hung up", "3": "no answer", "5": "busy",
                      "8": "congestion"}.get(str(e.get("Reason", "")), str(e.get("Reason", "")))
            self._not_reached(s, row, f"not answered ({reason})", now_utc())

    async def _on_HotlineCallback(self, node: str, e: dict[str, Any]) -> None:
        uid, number = str(e.get("Uniqueid", "")), str(e.get("CallerIDNum", ""))
        try:
            position = int(str(e.get("Position", "")) or 0)
            prio = int(str(e.get("QueuePriority", "")) or 0)
        except ValueError:
            position, prio = 0, 0
        if not uid or not number.lstrip("+").isdigit():
            log.warning("callback asked without a number to call", uniqueid=uid)
            return
        with self.sessions.begin() as s:
            row = callbacks.request(s, self.center, node, uid, number, str(e.get("Queue", "")),
                                    position, prio)
            if row is None:
                return
            notify.callback_booked(s, self.center, number, row.id)
            row_id = row.id
        log.info("callback booked", callback=row_id, uniqueid=uid, position=position)
        if is_open(self.center.schedule(self.center.callers.calling_hours), self.clock.now()):
            await self._place(row_id)  # at once: the leg keeps the caller's place

    async def _on_HotlineMessage(self, node: str, e: dict[str, Any]) -> None:
        uid, number = str(e.get("Uniqueid", "")), str(e.get("CallerIDNum", ""))
        queue, reason = str(e.get("Queue", "")), str(e.get("Reason", ""))
        if not number.lstrip("+").isdigit():
            number = ""
        schedule = self.center.hours_of(queue) if queue else \
            self.center.schedule(self.center.callers.hours)
        wait = seconds_until_open(schedule, self.clock)
        due = now_utc() + timedelta(seconds=wait if wait is not None else 86400)
        with self.sessions.begin() as s:
            made = callbacks.message(s, self.center, node, uid, number, queue, reason,
                                     str(e.get("Recording", "")), due)
            if made is None:
                return
            order, row = made
            notify.order_accepted(s, self.center, order)
            if row is not None:
                notify.callback_booked(s, self.center, number, row.id, message=True)
            log.info("message taken", uniqueid=uid, order=order.id, reason=reason,
                     callback=row.id if row is not None else None)

    async def _on_HotlineCallbackDial(self, node: str, e: dict[str, Any]) -> None:
        with self.sessions.begin() as s:
            row = self._row(s, e)
            if row is not None:
                callbacks.dialling(row, str(e.get("Seat", "")))

    async def _on_HotlineCallbackReached(self, node: str, e: dict[str, Any]) -> None:
        with self.sessions.begin() as s:
            row = self._row(s, e)
            if row is not None:
                callbacks.reached(row)
                log.info("callback reached the caller", callback=row.id, seat=row.seat_id)

    async def _on_HotlineCallbackResult(self, node: str, e: dict[str, Any]) -> None:
        self._dial_result(e)

    def _dial_result(self, e: dict[str, Any]) -> None:
        """The caller's leg of a callback or a seat-mode revisit: answered is reached, anything
        else is retried."""
        status = str(e.get("Status", ""))
        with self.sessions.begin() as s:
            row = self._row(s, e)
            if row is None:
                return
            if status == "ANSWER":
                callbacks.reached(row)
            else:
                self._not_reached(s, row, f"caller {status or 'not reached'}", now_utc())

    async def _on_HotlineCallbackLegEnd(self, node: str, e: dict[str, Any]) -> None:
        with self.sessions.begin() as s:
            row = self._row(s, e)
            if row is not None and row.state == "holding":
                self._not_reached(s, row, f"left the queue ({e.get('Status', '')})", now_utc())

    async def _on_HotlineRevisit(self, node: str, e: dict[str, Any]) -> None:
        score = str(e.get("Score", ""))
        with self.sessions.begin() as s:
            row = self._row(s, e)
            if row is None or row.revisit_id is None or row.state not in callbacks.OPEN:
                return
            revisit = s.get(Revisit, row.revisit_id)
            if score in ("1", "2", "3", "4") and revisit is not None and not revisit.reached:
                self._record(s, revisit, "ivr", int(score), "外呼回访，按键评价")
                callbacks.reached(row)
                log.info("revisit rated by keypad", callback=row.id, revisit=revisit.id,
                         score=score)
            elif not score:
                self._not_reached(s, row, "answered, no rating", now_utc())

    async def _on_HotlineRevisitDial(self, node: str, e: dict[str, Any]) -> None:
        with self.sessions.begin() as s:
            row = self._row(s, e)
            if row is not None:
                callbacks.dialling(row, self.center.callers.revisit_seat)

    async def _on_HotlineRevisitResult(self, node: str, e: dict[str, Any]) -> None:
        """Seat mode: the revisit worker talked to the caller and records the result on the
        revisit page; not reached is retried."""
        self._dial_result(e)

    async def _on_HotlineAnnounce(self, node: str, e: dict[str, Any]) -> None:
        uid, queue = str(e.get("Call", ""))[:64], str(e.get("Queue", ""))[:40]
        try:
            position = int(str(e.get("Position", "")) or 0)
        except ValueError:
            return
        raw = str(e.get("Expected", ""))
        expected = float(raw) if raw.replace(".", "", 1).isdigit() else None
        if not uid or not queue or position < 1:
            return
        with self.sessions.begin() as s:
            told = s.get(WaitEstimate, (uid, queue))
            if told is None:
                s.add(WaitEstimate(uniqueid=uid, queue=queue,
                                   center=self.center.center_of_queue(queue),
                                   at=now_utc(), position=position, expected_s=expected,
                                   announcements=1))
            else:
                told.announcements += 1
