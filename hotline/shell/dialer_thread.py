"""The dialer (acd/callers/dialer.py) in a thread of its own, on its own event loop.

The dialer reads and writes the database synchronously between its AMI actions. In the
engine's loop, a slow or locked database would hold the engine's events, the wallboard and the
API for as long as the database's timeout (issue 13: no database work in the engine's loop).
It shares nothing with the engine but the center and the database's connection pool, so it
runs on a loop of its own, with its own AMI connections, in a thread that stops with the
engine.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable

from acd.callers.dialer import Dialer
from hotline.logs import get_logger

log = get_logger(__name__)


class DialerThread:
    def __init__(self, make: Callable[[], Dialer]) -> None:
        self._make = make  # called in the thread: the dialer's queue belongs to its loop
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None
        self._thread = threading.Thread(target=self._run, name="dialer", daemon=True)

    def start(self) -> None:
        self._thread.start()

    async def stop(self, timeout_s: float = 10.0) -> None:
        loop, stop = self._loop, self._stop
        if loop is not None and stop is not None and not loop.is_closed():
            try:
                loop.call_soon_threadsafe(stop.set)
            except RuntimeError:  # its loop ended meanwhile
                pass
        await asyncio.to_thread(self._thread.join, timeout_s)

    def _run(self) -> None:
        try:
            asyncio.run(self._main())
        except Exception:
            log.exception("dialer stopped")

    async def _main(self) -> None:
        self._stop = asyncio.Event()
        self._loop = asyncio.get_running_loop()
        dialer = self._make()
        await dialer.start()
        try:
            await self._stop.wait()
        finally:
            await dialer.stop()
