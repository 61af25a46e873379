"""Work orders and the knowledge base over HTTP (JSON), mounted in the engine's API.

    GET  /api/orders?status=&overdue=1      list (caller numbers masked but for supervisors)
    POST /api/orders                        create {type, domain, content, ...}
    GET  /api/orders/{id}                   one order with its history
    POST /api/orders/{id}/{action}          answer_on_call | refuse | transfer | return |
                                            extend | reply | close | archive | reopen
    GET  /api/kb?q=词                        knowledge search
    POST /api/kb                            add an entry (supervisor, admin)
    GET  /api/openapi.json                  this description, as OpenAPI 3
"""

from __future__ import annotations

from typing import Any

from aiohttp import web
from sqlalchemy import select
from sqlalchemy.orm import Session

from acd.errors import Forbidden, Invalid, NotFound
from acd.history.db import in_session
from acd.history.models import Call
from acd.orders import knowledge, service
from acd.orders.models import WorkOrder
from acd.seats.service import Actor
from acd.web.auth import allow
from acd.web.deps import CENTER, SESSIONS
from acd.web.errors import json_object
from hotline.logs import mask_number

SEES_NUMBERS = ("supervisor", "admin")
API_ROLES = ("seat", "supervisor", "admin")


def order_view(o: WorkOrder, actor: Actor, history: bool = False) -> dict[str, Any]:
    show = actor.role in SEES_NUMBERS or (actor.role == "seat" and o.seat_id == actor.seat_id)
    view = {"id": o.id, "type": o.type, "domain": o.domain, "sub_item": o.sub_item,
            "status": o.status, "content": o.content, "subject": o.subject,
            "caller_number": o.caller_number if show else mask_number(o.caller_number),
            "caller_name": o.caller_name if show else (o.caller_name[:1] + "*" if
                                                      o.caller_name else ""),
            "call_uniqueid": o.call_uniqueid, "seat_id": o.seat_id,
            "answered_on_call": o.answered_on_call, "handling_unit": o.handling_unit,
            "accepted_at": o.accepted_at.isoformat(), "due": o.due.isoformat(),
            "transfer_due": o.transfer_due.isoformat(), "extended_days": o.extended_days,
            "calendar_estimated": o.calendar_estimated, "cross_region": o.cross_region,
            "problems": service.conformity(o)}
    if history:
        view["history"] = [{"at": e.at.isoformat(), "by": e.by, "action": e.action,
                            "from": e.from_status, "to": e.to_status, "reason": e.reason}
                           for e in o.history]
    return view


def _find(s: Session, request: web.Request) -> WorkOrder:
    try:
        order_id = int(request.match_info["id"])
    except ValueError:
        raise NotFound("no such order") from None
    o = s.get(WorkOrder, order_id)
    if o is None or o.center != request.config_dict[CENTER].code:
        raise NotFound("no such order")
    return o


@allow(*API_ROLES)
async def list_orders(request: web.Request) -> web.Response:
    actor: Actor = request["actor"]
    center = request.config_dict[CENTER]

    def work(s: Session) -> web.Response:  # in a thread: the event loop never waits on SQL
        if request.query.get("overdue"):
            lists = service.overdue(s, center.code, center.today())
            return web.json_response({k: [order_view(o, actor) for o in v]
                                      for k, v in lists.items()})
        q = select(WorkOrder).where(WorkOrder.center == center.code).order_by(
            WorkOrder.id.desc()).limit(200)
        if request.query.get("status"):
            q = q.where(WorkOrder.status == request.query["status"])
        if actor.role == "seat":
            q = q.where(WorkOrder.seat_id == actor.seat_id)
        return web.json_response([order_view(o, actor) for o in s.scalars(q)])
    return await in_session(request.config_dict[SESSIONS], work)


CREATE_FIELDS = {"type", "domain", "content", "caller_number", "caller_name", "call_uniqueid",
                 "source", "sub_item", "subject", "cross_region", "region"}


@allow(*API_ROLES)
async def create_order(request: web.Request) -> web.Response:
    actor: Actor = request["actor"]
    body = await json_object(request)
    unknown = set(body) - CREATE_FIELDS
    if unknown:
        raise Invalid(f"unknown field(s): {sorted(unknown)}")
    for key in ("type", "domain", "content"):
        if not isinstance(body.get(key), str):
            raise Invalid(f"{key} is required (a string)")
    def work(s: Session) -> dict[str, Any]:
        try:
            o = service.create(s, center=request.config_dict[CENTER].code,
                               seat_id=actor.seat_id, by=actor.name, **body)
        except TypeError as exc:
            raise Invalid(str(exc)) from None
        return order_view(o, actor)
    view = await in_session(request.config_dict[SESSIONS], work, write=True)
    return web.json_response(view, status=201)


@allow(*API_ROLES)
async def get_order(request: web.Request) -> web.Response:
    actor: Actor = request["actor"]

    def work(s: Session) -> web.Response:
        o = _find(s, request)
        view = order_view(o, actor, history=True)
        if o.call_uniqueid:
            c = s.get(Call, o.call_uniqueid)
            view["call"] = None if c is None else {
                "uniqueid": c.uniqueid, "started_at": c.started_at.isoformat(),
                "ivr_path": c.ivr_path, "ivr_seconds": c.ivr_seconds,
                "queue": c.final_queue, "wait_s": c.wait_s, "talk_s": c.talk_s,
                "seat": c.seat_id, "recording": c.recording,
                "survey_score": c.survey_score}
        return web.json_response(view)
    return await in_session(request.config_dict[SESSIONS], work)


@allow(*API_ROLES)
async def act(request: web.Request) -> web.Response:
    actor: Actor = request["actor"]
    action = request.match_info["action"]
    if action not in service.ACTIONS:
        raise NotFound(f"no action {action!r}; one of {', '.join(sorted(service.ACTIONS))}")
    body = await json_object(request)
    if action in ("archive", "reopen", "extend") and actor.role not in SEES_NUMBERS:
        raise Forbidden(f"{action} is for supervisors")
    def work(s: Session) -> dict[str, Any]:
        o = _find(s, request)
        text = str(body.get("reason") or body.get("text") or body.get("unit") or "")
        match action:
            case "answer_on_call":
                service.answer_on_call(s, o, actor.name, text)
            case "refuse":
                service.refuse(s, o, actor.name, text)
            case "transfer":
                service.transfer(s, o, actor.name, text)
            case "return":
                service.return_(s, o, actor.name, text)
            case "extend":
                days = body.get("days")
                if not isinstance(days, int):
                    raise Invalid("days must be an integer")
                service.extend(s, o, actor.name, days, text)
            case "reply":
                service.reply(s, o, actor.name, text)
            case "close":
                service.close(s, o, actor.name)
            case "archive":
                service.archive(s, o, actor.name)
            case "reopen":
                service.reopen(s, o, actor.name, text)
        return order_view(o, actor)
    return web.json_response(await in_session(request.config_dict[SESSIONS], work, write=True))


@allow(*API_ROLES)
async def kb_search(request: web.Request) -> web.Response:
    def work(s: Session) -> web.Response:
        hits = knowledge.search(s, request.query.get("q", ""),
                                request.config_dict[CENTER].today())
        return web.json_response([{"id": e.id, "title": e.title, "body": e.body,
                                   "domain": e.domain, "for_ivr": e.for_ivr,
                                   "usage_count": e.usage_count} for e in hits])
    return await in_session(request.config_dict[SESSIONS], work)


@allow(*API_ROLES)
async def kb_add(request: web.Request) -> web.Response:
    actor: Actor = request["actor"]
    if actor.role not in SEES_NUMBERS:
        raise Forbidden("knowledge entries are added by supervisors")
    body = await json_object(request)
    def work(s: Session) -> int:
        e = knowledge.add(s, str(body.get("title", "")), str(body.get("body", "")),
                          str(body.get("domain", "other")), bool(body.get("for_ivr")))
        s.flush()
        return e.id
    entry_id = await in_session(request.config_dict[SESSIONS], work, write=True)
    return web.json_response({"id": entry_id}, status=201)


@allow(*API_ROLES)
async def openapi(request: web.Request) -> web.Response:
    return web.json_response(OPENAPI)


ROUTES = [
    web.get("/orders", list_orders),
    web.post("/orders", create_order),
    web.get("/orders/{id}", get_order),
    web.post("/orders/{id}/{action}", act),
    web.get("/kb", kb_search),
    web.post("/kb", kb_add),
    web.get("/openapi.json", openapi),
]


def _op(summary: str, body: bool = False) -> dict[str, Any]:
    op: dict[str, Any] = {"summary": summary, "security": [{"bearer": []}],
                          "responses": {"200": {"description": "OK"},
                                        "400": {"description": "bad input"},
                                        "401": {"description": "no or unknown token"},
                                        "403": {"description": "not allowed for this role"},
                                        "404": {"description": "not found"}}}
    if body:
        op["requestBody"] = {"content": {"application/json": {"schema": {"type": "object"}}}}
    return op


OPENAPI: dict[str, Any] = {
    "openapi": "3.0.3",
    "info": {"title": "hotline12328 engine API", "version": "1"},
    "components": {"securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}}},
    "paths": {
        "/api/live": {"get": _op("the live snapshot: queues, seats, nodes")},
        "/api/metrics": {"get": _op("Prometheus metrics: waiting calls, seats by state, AMI")},
        "/api/seats/{seat}/{action}": {"post": _op("signin, signout, busy, ready, end-wrapup",
                                                   True)},
        "/api/orders": {"get": _op("list work orders (status=, overdue=1)"),
                        "post": _op("create a work order", True)},
        "/api/orders/{id}": {"get": _op("one work order with its history")},
        "/api/orders/{id}/{action}": {"post": _op("a lifecycle action", True)},
        "/api/kb": {"get": _op("knowledge search (q=)"), "post": _op("add an entry", True)},
    },
}
