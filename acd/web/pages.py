"""The pages and the live feed: login and logout, the wallboard, the seat console, the inspector's
page, and the WebSocket that carries the engine's snapshot and then every change it publishes
on Redis (`hotline:<center>:changes`); a page that loses its socket says it is stale and
reconnects. Pages put data into the DOM as text only (never as HTML).
"""

from __future__ import annotations

import json
from pathlib import Path

import redis.asyncio as aioredis
from aiohttp import web
from redis.exceptions import RedisError
from sqlalchemy.orm import Session

from acd.history.db import in_session
from acd.web.auth import COOKIE, COOKIES, EVERYONE, LIMITER, SESSION_S, allow
from acd.web.deps import CENTER, ENGINE, REDIS_URL, SESSIONS
from acd.web.users import WebUser, check_password
from hotline.logs import get_logger

log = get_logger(__name__)
STATIC = Path(__file__).resolve().parent / "static"
CSP = "default-src 'self'; script-src 'self' 'unsafe-inline'; connect-src 'self' ws: wss:"
LANDING = {"supervisor": "/wallboard", "admin": "/wallboard", "seat": "/seat",
           "inspector": "/inspect"}


def _page(name: str, request: web.Request) -> web.Response:
    center = request.config_dict[CENTER]
    user: WebUser = request["user"]
    html = (STATIC / name).read_text(encoding="utf-8")
    html = html.replace("{{csrf}}", request["csrf"]).replace(
        "{{center}}", json.dumps(center.code)).replace(
        "{{seat}}", json.dumps(user.seat_id)).replace(
        "{{reasons}}", json.dumps(list(center.busy_reasons)))
    return web.Response(text=html, content_type="text/html",
                        headers={"Content-Security-Policy": CSP})


@allow(*EVERYONE, page=True)
async def home(request: web.Request) -> web.Response:
    user: WebUser = request["user"]
    return web.Response(text=f"12328 · {request.config_dict[CENTER].code}\n"
                             f"{user.name} ({user.role})\n/wallboard  /seat  /api/openapi.json")


@allow("supervisor", "admin", page=True)
async def wallboard(request: web.Request) -> web.Response:
    return _page("wallboard.html", request)


@allow("seat", page=True)
async def seat_console(request: web.Request) -> web.Response:
    return _page("seat.html", request)


@allow("inspector", "supervisor", "admin", page=True)
async def inspector(request: web.Request) -> web.Response:
    return _page("inspector.html", request)


async def login_form(request: web.Request) -> web.FileResponse:
    return web.FileResponse(STATIC / "login.html")


async def login(request: web.Request) -> web.StreamResponse:
    form = await request.post()
    name, password = str(form.get("name", "")), str(form.get("password", ""))
    peer = request.remote or "?"
    limiter = request.config_dict[LIMITER]
    if limiter.blocked(f"u:{name}", f"a:{peer}"):
        return web.Response(status=429, text="too many failed logins; wait a minute")
    def check(s: Session) -> tuple[bool, str]:
        user = s.get(WebUser, name)
        ok = user is not None and user.center == request.config_dict[CENTER].code and \
            check_password(user.password, password)
        return ok, user.role if ok and user is not None else ""
    ok, role = await in_session(request.config_dict[SESSIONS], check)
    if not ok:
        limiter.failed(f"u:{name}", f"a:{peer}")
        return web.Response(status=401, text="wrong name or password")
    cookie, _ = request.config_dict[COOKIES].issue(name)
    resp = web.HTTPFound(LANDING.get(role, "/"))
    resp.set_cookie(COOKIE, cookie, httponly=True, samesite="Strict", max_age=SESSION_S)
    raise resp


async def logout(request: web.Request) -> web.StreamResponse:
    resp = web.HTTPFound("/login")
    resp.del_cookie(COOKIE)
    raise resp


@allow("seat", "supervisor", "admin")
async def live_feed(request: web.Request) -> web.WebSocketResponse:
    engine = request.config_dict[ENGINE]
    redis_url = request.config_dict[REDIS_URL]
    sock = web.WebSocketResponse(heartbeat=20)
    await sock.prepare(request)
    await sock.send_json({"kind": "snapshot", "data": engine.snapshot()})
    if not redis_url:
        await sock.close()
        return sock
    r = aioredis.from_url(redis_url)
    pubsub = r.pubsub()
    try:
        await pubsub.subscribe(f"hotline:{request.config_dict[CENTER].code}:changes")
        while not sock.closed:
            message = await pubsub.get_message(ignore_subscribe_messages=True, timeout=1.0)
            if message is None:
                continue
            change = json.loads(message["data"])
            if change.get("kind") == "snapshot":
                await sock.send_json({"kind": "snapshot", "data": engine.snapshot()})
            else:
                await sock.send_json(change)
    except (RedisError, OSError, ConnectionResetError) as exc:
        log.warning("wallboard feed stopped", error=str(exc))
    finally:
        await pubsub.aclose()
        await r.aclose()
        await sock.close()
    return sock


ROUTES = [
    web.get("/", home),
    web.get("/login", login_form),
    web.post("/login", login),
    web.post("/logout", logout),
    web.get("/wallboard", wallboard),
    web.get("/seat", seat_console),
    web.get("/inspect", inspector),
    web.get("/ws", live_feed),
    web.static("/static", STATIC),
]
