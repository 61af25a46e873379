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


@contextmanager
def postgres_server(port: int) -> Iterator[str]:
    """Start PostgreSQL on 127.0.0.1:port; yields a SQLAlchemy URL of an empty database."""
    bindir = _bindir()
    if bindir is None:
        raise RuntimeError("PostgreSQL is not installed (Debian package postgresql)")
    if os.geteuid() == 0:
        try:
            pwd.getpwnam("postgres")
        except KeyError:
            raise RuntimeError("no 'postgres' user to run the server as") from None
    data = Path(tempfile.mkdtemp(prefix="hotline-pg-"))
    if os.geteuid() == 0:
        shutil.chown(data, "postgres", "postgres")
    log = data / "server.log"
    proc: subprocess.Popen[bytes] | None = None
    try:
        subprocess.run(_as_postgres([str(bindir / "initdb"), "-D", str(data / "db"), "-A", "trust",
                                     "-U", "postgres", "-E", "UTF8", "--locale=C"]),
                       check=True, capture_output=True)
        with open(log, "wb") as out:
            proc = subprocess.Popen(
                _as_postgres([str(bindir / "postgres"), "-D", str(data / "db"), "-h", "127.0.0.1",
                              "-p", str(port), "-k", str(data), "-c", "fsync=off",
                              "-c", "synchronous_commit=off", "-c", "full_page_writes=off"]),
                stdout=out, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 30
        import psycopg
        while True:
            try:
                with psycopg.connect(f"host=127.0.0.1 port={port} user=postgres dbname=postgres",
                                     autocommit=True) as conn:
                    conn.execute("CREATE DATABASE hotline")
                break
            except psycopg.OperationalError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("PostgreSQL did not start: " +
                                       log.read_text(errors="replace")[-2000:]) from None
                time.sleep(0.2)
        yield f"postgresql+psycopg://postgres@127.0.0.1:{port}/hotline"
    finally:
        if proc is not None:
            proc.terminate()
            try:
                proc.wait(15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        shutil.rmtree(data, ignore_errors=True)
