"""The IVR menu as data: loaded from YAML and checked whole before a call ever uses it.

A bad file is refused with the node and field named, e.g.
``nodes.highway_menu.options.7: no node named 'nowhere'``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from hotline.center import Center

KINDS = ("play", "broadcast", "menu", "info", "queue", "handoff", "hangup", "progress")
KEYS = set("0123456789*#")
HOTLINES = ("rail", "civil_aviation", "postal", "highway_rescue", "water_distress")
DEFAULT = Path(__file__).resolve().parent / "menus" / "default.yaml"
_NAME = re.compile(r"^[A-Za-z0-9_-]{1,60}$")
PROMPT_MAX = 500  # characters of one prompt's text (espeak-ng speaks it at build time)


class MenuError(ValueError):
    def __init__(self, where: str, message: str) -> None:
        super().__init__(f"{where}: {message}")
        self.where = where


@dataclass(frozen=True)
class Node:
    name: str
    kind: str
    prompt: str = ""
    next: str = ""
    options: dict[str, str] = field(default_factory=dict)
    timeout_s: float = 5.0
    retries: int = 2
    fallback: str = ""
    queue: str = ""
    hotline: str = ""
    offer_prompt: str = ""
    kb: str = ""  # info: read out the knowledge entry with this title (marked for the IVR)


@dataclass(frozen=True)
class Menu:
    start: str
    nodes: dict[str, Node]
    prompts: dict[str, str]
    source: Path | None = None

    def node(self, name: str) -> Node:
        return self.nodes[name]


_ALLOWED = {
    "play": {"prompt", "next"}, "broadcast": {"next"}, "info": {"prompt", "next", "kb"},
    "menu": {"prompt", "options", "timeout_s", "retries", "fallback"},
    "queue": {"queue"}, "handoff": {"hotline", "offer_prompt"}, "hangup": {"prompt"},
    "progress": {"prompt", "next"},
}
# Prompts the dialplan and the FastAGI routes play by name (beside the menu's own): the
# survey, the message path, blocked numbers, the callback and the revisit call.
REQUIRED_PROMPTS = (
    "invalid", "goodbye", "survey", "survey_thanks",
    "closed", "no_seat", "rescue_numbers", "message_record", "message_thanks", "blocked",
    "callback_offer", "callback_booked", "callback_to_seat", "callback_greeting",
    "callback_not_reached", "progress_verify", "progress_none", "revisit_ask",
    "revisit_thanks",
)


def parse(data: Any, center: Center | None = None, source: Path | None = None) -> Menu:
    if not isinstance(data, dict):
        raise MenuError("menu", "must be a mapping")
    if data.get("version") != 1:
        raise MenuError("version", "must be 1")
    prompts = data.get("prompts") or {}
    if not isinstance(prompts, dict) or not all(
            isinstance(k, str) and isinstance(v, str) and v.strip() for k, v in prompts.items()):
        raise MenuError("prompts", "must map prompt names to non-empty texts")
    bad = [k for k in [*prompts, *(data.get("nodes") or {})] if not _NAME.match(str(k))]
    if bad:
        # Names become file names and words of AGI commands: no space, quote or slash.
        raise MenuError(f"prompts.{bad[0]}" if bad[0] in prompts else f"nodes.{bad[0]}",
                        "a name is 1 to 60 letters, digits, _ or -")
    raw_nodes = data.get("nodes")
    if not isinstance(raw_nodes, dict) or not raw_nodes:
        raise MenuError("nodes", "must be a non-empty mapping of node names")
    long = [k for k, v in prompts.items() if len(v) > PROMPT_MAX]
    if long:
        raise MenuError(f"prompts.{long[0]}", f"is longer than {PROMPT_MAX} characters")
    timeout = _timeout(data, "timeout_s", 5)
    retries = _retries(data, "retries", 2)
    fallback = data.get("fallback", "")
    nodes: dict[str, Node] = {}
    for name, raw in raw_nodes.items():
        where = f"nodes.{name}"
        if not isinstance(raw, dict):
            raise MenuError(where, "must be a mapping")
        kind = raw.get("kind")
        if kind not in KINDS:
            raise MenuError(f"{where}.kind", f"must be one of {', '.join(KINDS)}, got {kind!r}")
        extra = set(raw) - _ALLOWED[kind] - {"kind"}
        if extra:
            raise MenuError(f"{where}.{sorted(extra)[0]}", f"is not a field of a {kind} node")
        options = raw.get("options", {})
        if kind == "menu":
            if not isinstance(options, dict) or not options:
                raise MenuError(f"{where}.options", "a menu needs at least one key")
            options = {str(k): v for k, v in options.items()}
            for key in options:
                if key not in KEYS:
                    raise MenuError(f"{where}.options.{key}", "is not a phone key (0-9, *, #)")
        texts = {f: raw.get(f, "") for f in ("prompt", "next", "fallback", "queue", "hotline",
                                              "offer_prompt", "kb")}
        texts["fallback"] = raw.get("fallback", fallback)
        for f, value in texts.items():
            if not isinstance(value, str) or len(value) > 100:
                raise MenuError(f"{where}.{f}", "must be a name of at most 100 characters")
        node = Node(name=name, kind=kind, prompt=texts["prompt"], next=texts["next"],
                    options=options,
                    timeout_s=_timeout(raw, "timeout_s", timeout, where),
                    retries=_retries(raw, "retries", retries, where),
                    fallback=texts["fallback"], queue=texts["queue"],
                    hotline=texts["hotline"], offer_prompt=texts["offer_prompt"],
                    kb=texts["kb"])
        nodes[name] = node
    start = data.get("start")
    if start not in nodes:
        raise MenuError("start", f"no node named {start!r}")
    for node in nodes.values():
        where = f"nodes.{node.name}"
        for f in ("prompt", "offer_prompt"):
            value = getattr(node, f)
            if value and value not in prompts:
                raise MenuError(f"{where}.{f}", f"no prompt named {value!r} under prompts")
        if node.kind in ("play", "info", "menu", "hangup", "progress") and not node.prompt:
            raise MenuError(f"{where}.prompt", f"a {node.kind} node needs a prompt")
        if node.kind in ("play", "info", "broadcast", "progress"):
            if node.next not in nodes:
                raise MenuError(f"{where}.next", f"no node named {node.next!r}")
        for key, target in node.options.items():
            if target not in nodes:
                raise MenuError(f"{where}.options.{key}", f"no node named {target!r}")
        if node.kind == "menu" and node.fallback not in nodes:
            raise MenuError(f"{where}.fallback", f"no node named {node.fallback!r}")
        if node.kind == "queue":
            if not node.queue:
                raise MenuError(f"{where}.queue", "a queue node names a queue")
            if center is not None and node.queue not in {q.name for q in center.queues}:
                raise MenuError(f"{where}.queue", f"no queue {node.queue!r} in the center file")
        if node.kind == "handoff":
            if node.hotline not in HOTLINES:
                raise MenuError(f"{where}.hotline", f"must be one of {', '.join(HOTLINES)}")
            if f"handoff_{node.hotline}" not in prompts:
                raise MenuError(f"{where}.hotline", f"needs the prompt handoff_{node.hotline}")
    for needed in REQUIRED_PROMPTS:
        if needed not in prompts:
            raise MenuError(f"prompts.{needed}", "is required")
    _check_reachable_ends(nodes, start)
    return Menu(start=start, nodes=nodes, prompts=dict(prompts), source=source)


def _timeout(d: dict[str, Any], key: str, default: float, where: str = "") -> float:
    """Seconds to wait for a key: a number from 1 to 30 (WAIT FOR DIGIT with a negative
    time waits for ever)."""
    value = d.get(key, default)
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 1 <= value <= 30:
        raise MenuError(f"{where}.{key}" if where else key,
                        f"must be a number of seconds from 1 to 30, got {value!r}")
    return float(value)


def _retries(d: dict[str, Any], key: str, default: int, where: str = "") -> int:
    value = d.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 5:
        raise MenuError(f"{where}.{key}" if where else key,
                        f"must be an integer from 0 to 5, got {value!r}")
    return value


def _check_reachable_ends(nodes: dict[str, Node], start: str) -> None:
    """Every path must end in a queue, a hand-off or a goodbye: a chain of play/info nodes
    that loops on itself (no menu in between) would keep a caller forever."""
    for node in nodes.values():
        seen = []
        current = node
        while current.kind in ("play", "info", "broadcast", "progress"):
            if current.name in seen:
                raise MenuError(f"nodes.{node.name}",
                                f"loops without a menu: {' -> '.join(seen + [current.name])}")
            seen.append(current.name)
            current = nodes[current.next]


def load(path: str | Path = DEFAULT, center: Center | None = None) -> Menu:
    p = Path(path)
    try:
        data = yaml.safe_load(p.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise MenuError(str(p), "no such menu file") from None
    except yaml.YAMLError as exc:
        raise MenuError(str(p), f"not valid YAML: {exc}") from None
    return parse(data, center, source=p)
