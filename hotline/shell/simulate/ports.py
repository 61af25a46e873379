"""Free loopback ports for the simulators and test fixtures."""

from __future__ import annotations

import socket


def free_ports(n: int) -> list[int]:
    """n distinct ports free for both TCP and UDP on 127.0.0.1."""
    found: list[int] = []
    held: list[socket.socket] = []
    try:
        while len(found) < n:
            t = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            t.bind(("127.0.0.1", 0))
            port = int(t.getsockname()[1])
            u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            try:
                u.bind(("127.0.0.1", port))
            except OSError:
                t.close()
                u.close()
                continue
            held += [t, u]
            found.append(port)
        return found
    finally:
        for s in held:
            s.close()
