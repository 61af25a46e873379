"""Independent read queries at the same time, each on its own connection from the engine's
pool: the indicator families (calls, orders, revisits, uploads, ...) each scan their own table,
so on a machine with several cores the set takes about as long as its slowest member.

SQLite allows concurrent readers of a file database (WAL mode), and Python's sqlite3 releases
the GIL while SQLite works; an in-memory SQLite database has one connection, so its queries
run one after the other.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from sqlalchemy import Engine


def concurrent_ok(engine: Engine) -> bool:
    if engine.dialect.name != "sqlite":
        return True
    return engine.url.database not in (None, "", ":memory:")


def run(engine: Engine, *jobs: Callable[[], Any]) -> list[Any]:
    """Each job's result, in order; an exception in a job is raised here."""
    if len(jobs) < 2 or not concurrent_ok(engine):
        return [job() for job in jobs]
    with ThreadPoolExecutor(max_workers=len(jobs), thread_name_prefix="indicators") as pool:
        futures = [pool.submit(job) for job in jobs]
        return [f.result() for f in futures]
