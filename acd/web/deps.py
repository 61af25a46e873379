"""What the web pages and the HTTP API are given (aiohttp `AppKey`s, read from any handler with
`request.config_dict[KEY]`), and the small part of the engine they use (`EngineView`).

Handlers are module-level functions; nothing is captured in closures. acd/web/app.py fills
these keys once, in `make_app`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Protocol

from aiohttp import web
from panoramisk import Manager
from sqlalchemy.orm import Session, sessionmaker

from acd.calls.state import CallState
from acd.seats.loans import LoanService
from acd.seats.service import SeatService
from acd.seats.state import SeatMachine
from hotline.center import Center


class EngineView(Protocol):
    """What the web needs of the engine (acd.engine.Engine is one)."""

    async def start(self) -> None: ...

    async def stop(self) -> None: ...

    def snapshot(self) -> dict[str, Any]:
        """Queues, seats and nodes as the wallboard shows them."""

    def manager(self, node: str) -> Manager | None:
        """The node's AMI connection while it is up."""

    def seat(self, seat_id: str) -> SeatMachine | None:
        """The seat as the engine follows it now."""

    def call(self, uniqueid: str) -> CallState | None:
        """A call in progress, else as the ledger has it."""

    def recordings_dirs(self) -> dict[str, Path | None]:
        """Each node's recordings directory, where the engine knows it."""


CENTER = web.AppKey("center", Center)
ENGINE = web.AppKey("engine", EngineView)  # type: ignore[type-abstract]
SESSIONS = web.AppKey("sessions", sessionmaker[Session])
REDIS_URL = web.AppKey("redis_url", str)  # "" without Redis
SEATS = web.AppKey("seats", SeatService)
LOANS = web.AppKey("loans", LoanService)  # seats lent between centers
SECRET = web.AppKey("secret", bytes)  # signs session cookies, keys the inspector's sample
