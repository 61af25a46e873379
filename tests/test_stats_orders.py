"""Work-order indicators against a hand-computed fixture, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from sqlalchemy.orm import Session

from acd.history.models import Call
from acd.orders import service
from acd.orders.models import Revisit
from queue_stats.order_indicators import order_indicators

AT = datetime(2026, 11, 2, 9, 0)


def call(s: Session, uid: str, outcome: str = "answered", score: int | None = None) -> None:
    s.add(Call(uniqueid=uid, linkedid=uid, node="pbx1", center="shenyang", started_at=AT,
               outcome=outcome, survey_score=score))


def order(s: Session, type: str, uid: str | None = None, **kw):  # type: ignore[no-untyped-def]
    return service.create(s, center="shenyang", type=type, domain="highway", content="x",
                          subject="y", call_uniqueid=uid, source="call" if uid else "web",
                          accepted_at=AT, **kw)


def test_no_orders_is_no_data(db_engine) -> None:
    ind = order_indicators(db_engine, AT, AT + timedelta(days=1))
    assert ind.orders == 0 and ind.instant_answer_rate.value is None
    assert ind.order_generation_rate.value is None


def test_hand_computed(db_engine) -> None:
    """Seed 002 art. 6 (一)(三), art. 7 (一)-(五), each figure in its own period: the orders
    accepted on 2 Nov, their deadlines (16 Nov, 14 Dec) and closings within Nov-Jan."""
    with Session(db_engine) as s, s.begin():
        for uid, score in (("c1", 1), ("c2", 3), ("c3", None), ("c4", 2)):
            call(s, uid, score=score)
        call(s, "c5", outcome="abandoned")
        a = order(s, "consultation", "c1")
        service.answer_on_call(s, a, "x")                 # instant, rated very satisfied
        b = order(s, "consultation", "c2")
        service.answer_on_call(s, b, "x")                 # instant, rated basic
        order(s, "consultation", "c3")                    # consultation, not instant
        late = order(s, "complaint", cross_region=True)   # transferred, closed late
        service.transfer(s, late, "x", "u", at=AT)
        service.reply(s, late, "u", "r", at=AT + timedelta(days=60))
        service.close(s, late, "x", at=AT + timedelta(days=60))
        ok = order(s, "suggestion")                       # transferred, closed in time
        service.transfer(s, ok, "x", "u", at=AT)
        service.reply(s, ok, "u", "r", at=AT + timedelta(days=2))
        service.close(s, ok, "x", at=AT + timedelta(days=2))
        s.add(Revisit(order_id=ok.id, sampled_on=AT.date(), done_at=AT + timedelta(days=3),
                      reached=True, satisfaction=2))
    # November to January, local: the deadlines (16 Nov, 14 Dec) and the closings fall in it.
    ind = order_indicators(db_engine, datetime(2026, 10, 31, 16), datetime(2027, 1, 31, 16),
                           today=date(2027, 2, 1))
    assert ind.orders == 5
    assert (ind.instant_answer_rate.numerator, ind.instant_answer_rate.denominator) == (2, 3)
    assert (ind.closed_in_time.numerator, ind.closed_in_time.denominator) == (1, 2)
    assert (ind.cross_region_closed_in_time.numerator,
            ind.cross_region_closed_in_time.denominator) == (0, 1)
    assert (ind.instant_answer_satisfaction.numerator,
            ind.instant_answer_satisfaction.denominator) == (1, 2)
    assert (ind.revisit_rate.numerator, ind.revisit_rate.denominator) == (1, 2)
    assert ind.revisit_satisfaction.value == 1.0
    # answered calls c1..c4; c4 has no order
    assert (ind.order_generation_rate.numerator, ind.order_generation_rate.denominator) == (3, 4)
    assert ind.data_conformity.value == 1.0
