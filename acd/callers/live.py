"""What the IVR reads of the engine's live snapshot in Redis (acd/live/store.py's keys): one
queue's view and the seats. Redis down: nothing (logged), never a failed call."""

from __future__ import annotations

import json
from typing import Any

import redis.asyncio as aioredis
from redis.exceptions import RedisError

from hotline.logs import get_logger

log = get_logger(__name__)


class LiveReader:
    def __init__(self, url: str | None, center: str) -> None:
        self.redis = aioredis.from_url(url, socket_timeout=0.5, socket_connect_timeout=0.5) \
            if url else None
        self.prefix = f"hotline:{center}"

    async def queue_and_seats(self, queue: str) -> tuple[dict[str, Any] | None,
                                                         dict[str, dict[str, Any]]]:
        """(the queue's view or None, every seat's view); ({}, {}) without Redis."""
        if self.redis is None:
            return None, {}
        try:
            raw_queue = await self.redis.hget(f"{self.prefix}:queues", queue)
            raw_seats = await self.redis.hgetall(f"{self.prefix}:seats")
        except (RedisError, OSError) as exc:
            log.warning("live snapshot unavailable: redis", error=str(exc))
            return None, {}
        seats = {k.decode(): json.loads(v) for k, v in raw_seats.items()}
        return (json.loads(raw_queue) if raw_queue else None), seats

    async def close(self) -> None:
        if self.redis is not None:
            await self.redis.aclose()
