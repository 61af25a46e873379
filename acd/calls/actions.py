"""What the engine does to a caller's call over AMI (acd/ami/actions.py sends the actions)."""

from __future__ import annotations

from panoramisk import Manager

from acd.ami import actions as ami

SURVEY = ("hotline-survey", "s", "1")  # extensions_hotline.conf


async def send_to_survey(manager: Manager, uniqueid: str, seat_id: str) -> bool:
    """Redirect the caller's channel to the satisfaction survey, the score credited to the
    seat; False when the caller's channel is gone. The seat's leg is left alone in the queue's
    bridge and Asterisk hangs it up."""
    channel = next((c.name for c in await ami.channels(manager) if c.uniqueid == uniqueid), None)
    if channel is None:
        return False
    # The survey credits the score to ${MEMBERNAME}, which app_queue sets on the caller's
    # channel only with setinterfacevar; naming the seat here keeps the credit whatever the
    # queue's options are.
    await ami.setvar(manager, channel, "MEMBERNAME", seat_id)
    context, exten, priority = SURVEY
    await ami.redirect(manager, channel, context, exten, priority)
    return True
