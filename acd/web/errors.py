"""One error middleware for the web pages and the HTTP API: a refusal's type decides its HTTP
status, its message is the answer (`{"error": "...", "message": "..."}`: the English the log
keeps and the API's clients read, and the same in Chinese for the pages, acd/web/messages.py).
Handlers raise; they never pick codes.

A request whose body is not JSON is a 400 here too, and anything unexpected is logged with
its traceback and answered 500 without the details.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web

from acd.errors import Conflict, Forbidden, Invalid, NotFound, Refused, Unavailable
from acd.web.messages import chinese
from hotline.logs import get_logger

log = get_logger(__name__)
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

# Most specific first: a type may be both (an order refusal that is also a conflict).
STATUS: tuple[tuple[type[Refused], int], ...] = (
    (Invalid, 400),
    (Forbidden, 403),
    (NotFound, 404),
    (Conflict, 409),
    (Unavailable, 502),
)


def status_of(exc: Refused) -> int:
    for kind, status in STATUS:
        if isinstance(exc, kind):
            return status
    return 400


def error(status: int, message: str) -> web.Response:
    return web.json_response({"error": message, "message": chinese(message, status)},
                             status=status)


async def json_body(request: web.Request, default: Any = None) -> Any:
    """The request's JSON body (`default` when there is none), or Invalid."""
    if not request.can_read_body:
        return default
    try:
        return await request.json()
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise Invalid("the body is not JSON") from None


async def json_object(request: web.Request) -> dict[str, Any]:
    body = await json_body(request, {})
    if not isinstance(body, dict):
        raise Invalid("the body must be a JSON object")
    return body


@web.middleware
async def refusals(request: web.Request, handler: Handler) -> web.StreamResponse:
    try:
        return await handler(request)
    except Refused as exc:
        status = status_of(exc)
        log.info("request refused", path=request.path, status=status, reason=str(exc))
        return error(status, str(exc))
    except web.HTTPException:
        raise
    except Exception:
        log.exception("request failed", path=request.path, method=request.method)
        return error(500, "internal error; see the engine's log")
