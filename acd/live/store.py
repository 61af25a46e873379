"""The live snapshot in Redis, and every change published for the wallboard.

Keys (JSON values), for a center code C:

    hotline:C:queues    hash  queue name -> queue view (waiting callers, today's counts, seats)
    hotline:C:seats     hash  seat id    -> seat view (state, since, reason, calls today)
    hotline:C:nodes     hash  node name  -> {"ami": "up"|"down", "since": epoch}
    hotline:C:changes   channel: {"kind": "queue"|"seat"|"node", "data": {...}, "at": epoch}

Redis is a cache of the engine, never its truth: if it is gone, the engine keeps routing and
writing history, marks the snapshot stale, and rewrites it whole when Redis answers again.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable
from typing import Any

import redis.asyncio as aioredis
from redis.exceptions import RedisError

from hotline.logs import get_logger

log = get_logger(__name__)

Snapshot = dict[str, dict[str, dict[str, Any]]]  # {"queues": {...}, "seats": {...}, "nodes": {...}}


class LiveStore:
    def __init__(self, url: str, center: str) -> None:
        self.redis = aioredis.from_url(url, socket_timeout=1.0, socket_connect_timeout=1.0)
        self.prefix = f"hotline:{center}"
        self.stale = True  # nothing written yet
        self.published = 0
        # While stale: the latest view of each thing changed since the keeper took its
        # snapshot, written after the snapshot (a change made while the rewrite was under way
        # was lost, and Redis showed a seat in wrap-up for good).
        self._pending: dict[tuple[str, str], dict[str, Any]] = {}

    def key(self, kind: str) -> str:
        return f"{self.prefix}:{kind}"

    async def change(self, kind: str, name: str, data: dict[str, Any]) -> None:
        """Store one queue/seat/node view and publish it; on a Redis error, mark stale."""
        if self.stale:
            self._pending[(kind, name)] = data  # the keeper writes it after its snapshot
            return
        try:
            await self._write({(kind, name): data})
        except (RedisError, OSError) as exc:
            self._lost(exc)

    async def _write(self, views: dict[tuple[str, str], dict[str, Any]]) -> None:
        async with self.redis.pipeline(transaction=True) as pipe:
            for (kind, name), data in views.items():
                pipe.hset(self.key(f"{kind}s"), name, json.dumps(data, ensure_ascii=False))
                pipe.publish(self.key("changes"), json.dumps(
                    {"kind": kind, "name": name, "data": data, "at": round(time.time(), 3)},
                    ensure_ascii=False))
            await pipe.execute()
        self.published += len(views)

    def _lost(self, exc: BaseException) -> None:
        if not self.stale:
            log.warning("redis unavailable: live snapshot is stale until it returns",
                        error=str(exc))
        self.stale = True

    async def rewrite(self, snapshot: Snapshot) -> None:
        async with self.redis.pipeline(transaction=True) as pipe:
            for kind, items in snapshot.items():
                pipe.delete(self.key(kind))
                if items:
                    pipe.hset(self.key(kind), mapping={
                        k: json.dumps(v, ensure_ascii=False) for k, v in items.items()})
            pipe.publish(self.key("changes"), json.dumps({"kind": "snapshot",
                                                          "at": round(time.time(), 3)}))
            await pipe.execute()

    async def keeper(self, snapshot: Callable[[], Snapshot], interval: float = 1.0) -> None:
        """Forever: while the snapshot is stale, try to rewrite it whole."""
        while True:
            if self.stale:
                try:
                    await self.redis.ping()
                    # No await between these two: what changes from here on is newer than
                    # the snapshot, kept in _pending and written after it.
                    self._pending = {}
                    await self.rewrite(snapshot())
                    while self._pending:
                        newer, self._pending = self._pending, {}
                        await self._write(newer)
                    self.stale = False
                    log.info("redis live snapshot written")
                except (RedisError, OSError) as exc:
                    self._lost(exc)
            await asyncio.sleep(interval)

    async def close(self) -> None:
        await self.redis.aclose()


async def read_snapshot(url: str, center: str) -> Snapshot:
    """What a reader (the wallboard, a test) sees: every view, decoded."""
    r = aioredis.from_url(url)
    try:
        out: Snapshot = {}
        for kind in ("queues", "seats", "nodes"):
            raw = await r.hgetall(f"hotline:{center}:{kind}")
            out[kind] = {k.decode(): json.loads(v) for k, v in raw.items()}
        return out
    finally:
        await r.aclose()
