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

import hashlib
import hmac
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from aiohttp import web
from sqlalchemy import or_, select
from sqlalchemy.orm import Session, sessionmaker

from acd.history.models import Call, SeatInterval
from acd.seats.state import SeatState
from asterisk_conf.render import InstancePaths
from hotline.center import Center
from hotline.logs import get_logger, mask_number

log = get_logger(__name__)
UTC = ZoneInfo("UTC")
SAMPLE_DEFAULT, SAMPLE_MAX = 5, 50
_UNIQUEID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")


class InspectError(Exception):
    """A request the inspector's view refuses, with the HTTP status that says why."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


def recordings_dirs(engine: Any) -> dict[str, Path | None]:
    """Each node's recordings directory. The engine knows a node's instance only through the
    queue_log it replays (`<base>/log/queue_log`), so the instance's base is two levels up and
    its recordings are where the rig's layout puts them (`InstancePaths.recordings`)."""
    out: dict[str, Path | None] = {}
    for name, link in engine.links.items():
        qlog = link.queue_log
        base = None if qlog is None else InstancePaths(str(qlog.parent.parent))
        out[name] = None if base is None else Path(base.recordings)
    return out


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
            raise InspectError(400, f"date must be YYYY-MM-DD, got {text!r}") from None
        if d > self.today():
            raise InspectError(400, f"{text} is in the future (the center's day is "
                               f"{self.today()} in {self.center.timezone})")
        return d

    def seat(self, seat_id: str | None, required: bool = False) -> str | None:
        if not seat_id:
            if required:
                raise InspectError(400, "which seat? (seat=...)")
            return None
        if seat_id not in {s.id for s in self.center.seats}:
            raise InspectError(404, f"no seat {seat_id!r} in center {self.center.code}")
        return seat_id

    def queue(self, name: str | None) -> str | None:
        if not name:
            return None
        if name not in {q.name for q in self.center.queues}:
            raise InspectError(404, f"no queue {name!r} in center {self.center.code}")
        return name

    @staticmethod
    def count(text: str | None) -> int:
        if not text:
            return SAMPLE_DEFAULT
        if not text.isdigit() or not 1 <= int(text) <= SAMPLE_MAX:
            raise InspectError(400, f"n must be a whole number from 1 to {SAMPLE_MAX}, "
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

    def _row(self, c: Call) -> dict[str, Any]:
        path = self._resolve(c)
        return {"uniqueid": c.uniqueid, "started": self.local(c.started_at),
                "caller": mask_number(c.caller_number), "queue": c.final_queue,
                "seat": c.seat_id, "outcome": c.outcome, "wait_s": c.wait_s, "talk_s": c.talk_s,
                "survey_score": c.survey_score,
                "file": path is not None and path.is_file(),
                "audio": f"/web/recordings/{c.uniqueid}"}

    def list_recordings(self, day: date, seat: str | None = None,
                        queue: str | None = None) -> list[dict[str, Any]]:
        """The day's calls that have a recording, oldest first, optionally of one seat/queue."""
        since, until = self.window(day)
        q = (select(Call).where(Call.center == self.center.code, Call.recording != "",
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

    def sample(self, day: date, n: int = SAMPLE_DEFAULT) -> list[dict[str, Any]]:
        """N of the day's answered, recorded calls, the same for everyone who asks that day."""
        since, until = self.window(day)
        q = select(Call).where(Call.center == self.center.code, Call.recording != "",
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

    def recording_file(self, uniqueid: str) -> Path:
        if not _UNIQUEID.match(uniqueid) or ".." in uniqueid:
            raise InspectError(400, f"not a call id: {uniqueid!r}")
        with self.sessions() as s:
            call = s.get(Call, uniqueid)
            if call is None or call.center != self.center.code:
                raise InspectError(404, f"no call {uniqueid}")
            if not call.recording:
                raise InspectError(404, f"call {uniqueid} has no recording")
            if self.recordings.get(call.node) is None:
                raise InspectError(404, f"the recordings directory of node {call.node!r} "
                                   "is not known to this engine")
            path = self._resolve(call)
            if path is None:
                log.warning("recording outside the recordings directory refused",
                            uniqueid=uniqueid, recording=call.recording, node=call.node)
                raise InspectError(403, f"the recording of {uniqueid} is not under the "
                                   "recordings directory")
        if not path.is_file():
            raise InspectError(404, f"the recording of {uniqueid} is missing on disk")
        return path

    # --- a seat's day ---------------------------------------------------------------------------

    def timeline(self, seat: str, day: date, now: datetime | None = None) -> dict[str, Any]:
        """The seat's states over the local day, clipped to the day (and to now), with seconds
        per state and per busy reason. An interval the ledger left open ends where the next one
        starts (the engine was stopped), the last open one ends now."""
        since, until = self.window(day)
        now = now or datetime.now(UTC).replace(tzinfo=None)
        with self.sessions() as s:
            rows = list(s.scalars(
                select(SeatInterval).where(
                    SeatInterval.seat_id == seat, SeatInterval.center == self.center.code,
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

    def center_info(self) -> dict[str, Any]:
        return {"center": self.center.code, "timezone": self.center.timezone,
                "today": self.today().isoformat(),
                "seats": [s.id for s in self.center.seats],
                "queues": [q.name for q in self.center.queues],
                "busy_reasons": list(self.center.busy_reasons),
                "sample_default": SAMPLE_DEFAULT, "sample_max": SAMPLE_MAX}

    async def info_handler(self, request: web.Request) -> web.Response:
        return web.json_response(self.center_info())

    async def recordings_handler(self, request: web.Request) -> web.Response:
        def build() -> dict[str, Any]:
            q = request.query
            d = self.day(q.get("date"))
            return {"date": d.isoformat(), "recordings": self.list_recordings(
                d, self.seat(q.get("seat")), self.queue(q.get("queue")))}
        return _answer(build)

    async def sample_handler(self, request: web.Request) -> web.Response:
        def build() -> dict[str, Any]:
            q = request.query
            d = self.day(q.get("date"))
            return {"date": d.isoformat(), "sample": self.sample(d, self.count(q.get("n")))}
        return _answer(build)

    async def timeline_handler(self, request: web.Request) -> web.Response:
        def build() -> dict[str, Any]:
            q = request.query
            return self.timeline(self.seat(q.get("seat"), required=True) or "",
                                 self.day(q.get("date")))
        return _answer(build)

    async def audio_handler(self, request: web.Request) -> web.StreamResponse:
        try:
            path = self.recording_file(request.match_info["uniqueid"])
        except InspectError as exc:
            return web.json_response({"error": str(exc)}, status=exc.status)
        log.info("recording played", uniqueid=request.match_info["uniqueid"],
                 user=request["user"].name)
        # FileResponse answers Range requests, which the browser's <audio> uses to seek.
        return web.FileResponse(path, headers={"Content-Type": "audio/wav",
                                               "Cache-Control": "private, no-store"})


def _answer(build: Callable[[], dict[str, Any]]) -> web.Response:
    """The JSON answer, or the refusal's status and message."""
    try:
        return web.json_response(build())
    except InspectError as exc:
        return web.json_response({"error": str(exc)}, status=exc.status)
