"""The engine's HTTP API (aiohttp), served by `hotline engine run`.

    GET  /api/live                          the live snapshot (queues, seats, nodes)
    GET  /api/metrics                       the same in Prometheus text format
    POST /api/seats/{seat}/signin           {"queues": [...]} optional
    POST /api/seats/{seat}/signout
    POST /api/seats/{seat}/busy             {"reason": "meal"}
    POST /api/seats/{seat}/ready
    POST /api/seats/{seat}/end-wrapup

Every request carries `Authorization: Bearer <token>` (`hotline engine token add`). A seat
acts on itself only; a supervisor on any seat of its center (acd/seats/service.py). Errors are
JSON, `{"error": "..."}`, their status chosen by the error's type (acd/web/errors.py): 400 (bad
input), 401 (no or unknown token), 403 (not allowed), 404 (no such seat), 409 (a refused
transition), 502 (Asterisk refused, did not answer, or is not connected).
Work orders and the knowledge base: acd/orders/http.py.
"""

from __future__ import annotations

from aiohttp import web

from acd.orders import http as orders_http
from acd.web.auth import allow, tokens_middleware
from acd.web.deps import ENGINE
from acd.web.seats import seat_action

API_ROLES = ("seat", "supervisor", "admin")  # the roles a token can have


@allow(*API_ROLES)
async def live(request: web.Request) -> web.Response:
    return web.json_response(request.config_dict[ENGINE].snapshot())


@allow(*API_ROLES)
async def metrics(request: web.Request) -> web.Response:
    """Prometheus text format: waiting calls, seats by state, events, AMI connection."""
    snap = request.config_dict[ENGINE].snapshot()
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
    lines += ["# HELP hotline_ledger_backlog Changes kept in the journal, not yet in the database.",
              "# TYPE hotline_ledger_backlog gauge"]
    for name, node in sorted(snap["nodes"].items()):
        lines.append(f'hotline_ledger_backlog{{node="{name}"}} '
                     f'{node.get("ledger", {}).get("backlog", 0)}')
    lines += ["# HELP hotline_ledger_failures_total Database writes refused (then retried).",
              "# TYPE hotline_ledger_failures_total counter"]
    for name, node in sorted(snap["nodes"].items()):
        lines.append(f'hotline_ledger_failures_total{{node="{name}"}} '
                     f'{node.get("ledger", {}).get("failures", 0)}')
    return web.Response(text="\n".join(lines) + "\n", content_type="text/plain",
                        charset="utf-8")


ROUTES = [
    web.get("/live", live),
    web.get("/metrics", metrics),
    web.post("/seats/{seat}/{action}", seat_action),
    *orders_http.ROUTES,
]


def make_api() -> web.Application:
    """The API, mounted at /api by acd/web/app.py (its keys are the parent app's)."""
    api = web.Application(middlewares=[tokens_middleware])
    api.add_routes(ROUTES)
    return api
