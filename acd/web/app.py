"""The engine's web app: the pages (login, wallboard, seat console, inspector) and, under /api,
the HTTP API, served by `hotline engine run`.

`make_app` is the whole of it: the dependencies go into `AppKey`s (acd/web/deps.py), the
routes come from each module's flat `ROUTES` table, two middlewares run on every request
(refusals to HTTP statuses, then the web session), and the engine is started and stopped with
the app (`cleanup_ctx`), so a shutdown lets the engine finish its work last.

Security (SECURITY.md): passwords hashed with argon2id; a signed session cookie (HttpOnly,
SameSite=Strict, Secure behind HTTPS) naming the user's session version, so logout, reset and
revoke end it everywhere, open WebSockets included; a CSRF token, bound to the session,
required on every state-changing request; login attempts rate-limited per user and address;
every route declares the roles that may use it (acd/web/auth.py::allow); every response
carries the security headers (a CSP without inline scripts, no framing). Pages put data into
the DOM as text only (never as HTML).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

from aiohttp import web
from sqlalchemy.orm import Session, sessionmaker

from acd.api.http import make_api
from acd.metrics import METRICS, EngineMetrics
from acd.orders import revisits_http
from acd.outbox import sender
from acd.seats.loans import LoanService
from acd.seats.service import SeatService
from acd.web import (
    admin,
    backoffice,
    broadcast,
    console,
    inspector,
    pages,
    quality,
    spy,
    staffing,
    trend,
)
from acd.web.auth import (
    COOKIES,
    LIMITER,
    LoginLimiter,
    Sessions,
    security_headers,
    sessions_middleware,
)
from acd.web.deps import CENTER, ENGINE, LOANS, REDIS_URL, SEATS, SECRET, SESSIONS, EngineView
from acd.web.errors import refusals
from acd.web.loans import WEB_ROUTES as LOAN_ROUTES
from acd.web.seats import seat_action
from hotline.center import Center

ROUTES = [
    *pages.ROUTES,
    web.post("/web/seats/{seat}/{action}", seat_action),
    *broadcast.ROUTES,
    *console.ROUTES,
    *inspector.ROUTES,
    *spy.ROUTES,
    *trend.ROUTES,
    *quality.ROUTES,
    *admin.ROUTES,
    *backoffice.ROUTES,
    *revisits_http.WEB_ROUTES,
    *staffing.ROUTES,
    *LOAN_ROUTES,
]


async def _run_outbox(app: web.Application) -> AsyncIterator[None]:
    """Messages to 12345, the platform and the SMS gateway, delivered in the background."""
    task = asyncio.create_task(sender.run(app[SESSIONS], app[CENTER]))
    yield
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task


async def _run_engine(app: web.Application) -> AsyncIterator[None]:
    engine = app[ENGINE]
    await engine.start()
    yield
    await engine.stop()


def make_app(engine: EngineView, center: Center, sessions: sessionmaker[Session],
             redis_url: str | None, secret: bytes, run_engine: bool = True,
             metrics: EngineMetrics | None = None) -> web.Application:
    """The web pages and the API for this engine. `run_engine`: start the engine with the app
    and stop it after (False when someone else runs it, as the route-walking test does).
    `metrics`: the engine's (its counters and histograms); without, /api/metrics has the
    live gauges and the process only."""
    app = web.Application(middlewares=[refusals, sessions_middleware])
    app[METRICS] = metrics or EngineMetrics(lambda: engine.snapshot(),
                                            [q.name for q in center.queues],
                                            [n.name for n in center.nodes])
    app[CENTER] = center
    app[ENGINE] = engine
    app[SESSIONS] = sessions
    app[REDIS_URL] = redis_url or ""
    app[SECRET] = secret
    app[SEATS] = SeatService(center, engine.manager, engine.seat)
    app[LOANS] = LoanService(center, sessions)
    app[COOKIES] = Sessions(secret)
    app[LIMITER] = LoginLimiter()
    app[inspector.INSPECTOR] = inspector.Inspector(center, sessions, engine.recordings_dirs(),
                                                   secret)
    app[quality.SHEET] = quality.sheet_of(center)
    app.on_response_prepare.append(security_headers)
    app.add_routes(ROUTES)
    app.add_subapp("/api", make_api())
    if run_engine:
        app.cleanup_ctx.append(_run_engine)
        x = center.exchange
        if x.hotline12345_url or x.platform_url or x.sms_url:
            app.cleanup_ctx.append(_run_outbox)
    return app
