"""Seats lent between the deployment's centers, over HTTP (acd/seats/loans.py checks
everything): the wallboard's 座席借调 panel (/web/..., with the session's CSRF token) and the API
(/api/..., with a token).

    GET  /web/loans              current loans, the centers, seats and queues to choose from
    POST /web/loans              {"seats": ["8001"], "to": "huludao", "queues": [...]
                                  (optional), "hours": 8 | "until": "2026-10-01T20:00"}
    POST /web/loans/return       {"seats": ["8001"]}
    GET|POST /api/loans, POST /api/loans/return: the same for tokens

Who may: supervisors and admins lend and return their own center's seats and see the loans
to and from it, an admin of the primary center any seat and every loan.
"""

from __future__ import annotations

import asyncio
from typing import Any

from aiohttp import web

from acd.seats.loans import LoanService
from acd.seats.service import Actor
from acd.web.auth import ACTOR, allow
from acd.web.deps import CENTER, LOANS
from acd.web.errors import json_object

ROLES = ("supervisor", "admin")


def _view(request: web.Request, loans: list[Any]) -> dict[str, Any]:
    center = request.config_dict[CENTER]
    return {"loans": [loan.as_dict(center) for loan in loans]}


@allow(*ROLES)
async def list_loans(request: web.Request) -> web.Response:
    """The loans to and from the actor's center (an admin of the primary: every loan); the
    centers to lend to with their queues, and the seats the actor may lend."""
    actor: Actor = request[ACTOR]
    center = request.config_dict[CENTER]
    service: LoanService = request.config_dict[LOANS]
    every = request.query.get("all", "") == "1"
    wide = actor.deployment_wide(center)
    loans = await asyncio.to_thread(service.loans, not every, 200,
                                    None if wide else actor.home(center))
    out = _view(request, loans)
    out["centers"] = [{"code": c, "name": center.center_name(c),
                       "queues": [{"name": q.name, "title": q.title}
                                  for q in center.queues_of(c)],
                       "seats": [s.id for s in center.seats_of(c)
                                 if wide or c == actor.home(center)]} for c in center.codes]
    return web.json_response(out)


@allow(*ROLES)
async def lend(request: web.Request) -> web.Response:
    actor: Actor = request[ACTOR]
    body = await json_object(request)
    service: LoanService = request.config_dict[LOANS]
    until = body.get("until")
    loans = await asyncio.to_thread(
        service.lend, actor, body.get("seats"), body.get("to"), body.get("queues"),
        until if until is None or isinstance(until, str) else repr(until)[:40],
        body.get("hours"))
    return web.json_response(_view(request, loans))


@allow(*ROLES)
async def give_back(request: web.Request) -> web.Response:
    actor: Actor = request[ACTOR]
    body = await json_object(request)
    service: LoanService = request.config_dict[LOANS]
    loans = await asyncio.to_thread(service.return_, actor, body.get("seats"))
    return web.json_response(_view(request, loans))


WEB_ROUTES = [web.get("/web/loans", list_loans), web.post("/web/loans", lend),
              web.post("/web/loans/return", give_back)]
API_ROUTES = [web.get("/loans", list_loans), web.post("/loans", lend),
              web.post("/loans/return", give_back)]
