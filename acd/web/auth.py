"""Who is asking, and may they: web sessions, API tokens, and the per-route role check.

- Web pages: a signed, expiring session cookie (HttpOnly, SameSite=Strict, Secure behind
  HTTPS: center file [security] https) carrying the user name, the user's session version and
  a CSRF token; `sessions_middleware` puts the user on the request only while the user still
  exists with that version (logout, reset and revoke raise it: acd/web/users.py).
- The API: `Authorization: Bearer <token>` (`hotline engine token add`); `tokens_middleware`.
- Both set `request[ACTOR]` (acd.seats.service.Actor), so a handler serves either.
- `allow(*roles)` wraps a handler with its role check (and, for a web session, the CSRF token
  on every POST); the route-walking test reads `handler.allowed_roles`.
- Failed logins are limited per user name and per address, in a table of bounded size.
- `security_headers` (a response hook) puts the same headers on every answer: a Content
  Security Policy with scripts and styles from this site only and no framing, nosniff, no
  referrer, and HSTS behind HTTPS.
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
from collections import OrderedDict, deque
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
from hotline.secrets import write_private

COOKIE = "hotline_session"
SESSION_S = 12 * 3600
EVERYONE = ("seat", "supervisor", "inspector", "analyst", "admin", "unit", "revisit")


class Sessions:
    """Signed, expiring session cookies carrying the user name, the user's session version
    and a CSRF token."""

    def __init__(self, secret: bytes) -> None:
        self.secret = secret

    def _sign(self, payload: bytes) -> str:
        return hmac.new(self.secret, payload, hashlib.sha256).hexdigest()

    def issue(self, name: str, version: int = 1) -> tuple[str, str]:
        csrf = secrets.token_urlsafe(16)
        payload = base64.urlsafe_b64encode(json.dumps(
            {"u": name, "v": version, "exp": int(time.time()) + SESSION_S,
             "csrf": csrf}).encode())
        return payload.decode() + "." + self._sign(payload), csrf

    def read(self, cookie: str | None) -> dict[str, Any] | None:
        if not cookie or "." not in cookie or len(cookie) > 4096:
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
    """At most `limit` failed logins a `window_s` per user name and per address. The table
    keeps at most `max_keys` names and addresses: expired entries go first, then the oldest,
    so a flood of made-up names cannot grow it without bound."""

    def __init__(self, limit: int = 5, window_s: float = 60.0, max_keys: int = 10_000) -> None:
        self.limit, self.window, self.max_keys = limit, window_s, max_keys
        self.failures: OrderedDict[str, deque[float]] = OrderedDict()

    def _fresh(self, key: str, now: float) -> deque[float] | None:
        q = self.failures.get(key)
        if q is None:
            return None
        while q and now - q[0] > self.window:
            q.popleft()
        if not q:
            del self.failures[key]
            return None
        return q

    def blocked(self, *keys: str) -> bool:
        now = time.monotonic()
        return any(len(q) >= self.limit for k in keys if (q := self._fresh(k, now)))

    def failed(self, *keys: str) -> None:
        now = time.monotonic()
        for key in keys:
            q = self._fresh(key, now) or deque(maxlen=self.limit)
            q.append(now)
            self.failures[key] = q
            self.failures.move_to_end(key)
        if len(self.failures) > self.max_keys:
            # Full: drop the expired, then the oldest, down to 90 % (so this runs seldom).
            for key in list(self.failures):
                self._fresh(key, now)
            while len(self.failures) > self.max_keys * 9 // 10:
                self.failures.popitem(last=False)


COOKIES = web.AppKey("cookies", Sessions)
# What the middlewares put on a request: who asks, and for a web session its user and CSRF token.
ACTOR = web.RequestKey("actor", Actor)
USER = web.RequestKey("user", WebUser)
CSRF = web.RequestKey("csrf", str)
SESSION = web.RequestKey("session", dict)  # the session cookie's data (user, version, CSRF)
LIMITER = web.AppKey("login_limiter", LoginLimiter)


def secret_file(directory: Path) -> bytes:
    """The key that signs session cookies: made once, written atomically and 0600 from
    creation (hotline.secrets.write_private)."""
    path = directory / "web-secret"
    if not path.exists():
        write_private(path, secrets.token_bytes(32))
    return path.read_bytes()


def actor_of(user: WebUser) -> Actor:
    return Actor(user.name, user.role, user.seat_id or "", user.unit or "", user.center)


def session_user(s: Session, centers: tuple[str, ...] | str,
                 data: dict[str, Any] | None) -> WebUser | None:
    """The user a session cookie names, if that user still exists in a center of this
    deployment with the session version the cookie was issued for (detached from the
    session)."""
    if data is None:
        return None
    codes = (centers,) if isinstance(centers, str) else centers
    user = s.get(WebUser, data.get("u"))
    if user is None or user.center not in codes or user.session_version != data.get("v", 1):
        return None
    s.expunge(user)
    return user


async def current_user(request: web.Request, data: dict[str, Any] | None) -> WebUser | None:
    """`session_user` for this request, read in a worker thread."""
    if data is None:
        return None
    codes = request.config_dict[CENTER].codes
    return await in_session(request.config_dict[SESSIONS],
                            lambda s: session_user(s, codes, data))


@web.middleware
async def sessions_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """The logged-in web user, if the session cookie is good and the user still exists."""
    data = request.config_dict[COOKIES].read(request.cookies.get(COOKIE))
    user = await current_user(request, data)
    if user is not None and data is not None:
        request[USER], request[CSRF] = user, data["csrf"]
        request[SESSION] = data
        request[ACTOR] = actor_of(user)
    return await handler(request)


@web.middleware
async def tokens_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Every API request carries a token of a center of this deployment."""
    header = request.headers.get("Authorization", "")
    if not header.startswith("Bearer "):
        return error(401, "an Authorization: Bearer <token> header is required")
    caller = await asyncio.to_thread(tokens.lookup, request.config_dict[SESSIONS],
                                     header[7:].strip())
    if caller is None or caller.center not in request.config_dict[CENTER].codes:
        return error(401, "unknown token")
    request.pop(CSRF, None)  # a token, not a browser session: no CSRF token to check
    request[ACTOR] = Actor(caller.name, caller.role, caller.seat_id, caller.unit, caller.center)
    return await handler(request)


def allow(*roles: str, page: bool = False) -> Callable[[Handler], Handler]:
    """The roles that may use a route. Without a login: the login page for a page, else 401.
    A POST from a web session must carry the session's CSRF token (X-CSRF-Token)."""
    def wrap(handler: Handler) -> Handler:
        @functools.wraps(handler)
        async def checked(request: web.Request) -> web.StreamResponse:
            actor: Actor | None = request.get(ACTOR)
            if actor is None:
                if page:
                    raise web.HTTPFound("/login")
                return error(401, "log in first")
            if actor.role not in roles:
                return error(403, f"not for role {actor.role}")
            csrf = request.get(CSRF)
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


# --- headers on every response ----------------------------------------------------------------

# Scripts, styles, images, media and sockets from this site only; no inline script or style
# (every page's script is a file under /static), no plugin, no <base>, forms post here only,
# and no page of this site may be framed by any other (the spy and broadcast buttons cannot be
# clickjacked). 'self' covers ws:/wss: to this host in CSP level 3.
CSP = ("default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
       "media-src 'self'; connect-src 'self'; font-src 'self'; form-action 'self'; "
       "base-uri 'none'; object-src 'none'; frame-ancestors 'none'")
HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Cross-Origin-Resource-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=(), payment=()",
}


async def security_headers(request: web.Request, response: web.StreamResponse) -> None:
    """aiohttp's on_response_prepare: every answer of the app and the API gets the headers,
    errors and redirects included; answers carrying people's data are never cached."""
    for name, value in HEADERS.items():
        response.headers.setdefault(name, value)
    if not request.path.startswith("/static/"):
        response.headers.setdefault("Cache-Control", "no-store")
    if request.config_dict[CENTER].security.https:
        response.headers.setdefault("Strict-Transport-Security",
                                    "max-age=31536000; includeSubDomains")


def set_session_cookie(request: web.Request, response: web.StreamResponse, value: str) -> None:
    response.set_cookie(COOKIE, value, httponly=True, samesite="Strict", max_age=SESSION_S,
                        secure=request.config_dict[CENTER].security.https, path="/")
