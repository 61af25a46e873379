"""The live snapshot in Redis (acd/live/store.py) against a real Redis: a change made while the
keeper rewrites the whole snapshot is not lost. It was: `change()` skipped writing while the
snapshot was stale, the keeper then wrote a snapshot taken before that change, and the soak
(issue 13) ended with Redis showing a seat in wrap-up for good."""

from __future__ import annotations

import asyncio

import pytest

from acd.live.store import LiveStore, read_snapshot

pytestmark = pytest.mark.redis


async def test_a_change_during_the_rewrite_is_written_after_it(redis_url: str) -> None:
    store = LiveStore(redis_url, "storetest")
    model = {"queues": {}, "seats": {"7006": {"state": "wrapup"}}, "nodes": {}}
    rewrite = store.rewrite

    async def slow_rewrite(snapshot):  # type: ignore[no-untyped-def]
        # The engine goes on while the rewrite waits for Redis: the seat's wrap-up ends.
        model["seats"]["7006"] = {"state": "ready"}
        await store.change("seat", "7006", {"state": "ready"})
        await rewrite(snapshot)

    store.rewrite = slow_rewrite  # type: ignore[method-assign]
    keeper = asyncio.create_task(store.keeper(
        lambda: {k: dict(v) for k, v in model.items()}, interval=0.05))
    try:
        for _ in range(100):
            if not store.stale:
                break
            await asyncio.sleep(0.05)
        assert not store.stale
        seen = await read_snapshot(redis_url, "storetest")
        assert seen["seats"]["7006"] == {"state": "ready"}, seen
        # Once fresh, a change is written at once.
        await store.change("seat", "7006", {"state": "busy"})
        assert (await read_snapshot(redis_url, "storetest"))["seats"]["7006"] == \
            {"state": "busy"}
    finally:
        keeper.cancel()
        await asyncio.gather(keeper, return_exceptions=True)
        await store.close()
