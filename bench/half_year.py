"""The indicators and the assessment table over a province's half year, on SQLite and on a real
PostgreSQL (issue 5): goal ≤ 3 s each, reported as a ratio against a plain `SELECT count(*)`
over the same calls table in the same run.

    .venv/bin/python bench/half_year.py                 # the full half year (1,136,047 orders)
    .venv/bin/python bench/half_year.py --scale 0.1 --databases sqlite

PostgreSQL runs with the settings of `PG_SETTINGS` (printed with the results, as the server
reports them: `SHOW`), chosen for a benchmark machine, not for durability.

The data is `hotline stats generate`'s synthetic half year (queue_stats/synthetic.py, seed 000's
Liaoning). Filling it takes a while, so the filled SQLite file and the PostgreSQL data
directory are kept under the state directory (`var/bench/`) and reused by the next run with the
same seed and scale (the output says "reused"); `--fresh` fills them again. PostgreSQL runs on
127.0.0.1 as the `postgres` user, as in the tests, and is stopped at the end.

Timed, each reported as its first run (cold: the first time this process asks it, right after
the database was opened) and the median of `--repeat` runs after it:
(a) `SELECT count(*) FROM calls`;
(b) the full indicator set for the half year, province-wide and per center: the call indicators
    (`call_indicators_by(..., "all")` and `"center"`) and the work-order indicators
    (`order_indicators_by(..., "all")` and `"center"`);
(c) the assessment table: annex 4's table for the half year (`period_table`) and one month's
    (`monthly_table`, March).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import Engine, text

from acd.history import db
from hotline import paths
from hotline.shell.simulate.ports import free_ports

SINCE, UNTIL = datetime(2020, 12, 31, 16), datetime(2021, 6, 30, 16)  # local half year, in UTC
# The PostgreSQL server's settings for the benchmark (-c NAME=VALUE), and what is reported.
PG_SETTINGS = {"fsync": "off", "synchronous_commit": "off", "full_page_writes": "off",
               "shared_buffers": "512MB", "work_mem": "64MB", "max_wal_size": "4GB"}
REPORTED = (*PG_SETTINGS, "max_parallel_workers_per_gather", "effective_cache_size", "jit",
            "server_version")


def _filled(engine: Engine, marker: Path, seed: int, scale: float, fresh: bool) -> dict:
    """Generate into `engine` unless `marker` says it holds this seed and scale already."""
    from queue_stats.synthetic import generate

    if marker.exists() and not fresh:
        info = json.loads(marker.read_text())
        if info.get("seed") == seed and info.get("scale") == scale:
            from acd.history import migrate
            migrate.upgrade(engine)  # a database kept from an older schema: brought to head
            return {**info, "reused": True}
    db.create_schema(engine)
    summary = generate(engine, seed=seed, scale=scale)
    info = {"seed": seed, "scale": scale, **summary.as_dict()}
    marker.write_text(json.dumps(info))
    return {**info, "reused": False}


@contextmanager
def sqlite_database(seed: int, scale: float, fresh: bool) -> Iterator[tuple[Engine, dict]]:
    base = paths.state_dir() / "bench"
    base.mkdir(parents=True, exist_ok=True)
    path = base / f"half_year-{seed}-{scale}.sqlite"
    marker = path.with_suffix(".json")
    if fresh or not marker.exists():
        for p in (path, Path(f"{path}-wal"), Path(f"{path}-shm"), marker):
            p.unlink(missing_ok=True)
    engine = db.make_engine(f"sqlite:///{path}")
    try:
        info = _filled(engine, marker, seed, scale, fresh)
        with engine.begin() as conn:   # fold the load's write-ahead log into the file
            conn.execute(text("PRAGMA wal_checkpoint(TRUNCATE)"))
        yield engine, {**info, "bytes": path.stat().st_size}
    finally:
        engine.dispose()


@contextmanager
def postgres_database(seed: int, scale: float, fresh: bool) -> Iterator[tuple[Engine, dict]]:
    """A PostgreSQL server on 127.0.0.1 whose data directory outlives the run (var/bench/)."""
    from hotline.shell.postgres_server import _as_postgres, _bindir

    bindir = _bindir()
    if bindir is None:
        raise RuntimeError("PostgreSQL is not installed (Debian package postgresql)")
    data = paths.state_dir() / "bench" / f"pg-half_year-{seed}-{scale}"
    marker = data.parent / f"{data.name}.json"
    if fresh or not marker.exists():
        shutil.rmtree(data, ignore_errors=True)
        marker.unlink(missing_ok=True)
    if not (data / "PG_VERSION").exists():
        data.mkdir(parents=True, exist_ok=True)
        if os.geteuid() == 0:
            shutil.chown(data, "postgres", "postgres")
        subprocess.run(_as_postgres([str(bindir / "initdb"), "-D", str(data), "-A", "trust",
                                     "-U", "postgres", "-E", "UTF8", "--locale=C"]),
                       check=True, capture_output=True)
    (port,) = free_ports(1)
    log = data.parent / f"{data.name}.log"
    with open(log, "wb") as out:
        settings = [a for k, v in PG_SETTINGS.items() for a in ("-c", f"{k}={v}")]
        proc = subprocess.Popen(_as_postgres([
            str(bindir / "postgres"), "-D", str(data), "-h", "127.0.0.1", "-p", str(port),
            "-k", str(data), *settings]), stdout=out, stderr=subprocess.STDOUT)
    try:
        import psycopg

        deadline = time.monotonic() + 60
        while True:
            try:
                with psycopg.connect(f"host=127.0.0.1 port={port} user=postgres "
                                     "dbname=postgres", autocommit=True) as conn:
                    if not conn.execute("SELECT 1 FROM pg_database WHERE datname = 'hotline'"
                                        ).fetchone():
                        conn.execute("CREATE DATABASE hotline")
                break
            except psycopg.OperationalError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("PostgreSQL did not start: "
                                       + log.read_text(errors="replace")[-2000:]) from None
                time.sleep(0.3)
        engine = db.make_engine(f"postgresql+psycopg://postgres@127.0.0.1:{port}/hotline")
        try:
            info = _filled(engine, marker, seed, scale, fresh)
            # As autovacuum would in production: fresh statistics, and a visibility map so
            # index-only scans need not visit the table.
            with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                conn.execute(text("VACUUM ANALYZE"))
            with engine.connect() as conn:
                size = conn.execute(text("SELECT pg_database_size('hotline')")).scalar_one()
                shown = {k: conn.execute(text(f"SHOW {k}")).scalar_one() for k in REPORTED}
            yield engine, {**info, "bytes": size, "settings": shown}
        finally:
            engine.dispose()
    finally:
        proc.terminate()
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def first_and_median(repeat: int, fn: Callable[[], object]) -> dict[str, float]:
    """The first run (cold: caches and plans not yet warm) and the median of `repeat` more."""
    times = []
    for _ in range(repeat + 1):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return {"first": times[0], "median": statistics.median(times[1:])}


def measure(engine: Engine, repeat: int) -> dict[str, dict[str, float]]:
    from queue_stats.assessment import monthly_table, period_table
    from queue_stats.indicators import call_indicators_by
    from queue_stats.order_indicators import order_indicators_by

    def count() -> int:
        with engine.connect() as conn:
            return conn.execute(text("SELECT count(*) FROM calls")).scalar_one()

    def full_set() -> object:
        """The full indicator set, per center and for the province (the centers added up):
        the two families at once (queue_stats/parallel.py)."""
        from queue_stats import parallel
        from queue_stats.indicators import add_up
        calls, orders = parallel.run(
            engine, lambda: call_indicators_by(engine, SINCE, UNTIL, "center"),
            lambda: order_indicators_by(engine, SINCE, UNTIL, "center"))
        return add_up(list(calls.values()), None), add_up(list(orders.values()), None)

    parts = {
        "count": count,
        "full_set": full_set,
        "calls_all": lambda: call_indicators_by(engine, SINCE, UNTIL, "all"),
        "calls_center": lambda: call_indicators_by(engine, SINCE, UNTIL, "center"),
        "orders_all": lambda: order_indicators_by(engine, SINCE, UNTIL, "all"),
        "orders_center": lambda: order_indicators_by(engine, SINCE, UNTIL, "center"),
        "table_half_year": lambda: period_table(engine, datetime(2021, 1, 1),
                                                datetime(2021, 7, 1), "2021年上半年"),
        "table_march": lambda: monthly_table(engine, 2021, 3),
    }
    return {k: first_and_median(repeat, fn) for k, fn in parts.items()}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--scale", type=float, default=1.0)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--databases", default="sqlite,postgresql")
    ap.add_argument("--fresh", action="store_true", help="fill again, ignore a kept database")
    ap.add_argument("--json", help="write the results here too")
    args = ap.parse_args()
    makers = {"sqlite": sqlite_database, "postgresql": postgres_database}
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True,
                            text=True, cwd=Path(__file__).resolve().parent).stdout.strip()
    results = {}
    for name in args.databases.split(","):
        with makers[name](args.seed, args.scale, args.fresh) as (engine, info):
            how = "reused" if info["reused"] else f"generated in {info['seconds']:.1f} s"
            print(f"{name}: {info['orders']:,} orders, {info['calls']:,} calls, "
                  f"{info['bytes'] / 2**20:,.0f} MiB ({how})", flush=True)
            if "settings" in info:
                print("  settings: " + ", ".join(f"{k}={v}" for k, v in info["settings"].items()),
                      flush=True)
            load = os.getloadavg()[0]
            t = measure(engine, args.repeat)
            results[name] = {"data": info, "seconds": t, "commit": commit,
                             "load_average": [round(load, 2), round(os.getloadavg()[0], 2)]}
            base = t["count"]["median"]
            print(f"  {'':16} {'first':>8}    {'median':>8}    median / count(*)")
            for k, v in t.items():
                print(f"  {k:16} {v['first']:8.3f} s  {v['median']:8.3f} s  "
                      f"{v['median'] / base:8.1f}", flush=True)
            print(f"  load average {results[name]['load_average']}", flush=True)
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
