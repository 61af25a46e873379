"""The engine's HTTP API (aiohttp), served by `hotline engine run`.

    GET  /api/live                          the live snapshot (queues, seats, nodes)
    GET  /api/metrics                       the same in Prometheus text format
    POST /api/seats/{seat}/signin           {"queues": [...]} optional
    POST /api/seats/{seat}/signout
    POST /api/seats/{seat}/busy             {"reason": "meal"}
    POST /api/seats/{seat}/ready
    POST /api/seats/{seat}/end-wrapup

Every request carries `Authorization: Bearer <token>` (`hotline engine token add`). A seat
acts on itself only; a supervisor on any seat of its center. Errors are JSON:
`{"error": "..."}` with 400 (bad input), 401 (no or unknown token), 403 (not allowed),
404 (no such seat), 409 (a refused transition), 502 (Asterisk refused or did not answer).
Work orders and the knowledge base: acd/orders/http.py.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web
from sqlalchemy.orm import Session, sessionmaker

from acd.api import tokens
from acd.orders.http import add_routes
from acd.seats.actions import SeatActionError, SeatActions
from hotline.center import Center
from hotline.logs import get_logger

log = get_logger(__name__)
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
ACTIONS = ("signin", "signout", "busy", "ready", "end-wrapup")


def _error(status: int, message: str) -> web.Response:
    return web.json_response({"error": message}, status=status)


def make_app(engine: Any, center: Center, sessions: sessionmaker[Session]) -> web.Application:
    @web.middleware
    async def auth(request: web.Request, handler: Handler) -> web.StreamResponse:
        header = request.headers.get("Authorization", "")
        if not header.startswith("Bearer "):
            return _error(401, "an Authorization: Bearer <token> header is required")
        caller = tokens.lookup(sessions, header[7:].strip())
        if caller is None or caller.center != center.code:
            return _error(401, "unknown token")
        request["caller"] = caller
        return await handler(request)

    async def live(request: web.Request) -> web.Response:
        return web.json_response(engine.snapshot())

    async def seat_action(request: web.Request) -> web.Response:
        caller: tokens.Caller = request["caller"]
        seat_id, action = request.match_info["seat"], request.match_info["action"]
        if action not in ACTIONS:
            return _error(404, f"no action {action!r}; one of {', '.join(ACTIONS)}")
        seat = next((s for s in center.seats if s.id == seat_id), None)
        if seat is None:
            return _error(404, f"no seat {seat_id!r} in center {center.code}")
        if caller.role == "seat" and caller.seat_id != seat_id:
            return _error(403, "a seat acts on itself only")
        if caller.role not in ("seat", "supervisor", "admin"):
            return _error(403, f"role {caller.role!r} may not act on seats")
        body: dict[str, Any] = {}
        if request.can_read_body:
            try:
                body = await request.json()
            except (json.JSONDecodeError, UnicodeDecodeError):
                return _error(400, "the body is not JSON")
            if not isinstance(body, dict):
                return _error(400, "the body must be a JSON object")
        manager = engine.manager(seat.node)
        if manager is None:
            return _error(502, f"Asterisk node {seat.node} is not connected")
        actions = SeatActions(center, manager)
        try:
            if action == "signin":
                queues = body.get("queues", [])
                if not isinstance(queues, list) or not all(isinstance(q, str) for q in queues):
                    return _error(400, "queues must be a list of queue names")
                known = {q.name for q in center.queues}
                if set(queues) - known:
                    return _error(400, f"unknown queue(s): {sorted(set(queues) - known)}")
                await actions.sign_in(seat_id, tuple(queues))
            elif action == "signout":
                await actions.sign_out(seat_id)
            elif action == "busy":
                reason = body.get("reason")
                if not isinstance(reason, str) or reason not in center.busy_reasons:
                    return _error(400, f"reason must be one of {', '.join(center.busy_reasons)}")
                await actions.busy(seat_id, reason)
            elif action == "ready":
                await actions.ready(seat_id)
            else:
                state = engine.model.seats.get(seat_id)
                if state is None or state.state.value != "wrapup":
                    return _error(400, "the seat is not in wrap-up")
                await actions.end_wrapup(seat_id, tuple(sorted(state.queues)))
        except SeatActionError as exc:
            return _error(502, str(exc))
        log.info("seat action", seat=seat_id, action=action, by=caller.name)
        return web.json_response({"seat": seat_id, "action": action, "done": True})

    async def metrics(request: web.Request) -> web.Response:
        """Prometheus text format: waiting calls, seats by state, events, AMI connection."""
        snap = engine.snapshot()
        lines = ["# HELP hotline_calls_waiting Callers waiting in a queue now.",
                 "# TYPE hotline_calls_waiting gauge"]
        for name, q in sorted(snap["queues"].items()):
            lines.append(f'hotline_calls_waiting{{queue="{name}"}} {q["waiting_count"]}')
        lines += ["# HELP hotline_seats Seats by state.", "# TYPE hotline_seats gauge"]
        states: dict[str, int] = {}
        for seat in snap["seats"].values():
            states[seat["state"]] = states.get(seat["state"], 0) + 1
        for state, n in sorted(states.items()):
            lines.append(f'hotline_seats{{state="{state}"}} {n}')
        lines += ["# HELP hotline_ami_events_total AMI events processed.",
                  "# TYPE hotline_ami_events_total counter"]
        for name, node in sorted(snap["nodes"].items()):
            lines.append(f'hotline_ami_events_total{{node="{name}"}} {node["events"]}')
        lines += ["# HELP hotline_ami_up 1 while the AMI connection to the node is up.",
                  "# TYPE hotline_ami_up gauge"]
        for name, node in sorted(snap["nodes"].items()):
            lines.append(f'hotline_ami_up{{node="{name}"}} {1 if node["ami"] == "up" else 0}')
        return web.Response(text="\n".join(lines) + "\n",
                            content_type="text/plain", charset="utf-8")

    api = web.Application(middlewares=[auth])
    api.router.add_get("/metrics", metrics)
    api.router.add_get("/live", live)
    api.router.add_post("/seats/{seat}/{action}", seat_action)
    add_routes(api, center, sessions)
    app = web.Application()
    app.add_subapp("/api", api)
    return app
