"""The back office's pages: the handling unit's (`/unit`, role unit: its orders, receive,
reply, return, extend, the overdue ones with their reminders) and the supervisors' (`/backoffice`:
overdue and soon-due orders with 催办, orders sent to another center or the level above). Their
data comes from the work-order routes under /web (acd/orders/http.py), whose every decision
about who may see and do what is acd/orders/access.py.

    GET /unit            the unit's page
    GET /backoffice      the supervisors' page
    GET /web/unit/me     the unit the logged-in user acts for (code, name, contact)
"""

from __future__ import annotations

from aiohttp import web

from acd.errors import NotFound
from acd.orders.http import WEB_ROUTES
from acd.seats.service import Actor
from acd.web.auth import ACTOR, allow
from acd.web.deps import CENTER
from acd.web.pages import page


@allow("unit", page=True)
async def unit_page(request: web.Request) -> web.Response:
    return page("unit.html", request)


@allow("supervisor", "admin", page=True)
async def backoffice_page(request: web.Request) -> web.Response:
    return page("backoffice.html", request)


@allow("unit")
async def unit_me(request: web.Request) -> web.Response:
    actor: Actor = request[ACTOR]
    unit = request.config_dict[CENTER].unit(actor.unit)
    if unit is None:
        raise NotFound(f"unit {actor.unit!r} is no longer in the center file")
    return web.json_response({"code": unit.code, "name": unit.name, "contact": unit.contact})


ROUTES = [
    web.get("/unit", unit_page),
    web.get("/backoffice", backoffice_page),
    web.get("/web/unit/me", unit_me),
    *WEB_ROUTES,
]
