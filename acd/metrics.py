"""The engine's metrics for Prometheus (prometheus_client), and the small app that serves them.

    per queue, read from the live model at each scrape (a state with no seat reads 0):
      hotline_queue_waiting{queue}                 callers waiting now
      hotline_queue_longest_wait_seconds{queue}    the longest of them
      hotline_queue_seats{queue,state}             the queue's seats per state
      hotline_seats{state}                         the center's seats per state
      hotline_ami_up{node}, hotline_ami_events_total{node}
      hotline_ledger_backlog{node}                 changes kept in the journal, not yet in
                                                   the database (acd/history/writer.py)
      hotline_ledger_failures_total{node}          database writes refused (then retried)
    counted by the engine as events arrive (since the process started):
      hotline_queue_offered_total{queue}           entries into a queue (an overflowed call
                                                   counts in both queues)
      hotline_queue_answered_total{queue}          a seat took the call
      hotline_queue_abandoned_total{queue}         the caller hung up while waiting
      hotline_queue_wait_seconds{queue,outcome}    histogram: the wait of each finished stay
      hotline_ami_event_to_redis_seconds{node}     histogram: an event's Asterisk timestamp to
                                                   its change published in Redis
      hotline_ledger_write_seconds{node}           histogram: one ledger transaction
    and the process (CPU, memory, file descriptors, GC, Python) from prometheus_client.

The counters are not the province's figures (docs/indicators.md counts a call in its last
queue, from the ledger): they are for operators' dashboards and alerts.

`metrics_app` serves `/metrics` and `/healthz` on their own listen address (the center's
`[engine] metrics_host`/`metrics_port`, loopback by default); with `HOTLINE_METRICS_TOKEN` set,
`/metrics` wants `Authorization: Bearer <token>`.
"""

from __future__ import annotations

import hmac
from collections import OrderedDict
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from aiohttp import web
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    GCCollector,
    Histogram,
    PlatformCollector,
    ProcessCollector,
    generate_latest,
)
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric

from acd.calls.state import CallState, QueueOutcome
from acd.seats.state import SeatState

Snapshot = Callable[[], Mapping[str, Any]]

WAIT_BUCKETS = (1, 2, 5, 10, 15, 20, 25, 30, 45, 60, 90, 120, 180, 300, 600)
LAG_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10)
WRITE_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5)
ENDED_KEPT = 50_000  # about a busy day's calls
_FINAL = {QueueOutcome.ABANDONED: "abandoned", QueueOutcome.TIMEOUT: "timeout",
          QueueOutcome.EXIT_EMPTY: "exit_empty", QueueOutcome.EXIT_KEY: "exit_key",
          QueueOutcome.OVERFLOWED: "overflowed"}


class _LiveCollector:
    """Gauges read from the engine's snapshot when Prometheus scrapes."""

    def __init__(self, snapshot: Snapshot) -> None:
        self.snapshot = snapshot

    def collect(self) -> Iterable[Metric]:
        snap = self.snapshot()
        queues: Mapping[str, Any] = snap.get("queues", {})
        waiting = GaugeMetricFamily("hotline_queue_waiting", "Callers waiting in the queue now.",
                                    labels=["queue"])
        longest = GaugeMetricFamily("hotline_queue_longest_wait_seconds",
                                    "How long the first caller in the queue has waited.",
                                    labels=["queue"])
        seats = GaugeMetricFamily("hotline_queue_seats", "The queue's seats in each state.",
                                  labels=["queue", "state"])
        for name, q in sorted(queues.items()):
            waiting.add_metric([name], q.get("waiting_count", 0))
            longest.add_metric([name], q.get("longest_wait_s", 0.0))
            by_state = q.get("seats", {})
            for state in SeatState:
                seats.add_metric([name, state.value], by_state.get(state.value, 0))
        center = GaugeMetricFamily("hotline_seats", "The center's seats in each state.",
                                   labels=["state"])
        counts = {s.value: 0 for s in SeatState}
        for seat in snap.get("seats", {}).values():
            counts[seat["state"]] = counts.get(seat["state"], 0) + 1
        for name, n in counts.items():
            center.add_metric([name], n)
        up = GaugeMetricFamily("hotline_ami_up", "1 while the AMI connection to the node is up.",
                               labels=["node"])
        events = CounterMetricFamily("hotline_ami_events", "AMI events the engine applied.",
                                     labels=["node"])
        backlog = GaugeMetricFamily("hotline_ledger_backlog",
                                    "Changes kept in the journal, not yet in the database.",
                                    labels=["node"])
        failures = CounterMetricFamily("hotline_ledger_failures",
                                       "Database writes refused (then retried).",
                                       labels=["node"])
        for name, node in sorted(snap.get("nodes", {}).items()):
            up.add_metric([name], 1 if node.get("ami") == "up" else 0)
            events.add_metric([name], node.get("events", 0))
            ledger = node.get("ledger", {})
            backlog.add_metric([name], ledger.get("backlog", 0))
            failures.add_metric([name], ledger.get("failures", 0))
        yield from (waiting, longest, seats, center, up, events, backlog, failures)


class EngineMetrics:
    """One registry per engine (never the process-global one, so tests can hold several)."""

    def __init__(self, snapshot: Snapshot, queues: Iterable[str] = (),
                 nodes: Iterable[str] = ()) -> None:
        self.registry = CollectorRegistry()
        r = self.registry
        ProcessCollector(registry=r)
        PlatformCollector(registry=r)
        GCCollector(registry=r)
        r.register(_LiveCollector(snapshot))  # type: ignore[arg-type]
        self.offered = Counter("hotline_queue_offered", "Entries into the queue.", ["queue"],
                               registry=r)
        self.answered = Counter("hotline_queue_answered", "Calls a seat took from the queue.",
                                ["queue"], registry=r)
        self.abandoned = Counter("hotline_queue_abandoned",
                                 "Callers who hung up while waiting in the queue.", ["queue"],
                                 registry=r)
        self.wait = Histogram("hotline_queue_wait_seconds",
                              "The wait of each stay in a queue, by how it ended.",
                              ["queue", "outcome"], buckets=WAIT_BUCKETS, registry=r)
        self.lag = Histogram("hotline_ami_event_to_redis_seconds",
                             "From an AMI event's timestamp to its change published in Redis.",
                             ["node"], buckets=LAG_BUCKETS, registry=r)
        self.ledger_write = Histogram("hotline_ledger_write_seconds",
                                      "One ledger transaction (a batch of events).", ["node"],
                                      buckets=WRITE_BUCKETS, registry=r)
        for q in queues:  # every queue reads 0 from the start, not only after its first call
            for c in (self.offered, self.answered, self.abandoned):
                c.labels(q)
        for n in nodes:
            self.lag.labels(n)
            self.ledger_write.labels(n)
        self._counted: dict[str, dict[str, set[str]]] = {}  # uniqueid -> queue -> counted
        # Calls already ended and counted: an event after the hang-up (the survey's answer)
        # brings the call back from the ledger, and it must not count again.
        self._ended: OrderedDict[str, None] = OrderedDict()

    def calls(self, calls: Iterable[CallState]) -> None:
        """Count what the calls' stays did, each thing once per stay (a call appears in many
        batches): an entry when seen, an answer when answered, any other end when the call
        has ended (Asterisk may say Abandon and then the dialplan Timeout)."""
        for call in {id(c): c for c in calls}.values():  # CallState is unhashable
            if call.uniqueid in self._ended:
                continue
            done = self._counted.setdefault(call.uniqueid, {})
            for stay in call.stays.values():
                seen = done.setdefault(stay.queue, set())
                if "entered" not in seen:
                    seen.add("entered")
                    self.offered.labels(stay.queue).inc()
                if stay.outcome in (QueueOutcome.ANSWERED, QueueOutcome.TRANSFERRED) \
                        and "ended" not in seen:
                    seen.add("ended")
                    self.answered.labels(stay.queue).inc()
                    self.wait.labels(stay.queue, "answered").observe(stay.wait_s or 0.0)
                elif call.ended is not None and stay.outcome in _FINAL and "ended" not in seen:
                    seen.add("ended")
                    outcome = _FINAL[stay.outcome]
                    if stay.outcome is QueueOutcome.ABANDONED:
                        self.abandoned.labels(stay.queue).inc()
                    self.wait.labels(stay.queue, outcome).observe(stay.wait_s or 0.0)
            if call.ended is not None:
                self._counted.pop(call.uniqueid, None)
                self._ended[call.uniqueid] = None
                if len(self._ended) > ENDED_KEPT:
                    self._ended.popitem(last=False)

    def exposition(self) -> bytes:
        return generate_latest(self.registry)


async def _metrics(request: web.Request) -> web.Response:
    token: str = request.app[TOKEN]
    if token:
        given = request.headers.get("Authorization", "")
        if not hmac.compare_digest(given.encode(), f"Bearer {token}".encode()):
            return web.json_response({"error": "a bearer token is required"}, status=401,
                                     headers={"WWW-Authenticate": "Bearer"})
    return web.Response(body=request.app[METRICS].exposition(),
                        headers={"Content-Type": CONTENT_TYPE_LATEST})


async def _health(request: web.Request) -> web.Response:
    """200 while the engine runs; the body says which nodes' AMI is up."""
    nodes = request.app[HEALTH]()
    return web.json_response({"status": "ok", "nodes": nodes})


METRICS = web.AppKey("metrics", EngineMetrics)
TOKEN = web.AppKey("metrics_token", str)
HEALTH: web.AppKey[Callable[[], dict[str, str]]] = web.AppKey("health")


def metrics_app(metrics: EngineMetrics, health: Callable[[], dict[str, str]],
                token: str = "") -> web.Application:
    """`/metrics` (Prometheus text format) and `/healthz`, for their own listen address."""
    app = web.Application()
    app[METRICS] = metrics
    app[TOKEN] = token
    app[HEALTH] = health
    app.add_routes([web.get("/metrics", _metrics), web.get("/healthz", _health)])
    return app
