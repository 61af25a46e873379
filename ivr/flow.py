"""Walking the menu for one caller, against an abstract channel (FastAGI, classic AGI, a fake).

Whatever the caller presses, the walk ends in a queue, a hand-off or a goodbye: a menu that
gets no key or a wrong key replays at most `retries` times and then goes to its fallback.
The path of keys and the time spent are returned for the ledger.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Protocol

from hotline.center import Handoffs
from ivr.menu import Menu


class Hangup(Exception):
    """The caller hung up."""


class Channel(Protocol):
    async def play(self, prompt: str, keys: str = "") -> str:
        """Play a prompt; return the key that interrupted it ("" for none)."""

    async def wait_digit(self, timeout_s: float) -> str:
        """A key within the timeout, or "" for none."""

    async def play_text(self, text: str, keys: str = "") -> str:
        """Play a text that has no recorded prompt (the emergency broadcast)."""

    async def progress(self, result: Result) -> None:
        """The walk so far (keys, broadcast heard), so a hang-up mid-menu still reports it."""


@dataclass
class Result:
    status: str                   # queue / handoff / hangup
    queue: str = ""
    handoff: str = ""
    path: list[str] = field(default_factory=list)
    heard_broadcast: bool = False
    seconds: float = 0.0

    @property
    def path_text(self) -> str:
        return ">".join(self.path)[:200]


MAX_STEPS = 200
KEYS = "0123456789*#"  # a walk longer than this is a menu bug; the caller goes to a seat


async def walk(menu: Menu, channel: Channel, handoffs: Handoffs, broadcast: str | None,
               default_queue: str,
               knowledge: Callable[[str], Awaitable[str | None]] | None = None,
               progress: Callable[[str], Awaitable[None]] | None = None) -> Result:
    """`knowledge(title)`: the text of a knowledge entry marked for the IVR, or None; an info
    node with `kb` reads it out, and falls back to its own prompt without one.
    `progress(prompt)`: order progress by phone (asks with `prompt`, reads the answer out);
    without it a progress node only goes on."""
    started = time.monotonic()
    result = Result(status="queue", queue=default_queue)
    name = menu.start
    tries: dict[str, int] = {}
    ahead = ""  # a key pressed during a play/info prompt goes to the next menu (type-ahead)
    for _ in range(MAX_STEPS):
        node = menu.node(name)
        if node.kind == "info" and node.kb and knowledge is not None:
            text = await knowledge(node.kb)
            if text:
                ahead = await channel.play_text(text, KEYS) or ahead
                name = node.next
                continue
        if node.kind == "progress":
            if progress is not None:
                await progress(node.prompt)
            ahead = ""
            name = node.next
        elif node.kind in ("play", "info"):
            ahead = await channel.play(node.prompt, KEYS) or ahead
            name = node.next
        elif node.kind == "broadcast":
            if broadcast:  # emergency information: heard whole, keys before it are dropped
                await channel.play_text(broadcast)
                result.heard_broadcast = True
                await channel.progress(result)
                ahead = ""
            name = node.next
        elif node.kind == "queue":
            result.status, result.queue = "queue", node.queue
            break
        elif node.kind == "hangup":
            await channel.play(node.prompt)
            result.status, result.queue = "hangup", ""
            break
        elif node.kind == "menu":
            # Any key interrupts the prompt: one the menu does not know counts as a wrong key.
            key, ahead = (ahead, "") if ahead else (await channel.play(node.prompt, KEYS), "")
            if not key:
                key = await channel.wait_digit(node.timeout_s)
            if key in node.options:
                result.path.append(key)
                await channel.progress(result)
                tries.pop(name, None)
                name = node.options[key]
                continue
            tries[name] = tries.get(name, 0) + 1
            result.path.append(key or "-")
            await channel.progress(result)
            if tries[name] > node.retries:
                name = node.fallback
                continue
            if key:
                await channel.play("invalid")
        elif node.kind == "handoff":
            number = getattr(handoffs, node.hotline)
            await channel.play(f"handoff_{node.hotline}")
            if handoffs.transfer_enabled and node.offer_prompt:
                key = await channel.play(node.offer_prompt, "0123456789*#")
                if not key:
                    key = await channel.wait_digit(5)
                result.path.append(key or "-")
                if key == "1":
                    result.status, result.queue, result.handoff = "handoff", "", number
                    break
                name = menu.start
                continue
            await channel.play("goodbye")
            result.status, result.queue, result.handoff = "hangup", "", ""
            break
    result.seconds = round(time.monotonic() - started, 3)
    return result


async def survey(channel: Channel, retries: int = 1, timeout_s: float = 6.0) -> int | None:
    """1 very satisfied, 2 satisfied, 3 basic, 4 unsatisfied; None: not rated."""
    for attempt in range(retries + 1):
        key = await channel.play("survey", "1234")
        if not key:
            key = await channel.wait_digit(timeout_s)
        if key in ("1", "2", "3", "4"):
            await channel.play("survey_thanks")
            return int(key)
        if attempt < retries and key:
            await channel.play("invalid")
    return None
