"""Free loopback ports for the simulators and test fixtures.

A port found free is only free until someone else binds it: several test runs and benchmarks
start servers side by side on one machine. Two habits keep clashes rare, and `retrying` deals
with the rest:
- ports are drawn at random (the system's own randomness, never the seeded `random` a test run
  may fix) from below the kernel's ephemeral range, where outgoing connections never land, and
  outside 20000-29999, where the rig's instances take their RTP ports;
- a server that finds its port taken after all is started again on other ports (`retrying`),
  instead of failing or skipping the test.
"""

from __future__ import annotations

import random
import socket
import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")

_LOW = 10000
_RTP = range(20000, 30000)
_draw = random.SystemRandom()
# Ports this process handed out lately: a server started on one may not have bound it yet,
# so it is not "free" for the next caller (a Redis once got the engine's HTTP port).
_RECENT_S = 600.0
_recent: dict[int, float] = {}


def _ephemeral_start() -> int:
    try:
        with open("/proc/sys/net/ipv4/ip_local_port_range", encoding="ascii") as f:
            return int(f.read().split()[0])
    except (OSError, ValueError, IndexError):
        return 32768


def _free_for_both(port: int, held: list[socket.socket]) -> bool:
    t = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        t.bind(("127.0.0.1", port))
        u.bind(("127.0.0.1", port))
    except OSError:
        t.close()
        u.close()
        return False
    held += [t, u]
    return True


def free_ports(n: int) -> list[int]:
    """n distinct ports free for both TCP and UDP on 127.0.0.1."""
    top = _ephemeral_start()
    now = time.monotonic()
    for port, at in list(_recent.items()):
        if now - at > _RECENT_S:
            del _recent[port]
    candidates = [p for p in range(_LOW, top) if p not in _RTP and p not in _recent] \
        if top > _LOW + n else []
    found: list[int] = []
    held: list[socket.socket] = []
    try:
        for port in _draw.sample(candidates, min(len(candidates), 50 * n)):
            if len(found) == n:
                break
            if _free_for_both(port, held):
                found.append(port)
        while len(found) < n:  # an unusual port range: let the kernel choose
            t = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            t.bind(("127.0.0.1", 0))
            port = int(t.getsockname()[1])
            t.close()
            if port not in found and _free_for_both(port, held):
                found.append(port)
        for port in found:
            _recent[port] = now
        return found
    finally:
        for s in held:
            s.close()


def media_port() -> int:
    """A base for SIPp's media (`-mp`): SIPp binds it for audio and base+2 for video, so base
    to base+3 are all free (one free port alone let a caller die at start, "Unable to bind
    video RTP socket", when its neighbour was taken)."""
    for _ in range(200):
        base = free_ports(1)[0]
        held: list[socket.socket] = []
        try:
            if all(p not in _recent and p not in _RTP and _free_for_both(p, held)
                   for p in range(base + 1, base + 4)):
                now = time.monotonic()
                for p in range(base, base + 4):
                    _recent[p] = now
                return base
        finally:
            for s in held:
                s.close()
    raise OSError("no four free ports in a row on 127.0.0.1")


def retrying(start: Callable[[], T], is_clash: Callable[[Exception], bool],
             attempts: int = 4) -> T:
    """`start()` (which draws its own ports), again on fresh ports while it fails with a port
    clash (`is_clash`), at most `attempts` times; any other failure at once."""
    for attempt in range(1, attempts + 1):
        try:
            return start()
        except Exception as exc:
            if attempt == attempts or not is_clash(exc):
                raise
    raise AssertionError("unreachable")
