"""The migrations' backfills on a database that already holds rows: filled at revision 0005 (the
last before the values kept on rows, docs/indicators.md), upgraded along the chain to head,
each kept value checked against what the test wrote, on SQLite and on a real PostgreSQL.
The revisions are read from the migrations' directory (0005 by its file's number, head as
Alembic finds it), so a migration added later is in the upgrade without editing this test.

Rows are written with plain SQL into the tables as they were at 0005 (read from the database,
not from today's models), so the test sees the upgrade exactly as a deployed center would.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, MetaData, insert, inspect, select, text
from sqlalchemy import types as sqltypes

from acd.history import db, migrate

T0 = datetime(2026, 3, 10, 2, 0, 0)


@pytest.fixture(params=["sqlite", "postgresql"])
def empty(request: pytest.FixtureRequest, tmp_path) -> Iterator[Engine]:  # type: ignore[no-untyped-def]
    """An empty database, no schema at all."""
    if request.param == "sqlite":
        engine = db.make_engine(f"sqlite:///{tmp_path / 'old.sqlite'}")
    else:
        engine = db.make_engine(request.getfixturevalue("postgres_url"))
    try:  # closed even when dropping fails: a pool left to the garbage collector warns later
        if request.param == "postgresql":
            _drop_all(engine)
        yield engine
        if request.param == "postgresql":
            _drop_all(engine)
    finally:
        engine.dispose()


def _chain() -> list[tuple[str, str]]:
    """(file name, revision) of every migration, from the first to head, following each
    down_revision (one line: the lead re-chains parallel ones on merge)."""
    script = ScriptDirectory.from_config(migrate.config("sqlite://"))
    revs = list(script.walk_revisions("base", "heads"))  # head first
    return [(Path(r.path).name, r.revision) for r in reversed(revs)]


def _revision(number: str) -> str:
    """The revision of the migration whose file starts with `number` (e.g. "0005")."""
    found = [rev for name, rev in _chain() if name.startswith(f"{number}_")]
    assert len(found) == 1, (number, _chain())
    return found[0]


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
    chain = _chain()
    assert chain[-1][1] == migrate.head()  # one line of revisions, no second head
    migrate.upgrade(empty, _revision("0005"))
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
        # transferred 03-09 17:00 UTC = 03-10 01:00 in Shanghai, due 03-09: late there only
        {"type": "complaint", "domain": "highway", "content": "late", "source": "web",
         "caller_number": "", "subject": "辽A1", "status": "transferred",
         "handling_unit": "sy_taxi", "refusal": "", "transfer_due": date(2026, 3, 9),
         "due": date(2026, 3, 25), "transferred_at": datetime(2026, 3, 9, 17, 0)},
        # transferred 03-09 15:00 UTC = 23:00 in Shanghai, due 03-09: in time
        {"type": "complaint", "domain": "highway", "content": "in time", "source": "web",
         "caller_number": "", "subject": "辽A2", "status": "transferred",
         "handling_unit": "sy_taxi", "refusal": "", "transfer_due": date(2026, 3, 9),
         "due": date(2026, 3, 24), "transferred_at": datetime(2026, 3, 9, 15, 0)},
        # transferred, then returned by the unit: nobody holds it, no deadline
        {"type": "complaint", "domain": "highway", "content": "returned", "source": "web",
         "caller_number": "", "subject": "辽A3", "status": "returned",
         "handling_unit": "sy_taxi", "refusal": "", "transfer_due": date(2026, 3, 12),
         "due": date(2026, 3, 26), "transferred_at": datetime(2026, 3, 9, 3, 0)},
    ])
    meta = MetaData()
    meta.reflect(empty, only=["work_orders"])
    with empty.connect() as conn:
        ids = {r.content: r.id for r in conn.execute(
            select(meta.tables["work_orders"].c.content, meta.tables["work_orders"].c.id))}
    _add(empty, "revisits", [
        # the sampler run twice on 03-11: the one with a result stays
        {"order_id": ids["late"], "sampled_on": date(2026, 3, 11), "notes": "first, no result"},
        {"order_id": ids["late"], "sampled_on": date(2026, 3, 11), "notes": "second, reached",
         "done_at": datetime(2026, 3, 11, 6, 0), "reached": True},
        # twice without a result: the first stays
        {"order_id": ids["in time"], "sampled_on": date(2026, 3, 11), "notes": "a"},
        {"order_id": ids["in time"], "sampled_on": date(2026, 3, 11), "notes": "b"},
        # another day: kept
        {"order_id": ids["in time"], "sampled_on": date(2026, 3, 12), "notes": "c"},
    ])

    migrate.upgrade(empty)  # to head, through every migration after 0005
    assert migrate.current(empty) == chain[-1][1]

    meta = MetaData()
    meta.reflect(empty, only=["calls", "work_orders", "revisits"])  # as the database has them
    c, o, v = meta.tables["calls"].c, meta.tables["work_orders"].c, meta.tables["revisits"].c
    with empty.connect() as conn:
        calls = {r.uniqueid: r for r in conn.execute(select(c.uniqueid, c.queued_at,
                                                            c.wrapup_s))}
        orders = {r.content: r for r in conn.execute(select(
            o.content, o.survey_score, o.nonconformity, o.received_at, o.due, o.transfer_late))}
        revisits = sorted((r.order_id, r.sampled_on, r.notes) for r in conn.execute(
            select(v.order_id, v.sampled_on, v.notes)))
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
    # 0012: the unit's clock from the transfer; no deadline for an order no unit holds; a
    # transfer after its due day in Shanghai is late; one revisit per order and day.
    assert {k: (r.received_at, r.due, bool(r.transfer_late)) for k, r in orders.items()} == {
        "收费站多收费": (None, None, False), "公交线路": (None, None, False),
        "x": (None, None, False),
        "late": (datetime(2026, 3, 9, 17, 0), date(2026, 3, 25), True),
        "in time": (datetime(2026, 3, 9, 15, 0), date(2026, 3, 24), False),
        "returned": (None, None, False)}
    assert revisits == [
        (ids["late"], date(2026, 3, 11), "second, reached"),
        (ids["in time"], date(2026, 3, 11), "a"), (ids["in time"], date(2026, 3, 12), "c")]
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
