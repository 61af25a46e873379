"""The seat console's own routes: the call it is on, the work order of that call, the knowledge
base, and "to the survey" (转满意度评价).

    GET  /web/calls/{uniqueid}              the call: caller, wait, IVR path, earlier orders
    GET  /web/choices                       the center's handling units, article 28's reasons
    POST /web/orders                        the order of the seat's current or last call:
                                            answered on the call, transferred to a handling
                                            unit of the center file, or not accepted with one
                                            of article 28's five reasons; cross-region with
                                            its region
    GET  /web/kb?q=词                        knowledge search
    POST /web/kb/{id}/used                  the seat answered with this entry
    POST /web/calls/{uniqueid}/survey       the caller to the satisfaction survey

A seat files orders only for its own call: the one it is on or wrapping up (the live model),
or the last call it answered (the ledger), so an order can still be written after wrap-up ran
out, and the order generation rate (answered calls with an order) does not depend on how fast
the seat types. Everything else is 403. Every field is checked here, before the domain, so a
seat gets one clear 400 message per mistake.
"""

from __future__ import annotations

import asyncio
from typing import Any

from aiohttp import web
from sqlalchemy import select
from sqlalchemy.orm import Session

from acd.calls.actions import send_to_survey
from acd.errors import Conflict, Forbidden, Invalid, NotFound, Unavailable
from acd.history.db import in_session
from acd.history.models import Call
from acd.orders import backoffice, knowledge, service
from acd.orders.models import WorkOrder
from acd.seats.service import Actor
from acd.seats.state import SeatState
from acd.web.auth import ACTOR, allow
from acd.web.deps import CENTER, ENGINE, SESSIONS, EngineView
from acd.web.errors import json_body
from hotline.center import DOMAINS, ORDER_TYPES, Center
from hotline.logs import get_logger

log = get_logger(__name__)
# field -> longest accepted text (the work_orders columns)
TEXTS = {"uniqueid": 64, "type": 20, "domain": 20, "sub_item": 60, "subject": 200,
         "content": 4000, "reply": 4000, "unit": 40, "refusal": 40, "region": 60}
FIELDS = set(TEXTS) | {"answered", "cross_region"}


def check_order(body: Any) -> dict[str, Any] | str:
    """The order form's fields, or the first thing wrong with them (a message for the seat)."""
    if not isinstance(body, dict):
        return "the body must be a JSON object"
    unknown = sorted(set(body) - FIELDS)
    if unknown:
        return f"unknown field(s): {', '.join(unknown)}"
    out: dict[str, Any] = {}
    for key, longest in TEXTS.items():
        value = body.get(key, "")
        if not isinstance(value, str):
            return f"{key} must be text"
        if len(value) > longest:
            return f"{key} is too long (at most {longest} characters)"
        out[key] = value.strip()
    if not out["uniqueid"]:
        return "uniqueid (the call) is required"
    if out["type"] not in ORDER_TYPES:
        return f"type must be one of {', '.join(ORDER_TYPES)}"
    if out["domain"] not in DOMAINS:
        return f"domain must be one of {', '.join(DOMAINS)}"
    if not out["content"]:
        return "content is required"
    if out["type"] == "complaint" and not out["subject"]:
        return "a complaint names its subject (who or what is complained about)"
    answered = body.get("answered")
    if not isinstance(answered, bool):
        return "answered must be true or false"
    out["answered"] = answered
    cross = body.get("cross_region", False)
    if not isinstance(cross, bool):
        return "cross_region must be true or false"
    out["cross_region"] = cross
    if cross and not out["region"]:
        return "a cross-region order names its region (region)"
    if out["refusal"]:
        if out["refusal"] not in service.REFUSALS:
            return f"refusal must be one of {', '.join(service.REFUSALS)} (article 28)"
        if answered:
            return "an order not accepted (refusal) is not answered on the call"
        return out
    if answered and not out["reply"]:
        return "an order answered on the call records the reply given"
    if not answered and not out["unit"]:
        return ("an order not answered on the call is transferred: name the handling unit "
                "(or refuse it with one of article 28's reasons)")
    return out


def _live_call(engine: EngineView, seat_id: str) -> str:
    seat = engine.seat(seat_id)
    if seat is None or seat.state is SeatState.RINGING:
        return ""
    return str(seat.uniqueid)


def _last_call(s: Session, centers: tuple[str, ...], seat_id: str) -> str | None:
    return s.scalars(select(Call.uniqueid).where(
        Call.center.in_(centers), Call.seat_id == seat_id,
        Call.answered_at.is_not(None)).order_by(Call.answered_at.desc()).limit(1)).first()


def owns(engine: EngineView, s: Session, centers: tuple[str, ...], seat_id: str,
         uniqueid: str) -> bool:
    """The seat's call: the one it is on or wrapping up (the live model), or the last call it
    answered (the ledger) in any center of the deployment (a seat lent to another center
    files the orders of the calls it took there: docs/province.md)."""
    return bool(seat_id) and (_live_call(engine, seat_id) == uniqueid
                              or _last_call(s, centers, seat_id) == uniqueid)


def center_of_call(center: Center, engine: EngineView, s: Session, uniqueid: str) -> str:
    """The center whose call it is, counted as the ledger counts it (acd/history/ledger.py):
    its row's center once written, else the center of the first queue it entered (before
    any queue: the center whose number it dialled)."""
    row = s.get(Call, uniqueid)
    if row is not None:
        return row.center
    call = engine.call(uniqueid)
    if call is None:
        return center.code
    stays = sorted(call.stays.values(), key=lambda st: st.entered)
    return center.center_of_queue(stays[0].queue) if stays else \
        center.center_of_extension(call.dialed)


def _caller(engine: EngineView, s: Session, uniqueid: str) -> tuple[str, str]:
    call = engine.call(uniqueid)
    if call is not None and call.caller:
        return call.caller, call.caller_name
    row = s.get(Call, uniqueid)
    return (row.caller_number, row.caller_name) if row is not None else ("", "")


# --- handlers ----------------------------------------------------------------------------------

@allow("seat", "supervisor", "admin")
async def call_detail(request: web.Request) -> web.Response:
    """The call a seat is on: caller, wait, IVR path, earlier orders of the same number."""
    actor: Actor = request[ACTOR]
    engine, center = request.config_dict[ENGINE], request.config_dict[CENTER]
    uid = request.match_info["uniqueid"]
    if actor.role == "seat":
        mine = engine.seat(actor.seat_id)
        if mine is None or mine.uniqueid != uid:
            raise Forbidden("not your call")
    call = await asyncio.to_thread(engine.call, uid)
    if call is None:
        raise NotFound("no such call")

    def orders(s: Session) -> list[dict[str, Any]] | None:
        """The call's center's earlier orders of the number; None: a call of another center
        than a supervisor's (a seat's own call is its own, lent or not)."""
        whose = center_of_call(center, engine, s, uid)
        if actor.role != "seat" and whose != actor.home(center):
            return None
        return [{"id": o.id, "type": o.type, "status": o.status,
                 "accepted": f"{o.accepted_at:%Y-%m-%d}", "content": o.content[:60]}
                for o in s.scalars(select(WorkOrder).where(
                    WorkOrder.caller_number == call.caller, WorkOrder.center == whose)
                    .order_by(WorkOrder.id.desc()).limit(5))] if call.caller else []
    earlier = await in_session(request.config_dict[SESSIONS], orders)
    if earlier is None:
        raise NotFound("no such call")
    stay = call.answered_stay or call.current
    return web.json_response({
        "uniqueid": call.uniqueid, "caller": call.caller, "name": call.caller_name,
        "queue": stay.queue if stay else "", "wait_s": call.wait_s,
        "ivr_path": call.ivr_path, "earlier_orders": earlier})


@allow("seat")
async def create_order(request: web.Request) -> web.Response:
    actor: Actor = request[ACTOR]
    engine, center = request.config_dict[ENGINE], request.config_dict[CENTER]
    form = check_order(await json_body(request))
    if isinstance(form, str):
        raise Invalid(form)
    uid = form["uniqueid"]

    def file(s: Session) -> dict[str, Any]:
        if not owns(engine, s, center.codes, actor.seat_id, uid):
            raise Forbidden("a seat files orders for its own current or last call")
        if s.scalars(select(WorkOrder.id).where(
                WorkOrder.call_uniqueid == uid)).first() is not None:
            raise Conflict(f"call {uid} has a work order already")
        number, name = _caller(engine, s, uid)
        order = service.create(  # the call's center's order (a lent seat's: the other's)
            s, center=center_of_call(center, engine, s, uid), type=form["type"],
            domain=form["domain"],
            content=form["content"], caller_number=number, caller_name=name[:60],
            call_uniqueid=uid, source="call", sub_item=form["sub_item"],
            subject=form["subject"], seat_id=actor.seat_id, by=actor.name,
            cross_region=form["cross_region"], region=form["region"],
            timezone=center.timezone)
        unit_name = ""
        if form["refusal"]:
            service.refuse(s, order, actor.name, form["refusal"])
        elif form["answered"]:
            service.answer_on_call(s, order, actor.name, form["reply"])
        else:  # a unit of the center file, or a 400 naming the field (nothing is written)
            unit_name = backoffice.transfer(s, center, order, actor.name, form["unit"]).name
        return {"id": order.id, "status": order.status, "call_uniqueid": uid,
                "due": order.due.isoformat() if order.due else None, "unit_name": unit_name,
                "refusal": service.REFUSALS.get(order.refusal, "")}
    view = await in_session(request.config_dict[SESSIONS], file, write=True)
    log.info("work order filed", seat=actor.seat_id, uniqueid=uid, order=view["id"],
             status=view["status"])
    return web.json_response(view, status=201)


@allow("seat", "supervisor", "admin")
async def choices(request: web.Request) -> web.Response:
    """What the order forms offer: the center's handling units, article 28's reasons, the
    centers an order may be sent to and the level above."""
    center = request.config_dict[CENTER]
    return web.json_response({
        "units": [{"code": u.code, "name": u.name} for u in center.units],
        "refusals": [{"code": k, "text": v} for k, v in service.REFUSALS.items()],
        "peers": [{"code": p.code, "name": p.name} for p in center.exchange.peers],
        "upper": center.exchange.upper})


@allow("seat", "supervisor", "admin")
async def kb_search(request: web.Request) -> web.Response:
    q = request.query.get("q", "").strip()
    if not q:
        raise Invalid("type some words to search for")
    if len(q) > 200:
        raise Invalid("the search is too long (at most 200 characters)")
    def search(s: Session) -> list[dict[str, Any]]:
        return [{"id": e.id, "title": e.title, "body": e.body, "domain": e.domain,
                 "usage_count": e.usage_count}
                for e in knowledge.search(s, q, request.config_dict[CENTER].today())]
    return web.json_response(await in_session(request.config_dict[SESSIONS], search))


@allow("seat")
async def kb_used(request: web.Request) -> web.Response:
    try:
        entry_id = int(request.match_info["id"])
    except ValueError:
        raise Invalid("an entry id is a number") from None
    await in_session(request.config_dict[SESSIONS], lambda s: knowledge.used(s, entry_id),
                     write=True)
    return web.json_response({"id": entry_id, "used": True})


@allow("seat")
async def to_survey(request: web.Request) -> web.Response:
    actor: Actor = request[ACTOR]
    engine, center = request.config_dict[ENGINE], request.config_dict[CENTER]
    uid = request.match_info["uniqueid"]
    seat = engine.seat(actor.seat_id)
    if seat is None or seat.uniqueid != uid:
        raise Forbidden("a seat sends only its own call to the survey")
    if seat.state is not SeatState.ON_CALL:
        raise Conflict(f"the call is not in progress (the seat is {seat.state.value})")
    node = next((s.node for s in center.seats if s.id == seat.id), center.nodes[0].name)
    manager = engine.manager(node)
    if manager is None:
        raise Unavailable("Asterisk is not connected")
    if not await send_to_survey(manager, uid, seat.id):
        raise Conflict("the caller has hung up")
    log.info("caller sent to the survey", seat=seat.id, uniqueid=uid)
    return web.json_response({"uniqueid": uid, "survey": True})


ROUTES = [
    web.get("/web/calls/{uniqueid}", call_detail),
    web.get("/web/choices", choices),
    web.post("/web/orders", create_order),
    web.get("/web/kb", kb_search),
    web.post("/web/kb/{id}/used", kb_used),
    web.post("/web/calls/{uniqueid}/survey", to_survey),
]
