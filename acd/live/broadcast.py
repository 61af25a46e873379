"""The emergency broadcast (e.g. "heavy snow: these highway sections are closed"): set and
cleared by supervisors in Redis, read by the IVR on every call. Redis down: no broadcast,
logged, never a failed call."""

from __future__ import annotations

import unicodedata

import redis.asyncio as aioredis
from redis.exceptions import RedisError

from hotline.logs import get_logger

log = get_logger(__name__)


# What the IVR will speak (ivr/prompts.py checks the same again: Redis is not trusted).
MAX_CHARS = 500


def key(center: str) -> str:
    return f"hotline:{center}:broadcast"


class Broadcasts:
    def __init__(self, url: str | None, center: str) -> None:
        self.redis = aioredis.from_url(url, socket_timeout=0.5, socket_connect_timeout=0.5) \
            if url else None
        self.key = key(center)

    async def current(self, strict: bool = False, center: str | None = None) -> str | None:
        """The broadcast (of `center`, a center of the deployment: default this one's), or
        None; Redis down is None too (logged) unless `strict`."""
        if self.redis is None:
            return None
        try:
            value = await self.redis.get(key(center) if center else self.key)
        except (RedisError, OSError) as exc:
            if strict:
                raise
            log.warning("broadcast unavailable: redis", error=str(exc))
            return None
        return value.decode("utf-8") if value else None

    async def set(self, text: str) -> None:
        if self.redis is None:
            raise RuntimeError("no Redis configured")
        text = " ".join(text.split())  # line breaks and tabs are spaces to a listener
        if not text or len(text) > MAX_CHARS:
            raise ValueError(f"a broadcast is 1 to {MAX_CHARS} characters")
        if any(unicodedata.category(ch) in ("Cc", "Cf", "Cs", "Co", "Cn") for ch in text):
            raise ValueError("a broadcast is plain text: no control characters")
        await self.redis.set(self.key, text)

    async def clear(self) -> None:
        if self.redis is None:
            raise RuntimeError("no Redis configured")
        await self.redis.delete(self.key)

    async def close(self) -> None:
        if self.redis is not None:
            await self.redis.aclose()
