"""The pages and the live feed: login and logout, the wallboard, the seat console, the inspector's
page, the revisit page, the listening audit, and the WebSocket that carries the engine's snapshot and then every
change it publishes on Redis (`hotline:<center>:changes`); a page that loses its socket says it
is stale and reconnects. Pages put data into the DOM as text only (never as HTML), and hold no
inline script: what a page needs to know (CSRF token, seat, center) is in its <meta> tags,
HTML-escaped, and its code is a file under /static, so the Content Security Policy
(acd/web/auth.py) forbids every inline script.

An open WebSocket is re-checked every `RECHECK_S`: once its user is removed, reset, logged out
or revoked, the socket is closed with code 4401 and the page goes to the login page.
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import html
import json
import time
from pathlib import Path

import redis.asyncio as aioredis
from aiohttp import WSCloseCode, web
from redis.exceptions import RedisError
from sqlalchemy.orm import Session

from acd.history.db import in_session
from acd.web.auth import (
    ACTOR,
    COOKIE,
    COOKIES,
    CSRF,
    EVERYONE,
    LIMITER,
    SESSION,
    USER,
    allow,
    current_user,
    set_session_cookie,
)
from acd.web.deps import CENTER, ENGINE, REDIS_URL, SESSIONS
from acd.web.errors import error
from acd.web.scope import LiveScope
from acd.web.titles import titles_json, wallboard_json
from acd.web.users import PASSWORD_MAX, Verified, WebUser, revoke, upgrade_hash, verify
from hotline.logs import get_logger

log = get_logger(__name__)
STATIC = Path(__file__).resolve().parent / "static"
LANDING = {"supervisor": "/wallboard", "admin": "/wallboard", "seat": "/seat",
           "inspector": "/inspect", "unit": "/unit", "revisit": "/revisit"}
RECHECK_S = 2.0  # how often an open WebSocket's session is checked again
REVOKED = 4401   # WebSocket close code: the session ended (the page goes to /login)


def _page(name: str, request: web.Request) -> web.Response:
    """A page from static/, with what its script needs in <meta> tags (escaped): the CSRF
    token, who is logged in, and every title it shows for a code (acd/web/titles.py)."""
    center = request.config_dict[CENTER]
    user: WebUser = request[USER]
    home = user.center if user.center in center.codes else center.code  # the user's center
    values = {"csrf": request[CSRF], "center": home, "seat": user.seat_id,
              "user": user.name, "role": user.role, "center_name": center.center_name(home),
              "reasons": json.dumps(list(center.busy_reasons)), "titles": titles_json(center),
              "wallboard": wallboard_json(center)}
    page = (STATIC / name).read_text(encoding="utf-8")
    for key, value in values.items():
        page = page.replace("{{" + key + "}}", html.escape(value, quote=True))
    return web.Response(text=page, content_type="text/html")


page = _page  # a page of static/ with the session's CSRF token (the back office's too)


@allow(*EVERYONE, page=True)
async def home(request: web.Request) -> web.StreamResponse:
    """Each role's own page; an analyst (who has reports, not a page) gets the list of pages."""
    user: WebUser = request[USER]
    if user.role in LANDING:
        raise web.HTTPFound(LANDING[user.role])
    return _page("home.html", request)


@allow("supervisor", "admin", page=True)
async def wallboard(request: web.Request) -> web.Response:
    return _page("wallboard.html", request)


@allow("seat", page=True)
async def seat_console(request: web.Request) -> web.Response:
    return _page("seat.html", request)


@allow("inspector", "supervisor", "admin", page=True)
async def inspector(request: web.Request) -> web.Response:
    return _page("inspector.html", request)


@allow("revisit", "supervisor", "admin", page=True)
async def revisit(request: web.Request) -> web.Response:
    """The revisit worker's page (回访): the day's list and a form for each result."""
    return _page("revisit.html", request)


@allow("admin", page=True)
async def audit(request: web.Request) -> web.Response:
    """监听审计: who listened to which seat, how and how long (acd/history/spy.py)."""
    return _page("audit.html", request)


# Why the login page is shown again, as ?why= says (a page whose session ended goes there).
WHY = {"ended": "您的登录已失效（已退出、密码已重置或账号已被删除），请重新登录。"}


def _login_page(message: str = "", name: str = "", status: int = 200) -> web.Response:
    page = (STATIC / "login.html").read_text(encoding="utf-8")
    page = page.replace("{{error}}", html.escape(message)).replace(
        "{{name}}", html.escape(name, quote=True))
    return web.Response(text=page, content_type="text/html", status=status)


async def login_form(request: web.Request) -> web.Response:
    return _login_page(WHY.get(request.query.get("why", ""), ""))


async def login(request: web.Request) -> web.StreamResponse:
    """A wrong name or password is the login page again, saying so in Chinese (401); too many
    failures from this name or address, the same with 429."""
    form = await request.post()
    name, password = str(form.get("name", ""))[:60], str(form.get("password", ""))
    peer = request.remote or "?"
    limiter = request.config_dict[LIMITER]
    if limiter.blocked(f"u:{name}", f"a:{peer}"):
        return _login_page("登录失败次数过多，请一分钟后再试。", name, 429)
    if not name or not password:
        return _login_page("请输入用户名和密码。", name, 400)
    sessions = request.config_dict[SESSIONS]
    codes = request.config_dict[CENTER].codes  # a user of any center of the deployment

    def check(s: Session) -> tuple[Verified | None, str, str, int]:
        """The password checked (argon2 takes its time: off the event loop too)."""
        user = s.get(WebUser, name)
        checked = None
        if user is not None and user.center in codes and len(password) <= PASSWORD_MAX:
            checked = verify(user.password, password)
        if user is None:
            return checked, "", "", 0
        return checked, user.password, user.role, user.session_version
    checked, stored, role, version = await in_session(sessions, check)
    if checked is None or not checked.ok:
        limiter.failed(f"u:{name}", f"a:{peer}")
        log.info("login failed", user=name, peer=peer)
        return _login_page("用户名或密码错误。", name, 401)
    if checked.rehash:  # an old scrypt hash: argon2id from now on
        await asyncio.to_thread(upgrade_hash, sessions, name, stored, password)
        log.info("password hash upgraded", user=name)
    cookie, _ = request.config_dict[COOKIES].issue(name, version)
    resp = web.HTTPFound(LANDING.get(role, "/"))
    set_session_cookie(request, resp, cookie)
    raise resp


async def logout(request: web.Request) -> web.StreamResponse:
    """End the session: with one, the page's CSRF token is required and every session of the
    user ends (the session version is raised), open pages included. Without one, the cookie
    is just cleared."""
    user: WebUser | None = request.get(USER)
    if user is not None:
        if not hmac.compare_digest(request.headers.get("X-CSRF-Token", ""), request[CSRF]):
            return error(403, "missing or wrong CSRF token")
        await asyncio.to_thread(revoke, request.config_dict[SESSIONS], user.name)
        log.info("logged out", user=user.name)
    resp = web.HTTPSeeOther("/login")
    resp.del_cookie(COOKIE, path="/")
    raise resp


async def _still_valid(request: web.Request, name: str) -> bool:
    user = await current_user(request, request.get(SESSION))
    return user is not None and user.name == name and user.role == request[USER].role


@allow("seat", "supervisor", "admin")
async def live_feed(request: web.Request) -> web.WebSocketResponse:
    engine = request.config_dict[ENGINE]
    redis_url = request.config_dict[REDIS_URL]
    name = request[USER].name if USER in request else ""
    scope = LiveScope(request.config_dict[CENTER], request[ACTOR])  # its center's queues
    sock = web.WebSocketResponse(heartbeat=20)
    await sock.prepare(request)
    await sock.send_json({"kind": "snapshot", "data": scope.snapshot(engine.snapshot())})
    if not redis_url:
        await sock.close()
        return sock
    r = aioredis.from_url(redis_url)
    pubsub = r.pubsub()
    checked = time.monotonic()
    # The page sends nothing, but its close (or its going away) must be read, or this loop
    # would go on feeding a socket nobody holds.
    reader = asyncio.create_task(_drain(sock))
    try:
        await pubsub.subscribe(f"hotline:{request.config_dict[CENTER].code}:changes")
        while not sock.closed and not reader.done():
            if name and time.monotonic() - checked >= RECHECK_S:
                checked = time.monotonic()
                if not await _still_valid(request, name):
                    log.info("websocket closed: session ended", user=name)
                    reader.cancel()  # close() reads the page's answer itself
                    with contextlib.suppress(asyncio.CancelledError):
                        await reader
                    await sock.close(code=REVOKED, message=b"session ended")
                    break
            message = await pubsub.get_message(ignore_subscribe_messages=True,
                                               timeout=min(1.0, RECHECK_S))
            if message is None:
                continue
            change = json.loads(message["data"])
            if change.get("kind") == "snapshot":
                await sock.send_json({"kind": "snapshot",
                                      "data": scope.snapshot(engine.snapshot())})
            elif scope.change(change):
                await sock.send_json(change)
    except (RedisError, OSError, ConnectionResetError) as exc:
        log.warning("wallboard feed stopped", error=str(exc))
    finally:
        reader.cancel()
        await pubsub.aclose()
        await r.aclose()
        if not sock.closed:
            await sock.close(code=WSCloseCode.GOING_AWAY)
    return sock


async def _drain(sock: web.WebSocketResponse) -> None:
    """Read (and drop) what the page sends, so its close frame ends the feed."""
    async for _ in sock:
        pass


ROUTES = [
    web.get("/", home),
    web.get("/login", login_form),
    web.post("/login", login),
    web.post("/logout", logout),
    web.get("/wallboard", wallboard),
    web.get("/seat", seat_console),
    web.get("/inspect", inspector),
    web.get("/revisit", revisit),
    web.get("/audit", audit),
    web.get("/ws", live_feed),
    web.static("/static", STATIC),
]
