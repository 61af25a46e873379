"""The engine's HTTP API (aiohttp), served by `hotline engine run`.

    GET  /api/live                          the live snapshot (queues, seats, nodes)
    GET  /api/metrics                       the engine's Prometheus metrics (acd/metrics.py), as
                                            on the metrics address, for token holders
    POST /api/seats/{seat}/signin           {"queues": [...]} optional
    POST /api/seats/{seat}/signout
    POST /api/seats/{seat}/busy             {"reason": "meal"}
    POST /api/seats/{seat}/ready
    POST /api/seats/{seat}/end-wrapup

Every request carries `Authorization: Bearer <token>` (`hotline engine token add`). A seat
acts on itself only; a supervisor on any seat of its center (acd/seats/service.py). Errors are
JSON, `{"error": "..."}`, their status chosen by the error's type (acd/web/errors.py): 400 (bad
input), 401 (no or unknown token), 403 (not allowed), 404 (no such seat), 409 (a refused
transition), 502 (Asterisk refused, did not answer, or is not connected).
Work orders and the knowledge base: acd/orders/http.py; revisits: acd/orders/revisits_http.py;
blocked numbers and the platform's callbacks: acd/callers/http.py.
"""

from __future__ import annotations

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST

from acd.callers import http as callers_http
from acd.metrics import METRICS
from acd.orders import http as orders_http
from acd.orders import revisits_http
from acd.web.auth import ACTOR, allow, tokens_middleware
from acd.web.deps import CENTER, ENGINE
from acd.web.loans import API_ROUTES as LOAN_ROUTES
from acd.web.scope import LiveScope
from acd.web.seats import seat_action

API_ROLES = ("seat", "supervisor", "admin")  # the roles a token can have


@allow(*API_ROLES)
async def live(request: web.Request) -> web.Response:
    """The live view of the token's center (acd/web/scope.py)."""
    scope = LiveScope(request.config_dict[CENTER], request[ACTOR])
    return web.json_response(scope.snapshot(request.config_dict[ENGINE].snapshot()))


@allow(*API_ROLES)
async def metrics(request: web.Request) -> web.Response:
    """The same exposition as the metrics address serves (kept for existing scrapers that
    hold an API token; new ones should scrape `[engine] metrics_host:metrics_port`)."""
    return web.Response(body=request.config_dict[METRICS].exposition(),
                        headers={"Content-Type": CONTENT_TYPE_LATEST})


ROUTES = [
    web.get("/live", live),
    web.get("/metrics", metrics),
    web.post("/seats/{seat}/{action}", seat_action),
    *orders_http.ROUTES,
    *revisits_http.ROUTES,
    *callers_http.ROUTES,
    *LOAN_ROUTES,
]


def make_api() -> web.Application:
    """The API, mounted at /api by acd/web/app.py (its keys are the parent app's)."""
    api = web.Application(middlewares=[tokens_middleware])
    api.add_routes(ROUTES)
    return api
