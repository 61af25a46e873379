"""Seat actions: sign in, sign out, busy with a reason, ready, end wrap-up. One service for every
channel (the `hotline seat` CLI, the HTTP API, the web pages); each checks here, in one place:

- the seat exists in the center file;
- who may act: a seat on itself only, a supervisor or admin on any seat of its center (an
  admin of the primary center on any seat of the deployment);
- the input: a busy reason of the center's list, queues the center has;
- the state: end-wrapup only for a seat in wrap-up (when the engine's live view is at hand);
- the node: the seat's Asterisk is connected.

Refusals are typed (acd/errors.py); Asterisk's own refusals come as `AmiError`. The engine
learns the result from the events the action causes, like any other change, so an action
taken from the CLI, the web, the API or the seat's phone (*21-*24, pure dialplan, working
while the Python side is down) is recorded the same way.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from panoramisk import Manager

from acd.ami import actions as ami
from acd.errors import Conflict, Forbidden, Invalid, NotFound, Unavailable
from acd.seats.state import SeatMachine, SeatState
from hotline.center import Center, Seat
from hotline.logs import get_logger

log = get_logger(__name__)

ACTIONS = ("signin", "signout", "busy", "ready", "end-wrapup")
ACTING_ROLES = ("seat", "supervisor", "admin")


@dataclass(frozen=True)
class Actor:
    """Who asks: a web user, an API token, or the operator at the CLI (`Actor.operator()`)."""

    name: str
    role: str
    seat_id: str = ""
    unit: str = ""  # a handling unit's user or token: the unit's code
    center: str = ""  # the center it belongs to ("" = the one serving the request)

    @classmethod
    def operator(cls) -> Actor:
        return cls("cli", "admin")

    def home(self, center: Center) -> str:
        """The center the actor acts for: its own, or the primary for one that names none
        (the CLI's operator, a row from before centers were hosted)."""
        return self.center or center.code

    def scope(self, center: Center) -> tuple[str, ...]:
        """The centers whose calls, queues and seats the actor sees: its own, or every center
        of the deployment for the primary's admin."""
        return center.codes if self.deployment_wide(center) else (self.home(center),)

    def deployment_wide(self, center: Center) -> bool:
        """An admin of the primary center sees and acts on every center of the deployment
        (docs/province.md); everyone else on its own center only."""
        return self.role == "admin" and self.home(center) == center.code


class SeatService:
    def __init__(self, center: Center, manager: Callable[[str], Manager | None],
                 live: Callable[[str], SeatMachine | None] = lambda _: None) -> None:
        """`manager(node)`: the node's AMI connection while it is up, else None.
        `live(seat)`: the engine's view of the seat, when there is an engine."""
        self.center = center
        self._manager = manager
        self._live = live

    # --- the checks, in order ------------------------------------------------------------------

    def seat(self, seat_id: str) -> Seat:
        for seat in self.center.seats:
            if seat.id == seat_id:
                return seat
        raise NotFound(f"no seat {seat_id!r} in center {self.center.code}")

    def check_actor(self, actor: Actor, seat: Seat) -> None:
        if actor.role not in ACTING_ROLES:
            raise Forbidden(f"role {actor.role!r} may not act on seats")
        if actor.role == "seat" and actor.seat_id != seat.id:
            raise Forbidden("a seat acts on itself only")
        own = self.center.center_of_seat(seat.id)
        if not actor.deployment_wide(self.center) and actor.home(self.center) != own:
            raise Forbidden(f"a {actor.role} of {actor.home(self.center)} acts on its own "
                            f"center's seats only, not {own}'s")

    def _node(self, seat: Seat) -> Manager:
        manager = self._manager(seat.node)
        if manager is None:
            raise Unavailable(f"Asterisk node {seat.node} is not connected")
        return manager

    def _allowed(self, actor: Actor, seat_id: str) -> Seat:
        seat = self.seat(seat_id)
        self.check_actor(actor, seat)
        return seat

    # --- actions ---------------------------------------------------------------------------------

    async def sign_in(self, actor: Actor, seat_id: str, queues: tuple[str, ...] = ()) -> None:
        """Into all of the seat's skill queues, or the ones given (another queue at a peak)."""
        seat = self._allowed(actor, seat_id)
        known = {q.name for q in self.center.queues}
        unknown = sorted(set(queues) - known)
        if unknown:
            raise Invalid(f"unknown queue(s): {', '.join(unknown)}")
        manager = self._node(seat)
        for queue in queues or seat.queues:
            await ami.queue_add(manager, queue, seat.id, seat.penalty)
        log.info("seat signed in", seat=seat.id, by=actor.name)

    async def sign_out(self, actor: Actor, seat_id: str) -> None:
        seat = self._allowed(actor, seat_id)
        manager = self._node(seat)
        for queue in sorted({q.name for q in self.center.queues}):
            await ami.queue_remove(manager, queue, seat.id)
        log.info("seat signed out", seat=seat.id, by=actor.name)

    async def busy(self, actor: Actor, seat_id: str, reason: str) -> None:
        seat = self._allowed(actor, seat_id)
        if reason not in self.center.busy_reasons:
            raise Invalid(f"reason must be one of {', '.join(self.center.busy_reasons)}, "
                          f"got {reason!r}")
        manager = self._node(seat)
        await ami.queue_pause(manager, seat.id, True, reason)
        log.info("seat busy", seat=seat.id, reason=reason, by=actor.name)

    async def ready(self, actor: Actor, seat_id: str) -> None:
        seat = self._allowed(actor, seat_id)
        manager = self._node(seat)
        await ami.queue_pause(manager, seat.id, False)
        log.info("seat ready", seat=seat.id, by=actor.name)

    async def end_wrapup(self, actor: Actor, seat_id: str) -> None:
        """Asterisk enforces wrap-up from the member's last call; a member added anew has
        none, so the seat is taken out of each queue it is in and put straight back."""
        seat = self._allowed(actor, seat_id)
        live = self._live(seat.id)
        if live is not None and live.state is not SeatState.WRAPUP:
            raise Conflict(f"seat {seat.id} is not in wrap-up (it is {live.state.value})")
        manager = self._node(seat)
        member_of = tuple(sorted(live.queues)) if live is not None else seat.queues
        for queue in member_of:
            await ami.queue_remove(manager, queue, seat.id)
            await ami.queue_add(manager, queue, seat.id, seat.penalty)
        log.info("seat wrap-up ended", seat=seat.id, by=actor.name)

    async def act(self, actor: Actor, seat_id: str, action: str, body: object) -> None:
        """One action by name with its JSON body (the HTTP routes): {"reason": ...} for busy,
        an optional {"queues": [...]} for signin."""
        if action not in ACTIONS:
            raise NotFound(f"no action {action!r}; one of {', '.join(ACTIONS)}")
        self._allowed(actor, seat_id)
        if body is None:
            body = {}
        if not isinstance(body, dict):
            raise Invalid("the body must be a JSON object")
        if action == "signin":
            queues = body.get("queues", [])
            if not isinstance(queues, list) or not all(isinstance(q, str) for q in queues):
                raise Invalid("queues must be a list of queue names")
            await self.sign_in(actor, seat_id, tuple(queues))
        elif action == "signout":
            await self.sign_out(actor, seat_id)
        elif action == "busy":
            reason = body.get("reason")
            await self.busy(actor, seat_id, reason if isinstance(reason, str) else "")
        elif action == "ready":
            await self.ready(actor, seat_id)
        else:
            await self.end_wrapup(actor, seat_id)
