"""A supervisor listens in on, whispers to or barges into a seat's call from the supervisor's
own phone (ChanSpy): the wallboard's buttons land here.

`SpyActions` is the only code that sends these AMI actions. It asks Asterisk, not the engine's
model, whether the seat is on a call (the model is a cache, and a seat-to-seat call is not in
it), checks that the supervisor's phone is registered and free, and originates a call to that
phone which, once answered, runs ChanSpy on the seat's exact channel in the chosen mode
(context `supervisor-spy` in asterisk_conf/templates/extensions_supervisor.conf). The route
answers 202 as soon as Asterisk has the call: the phone is ringing, the rest is the
supervisor's; Asterisk reports the spy itself as ChanSpyStart and UserEvent HotlineSpy.
Every refusal is a 4xx with a sentence, or 502 when Asterisk cannot be asked.
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass
from typing import Any

from aiohttp import web
from panoramisk import Manager

from hotline.center import Center, Supervisor
from hotline.logs import get_logger

log = get_logger(__name__)

MODES = ("listen", "whisper", "barge")
LABELS = {"listen": "监听", "whisper": "密语", "barge": "强插"}
RING_S = 30
# DEVICE_STATE of a phone that can take the spy call now; anything else is busy or away.
_FREE = "NOT_INUSE"
_AWAY = ("UNAVAILABLE", "INVALID", "UNKNOWN", "")


class SpyRefused(Exception):
    """The spy cannot start; `status` is the HTTP status that says why."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


class SpyActions:
    """The AMI side of a spy, on the seat's node."""

    def __init__(self, manager: Manager, timeout_s: float = 10.0) -> None:
        self.manager = manager
        self.timeout_s = timeout_s

    async def _send(self, action: dict[str, Any], as_list: bool = False) -> Any:
        try:
            reply = await asyncio.wait_for(self.manager.send_action(action, as_list=as_list),
                                           self.timeout_s)
        except TimeoutError:
            raise SpyRefused(502, f"Asterisk did not answer {action['Action']}") from None
        replies = reply if isinstance(reply, list) else [reply]
        if not replies or replies[0].get("Response") != "Success":
            message = replies[0].get("Message", "") if replies else ""
            raise SpyRefused(502, f"{action['Action']} refused by Asterisk: {message}")
        return replies if as_list else replies[0]

    async def seat_call(self, seat_id: str) -> str | None:
        """The seat's channel that is up and in a bridge (talking), or None."""
        replies = await self._send({"Action": "CoreShowChannels"}, as_list=True)
        prefix = f"PJSIP/{seat_id}-"
        for m in replies:
            if (m.get("Event") == "CoreShowChannel" and m.get("Channel", "").startswith(prefix)
                    and m.get("ChannelState") == "6" and m.get("BridgeId")):
                return str(m.get("Channel"))
        return None

    async def phone_state(self, phone_id: str) -> str:
        reply = await self._send({"Action": "Getvar",
                                  "Variable": f"DEVICE_STATE(PJSIP/{phone_id})"})
        return str(reply.get("Value") or "")

    async def originate(self, sup: Supervisor, seat_id: str, target: str, mode: str) -> None:
        """Ring the supervisor's phone; answered, it runs supervisor-spy,<mode> on `target`.
        Async: the AMI connection the engine reads events from must never wait for a phone."""
        await self._send({
            "Action": "Originate", "Channel": f"PJSIP/{sup.id}", "Context": "supervisor-spy",
            "Exten": mode, "Priority": "1", "Timeout": str(RING_S * 1000), "Async": "true",
            "CallerID": f'"{LABELS[mode]} {seat_id}" <{seat_id}>',
            "Variable": [f"SPY_TARGET={target}", f"SPY_SEAT={seat_id}"]})


@dataclass(frozen=True)
class SpyRequest:
    seat: str
    phone: Supervisor
    mode: str


def read_request(center: Center, seat_id: str, body: Any) -> SpyRequest:
    """Check what the wallboard asked for, before Asterisk is asked anything."""
    if not isinstance(body, dict):
        raise SpyRefused(400, 'the body must be a JSON object like {"mode": "listen", '
                              '"phone": "9001"}')
    mode = body.get("mode")
    if mode not in MODES:
        raise SpyRefused(400, f"mode must be one of {', '.join(MODES)}, got {mode!r}")
    seat = next((s for s in center.seats if s.id == seat_id), None)
    if seat is None:
        raise SpyRefused(404, f"no seat {seat_id!r}")
    phones = ", ".join(s.id for s in center.supervisors) or "none in the center file"
    phone_id = body.get("phone")
    if not isinstance(phone_id, str) or not phone_id:
        raise SpyRefused(400, f"phone is required: the supervisor phone to ring ({phones})")
    phone = next((s for s in center.supervisors if s.id == phone_id), None)
    if phone is None:
        raise SpyRefused(404, f"no supervisor phone {phone_id!r} ({phones})")
    if phone.node != seat.node:
        raise SpyRefused(409, f"supervisor phone {phone.id} is on node {phone.node}, seat "
                              f"{seat.id} on node {seat.node}: ChanSpy works within one node")
    return SpyRequest(seat=seat.id, phone=phone, mode=mode)


async def start(actions: SpyActions, req: SpyRequest) -> str:
    """The seat's channel now being offered to the supervisor's phone."""
    target = await actions.seat_call(req.seat)
    if target is None:
        raise SpyRefused(409, f"seat {req.seat} is not on a call")
    state = await actions.phone_state(req.phone.id)
    if state in _AWAY:
        raise SpyRefused(409, f"supervisor phone {req.phone.id} is not registered")
    if state != _FREE:
        raise SpyRefused(409, f"supervisor phone {req.phone.id} is busy ({state.lower()})")
    await actions.originate(req.phone, req.seat, target, req.mode)
    return target


class SpyRoutes:
    """The two web routes; app.py wraps them in its role and CSRF guard."""

    def __init__(self, engine: Any, center: Center) -> None:
        self.engine = engine
        self.center = center

    async def phones(self, request: web.Request) -> web.Response:
        """The supervisor phones the wallboard offers, and the modes."""
        return web.json_response({
            "phones": [{"id": s.id, "name": s.name, "node": s.node}
                       for s in self.center.supervisors],
            "modes": [{"mode": m, "label": LABELS[m]} for m in MODES]})

    async def spy(self, request: web.Request) -> web.Response:
        seat_id = request.match_info["seat"]
        try:
            body = await request.json() if request.can_read_body else None
        except json.JSONDecodeError:
            return web.json_response({"error": "the body is not JSON"}, status=400)
        try:
            req = read_request(self.center, seat_id, body)
            manager = self.engine.manager(req.phone.node)
            if manager is None:
                raise SpyRefused(502, "Asterisk is not connected")
            target = await start(SpyActions(manager), req)
        except SpyRefused as exc:
            log.info("spy refused", seat=seat_id, status=exc.status, reason=str(exc))
            return web.json_response({"error": str(exc)}, status=exc.status)
        user = request.get("user")
        log.info("spy started", seat=req.seat, phone=req.phone.id, mode=req.mode,
                 target=target, by=getattr(user, "name", ""))
        return web.json_response({"seat": req.seat, "phone": req.phone.id, "mode": req.mode,
                                  "target": target, "status": "ringing"}, status=202)
