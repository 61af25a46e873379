"""Fixtures shared by the whole suite. Real parts (Asterisk, Redis, PostgreSQL) are started
by the project's own code and always torn down, also when a test fails."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import Engine

from acd.history import db
from tests.support.real import free_port, unavailable


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A real PostgreSQL server on loopback for the whole session."""
    from tests.support.postgres import postgres_server
    try:
        cm = postgres_server(free_port())
        url = cm.__enter__()
    except Exception as exc:  # noqa: BLE001 - any failure to start is "unavailable"
        unavailable(f"PostgreSQL could not start: {exc}")
        raise
    try:
        yield url
    finally:
        cm.__exit__(None, None, None)


@pytest.fixture(params=["sqlite", "postgresql"])
def db_engine(request: pytest.FixtureRequest, tmp_path) -> Iterator[Engine]:  # type: ignore[no-untyped-def]
    """The ledger's schema on a fresh SQLite file and on the real PostgreSQL, in turn."""
    if request.param == "sqlite":
        engine = db.make_engine(f"sqlite:///{tmp_path / 'ledger.sqlite'}")
        db.create_schema(engine)
        yield engine
        engine.dispose()
        return
    url = request.getfixturevalue("postgres_url")
    engine = db.make_engine(url)
    from acd.history.models import Base
    Base.metadata.drop_all(engine)
    db.create_schema(engine)
    yield engine
    Base.metadata.drop_all(engine)
    engine.dispose()
