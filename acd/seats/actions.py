"""Seat actions sent to Asterisk over AMI. The only module that sends seat AMI actions.

Domain code calls these and gets `SeatActionError` (never an AMI dict) when Asterisk refuses.
The engine learns the result from the events the action causes, like any other change, so an
action taken from the CLI, the web or the seat's phone is recorded the same way.
"""

from __future__ import annotations

import asyncio
from typing import Any

from panoramisk import Manager

from hotline.center import Center, Seat
from hotline.logs import get_logger

log = get_logger(__name__)


class SeatActionError(RuntimeError):
    pass


class SeatActions:
    def __init__(self, center: Center, manager: Manager) -> None:
        self.center = center
        self.manager = manager

    def _seat(self, seat_id: str) -> Seat:
        for seat in self.center.seats:
            if seat.id == seat_id:
                return seat
        raise SeatActionError(f"no seat {seat_id!r} in center {self.center.code}")

    async def _send(self, action: dict[str, Any], ok_if: tuple[str, ...] = ()) -> None:
        try:
            reply = await asyncio.wait_for(self.manager.send_action(action, as_list=False), 10)
        except TimeoutError:
            raise SeatActionError(f"Asterisk did not answer {action['Action']}") from None
        if isinstance(reply, list):
            reply = reply[0]
        if reply.get("Response") != "Success":
            message = reply.get("Message", "")
            if any(m in message for m in ok_if):
                return
            raise SeatActionError(f"{action['Action']} refused: {message}")

    async def sign_in(self, seat_id: str, queues: tuple[str, ...] = ()) -> None:
        """Into all of the seat's skill queues (or the ones given: peaks, another center's)."""
        seat = self._seat(seat_id)
        for queue in queues or seat.queues:
            await self._send({"Action": "QueueAdd", "Queue": queue,
                              "Interface": f"PJSIP/{seat.id}", "MemberName": seat.id,
                              "StateInterface": f"PJSIP/{seat.id}",
                              "Penalty": str(seat.penalty)},
                             ok_if=("Already there",))
        log.info("seat signed in", seat=seat_id)

    async def sign_out(self, seat_id: str) -> None:
        seat = self._seat(seat_id)
        for queue in {q.name for q in self.center.queues}:
            await self._send({"Action": "QueueRemove", "Queue": queue,
                              "Interface": f"PJSIP/{seat.id}"},
                             ok_if=("Not there", "Unable to remove"))
        log.info("seat signed out", seat=seat_id)

    async def busy(self, seat_id: str, reason: str) -> None:
        seat = self._seat(seat_id)
        if reason not in self.center.busy_reasons:
            raise SeatActionError(f"unknown busy reason {reason!r}; one of "
                                  f"{', '.join(self.center.busy_reasons)}")
        await self._send({"Action": "QueuePause", "Interface": f"PJSIP/{seat.id}",
                          "Paused": "true", "Reason": reason})

    async def ready(self, seat_id: str) -> None:
        seat = self._seat(seat_id)
        await self._send({"Action": "QueuePause", "Interface": f"PJSIP/{seat.id}",
                          "Paused": "false"})

    async def end_wrapup(self, seat_id: str, member_of: tuple[str, ...]) -> None:
        """Asterisk enforces wrap-up from the member's last call; a member added anew has
        none, so the seat is taken out of each queue it is in and put straight back."""
        seat = self._seat(seat_id)
        for queue in member_of:
            await self._send({"Action": "QueueRemove", "Queue": queue,
                              "Interface": f"PJSIP/{seat.id}"}, ok_if=("Not there",))
            await self._send({"Action": "QueueAdd", "Queue": queue,
                              "Interface": f"PJSIP/{seat.id}", "MemberName": seat.id,
                              "StateInterface": f"PJSIP/{seat.id}",
                              "Penalty": str(seat.penalty)}, ok_if=("Already there",))
