"""A TCP relay a test can cut: between the engine and Asterisk's AMI, so the connection is lost
while Asterisk itself keeps running (a network fault, not a restart).

    relay = TcpRelay(upstream_port); relay.start()   # listens on relay.port
    relay.cut()       # every connection closed; new ones closed at once
    relay.restore()   # connections pass again
    relay.close()
"""

from __future__ import annotations

import socket
import threading

from hotline.shell.simulate.ports import free_ports


class TcpRelay:
    def __init__(self, upstream_port: int, host: str = "127.0.0.1") -> None:
        self.upstream = (host, upstream_port)
        self.port = free_ports(1)[0]
        self._listener = socket.create_server((host, self.port), reuse_port=False)
        self._listener.settimeout(0.2)
        self._open: list[socket.socket] = []
        self._lock = threading.Lock()
        self._down = False
        self._stop = False
        self._thread = threading.Thread(target=self._accept, daemon=True)
        self.accepted = 0

    def start(self) -> TcpRelay:
        self._thread.start()
        return self

    def _accept(self) -> None:
        while not self._stop:
            try:
                client, _ = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            if self._down:
                client.close()
                continue
            try:
                server = socket.create_connection(self.upstream, timeout=5)
            except OSError:
                client.close()
                continue
            server.settimeout(None)
            with self._lock:
                self._open += [client, server]
                self.accepted += 1
            for a, b in ((client, server), (server, client)):
                threading.Thread(target=self._pump, args=(a, b), daemon=True).start()

    def _pump(self, src: socket.socket, dst: socket.socket) -> None:
        try:
            while True:
                data = src.recv(65536)
                if not data:
                    break
                dst.sendall(data)
        except OSError:
            pass
        finally:
            for s in (src, dst):
                try:
                    s.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass

    def cut(self) -> None:
        self._down = True
        with self._lock:
            for s in self._open:
                try:
                    s.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
                s.close()
            self._open.clear()

    def restore(self) -> None:
        self._down = False

    def close(self) -> None:
        self._stop = True
        self.cut()
        self._thread.join(2)
        self._listener.close()
