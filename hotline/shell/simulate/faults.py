"""Faults to inject into a running center, for tests and the shift with faults (bench/soak.py).

- `TcpProxy`: a loopback TCP relay (e.g. between the engine and Asterisk's AMI) that can be
  cut and restored: the engine loses its AMI connection while Asterisk keeps running.
- `refuse_call_ends` / `allow_call_ends`: the database refuses to write a call's end (a
  trigger raising an error), as a full disk or a broken constraint would, on SQLite or
  PostgreSQL.
- `hold_lock`: another connection holds the database's write lock (SQLite: BEGIN EXCLUSIVE;
  PostgreSQL: LOCK TABLE calls) until released.
"""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import Engine, text


class TcpProxy:
    """127.0.0.1:<port> -> 127.0.0.1:<target>, byte for byte, until `cut()`: then every open
    connection is closed and new ones are refused until `restore()`."""

    def __init__(self, target_port: int) -> None:
        self.target = target_port
        self._server = socket.socket()
        self._server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._server.bind(("127.0.0.1", 0))
        self._server.listen(16)
        self.port = int(self._server.getsockname()[1])
        self._open = True
        self._pairs: list[tuple[socket.socket, socket.socket]] = []
        self._lock = threading.Lock()
        self._closed = False
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while not self._closed:
            try:
                client, _ = self._server.accept()
            except OSError:
                return
            if not self._open:
                client.close()
                continue
            try:
                upstream = socket.create_connection(("127.0.0.1", self.target), timeout=5)
            except OSError:
                client.close()
                continue
            upstream.settimeout(None)
            with self._lock:
                self._pairs.append((client, upstream))
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pump, args=(a, b), daemon=True).start()

    @staticmethod
    def _pump(src: socket.socket, dst: socket.socket) -> None:
        try:
            while data := src.recv(65536):
                dst.sendall(data)
        except OSError:
            pass
        for s in (src, dst):
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def cut(self) -> None:
        self._open = False
        with self._lock:
            pairs, self._pairs = self._pairs, []
        for pair in pairs:
            for s in pair:
                try:
                    s.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
                s.close()

    def restore(self) -> None:
        self._open = True

    def close(self) -> None:
        self._closed = True
        self.cut()
        self._server.close()


def refuse_call_ends(engine: Engine) -> None:
    """From now on, writing a call with its end fails (until `allow_call_ends`)."""
    with engine.begin() as c:
        c.execute(text("CREATE TABLE IF NOT EXISTS hotline_fault (armed INTEGER)"))
        c.execute(text("DELETE FROM hotline_fault"))
        c.execute(text("INSERT INTO hotline_fault VALUES (1)"))
        if engine.dialect.name == "postgresql":
            c.execute(text(
                "CREATE OR REPLACE FUNCTION hotline_refuse_end() RETURNS trigger AS $$ BEGIN "
                "IF NEW.ended_at IS NOT NULL AND (SELECT armed FROM hotline_fault) = 1 THEN "
                "RAISE EXCEPTION 'injected write failure'; END IF; RETURN NEW; END $$ "
                "LANGUAGE plpgsql"))
            c.execute(text("DROP TRIGGER IF EXISTS hotline_refuse_end ON calls"))
            c.execute(text("CREATE TRIGGER hotline_refuse_end BEFORE INSERT OR UPDATE ON calls "
                           "FOR EACH ROW EXECUTE FUNCTION hotline_refuse_end()"))
            return
        for op in ("INSERT", "UPDATE"):
            c.execute(text(
                f"CREATE TRIGGER IF NOT EXISTS hotline_refuse_end_{op.lower()} BEFORE {op} ON "
                "calls WHEN NEW.ended_at IS NOT NULL AND (SELECT armed FROM hotline_fault) = 1 "
                "BEGIN SELECT RAISE(ABORT, 'injected write failure'); END"))


def allow_call_ends(engine: Engine) -> None:
    with engine.begin() as c:
        c.execute(text("UPDATE hotline_fault SET armed = 0"))


@contextmanager
def hold_lock(engine: Engine) -> Iterator[None]:
    """The database's write lock held by another connection for as long as the block runs."""
    raw = engine.raw_connection()
    try:
        if engine.dialect.name == "postgresql":
            cur = raw.cursor()
            cur.execute("LOCK TABLE calls IN ACCESS EXCLUSIVE MODE")  # opens a transaction
            try:
                yield
            finally:
                raw.commit()
            return
        conn = raw.driver_connection
        conn.isolation_level = None  # type: ignore[union-attr]  # statements as written
        conn.execute("BEGIN EXCLUSIVE")  # type: ignore[union-attr]
        try:
            yield
        finally:
            conn.execute("COMMIT")  # type: ignore[union-attr]
            conn.isolation_level = ""  # type: ignore[union-attr]
    finally:
        raw.close()
