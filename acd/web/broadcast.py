"""The emergency broadcast from the wallboard: set it (played after the welcome on every call)
or clear it with an empty text. Stored in Redis by acd.live.broadcast; the IVR reads it. In a
deployment of several centers it is the actor's center's: played to the callers of that
center's number only."""

from __future__ import annotations

from aiohttp import web
from redis.exceptions import RedisError

from acd.errors import Invalid, Unavailable
from acd.live.broadcast import Broadcasts
from acd.web.auth import ACTOR, allow
from acd.web.deps import CENTER, REDIS_URL
from acd.web.errors import json_body


@allow("supervisor", "admin")
async def set_broadcast(request: web.Request) -> web.Response:
    body = await json_body(request, {})
    if not isinstance(body, dict) or not isinstance(body.get("text", ""), str):
        raise Invalid('the body must be a JSON object like {"text": "..."}')
    text = body.get("text", "")
    b = Broadcasts(request.config_dict[REDIS_URL] or None,
                   request[ACTOR].home(request.config_dict[CENTER]))
    try:
        if text.strip():
            await b.set(text)
        else:
            await b.clear()
    except (ValueError, RuntimeError) as exc:
        raise Invalid(str(exc)) from None
    except (RedisError, OSError) as exc:
        raise Unavailable(f"Redis: {exc}") from None
    finally:
        await b.close()
    return web.json_response({"broadcast": text.strip() or None})


ROUTES = [web.post("/web/broadcast", set_broadcast)]
