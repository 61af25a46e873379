"""Quality scoring on the inspector's page (质检评分): the score sheet, a score for a recorded
call, and the scores per seat over a period.

    GET  /web/quality/sheet                        the sheet (items, maxima, pass mark)
    POST /web/quality/scores                       {uniqueid, scores: {item: points}, comment}
    GET  /web/quality/report?since=&until=         per seat: scored, average %, passed
                                                   (local days, until inclusive; default:
                                                   this month so far)

The sheet is read once when the app is made, from the center file's [quality] sheet (else the
shipped one, acd/quality/sheet.toml); a bad sheet stops the engine at start with the field
named. Inspectors, supervisors and admins score; the calls are the ledger's (acd/quality/).
"""

from __future__ import annotations

from pathlib import Path

from aiohttp import web

from acd.errors import Invalid
from acd.history.models import Call
from acd.quality import service
from acd.quality.sheet import Sheet, SheetError, load
from acd.seats.service import Actor
from acd.web.auth import ACTOR, allow
from acd.web.deps import CENTER, SESSIONS
from acd.web.errors import json_object
from acd.web.inspector import INSPECTOR, ROLES
from hotline.center import Center, CenterError
from hotline.logs import get_logger

log = get_logger(__name__)
SHEET = web.AppKey("quality_sheet", Sheet)


def sheet_of(center: Center) -> Sheet:
    try:
        return load(Path(center.quality_sheet) if center.quality_sheet else None)
    except SheetError as exc:
        raise CenterError("quality.sheet", str(exc)) from None


@allow(*ROLES)
async def get_sheet(request: web.Request) -> web.Response:
    return web.json_response(request.config_dict[SHEET].as_dict())


@allow(*ROLES)
async def add_score(request: web.Request) -> web.Response:
    actor: Actor = request[ACTOR]
    center = request.config_dict[CENTER]
    body = await json_object(request)
    unknown = sorted(set(body) - {"uniqueid", "scores", "comment"})
    if unknown:
        raise Invalid(f"unknown field(s): {', '.join(unknown)}")
    uid = body.get("uniqueid")
    if not isinstance(uid, str) or not uid:
        raise Invalid("uniqueid: is required")
    with request.config_dict[SESSIONS].begin() as s:
        # A call of the actor's center (the primary's admin: of any center).
        call = s.get(Call, uid)
        code = call.center if call is not None and call.center in actor.scope(center) \
            else actor.home(center)
        row = service.score(s, code, request.config_dict[SHEET], uid,
                            body.get("scores"), body.get("comment", ""), actor.name)
        view = service.view(row)
    log.info("recording scored", uniqueid=uid, seat=view["seat"], total=view["total"],
             by=actor.name)
    return web.json_response(view, status=201)


@allow(*ROLES)
async def report(request: web.Request) -> web.Response:
    i = request.config_dict[INSPECTOR]
    center = request.config_dict[CENTER]
    today = i.today()
    since = i.day(request.query.get("since")) if request.query.get("since") \
        else today.replace(day=1)
    until = i.day(request.query.get("until")) if request.query.get("until") else today
    if until < since:
        raise Invalid("until: is before since")
    lo, hi = i.window(since)[0], i.window(until)[1]
    with request.config_dict[SESSIONS]() as s:
        seats = [q for code in request[ACTOR].scope(center)
                 for q in service.per_seat(s, code, lo, hi)]
    return web.json_response({"since": since.isoformat(), "until": until.isoformat(),
                              "sheet": request.config_dict[SHEET].code,
                              "seats": [q.as_dict() for q in seats]})



ROUTES = [
    web.get("/web/quality/sheet", get_sheet),
    web.post("/web/quality/scores", add_score),
    web.get("/web/quality/report", report),
]
