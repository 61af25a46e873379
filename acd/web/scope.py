"""What of the engine's live view an actor sees, in a deployment of several centers
(docs/province.md): its own center's queues, its own center's seats and the seats lent to it
(a seat in one of its queues); the nodes, which every center shares. An admin of the primary
center sees all of it (`Actor.deployment_wide`). The wallboard's WebSocket (acd/web/pages.py)
and GET /api/live filter the snapshot and every change through here."""

from __future__ import annotations

from typing import Any

from acd.seats.service import Actor
from hotline.center import Center


class LiveScope:
    """The queues and seats one actor may see of the live view."""

    def __init__(self, center: Center, actor: Actor) -> None:
        self.everything = actor.deployment_wide(center) or len(center.codes) == 1
        home = actor.home(center)
        self.queues = {q.name for q in center.queues_of(home)}
        self.seats = {s.id for s in center.seats_of(home)}

    def seat(self, seat_id: str, view: Any) -> bool:
        """Its own seat, or one in a queue of its center (lent to it)."""
        if self.everything or seat_id in self.seats:
            return True
        queues = view.get("queues", ()) if isinstance(view, dict) else ()
        return bool(self.queues.intersection(queues))

    def snapshot(self, snap: Any) -> Any:
        if self.everything:
            return snap
        return {**snap,
                "queues": {q: v for q, v in snap.get("queues", {}).items() if q in self.queues},
                "seats": {s: v for s, v in snap.get("seats", {}).items() if self.seat(s, v)}}

    def change(self, change: dict[str, Any]) -> bool:
        """Does the actor see this change (acd/live/store.py: queue, seat or node)?"""
        if self.everything:
            return True
        kind, name = change.get("kind"), str(change.get("name", ""))
        if kind == "queue":
            return name in self.queues
        if kind == "seat":
            return self.seat(name, change.get("data"))
        return True
