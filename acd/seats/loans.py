"""Seats lent between the centers of one deployment (seed 000 §四: 动态调整平台坐席人数，实现沈阳
和葫芦岛地区的话务人员岗位动态互换): a supervisor lends seats of one center to another center's
queues until a time; the calls they take there count for the center whose queue it was
(acd/history/ledger.py), their own time stays their own center's.

The database is the loans' one truth (table `seat_loans`, every loan kept with who lent it,
when, until when, and who or what ended it). The CLI, the API and the wallboard only write
and read rows here (`LoanService`); the engine's `LoanKeeper` makes Asterisk follow them with
QueueAdd / QueueRemove (acd/ami/actions.py):

    lent (applied_at None) --keeper: QueueAdd to each queue--> applied
    applied --until passes, or returned--> ended (ended_at) --keeper: QueueRemove--> released

The keeper looks every few seconds; a node that (re)connects, and an engine that starts, get
every loan of their seats applied again and every ended one released, so a loan ends at its
time even when the engine was down then (it ends as soon as the engine is back).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from panoramisk import Manager
from sqlalchemy import DateTime, Index, Integer, String, Text, or_, select
from sqlalchemy.orm import Mapped, Session, mapped_column, sessionmaker

from acd.ami import actions as ami
from acd.errors import Conflict, Forbidden, Invalid, NotFound
from acd.history.models import Base
from acd.seats.service import Actor
from hotline.center import Center, CenterError
from hotline.localtime import now_utc, parse_local, to_local
from hotline.logs import get_logger

log = get_logger(__name__)

LENDING_ROLES = ("supervisor", "admin")
MAX_HOURS = 72.0  # a loan is for a peak (a holiday's days), not a transfer
MAX_SEATS = 50


class SeatLoan(Base):
    """One seat lent from its center to another center's queues for a time."""

    __tablename__ = "seat_loans"
    __table_args__ = (Index("ix_seat_loans_open", "released_at", "seat_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    seat_id: Mapped[str] = mapped_column(String(20))
    from_center: Mapped[str] = mapped_column(String(40))
    to_center: Mapped[str] = mapped_column(String(40))
    queues: Mapped[str] = mapped_column(Text)             # the queues, space-separated
    lent_by: Mapped[str] = mapped_column(String(80))
    lent_at: Mapped[datetime] = mapped_column(DateTime)
    until_at: Mapped[datetime] = mapped_column(DateTime)
    ended_at: Mapped[datetime | None] = mapped_column(DateTime)  # returned, or its time came
    ended_by: Mapped[str] = mapped_column(String(80), default="")  # a user, or "time"
    applied_at: Mapped[datetime | None] = mapped_column(DateTime)   # the seat is in the queues
    released_at: Mapped[datetime | None] = mapped_column(DateTime)  # ... and out of them again


@dataclass(frozen=True)
class Loan:
    """A loan as the CLI, the API and the wallboard show it (times naive UTC)."""

    id: int
    seat: str
    from_center: str
    to_center: str
    queues: tuple[str, ...]
    lent_by: str
    lent_at: datetime
    until: datetime
    ended_at: datetime | None
    ended_by: str
    applied: bool
    released: bool

    @property
    def current(self) -> bool:
        return self.ended_at is None

    def as_dict(self, center: Center) -> dict[str, object]:
        def local(t: datetime | None) -> str | None:
            return None if t is None else f"{to_local(t, center.tz):%Y-%m-%d %H:%M}"
        return {"id": self.id, "seat": self.seat, "from_center": self.from_center,
                "from_name": center.center_name(self.from_center),
                "to_center": self.to_center, "to_name": center.center_name(self.to_center),
                "queues": list(self.queues),
                "queue_titles": [center.queue_title(q) for q in self.queues],
                "lent_by": self.lent_by, "lent_at": local(self.lent_at),
                "until": local(self.until), "ended_at": local(self.ended_at),
                "ended_by": self.ended_by, "current": self.current,
                "applied": self.applied, "released": self.released}


def _loan(row: SeatLoan) -> Loan:
    return Loan(row.id, row.seat_id, row.from_center, row.to_center,
                tuple(row.queues.split()), row.lent_by, row.lent_at, row.until_at,
                row.ended_at, row.ended_by, row.applied_at is not None,
                row.released_at is not None)


class LoanService:
    """Lend, list and return: the checks in one place for the CLI, the API and the web."""

    def __init__(self, center: Center, sessions: sessionmaker[Session]) -> None:
        self.center = center
        self.sessions = sessions

    # --- the checks ------------------------------------------------------------------------------

    def _may_lend(self, actor: Actor, seat_center: str) -> None:
        """A supervisor or admin lends its own center's seats (a web user or token without
        a center is the primary's); an admin of the primary center any seat of the
        deployment."""
        if actor.role not in LENDING_ROLES:
            raise Forbidden(f"role {actor.role!r} may not lend seats")
        own = actor.home(self.center)
        if not actor.deployment_wide(self.center) and seat_center != own:
            raise Forbidden(f"a {actor.role} of {own} lends {own}'s seats only, not "
                            f"{seat_center}'s")

    def until_of(self, until: str | None, hours: object | None, now: datetime) -> datetime:
        """--until (a local time of the center) or --hours (how long from now): exactly one,
        in the future, at most MAX_HOURS ahead."""
        if (until is None) == (hours is None):
            raise Invalid("say until (a local time, e.g. 2026-10-01T20:00) or hours, one of "
                          "them")
        if hours is not None:
            if isinstance(hours, bool) or not isinstance(hours, (int, float)) or \
                    not 0 < hours <= MAX_HOURS:
                raise Invalid(f"hours: must be a number above 0 and at most {MAX_HOURS:g}, "
                              f"got {hours!r}")
            end = now + timedelta(hours=float(hours))
        else:
            if not isinstance(until, str) or len(until) > 40:
                raise Invalid("until: must be a local time like 2026-10-01T20:00")
            try:
                end = parse_local(until, self.center.timezone, "until")
            except ValueError as exc:
                raise Invalid(str(exc)) from None
        if end <= now:
            raise Invalid("until: must be in the future")
        if end > now + timedelta(hours=MAX_HOURS):
            raise Invalid(f"until: at most {MAX_HOURS:g} hours from now")
        return end.replace(microsecond=0)

    def _queues_of(self, to: str, queues: object) -> tuple[str, ...]:
        own = [q.name for q in self.center.queues_of(to)]
        if queues is None or queues == [] or queues == ():
            return tuple(own)
        if not isinstance(queues, (list, tuple)) or len(queues) > 50 or \
                not all(isinstance(q, str) for q in queues):
            raise Invalid("queues: must be a list of queue names")
        for q in queues:
            if q not in own:
                where = self.center.center_of_queue(q) if any(
                    x.name == q for x in self.center.queues) else None
                raise Invalid(f"queues: {q[:40]!r} is " + (
                    f"a queue of {where}, not of {to}" if where else "no queue") +
                    f" (queues of {to}: {', '.join(own)})")
        return tuple(dict.fromkeys(queues))

    # --- actions ---------------------------------------------------------------------------------

    def lend(self, actor: Actor, seats: object, to: object, queues: object = None,
             until: str | None = None, hours: object | None = None,
             now: datetime | None = None) -> list[Loan]:
        """Lend these seats to center `to`'s queues (default: all of them) until a time; all
        or none: a seat unknown, of `to` itself, not the actor's to lend or already lent
        refuses the whole request."""
        now = now or now_utc()
        if not isinstance(to, str) or not to:
            raise Invalid("to: the center to lend to is required")
        try:
            self.center.known_center(to, "to")
        except CenterError as exc:
            raise Invalid(str(exc)) from None
        if not isinstance(seats, (list, tuple)) or not seats or len(seats) > MAX_SEATS or \
                not all(isinstance(s, str) for s in seats):
            raise Invalid(f"seats: must be a list of 1 to {MAX_SEATS} seat ids")
        end = self.until_of(until, hours, now)
        names = self._queues_of(to, queues)
        chosen = []
        for seat_id in dict.fromkeys(seats):
            seat = next((s for s in self.center.seats if s.id == seat_id), None)
            if seat is None:
                raise NotFound(f"no seat {seat_id[:20]!r} in this deployment")
            if seat.center == to:
                raise Invalid(f"seat {seat.id} is {to}'s own: lend it to another center")
            self._may_lend(actor, seat.center)
            chosen.append(seat)
        with self.sessions.begin() as s:
            busy = {r.seat_id: r for r in s.scalars(select(SeatLoan).where(
                SeatLoan.seat_id.in_([x.id for x in chosen]), SeatLoan.ended_at.is_(None)))}
            if busy:
                first = next(iter(busy.values()))
                raise Conflict(f"seat {first.seat_id} is already lent to {first.to_center} "
                               f"(loan {first.id}): return it first")
            rows = [SeatLoan(seat_id=x.id, from_center=x.center, to_center=to,
                             queues=" ".join(names), lent_by=actor.name[:80], lent_at=now,
                             until_at=end, ended_by="") for x in chosen]
            s.add_all(rows)
            s.flush()
            out = [_loan(r) for r in rows]
        log.info("seats lent", seats=[x.id for x in chosen], to=to, queues=list(names),
                 until=str(end), by=actor.name)
        return out

    def loans(self, current_only: bool = True, limit: int = 200,
              center: str | None = None) -> list[Loan]:
        """Current loans (not ended), or the latest ones of the history too; with `center`,
        only the loans from or to that center."""
        q = select(SeatLoan).order_by(SeatLoan.id.desc()).limit(limit)
        if center is not None:
            q = q.where(or_(SeatLoan.from_center == center, SeatLoan.to_center == center))
        if current_only:
            q = q.where(SeatLoan.ended_at.is_(None))
        with self.sessions() as s:
            return [_loan(r) for r in s.scalars(q)]

    def return_(self, actor: Actor, seats: object, now: datetime | None = None) -> list[Loan]:
        """End the current loans of these seats now; the keeper takes them out of the other
        center's queues."""
        now = now or now_utc()
        if not isinstance(seats, (list, tuple)) or not seats or len(seats) > MAX_SEATS or \
                not all(isinstance(s, str) for s in seats):
            raise Invalid(f"seats: must be a list of 1 to {MAX_SEATS} seat ids")
        with self.sessions.begin() as s:
            rows = {r.seat_id: r for r in s.scalars(select(SeatLoan).where(
                SeatLoan.seat_id.in_(list(seats)), SeatLoan.ended_at.is_(None)))}
            for seat_id in seats:
                if seat_id not in rows:
                    raise NotFound(f"seat {seat_id[:20]!r} is not lent")
                self._may_lend(actor, rows[seat_id].from_center)
            for r in rows.values():
                r.ended_at, r.ended_by = now, actor.name[:80]
            out = [_loan(r) for r in rows.values()]
        log.info("seats returned", seats=list(rows), by=actor.name)
        return out


class LoanKeeper:
    """The engine's side: Asterisk's queue members follow the loans (see the module's
    docstring). `manager(node)` is the node's AMI connection while it is up, else None."""

    def __init__(self, center: Center, sessions: sessionmaker[Session],
                 manager: Callable[[str], Manager | None], every_s: float = 2.0) -> None:
        self.center = center
        self.sessions = sessions
        self.manager = manager
        self.every_s = every_s
        self._up: set[str] = set()  # nodes connected at the last look

    async def run(self) -> None:
        while True:
            try:
                await self.tick()
            except Exception:  # noqa: BLE001 - a database or AMI hiccup: the next look
                log.exception("seat loans: keeping Asterisk in step failed; again soon")
            await asyncio.sleep(self.every_s)

    def _due(self, now: datetime, resync: set[str]) -> list[SeatLoan]:
        """End the loans whose time has come; the rows that need an action (detached)."""
        nodes = {s.id: s.node for s in self.center.seats}
        with self.sessions.begin() as s:
            for r in s.scalars(select(SeatLoan).where(SeatLoan.ended_at.is_(None),
                                                      SeatLoan.until_at <= now)):
                r.ended_at, r.ended_by = r.until_at, "time"
            rows = list(s.scalars(select(SeatLoan).where(SeatLoan.released_at.is_(None))))
            todo = [r for r in rows if r.ended_at is not None or r.applied_at is None
                    or nodes.get(r.seat_id) in resync]
            s.expunge_all()
        return todo

    def _mark(self, loan_id: int, field: str, now: datetime) -> None:
        with self.sessions.begin() as s:
            row = s.get(SeatLoan, loan_id)
            if row is not None:
                setattr(row, field, now)

    async def tick(self, now: datetime | None = None) -> int:
        """One look: how many loans were applied or released."""
        now = now or now_utc()
        up = {n.name for n in self.center.nodes if self.manager(n.name) is not None}
        resync = up - self._up  # newly connected (or the engine just started): all again
        self._up = up
        done = 0
        for row in await asyncio.to_thread(self._due, now, resync):
            seat = next((s for s in self.center.seats if s.id == row.seat_id), None)
            manager = self.manager(seat.node) if seat is not None else None
            if seat is None or manager is None:
                continue  # the seat left the file, or its node is down: at the reconnect
            queues = [q for q in row.queues.split()
                      if any(x.name == q for x in self.center.queues)]
            try:
                if row.ended_at is not None:
                    for q in queues:
                        await ami.queue_remove(manager, q, seat.id)
                    await asyncio.to_thread(self._mark, row.id, "released_at", now)
                    log.info("seat loan ended", loan=row.id, seat=seat.id, to=row.to_center,
                             by=row.ended_by)
                else:
                    for q in queues:
                        await ami.queue_add(manager, q, seat.id, seat.penalty)
                    if row.applied_at is None:
                        await asyncio.to_thread(self._mark, row.id, "applied_at", now)
                    log.info("seat loan applied", loan=row.id, seat=seat.id, to=row.to_center,
                             queues=queues)
            except ami.AmiError as exc:
                log.warning("seat loan not applied yet", loan=row.id, seat=seat.id,
                            error=str(exc))
                self._up.discard(seat.node)  # try the node's loans again next time
                continue
            done += 1
        return done
