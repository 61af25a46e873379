"""The engine's web app and API without Asterisk (the back office needs none of it: orders,
units, 12345, the knowledge base), on a real database and a real port, and local receivers
standing in for 12345, the provincial platform and the SMS gateway."""

from __future__ import annotations

import asyncio
import dataclasses
import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any

from aiohttp import web
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from acd.api import tokens
from acd.history import db
from acd.web import users
from acd.web.app import make_app
from hotline.center import EXAMPLE, Center, load
from hotline.shell.simulate.ports import free_ports

PASSWORD = "correct horse"


def center(**exchange: Any) -> Center:
    """The example center, with these [exchange] settings (URLs of the local receivers)."""
    c = load(EXAMPLE)
    return dataclasses.replace(c, exchange=dataclasses.replace(c.exchange, **exchange))


def stub_engine() -> SimpleNamespace:
    """The engine as the back office sees it when Asterisk is not there: no seat on a call."""
    async def nothing() -> None:
        return None
    return SimpleNamespace(start=nothing, stop=nothing, snapshot=lambda: {},
                           manager=lambda node: None, seat=lambda seat: None,
                           call=lambda uid: None, recordings_dirs=dict)


@contextmanager
def serving(app: web.Application, port: int | None = None) -> Iterator[int]:
    """Serve an aiohttp app on a loopback port (a free one by default) from a thread of its
    own; the port."""
    port = port or free_ports(1)[0]
    loop = asyncio.new_event_loop()
    runner = web.AppRunner(app)
    ready = threading.Event()

    def run() -> None:
        asyncio.set_event_loop(loop)
        loop.run_until_complete(runner.setup())
        loop.run_until_complete(web.TCPSite(runner, "127.0.0.1", port).start())
        ready.set()
        loop.run_forever()

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    assert ready.wait(10), "the app did not start"
    try:
        yield port
    finally:
        asyncio.run_coroutine_threadsafe(runner.cleanup(), loop).result(10)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(10)
        loop.close()


@contextmanager
def back_office(engine: Engine, c: Center | None = None) -> Iterator[tuple[int, Center]]:
    """The web app and API on `engine`'s database: (port, center)."""
    c = c or center()
    app = make_app(stub_engine(), c, db.session_factory(engine), None, b"k" * 32,  # type: ignore[arg-type]
                   run_engine=False)
    with serving(app) as port:
        yield port, c


def token(engine: Engine, c: Center, name: str, role: str, seat: str = "",
          unit: str = "") -> str:
    return tokens.create(db.session_factory(engine), name, role, c.code, seat, unit)


def user(engine: Engine, c: Center, name: str, role: str, seat: str = "", unit: str = "") -> None:
    users.add(db.session_factory(engine), name, role, c.code, PASSWORD, seat, unit)


def sessions(engine: Engine) -> sessionmaker[Session]:
    return db.session_factory(engine)


@dataclass
class Receiver:
    """A local HTTP server standing in for 12345, the platform or the SMS gateway: it
    records every request, and answers with the statuses of `fail_with` first (then 200)."""

    port: int = 0
    fail_with: list[int] = field(default_factory=list)
    requests: list[dict[str, Any]] = field(default_factory=list)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/in"

    async def handle(self, request: web.Request) -> web.Response:
        body = await request.read()
        self.requests.append({"path": request.path, "key": request.headers.get("Idempotency-Key"),
                              "auth": request.headers.get("Authorization"),
                              "body": json.loads(body) if body else None})
        if self.fail_with:
            return web.json_response({"error": "not now"}, status=self.fail_with.pop(0))
        return web.json_response({"ok": True})

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_route("POST", "/{tail:.*}", self.handle)
        return app


@contextmanager
def receiver(fail_with: list[int] | None = None, port: int | None = None) -> Iterator[Receiver]:
    r = Receiver(fail_with=list(fail_with or []))
    with serving(r.app(), port) as p:
        r.port = p
        yield r


def unused_port() -> int:
    """A loopback port nothing listens on (a receiver that is down)."""
    return free_ports(1)[0]
