"""Work orders and the knowledge base over HTTP (JSON): the API's routes under /api (a token)
and the same handlers under /web for the pages (a session and its CSRF token).

    GET  /api/orders?status=&overdue=1      the orders the actor may see (acd/orders/access.py)
    POST /api/orders                        accept an order {type, domain, content, ...}
    GET  /api/orders/{id}                   one order with its history
    POST /api/orders/{id}/{action}          answer_on_call | refuse | transfer | return |
                                            extend | reply | close | archive | reopen |
                                            receive | remind | forward | escalate
    POST /api/12345/orders                  an order transferred from 12345 (partner token),
                                            once per 12345 id
    GET  /api/kb?q=词                        knowledge search
    POST /api/kb                            add an entry (supervisor, admin)
    GET  /api/kb/export                     the knowledge base in the exchange format
    POST /api/kb/import                     entries in the exchange format (supervisor, admin)
    GET  /api/openapi.json                  the OpenAPI 3.1 description (acd/orders/openapi.py)

Every body is checked field by field before anything is written (acd/orders/bodies.py): a
400 names the field. Who may see and do what to which order is decided in one place,
acd/orders/access.py, for the API and the pages alike: an order the actor may not see is a
404, an action it may not take on one it sees a 403.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any

from aiohttp import web
from sqlalchemy import func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from acd.errors import Forbidden, Invalid, NotFound
from acd.history.db import in_session
from acd.history.models import Call
from acd.orders import access, backoffice, bodies, knowledge, openapi, service
from acd.orders.fields import check, order_id
from acd.orders.models import OrderEvent, WorkOrder
from acd.seats.service import Actor
from acd.web.auth import ACTOR, allow
from acd.web.deps import CENTER, SESSIONS
from acd.web.errors import json_body
from hotline.center import DOMAINS, ORDER_TYPES, Center
from hotline.localtime import to_utc
from hotline.logs import get_logger, mask_number

log = get_logger(__name__)
ORDER_ROLES = ("seat", "supervisor", "admin", "unit")
STAFF = ("supervisor", "admin")


def _masked_name(name: str) -> str:
    return name[:1] + "*" if name else ""


def order_view(o: WorkOrder, actor: Actor, history: bool = False,
               center: Center | None = None) -> dict[str, Any]:
    show = access.sees_numbers(actor, o)
    unit = center.unit(o.handling_unit) if center is not None else None
    view = {"id": o.id, "center": o.center, "type": o.type, "domain": o.domain,
            "sub_item": o.sub_item, "status": o.status, "content": o.content,
            "subject": o.subject,
            "caller_number": o.caller_number if show else mask_number(o.caller_number),
            "caller_name": o.caller_name if show else _masked_name(o.caller_name),
            "call_uniqueid": o.call_uniqueid, "seat_id": o.seat_id, "source": o.source,
            "answered_on_call": o.answered_on_call, "handling_unit": o.handling_unit,
            "handling_unit_name": unit.name if unit else "", "refusal": o.refusal,
            "accepted_at": o.accepted_at.isoformat(),
            "due": o.due.isoformat() if o.due else None,
            "transfer_due": o.transfer_due.isoformat(), "transfer_late": o.transfer_late,
            "extended_days": o.extended_days,
            "transferred_at": o.transferred_at.isoformat() if o.transferred_at else None,
            "received_at": o.received_at.isoformat() if o.received_at else None,
            "signed_at": o.signed_at.isoformat() if o.signed_at else None,
            "reply": o.reply, "calendar_estimated": o.calendar_estimated,
            "cross_region": o.cross_region, "region": o.region,
            "origin_center": o.origin_center, "external_id": o.external_id,
            "problems": service.conformity(o)}
    if history:
        view["history"] = [{"at": e.at.isoformat(), "by": e.by, "action": e.action,
                            "from": e.from_status, "to": e.to_status, "reason": e.reason}
                           for e in o.history]
    return view


def _reminders(s: Session, ids: list[int]) -> dict[int, tuple[int, str]]:
    """order id -> (reminders, time of the last one)."""
    if not ids:
        return {}
    rows = s.execute(select(OrderEvent.order_id, func.count(), func.max(OrderEvent.at))
                     .where(OrderEvent.order_id.in_(ids), OrderEvent.action == "remind")
                     .group_by(OrderEvent.order_id))
    return {oid: (n, last.isoformat()) for oid, n, last in rows}


def _views(s: Session, orders: list[WorkOrder], actor: Actor,
           center: Center) -> list[dict[str, Any]]:
    reminded = _reminders(s, [o.id for o in orders])
    out = []
    for o in orders:
        v = order_view(o, actor, center=center)
        v["reminders"], v["reminded_at"] = reminded.get(o.id, (0, None))
        out.append(v)
    return out


@allow(*ORDER_ROLES)
async def list_orders(request: web.Request) -> web.Response:
    actor: Actor = request[ACTOR]
    center = request.config_dict[CENTER]
    status, overdue = request.query.get("status", ""), request.query.get("overdue", "")
    if status and status not in bodies.STATUSES:
        raise Invalid(f"status: must be one of {', '.join(bodies.STATUSES)}")
    if overdue not in ("", "0", "1"):
        raise Invalid("overdue: must be 0 or 1")
    if overdue == "1" and not access.may_see_overdue(actor):
        raise Forbidden("the overdue lists are for the center's staff and the units")
    home = actor.home(center)

    def work(s: Session) -> web.Response:  # in a thread: the event loop never waits on SQL
        if overdue == "1":
            lists = service.overdue(s, home, center.today())
            return web.json_response({k: _views(s, [o for o in v if access.can_read(
                actor, o, home, center.codes)], actor, center) for k, v in lists.items()})
        q = select(WorkOrder).where(access.visible(actor, home, center.codes)).order_by(
            WorkOrder.id.desc())
        if status:
            q = q.where(WorkOrder.status == status)
        q, page = search(q, request.query, center)
        resp = web.json_response(_views(s, list(s.scalars(q)), actor, center))
        if page:
            resp.headers["X-Page"] = str(page)
        return resp
    return await in_session(request.config_dict[SESSIONS], work)


PAGE = 50


def search(q: Any, query: Any, center: Center) -> tuple[Any, int]:
    """The list's filters, each checked: q= (an order's number, a caller's number or words of
    its content), type=, domain=, unit=, since= / until= (local days of acceptance, until
    inclusive), page= (50 a page; without it, the newest 200)."""
    text = query.get("q", "").strip()
    if len(text) > 100:
        raise Invalid("q: is too long (at most 100 characters)")
    if text:
        like = WorkOrder.content.contains(text, autoescape=True)
        if text.isdigit():
            like = or_(like, WorkOrder.caller_number.contains(text, autoescape=True),
                       WorkOrder.id == int(text[:12]))
        q = q.where(like)
    for key, column, allowed in (("type", WorkOrder.type, ORDER_TYPES),
                                 ("domain", WorkOrder.domain, DOMAINS),
                                 ("unit", WorkOrder.handling_unit,
                                  {u.code: u.name for u in center.units})):
        value = query.get(key, "")
        if value:
            if value not in allowed:
                raise Invalid(f"{key}: must be one of {', '.join(allowed)}")
            q = q.where(column == value)
    for key in ("since", "until"):
        value = query.get(key, "")
        if value:
            try:
                day = date.fromisoformat(value) if len(value) == 10 else None
            except ValueError:
                day = None
            if day is None:
                raise Invalid(f"{key}: must be a date, YYYY-MM-DD")
            if key == "until":
                day += timedelta(days=1)
            at = to_utc(datetime.combine(day, time()), center.timezone)
            q = q.where(WorkOrder.accepted_at >= at if key == "since" else
                        WorkOrder.accepted_at < at)
    raw = query.get("page", "")
    if not raw:
        return q.limit(200), 0
    if not raw.isdigit() or not 1 <= int(raw) <= 100000:
        raise Invalid("page: must be an integer from 1 to 100000")
    page = int(raw)
    return q.offset((page - 1) * PAGE).limit(PAGE), page


@allow("seat", "supervisor", "admin")
async def create_order(request: web.Request) -> web.Response:
    actor: Actor = request[ACTOR]
    center = request.config_dict[CENTER]
    form = check(await json_body(request), bodies.create())
    uid = form["call_uniqueid"] or None
    source = form["source"] or ("call" if uid else "web")
    if uid and source != "call":
        raise Invalid("source: an order for a call has the source call")
    if source == "call" and not uid:
        raise Invalid("call_uniqueid: is required for an order from a call")
    if form["cross_region"] and not form["region"]:
        raise Invalid("region: is required for a cross-region order")

    def work(s: Session) -> dict[str, Any]:
        seat = actor.seat_id
        call = s.get(Call, uid) if uid else None
        if uid:
            if not access.may_file_for_call(actor, call, actor.home(center), center.codes):
                raise Forbidden("call_uniqueid: a seat files orders only for calls it answered")
            seat = call.seat_id if call is not None else seat
        # The order is the center's whose call it was (a lent seat's call: the other's).
        home = call.center if call is not None else actor.home(center)
        o = service.create(s, center=home, type=form["type"], domain=form["domain"],
                           content=form["content"], caller_number=form["caller_number"],
                           caller_name=form["caller_name"], call_uniqueid=uid, source=source,
                           sub_item=form["sub_item"], subject=form["subject"], seat_id=seat,
                           by=actor.name, cross_region=form["cross_region"],
                           region=form["region"], timezone=center.timezone)
        return order_view(o, actor, center=center)
    view = await in_session(request.config_dict[SESSIONS], work, write=True)
    return web.json_response(view, status=201)


@allow(*ORDER_ROLES)
async def get_order(request: web.Request) -> web.Response:
    actor: Actor = request[ACTOR]
    center = request.config_dict[CENTER]

    def work(s: Session) -> web.Response:
        o = access.require_read(actor, s.get(WorkOrder, order_id(request.match_info["id"])),
                                actor.home(center), center.codes)
        view = order_view(o, actor, history=True, center=center)
        if o.call_uniqueid and actor.role != "unit":
            c = s.get(Call, o.call_uniqueid)
            view["call"] = None if c is None else {
                "uniqueid": c.uniqueid, "started_at": c.started_at.isoformat(),
                "ivr_path": c.ivr_path, "ivr_seconds": c.ivr_seconds,
                "queue": c.final_queue, "wait_s": c.wait_s, "talk_s": c.talk_s,
                "seat": c.seat_id, "recording": c.recording,
                "survey_score": c.survey_score}
        return web.json_response(view)
    return await in_session(request.config_dict[SESSIONS], work)


def apply(s: Session, center: Center, o: WorkOrder, actor: Actor, action: str,
          form: dict[str, Any]) -> None:
    """One lifecycle action with its checked fields (shared by the API and the pages)."""
    by = actor.name
    match action:
        case "answer_on_call":
            service.answer_on_call(s, o, by, form["reply"])
        case "refuse":
            service.refuse(s, o, by, form["reason"])
        case "transfer":
            backoffice.transfer(s, center, o, by, form["unit"])
        case "return":
            service.return_(s, o, by, form["reason"], timezone=center.timezone)
        case "extend":
            service.extend(s, o, by, form["days"], form["reason"], timezone=center.timezone)
        case "reply":
            service.reply(s, o, by, form["text"])
        case "close":
            service.close(s, o, by)
        case "archive":
            service.archive(s, o, by)
        case "reopen":
            service.reopen(s, o, by, form["reason"], timezone=center.timezone)
        case "receive":
            service.receive(s, o, by)
        case "remind":
            backoffice.remind(s, center, o, by, form["note"])
        case "forward":
            backoffice.forward(s, center, o, by, form["center"], form["reason"])
        case "escalate":
            backoffice.escalate(s, center, o, by, form["reason"])
        case _:
            raise NotFound(f"no action {action!r}")


@allow(*ORDER_ROLES)
async def act(request: web.Request) -> web.Response:
    actor: Actor = request[ACTOR]
    center = request.config_dict[CENTER]
    action = request.match_info["action"]
    if action not in service.ALL_ACTIONS:
        raise NotFound(f"no action {action!r}; one of {', '.join(sorted(service.ALL_ACTIONS))}")
    raw = await json_body(request)

    def work(s: Session) -> dict[str, Any]:
        o = access.require_act(actor, s.get(WorkOrder, order_id(request.match_info["id"])),
                               action, actor.home(center), center.codes)
        apply(s, center, o, actor, action, check(raw, bodies.action(center, action)))
        return order_view(o, actor, center=center)
    view = await in_session(request.config_dict[SESSIONS], work, write=True)
    log.info("order action", order=view["id"], action=action, by=actor.name,
             status=view["status"])
    return web.json_response(view)


@allow("partner")
async def intake_12345(request: web.Request) -> web.Response:
    """An order 12345 transferred here: 201 the first time, 200 with the same order after."""
    actor: Actor = request[ACTOR]
    center = request.config_dict[CENTER]
    form = check(await json_body(request), bodies.intake())
    sessions = request.config_dict[SESSIONS]
    try:
        with sessions.begin() as s:
            o, new = backoffice.intake(s, center, form, actor.name)
            view = {"id": o.id, "external_id": o.external_id, "status": o.status,
                    "due": o.due.isoformat() if o.due else None,
                    "transfer_due": o.transfer_due.isoformat(), "created": new}
    except IntegrityError:  # the same id at the same moment: the other request made it
        with sessions() as s:
            o, new = backoffice.intake(s, center, form, actor.name)
            view = {"id": o.id, "external_id": o.external_id, "status": o.status,
                    "due": o.due.isoformat() if o.due else None,
                    "transfer_due": o.transfer_due.isoformat(), "created": False}
    log.info("order from 12345", external_id=form["id"], order=view["id"], new=view["created"])
    return web.json_response(view, status=201 if view["created"] else 200)


@allow("seat", "supervisor", "admin")
async def kb_search(request: web.Request) -> web.Response:
    q = request.query.get("q", "")
    if len(q) > 200:
        raise Invalid("q: is too long (at most 200 characters)")

    def work(s: Session) -> web.Response:
        hits = knowledge.search(s, q, request.config_dict[CENTER].today())
        return web.json_response([{"id": e.id, "title": e.title, "body": e.body,
                                   "domain": e.domain, "for_ivr": e.for_ivr,
                                   "usage_count": e.usage_count} for e in hits])
    return await in_session(request.config_dict[SESSIONS], work)


@allow(*STAFF)
async def kb_add(request: web.Request) -> web.Response:
    form = check(await json_body(request), bodies.knowledge_entry())

    def work(s: Session) -> int:
        e = knowledge.add(s, form["title"], form["body"], form["domain"] or "other",
                          form["for_ivr"], form["valid_from"], form["valid_to"])
        s.flush()
        return e.id
    entry_id = await in_session(request.config_dict[SESSIONS], work, write=True)
    return web.json_response({"id": entry_id}, status=201)


@allow("supervisor", "admin", "partner")
async def kb_export(request: web.Request) -> web.Response:
    with request.config_dict[SESSIONS]() as s:
        return web.json_response(knowledge.export(s, request.config_dict[CENTER].code))


@allow(*STAFF)
async def kb_import(request: web.Request) -> web.Response:
    entries = bodies.check_document(await json_body(request))
    with request.config_dict[SESSIONS].begin() as s:
        done = knowledge.import_(s, entries, request.config_dict[CENTER].code)
    return web.json_response({"added": done.added, "updated": done.updated,
                              "unchanged": done.unchanged})


@allow("seat", "supervisor", "admin", "unit", "partner")
async def describe(request: web.Request) -> web.Response:
    return web.json_response(openapi.describe(request.config_dict[CENTER]))


ROUTES = [
    web.get("/orders", list_orders),
    web.post("/orders", create_order),
    web.get("/orders/{id}", get_order),
    web.post("/orders/{id}/{action}", act),
    web.post("/12345/orders", intake_12345),
    web.get("/kb", kb_search),
    web.post("/kb", kb_add),
    web.get("/kb/export", kb_export),
    web.post("/kb/import", kb_import),
    web.get("/openapi.json", describe),
]
# The same handlers for the pages (session and CSRF token): the unit's page and the back
# office's (acd/web/backoffice.py).
WEB_ROUTES = [
    web.get("/web/orders/list", list_orders),
    web.get("/web/orders/{id}", get_order),
    web.post("/web/orders/{id}/{action}", act),
]
