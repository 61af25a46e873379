"""Engines and sessions for the ledger: SQLite by default, PostgreSQL by URL."""

from __future__ import annotations

import os

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


def make_engine(url: str) -> Engine:
    engine = create_engine(url, future=True, pool_pre_ping=True)
    if engine.dialect.name == "sqlite":
        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn, _record):  # type: ignore[no-untyped-def]
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA busy_timeout=5000")
            cur.close()
    return engine


def create_schema(engine: Engine) -> None:
    """Bring the database to the current schema with the project's Alembic migrations."""
    migrate.upgrade(engine)


def session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)


def open_database(center: Center, url: str | None = None) -> Engine:
    """The center's database (or `url`), at the current schema."""
    engine = make_engine(url or database_url(center))
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
