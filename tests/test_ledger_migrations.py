"""The Alembic migrations build exactly the schema the models describe, on SQLite and on a
real PostgreSQL, and running them twice changes nothing."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from acd.history.db import create_schema
from acd.schema import metadata


def test_migrations_match_the_models(db_engine) -> None:
    create_schema(db_engine)  # a second time: idempotent
    with db_engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), metadata())
    assert diff == []
