"""The HTTP access log: one structured line per request, logger `hotline.access`.

Fields: method, path (never the query string, which may carry a token), status, bytes sent,
duration in milliseconds, the peer's address and, once a session or a token named it, who
asked (`actor`). aiohttp calls `log` after the response is sent (`AppRunner(access_log_class=
AccessLogger)`)."""

from __future__ import annotations

from aiohttp import web
from aiohttp.abc import AbstractAccessLogger

from acd.web.auth import ACTOR
from hotline.logs import get_logger

log = get_logger("hotline.access")


class AccessLogger(AbstractAccessLogger):
    def log(self, request: web.BaseRequest, response: web.StreamResponse, time: float) -> None:
        actor = request.get(ACTOR)  # type: ignore[call-overload]
        fields = {"method": request.method, "path": request.path, "status": response.status,
                  "bytes": response.body_length, "duration_ms": round(time * 1000, 1),
                  "remote": request.remote or ""}
        if actor is not None:
            fields["actor"] = actor.name
            fields["role"] = actor.role
        level = log.warning if response.status >= 500 else log.info
        level("http", **fields)

    @property
    def enabled(self) -> bool:
        return True
