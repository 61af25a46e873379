"""The engine: one place that wires AMI, the live model, the ledger and Redis.

Per Asterisk node: one panoramisk connection and one ordered pipeline (an asyncio.Queue read by
one consumer task), so the events of a node are applied one at a time, in order. On every
(re)connect the consumer first replays queue_log from the node's cursor (what happened while
nobody listened), then asks Asterisk for its members (QueueStatus), then goes on with the
events. Every loss of the connection is an Outage row, from loss to reconnect.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from panoramisk import Manager
from sqlalchemy.orm import Session, sessionmaker

from acd.ami import actions as ami
from acd.ami.events import Event, MalformedEvent
from acd.calls.state import CallState
from acd.history import spy
from acd.history.ledger import Ledger
from acd.history.models import Call, QueueCall
from acd.history.replay import replay
from acd.live.store import LiveStore, Snapshot
from acd.metrics import EngineMetrics
from acd.model import Changes, LiveModel, QueueToday
from acd.seats.state import SeatMachine, SeatState
from asterisk_conf.render import InstancePaths
from hotline.center import Center, Node
from hotline.logs import get_logger

log = get_logger(__name__)

_CONNECTED = "__connected__"
_LOST = "__lost__"


@dataclass
class NodeLink:
    """One node: its AMI connection, its pipeline, its ledger and its queue_log."""

    node: Node
    secret: str
    ledger: Ledger
    queue_log: Path | None
    queue: asyncio.Queue[Any] = field(default_factory=asyncio.Queue)
    manager: Manager | None = None
    connected: bool = False
    since: float = field(default_factory=time.time)
    events: int = 0
    malformed: int = 0  # frames refused as malformed (MalformedEvent): Asterisk's side
    failed: int = 0     # events whose handler raised anything else: a bug on our side
    backoff: float = 0.5


class Engine:
    def __init__(self, center: Center, sessions: sessionmaker[Session], secrets: dict[str, str],
                 redis_url: str | None, queue_logs: dict[str, Path | None],
                 metrics: EngineMetrics | None = None) -> None:
        self.center = center
        self.metrics = metrics
        self.links = {n.name: NodeLink(n, secrets[n.name], Ledger(sessions, center.code, n.name),
                                       queue_logs.get(n.name)) for n in center.nodes}
        self._ledger = next(iter(self.links.values())).ledger
        self.model = LiveModel(center, load_call=self._ledger.load_call)
        self._sessions = sessions
        self.load_today(sessions)
        self.live = LiveStore(redis_url, center.code) if redis_url else None
        self._tasks: list[asyncio.Task[None]] = []
        self.ready = asyncio.Event()

    # --- lifecycle -----------------------------------------------------------------------------

    def load_today(self, sessions: sessionmaker[Session]) -> None:
        """Today's counts per queue (the center's local day) from the ledger, so a restarted
        engine's wallboard does not start from zero."""
        from datetime import datetime, timedelta
        from zoneinfo import ZoneInfo

        from sqlalchemy import select


        tz = ZoneInfo(self.center.timezone)
        start = datetime.now(tz).replace(hour=0, minute=0, second=0, microsecond=0)
        since = start.astimezone(ZoneInfo("UTC")).replace(tzinfo=None)
        with sessions() as s:
            rows = s.execute(select(QueueCall.queue, QueueCall.outcome, QueueCall.wait_s,
                                    QueueCall.entered_at, QueueCall.talk_s,
                                    QueueCall.answered_at, Call.started_at, Call.callback_of)
                             .join(Call, Call.uniqueid == QueueCall.uniqueid)
                             .where(QueueCall.entered_at >= since,
                                    QueueCall.entered_at < since + timedelta(days=1))
                             .order_by(QueueCall.entered_at)).all()
        utc = ZoneInfo("UTC")
        for queue, outcome, wait, entered, talk, answered, started, callback_of in rows:
            if outcome == "overflowed" or callback_of:
                continue  # counted in the queue it overflowed to; a callback's leg: its call's
            if outcome == "callback_answered" and answered:
                wait = (answered - entered).total_seconds()  # served when the callback reached it
            today = self.model._today(queue)
            today.entered(entered.replace(tzinfo=utc).timestamp())
            if talk is not None:
                today.talk_sum += talk
                today.talked += 1
            if outcome in ("answered", "transferred", "callback_answered"):
                today.answered += 1
                today.wait_sum += wait or 0.0
                today.arrival_wait_sum += (answered - started).total_seconds() \
                    if answered and started else wait or 0.0
                if (wait or 0.0) <= self.model._sl.get(queue, 10):
                    today.answered_within_sl += 1
            elif outcome == "abandoned":
                today.abandoned += 1

    async def start(self) -> None:
        loop = asyncio.get_running_loop()
        for link in self.links.values():
            self._tasks.append(loop.create_task(self._consume(link), name=f"pipeline-{link.node.name}"))
            self._connect(link)
            self._tasks.append(loop.create_task(self._watch_first_connect(link)))
        if self.live is not None:
            self._tasks.append(loop.create_task(self.live.keeper(self.snapshot)))

    async def stop(self) -> None:
        for link in self.links.values():
            if link.manager is not None:
                link.manager.callbacks.clear()
                link.manager.on_disconnect = lambda *_: None
                link.manager.connection_lost = lambda *_: None  # type: ignore[method-assign]
                link.manager.close()
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        if self.live is not None:
            await self.live.close()

    async def run_forever(self) -> None:
        await self.start()
        try:
            await asyncio.Event().wait()
        finally:
            await self.stop()

    # --- AMI -----------------------------------------------------------------------------------

    def _connect(self, link: NodeLink) -> None:
        n = link.node
        manager = Manager(host=n.bind, port=n.ami_port, username=n.ami_user, secret=link.secret,
                          ping_delay=5, ping_interval=5, reconnect_timeout=1,
                          loop=asyncio.get_running_loop(),
                          on_login=lambda m: link.queue.put_nowait(_CONNECTED),
                          on_disconnect=lambda m, exc: link.queue.put_nowait((_LOST, str(exc))))
        manager.register_event("*", lambda m, message: link.queue.put_nowait(dict(message)))
        link.manager = manager
        manager.connect()

    async def _watch_first_connect(self, link: NodeLink) -> None:
        """An engine that starts while Asterisk is down is in an outage from its start."""
        await asyncio.sleep(5)
        if not link.connected:
            link.ledger.outage_started(link.since, "not reachable since the engine started")

    async def _consume(self, link: NodeLink, batch_max: int = 500) -> None:
        """Apply events in order; what is already queued is applied as one batch and written
        in one transaction, so a burst costs one commit, not one per event."""
        while True:
            batch = [await link.queue.get()]
            while len(batch) < batch_max:
                try:
                    batch.append(link.queue.get_nowait())
                except asyncio.QueueEmpty:
                    break
            await self._handle_batch(link, batch)

    async def _handle_batch(self, link: NodeLink, batch: list[Any]) -> None:
        pending = Changes()
        newest: float | None = None  # the batch's latest event time (the Redis lag metric)
        for item in batch:
            try:
                if item == _CONNECTED or (isinstance(item, tuple) and item and item[0] == _LOST):
                    await self._commit(link, pending, newest)
                    pending, newest = Changes(), None
                    if item == _CONNECTED:
                        await self._on_connected(link)
                    else:
                        await self._on_lost(link, item[1])
                    continue
                event = Event.parse(item, link.node.name)
                link.events += 1
                newest = event.timestamp
                pending.merge(self.model.handle(event))
                if link.events % 200 == 0:
                    pending.cursor = event.timestamp - 60
            except asyncio.CancelledError:
                raise
            except MalformedEvent as exc:
                link.malformed += 1
                log.warning("malformed event skipped", node=link.node.name, problem=str(exc))
            except Exception:
                link.failed += 1
                log.exception("event handler crashed; event skipped", node=link.node.name)
        try:
            await self._commit(link, pending, newest)
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("ledger write failed", node=link.node.name)

    async def _on_connected(self, link: NodeLink) -> None:
        now = time.time()
        link.connected, link.since, link.backoff = True, now, 0.5
        assert link.manager is not None
        link.manager.reconnect_timeout = 1
        if link.queue_log is not None:
            since = link.ledger.cursor()
            if replay(link.ledger, link.queue_log, since if since is not None else now - 86400):
                # Calls answered while nobody listened count in today's figures too.
                self.model.today = {q.name: QueueToday() for q in self.center.queues}
                self.load_today(self._sessions)
        await self._resync(link)
        link.ledger.outage_ended(now)
        link.ledger.advance_cursor(now)
        log.info("ami connected", node=link.node.name)
        await self._publish_node(link)
        self.ready.set()

    async def _on_lost(self, link: NodeLink, why: str) -> None:
        now = time.time()
        if link.connected:
            link.ledger.outage_started(now, why or "connection lost")
        link.connected, link.since = False, now
        # Back off: 1, 2, 4 ... 30 s between attempts (panoramisk reconnects on its own).
        if link.manager is not None:
            link.manager.reconnect_timeout = min(30, max(1, int(link.backoff * 2)))
            link.backoff = link.manager.reconnect_timeout
        log.warning("ami connection lost", node=link.node.name, reason=why)
        await self._publish_node(link)

    async def _resync(self, link: NodeLink) -> None:
        """Asterisk's members as they are now; signed-in seats the engine did not see come."""
        assert link.manager is not None
        state = await ami.queue_status(link.manager)
        seen: dict[str, set[str]] = {}
        for raw in state.members:
            raw.setdefault("Timestamp", str(time.time()))
            event = Event.parse(raw, link.node.name)
            seen.setdefault(event.seat, set()).add(raw.get("Queue", ""))
            await self._apply(link, event)
        # Seats the engine believes signed in that Asterisk no longer has: signed out.
        now = time.time()
        for seat in self.model.seats.values():
            gone = seat.queues - seen.get(seat.id, set())
            for queue in sorted(gone):
                await self._apply(link, Event("QueueMemberRemoved",
                                              {"MemberName": seat.id, "Queue": queue,
                                               "Timestamp": str(now)}, link.node.name))

    async def _on_event(self, link: NodeLink, raw: Any) -> None:
        """One event on its own (a batch of one)."""
        await self._handle_batch(link, [raw])

    async def _apply(self, link: NodeLink, event: Event) -> None:
        await self._commit(link, self.model.handle(event))

    async def _commit(self, link: NodeLink, changes: Changes,
                      event_at: float | None = None) -> None:
        if not changes and changes.cursor is None:
            return
        started = time.perf_counter()
        link.ledger.write(changes.calls, changes.seats, changes.cursor)
        if self.metrics is not None:
            self.metrics.ledger_write.labels(link.node.name).observe(
                time.perf_counter() - started)
            self.metrics.calls(changes.calls)
        if changes.spies:
            spy.record(link.ledger.sessions, self.center.code, link.node.name, changes.spies)
        loop = asyncio.get_running_loop()
        for seat_id, due in changes.wrapup_timers:
            delay = max(0.0, due - time.time())
            loop.call_later(delay, link.queue.put_nowait,
                            {"Event": "HotlineWrapupOver", "MemberName": seat_id,
                             "Timestamp": str(due)})
        if self.live is not None:
            now = time.time()
            for name in sorted(changes.queues):
                await self.live.change("queue", name, self.model.queue_view(name, now))
            for seat_id in dict.fromkeys(t.seat for t in changes.seats):
                await self.live.change("seat", seat_id, self.model.seats[seat_id].snapshot())
            if self.metrics is not None and event_at is not None and changes:
                self.metrics.lag.labels(link.node.name).observe(max(0.0, time.time() - event_at))

    async def _publish_node(self, link: NodeLink) -> None:
        if self.live is not None:
            await self.live.change("node", link.node.name, self._node_view(link))

    def _node_view(self, link: NodeLink) -> dict[str, Any]:
        return {"node": link.node.name, "ami": "up" if link.connected else "down",
                "since": round(link.since, 3), "events": link.events,
                "malformed": link.malformed, "failed": link.failed}

    def manager(self, node: str) -> Manager | None:
        """The node's AMI connection while it is up (for actions), else None."""
        link = self.links.get(node)
        if link is None or link.manager is None or not link.connected:
            return None
        return link.manager

    def seat(self, seat_id: str) -> SeatMachine | None:
        return self.model.seats.get(seat_id)

    def call(self, uniqueid: str) -> CallState | None:
        """A call in progress, else as the ledger has it."""
        return self.model.calls.get(uniqueid) or self._ledger.load_call(uniqueid)

    def recordings_dirs(self) -> dict[str, Path | None]:
        """Each node's recordings directory. The engine knows a node's instance only through
        the queue_log it replays (`<base>/log/queue_log`), so the instance's base is two levels
        up and its recordings are where the rig's layout puts them."""
        return {name: None if link.queue_log is None else
                Path(InstancePaths(str(link.queue_log.parent.parent)).recordings)
                for name, link in self.links.items()}

    # --- views ---------------------------------------------------------------------------------

    def snapshot(self) -> Snapshot:
        now = time.time()
        names = {q.name for q in self.center.queues} | set(self.model.today)
        return {
            "queues": {q: self.model.queue_view(q, now) for q in sorted(names)},
            "seats": {s.id: s.snapshot() for s in self.model.seats.values()},
            "nodes": {name: self._node_view(link) for name, link in self.links.items()},
        }

    def seats_in(self, state: SeatState) -> list[str]:
        return sorted(s.id for s in self.model.seats.values() if s.state is state)
