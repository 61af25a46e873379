"""The engine: one place that wires AMI, the live model, the ledger and Redis.

Per Asterisk node: one panoramisk connection and one ordered pipeline (an asyncio.Queue read by
one consumer task), so the events of a node are applied one at a time, in order. The consumer
never waits for the database: each batch's changes become one record of the node's journal
(acd/history/journal.py, in the state directory) and the node's writer thread takes the
records to the database, in order, retrying until it takes them (acd/history/writer.py). The
live model, Redis and the wallboard keep flowing while the database is slow, locked or down.

On every (re)connect the consumer first takes up what it missed, then goes on with events:

1. after a restart, what the ledger still has open (calls, each seat's interval, where
   queue_log was read to; `Ledger.resume`), once the journal left by the last run is applied;
2. queue_log from that position (acd/history/replay.py: the lines become the events Asterisk
   sent for them, through the same model, so a call that spans the outage gets its talk,
   wait, seat, wrap-up and end);
3. Asterisk as it is now: members (QueueStatus), callers waiting (its QueueEntry list) and the
   channels (CoreShowChannels); a call whose channel is gone ended while nobody listened (its
   Hangup was lost): it ends, no later than the last thing known of it.

While connected, the position in queue_log is saved once every event up to 2 s after the
moment it was measured has been applied (so a restart replays only what it missed), and the
channels are compared again every few minutes (a call whose hang-up never came is ended, so
memory does not grow). Every loss of the connection is an Outage row, from loss to reconnect.

Back-pressure: AMI frames wait in the node's queue; above `QUEUE_HIGH` the engine stops
reading the socket (Asterisk and the kernel hold the rest) until the queue is down to
`QUEUE_LOW`. The queue's largest depth and the journal's backlog are on the node's view.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from panoramisk import Manager
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from acd.ami import actions as ami
from acd.ami.events import Event, MalformedEvent
from acd.calls.state import CallState, QueueOutcome
from acd.history.journal import Journal
from acd.history.ledger import Ledger, Resume
from acd.history.models import Call, QueueCall
from acd.history.queue_log import Position, QueueLogError, read_from, size_of
from acd.history.replay import IMPORT_S, replay
from acd.history.writer import LedgerWriter
from acd.live.store import LiveStore, Snapshot
from acd.metrics import EngineMetrics
from acd.model import Changes, LiveModel
from acd.seats.loans import LoanKeeper
from acd.seats.state import SeatMachine, SeatState
from asterisk_conf.render import InstancePaths
from hotline.center import Center, Node
from hotline.logs import get_logger

log = get_logger(__name__)

_CONNECTED = "__connected__"
_LOST = "__lost__"
_SWEEP = "__sweep__"
_RESYNC = "__resync__"
_ROWS = "__rows__"

# Measured (RELIABILITY.md): the deepest the queue got in the shift with faults was 577 frames
# (629 in an earlier run), during the takes-up after a restart; the limits leave room for ten
# times that before reading pauses.
QUEUE_HIGH = 5000
QUEUE_LOW = 1000
PROBE_S = 10.0        # how often the queue_log position is measured
PROBE_MARGIN_S = 2.0  # ...and saved once events this much later have been applied
SWEEP_S = 300.0       # how often the channels are compared while connected
LOSS_MARGIN_S = 10.0  # on a lost connection, replay from a position measured this long before
ROWS_WAIT_S = 5.0     # open rows compared again this much later while the journal is behind


@dataclass
class NodeLink:
    """One node: its AMI connection, its pipeline, its ledger, journal and queue_log."""

    node: Node
    secret: str
    ledger: Ledger
    writer: LedgerWriter
    queue_log: Path | None
    queue: asyncio.Queue[Any] = field(default_factory=asyncio.Queue)
    manager: Manager | None = None
    connected: bool = False
    since: float = field(default_factory=time.time)
    events: int = 0
    malformed: int = 0  # frames refused as malformed (MalformedEvent): Asterisk's side
    failed: int = 0     # events whose handler raised anything else: a bug on our side
    backoff: float = 0.5
    # Taking up after a restart or an outage.
    resumed: bool = False                 # the ledger's open state was read back
    position: Position | None = None      # queue_log applied up to here
    import_since: float | None = None     # no position: the calls of queue_log since then
    replayed: bool = False                # the position is good (replayed since the connect)
    blind_since: float | None = None      # no events were seen from then until the connect
    probe: tuple[float, Position] | None = None
    # Positions saved since the connect, with when each was measured (the replay's own: 0).
    positions: deque[tuple[float, Position]] = field(default_factory=lambda: deque(maxlen=32))
    probed_at: float = 0.0
    last_event_at: float = 0.0
    cursor_at: float = 0.0
    queue_log_error: str = ""
    # Back-pressure, measured.
    queue_high: int = 0
    reading_paused: bool = False
    pauses: int = 0
    gone: set[str] = field(default_factory=set)  # calls without a channel at the last sweep


class Engine:
    def __init__(self, center: Center, sessions: sessionmaker[Session], secrets: dict[str, str],
                 redis_url: str | None, queue_logs: dict[str, Path | None],
                 journal_dir: Path | None = None,
                 metrics: EngineMetrics | None = None) -> None:
        self.center = center
        self.sessions = sessions
        self.metrics = metrics
        self.links: dict[str, NodeLink] = {}
        for n in center.nodes:
            ledger = Ledger(sessions, center.code, n.name, center)
            journal = Journal(journal_dir / f"{n.name}.jsonl" if journal_dir else None)
            writer = LedgerWriter(ledger, journal, timed=self._ledger_timed)
            self.links[n.name] = NodeLink(n, secrets[n.name], ledger, writer,
                                          queue_logs.get(n.name))
        self._ledger = next(iter(self.links.values())).ledger
        self.model = LiveModel(center)
        self.live = LiveStore(redis_url, center.code) if redis_url else None
        # Seats lent between the deployment's centers (acd/seats/loans.py): Asterisk's members
        # follow the loans recorded in the database.
        self.loans = LoanKeeper(center, sessions, self.manager) if center.hosted else None
        self._tasks: list[asyncio.Task[None]] = []
        self._seats_resumed = False
        self._today_loaded = False
        self.ready = asyncio.Event()

    # --- lifecycle -----------------------------------------------------------------------------

    def load_today(self, sessions: sessionmaker[Session]) -> None:
        """Today's counts per queue (the center's local day) from the ledger, so a restarted
        engine's wallboard does not start from zero. Blocking (reads the ledger)."""
        self._count_today(self._today_rows(sessions))

    def _today_rows(self, sessions: sessionmaker[Session]) -> list[Any]:
        tz = ZoneInfo(self.center.timezone)
        start = datetime.now(tz).replace(hour=0, minute=0, second=0, microsecond=0)
        since = start.astimezone(ZoneInfo("UTC")).replace(tzinfo=None)
        with sessions() as s:
            return list(s.execute(select(QueueCall.queue, QueueCall.outcome, QueueCall.wait_s,
                                         QueueCall.entered_at, QueueCall.talk_s,
                                         QueueCall.answered_at, Call.started_at,
                                         Call.callback_of)
                                  .join(Call, Call.uniqueid == QueueCall.uniqueid)
                                  .where(QueueCall.entered_at >= since,
                                         QueueCall.entered_at < since + timedelta(days=1))
                                  .order_by(QueueCall.entered_at)).all())

    def _count_today(self, rows: list[Any]) -> None:
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
            link.writer.start()
            self._tasks.append(loop.create_task(self._consume(link), name=f"pipeline-{link.node.name}"))
            self._connect(link)
            self._tasks.append(loop.create_task(self._watch_first_connect(link)))
            self._tasks.append(loop.create_task(self._sweeper(link)))
        if self.live is not None:
            self._tasks.append(loop.create_task(self.live.keeper(self.snapshot)))
            self._tasks.append(loop.create_task(self._node_watch()))
        if self.loans is not None:
            self._tasks.append(loop.create_task(self.loans.run(), name="seat-loans"))

    async def _node_watch(self, every_s: float = 1.0) -> None:
        """The nodes' views (AMI, the pipeline's queue, the ledger's backlog and errors) on
        the wallboard when they change."""
        shown: dict[str, dict[str, Any]] = {}
        while True:
            await asyncio.sleep(every_s)
            for name, link in self.links.items():
                view = self._node_view(link)
                moving = {k: v for k, v in view.items() if k != "events"}
                if shown.get(name) != moving:
                    shown[name] = moving
                    await self._publish_node(link)

    async def stop(self, drain_s: float = 10.0) -> None:
        for link in self.links.values():
            if link.manager is not None:
                link.manager.callbacks.clear()
                link.manager.on_disconnect = lambda *_: None
                link.manager.connection_lost = lambda *_: None  # type: ignore[method-assign]
                link.manager.close()
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        # What the database has not taken stays in the journal for the next start.
        for link in self.links.values():
            if not await asyncio.to_thread(link.writer.stop, drain_s):
                log.warning("stopping with changes the database has not taken; they stay in "
                            "the journal", node=link.node.name, backlog=link.writer.backlog)
            link.writer.journal.close()
        if self.live is not None:
            await self.live.close()

    async def drained(self, timeout: float = 30.0) -> bool:
        """Wait until every node's journal is in the database (tests, benchmarks)."""
        deadline = time.monotonic() + timeout
        while any(link.writer.backlog for link in self.links.values()):
            if time.monotonic() > deadline:
                return False
            for link in self.links.values():
                if link.writer._thread is None and link.writer.backlog:
                    link.writer._drain_once()
            await asyncio.sleep(0.05)
        return True

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
                          on_login=lambda m: self._enqueue(link, _CONNECTED),
                          on_disconnect=lambda m, exc: self._enqueue(link, (_LOST, str(exc))))
        manager.register_event("*", lambda m, message: self._enqueue(link, dict(message)))
        link.manager = manager
        manager.connect()

    def _enqueue(self, link: NodeLink, item: Any) -> None:
        link.queue.put_nowait(item)
        depth = link.queue.qsize()
        link.queue_high = max(link.queue_high, depth)
        if depth >= QUEUE_HIGH and not link.reading_paused:
            self._reading(link, False)

    def _reading(self, link: NodeLink, on: bool) -> None:
        """Pause or resume reading the node's AMI socket (back-pressure)."""
        protocol = getattr(link.manager, "protocol", None)
        transport = getattr(protocol, "transport", None)
        if transport is None or transport.is_closing():
            link.reading_paused = False
            return
        if on:
            transport.resume_reading()
        else:
            transport.pause_reading()
            link.pauses += 1
            log.warning("AMI reading paused: the pipeline is behind", node=link.node.name,
                        queued=link.queue.qsize())
        link.reading_paused = not on

    async def _watch_first_connect(self, link: NodeLink) -> None:
        """An engine that starts while Asterisk is down is in an outage from its start."""
        await asyncio.sleep(5)
        if not link.connected:
            self._journal(link, outages=[{"start": link.since,
                                          "reason": "not reachable since the engine started"}])

    async def _consume(self, link: NodeLink, batch_max: int = 500) -> None:
        """Apply events in order; what is already queued is applied as one batch and kept as
        one journal record, so a burst costs one record, not one per event."""
        while True:
            batch = [await link.queue.get()]
            while len(batch) < batch_max:
                try:
                    batch.append(link.queue.get_nowait())
                except asyncio.QueueEmpty:
                    break
            if link.reading_paused and link.queue.qsize() <= QUEUE_LOW:
                self._reading(link, True)
            await self._handle_batch(link, batch)

    async def _handle_batch(self, link: NodeLink, batch: list[Any]) -> None:
        pending = Changes()
        last: float | None = None
        newest: float | None = None  # the batch's latest event time (the Redis lag metric)
        for item in batch:
            try:
                if item in (_CONNECTED, _RESYNC, _ROWS) or (isinstance(item, tuple) and item
                                                            and item[0] in (_LOST, _SWEEP)):
                    await self._commit(link, pending, newest)
                    pending, newest = Changes(), None
                    if item == _CONNECTED:
                        await self._on_connected(link)
                    elif item == _RESYNC:
                        if link.connected:
                            await self._resync(link)
                    elif item == _ROWS:
                        if link.connected:
                            await self._open_rows(link)
                    elif item[0] == _LOST:
                        await self._on_lost(link, item[1])
                    else:
                        await self._end_gone(link, item[1], time.time())
                    continue
                event = Event.parse(item, link.node.name)
                link.events += 1
                newest = event.timestamp
                pending.merge(self.model.handle(event))
                if event.name != "HotlineWrapupOver":
                    last = event.timestamp
            except asyncio.CancelledError:
                raise
            except MalformedEvent as exc:
                link.malformed += 1
                log.warning("malformed event skipped", node=link.node.name, problem=str(exc))
            except Exception:
                link.failed += 1
                log.exception("event handler crashed; event skipped", node=link.node.name)
        if last is not None:
            link.last_event_at = max(link.last_event_at, last)
            pending.cursor = self._cursor(link, last)
        await self._commit(link, pending, newest)

    def _cursor(self, link: NodeLink, last: float) -> dict[str, Any] | None:
        """The cursor to save with this batch, if it is time: the last event applied and,
        once the engine has applied events PROBE_MARGIN_S past the moment it measured
        queue_log, that measure (every line before it was applied as an event)."""
        now = time.time()
        out: dict[str, Any] | None = None
        if link.replayed and link.probe is not None and last >= link.probe[0] + PROBE_MARGIN_S:
            link.position = link.probe[1]
            link.positions.append(link.probe)
            out = {"at": last, "inode": link.position.inode, "offset": link.position.offset}
            link.probe = None
        elif now - link.cursor_at >= PROBE_S:
            out = {"at": last}
        if out is not None:
            link.cursor_at = now
        if link.replayed and link.queue_log is not None and link.probe is None and \
                now - link.probed_at >= PROBE_S:
            measured = size_of(link.queue_log)
            if measured is not None:
                link.probe, link.probed_at = (now, measured), now
        return out

    # --- taking up what was missed ---------------------------------------------------------------

    async def _resume(self, link: NodeLink) -> None:
        """After a start: the last run's journal into the database, then what the ledger has
        open back into the model. Waits for the database (retrying) if it is down."""
        delay = 0.5
        while True:
            caught = await asyncio.to_thread(link.writer.caught_up.wait, 5.0)
            if caught and not link.writer.backlog:
                try:
                    state = await asyncio.to_thread(link.ledger.resume)
                    if not self._today_loaded:
                        self._count_today(await asyncio.to_thread(self._today_rows,
                                                                  self.sessions))
                        self._today_loaded = True
                    break
                except Exception as exc:  # noqa: BLE001 - the database is not there yet
                    log.warning("ledger not readable; retrying", node=link.node.name,
                                error=str(exc).splitlines()[0][:200])
            else:
                log.warning("waiting for the database to take the journal",
                            node=link.node.name, backlog=link.writer.backlog,
                            error=link.writer.last_error)
            await asyncio.sleep(delay)
            delay = min(5.0, delay * 2)
        self._take_up(link, state)
        link.resumed = True
        if self.live is not None:
            # What was taken up (seats, calls, the day's counts) changed no view by an event:
            # the keeper rewrites the snapshot whole.
            self.live.stale = True

    def _take_up(self, link: NodeLink, state: Resume) -> None:
        for call in state.calls:
            self.model.calls.setdefault(call.uniqueid, call)
        if not self._seats_resumed:
            self._seats_resumed = True
            wrapups = {q.name: q.wrapup_s for q in self.center.queues}
            for o in state.seats:
                seat = self.model.seats.setdefault(o.seat, SeatMachine(o.seat))
                if seat.state is not SeatState.SIGNED_OUT:
                    continue
                seat.state, seat.since, seat.queue, seat.uniqueid = (o.state, o.since, o.queue,
                                                                     o.uniqueid)
                seat.paused = o.state is SeatState.BUSY
                seat.reason = o.reason if seat.paused else ""
                if o.state is SeatState.WRAPUP:
                    seat.wrapup_until = o.since + wrapups.get(o.queue, 0)
                    self._wrapup_timer(link, seat.id, seat.wrapup_until)
        link.position = state.position
        link.blind_since = state.last_event_at
        if state.position is None:
            # A ledger that never followed this node: the calls of the last day of queue_log
            # (or from its cursor: every event before it was applied; a fresh ledger's cursor
            # is its start), not the seats' history.
            link.import_since = (state.last_event_at if state.last_event_at
                                 else time.time() - IMPORT_S)
        for call in state.closed:
            self.model.closed.setdefault(call.uniqueid, call)
            if any(s.outcome is QueueOutcome.CALLBACK for s in call.stays.values()):
                self.model.keep_called(call)

    async def _replay(self, link: NodeLink) -> Changes:
        """queue_log from the saved position through the model."""
        if link.queue_log is None:
            return Changes()
        try:
            lines, position = await asyncio.to_thread(read_from, link.queue_log, link.position)
        except QueueLogError as exc:
            link.queue_log_error = str(exc)
            log.error("queue_log not replayed", node=link.node.name, error=str(exc))
            return Changes()
        link.queue_log_error = ""
        now = time.time()
        importing = link.import_since is not None
        done = replay(self.model, lines, link.node.name, now, seats=not importing,
                      since=link.import_since or 0.0)
        link.position, link.import_since, link.replayed = position, None, True
        link.positions.clear()
        link.positions.append((0.0, position))
        done.changes.cursor = {"at": now, "inode": position.inode, "offset": position.offset}
        link.cursor_at = now
        log.info("queue_log replayed", node=link.node.name, path=str(link.queue_log),
                 lines=done.lines, applied=done.applied, calls=len(done.calls),
                 importing=importing)
        return done.changes

    async def _on_connected(self, link: NodeLink) -> None:
        now = time.time()
        link.connected, link.since, link.backoff = True, now, 0.5
        assert link.manager is not None
        link.manager.reconnect_timeout = 1
        if link.reading_paused:
            self._reading(link, True)  # the actions below need their answers read
        if not link.resumed:
            await self._resume(link)
        await self._commit(link, await self._replay(link))
        await self._resync(link)
        self._journal(link, outages=[{"end": now}])
        link.blind_since = None
        log.info("ami connected", node=link.node.name)
        await self._publish_node(link)
        self.ready.set()

    async def _on_lost(self, link: NodeLink, why: str) -> None:
        now = time.time()
        if link.connected:
            self._journal(link, outages=[{"start": now, "reason": why or "connection lost"}])
            link.blind_since = now
            # Events sent just before the loss may never have arrived (bytes in flight, an
            # Asterisk that stops): the next replay starts from a position measured well
            # before it (lines applied twice change nothing).
            safe = [p for t, p in link.positions if t <= now - LOSS_MARGIN_S]
            if safe and safe[-1] != link.position:
                link.position = safe[-1]
                link.writer.submit({"calls": [], "seats": [], "outages": [], "cursor": {
                    "at": link.last_event_at, "inode": link.position.inode,
                    "offset": link.position.offset}})
        link.connected, link.since = False, now
        link.replayed, link.probe = False, None
        # Back off: 1, 2, 4 ... 30 s between attempts (panoramisk reconnects on its own).
        if link.manager is not None:
            link.manager.reconnect_timeout = min(30, max(1, int(link.backoff * 2)))
            link.backoff = link.manager.reconnect_timeout
        log.warning("ami connection lost", node=link.node.name, reason=why)
        await self._publish_node(link)

    async def _resync(self, link: NodeLink) -> None:
        """Asterisk as it is now: its members, its waiting callers, its channels."""
        assert link.manager is not None
        try:
            state = await ami.queue_status(link.manager)
            live = await ami.channels(link.manager)
        except ami.AmiError as exc:
            # Asterisk is up but not answering yet (still loading, after a restart): again.
            log.warning("resync failed; trying again in 2 s", node=link.node.name,
                        error=str(exc))
            asyncio.get_running_loop().call_later(2.0, self._enqueue, link, _RESYNC)
            return
        now = time.time()
        seen: dict[str, set[str]] = {}
        for raw in state.members:
            raw.setdefault("Timestamp", str(now))
            event = Event.parse(raw, link.node.name)
            seen.setdefault(event.seat, set()).add(raw.get("Queue", ""))
            await self._apply(link, event)
        # Seats the engine believes signed in that Asterisk no longer has: signed out.
        for seat in list(self.model.seats.values()):
            gone = seat.queues - seen.get(seat.id, set())
            if seat.state is not SeatState.SIGNED_OUT and seat.id not in seen and not gone:
                gone = {seat.queue or self.center.queues[0].name}  # taken up, queues unknown
            for queue in sorted(gone):
                await self._apply(link, Event("QueueMemberRemoved",
                                              {"MemberName": seat.id, "Queue": queue,
                                               "Timestamp": str(now)}, link.node.name))
        # Callers waiting that the engine does not know of (queue_log said nothing yet).
        for entry in state.entries:
            uid, queue = entry.get("Uniqueid", ""), entry.get("Queue", "")
            call = self.model.calls.get(uid)
            if not uid or not queue or uid in self.model.closed or (
                    call is not None and queue in call.stays):
                continue
            wait = float(entry.get("Wait") or 0)
            await self._apply(link, Event("QueueCallerJoin", {
                "Uniqueid": uid, "Linkedid": entry.get("Linkedid", uid), "Queue": queue,
                "Position": entry.get("Position", "0"),
                "CallerIDNum": entry.get("CallerIDNum", ""),
                "Timestamp": str(now - wait)}, link.node.name))
        # Calls whose channel is gone ended while nobody listened: their Hangup was lost.
        channels = {c.uniqueid for c in live}
        await self._end_gone(link, [uid for uid in self._calls_of(link)
                                    if uid not in channels], now)
        # Then the ledger's own open rows, once what this resync wrote is in the database.
        self._enqueue(link, _ROWS)

    async def _open_rows(self, link: NodeLink) -> None:
        """The ledger's open rows that the model does not follow (older than the take-up
        horizon, or left open by a write that never came): a row whose channel is gone is
        ended at the last moment the ledger knows of it, and logged as ended unseen; a row
        whose channel is there is a call still up, left alone. Compared only with the journal
        in the database and the database answering (an end on its way there is no missing
        end; the pipeline never waits for the database): else again ROWS_WAIT_S later. The
        channels are listed here, in the pipeline, just before the rows are read: no row
        newer than them can be read."""
        loop = asyncio.get_running_loop()
        if link.writer.backlog or link.writer.last_error:
            loop.call_later(ROWS_WAIT_S, self._enqueue, link, _ROWS)
            return
        assert link.manager is not None
        try:
            channels = {c.uniqueid for c in await ami.channels(link.manager)}
            rows = await asyncio.to_thread(link.ledger.open_calls)
        except Exception as exc:  # noqa: BLE001 - Asterisk or the database away: later
            log.warning("open rows not compared; again later", node=link.node.name,
                        error=str(exc).splitlines()[0][:200])
            loop.call_later(ROWS_WAIT_S, self._enqueue, link, _ROWS)
            return
        now = time.time()
        for row in rows:
            uid = row.uniqueid
            if uid in channels or uid in self.model.calls:
                continue  # still up, or the model follows it (ended above if gone)
            closed = self.model.closed.get(uid)
            if closed is not None and closed.ended is not None:
                # Ended in the model, open in the ledger: its end is written again.
                log.info("call ended again in the ledger", node=link.node.name,
                         uniqueid=uid)
                await self._commit(link, Changes(calls=[closed]))
                continue
            self.model.calls[uid] = row
            await self._end_at(link, uid, min(now, row.last_seen))

    async def _end_at(self, link: NodeLink, uid: str, at: float) -> None:
        log.info("call ended while not seen", node=link.node.name, uniqueid=uid)
        await self._apply(link, Event("Hangup", {"Uniqueid": uid, "Timestamp": str(at)},
                                      link.node.name))

    def _calls_of(self, link: NodeLink) -> list[str]:
        prefix = f"{link.node.name}-"
        return [uid for uid in self.model.calls if uid.startswith(prefix)]

    async def _end_gone(self, link: NodeLink, uids: list[str], now: float) -> None:
        for uid in uids:
            call = self.model.calls.get(uid)
            if call is None:
                continue
            await self._end_at(link, uid, min(now, max(call.last_seen,
                                                       link.blind_since or 0.0)))

    async def _sweeper(self, link: NodeLink) -> None:
        """While connected, every SWEEP_S: a call whose channel has been gone for two sweeps
        in a row lost its Hangup; the pipeline ends it (memory stays bounded by the calls in
        progress)."""
        while True:
            await asyncio.sleep(SWEEP_S)
            if not link.connected or link.manager is None:
                continue
            try:
                live = {c.uniqueid for c in await ami.channels(link.manager)}
            except ami.AmiError:
                continue
            missing = {uid for uid in self._calls_of(link) if uid not in live}
            stale, link.gone = missing & link.gone, missing - link.gone
            if stale:
                self._enqueue(link, (_SWEEP, sorted(stale)))

    # --- applying -------------------------------------------------------------------------------

    async def _on_event(self, link: NodeLink, raw: Any) -> None:
        """One event on its own (a batch of one)."""
        await self._handle_batch(link, [raw])

    async def _apply(self, link: NodeLink, event: Event) -> None:
        await self._commit(link, self.model.handle(event))

    def _journal(self, link: NodeLink, outages: list[dict[str, Any]]) -> None:
        link.writer.submit({"calls": [], "seats": [], "cursor": None, "outages": outages})

    def _wrapup_timer(self, link: NodeLink, seat_id: str, due: float) -> None:
        asyncio.get_running_loop().call_later(
            max(0.0, due - time.time()), link.queue.put_nowait,
            {"Event": "HotlineWrapupOver", "MemberName": seat_id, "Timestamp": str(due)})

    def _ledger_timed(self, node: str, seconds: float) -> None:
        """One ledger transaction of the writer thread, timed (prometheus_client's metrics
        are thread-safe)."""
        if self.metrics is not None:
            self.metrics.ledger_write.labels(node).observe(seconds)

    async def _commit(self, link: NodeLink, changes: Changes,
                      event_at: float | None = None) -> None:
        if not changes and changes.cursor is None:
            return
        calls = {c.uniqueid: c for c in changes.calls}
        if calls or changes.seats or changes.spies or changes.cursor is not None:
            link.writer.submit({
                "calls": [c.to_dict() for c in calls.values()],
                "seats": [{"seat": t.seat, "new": t.new.value, "at": t.at, "reason": t.reason,
                           "queue": t.queue, "uniqueid": t.uniqueid} for t in changes.seats],
                "spies": [asdict(e) for e in changes.spies],
                "cursor": changes.cursor, "outages": []})
        if self.metrics is not None:
            self.metrics.calls(changes.calls)
        for seat_id, due in changes.wrapup_timers:
            self._wrapup_timer(link, seat_id, due)
        if self.live is not None:
            now = time.time()
            for name in sorted(changes.queues):
                await self.live.change("queue", name, self.model.queue_view(name, now))
            for seat_id in dict.fromkeys([*(t.seat for t in changes.seats),
                                          *sorted(changes.seat_views)]):
                await self.live.change("seat", seat_id, self.model.seats[seat_id].snapshot())
            if self.metrics is not None and event_at is not None and changes:
                self.metrics.lag.labels(link.node.name).observe(max(0.0, time.time() - event_at))

    async def _publish_node(self, link: NodeLink) -> None:
        if self.live is not None:
            await self.live.change("node", link.node.name, self._node_view(link))

    def _node_view(self, link: NodeLink) -> dict[str, Any]:
        return {"node": link.node.name, "ami": "up" if link.connected else "down",
                "since": round(link.since, 3), "events": link.events,
                "malformed": link.malformed, "failed": link.failed,
                "queued": link.queue.qsize(), "queued_high": link.queue_high,
                "reading_paused": link.pauses, "ledger": link.writer.stats(),
                "queue_log_error": link.queue_log_error}

    def manager(self, node: str) -> Manager | None:
        """The node's AMI connection while it is up (for actions), else None."""
        link = self.links.get(node)
        if link is None or link.manager is None or not link.connected:
            return None
        return link.manager

    def seat(self, seat_id: str) -> SeatMachine | None:
        return self.model.seats.get(seat_id)

    def call(self, uniqueid: str) -> CallState | None:
        """A call in progress, else as the ledger has it (blocking when it reads the ledger:
        callers on the event loop run it in a thread)."""
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
