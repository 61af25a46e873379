"""Call indicators against figures computed by hand, on SQLite and on a real PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from acd.history.models import Call, QueueCall, SeatInterval
from queue_stats.indicators import Options, call_indicators
from tests.support.examples import examples

T0 = datetime(2026, 1, 31, 23, 0, 0)


def add_call(s: Session, uid: str, entered: datetime, outcome: str, wait: float,
             talk: float | None = None, ivr: float = 5.0, queue: str = "highway",
             seat: str = "8001", center: str = "shenyang") -> None:
    started = entered - timedelta(seconds=ivr)
    answered = entered + timedelta(seconds=wait) if outcome == "answered" else None
    s.add(Call(uniqueid=uid, linkedid=uid, node="pbx1", center=center, started_at=started,
               outcome=outcome, wait_s=wait, talk_s=talk, answered_at=answered,
               first_queue=queue, final_queue=queue, queued_at=entered,
               seat_id=seat if outcome == "answered" else ""))
    s.add(QueueCall(uniqueid=uid, center=center, queue=queue, entered_at=entered,
                    outcome=outcome, wait_s=wait, talk_s=talk, answered_at=answered,
                    seat_id=seat if outcome == "answered" else ""))


def test_no_calls_is_no_data_not_zero(db_engine) -> None:
    ind = call_indicators(db_engine, T0, T0 + timedelta(days=1))
    assert ind.queued == 0
    assert ind.manual_connection_rate.value is None
    assert str(ind.average_wait_s) == "no data"


def test_hand_computed_mix(db_engine) -> None:
    """Seed 002 art. 6 (二) "人工接通率：人工接听量与人工排队量的比率"; (四) "平均等待时长：
    从来电人拨打12328电话到获得服务的平均时长" (from dialling: the IVR counts); the queue's part
    kept as its own figure."""
    with Session(db_engine) as s, s.begin():
        add_call(s, "a", T0, "answered", wait=4, talk=60)
        add_call(s, "b", T0 + timedelta(minutes=1), "answered", wait=12, talk=30)
        add_call(s, "c", T0 + timedelta(minutes=2), "abandoned", wait=3)
        add_call(s, "d", T0 + timedelta(minutes=3), "abandoned", wait=40)
    # wrap-up of call a: 10 s, written as the ledger does (its interval, then on the call)
    from acd.history.ledger import Ledger
    from acd.seats.state import SeatState
    ledger = Ledger(sessionmaker(db_engine), "shenyang", "pbx1")
    ledger.seat_transition("8001", SeatState.WRAPUP, (T0 + timedelta(seconds=64)).replace(
        tzinfo=UTC).timestamp(), uniqueid="a")
    ledger.seat_transition("8001", SeatState.READY, (T0 + timedelta(seconds=74)).replace(
        tzinfo=UTC).timestamp())
    with Session(db_engine) as s:
        assert s.get(Call, "a").wrapup_s == pytest.approx(10)
        assert [i.state for i in s.scalars(select(SeatInterval))] == ["wrapup", "ready"]
    ind = call_indicators(db_engine, T0, T0 + timedelta(hours=1))
    assert (ind.queued, ind.answered, ind.abandoned) == (4, 2, 2)
    assert ind.manual_connection_rate.value == pytest.approx(2 / 4)
    # 平均等待时长, seed 002 art. 6 (四): "从来电人拨打12328电话到获得服务的平均时长", from
    # dialling (the call's start: its 5 s of IVR count) to the seat's answer; the queue's part
    # is a figure of its own.
    assert ind.average_wait_s.value == pytest.approx((9 + 17) / 2)
    assert ind.average_queue_wait_s.value == pytest.approx((4 + 12) / 2)
    assert ind.answered_within_10s_rate.value == pytest.approx(1 / 2)  # of the queue wait
    assert ind.abandon_rate.value == pytest.approx(2 / 4)
    assert ind.average_handle_time_s.value == pytest.approx((60 + 10 + 30) / 2)
    # Short abandons (under 5 s) left out: c does not count at all.
    ind = call_indicators(db_engine, T0, T0 + timedelta(hours=1), options=Options(short_abandon_s=5))
    assert (ind.queued, ind.abandoned) == (3, 1)
    assert ind.manual_connection_rate.value == pytest.approx(2 / 3)


def test_all_abandoned(db_engine) -> None:
    with Session(db_engine) as s, s.begin():
        for i in range(3):
            add_call(s, f"x{i}", T0 + timedelta(minutes=i), "abandoned", wait=20)
    ind = call_indicators(db_engine, T0, T0 + timedelta(hours=1))
    assert ind.manual_connection_rate.value == 0.0
    assert ind.average_wait_s.value is None
    assert ind.answered_within_10s_rate.value is None


def test_a_call_across_midnight_and_a_month_boundary_counts_where_it_queued(db_engine) -> None:
    entered = datetime(2026, 1, 31, 23, 59, 50)
    with Session(db_engine) as s, s.begin():
        add_call(s, "m", entered, "answered", wait=15, talk=100)  # answered in February
    january = call_indicators(db_engine, datetime(2026, 1, 1), datetime(2026, 2, 1))
    february = call_indicators(db_engine, datetime(2026, 2, 1), datetime(2026, 3, 1))
    assert (january.queued, january.answered) == (1, 1)
    assert february.queued == 0


@settings(max_examples=examples(40), deadline=None)
@given(st.lists(st.tuples(st.sampled_from(["answered", "abandoned", "timeout"]),
                          st.floats(0, 300), st.sampled_from(["shenyang", "huludao"])),
                max_size=25))
def test_rates_are_the_counts_and_centers_sum_to_the_province(tmp_path_factory, calls) -> None:
    """Each rate is its numerator over its denominator, counted here from the calls drawn
    (docs/indicators.md): 人工接通率 answered / queued, 10 秒接通率 answered with wait ≤ 10 s /
    answered, abandon rate abandoned / queued; no calls is no data, never 0."""
    from acd.history import db
    engine = db.make_engine(f"sqlite:///{tmp_path_factory.mktemp('p') / 'x.sqlite'}")
    db.create_schema(engine)
    with Session(engine) as s, s.begin():
        for i, (outcome, wait, center) in enumerate(calls):
            add_call(s, f"c{i}", T0 + timedelta(seconds=i), outcome, wait,
                     talk=30 if outcome == "answered" else None, center=center)
    span = (T0, T0 + timedelta(days=1))
    total = call_indicators(engine, *span)
    parts = [call_indicators(engine, *span, center=c) for c in ("shenyang", "huludao")]
    for ind, center in ((total, None), (parts[0], "shenyang"), (parts[1], "huludao")):
        mine = [(o, w) for o, w, c in calls if center in (None, c)]
        answered = [w for o, w in mine if o == "answered"]
        abandoned = [w for o, w in mine if o == "abandoned"]
        assert (ind.queued, ind.answered, ind.abandoned) == \
            (len(mine), len(answered), len(abandoned))
        assert ind.manual_connection_rate.value == (len(answered) / len(mine) if mine else None)
        assert ind.abandon_rate.value == (len(abandoned) / len(mine) if mine else None)
        assert ind.answered_within_10s_rate.value == (
            sum(w <= 10 for w in answered) / len(answered) if answered else None)
    assert total.queued == sum(p.queued for p in parts)
    assert total.answered == sum(p.answered for p in parts)
    assert total.abandoned == sum(p.abandoned for p in parts)
    engine.dispose()


def test_broadcast_listeners_who_hung_up_without_queueing(db_engine) -> None:
    from queue_stats.indicators import broadcast_hangups

    with Session(db_engine) as s, s.begin():
        add_call(s, "q", T0, "answered", wait=3, talk=10)      # heard it, then queued
        s.get(Call, "q").heard_broadcast = True
        for uid, heard in (("g1", True), ("g2", True), ("n", False)):
            s.add(Call(uniqueid=uid, linkedid=uid, node="pbx1", center="shenyang",
                       started_at=T0, heard_broadcast=heard, ivr_result="abandoned_ivr"))
    r = broadcast_hangups(db_engine, T0 - timedelta(hours=1), T0 + timedelta(hours=1))
    assert (r.numerator, r.denominator) == (2, 3)


def test_grouped_by_day_in_the_centers_time_zone_and_by_queue(db_engine) -> None:
    from queue_stats.indicators import call_indicators_by

    with Session(db_engine) as s, s.begin():
        # 15:30 UTC on 31 Jan is 23:30 in Shanghai; 16:30 UTC is already 1 Feb there.
        add_call(s, "d1", datetime(2026, 1, 31, 15, 30), "answered", wait=5, talk=30)
        add_call(s, "d2", datetime(2026, 1, 31, 16, 30), "abandoned", wait=40, queue="urban")
        add_call(s, "d3", datetime(2026, 2, 1, 2, 0), "answered", wait=15, talk=20,
                 queue="urban")
    span = (datetime(2026, 1, 1), datetime(2026, 3, 1))
    days = call_indicators_by(db_engine, *span, "day")
    assert {k: (v.queued, v.answered) for k, v in days.items()} == \
        {"2026-01-31": (1, 1), "2026-02-01": (2, 1)}
    months = call_indicators_by(db_engine, *span, "month")
    assert sorted(months) == ["2026-01", "2026-02"]
    queues = call_indicators_by(db_engine, *span, "queue")
    assert queues["urban"].manual_connection_rate.value == 0.5
    total = call_indicators(db_engine, *span)
    assert total.queued == sum(v.queued for v in days.values()) == 3
    with pytest.raises(ValueError):
        call_indicators_by(db_engine, *span, "weekday")


def test_the_ledger_keeps_each_calls_wrapup_however_the_batches_fall(db_engine) -> None:
    """A wrap-up closed within one batch, or across two, or twice for one call (a seat that
    went back to the call's notes): the call carries the sum, as the seat intervals say."""
    from acd.history.ledger import Ledger
    from acd.model import SeatTransition
    from acd.seats.state import SeatState

    with Session(db_engine) as s, s.begin():
        add_call(s, "w1", T0, "answered", wait=2, talk=30)
        add_call(s, "w2", T0 + timedelta(minutes=5), "answered", wait=2, talk=30, seat="8002")
    ledger = Ledger(sessionmaker(db_engine), "shenyang", "pbx1")
    t0 = T0.replace(tzinfo=UTC).timestamp()

    def tr(seat: str, old: SeatState, new: SeatState, at: float, uid: str = "") -> SeatTransition:
        return SeatTransition(seat, old, new, t0 + at, uniqueid=uid)

    W, R, C = SeatState.WRAPUP, SeatState.READY, SeatState.ON_CALL
    # w1: wrap-up 7 s inside one batch, then 3 s more across two batches
    ledger.write([], [tr("8001", C, W, 40, "w1"), tr("8001", W, R, 47)], None)
    ledger.write([], [tr("8001", R, W, 50, "w1")], None)
    ledger.write([], [tr("8001", W, R, 53)], None)
    # w2: still in wrap-up: nothing yet
    ledger.write([], [tr("8002", C, W, 340, "w2")], None)
    with Session(db_engine) as s:
        assert s.get(Call, "w1").wrapup_s == pytest.approx(10)
        assert s.get(Call, "w2").wrapup_s is None
        total = sum((i.ended_at - i.started_at).total_seconds() for i in s.scalars(
            select(SeatInterval).where(SeatInterval.uniqueid == "w1",
                                       SeatInterval.state == "wrapup")))
    assert total == pytest.approx(10)
    ind = call_indicators(db_engine, T0, T0 + timedelta(hours=1))
    assert ind.average_handle_time_s.value == pytest.approx((30 + 10 + 30) / 2)
