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

import json
from datetime import date
from typing import Any

from aiohttp import web
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from acd.api.tokens import Caller
from acd.history.models import Call
from acd.orders import knowledge, service
from acd.orders.models import WorkOrder
from acd.orders.service import OrderError
from hotline.center import Center
from hotline.logs import mask_number

SEES_NUMBERS = ("supervisor", "admin")


def _error(status: int, message: str) -> web.Response:
    return web.json_response({"error": message}, status=status)


def order_view(o: WorkOrder, caller: Caller, history: bool = False) -> dict[str, Any]:
    show = caller.role in SEES_NUMBERS or (caller.role == "seat" and o.seat_id == caller.seat_id)
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


async def _body(request: web.Request) -> dict[str, Any] | web.Response:
    try:
        body = await request.json() if request.can_read_body else {}
    except (json.JSONDecodeError, UnicodeDecodeError):
        return _error(400, "the body is not JSON")
    return body if isinstance(body, dict) else _error(400, "the body must be a JSON object")


def add_routes(app: web.Application, center: Center, sessions: sessionmaker[Session]) -> None:
    """Routes on the API sub-application (mounted at /api)."""
    async def list_orders(request: web.Request) -> web.Response:
        caller: Caller = request["caller"]
        with sessions() as s:
            if request.query.get("overdue"):
                lists = service.overdue(s, center.code, date.today())
                return web.json_response({k: [order_view(o, caller) for o in v]
                                          for k, v in lists.items()})
            q = select(WorkOrder).where(WorkOrder.center == center.code).order_by(
                WorkOrder.id.desc()).limit(200)
            if request.query.get("status"):
                q = q.where(WorkOrder.status == request.query["status"])
            if caller.role == "seat":
                q = q.where(WorkOrder.seat_id == caller.seat_id)
            return web.json_response([order_view(o, caller) for o in s.scalars(q)])

    async def create_order(request: web.Request) -> web.Response:
        caller: Caller = request["caller"]
        body = await _body(request)
        if isinstance(body, web.Response):
            return body
        allowed = {"type", "domain", "content", "caller_number", "caller_name",
                   "call_uniqueid", "source", "sub_item", "subject", "cross_region", "region"}
        unknown = set(body) - allowed
        if unknown:
            return _error(400, f"unknown field(s): {sorted(unknown)}")
        for key in ("type", "domain", "content"):
            if not isinstance(body.get(key), str):
                return _error(400, f"{key} is required (a string)")
        try:
            with sessions.begin() as s:
                o = service.create(s, center=center.code, seat_id=caller.seat_id,
                                   by=caller.name, **body)
                view = order_view(o, caller)
        except (OrderError, TypeError) as exc:
            return _error(400, str(exc))
        return web.json_response(view, status=201)

    async def get_order(request: web.Request) -> web.Response:
        caller: Caller = request["caller"]
        with sessions() as s:
            o = _find(s, request)
            if o is None:
                return _error(404, "no such order")
            view = order_view(o, caller, history=True)
            if o.call_uniqueid:
                c = s.get(Call, o.call_uniqueid)
                view["call"] = None if c is None else {
                    "uniqueid": c.uniqueid, "started_at": c.started_at.isoformat(),
                    "ivr_path": c.ivr_path, "ivr_seconds": c.ivr_seconds,
                    "queue": c.final_queue, "wait_s": c.wait_s, "talk_s": c.talk_s,
                    "seat": c.seat_id, "recording": c.recording,
                    "survey_score": c.survey_score}
            return web.json_response(view)

    async def act(request: web.Request) -> web.Response:
        caller: Caller = request["caller"]
        action = request.match_info["action"]
        if action not in service.ACTIONS:
            return _error(404, f"no action {action!r}; one of {', '.join(sorted(service.ACTIONS))}")
        body = await _body(request)
        if isinstance(body, web.Response):
            return body
        if action in ("archive", "reopen", "extend") and caller.role not in SEES_NUMBERS:
            return _error(403, f"{action} is for supervisors")
        try:
            with sessions.begin() as s:
                o = _find(s, request)
                if o is None:
                    return _error(404, "no such order")
                text = str(body.get("reason") or body.get("text") or body.get("unit") or "")
                match action:
                    case "answer_on_call":
                        service.answer_on_call(s, o, caller.name, text)
                    case "refuse":
                        service.refuse(s, o, caller.name, text)
                    case "transfer":
                        service.transfer(s, o, caller.name, text)
                    case "return":
                        service.return_(s, o, caller.name, text)
                    case "extend":
                        days = body.get("days")
                        if not isinstance(days, int):
                            return _error(400, "days must be an integer")
                        service.extend(s, o, caller.name, days, text)
                    case "reply":
                        service.reply(s, o, caller.name, text)
                    case "close":
                        service.close(s, o, caller.name)
                    case "archive":
                        service.archive(s, o, caller.name)
                    case "reopen":
                        service.reopen(s, o, caller.name, text)
                view = order_view(o, caller)
        except OrderError as exc:
            return _error(409, str(exc))
        return web.json_response(view)

    async def kb_search(request: web.Request) -> web.Response:
        with sessions() as s:
            hits = knowledge.search(s, request.query.get("q", ""))
            return web.json_response([{"id": e.id, "title": e.title, "body": e.body,
                                       "domain": e.domain, "for_ivr": e.for_ivr,
                                       "usage_count": e.usage_count} for e in hits])

    async def kb_add(request: web.Request) -> web.Response:
        caller: Caller = request["caller"]
        if caller.role not in SEES_NUMBERS:
            return _error(403, "knowledge entries are added by supervisors")
        body = await _body(request)
        if isinstance(body, web.Response):
            return body
        try:
            with sessions.begin() as s:
                e = knowledge.add(s, str(body.get("title", "")), str(body.get("body", "")),
                                  str(body.get("domain", "other")), bool(body.get("for_ivr")))
                entry_id = e.id
        except ValueError as exc:
            return _error(400, str(exc))
        return web.json_response({"id": entry_id}, status=201)

    async def openapi(request: web.Request) -> web.Response:
        return web.json_response(OPENAPI)

    app.router.add_get("/orders", list_orders)
    app.router.add_post("/orders", create_order)
    app.router.add_get("/orders/{id}", get_order)
    app.router.add_post("/orders/{id}/{action}", act)
    app.router.add_get("/kb", kb_search)
    app.router.add_post("/kb", kb_add)
    app.router.add_get("/openapi.json", openapi)


def _find(s: Session, request: web.Request) -> WorkOrder | None:
    try:
        order_id = int(request.match_info["id"])
    except ValueError:
        return None
    o = s.get(WorkOrder, order_id)
    caller: Caller = request["caller"]
    if o is None or o.center != caller.center:
        return None
    return o


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
