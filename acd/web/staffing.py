"""The day's staffing plan beside the live advice on the wallboard: seats per queue and hour,
planned from the same day of last year (acd/history/traffic.py, acd/live/staffing.py).

    GET /web/staffing-plan[?day=YYYY-MM-DD]   the plan of a day (default: the center's today)

In a deployment of several centers, the queues of the actor's center (an admin of the
primary: every center's).
"""

from __future__ import annotations

import asyncio
from datetime import date

from aiohttp import web

from acd.errors import Invalid, Unavailable
from acd.history.traffic import plan_day
from acd.live.staffing import PlanError
from acd.seats.service import Actor
from acd.web.auth import ACTOR, allow
from acd.web.deps import CENTER, SESSIONS


@allow("supervisor", "admin")
async def staffing_plan(request: web.Request) -> web.Response:
    center = request.config_dict[CENTER]
    raw = request.query.get("day", "")
    try:
        day = date.fromisoformat(raw) if raw else center.today()
    except ValueError:
        raise Invalid("day: must be a date, YYYY-MM-DD") from None
    try:
        plan = await asyncio.to_thread(plan_day, request.config_dict[SESSIONS], center, day)
    except PlanError as exc:
        raise Unavailable(str(exc)) from None
    out = plan.as_dict()
    actor: Actor = request[ACTOR]
    if not actor.deployment_wide(center):  # the actor's center's queues only
        own = {q.name for q in center.queues_of(actor.home(center))}
        out["queues"] = {q: v for q, v in out["queues"].items() if q in own}  # type: ignore[attr-defined]
    return web.json_response(out)


ROUTES = [web.get("/web/staffing-plan", staffing_plan)]
