"""Blocked numbers and the platform's callbacks over the API (Bearer tokens), for supervisors
and admins:

    GET  /api/blocked                          the blocks in force and the audit trail
    POST /api/blocked {"number", "reason", "days"}          block a number (1-366 days)
    POST /api/blocked/{number}/lift {"reason"}              lift its block
    GET  /api/callbacks?state=waiting          the platform's calls out (callbacks, messages,
                                               revisits), latest first
    POST /api/callbacks/{id}/cancel            take a waiting callback off the list

Who did what is the token's name (`request[ACTOR]`), kept on the block's record. Each user or
token sees and acts on its own center's blocks and callbacks (`Actor.home`; another center's
callback is a 404); a block of any center is pushed to the nodes' one list (acd/callers/dialer.py).
"""

from __future__ import annotations

from aiohttp import web
from sqlalchemy import select

from acd.callers import blocklist, callbacks
from acd.callers.models import Callback
from acd.errors import Invalid, NotFound
from acd.seats.service import Actor
from acd.web.auth import ACTOR, allow
from acd.web.deps import CENTER, SESSIONS
from acd.web.errors import json_object

ROLES = ("supervisor", "admin")


def _fields(body: dict[str, object], allowed: set[str]) -> None:
    unknown = set(body) - allowed
    if unknown:
        raise Invalid(f"unknown field(s): {sorted(unknown)}")


@allow(*ROLES)
async def list_blocked(request: web.Request) -> web.Response:
    home = request[ACTOR].home(request.config_dict[CENTER])
    with request.config_dict[SESSIONS]() as s:
        return web.json_response({
            "active": [blocklist.view(b) for b in blocklist.active(s, home)],
            "history": [blocklist.view(b) for b in blocklist.history(s, home)]})


@allow(*ROLES)
async def block(request: web.Request) -> web.Response:
    actor: Actor = request[ACTOR]
    center = request.config_dict[CENTER]
    body = await json_object(request)
    _fields(body, {"number", "reason", "days"})
    with request.config_dict[SESSIONS].begin() as s:
        row = blocklist.block(s, actor.home(center), body.get("number", ""), body.get("reason"),
                              body.get("days"), actor.name)
        view = blocklist.view(row)
    return web.json_response(view, status=201)


@allow(*ROLES)
async def lift(request: web.Request) -> web.Response:
    actor: Actor = request[ACTOR]
    center = request.config_dict[CENTER]
    body = await json_object(request)
    _fields(body, {"reason"})
    with request.config_dict[SESSIONS].begin() as s:
        row = blocklist.lift(s, actor.home(center), request.match_info["number"], body.get("reason"),
                             actor.name)
        view = blocklist.view(row)
    return web.json_response(view)


@allow(*ROLES)
async def list_callbacks(request: web.Request) -> web.Response:
    center = request.config_dict[CENTER]
    state = request.query.get("state", "")
    if state and state not in (*callbacks.OPEN, *callbacks.FINAL):
        raise Invalid(f"state: one of {', '.join((*callbacks.OPEN, *callbacks.FINAL))}")
    with request.config_dict[SESSIONS]() as s:
        q = select(Callback).where(Callback.center == request[ACTOR].home(center)).order_by(
            Callback.id.desc()).limit(200)
        if state:
            q = q.where(Callback.state == state)
        return web.json_response({"callbacks": [callbacks.view(r) for r in s.scalars(q)]})


@allow(*ROLES)
async def cancel(request: web.Request) -> web.Response:
    actor: Actor = request[ACTOR]
    center = request.config_dict[CENTER]
    try:
        callback_id = int(request.match_info["id"])
    except ValueError:
        raise NotFound("no such callback") from None
    with request.config_dict[SESSIONS].begin() as s:
        row = callbacks.find(s, actor.home(center), callback_id)
        callbacks.cancel(row, actor.name)
        view = callbacks.view(row)
    return web.json_response(view)


ROUTES = [
    web.get("/blocked", list_blocked),
    web.post("/blocked", block),
    web.post("/blocked/{number}/lift", lift),
    web.get("/callbacks", list_callbacks),
    web.post("/callbacks/{id}/cancel", cancel),
]
