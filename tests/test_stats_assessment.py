"""The monthly assessment table, its scoring rules and roll-ups, and the two reporting
indicators, against figures computed by hand (SQLite and PostgreSQL)."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy.orm import Session

from acd.history.models import Call, Outage, QueueCall
from acd.orders import service
from queue_stats import assessment, upward
from queue_stats.assessment import CenterRow, IndicatorRule, Rules, RulesError
from queue_stats.indicators import Ratio

# 2026-03-10 10:00 in Shanghai is 02:00 UTC; the ledger is UTC.
MARCH = datetime(2026, 3, 10, 2, 0)


def queued(s: Session, uid: str, center: str, at: datetime, outcome: str, wait: float) -> None:
    answered = at + timedelta(seconds=wait) if outcome == "answered" else None
    s.add(Call(uniqueid=uid, linkedid=uid, node="pbx1", center=center,
               started_at=at - timedelta(seconds=5), ended_at=at + timedelta(minutes=3),
               outcome=outcome, wait_s=wait, talk_s=60 if answered else None,
               answered_at=answered, first_queue="q", final_queue="q", queued_at=at))
    s.add(QueueCall(uniqueid=uid, center=center, queue="q", entered_at=at, outcome=outcome,
                    wait_s=wait, answered_at=answered))


def test_the_shipped_rules_are_henans_67_points() -> None:
    rules = Rules.load()
    assert rules.base == 67 and sum(r.points for r in rules.indicators) == 67
    assert {r.key for r in rules.indicators} == set(assessment.SCORABLE)


@pytest.mark.parametrize("change, field", [
    (lambda d: d["indicator"][0].update(key="speed"), "indicator[0].key"),
    (lambda d: d["indicator"][1].update(better="more"), "indicator[1].better"),
    (lambda d: d["indicator"][2].update(points="eight"), "indicator[2].points"),
    (lambda d: d.update(base=100), "base"),
    (lambda d: d.update(no_data="maybe"), "no_data"),
    (lambda d: d["indicator"].append(dict(d["indicator"][0])), "appears twice"),
])
def test_malformed_rules_are_refused_naming_the_field(change, field) -> None:
    import tomllib
    data = tomllib.loads(assessment.DEFAULT_RULES.read_text(encoding="utf-8"))
    change(data)
    with pytest.raises(RulesError, match=field.replace("[", r"\[").replace("]", r"\]")):
        Rules.parse(data)


def test_scoring_by_hand() -> None:
    mcr = IndicatorRule("manual_connection_rate", 0.95, "higher", 10, 0.01, 2)
    assert mcr.score(0.95, "full") == 10
    assert mcr.score(0.99, "full") == 10
    assert mcr.score(0.945, "full") == 8      # part of a step costs a whole step
    assert mcr.score(0.935, "full") == 6      # 1.5 points short: 2 steps
    assert mcr.score(0.10, "full") == 0       # never below zero
    assert mcr.score(None, "full") == 10 and mcr.score(None, "zero") == 0
    wait = IndicatorRule("average_wait_s", 25, "lower", 8, 1, 1)
    assert wait.score(25, "full") == 8 and wait.score(27.2, "full") == 5


def test_henans_ties_go_to_the_higher_manual_connection_rate() -> None:
    """Seed 002 art. 10: "对考评中出现并列名次的，根据人工接通率区分名次先后"."""
    assert Rules.load().tie_break == ("manual_connection_rate",)
    rows = [CenterRow("a", {"manual_connection_rate": Ratio(90, 100)}, score=60),
            CenterRow("b", {"manual_connection_rate": Ratio(97, 100)}, score=60),
            CenterRow("c", {"manual_connection_rate": Ratio(0, 0)}, score=60),
            CenterRow("d", {"manual_connection_rate": Ratio(90, 100)}, score=60),
            CenterRow("e", {"manual_connection_rate": Ratio(50, 100)}, score=66)]
    assessment.rank(rows, Rules.load().tie_break)
    assert [(r.center, r.rank) for r in rows] == [("e", 1), ("b", 2), ("a", 3), ("d", 3),
                                                  ("c", 5)]


def fill_march(db_engine) -> None:
    with Session(db_engine) as s, s.begin():
        # 大连: 4 calls queued, all answered within 10 s; 2 consultation orders on the call.
        for i in range(4):
            queued(s, f"d{i}", "大连市", MARCH + timedelta(minutes=i), "answered", wait=8)
        # 鞍山: 4 calls queued, 3 answered after 30 s, 1 abandoned; 7 outages of 1 h each.
        for i in range(3):
            queued(s, f"a{i}", "鞍山市", MARCH + timedelta(minutes=i), "answered", wait=30)
        queued(s, "a3", "鞍山市", MARCH + timedelta(minutes=9), "abandoned", wait=50)
        for i in range(7):
            start = MARCH + timedelta(days=1, hours=2 * i)
            s.add(Outage(node="link:platform", center="鞍山市", started_at=start,
                         ended_at=start + timedelta(hours=1)))
        for c, uids in (("大连市", ("d0", "d1")), ("鞍山市", ("a0",))):
            for uid in uids:
                o = service.create(s, center=c, type="consultation", domain="highway",
                                   content="x", subject="y", call_uniqueid=uid, source="call",
                                   accepted_at=MARCH)
                service.answer_on_call(s, o, "seat")


def test_a_month_by_hand(db_engine) -> None:
    fill_march(db_engine)
    table = assessment.monthly_table(db_engine, 2026, 3)
    by = {r.center: r for r in table.rows}
    dl, as_ = by["大连市"], by["鞍山市"]
    assert dl.values["orders"] == 2 and as_.values["orders"] == 1
    assert dl.value("manual_connection_rate") == 1.0
    assert as_.value("manual_connection_rate") == pytest.approx(3 / 4)
    # 平均等待时长 from dialling 12328 (seed 002 art. 6 (四)): 5 s of IVR + 30 s in the queue
    assert as_.value("average_wait_s") == pytest.approx(35)
    # Order generation: 2 of 4 answered calls (大连), 1 of 3 (鞍山).
    assert dl.value("order_generation_rate") == pytest.approx(0.5)
    assert as_.value("order_generation_rate") == pytest.approx(1 / 3)
    # Nothing uploaded, no report handed in: 0 of 4 and 0 of 3 call records, and
    # the February report (due 3 March) was due and not made.
    assert dl.value("call_record_reporting_rate") == 0.0
    assert dl.values["timely_reporting_rate"] == Ratio(0, 1)
    assert as_.values["outage_count"] == 7 and as_.values["outage_hours"] == pytest.approx(7)
    rules = table.rules
    r = {x.key: x for x in rules.indicators}
    # 大连 misses: order generation (49.5 points short in 0.1 steps: 0), call records (0),
    # timely reporting (0); everything else is met or has no data (full).
    assert dl.scores["order_generation_rate"] == 0
    assert dl.scores["call_record_reporting_rate"] == 0
    assert dl.scores["timely_reporting_rate"] == 0
    assert dl.score == 67 - 2 - 2 - 2
    # 鞍山 also loses all 10 points of the connection rate (20 points short), all 8 for the
    # wait (35 s: 10 steps over 25), and outages: 3 over 4 (1.5) + 3 h over 4 h (1.5) = 3.
    assert as_.scores["manual_connection_rate"] == 0
    assert as_.scores["average_wait_s"] == 0 == r["average_wait_s"].points - 8
    assert as_.deduction == pytest.approx(3.0)
    assert as_.score == pytest.approx(67 - 6 - 10 - 8 - 3)
    assert [(x.center, x.rank) for x in table.rows] == [("大连市", 1), ("鞍山市", 2)]


def test_quarter_and_year_roll_ups(db_engine, tmp_path: Path) -> None:
    fill_march(db_engine)
    with Session(db_engine) as s, s.begin():  # January: 鞍山 perfect on calls, 大连 absent
        for i in range(2):
            queued(s, f"j{i}", "鞍山市", datetime(2026, 1, 15, 2) + timedelta(minutes=i),
                   "answered", wait=5)
    q1 = assessment.quarter_tables(db_engine, 2026, 1)
    assert [t.title for t in q1.months] == ["2026年1月", "2026年3月"]  # February had nothing
    assert assessment.quarter_tables(db_engine, 2026, 3).rows == []  # nothing to rank
    jan = {r.center: r.score for r in q1.months[0].rows}
    mar = {r.center: r.score for r in q1.months[1].rows}
    by = {r.center: r for r in q1.rows}
    assert by["鞍山市"].score == pytest.approx(round((jan["鞍山市"] + mar["鞍山市"]) / 2, 2))
    assert by["大连市"].score == pytest.approx(mar["大连市"])  # the mean of the months it had
    # The year: plus the year's adjustments, which need a reason.
    adj = tmp_path / "adj.toml"
    adj.write_text('[[adjustment]]\ncenter = "鞍山市"\npoints = 2\nreason = "省级表彰"\n',
                   encoding="utf-8")
    year = assessment.year_tables(db_engine, 2026, adjustments=assessment.load_adjustments(adj))
    assert {r.center: r.score for r in year.rows}["鞍山市"] == pytest.approx(
        by["鞍山市"].score + 2)
    adj.write_text('[[adjustment]]\ncenter = "鞍山市"\npoints = 2\n', encoding="utf-8")
    with pytest.raises(RulesError, match="reason"):
        assessment.load_adjustments(adj)
    with pytest.raises(ValueError, match="quarter"):
        assessment.quarter_tables(db_engine, 2026, 5)


def test_uploads_and_timely_reports(db_engine, tmp_path: Path) -> None:
    fill_march(db_engine)
    lo, hi = datetime(2026, 3, 1), datetime(2026, 4, 1)
    up = upward.upload(db_engine, lo, hi, tmp_path, center="大连市")
    lines = [json.loads(x) for x in up.path.read_text(encoding="utf-8").splitlines()]
    assert up.records == 4 and {x["uniqueid"] for x in lines} == {"d0", "d1", "d2", "d3"}
    assert upward.upload(db_engine, lo, hi, tmp_path, center="大连市").records == 0  # once
    from queue_stats.order_indicators import order_indicators_by
    rates = {c: o.call_record_reporting for c, o in order_indicators_by(db_engine, lo, hi,
                                                                         "center").items()}
    assert rates["大连市"] == Ratio(4, 4) and rates["鞍山市"] == Ratio(0, 4)
    # February's report handed in on 2 March (on time), January's never: in March's table
    # only February's is due.
    upward.submit(db_engine, "大连市", "month", "二月", datetime(2026, 2, 1),
                     datetime(2026, 3, 1), at=datetime(2026, 3, 2, 1, 0))
    upward.submit(db_engine, "鞍山市", "month", "二月", datetime(2026, 2, 1),
                     datetime(2026, 3, 1), at=datetime(2026, 3, 4, 1, 0))   # late
    timely = upward.timely_reporting_by_center(db_engine, datetime(2026, 2, 28, 16),
                                                  datetime(2026, 3, 31, 16), ["大连市", "鞍山市"])
    assert timely == {"大连市": Ratio(1, 1), "鞍山市": Ratio(0, 1)}
    with pytest.raises(ValueError, match="kind"):
        upward.due_at("week", lo, hi)
    assert upward.due_at("special", datetime(2026, 2, 10), datetime(2026, 2, 18)) == \
        datetime(2026, 2, 20)
    assert upward.due_at("year", datetime(2025, 1, 1), datetime(2026, 1, 1)) == \
        datetime(2026, 1, 10)


def test_seat_report_by_hand(db_engine) -> None:
    from acd.history.models import SeatInterval
    from queue_stats.seats import seat_report

    # Shanghai days: 2026-03-10 starts at 2026-03-09 16:00 UTC.
    d0 = datetime(2026, 3, 9, 16, 0)

    def iv(state: str, h0: float, h1: float | None, reason: str = "", uid: str = "") -> SeatInterval:
        return SeatInterval(seat_id="8001", center="大连市", state=state, reason=reason,
                            uniqueid=uid, started_at=d0 + timedelta(hours=h0),
                            ended_at=None if h1 is None else d0 + timedelta(hours=h1))

    with Session(db_engine) as s, s.begin():
        s.add_all([iv("signed_out", 0, 8), iv("ready", 8, 9), iv("on_call", 9, 9.1, uid="x"),
                   iv("wrapup", 9.1, 9.15, uid="x"), iv("busy", 9.15, 9.65, "meal"),
                   iv("busy", 9.65, 9.75, "toilet"), iv("ready", 9.75, 23.5),
                   iv("busy", 23.5, 24.5, "meal"),      # across midnight
                   iv("signed_out", 24.5, None)])
        s.add(Call(uniqueid="x", linkedid="x", node="pbx1", center="大连市",
                   started_at=d0 + timedelta(hours=9), outcome="answered", seat_id="8001",
                   answered_at=d0 + timedelta(hours=9), talk_s=360.0))
    rows = seat_report(db_engine, d0, d0 + timedelta(days=2), now=d0 + timedelta(days=3))
    assert [(r.seat, r.day) for r in rows] == [("8001", "2026-03-10"), ("8001", "2026-03-11")]
    first, second = rows
    assert first.signed_in_s == pytest.approx(16 * 3600)       # 08:00-24:00
    assert first.busy_s == pytest.approx({"meal": 0.5 * 3600 + 0.5 * 3600, "toilet": 360})
    assert first.wrapup_s == pytest.approx(180)
    assert first.answered == 1
    assert first.average_handle_time_s.value == pytest.approx(360 + 180)
    assert second.signed_in_s == pytest.approx(0.5 * 3600) and second.busy_s == {
        "meal": pytest.approx(1800)}
    assert second.average_handle_time_s.value is None
    # Occupancy: on a call 6 min + wrap-up 3 min, of ready 1 h + 13.75 h + those 9 min.
    working = 0.15 * 3600
    assert first.occupancy.value == pytest.approx(working / (working + (1 + 13.75) * 3600))
    from queue_stats.seats import occupancy
    assert occupancy(rows).numerator == pytest.approx(working)
    assert second.occupancy.value is None  # only busy: no time available for calls


def test_the_province_is_its_centers_added_up(db_engine) -> None:
    from queue_stats.indicators import CallIndicators, add_up, call_indicators, call_indicators_by
    from queue_stats.order_indicators import order_indicators, order_indicators_by

    fill_march(db_engine)
    lo, hi = datetime(2026, 3, 1), datetime(2026, 4, 1)
    by = call_indicators_by(db_engine, lo, hi, "center")
    assert add_up(list(by.values()), None) == call_indicators(db_engine, lo, hi)
    orders = order_indicators_by(db_engine, lo, hi, "center")
    assert add_up(list(orders.values()), None) == order_indicators(db_engine, lo, hi)
    assert add_up([], "nothing") == "nothing"
    assert isinstance(add_up(list(by.values()), None), CallIndicators)
