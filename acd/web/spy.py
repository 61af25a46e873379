"""A supervisor listens in on, whispers to or barges into a seat's call from the supervisor's
own phone (ChanSpy): the wallboard's buttons land here.

It asks Asterisk (acd/ami/actions.py), not the engine's model, whether the seat is on a call
(the model is a cache, and a seat-to-seat call is not in it), checks that the supervisor's
phone is registered and free, and originates a call to that phone which, once answered, runs
ChanSpy on the seat's exact channel in the chosen mode
(context `supervisor-spy` in asterisk_conf/templates/extensions_supervisor.conf). The route
answers 202 as soon as Asterisk has the call: the phone is ringing, the rest is the
supervisor's; Asterisk reports the spy itself as ChanSpyStart and UserEvent HotlineSpy.
Every refusal is a typed error with a sentence (a 4xx), or 502 when Asterisk cannot be asked.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from aiohttp import web
from panoramisk import Manager

from acd.ami import actions as ami
from acd.errors import Conflict, Forbidden, Invalid, NotFound, Unavailable
from acd.history import spy as spy_log
from acd.seats.service import Actor
from acd.web.auth import ACTOR, allow
from acd.web.deps import CENTER, ENGINE, SESSIONS
from acd.web.errors import json_body
from hotline.center import Center, Supervisor
from hotline.logs import get_logger

log = get_logger(__name__)

MODES = ("listen", "whisper", "barge")
LABELS = {"listen": "监听", "whisper": "密语", "barge": "强插"}
RING_S = 30
# DEVICE_STATE of a phone that can take the spy call now; anything else is busy or away.
_FREE = "NOT_INUSE"
_AWAY = ("UNAVAILABLE", "INVALID", "UNKNOWN", "")


@dataclass(frozen=True)
class SpyRequest:
    seat: str
    phone: Supervisor
    mode: str


def read_request(center: Center, seat_id: str, body: Any) -> SpyRequest:
    """Check what the wallboard asked for, before Asterisk is asked anything."""
    if not isinstance(body, dict):
        raise Invalid('the body must be a JSON object like {"mode": "listen", "phone": "9001"}')
    mode = body.get("mode")
    if mode not in MODES:
        raise Invalid(f"mode must be one of {', '.join(MODES)}, got {mode!r}")
    seat = next((s for s in center.seats if s.id == seat_id), None)
    if seat is None:
        raise NotFound(f"no seat {seat_id!r}")
    phones = ", ".join(s.id for s in center.supervisors) or "none in the center file"
    phone_id = body.get("phone")
    if not isinstance(phone_id, str) or not phone_id:
        raise Invalid(f"phone is required: the supervisor phone to ring ({phones})")
    phone = next((s for s in center.supervisors if s.id == phone_id), None)
    if phone is None:
        raise NotFound(f"no supervisor phone {phone_id!r} ({phones})")
    if phone.node != seat.node:
        raise Conflict(f"supervisor phone {phone.id} is on node {phone.node}, seat {seat.id} on "
                       f"node {seat.node}: ChanSpy works within one node")
    return SpyRequest(seat=seat.id, phone=phone, mode=mode)


async def seat_channel(manager: Manager, seat_id: str) -> str | None:
    """The seat's channel that is up and in a bridge (talking), or None."""
    prefix = f"PJSIP/{seat_id}-"
    return next((c.name for c in await ami.channels(manager)
                 if c.name.startswith(prefix) and c.talking), None)


async def start(manager: Manager, req: SpyRequest,
                audit: Callable[[str], int] | None = None, by: str = "") -> str:
    """Ring the supervisor's phone; answered, it runs supervisor-spy,<mode> on the seat's
    channel, which is returned. `audit(target)` opens the audit row before the phone rings."""
    target = await seat_channel(manager, req.seat)
    if target is None:
        raise Conflict(f"seat {req.seat} is not on a call")
    state = await ami.getvar(manager, f"DEVICE_STATE(PJSIP/{req.phone.id})")
    if state in _AWAY:
        raise Conflict(f"supervisor phone {req.phone.id} is not registered")
    if state != _FREE:
        raise Conflict(f"supervisor phone {req.phone.id} is busy ({state.lower()})")
    variables = {"SPY_TARGET": target, "SPY_SEAT": req.seat, "SPY_BY": by}
    if audit is not None:
        variables["SPY_AUDIT"] = str(audit(target))
    await ami.originate(manager, f"PJSIP/{req.phone.id}", "supervisor-spy", req.mode,
                        f'"{LABELS[req.mode]} {req.seat}" <{req.seat}>', variables, RING_S)
    return target


@allow("supervisor", "admin")
async def phones(request: web.Request) -> web.Response:
    """The supervisor phones the wallboard offers, and the modes."""
    center = request.config_dict[CENTER]
    return web.json_response({
        "phones": [{"id": s.id, "name": s.name, "node": s.node} for s in center.supervisors],
        "modes": [{"mode": m, "label": LABELS[m]} for m in MODES]})


@allow("supervisor", "admin")
async def spy(request: web.Request) -> web.Response:
    actor: Actor = request[ACTOR]
    seat_id = request.match_info["seat"]
    center = request.config_dict[CENTER]
    req = read_request(center, seat_id, await json_body(request))
    own = center.center_of_seat(req.seat)
    if not actor.deployment_wide(center) and own != actor.home(center):
        raise Forbidden(f"a {actor.role} of {actor.home(center)} listens to its own center's "
                        f"seats only, not {own}'s")
    manager = request.config_dict[ENGINE].manager(req.phone.node)
    if manager is None:
        raise Unavailable("Asterisk is not connected")

    def audit(target: str) -> int:
        return spy_log.requested(request.config_dict[SESSIONS], own, req.phone.node,
                                 req.phone.id, actor.name, req.seat, req.mode, target,
                                 datetime.now(UTC).replace(tzinfo=None))

    target = await start(manager, req, audit, by=actor.name)
    log.info("spy requested", seat=req.seat, phone=req.phone.id, mode=req.mode, target=target,
             by=actor.name)
    return web.json_response({"seat": req.seat, "phone": req.phone.id, "mode": req.mode,
                              "target": target, "status": "ringing"}, status=202)


STATUS_LABELS = {"requested": "已振铃未接听", "started": "监听中", "ended": "已结束",
                 "refused:no_call": "拒绝：座席无通话", "refused:not_a_seat": "拒绝：非座席",
                 "refused:no_target": "拒绝：无目标"}


def _iso(at: datetime | None, center: Center) -> str | None:
    return None if at is None else at.replace(tzinfo=UTC).astimezone(center.tz).isoformat(
        timespec="seconds")


@allow("admin")
async def audit_trail(request: web.Request) -> web.Response:
    """The listening audit of the last `days` days (1 to 366, default 30), newest first."""
    center = request.config_dict[CENTER]
    raw = request.query.get("days", "30")
    if not raw.isdigit() or not 1 <= int(raw) <= 366:
        raise Invalid("days must be a whole number from 1 to 366")
    since = datetime.now(UTC).replace(tzinfo=None) - timedelta(days=int(raw))
    home = request[ACTOR].home(center)  # the admin's own center's listening
    with request.config_dict[SESSIONS]() as s:
        rows = spy_log.recent(s, home, since)
        out = [{"id": r.id, "supervisor": r.supervisor, "by": r.by_user, "seat": r.seat,
                "mode": r.mode, "mode_label": LABELS.get(r.mode, r.mode), "target": r.target,
                "status": r.status, "status_label": STATUS_LABELS.get(r.status, r.status),
                "requested_at": _iso(r.requested_at, center),
                "started_at": _iso(r.started_at, center), "ended_at": _iso(r.ended_at, center),
                "seconds": round((r.ended_at - r.started_at).total_seconds())
                if r.started_at and r.ended_at else None} for r in rows]
    return web.json_response({"center": home, "days": int(raw), "sessions": out})


ROUTES = [web.get("/web/spy/phones", phones), web.post("/web/spy/{seat}", spy),
          web.get("/web/audit/spy", audit_trail)]
