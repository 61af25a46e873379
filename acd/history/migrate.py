"""Schema migrations (Alembic), run by `hotline db upgrade` and by the engine at start."""

from __future__ import annotations

import logging
from pathlib import Path

# Alembic's own steps (and the plugins it sets up on import) are not news to whoever runs a
# command: quiet before the import, which is when the plugins log.
logging.getLogger("alembic").setLevel(logging.WARNING)

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine

HERE = Path(__file__).resolve().parent / "migrations"


def config(url: str) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(HERE))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


def upgrade(engine: Engine, revision: str = "head") -> None:
    cfg = config(engine.url.render_as_string(hide_password=False))
    sqlite = engine.dialect.name == "sqlite"
    with engine.connect() as connection:
        if sqlite:
            # To change a column, Alembic's batch mode rebuilds a SQLite table (copy, drop,
            # rename); with foreign keys enforced the drop fails as soon as another table's rows
            # point at it (an order's history, its revisits). SQLite ignores the pragma inside
            # a transaction: off before it, every reference checked before the commit.
            connection.exec_driver_sql("PRAGMA foreign_keys=OFF")
            connection.commit()
        try:
            with connection.begin():
                cfg.attributes["connection"] = connection
                command.upgrade(cfg, revision)
                if sqlite:
                    broken = connection.exec_driver_sql("PRAGMA foreign_key_check").all()
                    if broken:
                        raise RuntimeError(f"the migration left rows pointing at nothing: "
                                           f"{broken[:5]}")
        finally:
            if sqlite:
                connection.exec_driver_sql("PRAGMA foreign_keys=ON")
                connection.commit()


def revision(url: str, message: str) -> None:
    """Autogenerate a new revision against a database at head (for developers)."""
    command.revision(config(url), message=message, autogenerate=True)


def head() -> str:
    """The newest revision this code knows."""
    return str(ScriptDirectory.from_config(config("sqlite://")).get_current_head())


def current(engine: Engine) -> str | None:
    """The revision the database is at (None: no schema at all). Only reads."""
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()
