"""Seat actions over HTTP, one handler for the web pages (POST /web/seats/{seat}/{action}, with
the session's CSRF token) and the API (POST /api/seats/{seat}/{action}, with a token): both
hand the request to the seat service (acd/seats/service.py), which checks everything.

    signin      {"queues": [...]} optional: only these queues (another queue at a peak)
    signout
    busy        {"reason": "meal"}: one of the center's busy reasons
    ready
    end-wrapup
"""

from __future__ import annotations

from aiohttp import web

from acd.seats.service import Actor
from acd.web.auth import ACTOR, allow
from acd.web.deps import SEATS
from acd.web.errors import json_body


@allow("seat", "supervisor", "admin")
async def seat_action(request: web.Request) -> web.Response:
    actor: Actor = request[ACTOR]
    seat_id, action = request.match_info["seat"], request.match_info["action"]
    await request.config_dict[SEATS].act(actor, seat_id, action, await json_body(request, {}))
    return web.json_response({"seat": seat_id, "action": action, "done": True})
