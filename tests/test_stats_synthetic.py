"""The synthetic half year (queue_stats/synthetic.py) and the grouped, SQL-computed work-order
indicators it is benchmarked with, on SQLite and on a real PostgreSQL."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from acd.history.models import Call
from acd.orders import service
from acd.orders.models import Revisit, WorkOrder
from queue_stats.order_indicators import (
    OrderIndicators,
    order_indicators,
    order_indicators_by,
)

# 31 Jan 15:30 UTC is 23:30 in Shanghai (January); 16:30 UTC is 1 Feb there.
JAN, FEB = datetime(2026, 1, 31, 15, 30), datetime(2026, 1, 31, 16, 30)
SPAN = (datetime(2025, 12, 31, 16), datetime(2026, 5, 31, 16))  # local January to May
FIELDS = ("instant_answer_rate", "closed_in_time", "cross_region_closed_in_time",
          "instant_answer_satisfaction", "revisit_rate", "revisit_satisfaction",
          "order_generation_rate", "data_conformity")


def _fill(s: Session) -> None:
    """Two centers, two local months: instant answers (rated or not), transferred orders
    closed in time or late, cross-region, revisits, an answered call without an order."""
    n = 0
    for center in ("shenyang", "huludao"):
        for at in (JAN, FEB):
            for kind, score in (("instant", 1), ("instant", 3), ("instant", None),
                                ("plain", None), ("late", None), ("ok", None), ("none", 2)):
                n += 1
                uid = f"{center}-{n}"
                s.add(Call(uniqueid=uid, linkedid=uid, node="pbx1", center=center,
                           started_at=at, outcome="answered", survey_score=score))
                if kind == "none":
                    continue            # answered, but no order
                o = service.create(s, center=center, type="consultation" if kind in
                                   ("instant", "plain") else "complaint", domain="highway",
                                   content="x", subject="y", call_uniqueid=uid,
                                   accepted_at=at, cross_region=kind == "late")
                if kind == "instant":
                    service.answer_on_call(s, o, "x")
                if kind in ("late", "ok"):
                    days = 80 if kind == "late" else 1
                    service.transfer(s, o, "x", "unit", at=at)
                    service.reply(s, o, "unit", "r", at=at + timedelta(days=days))
                    service.close(s, o, "x", at=at + timedelta(days=days))
                    s.add(Revisit(order_id=o.id, sampled_on=at.date(),
                                  done_at=at + timedelta(days=days + 1), reached=True,
                                  satisfaction=1 if kind == "ok" else 4))


def _pairs(ind: OrderIndicators) -> dict[str, tuple[float, float]]:
    return {f: (getattr(ind, f).numerator, getattr(ind, f).denominator) for f in FIELDS}


@pytest.mark.parametrize("by", ["month", "center", "day"])
def test_order_groups_add_up_to_the_total(db_engine, by: str) -> None:
    with Session(db_engine) as s, s.begin():
        _fill(s)
    total = order_indicators(db_engine, *SPAN)
    assert total.orders == 24
    groups = order_indicators_by(db_engine, *SPAN, by)
    assert sum(g.orders for g in groups.values()) == total.orders
    for f, (num, den) in _pairs(total).items():
        assert sum(_pairs(g)[f][0] for g in groups.values()) == num, f
        assert sum(_pairs(g)[f][1] for g in groups.values()) == den, f
    assert order_indicators_by(db_engine, *SPAN, "all") == {"all": total}
    assert len([g for g in groups.values() if g.orders]) == 2


def test_order_indicators_by_month_by_hand(db_engine) -> None:
    """Each figure in the local month its seed article counts it in: orders by acceptance
    (seed 002 art. 6), 限时办结率 by the unit's deadline (art. 7 (一), seed 001 art. 33: 30
    working days from the day of receipt, 31 Jan or 1 Feb: both due 19 March), 抽查回访率 by
    closing (art. 7 (四): "办结的转办工单"), 回访满意率 by the revisit (art. 7 (五))."""
    with Session(db_engine) as s, s.begin():
        _fill(s)
    months = order_indicators_by(db_engine, *SPAN, "month", today=date(2026, 6, 1))
    assert sorted(months) == ["2026-01", "2026-02", "2026-03", "2026-04"]  # local, not UTC
    jan, feb, mar, apr = (months[m] for m in sorted(months))
    assert (jan.orders, feb.orders, mar.orders, apr.orders) == (12, 12, 0, 0)
    none = (0, 0)
    assert _pairs(jan) == {
        "instant_answer_rate": (6, 8),           # 3 instant of 4 consultations, per center
        "closed_in_time": none,                  # due in March
        "cross_region_closed_in_time": none,
        "instant_answer_satisfaction": (2, 4),   # rated 1 and 3; one not rated
        "revisit_rate": none,                    # nothing closed in January
        "revisit_satisfaction": none,
        "order_generation_rate": (12, 14),       # the "none" calls have no order
        "data_conformity": (12, 12)}
    # February: the "ok" orders of both months closed (a day later) and revisited, satisfied.
    assert (_pairs(feb)["revisit_rate"], _pairs(feb)["revisit_satisfaction"]) == ((4, 4),
                                                                                 (4, 4))
    # March: every transferred order was due on the 19th; the "ok" ones replied in time,
    # the "late" (cross-region) ones 80 days on.
    assert _pairs(mar) == {**{f: none for f in FIELDS}, "closed_in_time": (4, 8),
                           "cross_region_closed_in_time": (0, 4)}
    # April: the late ones closed, revisited, not satisfied.
    assert (_pairs(apr)["revisit_rate"], _pairs(apr)["revisit_satisfaction"]) == ((4, 4),
                                                                                 (0, 4))
    shenyang = order_indicators_by(db_engine, *SPAN, "center", center="shenyang")
    assert list(shenyang) == ["shenyang"] and shenyang["shenyang"].orders == 12
    with pytest.raises(ValueError):
        order_indicators_by(db_engine, *SPAN, "weekday")


BAD_ORDERS = [
    {"type": "enquiry"}, {"domain": "rail"}, {"content": "  \n\u3000 "},
    {"source": "call", "call_uniqueid": None}, {"source": "call", "call_uniqueid": ""},
    {"caller_number": "12345678901"}, {"caller_number": "024-1234"},
    {"caller_number": "1381234567a"}, {"caller_number": "13812345678x"},
    {"type": "complaint", "subject": " \t"},
    {"status": "transferred", "handling_unit": ""}, {"status": "replied", "handling_unit": ""},
    {"status": "not_accepted", "refusal": "bored"},
]
GOOD_ORDERS = [
    {}, {"caller_number": "13812345678"}, {"caller_number": "024-12345678"},
    {"caller_number": "02412345678"}, {"caller_number": "0411-1234567"},
    {"caller_number": "12328"}, {"caller_number": "123456"}, {"source": "web"},
    {"type": "complaint", "subject": "某客运站"}, {"status": "transferred", "handling_unit": "u"},
    {"status": "not_accepted", "refusal": "out_of_remit"}, {"content": " 有内容 "},
]


def test_every_order_written_carries_the_rules_it_breaks(db_engine) -> None:
    """The stored `nonconformity` is `service.conformity`, order by order, after the order is
    written and again after it changes; the rate counts it."""
    at = datetime(2026, 3, 2, 9)
    with Session(db_engine) as s, s.begin():
        for i, kw in enumerate(BAD_ORDERS + GOOD_ORDERS):
            fields = {"center": "c", "type": "consultation", "domain": "highway",
                      "content": "x", "source": "call", "call_uniqueid": f"u{i}",
                      "accepted_at": at, "transfer_due": date(2026, 3, 5),
                      "due": date(2026, 3, 9), "caller_number": "", "subject": "",
                      "handling_unit": "", "refusal": "", "status": "accepted"}
            fields.update(kw)
            s.add(WorkOrder(**fields))
    with Session(db_engine) as s:
        orders = s.scalars(select(WorkOrder).order_by(WorkOrder.id)).all()
        assert [o.nonconformity for o in orders] == [
            ",".join(service.conformity(o)) for o in orders]
        assert sum(1 for o in orders if o.nonconformity == "") == len(GOOD_ORDERS)
    ind = order_indicators(db_engine, at, at + timedelta(hours=1))
    assert (ind.data_conformity.numerator, ind.data_conformity.denominator) == \
        (len(GOOD_ORDERS), len(BAD_ORDERS) + len(GOOD_ORDERS))
    with Session(db_engine) as s, s.begin():  # a fix is seen at once
        bad = s.scalars(select(WorkOrder).where(WorkOrder.domain == "rail")).one()
        bad.domain = "highway"
    assert order_indicators(db_engine, at, at + timedelta(hours=1)).data_conformity.numerator \
        == len(GOOD_ORDERS) + 1


def test_call_groups_in_a_half_hour_time_zone_and_by_seat(db_engine) -> None:
    """Kolkata is UTC+5:30: 18:20 UTC is 23:50 there, 18:31 UTC is already the next day."""
    from acd.history.models import QueueCall
    from queue_stats.indicators import call_indicators, call_indicators_by

    with Session(db_engine) as s, s.begin():
        for uid, at, seat in (("k1", datetime(2026, 5, 1, 18, 20), "8001"),
                              ("k2", datetime(2026, 5, 1, 18, 31), "8001"),
                              ("k3", datetime(2026, 5, 1, 18, 45), "8002")):
            s.add(Call(uniqueid=uid, linkedid=uid, node="pbx1", center="c", started_at=at,
                       outcome="answered", wait_s=4.0, talk_s=20.0, seat_id=seat,
                       final_queue="q", queued_at=at))
            s.add(QueueCall(uniqueid=uid, center="c", queue="q", entered_at=at,
                            outcome="answered", wait_s=4.0, seat_id=seat))
    span = (datetime(2026, 5, 1), datetime(2026, 5, 3))
    days = call_indicators_by(db_engine, *span, "day", timezone="Asia/Kolkata")
    assert {k: v.queued for k, v in days.items()} == {"2026-05-01": 1, "2026-05-02": 2}
    hours = call_indicators_by(db_engine, *span, "hour", timezone="Asia/Kolkata")
    assert {k: v.queued for k, v in hours.items()} == {"2026-05-01 23:00": 1,
                                                        "2026-05-02 00:00": 2}
    seats = call_indicators_by(db_engine, *span, "seat")
    assert {k: v.answered for k, v in seats.items()} == {"8001": 2, "8002": 1}
    assert call_indicators(db_engine, *span).average_handle_time_s.value == 20.0


# --- the generator -------------------------------------------------------------------------------

HALF_YEAR = (datetime(2020, 12, 31, 16), datetime(2021, 6, 30, 16))  # local 1 Jan - 1 Jul, UTC
SCALE = 0.002


# Seed 000, annex 1 (2021年上半年辽宁省12328电话业务量区域分布表), copied here by hand so the
# generator's own table is checked against the seed, not against itself:
# center -> (投诉举报, 信息查询, 意见建议).
ANNEX_1 = {
    "省交投集团": (2904, 987714, 5285), "沈阳市": (13102, 44426, 1171),
    "锦州市": (1671, 21160, 220), "辽阳市": (1078, 7375, 58), "大连市": (1785, 6171, 11),
    "盘锦市": (2660, 5003, 5), "鞍山市": (2779, 3919, 9), "葫芦岛市": (1438, 3586, 536),
    "辽宁省": (1499, 2874, 164), "丹东市": (1837, 2644, 24), "朝阳市": (1277, 1967, 10),
    "抚顺市": (1261, 1707, 11), "铁岭市": (930, 1447, 12), "营口市": (325, 1776, 8),
    "本溪市": (300, 901, 12), "阜新市": (350, 639, 6),
}
ANNEX_1_TOTAL = (35196, 1093309, 7542)  # the annex's 合计 row: 1,136,047 in all
# Seed 000, annex 4 (考核表), the two biggest centers: 人工接通率, 信息咨询类即时答复率,
# 平均等待时长 (s), 即时答复满意率, 电话工单生成率, 通话记录报送率, 限时办结率.
ANNEX_4 = {
    "省交投集团": (0.9416, 0.9756, 18, 0.9963, 0.9997, 0.9999, 0.9996),
    "沈阳市": (0.9353, 0.9992, 13, 0.9480, 0.9968, 0.9987, 0.9491),
}


def test_the_annex_copied_here_adds_up_as_the_seed_says() -> None:
    assert tuple(sum(row[i] for row in ANNEX_1.values()) for i in range(3)) == ANNEX_1_TOTAL
    assert sum(ANNEX_1_TOTAL) == 1136047


def test_generator_counts_and_mixes_as_the_seed(db_engine) -> None:
    """Orders by center and type exactly as annex 1 (scaled); the domain mix of annex 3;
    every order has its answered call; the snow day carries several times a usual day."""
    from sqlalchemy import func

    from acd.history.models import QueueCall
    from queue_stats.synthetic import CENTERS, generate

    summary = generate(db_engine, seed=7, scale=SCALE)
    with Session(db_engine) as s:
        by = {(c, t): n for c, t, n in s.execute(
            select(WorkOrder.center, WorkOrder.type, func.count()).group_by(
                WorkOrder.center, WorkOrder.type))}
        domains = dict(s.execute(select(WorkOrder.domain, func.count())
                                 .group_by(WorkOrder.domain)).all())
        orphans = s.scalar(select(func.count()).select_from(WorkOrder).outerjoin(
            Call, Call.uniqueid == WorkOrder.call_uniqueid).where(
            (Call.uniqueid.is_(None)) | (Call.outcome != "answered")))
        stays = s.scalar(select(func.count()).select_from(QueueCall))
        # What the ledger and the order service keep on the rows, the generator keeps too.
        mismatched = s.scalar(select(func.count()).select_from(WorkOrder).join(
            Call, Call.uniqueid == WorkOrder.call_uniqueid).where(
            func.coalesce(WorkOrder.survey_score, 0) != func.coalesce(Call.survey_score, 0)))
        unqueued = s.scalar(select(func.count()).select_from(Call).where(
            Call.queued_at.is_(None)))
        wrapless = s.scalar(select(func.count()).select_from(Call).where(
            Call.outcome == "answered", Call.wrapup_s.is_(None)))
        assert wrapless == 0
        sample = s.scalars(select(WorkOrder).limit(300)).all()
        assert [o.nonconformity for o in sample] == [",".join(service.conformity(o))
                                                     for o in sample]
    assert mismatched == 0 and unqueued == 0
    code = {f.name: f.code for f in CENTERS}
    assert set(code) == set(ANNEX_1)
    for name, counts in ANNEX_1.items():
        for t, n in zip(("complaint", "consultation", "suggestion"), counts, strict=True):
            assert by.get((code[name], t), 0) == round(n * SCALE), (name, t)
    total = sum(by.values())
    assert total == summary.orders == sum(round(n * SCALE) for counts in ANNEX_1.values()
                                          for n in counts)
    # 96.24 % consultation (1,093,309 of 1,136,047).
    assert abs(sum(n for (_, t), n in by.items() if t == "consultation") / total - 0.9624) < 0.005
    assert abs(domains["highway"] / total - 0.8745) < 0.02
    assert orphans == 0
    assert stays == summary.calls > total
    days = order_indicators_by(db_engine, *HALF_YEAR, "day")
    assert len(days) == 181
    assert sum(d.orders for d in days.values()) == total   # local days from UTC hours
    usual = sorted(d.orders for d in days.values())[90]
    assert days["2021-01-26"].orders > 2.5 * usual


def test_generator_lands_near_annex_4(tmp_path) -> None:
    """At 1 % (11,000 orders), the biggest centers' figures computed from the generated
    records are near their annex-4 rows, and the groups add up to the province."""
    from acd.history import db
    from queue_stats.indicators import call_indicators, call_indicators_by
    from queue_stats.synthetic import CENTERS, generate

    engine = db.make_engine(f"sqlite:///{tmp_path / 'h.sqlite'}")
    db.create_schema(engine)
    generate(engine, seed=1, scale=0.01)
    calls = call_indicators_by(engine, *HALF_YEAR, "center")
    orders = order_indicators_by(engine, *HALF_YEAR, "center")
    uploads = {c: o.call_record_reporting for c, o in orders.items()}
    code = {f.name: f.code for f in CENTERS}
    for name, (connection, instant, wait, satisfied, generation, upload, _in_time) in \
            ANNEX_4.items():   # the two biggest centers: enough orders to be close
        c, o = calls[code[name]], orders[code[name]]
        assert c.manual_connection_rate.value == pytest.approx(connection, abs=0.015)
        assert c.average_wait_s.value == pytest.approx(wait, abs=1.5)
        assert o.instant_answer_rate.value == pytest.approx(instant, abs=0.015)
        assert o.order_generation_rate.value == pytest.approx(generation, abs=0.005)
        assert o.instant_answer_satisfaction.value == pytest.approx(satisfied, abs=0.03)
        assert o.data_conformity.value == 1.0
        assert uploads[code[name]].value == pytest.approx(upload, abs=0.003)
    assert orders[code["沈阳市"]].closed_in_time.value == \
        pytest.approx(ANNEX_4["沈阳市"][6], abs=0.04)
    total = call_indicators(engine, *HALF_YEAR)
    assert total.queued == sum(c.queued for c in calls.values())
    assert total.answered == sum(c.answered for c in calls.values())
    engine.dispose()


def test_generator_is_deterministic_and_refuses_a_full_database(tmp_path) -> None:
    from acd.history import db
    from queue_stats.synthetic import GeneratorError, generate

    def fill(name: str, seed: int) -> list[tuple]:
        engine = db.make_engine(f"sqlite:///{tmp_path / name}")
        db.create_schema(engine)
        generate(engine, seed=seed, scale=0.001)
        with engine.connect() as conn:
            rows = conn.execute(select(Call.uniqueid, Call.started_at, Call.outcome,
                                       Call.wait_s, Call.talk_s, Call.survey_score)
                                .order_by(Call.uniqueid)).all()
            orders = conn.execute(select(WorkOrder.call_uniqueid, WorkOrder.type,
                                         WorkOrder.domain, WorkOrder.closed_at)
                                  .order_by(WorkOrder.id)).all()
        with pytest.raises(GeneratorError, match="calls already"):
            generate(engine, seed=seed, scale=0.001)
        with pytest.raises(GeneratorError, match="scale"):
            generate(engine, seed=seed, scale=0)
        engine.dispose()
        return [tuple(r) for r in rows + orders]

    first = fill("a.sqlite", 5)
    assert first == fill("b.sqlite", 5)
    assert first != fill("c.sqlite", 6)


def test_hotline_stats_generate(tmp_path) -> None:
    import subprocess
    import sys

    url = f"sqlite:///{tmp_path / 'g.sqlite'}"
    cmd = [sys.executable, "-m", "hotline.shell.cli", "stats", "generate", "--database", url,
           "--scale", "0.001", "--seed", "3"]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=300,
                          check=False)
    assert done.returncode == 0, done.stderr
    assert "orders 1135" in done.stdout
    again = subprocess.run(cmd, capture_output=True, text=True, timeout=300,
                           check=False)
    assert again.returncode == 2 and "calls already" in again.stderr
    bad = subprocess.run([*cmd[:-4], "--scale", "-1"], capture_output=True, text=True,
                         timeout=300, check=False)
    assert bad.returncode == 2 and "scale must be" in bad.stderr
