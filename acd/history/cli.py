"""`hotline db upgrade`: bring the database to the current schema."""

from __future__ import annotations

import argparse

from acd.history import db
from hotline import center as center_mod


def _upgrade(args: argparse.Namespace) -> int:
    center = center_mod.load(args.center or center_mod.default_path())
    engine = db.open_database(center, args.database)
    engine.dispose()
    print(f"database at the current schema: {engine.url.render_as_string(hide_password=True)}")
    return 0


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser("db", help="the database: upgrade to the current schema")
    psub = p.add_subparsers(dest="db_command", metavar="ACTION", required=True)
    up = psub.add_parser("upgrade", help="run the Alembic migrations up to the newest")
    up.add_argument("--database", help="SQLAlchemy URL (default: the center's, else SQLite)")
    up.set_defaults(func=_upgrade)
