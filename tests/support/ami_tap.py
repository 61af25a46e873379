"""A plain AMI listener in a thread: logs in and keeps every event it is sent, for assertions.
Independent of the engine's own AMI code, so a test can check the dialplan's contract. It also
keeps each event's frame as sent (the recorder of tests/fixtures/ami/ stores those)."""

from __future__ import annotations

import socket
import threading
import time
from typing import Any


class AmiTap:
    def __init__(self, host: str, port: int, username: str, secret: str,
                 events: str = "user") -> None:
        self.events: list[dict[str, str]] = []
        self.frames: list[str] = []  # each event's frame, as Asterisk sent it, in order
        self._sock = socket.create_connection((host, port), timeout=5)
        self._sock.sendall(f"Action: Login\r\nUsername: {username}\r\nSecret: {secret}\r\n"
                           f"Events: {events}\r\n\r\n".encode())
        self._stop = False
        self._thread = threading.Thread(target=self._read, daemon=True)
        self._thread.start()

    def _read(self) -> None:
        buf = b""
        self._sock.settimeout(0.5)
        while not self._stop:
            try:
                chunk = self._sock.recv(65536)
            except TimeoutError:
                continue
            except OSError:
                return
            if not chunk:
                return
            buf += chunk
            while b"\r\n\r\n" in buf:
                frame, buf = buf.split(b"\r\n\r\n", 1)
                fields: dict[str, str] = {}
                for line in frame.decode(errors="replace").split("\r\n"):
                    key, sep, value = line.partition(": ")
                    if sep:
                        fields[key] = value
                if "Event" in fields:
                    self.frames.append(frame.decode(errors="replace"))
                    self.events.append(fields)

    def send(self, action: dict[str, str]) -> None:
        """Send an action on the tap's connection (its response is not kept: not an event)."""
        self._sock.sendall("".join(f"{k}: {v}\r\n" for k, v in action.items()).encode()
                           + b"\r\n")

    def wait_for(self, timeout: float = 10.0, **match: Any) -> dict[str, str]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for e in list(self.events):
                if all(e.get(k) == v for k, v in match.items()):
                    return e
            time.sleep(0.05)
        raise AssertionError(f"no AMI event {match} within {timeout}s; saw "
                             f"{[e.get('UserEvent') or e.get('Event') for e in self.events][-20:]}")

    def close(self) -> None:
        self._stop = True
        try:
            self._sock.sendall(b"Action: Logoff\r\n\r\n")
        except OSError:
            pass
        self._thread.join(2)
        self._sock.close()
