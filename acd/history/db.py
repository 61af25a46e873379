"""Engines and sessions for the ledger: SQLite by default, PostgreSQL by URL.

`make_engine(url, timeout_s=...)` bounds every wait on the database: connecting, and each
statement (PostgreSQL's statement_timeout and lock_timeout; SQLite's busy_timeout, the time it
waits for another writer's lock). The engine runs with a timeout (`hotline engine run
--db-timeout`); reports and tools keep the defaults (long queries are theirs to make).
`in_session` runs a function with a session in a worker thread, so a handler on the event
loop never waits for the database itself.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Callable
from typing import Any, TypeVar

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.orm import Session, sessionmaker

from acd.errors import Conflict
from acd.history import migrate
from hotline import paths
from hotline.center import Center


def database_url(center: Center | None = None) -> str:
    """The center's `engine.database_url`, else a SQLite file in the state directory."""
    if center is not None and center.database_url:
        return center.database_url
    directory = paths.private_state_dir()
    path = directory / "hotline.sqlite"
    # Calls and orders hold people's numbers and words: the file is this user's alone from
    # its creation (SQLite gives its -wal and -shm files the same mode).
    os.close(os.open(path, os.O_WRONLY | os.O_CREAT, 0o600))
    return f"sqlite:///{path}"


DEFAULT_BUSY_S = 5.0
T = TypeVar("T")


def make_engine(url: str, timeout_s: float | None = None) -> Engine:
    """`timeout_s`: the longest any connect or statement may wait (None: SQLite waits 5 s
    for a lock, PostgreSQL as long as it takes)."""
    args: dict[str, Any] = {}
    if url.startswith("postgresql") and timeout_s is not None:
        ms = int(timeout_s * 1000)
        args["connect_args"] = {"connect_timeout": max(1, round(timeout_s)),
                                "options": f"-c statement_timeout={ms} -c lock_timeout={ms}"}
    engine = create_engine(url, future=True, pool_pre_ping=True, **args)
    if engine.dialect.name == "sqlite":
        busy = int(1000 * (timeout_s if timeout_s is not None else DEFAULT_BUSY_S))

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn, _record):  # type: ignore[no-untyped-def]
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute(f"PRAGMA busy_timeout={busy}")
            cur.close()
    return engine


async def in_session(sessions: sessionmaker[Session], work: Callable[[Session], T],
                     write: bool = False) -> T:
    """`work(session)` in a worker thread (in a transaction that commits if `write`)."""
    def run() -> T:
        if write:
            with sessions.begin() as s:
                return work(s)
        with sessions() as s:
            return work(s)
    return await asyncio.to_thread(run)


def create_schema(engine: Engine) -> None:
    """Bring the database to the current schema with the project's Alembic migrations."""
    migrate.upgrade(engine)


def session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)


def open_database(center: Center, url: str | None = None,
                  timeout_s: float | None = None) -> Engine:
    """The center's database (or `url`), at the current schema."""
    engine = make_engine(url or database_url(center), timeout_s)
    create_schema(engine)
    return engine


class SchemaBehind(Conflict):
    """A command that only reads found the database at an older schema (or none): it never
    migrates; it says how to."""


def open_existing(center: Center, url: str | None = None) -> Engine:
    """The center's database (or `url`) for a command that only reads: never migrated,
    never created. A database behind the code's schema is refused with the command that
    brings it up to date."""
    engine = make_engine(url or database_url(center))
    at, want = migrate.current(engine), migrate.head()
    if at != want:
        shown = engine.url.render_as_string(hide_password=True)
        engine.dispose()
        where = f" --database '{shown}'" if url else ""
        raise SchemaBehind(
            f"the database {shown} has no schema yet" if at is None else
            f"the database {shown} is at schema {at}, this version needs {want}"
            f"; run `hotline db upgrade{where}` first (read-only commands never migrate)")
    return engine
