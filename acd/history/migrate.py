"""Schema migrations (Alembic), run by `hotline db upgrade` and by the engine at start."""

from __future__ import annotations

import logging
from pathlib import Path

# Alembic's own steps (and the plugins it sets up on import) are not news to whoever runs a
# command: quiet before the import, which is when the plugins log.
logging.getLogger("alembic").setLevel(logging.WARNING)

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine

HERE = Path(__file__).resolve().parent / "migrations"


def config(url: str) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(HERE))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


def upgrade(engine: Engine, revision: str = "head") -> None:
    cfg = config(engine.url.render_as_string(hide_password=False))
    with engine.begin() as connection:
        cfg.attributes["connection"] = connection
        command.upgrade(cfg, revision)


def revision(url: str, message: str) -> None:
    """Autogenerate a new revision against a database at head (for developers)."""
    command.revision(config(url), message=message, autogenerate=True)
