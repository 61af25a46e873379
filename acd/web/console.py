"""The seat console's own routes: the work order of the seat's call, the knowledge base, and
"to the survey" (转满意度评价).

    POST /web/orders                        the order of the seat's current or last call
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
import json
from typing import Any

from aiohttp import web
from panoramisk import Manager
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from acd.history.models import Call
from acd.orders import knowledge, service
from acd.orders.models import WorkOrder
from acd.orders.service import OrderError
from acd.seats.state import SeatState
from acd.web.users import WebUser
from hotline.center import DOMAINS, ORDER_TYPES, Center
from hotline.logs import get_logger

log = get_logger(__name__)
SURVEY = ("hotline-survey", "s", "1")  # extensions_hotline.conf
# field -> longest accepted text (the work_orders columns)
TEXTS = {"uniqueid": 64, "type": 20, "domain": 20, "sub_item": 60, "subject": 200,
         "content": 4000, "reply": 4000, "unit": 100}
FIELDS = set(TEXTS) | {"answered"}


def _error(status: int, message: str) -> web.Response:
    return web.json_response({"error": message}, status=status)


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
    if answered and not out["reply"]:
        return "an order answered on the call records the reply given"
    if not answered and not out["unit"]:
        return "an order not answered on the call is transferred: name the handling unit"
    return out


class CallActionError(RuntimeError):
    """Asterisk refused or did not answer; the message says which action."""


class SurveyTransfer:
    """The AMI side of "to the survey": find the caller's channel by its Uniqueid, name the
    seat on it, redirect it to the survey. The seat's leg is left alone in the queue's bridge
    and Asterisk hangs it up."""

    def __init__(self, manager: Manager) -> None:
        self.manager = manager

    async def _send(self, action: dict[str, str], as_list: bool = False) -> Any:
        try:
            return await asyncio.wait_for(self.manager.send_action(action, as_list=as_list), 10)
        except TimeoutError:
            raise CallActionError(f"Asterisk did not answer {action['Action']}") from None

    async def channel_of(self, uniqueid: str) -> str | None:
        reply = await self._send({"Action": "CoreShowChannels"}, as_list=True)
        for message in reply if isinstance(reply, list) else [reply]:
            if message.get("Event") == "CoreShowChannel" and message.get("Uniqueid") == uniqueid:
                return str(message.get("Channel"))
        return None

    async def _ok(self, action: dict[str, str]) -> None:
        reply = await self._send(action)
        if isinstance(reply, list):
            reply = reply[0]
        if reply.get("Response") != "Success":
            raise CallActionError(f"{action['Action']} refused: {reply.get('Message', '')}")

    async def send(self, uniqueid: str, seat_id: str) -> bool:
        """False when the caller's channel is gone."""
        channel = await self.channel_of(uniqueid)
        if channel is None:
            return False
        # The survey credits the score to ${MEMBERNAME}, which app_queue sets on the caller's
        # channel only with setinterfacevar; naming the seat here keeps the credit whatever
        # the queue's options are.
        await self._ok({"Action": "Setvar", "Channel": channel, "Variable": "MEMBERNAME",
                        "Value": seat_id})
        context, exten, priority = SURVEY
        await self._ok({"Action": "Redirect", "Channel": channel, "Context": context,
                        "Exten": exten, "Priority": priority})
        return True


class Console:
    """The handlers; `guarded` in acd.web.app has already checked the session, the role and,
    on POST, the CSRF token."""

    def __init__(self, engine: Any, center: Center, sessions: sessionmaker[Session]) -> None:
        self.engine = engine
        self.center = center
        self.sessions = sessions

    # --- whose call ----------------------------------------------------------------------------

    def _live_call(self, seat_id: str) -> str:
        seat = self.engine.model.seats.get(seat_id)
        if seat is None or seat.state is SeatState.RINGING:
            return ""
        return str(seat.uniqueid)

    def _last_call(self, s: Session, seat_id: str) -> str | None:
        return s.scalars(select(Call.uniqueid).where(
            Call.center == self.center.code, Call.seat_id == seat_id,
            Call.answered_at.is_not(None)).order_by(Call.answered_at.desc()).limit(1)).first()

    def owns(self, s: Session, seat_id: str, uniqueid: str) -> bool:
        return bool(seat_id) and (self._live_call(seat_id) == uniqueid
                                  or self._last_call(s, seat_id) == uniqueid)

    def _caller(self, s: Session, uniqueid: str) -> tuple[str, str]:
        call = self.engine.model.calls.get(uniqueid)
        if call is not None and call.caller:
            return call.caller, call.caller_name
        row = s.get(Call, uniqueid)
        return (row.caller_number, row.caller_name) if row is not None else ("", "")

    # --- handlers ------------------------------------------------------------------------------

    async def create_order(self, request: web.Request) -> web.Response:
        user: WebUser = request["user"]
        try:
            body = await request.json()
        except (json.JSONDecodeError, UnicodeDecodeError):
            return _error(400, "the body is not JSON")
        form = check_order(body)
        if isinstance(form, str):
            return _error(400, form)
        uid = form["uniqueid"]
        try:
            with self.sessions.begin() as s:
                if not self.owns(s, user.seat_id or "", uid):
                    return _error(403, "a seat files orders for its own current or last call")
                if s.scalars(select(WorkOrder.id).where(
                        WorkOrder.call_uniqueid == uid)).first() is not None:
                    return _error(409, f"call {uid} has a work order already")
                number, name = self._caller(s, uid)
                order = service.create(
                    s, center=self.center.code, type=form["type"], domain=form["domain"],
                    content=form["content"], caller_number=number, caller_name=name[:60],
                    call_uniqueid=uid, source="call", sub_item=form["sub_item"],
                    subject=form["subject"], seat_id=user.seat_id or "", by=user.name)
                if form["answered"]:
                    service.answer_on_call(s, order, user.name, form["reply"])
                else:
                    service.transfer(s, order, user.name, form["unit"])
                view = {"id": order.id, "status": order.status, "call_uniqueid": uid,
                        "due": order.due.isoformat()}
        except OrderError as exc:
            return _error(400, str(exc))
        log.info("work order filed", seat=user.seat_id, uniqueid=uid, order=view["id"],
                 status=view["status"])
        return web.json_response(view, status=201)

    async def kb_search(self, request: web.Request) -> web.Response:
        q = request.query.get("q", "").strip()
        if not q:
            return _error(400, "type some words to search for")
        if len(q) > 200:
            return _error(400, "the search is too long (at most 200 characters)")
        with self.sessions() as s:
            hits = knowledge.search(s, q)
            return web.json_response([{"id": e.id, "title": e.title, "body": e.body,
                                       "domain": e.domain, "usage_count": e.usage_count}
                                      for e in hits])

    async def kb_used(self, request: web.Request) -> web.Response:
        try:
            entry_id = int(request.match_info["id"])
        except ValueError:
            return _error(400, "an entry id is a number")
        try:
            with self.sessions.begin() as s:
                knowledge.used(s, entry_id)
        except ValueError as exc:
            return _error(404, str(exc))
        return web.json_response({"id": entry_id, "used": True})

    async def to_survey(self, request: web.Request) -> web.Response:
        user: WebUser = request["user"]
        uid = request.match_info["uniqueid"]
        seat = self.engine.model.seats.get(user.seat_id or "")
        if seat is None or seat.uniqueid != uid:
            return _error(403, "a seat sends only its own call to the survey")
        if seat.state is not SeatState.ON_CALL:
            return _error(409, f"the call is not in progress (the seat is {seat.state.value})")
        node = next((s.node for s in self.center.seats if s.id == seat.id),
                    self.center.nodes[0].name)
        manager = self.engine.manager(node)
        if manager is None:
            return _error(502, "Asterisk is not connected")
        try:
            sent = await SurveyTransfer(manager).send(uid, seat.id)
        except CallActionError as exc:
            return _error(502, str(exc))
        if not sent:
            return _error(409, "the caller has hung up")
        log.info("caller sent to the survey", seat=seat.id, uniqueid=uid)
        return web.json_response({"uniqueid": uid, "survey": True})
