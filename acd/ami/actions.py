"""AMI actions: the only module that sends them. One function per action the engine uses.

Every function takes the node's panoramisk `Manager`, waits a bounded time for Asterisk's
answer and returns plain values. A refusal, a timeout or a lost connection is one error,
`AmiError`, whose message names the action; callers turn it into their own domain error or
let the web's error middleware answer 502.

Replies: panoramisk gives one `Message` for a simple action, and for an action that answers
with an event list (QueueStatus, CoreShowChannels) every message up to the list's end when
asked `as_list=True`.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from panoramisk import Manager

from acd.errors import Unavailable

TIMEOUT_S = 10.0


class AmiError(Unavailable):
    """Asterisk refused an action, did not answer in time, or the connection is gone."""


async def _send(manager: Manager, action: dict[str, Any], as_list: bool = False,
                timeout: float = TIMEOUT_S) -> list[Mapping[str, str]]:
    name = action["Action"]
    try:
        reply = await asyncio.wait_for(manager.send_action(action, as_list=as_list), timeout)
    except TimeoutError:
        raise AmiError(f"Asterisk did not answer {name} within {timeout:g} s") from None
    except (ConnectionError, OSError, AttributeError) as exc:  # no transport: not connected
        raise AmiError(f"{name}: the AMI connection is gone ({exc})") from None
    return list(reply) if isinstance(reply, list) else [reply]


async def _ok(manager: Manager, action: dict[str, Any], ok_if: tuple[str, ...] = (),
              timeout: float = TIMEOUT_S) -> Mapping[str, str]:
    """The first reply if it is a Success (or its message is one of `ok_if`), else AmiError."""
    replies = await _send(manager, action, timeout=timeout)
    first = replies[0] if replies else {}
    if first.get("Response") != "Success":
        message = first.get("Message", "") or "no reason given"
        if any(m in message for m in ok_if):
            return first
        raise AmiError(f"{action['Action']} refused by Asterisk: {message}")
    return first


async def _list(manager: Manager, action: dict[str, Any], event: str,
                timeout: float = TIMEOUT_S) -> list[dict[str, str]]:
    """The events named `event` of an action answered with an event list."""
    replies = await _send(manager, action, as_list=True, timeout=timeout)
    if replies and replies[0].get("Response") == "Error":
        raise AmiError(f"{action['Action']} refused by Asterisk: "
                       f"{replies[0].get('Message', '')}")
    return [dict(m) for m in replies if m.get("Event") == event]


# --- queue members (seats) -----------------------------------------------------------------------

async def queue_add(manager: Manager, queue: str, seat_id: str, penalty: int = 0) -> None:
    """The seat's PJSIP endpoint into a queue; already there is fine."""
    await _ok(manager, {"Action": "QueueAdd", "Queue": queue, "Interface": f"PJSIP/{seat_id}",
                        "MemberName": seat_id, "StateInterface": f"PJSIP/{seat_id}",
                        "Penalty": str(penalty)}, ok_if=("Already there",))


async def queue_remove(manager: Manager, queue: str, seat_id: str) -> None:
    """The seat out of a queue; not there is fine."""
    await _ok(manager, {"Action": "QueueRemove", "Queue": queue,
                        "Interface": f"PJSIP/{seat_id}"},
              ok_if=("Not there", "Unable to remove"))


async def queue_pause(manager: Manager, seat_id: str, paused: bool, reason: str = "") -> None:
    """Pause (示忙, with a reason) or unpause the seat in every queue it is in."""
    action = {"Action": "QueuePause", "Interface": f"PJSIP/{seat_id}",
              "Paused": "true" if paused else "false"}
    if paused:
        action["Reason"] = reason
    await _ok(manager, action)


@dataclass(frozen=True)
class QueueState:
    """QueueStatus as the engine reads it: every member, and every caller waiting."""

    members: list[dict[str, str]]   # QueueMember events
    entries: list[dict[str, str]]   # QueueEntry events (callers waiting)


async def queue_status(manager: Manager, timeout: float = 15.0) -> QueueState:
    replies = await _send(manager, {"Action": "QueueStatus"}, as_list=True, timeout=timeout)
    if replies and replies[0].get("Response") == "Error":
        raise AmiError(f"QueueStatus refused by Asterisk: {replies[0].get('Message', '')}")
    events = [dict(m) for m in replies]
    return QueueState(members=[e for e in events if e.get("Event") == "QueueMember"],
                      entries=[e for e in events if e.get("Event") == "QueueEntry"])


# --- channels ----------------------------------------------------------------------------------

@dataclass(frozen=True)
class Channel:
    """One channel as CoreShowChannels lists it."""

    name: str
    uniqueid: str
    linkedid: str
    state: str        # ChannelState: "6" is up
    bridge: str       # BridgeId, empty when not bridged
    context: str
    exten: str

    @property
    def talking(self) -> bool:
        """Up and in a bridge: a call in progress."""
        return self.state == "6" and bool(self.bridge)


async def channels(manager: Manager) -> list[Channel]:
    return [Channel(name=e.get("Channel", ""), uniqueid=e.get("Uniqueid", ""),
                    linkedid=e.get("Linkedid", ""), state=e.get("ChannelState", ""),
                    bridge=e.get("BridgeId", ""), context=e.get("Context", ""),
                    exten=e.get("Exten", ""))
            for e in await _list(manager, {"Action": "CoreShowChannels"}, "CoreShowChannel")]


async def setvar(manager: Manager, channel: str, variable: str, value: str) -> None:
    await _ok(manager, {"Action": "Setvar", "Channel": channel, "Variable": variable,
                        "Value": value})


async def getvar(manager: Manager, variable: str) -> str:
    """A global variable or a dialplan function's value, e.g. DEVICE_STATE(PJSIP/9001)."""
    reply = await _ok(manager, {"Action": "Getvar", "Variable": variable})
    return str(reply.get("Value") or "")


async def redirect(manager: Manager, channel: str, context: str, exten: str,
                   priority: str = "1") -> None:
    await _ok(manager, {"Action": "Redirect", "Channel": channel, "Context": context,
                        "Exten": exten, "Priority": priority})


async def originate(manager: Manager, channel: str, context: str, exten: str, caller_id: str,
                    variables: dict[str, str], ring_s: int = 30) -> None:
    """Ring `channel`; answered, it runs context,exten,1. Async: the AMI connection the engine
    reads its events from must never wait for a phone to be answered."""
    await _ok(manager, {"Action": "Originate", "Channel": channel, "Context": context,
                        "Exten": exten, "Priority": "1", "Timeout": str(ring_s * 1000),
                        "Async": "true", "CallerID": caller_id,
                        "Variable": [f"{k}={v}" for k, v in variables.items()]})


async def originate_async(manager: Manager, channel: str, *, action_id: str,
                          caller_id: str, variables: dict[str, str], timeout_s: int,
                          context: str = "", exten: str = "", application: str = "",
                          data: str = "", channel_id: str = "",
                          other_channel_id: str = "") -> None:
    """Ring `channel`; answered, it runs context,exten,1 (or `application`). Returns once
    Asterisk has queued the call: how it ends comes later as an OriginateResponse event with
    this `action_id` (the caller of this function follows it on its own connection).
    `channel_id` / `other_channel_id`: the Uniqueids of the channel (and of a Local channel's
    second half)."""
    action: dict[str, Any] = {"Action": "Originate", "ActionID": action_id, "Channel": channel,
                              "Timeout": str(timeout_s * 1000), "Async": "true",
                              "CallerID": caller_id,
                              "Variable": [f"{k}={v}" for k, v in variables.items()]}
    if application:
        action.update(Application=application, Data=data)
    else:
        action.update(Context=context, Exten=exten, Priority="1")
    if channel_id:
        action["ChannelId"] = channel_id
    if other_channel_id:
        action["OtherChannelId"] = other_channel_id
    name = "Originate"
    try:
        reply = await asyncio.wait_for(manager.send_action(action, as_list=False), TIMEOUT_S)
    except TimeoutError:
        raise AmiError(f"Asterisk did not answer {name} within {TIMEOUT_S:g} s") from None
    except (ConnectionError, OSError, AttributeError) as exc:
        raise AmiError(f"{name}: the AMI connection is gone ({exc})") from None
    first = reply[0] if isinstance(reply, list) else reply
    if first.get("Response") != "Success":
        raise AmiError(f"Originate refused by Asterisk: {first.get('Message', '')}")


# --- Asterisk's own database (AstDB): what the dialplan reads when Python is down ----------------
# The engine's AMI user may not write AstDB: DBPut needs the system class, which it never has
# (asterisk_conf/render.py AMI_WRITE), and AMI refuses the DB() function as an escalation. So
# the dialplan writes it: an Originate of Local/<op>@hotline-astdb (a context included nowhere;
# extensions_hotline.conf), whose second half writes and then answers. The Originate is
# synchronous: its Success means the write is done, so writes keep their order.

BLOCKED_OPS = ("put", "del", "clear")


async def blocked_astdb(manager: Manager, op: str, number: str = "", expiry: str = "") -> None:
    """hotline-blocked/<number> = <expiry> (`put`), removed (`del`), or the whole family
    removed (`clear`). `number` is digits with an optional leading +, `expiry` digits."""
    if op not in BLOCKED_OPS:
        raise ValueError(f"op: one of {', '.join(BLOCKED_OPS)}")
    if op != "clear" and not (number.lstrip("+").isdigit() and len(number) <= 21):
        raise ValueError("number: digits with an optional leading +")
    if op == "put" and not (expiry.isdigit() and len(expiry) <= 12):
        raise ValueError("expiry: epoch seconds")
    await _ok(manager, {"Action": "Originate", "Channel": f"Local/{op}@hotline-astdb/n",
                        "Application": "NoOp", "Timeout": "5000", "Async": "false",
                        "CallerID": "hotline",
                        "Variable": [f"ASTDB_KEY={number}", f"ASTDB_VALUE={expiry}"]})
