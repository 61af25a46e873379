"""What the IVR reads of the engine's live snapshot in Redis (acd/live/store.py's keys): the
queues' and the seats' views. Redis down: nothing (logged), never a failed call."""

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

    async def views_and_seats(self) -> tuple[dict[str, dict[str, Any]],
                                             dict[str, dict[str, Any]]]:
        """(every queue's view, every seat's view), read together; ({}, {}) without Redis."""
        if self.redis is None:
            return {}, {}
        try:
            async with self.redis.pipeline(transaction=True) as pipe:
                pipe.hgetall(f"{self.prefix}:queues")
                pipe.hgetall(f"{self.prefix}:seats")
                raw_queues, raw_seats = await pipe.execute()
        except (RedisError, OSError) as exc:
            log.warning("live snapshot unavailable: redis", error=str(exc))
            return {}, {}
        return ({k.decode(): json.loads(v) for k, v in raw_queues.items()},
                {k.decode(): json.loads(v) for k, v in raw_seats.items()})

    async def close(self) -> None:
        if self.redis is not None:
            await self.redis.aclose()
