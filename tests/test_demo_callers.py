"""The demo's callers who do not wait (hotline/shell/simulate/callers.py) and the ledger's
counts its summary prints (acd/callers/callbacks.py `tally`, `messages`): unit tests; the demo
itself runs on the rig in tests/test_demo.py."""

from __future__ import annotations

import dataclasses
import random
from datetime import datetime, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from acd.callers import callbacks
from acd.callers.models import Callback
from acd.errors import Invalid
from acd.history import db
from acd.history.models import Call
from hotline import center as center_mod
from hotline.shell.simulate import callers
from hotline.shell.simulate.sipp import callee_scenario, seat_scenario
from ivr import menu as menu_mod


@pytest.fixture
def center():  # type: ignore[no-untyped-def]
    return center_mod.load(center_mod.EXAMPLE)


def test_the_keys_to_a_queue_come_from_the_menu(center) -> None:  # type: ignore[no-untyped-def]
    """The message caller's keys: the fewest that lead to the queue (4 waterway, then 0 to
    its queue), 1.5 s before the first, 2 s before the next."""
    menu = menu_mod.load(menu_mod.DEFAULT, center)
    assert callers.check_unstaffed(center, menu, "waterway") == [(1.5, "4"), (2.0, "0")]
    assert callers.keys_to_queue(menu, "manual") == [(1.5, "0")]
    with pytest.raises(Invalid, match="overflows"):       # its callers never get a message
        callers.check_unstaffed(center, menu, "highway")
    with pytest.raises(Invalid, match="not a queue"):
        callers.check_unstaffed(center, menu, "rail")
    nodes = {k: v for k, v in menu.nodes.items() if k != "waterway_queue"}
    nodes["waterway_menu"] = dataclasses.replace(menu.nodes["waterway_menu"],
                                                 options={"9": "main"})
    with pytest.raises(Invalid, match="leads no caller"):
        callers.keys_to_queue(dataclasses.replace(menu, nodes=nodes), "waterway")


def test_callback_callers_and_busy_lines() -> None:
    rng = random.Random(3)
    planned = [callers.callback_caller(rng, 0.5) for _ in range(40)]
    busy = [c for c in planned if c.number.startswith(callers.BUSY_PREFIX)]
    assert 0 < len(busy) < 40
    assert all(c.number.startswith("139") for c in planned if c not in busy)
    assert all(len(c.number) == 11 and c.keys[-1][1] == "1" for c in planned)
    # The public network's phone refuses exactly the busy prefix; the seat's phone stays on a
    # call that does not show a caller's number as its name (a callback's leg) longer.
    assert '<ereg regexp="^INVITE sip:137"' in callee_scenario(1.0, 5.0, busy_prefix="137")
    assert "busy_line" not in callee_scenario(1.0, 5.0)
    with pytest.raises(Exception, match="digits"):
        callee_scenario(1.0, 5.0, busy_prefix="13.")
    with_leg = seat_scenario(1.0, 3.0, 13.0)
    assert 'test="own_call"' in with_leg and 'timeout="13000"' in with_leg
    assert "own_call" not in seat_scenario(1.0, 3.0).split("</recv>", 1)[1]


def test_the_summary_counts_come_from_the_ledger(tmp_path, center) -> None:  # type: ignore[no-untyped-def]
    """Callbacks booked in the period by what became of them, messages taken with their
    recordings; rows outside the period or of another kind are not counted."""
    engine = db.make_engine(f"sqlite:///{tmp_path / 'ledger.sqlite'}")
    db.create_schema(engine)
    t0 = datetime(2026, 12, 2, 4, 0)
    try:
        with Session(engine) as s, s.begin():
            rows = [callbacks.request(s, center, "pbx1", f"u{i}", f"1390000000{i}", "manual",
                                      2, 0, at=t0 + timedelta(seconds=i)) for i in range(6)]
            callbacks.placed(rows[0], "leg0")
            callbacks.reached(rows[0])
            for row in (rows[1], rows[4]):                     # no tries left
                row.max_attempts = 1
                callbacks.placed(row, "leg")
                callbacks.not_reached(row, "BUSY", 5)
            callbacks.placed(rows[2], "leg2")                  # being tried
            callbacks.cancel(rows[3], "boss")
            callbacks.request(s, center, "pbx1", "old", "13900000009", "manual", 1, 0,
                              at=t0 - timedelta(hours=1))     # before the period
            for i, rec in enumerate(("shenyang/20261202/m0-message.wav", "")):
                s.add(Call(uniqueid=f"m{i}", linkedid=f"m{i}", node="pbx1", center="shenyang",
                           caller_number=f"1391111111{i}", started_at=t0, ivr_result="no_seat",
                           recording=rec))
                s.flush()
                callbacks.message(s, center, "pbx1", f"m{i}", f"1391111111{i}", "waterway",
                                  "no_seat", rec, due=t0, at=t0 + timedelta(seconds=10))
        with Session(engine) as s:
            until = t0 + timedelta(minutes=5)
            assert callbacks.tally(s, "shenyang", t0, until) == {
                "booked": 6, "reached": 1, "failed": 2, "cancelled": 1, "open": 2}
            assert callbacks.messages(s, "shenyang", t0, until) == {
                "taken": 2, "recorded": 1, "called_back": 0}
            assert callbacks.tally(s, "other", t0, until)["booked"] == 0
    finally:
        engine.dispose()


def test_a_seat_coming_makes_the_messages_of_its_queue_due(tmp_path, center) -> None:  # type: ignore[no-untyped-def]
    """A message waits for a seat of its queue (the dialer looks again every minute); a seat
    signing in to that queue makes its untried messages due at once. A message already tried
    keeps its retry time, and another queue's messages wait on."""
    engine = db.make_engine(f"sqlite:///{tmp_path / 'ledger.sqlite'}")
    db.create_schema(engine)
    t0 = datetime(2026, 12, 2, 4, 0)
    later = t0 + timedelta(minutes=1)
    try:
        with Session(engine) as s, s.begin():
            made = {}
            for uid, queue in (("w1", "waterway"), ("w2", "waterway"), ("w3", "waterway"),
                               ("r1", "road")):
                made[uid] = callbacks.message(s, center, "pbx1", uid, "13911111111", queue,
                                              "no_seat", "", due=later, at=t0)[1]
            callbacks.placed(made["w2"], "leg")                 # tried once, retry later
            callbacks.not_reached(made["w2"], "BUSY", 300, at=t0)
            ids = {k: v.id for k, v in made.items()}
        with Session(engine) as s, s.begin():
            assert callbacks.seat_came(s, "shenyang", "waterway", at=t0) == [ids["w1"], ids["w3"]]
        with Session(engine) as s:
            due = {c.id: c.next_at for c in s.scalars(select(Callback))}
        assert due == {ids["w1"]: t0, ids["w3"]: t0, ids["w2"]: t0 + timedelta(seconds=300),
                       ids["r1"]: later}
    finally:
        engine.dispose()
