"""The migrations' backfills on a database that already holds rows: filled at revision 0005 (the
last before the values kept on rows, docs/indicators.md), upgraded to head, each kept value
checked against what the test wrote, on SQLite and on a real PostgreSQL.

Rows are written with plain SQL into the tables as they were at 0005 (read from the database,
not from today's models), so the test sees the upgrade exactly as a deployed center would.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import Engine, MetaData, insert, inspect, select, text
from sqlalchemy import types as sqltypes

from acd.history import db, migrate

REVISION_0005 = "bed452342423"  # acd/history/migrations/versions/0005_upward_reporting.py
T0 = datetime(2026, 3, 10, 2, 0, 0)


@pytest.fixture(params=["sqlite", "postgresql"])
def empty(request: pytest.FixtureRequest, tmp_path) -> Iterator[Engine]:  # type: ignore[no-untyped-def]
    """An empty database, no schema at all."""
    if request.param == "sqlite":
        engine = db.make_engine(f"sqlite:///{tmp_path / 'old.sqlite'}")
    else:
        engine = db.make_engine(request.getfixturevalue("postgres_url"))
        _drop_all(engine)
    yield engine
    if request.param == "postgresql":
        _drop_all(engine)
    engine.dispose()


def _drop_all(engine: Engine) -> None:
    with engine.begin() as conn:
        conn.execute(text("DROP SCHEMA public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))


def _filler(column: Any) -> Any:
    """A value for a NOT NULL column the test does not care about."""
    t = column.type
    if isinstance(t, sqltypes.DateTime):
        return T0
    if isinstance(t, sqltypes.Date):
        return T0.date()
    if isinstance(t, sqltypes.Boolean):
        return False
    if isinstance(t, sqltypes.Integer):
        return 0
    if isinstance(t, sqltypes.Float | sqltypes.Numeric):
        return 0.0
    return ""


def _add(engine: Engine, table: str, rows: list[dict[str, Any]]) -> None:
    """Rows into a table as it is in the database now; other NOT NULL columns get a filler."""
    meta = MetaData()
    meta.reflect(engine, only=[table])
    t = meta.tables[table]
    full = []
    for row in rows:
        assert set(row) <= set(t.c.keys()), (table, set(row) - set(t.c.keys()))
        extra = {c.name: _filler(c) for c in t.c if c.name not in row and not c.nullable
                 and c.server_default is None and c.autoincrement is not True
                 and not (c.primary_key and isinstance(c.type, sqltypes.Integer))}
        full.append({**extra, **row})
    with engine.begin() as conn:
        for row in full:  # one at a time: the rows name different columns
            conn.execute(insert(t), row)


def s(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def test_0005_to_head_fills_the_kept_values_from_the_rows_already_there(empty: Engine) -> None:
    migrate.upgrade(empty, REVISION_0005)
    columns = {c["name"] for c in inspect(empty).get_columns("calls")}
    assert "queued_at" not in columns and "wrapup_s" not in columns  # really the old schema

    common = {"node": "pbx1", "center": "shenyang"}
    _add(empty, "calls", [
        # answered after two stays (an overflow), rated 2, two closed wrap-ups and an open one
        {"uniqueid": "pbx1-1.1", "linkedid": "pbx1-1.1", "started_at": s(0),
         "caller_number": "13800001111", "outcome": "answered", "survey_score": 2, **common},
        # abandoned: a wrap-up row that names it must not count (only answered calls have one)
        {"uniqueid": "pbx1-1.2", "linkedid": "pbx1-1.2", "started_at": s(100),
         "caller_number": "13800002222", "outcome": "abandoned", **common},
        # gone in the IVR: never queued
        {"uniqueid": "pbx1-1.3", "linkedid": "pbx1-1.3", "started_at": s(200),
         "caller_number": "13800003333", "outcome": "ivr", **common},
        # transferred by the seat: a wrap-up of 4.5 s
        {"uniqueid": "pbx1-1.4", "linkedid": "pbx1-1.4", "started_at": s(300),
         "caller_number": "13800004444", "outcome": "transferred", **common},
    ])
    _add(empty, "queue_calls", [
        {"uniqueid": "pbx1-1.1", "center": "shenyang", "queue": "highway",
         "entered_at": s(12), "outcome": "overflowed"},
        {"uniqueid": "pbx1-1.1", "center": "shenyang", "queue": "manual",
         "entered_at": s(17), "outcome": "answered"},
        {"uniqueid": "pbx1-1.2", "center": "shenyang", "queue": "manual",
         "entered_at": s(105), "outcome": "abandoned"},
        {"uniqueid": "pbx1-1.4", "center": "shenyang", "queue": "road",
         "entered_at": s(310), "outcome": "answered"},
    ])
    _add(empty, "seat_intervals", [
        {"seat_id": "8001", "state": "wrapup", "uniqueid": "pbx1-1.1", "started_at": s(60),
         "ended_at": s(65)},
        {"seat_id": "8001", "state": "wrapup", "uniqueid": "pbx1-1.1", "started_at": s(70),
         "ended_at": s(72.5)},
        {"seat_id": "8001", "state": "wrapup", "uniqueid": "pbx1-1.1", "started_at": s(80),
         "ended_at": None},
        {"seat_id": "8001", "state": "on_call", "uniqueid": "pbx1-1.1", "started_at": s(20),
         "ended_at": s(60)},
        {"seat_id": "8002", "state": "wrapup", "uniqueid": "pbx1-1.2", "started_at": s(110),
         "ended_at": s(115)},
        {"seat_id": "8003", "state": "wrapup", "uniqueid": "pbx1-1.4", "started_at": s(400),
         "ended_at": s(404.5)},
    ])
    _add(empty, "work_orders", [
        # a complaint without its subject, on the rated call
        {"type": "complaint", "domain": "highway", "content": "收费站多收费", "source": "call",
         "call_uniqueid": "pbx1-1.1", "caller_number": "13800001111", "subject": "",
         "status": "accepted", "handling_unit": "", "refusal": ""},
        # a clean consultation typed in from the web: no call
        {"type": "consultation", "domain": "urban_transit", "content": "公交线路",
         "source": "web", "call_uniqueid": None, "caller_number": "024-12345678",
         "subject": "", "status": "closed", "handling_unit": "", "refusal": ""},
        # a bad number, and transferred to nobody, on the unrated call
        {"type": "suggestion", "domain": "rail", "content": "x", "source": "call",
         "call_uniqueid": "pbx1-1.4", "caller_number": "12345x", "subject": "",
         "status": "transferred", "handling_unit": "", "refusal": ""},
    ])

    migrate.upgrade(empty)  # to head

    meta = MetaData()
    meta.reflect(empty, only=["calls", "work_orders"])  # typed as the database has them now
    c, o = meta.tables["calls"].c, meta.tables["work_orders"].c
    with empty.connect() as conn:
        calls = {r.uniqueid: r for r in conn.execute(select(c.uniqueid, c.queued_at,
                                                            c.wrapup_s))}
        orders = {r.content: r for r in conn.execute(select(o.content, o.survey_score,
                                                            o.nonconformity))}
    # 0006: a call's first queue entry.
    assert {u: c.queued_at for u, c in calls.items()} == {
        "pbx1-1.1": s(12), "pbx1-1.2": s(105), "pbx1-1.3": None, "pbx1-1.4": s(310)}
    # 0009: the closed wrap-ups of answered (or transferred) calls, summed.
    # (SQLite counts through julianday(): a few microseconds off)
    assert calls["pbx1-1.1"].wrapup_s == pytest.approx(7.5, abs=1e-3)
    assert calls["pbx1-1.4"].wrapup_s == pytest.approx(4.5, abs=1e-3)
    assert calls["pbx1-1.2"].wrapup_s is None and calls["pbx1-1.3"].wrapup_s is None
    # 0007: the call's survey answer on its order, and the rules each order breaks.
    assert (orders["收费站多收费"].survey_score, orders["收费站多收费"].nonconformity) == \
        (2, "subject")
    assert (orders["公交线路"].survey_score, orders["公交线路"].nonconformity) == (None, "")
    assert (orders["x"].survey_score, orders["x"].nonconformity) == \
        (None, "domain,caller_number,handling_unit")
    # 0008: one order per call, now enforced.
    with pytest.raises(Exception, match="(?i)unique"):
        _add(empty, "work_orders", [{"type": "consultation", "domain": "highway",
                                     "content": "again", "source": "call",
                                     "call_uniqueid": "pbx1-1.1", "caller_number": "",
                                     "subject": "", "status": "accepted",
                                     "handling_unit": "", "refusal": ""}])
    # And the upgraded database is the models' schema (what test_ledger_migrations checks on
    # an empty one).
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    from acd.schema import metadata
    with empty.connect() as conn:
        assert compare_metadata(MigrationContext.configure(conn), metadata()) == []
        assert conn.execute(select(text("count(*)")).select_from(text("calls"))).scalar() == 4
