"""Work orders: every transition and every refusal, deadlines across real holidays, revisit
sampling, knowledge search in Chinese, conformity and retention; on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import select
from sqlalchemy.orm import Session

from acd.orders import knowledge, service
from acd.orders.models import OrderEvent, Revisit, WorkOrder
from acd.orders.service import OrderError
from acd.orders.workdays import add_working_days, is_workday
from tests.support.examples import examples

AT = datetime(2026, 11, 2, 9, 0)  # a Monday


def new(s: Session, type: str = "complaint", **kw) -> WorkOrder:  # type: ignore[no-untyped-def]
    args = dict(center="shenyang", type=type, domain="highway", content="收费站多收费",
                caller_number="13800001234", subject="某收费站", call_uniqueid=None,
                source="web", accepted_at=AT)
    args.update(kw)
    return service.create(s, **args)


def test_every_transition_and_its_history(db_engine) -> None:
    with Session(db_engine) as s, s.begin():
        o = new(s)
        service.transfer(s, o, "seat-8001", "沈阳市交通局", at=AT + timedelta(hours=1))
        service.return_(s, o, "unit", "不属本单位职责", at=AT + timedelta(days=1))
        service.transfer(s, o, "seat-8001", "辽宁高速集团", at=AT + timedelta(days=1, hours=2))
        service.extend(s, o, "unit", 10, "需现场核实", at=AT + timedelta(days=2))
        service.reply(s, o, "unit", "已退还多收费用", at=AT + timedelta(days=8))
        service.close(s, o, "seat-8001")
        service.archive(s, o, "admin")
        a = new(s, "consultation", content="ETC怎么办理")
        service.answer_on_call(s, a, "seat-8002", "可在银行网点办理")
        r = new(s, "complaint", content="铁路晚点")
        service.refuse(s, r, "seat-8003", "out_of_remit")
        service.archive(s, r, "admin")
        order_id = o.id
    with Session(db_engine) as s:
        o = s.get(WorkOrder, order_id)
        assert [e.action for e in o.history] == ["accept", "transfer", "return", "transfer",
                                                 "extend", "reply", "close", "archive"]
        assert [e.to_status for e in o.history][-1] == "archived"
        assert o.extended_days == 10 and o.handling_unit == "辽宁高速集团"
        # the second unit's 30 working days run from the day it received the order (3 Nov)
        assert o.due == add_working_days(add_working_days(date(2026, 11, 3), 30)[0], 10)[0]
        answered = s.scalars(select(WorkOrder).where(WorkOrder.type == "consultation")).one()
        assert answered.status == "closed" and answered.answered_on_call


@pytest.mark.parametrize(("steps", "message"), [
    (lambda s, o: service.reply(s, o, "x", "hi"), "cannot reply an order that is accepted"),
    (lambda s, o: service.close(s, o, "x"), "cannot close an order that is accepted"),
    (lambda s, o: service.refuse(s, o, "x", "because"), "refusal reason must be one of"),
    (lambda s, o: service.transfer(s, o, "x", " "), "names the handling unit"),
    (lambda s, o: (service.transfer(s, o, "x", "u", at=AT),
                   service.extend(s, o, "x", 31, "long", at=AT)), "1 to 30 working days"),
    (lambda s, o: (service.transfer(s, o, "x", "u", at=AT),
                   service.extend(s, o, "x", 5, "a", at=AT),
                   service.extend(s, o, "x", 5, "b", at=AT)), "extended already"),
    (lambda s, o: (service.transfer(s, o, "x", "u", at=AT),
                   service.return_(s, o, "u", "no", at=AT + timedelta(days=7))),
     "within 2 working days"),
    (lambda s, o: (service.transfer(s, o, "x", "u", at=AT), service.return_(s, o, "u", " ")),
     "needs a reason"),
    (lambda s, o: service.archive(s, o, "x"), "cannot archive an order that is accepted"),
    (lambda s, o: service.reopen(s, o, "x", "r"), "cannot reopen an order that is accepted"),
])
def test_each_refusal(db_engine, steps, message) -> None:
    with Session(db_engine) as s, s.begin():
        o = new(s)
        with pytest.raises(OrderError, match=message):
            steps(s, o)


def test_bad_fields_and_one_order_per_call(db_engine) -> None:
    with Session(db_engine) as s, s.begin():
        with pytest.raises(OrderError, match="type must be"):
            new(s, "praise")
        with pytest.raises(OrderError, match="domain must be"):
            new(s, domain="railway")
        new(s, call_uniqueid="pbx1-1.1", source="call")
        with pytest.raises(OrderError, match="has a work order already"):
            new(s, call_uniqueid="pbx1-1.1", source="call")


def test_deadlines_across_real_holidays() -> None:
    # Accepted 2021-02-10, the eve of the Spring Festival break (11-17 Feb off, 20 Feb a
    # swapped workday): consultation due 5 working days later is 23 Feb.
    assert add_working_days(date(2021, 2, 10), 5) == (date(2021, 2, 23), False)
    assert add_working_days(date(2021, 2, 10), 3) == (date(2021, 2, 20), False)
    # 2021-09-18 was a Saturday worked in exchange for the Mid-Autumn holiday.
    assert add_working_days(date(2021, 9, 17), 1) == (date(2021, 9, 18), False)
    assert add_working_days(date(2021, 9, 18), 1) == (date(2021, 9, 22), False)
    # Beyond the calendar package's years: weekdays, flagged as an estimate.
    day, estimated = add_working_days(date(2035, 6, 1), 5)
    assert estimated and day == date(2035, 6, 8)


@settings(max_examples=examples(200), deadline=None)
@given(st.dates(min_value=date(2019, 1, 1), max_value=date(2025, 12, 1)),
       st.sampled_from([2, 3, 5, 10, 30]))
def test_a_deadline_is_a_working_day_and_never_early(start: date, days: int) -> None:
    due, estimated = add_working_days(start, days)
    assert is_workday(due)[0] and not estimated
    assert due >= start + timedelta(days=days)


@settings(max_examples=examples(60), deadline=None)
@given(st.lists(st.sampled_from(["complaint", "consultation", "suggestion"]), max_size=40),
       st.integers(0, 10_000))
def test_revisit_sample_covers_30_percent_and_every_complaint(tmp_path_factory, types,
                                                               seed) -> None:
    from acd.history import db
    engine = db.make_engine(f"sqlite:///{tmp_path_factory.mktemp('r') / 'r.sqlite'}")
    db.create_schema(engine)
    day = date(2026, 11, 3)
    with Session(engine) as s, s.begin():
        for t in types:
            o = new(s, t)
            service.transfer(s, o, "x", "u", at=AT)
            service.reply(s, o, "u", "done", at=datetime.combine(day, datetime.min.time())
                          + timedelta(hours=10))
        picked = [(r.order.id, r.order.type) for r in service.sample_revisits(
            s, "shenyang", day, seed=seed)]
    engine.dispose()
    assert len(picked) >= 0.3 * len(types)
    assert sum(1 for _, t in picked if t == "complaint") == types.count("complaint")
    assert len({i for i, _ in picked}) == len(picked)


def test_an_unsatisfied_revisit_reopens_the_order(db_engine) -> None:
    with Session(db_engine) as s, s.begin():
        o = new(s)
        service.transfer(s, o, "x", "u", at=AT)
        service.reply(s, o, "u", "done", at=AT + timedelta(days=1))
        service.close(s, o, "x")
        visit = Revisit(order_id=o.id, sampled_on=AT.date())
        s.add(visit)
        s.flush()
        with pytest.raises(OrderError):
            service.record_revisit(s, visit, "revisitor", reached=True, satisfaction=7)
        service.record_revisit(s, visit, "revisitor", reached=True, satisfaction=4,
                               notes="问题没解决")
        assert o.status == "accepted"
        assert s.scalars(select(OrderEvent).where(OrderEvent.order_id == o.id)
                         .order_by(OrderEvent.id.desc())).first().action == "reopen"


def test_overdue_and_soon_due(db_engine) -> None:
    with Session(db_engine) as s, s.begin():
        late = new(s, "consultation")            # received 2 Nov: due 5 working days on, 9 Nov
        service.transfer(s, late, "x", "u", at=AT)
        soon = new(s, "suggestion")              # received 2 Nov: due 16 Nov
        service.transfer(s, soon, "x", "u", at=AT)
        waiting = new(s, "complaint")            # never transferred: due at the unit 5 Nov
        lists = service.overdue(s, "shenyang", date(2026, 11, 13))
        assert [o.id for o in lists["overdue"]] == [late.id]
        assert [o.id for o in lists["soon"]] == [soon.id]
        assert [o.id for o in lists["transfer"]] == [waiting.id]


def test_knowledge_search_finds_words_inside_the_text(db_engine) -> None:
    with Session(db_engine) as s, s.begin():
        e = knowledge.add(s, "ETC卡办理", "高速公路电子不停车收费卡可以在合作银行网点办理，"
                          "需携带行驶证和身份证。", domain="highway", for_ivr=True)
        knowledge.add(s, "出租车投诉", "乘坐出租车遇到绕路、拒载，可拨打12328投诉。",
                      domain="urban_transit")
        knowledge.add(s, "过期的通知", "春运期间行驶证年审顺延。", valid_to=date(2020, 1, 1))
        today = date(2026, 11, 2)
        assert [x.id for x in knowledge.search(s, "行驶证", today)] == [e.id]  # mid-text; the
        assert [x.title for x in knowledge.search(s, "绕路", today)] == ["出租车投诉"]  # old one
        assert knowledge.search(s, "飞机", today) == []                          # expired
        knowledge.used(s, e.id)
        assert e.usage_count == 1


def test_conformity_and_retention(db_engine) -> None:
    with Session(db_engine) as s, s.begin():
        good = new(s)
        bad = new(s, caller_number="12", subject="")
        assert service.conformity(good) == []
        assert service.conformity(bad) == ["caller_number", "subject"]
        rate = service.conformity_rate(s, "shenyang", AT - timedelta(days=1),
                                       AT + timedelta(days=1))
        assert (rate.passing, rate.total) == (1, 2)
        old = new(s, accepted_at=datetime(2019, 3, 1, 9))
        service.refuse(s, old, "x", "out_of_remit")
        for ev in old.history:
            ev.at = datetime(2019, 3, 1, 10)
        recent = new(s, accepted_at=datetime(2021, 12, 1, 9))
        service.refuse(s, recent, "x", "out_of_remit")
        now = datetime(2026, 11, 23)
        plan = service.retention_plan(s, now)
        assert plan == [old.id]                 # nothing younger than 5 years
        assert service.purge(s, plan + [recent.id, good.id], now) == 1
        assert s.get(WorkOrder, recent.id) is not None and s.get(WorkOrder, good.id) is not None


def test_the_orders_commands(tmp_path) -> None:
    import os
    import subprocess
    import sys

    env = {**os.environ, "HOTLINE_VAR": str(tmp_path)}

    def hotline(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "hotline.shell.cli", "--log-level", "WARNING",
                               "orders", *args], env=env, capture_output=True, text=True,
                              timeout=60)

    made = hotline("create", "--type", "complaint", "--domain", "highway", "--content",
                   "收费站多收费", "--caller", "13800001234", "--subject", "某站",
                   "--source", "web")
    assert made.returncode == 0 and "138****1234" in made.stdout  # masked in lists
    bad_unit = hotline("transition", "1", "transfer", "--text", "高速集团")
    assert bad_unit.returncode == 2 and "unit: " in bad_unit.stderr  # not in [[units]]
    assert hotline("transition", "1", "transfer", "--text", "ln_expressway").returncode == 0
    refused = hotline("transition", "1", "close")
    assert refused.returncode == 2 and "only from replied" in refused.stderr
    csv_file = tmp_path / "in.csv"
    csv_file.write_text("type,domain,content\nconsultation,highway,ETC\nbad,highway,x\n",
                        encoding="utf-8")
    bad = hotline("import-csv", str(csv_file))
    assert bad.returncode == 2 and "line 3" in bad.stderr and "nothing imported" in bad.stderr
    listed = hotline("list")
    assert listed.stdout.count("#") == 1  # the failed import left nothing behind
    shown = hotline("show", "1")
    assert "accepted -> transferred ln_expressway" in shown.stdout
