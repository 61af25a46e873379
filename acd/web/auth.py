"""Who is asking, and may they: web sessions, API tokens, and the per-route role check.

- Web pages: a signed, expiring session cookie (HttpOnly, SameSite=Strict) carrying the user
  name and a CSRF token; `sessions_middleware` puts the user on the request.
- The API: `Authorization: Bearer <token>` (`hotline engine token add`); `tokens_middleware`.
- Both set `request["actor"]` (acd.seats.service.Actor), so a handler serves either.
- `allow(*roles)` wraps a handler with its role check (and, for a web session, the CSRF token
  on every POST); the route-walking test reads `handler.allowed_roles`.
- Failed logins are limited per user name and per address.
"""

from __future__ import annotations

import asyncio
import base64
import functools
import hashlib
import hmac
import json
import secrets
import time
from collections import defaultdict, deque
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from aiohttp import web
from sqlalchemy.orm import Session

from acd.api import tokens
from acd.history.db import in_session
from acd.seats.service import Actor
from acd.web.deps import CENTER, SECRET, SESSIONS
from acd.web.errors import Handler, error
from acd.web.users import WebUser

COOKIE = "hotline_session"
SESSION_S = 12 * 3600
EVERYONE = ("seat", "supervisor", "inspector", "analyst", "admin")


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


COOKIES = web.AppKey("cookies", Sessions)
LIMITER = web.AppKey("login_limiter", LoginLimiter)


def secret_file(directory: Path) -> bytes:
    path = directory / "web-secret"
    if not path.exists():
        directory.mkdir(parents=True, exist_ok=True)
        path.write_bytes(secrets.token_bytes(32))
        path.chmod(0o600)
    return path.read_bytes()


def actor_of(user: WebUser) -> Actor:
    return Actor(user.name, user.role, user.seat_id or "")


@web.middleware
async def sessions_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """The logged-in web user, if the session cookie is good and the user still exists."""
    data = request.config_dict[COOKIES].read(request.cookies.get(COOKIE))
    if data is not None:
        center = request.config_dict[CENTER]
        user = await in_session(request.config_dict[SESSIONS], lambda s: _detached(s, data["u"]))
        if user is not None and user.center == center.code:
            request["user"], request["csrf"] = user, data["csrf"]
            request["actor"] = actor_of(user)
    return await handler(request)


def _detached(s: Session, name: str) -> WebUser | None:
    user = s.get(WebUser, name)
    if user is not None:
        s.expunge(user)
    return user


@web.middleware
async def tokens_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Every API request carries a token of this center."""
    header = request.headers.get("Authorization", "")
    if not header.startswith("Bearer "):
        return error(401, "an Authorization: Bearer <token> header is required")
    caller = await asyncio.to_thread(tokens.lookup, request.config_dict[SESSIONS],
                                     header[7:].strip())
    if caller is None or caller.center != request.config_dict[CENTER].code:
        return error(401, "unknown token")
    request.pop("csrf", None)  # a token, not a browser session: no CSRF token to check
    request["actor"] = Actor(caller.name, caller.role, caller.seat_id)
    return await handler(request)


def allow(*roles: str, page: bool = False) -> Callable[[Handler], Handler]:
    """The roles that may use a route. Without a login: the login page for a page, else 401.
    A POST from a web session must carry the session's CSRF token (X-CSRF-Token)."""
    def wrap(handler: Handler) -> Handler:
        @functools.wraps(handler)
        async def checked(request: web.Request) -> web.StreamResponse:
            actor: Actor | None = request.get("actor")
            if actor is None:
                if page:
                    raise web.HTTPFound("/login")
                return error(401, "log in first")
            if actor.role not in roles:
                return error(403, f"not for role {actor.role}")
            csrf = request.get("csrf")
            if request.method == "POST" and csrf is not None and not hmac.compare_digest(
                    request.headers.get("X-CSRF-Token", ""), csrf):
                return error(403, "missing or wrong CSRF token")
            return await handler(request)
        checked.allowed_roles = roles  # type: ignore[attr-defined]
        return checked
    return wrap


def secret_of(request: web.Request) -> bytes:
    return request.config_dict[SECRET]


Page = Callable[[web.Request], Awaitable[web.StreamResponse]]
