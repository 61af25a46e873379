"""Revisits (抽查回访) over HTTP: the day's list per revisit worker, the sampler, the result of
each call back. The same handlers serve the API (`/api/revisits...`, a Bearer token) and the
revisit page (`/web/revisits...`, a web session; the page itself is `/revisit`).

    GET  /api/revisits?day=YYYY-MM-DD[&worker=NAME]   the day's list (a worker: their own)
    POST /api/revisits/sample {"day": ...}             draw the day's list (idempotent)
    POST /api/revisits/{id} {"reached": true, "satisfaction": 1-4, "note": "..."}

Who: the revisit role (回访员) sees and records the revisits on its own list and those on
nobody's (recording one puts it on theirs); supervisors and admins all of the center's. Days
are the center's (`center.timezone`); times are shown in it. A worker calls the caller back,
so the caller's number is shown in full, to those who may see the revisit only.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web
from sqlalchemy import select

from acd.errors import Invalid, NotFound
from acd.orders import service
from acd.orders.models import Revisit
from acd.seats.service import Actor
from acd.web.auth import ACTOR, allow
from acd.web.deps import CENTER, SESSIONS
from acd.web.errors import json_object
from acd.web.users import WebUser
from hotline.center import DOMAINS, ORDER_TYPES
from hotline.localtime import parse_day, to_local

ROLES = ("revisit", "supervisor", "admin")
STATUS_TITLES = {"accepted": "待转办", "transferred": "办理中", "returned": "已退回",
                 "replied": "已回复", "closed": "已办结", "archived": "已归档",
                 "not_accepted": "不予受理"}
RESULT_FIELDS = {"reached", "satisfaction", "note"}


def _local(t: Any, timezone: str) -> str | None:
    return None if t is None else to_local(t, timezone).isoformat(timespec="minutes")


def revisit_view(r: Revisit, timezone: str) -> dict[str, Any]:
    o = r.order
    return {"id": r.id, "order_id": o.id, "sampled_on": r.sampled_on.isoformat(),
            "assigned_to": r.assigned_to,
            "order": {"type": o.type, "type_title": ORDER_TYPES.get(o.type, o.type),
                      "domain": o.domain, "domain_title": DOMAINS.get(o.domain, o.domain),
                      "status": o.status, "status_title": STATUS_TITLES.get(o.status, o.status),
                      "content": o.content, "subject": o.subject,
                      "handling_unit": o.handling_unit, "reply": o.reply,
                      "caller_number": o.caller_number, "caller_name": o.caller_name,
                      "replied_at": _local(o.replied_at, timezone)},
            "done_at": _local(r.done_at, timezone), "reached": r.reached,
            "satisfaction": r.satisfaction,
            "satisfaction_title": service.SATISFACTION.get(r.satisfaction or 0, ""),
            "notes": r.notes, "by": r.by}


def _worker(actor: Actor) -> str | None:
    """Whose list the actor sees: a revisit worker their own; others all (None)."""
    return actor.name if actor.role == "revisit" else None


def _day(request: web.Request, text: Any) -> Any:
    center = request.config_dict[CENTER]
    if text in (None, ""):
        return center.today()
    if not isinstance(text, str):
        raise Invalid("day must be a date like 2026-03-01")
    try:
        return parse_day(text)
    except ValueError as exc:
        raise Invalid(str(exc)) from None


@allow(*ROLES)
async def list_revisits(request: web.Request) -> web.Response:
    actor: Actor = request[ACTOR]
    center = request.config_dict[CENTER]
    day = _day(request, request.query.get("day"))
    worker = _worker(actor)
    if worker is None and request.query.get("worker"):
        worker = request.query["worker"]
    with request.config_dict[SESSIONS]() as s:
        rows = [revisit_view(r, center.timezone)
                for r in service.revisits_of(s, actor.home(center), day, worker)]
    done = [r for r in rows if r["reached"]]
    return web.json_response({
        "day": day.isoformat(), "timezone": center.timezone, "worker": worker,
        "revisits": rows,
        "summary": {"total": len(rows), "reached": len(done),
                    "satisfied": sum(1 for r in done if r["satisfaction"] in (1, 2))}})


@allow(*ROLES)
async def sample(request: web.Request) -> web.Response:
    """The day's list of the actor's center, shared among that center's revisit users;
    running it again adds nothing twice."""
    center = request.config_dict[CENTER]
    home = request[ACTOR].home(center)
    body = await json_object(request)
    unknown = set(body) - {"day"}
    if unknown:
        raise Invalid(f"unknown field(s): {sorted(unknown)}")
    day = _day(request, body.get("day"))
    if day > center.today():
        raise Invalid(f"{day} has not come yet (the center's day is {center.today()})")
    with request.config_dict[SESSIONS].begin() as s:
        workers = list(s.scalars(select(WebUser.name).where(
            WebUser.center == home, WebUser.role == "revisit").order_by(WebUser.name)))
        day_list = service.sample_revisits(s, home, day, workers=workers,
                                           timezone=center.timezone)
        total = len(day_list)
    return web.json_response({"day": day.isoformat(), "total": total, "workers": workers})


@allow(*ROLES)
async def record(request: web.Request) -> web.Response:
    actor: Actor = request[ACTOR]
    center = request.config_dict[CENTER]
    try:
        revisit_id = int(request.match_info["id"])
    except ValueError:
        raise NotFound("no such revisit") from None
    body = await json_object(request)
    unknown = set(body) - RESULT_FIELDS
    if unknown:
        raise Invalid(f"unknown field(s): {sorted(unknown)}")
    if "reached" not in body:
        raise Invalid("reached is required (true or false)")
    note = body.get("note", "")
    if note is None:
        note = ""
    with request.config_dict[SESSIONS].begin() as s:
        r = service.find_revisit(s, actor.home(center), revisit_id, _worker(actor))
        service.record_revisit(s, r, actor.name, body["reached"], body.get("satisfaction"),
                               note, timezone=center.timezone)
        view = revisit_view(r, center.timezone)
    return web.json_response(view)


# /api/... (the API sub-app, tokens) and /web/... (the pages' session) share the handlers.
ROUTES = [
    web.get("/revisits", list_revisits),
    web.post("/revisits/sample", sample),
    web.post("/revisits/{id}", record),
]
WEB_ROUTES = [
    web.get("/web/revisits", list_revisits),
    web.post("/web/revisits/sample", sample),
    web.post("/web/revisits/{id}", record),
]
