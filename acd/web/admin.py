"""User and token administration for admins (`/admin`, 用户与令牌管理): the same acts as
`hotline web user add|reset|revoke|remove` and `hotline engine token add|remove`, through the
same functions (acd/web/users.py, acd/api/tokens.py), on the admin's own center's users and
tokens only (in a deployment of several centers, `Actor.home`; another center's user is a 404;
a hosted center's first admin is made with `hotline web user add --center-code`).

    GET  /admin                                the page
    GET  /web/admin/users                      users: name, role, seat, unit, created
    POST /web/admin/users                      {name, role, password, seat?, unit?}
    POST /web/admin/users/{name}/reset         {password}: every session of the user ends
    POST /web/admin/users/{name}/revoke        every session ends
    POST /web/admin/users/{name}/remove        gone; its open pages go to the login page
    GET  /web/admin/tokens                     API tokens (never the token itself)
    POST /web/admin/tokens                     {name, role, seat?, unit?}: the token, shown once
    POST /web/admin/tokens/{name}/remove

An admin cannot remove or revoke itself here (that would lock the page it is using); the CLI
can. Every refusal is a 400/404 naming the field, in Chinese on the page (acd/web/messages.py).
"""

from __future__ import annotations

from typing import Any

from aiohttp import web
from sqlalchemy import select

from acd.api import tokens
from acd.errors import Invalid, NotFound
from acd.seats.service import Actor
from acd.web import users
from acd.web.auth import ACTOR, allow
from acd.web.deps import CENTER, SESSIONS
from acd.web.errors import json_object
from acd.web.pages import page
from hotline.center import Center
from hotline.logs import get_logger

log = get_logger(__name__)


def _text(body: dict[str, Any], key: str, longest: int = 200) -> str:
    value = body.get(key, "")
    if not isinstance(value, str):
        raise Invalid(f"{key}: must be text, got {type(value).__name__}")
    if len(value) > longest:
        raise Invalid(f"{key}: is too long (at most {longest} characters)")
    return value.strip() if key != "password" else value


def _check_seat_unit(center: Center, seat: str, unit: str, home: str) -> None:
    if seat and seat not in {s.id for s in center.seats_of(home)}:
        raise Invalid(f"seat: {seat!r} is not a seat of center {home} in the center file")
    if unit and center.unit(unit) is None:
        raise Invalid(f"unit: {unit!r} is not a unit of the center file")


def _refused(exc: ValueError) -> Exception:
    text = str(exc)
    return NotFound(text) if text.startswith("no ") else Invalid(text)


@allow("admin", page=True)
async def admin_page(request: web.Request) -> web.Response:
    return page("admin.html", request)


@allow("admin")
async def list_users(request: web.Request) -> web.Response:
    home = request[ACTOR].home(request.config_dict[CENTER])
    with request.config_dict[SESSIONS]() as s:
        rows = s.scalars(select(users.WebUser).where(users.WebUser.center == home)
                         .order_by(users.WebUser.name))
        return web.json_response({"users": [
            {"name": u.name, "role": u.role, "seat": u.seat_id, "unit": u.unit,
             "created_at": u.created_at.isoformat(timespec="seconds")} for u in rows],
            "roles": list(users.ROLES)})


@allow("admin")
async def add_user(request: web.Request) -> web.Response:
    actor: Actor = request[ACTOR]
    center = request.config_dict[CENTER]
    body = await json_object(request)
    unknown = sorted(set(body) - {"name", "role", "password", "seat", "unit"})
    if unknown:
        raise Invalid(f"unknown field(s): {', '.join(unknown)}")
    name, role = _text(body, "name", 60), _text(body, "role", 20)
    seat, unit = _text(body, "seat", 20), _text(body, "unit", 40)
    _check_seat_unit(center, seat, unit, actor.home(center))
    try:
        users.add(request.config_dict[SESSIONS], name, role, actor.home(center),
                  _text(body, "password"), seat, unit)
    except ValueError as exc:
        raise _refused(exc) from None
    log.info("web user added", user=name, role=role, by=actor.name)
    return web.json_response({"name": name, "role": role}, status=201)


@allow("admin")
async def user_action(request: web.Request) -> web.Response:
    actor: Actor = request[ACTOR]
    center = request.config_dict[CENTER]
    name, action = request.match_info["name"], request.match_info["action"]
    sessions = request.config_dict[SESSIONS]
    if action not in ("reset", "revoke", "remove"):
        raise NotFound(f"no action {action!r}; one of reset, revoke, remove")
    if action in ("revoke", "remove") and name == actor.name:
        raise Invalid("an admin cannot remove itself here (use hotline web user)")
    body = await json_object(request)
    try:
        if action == "reset":
            users.reset(sessions, name, actor.home(center), _text(body, "password"))
        elif action == "revoke":
            users.revoke(sessions, name, actor.home(center))
        else:
            users.remove(sessions, name, actor.home(center))
    except ValueError as exc:
        raise _refused(exc) from None
    log.info("web user changed", user=name, action=action, by=actor.name)
    return web.json_response({"name": name, "action": action, "done": True})


@allow("admin")
async def list_tokens(request: web.Request) -> web.Response:
    home = request[ACTOR].home(request.config_dict[CENTER])
    with request.config_dict[SESSIONS]() as s:
        rows = s.scalars(select(tokens.ApiToken).where(tokens.ApiToken.center == home)
                         .order_by(tokens.ApiToken.name))
        return web.json_response({"tokens": [
            {"name": t.name, "role": t.role, "seat": t.seat_id, "unit": t.unit,
             "created_at": t.created_at.isoformat(timespec="seconds")} for t in rows],
            "roles": list(tokens.ROLES)})


@allow("admin")
async def add_token(request: web.Request) -> web.Response:
    actor: Actor = request[ACTOR]
    center = request.config_dict[CENTER]
    body = await json_object(request)
    unknown = sorted(set(body) - {"name", "role", "seat", "unit"})
    if unknown:
        raise Invalid(f"unknown field(s): {', '.join(unknown)}")
    name, role = _text(body, "name", 60), _text(body, "role", 20)
    seat, unit = _text(body, "seat", 20), _text(body, "unit", 40)
    if not users.NAME.match(name):
        raise Invalid("a user name is 1 to 60 letters, digits or _.@-")
    _check_seat_unit(center, seat, unit, actor.home(center))
    try:
        token = tokens.create(request.config_dict[SESSIONS], name, role, actor.home(center),
                              seat, unit)
    except ValueError as exc:
        raise _refused(exc) from None
    log.info("api token added", token=name, role=role, by=actor.name)
    return web.json_response({"name": name, "role": role, "token": token}, status=201)


@allow("admin")
async def remove_token(request: web.Request) -> web.Response:
    actor: Actor = request[ACTOR]
    name = request.match_info["name"]
    try:
        tokens.remove(request.config_dict[SESSIONS], name,
                      actor.home(request.config_dict[CENTER]))
    except ValueError as exc:
        raise _refused(exc) from None
    log.info("api token removed", token=name, by=actor.name)
    return web.json_response({"name": name, "removed": True})


ROUTES = [
    web.get("/admin", admin_page),
    web.get("/web/admin/users", list_users),
    web.post("/web/admin/users", add_user),
    web.post("/web/admin/users/{name}/{action}", user_action),
    web.get("/web/admin/tokens", list_tokens),
    web.post("/web/admin/tokens", add_token),
    web.post("/web/admin/tokens/{name}/remove", remove_token),
]
