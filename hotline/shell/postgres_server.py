"""A throw-away PostgreSQL server on loopback, run as the `postgres` user (it refuses root)."""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


def _bindir() -> Path | None:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    return Path(found[-1]).parent if found else None


def _as_postgres(cmd: list[str]) -> list[str]:
    if os.geteuid() != 0:
        return cmd
    return ["runuser", "-u", "postgres", "--", *cmd]


class PostgresServer:
    """A server on 127.0.0.1:port with its own data directory; `stop()` and `start()` again
    restart it on the same data (the shift with faults restarts it mid-shift)."""

    def __init__(self, port: int) -> None:
        bindir = _bindir()
        if bindir is None:
            raise RuntimeError("PostgreSQL is not installed (Debian package postgresql)")
        if os.geteuid() == 0:
            try:
                pwd.getpwnam("postgres")
            except KeyError:
                raise RuntimeError("no 'postgres' user to run the server as") from None
        self.bindir, self.port = bindir, port
        self.data = Path(tempfile.mkdtemp(prefix="hotline-pg-"))
        if os.geteuid() == 0:
            shutil.chown(self.data, "postgres", "postgres")
        self.log = self.data / "server.log"
        self.proc: subprocess.Popen[bytes] | None = None
        subprocess.run(_as_postgres([str(bindir / "initdb"), "-D", str(self.data / "db"),
                                     "-A", "trust", "-U", "postgres", "-E", "UTF8",
                                     "--locale=C"]), check=True, capture_output=True)
        self.created = False

    @property
    def url(self) -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/hotline"

    def start(self, timeout: float = 30.0) -> None:
        with open(self.log, "ab") as out:
            self.proc = subprocess.Popen(
                _as_postgres([str(self.bindir / "postgres"), "-D", str(self.data / "db"),
                              "-h", "127.0.0.1", "-p", str(self.port), "-k", str(self.data),
                              "-c", "fsync=off", "-c", "synchronous_commit=off",
                              "-c", "full_page_writes=off"]),
                stdout=out, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + timeout
        import psycopg
        while True:
            try:
                with psycopg.connect(f"host=127.0.0.1 port={self.port} user=postgres "
                                     "dbname=postgres", autocommit=True) as conn:
                    if not self.created:
                        conn.execute("CREATE DATABASE hotline")
                        self.created = True
                return
            except psycopg.OperationalError:
                if self.proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("PostgreSQL did not start: " +
                                       self.log.read_text(errors="replace")[-2000:]) from None
                time.sleep(0.2)

    def stop(self) -> None:
        """Stop the server the way an operator restarting it does (`pg_ctl stop -m fast`:
        the clients' connections are cut, nothing committed is lost)."""
        if self.proc is None:
            return
        subprocess.run(_as_postgres([str(self.bindir / "pg_ctl"), "stop", "-D",
                                     str(self.data / "db"), "-m", "fast", "-w", "-t", "20"]),
                       capture_output=True)
        try:
            self.proc.wait(20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.proc = None

    def remove(self) -> None:
        self.stop()
        shutil.rmtree(self.data, ignore_errors=True)


@contextmanager
def postgres_server(port: int) -> Iterator[str]:
    """Start PostgreSQL on 127.0.0.1:port; yields a SQLAlchemy URL of an empty database."""
    server = PostgresServer(port)
    try:
        server.start()
        yield server.url
    finally:
        server.remove()
