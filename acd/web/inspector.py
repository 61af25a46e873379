"""The quality inspector's view (质量检验师, issue #7): a day's recordings with playback, the
day's random sample for review (seed 000: recordings are spot-checked every day), and a seat's
state timeline with totals per state and per busy reason.

The queries read the ledger only (no live data). Days are the center's days (`center.timezone`)
while the ledger keeps naive UTC, so every query turns a local day into a UTC window first.

Recordings are served by call, never by path: the route takes a Uniqueid, the ledger says
which file MixMonitor wrote (a path relative to the node's recordings directory) and the file
is streamed only if it resolves inside that directory. A name from the URL never reaches the
file system.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from aiohttp import web
from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session, sessionmaker

from acd.errors import Forbidden, Invalid, NotFound
from acd.history.models import Call, SeatInterval
from acd.orders.models import WorkOrder
from acd.quality import service as quality
from acd.seats.service import Actor
from acd.seats.state import SeatState
from acd.web.auth import ACTOR, allow
from acd.web.deps import CENTER
from hotline.center import Center
from hotline.logs import get_logger, mask_number

log = get_logger(__name__)
UTC = ZoneInfo("UTC")
SAMPLE_DEFAULT, SAMPLE_MAX = 5, 50
PAGE_SIZE, SEARCH_DAYS_MAX = 20, 366
_DIGITS = re.compile(r"^[0-9]{3,20}$")
_UNIQUEID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")


@dataclass
class Inspector:
    center: Center
    sessions: sessionmaker[Session]
    recordings: dict[str, Path | None]
    secret: bytes

    # --- input ----------------------------------------------------------------------------------

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.center.timezone)

    def today(self) -> date:
        return datetime.now(self.tz).date()

    def day(self, text: str | None) -> date:
        """`YYYY-MM-DD` in the center's time zone; today when not given; never in the future."""
        if not text:
            return self.today()
        try:
            if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
                raise ValueError(text)
            d = date.fromisoformat(text)
        except ValueError:
            raise Invalid(f"date must be YYYY-MM-DD, got {text!r}") from None
        if d > self.today():
            raise Invalid(f"{text} is in the future (the center's day is "
                               f"{self.today()} in {self.center.timezone})")
        return d

    def seat(self, seat_id: str | None, required: bool = False) -> str | None:
        if not seat_id:
            if required:
                raise Invalid("which seat? (seat=...)")
            return None
        if seat_id not in {s.id for s in self.center.seats}:
            raise NotFound(f"no seat {seat_id!r} in center {self.center.code}")
        return seat_id

    def queue(self, name: str | None) -> str | None:
        if not name:
            return None
        if name not in {q.name for q in self.center.queues}:
            raise NotFound(f"no queue {name!r} in center {self.center.code}")
        return name

    @staticmethod
    def count(text: str | None) -> int:
        if not text:
            return SAMPLE_DEFAULT
        if not text.isdigit() or not 1 <= int(text) <= SAMPLE_MAX:
            raise Invalid(f"n must be a whole number from 1 to {SAMPLE_MAX}, "
                               f"got {text!r}")
        return int(text)

    def window(self, day: date) -> tuple[datetime, datetime]:
        """The local day as a naive UTC window [since, until), as the ledger stores times."""
        start = datetime.combine(day, time(), tzinfo=self.tz)
        end = datetime.combine(day + timedelta(days=1), time(), tzinfo=self.tz)
        return (start.astimezone(UTC).replace(tzinfo=None),
                end.astimezone(UTC).replace(tzinfo=None))

    def local(self, t: datetime | None) -> str | None:
        return None if t is None else t.replace(tzinfo=UTC).astimezone(self.tz).isoformat(
            timespec="seconds")

    # --- recordings -----------------------------------------------------------------------------

    def _row(self, c: Call, scored: Any = None) -> dict[str, Any]:
        path = self._resolve(c)
        return {"uniqueid": c.uniqueid, "started": self.local(c.started_at),
                "caller": mask_number(c.caller_number), "queue": c.final_queue,
                "seat": c.seat_id, "outcome": c.outcome, "wait_s": c.wait_s, "talk_s": c.talk_s,
                "survey_score": c.survey_score,
                "file": path is not None and path.is_file(),
                "audio": f"/web/recordings/{c.uniqueid}",
                "qa": None if scored is None else quality.view(scored)}

    @staticmethod
    def caller(text: str | None) -> str | None:
        """A caller's number, or part of it (at least 3 digits), to search for."""
        if not text:
            return None
        digits = text.replace(" ", "").replace("-", "")
        if not _DIGITS.match(digits):
            raise Invalid(f"caller: {text!r} is not of the expected form")
        return digits

    @staticmethod
    def order(text: str | None) -> int | None:
        if not text:
            return None
        if not text.isdigit() or len(text) > 12:
            raise Invalid(f"order: {text!r} is not of the expected form")
        return int(text)

    @staticmethod
    def page_number(text: str | None) -> int:
        if not text:
            return 1
        if not text.isdigit() or not 1 <= int(text) <= 100000:
            raise Invalid("page must be a whole number from 1")
        return int(text)

    def search(self, since: date, until: date, seat: str | None = None,
               queue: str | None = None, caller: str | None = None,
               order: int | None = None, page: int = 1,
               size: int = PAGE_SIZE, codes: tuple[str, ...] = ()) -> dict[str, Any]:
        """Recorded calls of the local days [since, until] (or the one call of a work order,
        whatever its day), by seat, queue and caller number, oldest first, a page at a time,
        each with its quality score if it has one."""
        if until < since:
            raise Invalid("until: is before since")
        if (until - since).days >= SEARCH_DAYS_MAX:
            raise Invalid(f"since: at most {SEARCH_DAYS_MAX} days at once")
        q = select(Call).where(Call.center.in_(codes or self.center.codes), Call.recording != "")
        if order is not None:
            q = q.join(WorkOrder, WorkOrder.call_uniqueid == Call.uniqueid).where(
                WorkOrder.id == order)
        else:
            lo, hi = self.window(since)[0], self.window(until)[1]
            q = q.where(Call.started_at >= lo, Call.started_at < hi)
        if seat:
            q = q.where(Call.seat_id == seat)
        if queue:
            q = q.where(Call.final_queue == queue)
        if caller:
            q = q.where(Call.caller_number.contains(caller, autoescape=True))
        with self.sessions() as s:
            total = s.scalar(select(func.count()).select_from(q.subquery())) or 0
            calls = list(s.scalars(q.order_by(Call.started_at, Call.uniqueid)
                                   .offset((page - 1) * size).limit(size)))
            scored = quality.of_calls(s, [c.uniqueid for c in calls])
            rows = [self._row(c, scored.get(c.uniqueid)) for c in calls]
        return {"since": since.isoformat(), "until": until.isoformat(), "date": since.isoformat(),
                "recordings": rows, "total": total, "page": page, "size": size,
                "pages": max(1, -(-total // size))}

    def list_recordings(self, day: date, seat: str | None = None,
                        queue: str | None = None,
                        codes: tuple[str, ...] = ()) -> list[dict[str, Any]]:
        """The day's calls that have a recording, oldest first, optionally of one seat/queue."""
        since, until = self.window(day)
        q = (select(Call).where(Call.center.in_(codes or self.center.codes), Call.recording != "",
                                Call.started_at >= since, Call.started_at < until)
             .order_by(Call.started_at, Call.uniqueid))
        if seat:
            q = q.where(Call.seat_id == seat)
        if queue:
            q = q.where(Call.final_queue == queue)
        with self.sessions() as s:
            return [self._row(c) for c in s.scalars(q)]

    def _rank(self, day: date, uniqueid: str) -> str:
        # Keyed by the server's secret so a seat cannot tell in advance which of its calls
        # will be reviewed; per call (not one shuffle of the list) so a call arriving later
        # in the day leaves the rest of the sample as it was, unless it ranks before them.
        msg = f"{self.center.code}|{day.isoformat()}|{uniqueid}".encode()
        return hmac.new(self.secret, msg, hashlib.sha256).hexdigest()

    def sample(self, day: date, n: int = SAMPLE_DEFAULT,
               codes: tuple[str, ...] = ()) -> list[dict[str, Any]]:
        """N of the day's answered, recorded calls (of the centers given, default all), the
        same for everyone who asks that day."""
        since, until = self.window(day)
        q = select(Call).where(Call.center.in_(codes or self.center.codes), Call.recording != "",
                               Call.answered_at.is_not(None), Call.seat_id != "",
                               Call.started_at >= since, Call.started_at < until)
        with self.sessions() as s:
            calls = sorted(s.scalars(q), key=lambda c: self._rank(day, c.uniqueid))[:n]
            return [self._row(c) for c in sorted(calls, key=lambda c: c.started_at)]

    def _resolve(self, call: Call) -> Path | None:
        """The recording's file if it lies inside its node's recordings directory, else None."""
        base = self.recordings.get(call.node)
        if base is None or not call.recording:
            return None
        root = base.resolve()
        path = (root / call.recording).resolve()
        if not path.is_relative_to(root) or path.suffix.lower() != ".wav":
            return None
        return path

    def recording_file(self, uniqueid: str, codes: tuple[str, ...] = ()) -> Path:
        if not _UNIQUEID.match(uniqueid) or ".." in uniqueid:
            raise Invalid(f"not a call id: {uniqueid!r}")
        with self.sessions() as s:
            call = s.get(Call, uniqueid)
            if call is None or call.center not in (codes or self.center.codes):
                raise NotFound(f"no call {uniqueid}")
            if not call.recording:
                raise NotFound(f"call {uniqueid} has no recording")
            if self.recordings.get(call.node) is None:
                raise NotFound(f"the recordings directory of node {call.node!r} "
                                   "is not known to this engine")
            path = self._resolve(call)
            if path is None:
                log.warning("recording outside the recordings directory refused",
                            uniqueid=uniqueid, recording=call.recording, node=call.node)
                raise Forbidden(f"the recording of {uniqueid} is not under the "
                                   "recordings directory")
        if not path.is_file():
            raise NotFound(f"the recording of {uniqueid} is missing on disk")
        return path

    # --- a seat's day ---------------------------------------------------------------------------

    def timeline(self, seat: str, day: date, now: datetime | None = None,
                 codes: tuple[str, ...] = ()) -> dict[str, Any]:
        """The seat's states over the local day, clipped to the day (and to now), with seconds
        per state and per busy reason. An interval the ledger left open ends where the next one
        starts (the engine was stopped), the last open one ends now."""
        since, until = self.window(day)
        now = now or datetime.now(UTC).replace(tzinfo=None)
        with self.sessions() as s:
            rows = list(s.scalars(
                select(SeatInterval).where(
                    SeatInterval.seat_id == seat,
                    SeatInterval.center.in_(codes or self.center.codes),
                    SeatInterval.started_at < until,
                    or_(SeatInterval.ended_at.is_(None), SeatInterval.ended_at > since))
                .order_by(SeatInterval.started_at, SeatInterval.id)))
        segments: list[dict[str, Any]] = []
        totals = {st.value: 0.0 for st in SeatState}
        busy: dict[str, float] = {}
        for i, r in enumerate(rows):
            end = r.ended_at or (rows[i + 1].started_at if i + 1 < len(rows) else now)
            start, end = max(r.started_at, since), min(end, until, now)
            if end <= start:
                continue
            secs = (end - start).total_seconds()
            totals[r.state] = totals.get(r.state, 0.0) + secs
            if r.state == SeatState.BUSY.value:
                busy[r.reason or "-"] = busy.get(r.reason or "-", 0.0) + secs
            segments.append({"state": r.state, "reason": r.reason, "queue": r.queue,
                             "uniqueid": r.uniqueid, "start": self.local(start),
                             "end": self.local(end), "open": r.ended_at is None,
                             "from_s": (start - since).total_seconds(),
                             "to_s": (end - since).total_seconds()})
        return {"seat": seat, "date": day.isoformat(), "timezone": self.center.timezone,
                "day_start": self.local(since), "day_s": (until - since).total_seconds(),
                "segments": segments,
                "totals": {k: round(v, 3) for k, v in totals.items()},
                "busy_by_reason": {k: round(v, 3) for k, v in sorted(busy.items())}}

    # --- HTTP -----------------------------------------------------------------------------------

    def center_info(self, codes: tuple[str, ...] = ()) -> dict[str, Any]:
        codes = codes or self.center.codes
        return {"center": codes[0], "timezone": self.center.timezone,
                "today": self.today().isoformat(),
                "seats": [s.id for c in codes for s in self.center.seats_of(c)],
                "queues": [q.name for c in codes for q in self.center.queues_of(c)],
                "busy_reasons": list(self.center.busy_reasons),
                "sample_default": SAMPLE_DEFAULT, "sample_max": SAMPLE_MAX}


INSPECTOR = web.AppKey("inspector", Inspector)
ROLES = ("inspector", "supervisor", "admin")


def _scope(request: web.Request) -> tuple[str, ...]:
    """The centers whose calls the actor inspects: its own (the primary's admin: all)."""
    return request[ACTOR].scope(request.config_dict[CENTER])


@allow(*ROLES)
async def center_info(request: web.Request) -> web.Response:
    return web.json_response(request.config_dict[INSPECTOR].center_info(_scope(request)))


@allow(*ROLES)
async def recordings(request: web.Request) -> web.Response:
    """?date= (or since= and until=, local days), seat=, queue=, caller= (digits, part of the
    number), order= (a work order's id: its call, whatever the day), page= (20 a page)."""
    i, q = request.config_dict[INSPECTOR], request.query
    since = i.day(q.get("since") or q.get("date"))
    until = i.day(q.get("until")) if q.get("until") else since
    return web.json_response(await asyncio.to_thread(
        i.search, since, until, i.seat(q.get("seat")), i.queue(q.get("queue")),
        i.caller(q.get("caller")), i.order(q.get("order")), i.page_number(q.get("page")),
        PAGE_SIZE, _scope(request)))


@allow(*ROLES)
async def sample(request: web.Request) -> web.Response:
    i, q = request.config_dict[INSPECTOR], request.query
    d = i.day(q.get("date"))
    return web.json_response({"date": d.isoformat(),
                              "sample": await asyncio.to_thread(i.sample, d, i.count(q.get("n")),
                                                                _scope(request))})


@allow(*ROLES)
async def timeline(request: web.Request) -> web.Response:
    i, q = request.config_dict[INSPECTOR], request.query
    return web.json_response(await asyncio.to_thread(
        i.timeline, i.seat(q.get("seat"), required=True) or "", i.day(q.get("date")), None,
        _scope(request)))


@allow(*ROLES)
async def audio(request: web.Request) -> web.StreamResponse:
    actor: Actor = request[ACTOR]
    uid = request.match_info["uniqueid"]
    path = await asyncio.to_thread(request.config_dict[INSPECTOR].recording_file, uid,
                                   _scope(request))
    log.info("recording played", uniqueid=uid, user=actor.name)
    # FileResponse answers Range requests, which the browser's <audio> uses to seek.
    return web.FileResponse(path, headers={"Content-Type": "audio/wav",
                                           "Cache-Control": "private, no-store"})


ROUTES = [
    web.get("/web/inspect/center", center_info),
    web.get("/web/inspect/recordings", recordings),
    web.get("/web/inspect/sample", sample),
    web.get("/web/inspect/timeline", timeline),
    web.get("/web/recordings/{uniqueid}", audio),
]
