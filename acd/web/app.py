"""The web pages, served by the engine beside its API: login, the supervisor wallboard, the seat
console. Live data comes over a WebSocket: the snapshot first, then every change the engine
publishes on Redis (`hotline:<center>:changes`); a page that loses its socket says it is stale
and reconnects.

Security: passwords hashed with scrypt; a signed session cookie (HttpOnly, SameSite=Strict);
a CSRF token, bound to the session, required on every state-changing request; login attempts
rate-limited per user and address; every route declares the roles that may use it. Pages put
data into the DOM as text only (never as HTML).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import time
from collections import defaultdict, deque
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import redis.asyncio as aioredis
from aiohttp import web
from redis.exceptions import RedisError
from sqlalchemy.orm import Session, sessionmaker

from acd.live.broadcast import Broadcasts
from acd.orders.models import WorkOrder
from acd.seats.actions import SeatActionError, SeatActions
from acd.web.console import Console
from acd.web.inspector import Inspector, recordings_dirs
from acd.web.spy import SpyRoutes
from acd.web.users import WebUser, check_password
from hotline.center import Center
from hotline.logs import get_logger

log = get_logger(__name__)
STATIC = Path(__file__).resolve().parent / "static"
COOKIE = "hotline_session"
SESSION_S = 12 * 3600
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

# route -> roles allowed (the role matrix the tests walk)
ROLES: dict[str, tuple[str, ...]] = {
    "/": ("seat", "supervisor", "inspector", "analyst", "admin"),
    "/wallboard": ("supervisor", "admin"),
    "/seat": ("seat",),
    "/ws": ("seat", "supervisor", "admin"),
    "/web/seats/{seat}/{action}": ("seat", "supervisor", "admin"),
    "/web/broadcast": ("supervisor", "admin"),
    "/web/calls/{uniqueid}": ("seat", "supervisor", "admin"),
    "/web/orders": ("seat",),
    "/web/kb": ("seat", "supervisor", "admin"),
    "/web/kb/{id}/used": ("seat",),
    "/web/calls/{uniqueid}/survey": ("seat",),
    # the quality inspector's view (acd/web/inspector.py); recordings are not for seats/analysts
    "/inspect": ("inspector", "supervisor", "admin"),
    "/web/inspect": ("inspector", "supervisor", "admin"),  # .../center|recordings|sample|timeline
    "/web/recordings/{uniqueid}": ("inspector", "supervisor", "admin"),
    # a supervisor's phone listens in on / whispers to / barges into a seat's call (acd/web/spy.py)
    "/web/spy/phones": ("supervisor", "admin"),
    "/web/spy/{seat}": ("supervisor", "admin"),
}


class Sessions:
    """Signed, expiring session cookies carrying the user name and a CSRF token."""

    def __init__(self, secret: bytes) -> None:
        self.secret = secret

    def _sign(self, payload: bytes) -> str:
        return hmac.new(self.secret, payload, hashlib.sha256).hexdigest()

    def issue(self, name: str) -> tuple[str, str]:
        csrf = secrets.token_urlsafe(16)
        payload = base64.urlsafe_b64encode(json.dumps(
            {"u": name, "exp": int(time.time()) + SESSION_S, "csrf": csrf}).encode())
        return payload.decode() + "." + self._sign(payload), csrf

    def read(self, cookie: str | None) -> dict[str, Any] | None:
        if not cookie or "." not in cookie:
            return None
        payload, sig = cookie.rsplit(".", 1)
        if not hmac.compare_digest(self._sign(payload.encode()), sig):
            return None
        try:
            data = json.loads(base64.urlsafe_b64decode(payload.encode()))
        except (ValueError, json.JSONDecodeError):
            return None
        return data if isinstance(data, dict) and data.get("exp", 0) > time.time() else None


class LoginLimiter:
    """At most 5 failed logins a minute per user name and per address."""

    def __init__(self, limit: int = 5, window_s: float = 60.0) -> None:
        self.limit, self.window = limit, window_s
        self.failures: dict[str, deque[float]] = defaultdict(deque)

    def blocked(self, *keys: str) -> bool:
        now = time.monotonic()
        for key in keys:
            q = self.failures[key]
            while q and now - q[0] > self.window:
                q.popleft()
            if len(q) >= self.limit:
                return True
        return False

    def failed(self, *keys: str) -> None:
        for key in keys:
            self.failures[key].append(time.monotonic())


def secret_file(directory: Path) -> bytes:
    path = directory / "web-secret"
    if not path.exists():
        directory.mkdir(parents=True, exist_ok=True)
        path.write_bytes(secrets.token_bytes(32))
        path.chmod(0o600)
    return path.read_bytes()


def setup_web(app: web.Application, engine: Any, center: Center,
              sessions: sessionmaker[Session], redis_url: str | None, secret: bytes) -> None:
    cookies = Sessions(secret)
    limiter = LoginLimiter()

    def user_of(request: web.Request) -> tuple[WebUser, dict[str, Any]] | None:
        data = cookies.read(request.cookies.get(COOKIE))
        if data is None:
            return None
        with sessions() as s:
            user = s.get(WebUser, data["u"])
            if user is None or user.center != center.code:
                return None
            s.expunge(user)
            return user, data

    def guarded(route: str, handler: Handler, page: bool = False) -> Handler:
        allowed = ROLES[route]

        async def run(request: web.Request) -> web.StreamResponse:
            found = user_of(request)
            if found is None:
                if page:
                    raise web.HTTPFound("/login")
                return web.json_response({"error": "log in first"}, status=401)
            user, data = found
            if user.role not in allowed:
                return web.json_response({"error": f"not for role {user.role}"}, status=403)
            if request.method == "POST" and not hmac.compare_digest(
                    request.headers.get("X-CSRF-Token", ""), data["csrf"]):
                return web.json_response({"error": "missing or wrong CSRF token"}, status=403)
            request["user"], request["csrf"] = user, data["csrf"]
            return await handler(request)
        run.allowed_roles = allowed  # type: ignore[attr-defined]  # the role matrix test reads it
        return run

    def page(name: str) -> Handler:
        async def serve(request: web.Request) -> web.Response:
            html = (STATIC / name).read_text(encoding="utf-8")
            user: WebUser = request["user"]
            html = html.replace("{{csrf}}", request["csrf"]).replace(
                "{{center}}", json.dumps(center.code)).replace(
                "{{seat}}", json.dumps(user.seat_id)).replace(
                "{{reasons}}", json.dumps(list(center.busy_reasons)))
            return web.Response(text=html, content_type="text/html", headers={
                "Content-Security-Policy": "default-src 'self'; script-src 'self' "
                "'unsafe-inline'; connect-src 'self' ws: wss:"})
        return serve

    async def login_form(request: web.Request) -> web.Response:
        return web.FileResponse(STATIC / "login.html")  # type: ignore[return-value]

    async def login(request: web.Request) -> web.StreamResponse:
        form = await request.post()
        name, password = str(form.get("name", "")), str(form.get("password", ""))
        peer = request.remote or "?"
        if limiter.blocked(f"u:{name}", f"a:{peer}"):
            return web.Response(status=429, text="too many failed logins; wait a minute")
        with sessions() as s:
            user = s.get(WebUser, name)
            ok = user is not None and user.center == center.code and \
                check_password(user.password, password)
            role = user.role if ok and user is not None else ""
        if not ok:
            limiter.failed(f"u:{name}", f"a:{peer}")
            return web.Response(status=401, text="wrong name or password")
        cookie, _ = cookies.issue(name)
        resp = web.HTTPFound({"supervisor": "/wallboard", "admin": "/wallboard",
                              "seat": "/seat", "inspector": "/inspect"}.get(role, "/"))
        resp.set_cookie(COOKIE, cookie, httponly=True, samesite="Strict", max_age=SESSION_S)
        raise resp

    async def logout(request: web.Request) -> web.StreamResponse:
        resp = web.HTTPFound("/login")
        resp.del_cookie(COOKIE)
        raise resp

    async def ws(request: web.Request) -> web.WebSocketResponse:
        sock = web.WebSocketResponse(heartbeat=20)
        await sock.prepare(request)
        await sock.send_json({"kind": "snapshot", "data": engine.snapshot()})
        if redis_url is None:
            await sock.close()
            return sock
        r = aioredis.from_url(redis_url)
        pubsub = r.pubsub()
        try:
            await pubsub.subscribe(f"hotline:{center.code}:changes")
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

    async def seat_action(request: web.Request) -> web.Response:
        user: WebUser = request["user"]
        seat_id, action = request.match_info["seat"], request.match_info["action"]
        if user.role == "seat" and user.seat_id != seat_id:
            return web.json_response({"error": "a seat acts on itself only"}, status=403)
        seat = next((s for s in center.seats if s.id == seat_id), None)
        if seat is None:
            return web.json_response({"error": f"no seat {seat_id!r}"}, status=404)
        try:
            body = await request.json() if request.can_read_body else {}
        except json.JSONDecodeError:
            return web.json_response({"error": "the body is not JSON"}, status=400)
        manager = engine.manager(seat.node)
        if manager is None:
            return web.json_response({"error": "Asterisk is not connected"}, status=502)
        actions = SeatActions(center, manager)
        try:
            if action == "signin":
                await actions.sign_in(seat_id)
            elif action == "signout":
                await actions.sign_out(seat_id)
            elif action == "busy":
                await actions.busy(seat_id, str(body.get("reason", "")))
            elif action == "ready":
                await actions.ready(seat_id)
            else:
                return web.json_response({"error": f"no action {action!r}"}, status=404)
        except SeatActionError as exc:
            status = 400 if "reason" in str(exc) else 502
            return web.json_response({"error": str(exc)}, status=status)
        return web.json_response({"seat": seat_id, "action": action, "done": True})

    async def call_detail(request: web.Request) -> web.Response:
        """The call a seat is on: caller, wait, IVR path, earlier orders of the same number."""
        user: WebUser = request["user"]
        uid = request.match_info["uniqueid"]
        if user.role == "seat":
            mine = engine.model.seats.get(user.seat_id)
            if mine is None or mine.uniqueid != uid:
                return web.json_response({"error": "not your call"}, status=403)
        call = engine.model.calls.get(uid) or engine.links[center.nodes[0].name].ledger \
            .load_call(uid)
        if call is None:
            return web.json_response({"error": "no such call"}, status=404)
        from sqlalchemy import select

        with sessions() as s:
            earlier = [{"id": o.id, "type": o.type, "status": o.status,
                        "accepted": f"{o.accepted_at:%Y-%m-%d}", "content": o.content[:60]}
                       for o in s.scalars(select(WorkOrder).where(
                           WorkOrder.caller_number == call.caller, WorkOrder.center == center.code)
                           .order_by(WorkOrder.id.desc()).limit(5))] if call.caller else []
        stay = call.answered_stay or call.current
        return web.json_response({
            "uniqueid": call.uniqueid, "caller": call.caller, "name": call.caller_name,
            "queue": stay.queue if stay else "", "wait_s": call.wait_s,
            "ivr_path": call.ivr_path, "earlier_orders": earlier})

    async def broadcast(request: web.Request) -> web.Response:
        try:
            body = await request.json()
        except json.JSONDecodeError:
            return web.json_response({"error": "the body is not JSON"}, status=400)
        text = str(body.get("text", "")) if isinstance(body, dict) else ""
        b = Broadcasts(redis_url, center.code)
        try:
            if text.strip():
                await b.set(text)
            else:
                await b.clear()
        except (ValueError, RuntimeError) as exc:
            return web.json_response({"error": str(exc)}, status=400)
        except (RedisError, OSError) as exc:
            return web.json_response({"error": f"Redis: {exc}"}, status=502)
        finally:
            await b.close()
        return web.json_response({"broadcast": text.strip() or None})

    async def home(request: web.Request) -> web.Response:
        user: WebUser = request["user"]
        text = (f"12328 · {center.code}\n{user.name} ({user.role})\n"
                "/wallboard  /seat  /api/openapi.json")
        return web.Response(text=text)

    app.router.add_get("/", guarded("/", home, page=True))
    app.router.add_get("/login", login_form)
    app.router.add_post("/login", login)
    app.router.add_post("/logout", logout)
    app.router.add_get("/wallboard", guarded("/wallboard", page("wallboard.html"), page=True))
    app.router.add_get("/seat", guarded("/seat", page("seat.html"), page=True))
    app.router.add_get("/ws", guarded("/ws", ws))
    app.router.add_post("/web/seats/{seat}/{action}",
                        guarded("/web/seats/{seat}/{action}", seat_action))
    app.router.add_post("/web/broadcast", guarded("/web/broadcast", broadcast))
    app.router.add_get("/web/calls/{uniqueid}", guarded("/web/calls/{uniqueid}", call_detail))
    console = Console(engine, center, sessions)
    app.router.add_post("/web/orders", guarded("/web/orders", console.create_order))
    app.router.add_get("/web/kb", guarded("/web/kb", console.kb_search))
    app.router.add_post("/web/kb/{id}/used", guarded("/web/kb/{id}/used", console.kb_used))
    app.router.add_post("/web/calls/{uniqueid}/survey",
                        guarded("/web/calls/{uniqueid}/survey", console.to_survey))
    inspect = Inspector(center, sessions, recordings_dirs(engine), secret)
    app.router.add_get("/inspect", guarded("/inspect", page("inspector.html"), page=True))
    app.router.add_get("/web/inspect/center", guarded("/web/inspect", inspect.info_handler))
    app.router.add_get("/web/inspect/recordings",
                       guarded("/web/inspect", inspect.recordings_handler))
    app.router.add_get("/web/inspect/sample", guarded("/web/inspect", inspect.sample_handler))
    app.router.add_get("/web/inspect/timeline", guarded("/web/inspect", inspect.timeline_handler))
    app.router.add_get("/web/recordings/{uniqueid}",
                       guarded("/web/recordings/{uniqueid}", inspect.audio_handler))
    spy = SpyRoutes(engine, center)
    app.router.add_get("/web/spy/phones", guarded("/web/spy/phones", spy.phones))
    app.router.add_post("/web/spy/{seat}", guarded("/web/spy/{seat}", spy.spy))
    app.router.add_static("/static", STATIC)
