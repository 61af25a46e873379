"""Work-order deadlines as seed 001 writes them (arts. 27, 32, 33, 34), counted in the
center's local days (Asia/Shanghai) while stored times stay naive UTC, the day of receipt not
counted (PRC Civil Code art. 201); orders taken between 00:00 and 08:00 Beijing time, when the
UTC date is still the day before; on SQLite and PostgreSQL. And migration 0012's backfill."""

from __future__ import annotations

from datetime import date, datetime

import pytest
from alembic.script import ScriptDirectory
from sqlalchemy import select, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from acd.history import db, migrate
from acd.orders import service
from acd.orders.models import Revisit, WorkOrder
from acd.orders.service import OrderError
from acd.orders.workdays import add_working_days
from hotline.localtime import to_utc

TZ = "Asia/Shanghai"


def utc(local: str) -> datetime:
    """A Beijing time as the database keeps it (naive UTC)."""
    return to_utc(datetime.fromisoformat(local), TZ)


def new(s: Session, type: str = "complaint", at: str = "2026-11-02T09:00",  # a Monday
        **kw) -> WorkOrder:  # type: ignore[no-untyped-def]
    return service.create(s, center="shenyang", type=type, domain="highway",
                          content="收费站多收费", subject="某收费站", source="web",
                          accepted_at=utc(at), timezone=TZ, **kw)


@pytest.mark.parametrize("local", ["2026-11-02T00:00", "2026-11-02T03:30",
                                   "2026-11-02T07:59:59"])
def test_an_order_taken_before_8_beijing_time_counts_from_that_day(db_engine, local) -> None:
    """Seed 001 art. 27: "对于不能即时答复的……应在3个工作日内予以转办" — 3 working days after
    the center's local day of acceptance. Before 08:00 Beijing time the UTC date is the day
    before: Monday 2 Nov gives Thursday 5 Nov, not Wednesday 4 Nov."""
    with Session(db_engine) as s, s.begin():
        o = new(s, at=local)
        assert o.accepted_at == utc(local) and o.accepted_at.date() == date(2026, 11, 1)
        assert o.transfer_due == date(2026, 11, 5)
        assert o.due is None and o.received_at is None   # no unit holds it yet
        sunday = new(s, at="2026-11-01T23:59:59")
        assert sunday.transfer_due == date(2026, 11, 4)


def test_the_units_clock_runs_from_the_day_it_received_the_transfer(db_engine) -> None:
    """Seed 001 art. 33: "对于信息咨询类事项，承办单位应当在接到转办事项之日起5个工作日内回复办理
    意见" (suggestions 10, complaints 30) — from the local day the unit received the transfer,
    not from acceptance, that day not counted."""
    with Session(db_engine) as s, s.begin():
        complaint = new(s)                                   # accepted Monday 2 Nov
        at = utc("2026-11-05T06:30")                          # Thursday, Beijing; UTC: Wed
        service.transfer(s, complaint, "seat", "沈阳市交通局", at=at, timezone=TZ)
        assert complaint.received_at == at
        assert complaint.due == add_working_days(date(2026, 11, 5), 30)[0] == date(2026, 12, 17)
        # Across National Day 2025 (1-8 Oct off, Saturday 11 Oct worked): received 30 Sep at
        # 07:00 Beijing time, a consultation is due 14 Oct (from the UTC date, 29 Sep: 13 Oct).
        consult = new(s, "consultation", at="2025-09-29T10:00")
        service.transfer(s, consult, "seat", "u", at=utc("2025-09-30T07:00"), timezone=TZ)
        assert consult.due == date(2025, 10, 14)
        suggestion = new(s, "suggestion")
        service.transfer(s, suggestion, "seat", "u", at=utc("2026-11-02T10:00"), timezone=TZ)
        assert suggestion.due == date(2026, 11, 16)           # 10 working days after Monday


def test_a_late_transfer_is_listed_while_it_waits_and_flagged_once_made(db_engine) -> None:
    """Seed 001 art. 27: "应在3个工作日内予以转办". Accepted Monday 2 Nov: due for transfer by
    Thursday 5 Nov (Beijing days). Still waiting on Friday: listed; transferred on Friday at
    07:00 Beijing time (Thursday in UTC): late, and the order says so for good."""
    with Session(db_engine) as s, s.begin():
        late, on_time = new(s), new(s)
        assert service.overdue(s, "shenyang", date(2026, 11, 5))["transfer"] == []
        lists = service.overdue(s, "shenyang", date(2026, 11, 6))
        assert [o.id for o in lists["transfer"]] == [late.id, on_time.id]
        assert service.transfer_overdue(late, date(2026, 11, 6))
        service.transfer(s, on_time, "seat", "u", at=utc("2026-11-05T23:30"), timezone=TZ)
        service.transfer(s, late, "seat", "u", at=utc("2026-11-06T07:00"), timezone=TZ)
        assert (late.transfer_late, on_time.transfer_late) == (True, False)
        assert service.overdue(s, "shenyang", date(2026, 11, 6))["transfer"] == []


def test_a_return_comes_within_two_working_days_of_receipt(db_engine) -> None:
    """Seed 001 art. 32: "不属于职责范围内的，应当在2个工作日内退回，并说明理由". Received on Friday
    6 Nov at 07:00 Beijing time (Thursday in UTC): Monday and Tuesday are its 2 working days
    (counted from the UTC date, Tuesday would be a third); Wednesday is too late. Returned, the
    order is the center's again: no unit deadline, 3 working days to transfer it anew."""
    with Session(db_engine) as s, s.begin():
        ok, late = new(s), new(s)
        for o in (ok, late):
            service.transfer(s, o, "seat", "u", at=utc("2026-11-06T07:00"), timezone=TZ)
        service.return_(s, ok, "unit", "不属本单位职责", at=utc("2026-11-10T20:00"), timezone=TZ)
        assert (ok.status, ok.due, ok.received_at, ok.handling_unit) == ("returned", None,
                                                                          None, "")
        assert ok.transfer_due == date(2026, 11, 13)
        with pytest.raises(OrderError, match="within 2 working days of receiving"):
            service.return_(s, late, "unit", "不属本单位职责", at=utc("2026-11-11T09:00"),
                            timezone=TZ)
        with pytest.raises(OrderError, match="needs a reason"):
            service.return_(s, late, "unit", "  ", at=utc("2026-11-09T09:00"), timezone=TZ)


def test_a_re_transfer_after_a_return_starts_the_units_clock_again(db_engine) -> None:
    """Seed 001 arts. 32-34: the unit that received the order on 2 Nov asked for 5 more days,
    then returned it on the 4th (art. 32); the unit that receives it on 9 Nov has its own 30
    working days from that day (art. 33) and may ask for its own extension (art. 34)."""
    with Session(db_engine) as s, s.begin():
        o = new(s)
        service.transfer(s, o, "seat", "第一承办单位", at=utc("2026-11-02T10:00"), timezone=TZ)
        service.extend(s, o, "unit", 5, "需现场核实", at=utc("2026-11-03T10:00"), timezone=TZ)
        assert o.due == add_working_days(add_working_days(date(2026, 11, 2), 30)[0], 5)[0]
        service.return_(s, o, "unit", "不属本单位职责", at=utc("2026-11-04T10:00"), timezone=TZ)
        assert o.transfer_due == date(2026, 11, 9)            # 3 working days from the return
        service.transfer(s, o, "seat", "第二承办单位", at=utc("2026-11-09T08:00"), timezone=TZ)
        assert o.received_at == utc("2026-11-09T08:00")
        assert o.due == add_working_days(date(2026, 11, 9), 30)[0]
        assert o.extended_days == 0 and not o.transfer_late
        service.extend(s, o, "unit", 30, "涉及多方主体", at=utc("2026-11-13T10:00"), timezone=TZ)
        assert o.due == add_working_days(add_working_days(date(2026, 11, 9), 30)[0], 30)[0]


def test_one_extension_of_at_most_30_working_days_asked_before_the_deadline(db_engine) -> None:
    """Seed 001 art. 34: "可以延长办理期限，但延长时间不得超过30个工作日……承办单位应当提前反馈
    12328服务中心". A consultation received Monday 2 Nov is due Monday 9 Nov: at 23:30 that
    Beijing day it may still be extended; at 00:30 on the 10th (still the 9th in UTC) not."""
    with Session(db_engine) as s, s.begin():
        a, b = new(s, "consultation"), new(s, "consultation")
        for o in (a, b):
            service.transfer(s, o, "seat", "u", at=utc("2026-11-02T10:00"), timezone=TZ)
        assert a.due == b.due == date(2026, 11, 9)
        with pytest.raises(OrderError, match="1 to 30 working days"):
            service.extend(s, a, "unit", 31, "太久", at=utc("2026-11-03T10:00"), timezone=TZ)
        with pytest.raises(OrderError, match="has passed"):
            service.extend(s, b, "unit", 3, "晚了", at=utc("2026-11-10T00:30"), timezone=TZ)
        service.extend(s, a, "unit", 3, "需专业鉴定", at=utc("2026-11-09T23:30"), timezone=TZ)
        assert a.due == date(2026, 11, 12)
        with pytest.raises(OrderError, match="extended already"):
            service.extend(s, a, "unit", 1, "again", at=utc("2026-11-10T10:00"), timezone=TZ)


def test_overdue_and_soon_by_the_centers_day(db_engine) -> None:
    """Seed 001 art. 35: "对于回复办理期限届满仍未办结的，应当提醒承办单位" — the lists are of the
    center's `today`; due on Monday 9 Nov is due soon that day and overdue on the 10th."""
    with Session(db_engine) as s, s.begin():
        o = new(s, "consultation")
        service.transfer(s, o, "seat", "u", at=utc("2026-11-02T10:00"), timezone=TZ)
        on_the_day = service.overdue(s, "shenyang", date(2026, 11, 9))
        assert (on_the_day["overdue"], [x.id for x in on_the_day["soon"]]) == ([], [o.id])
        assert [x.id for x in service.overdue(s, "shenyang", date(2026, 11, 10))["overdue"]] \
            == [o.id]
        service.reply(s, o, "unit", "已答复", at=utc("2026-11-10T09:00"))
        assert service.overdue(s, "shenyang", date(2026, 11, 10))["overdue"] == []


# --- migration 0012 on existing rows ------------------------------------------------------------

ORDER_COLUMNS = dict(center="shenyang", source="web", type="complaint", domain="highway",
                     sub_item="", caller_number="", caller_name="", subject="s", content="c",
                     seat_id="", answered_on_call=False, handling_unit="", cross_region=False,
                     region="", refusal="", extended_days=0, calendar_estimated=False, reply="",
                     nonconformity="", accepted_at=datetime(2026, 11, 2, 1),
                     transfer_due=date(2026, 11, 5), due=date(2026, 12, 14),
                     transferred_at=None, status="accepted")


def test_migration_0012_fills_the_units_clock_and_keeps_one_revisit_a_day(db_engine,
                                                                          tmp_path) -> None:
    """Existing orders: received_at from the transfer, no deadline where no unit holds the
    order, transfer_late from the Beijing day of the transfer against art. 27's day; the
    revisits the old sampler doubled: one a day, the one with a result kept."""
    url = db_engine.url.render_as_string(hide_password=False)
    before = ScriptDirectory.from_config(migrate.config(url)).get_revision(
        "5c1e0a2b7d12").down_revision
    if db_engine.dialect.name == "postgresql":   # the same server, its schema emptied
        with db_engine.begin() as conn:
            conn.execute(text("DROP SCHEMA public CASCADE"))
            conn.execute(text("CREATE SCHEMA public"))
        engine = db_engine
    else:
        engine = db.make_engine(f"sqlite:///{tmp_path / 'before-0012.sqlite'}")
    migrate.upgrade(engine, before)
    rows = [
        dict(status="closed", answered_on_call=True, type="consultation"),     # 1 instant
        dict(status="transferred", handling_unit="u",
             transferred_at=datetime(2026, 11, 5, 23)),                        # 2 Fri Beijing
        dict(status="replied", handling_unit="u", transferred_at=datetime(2026, 11, 5, 10)),
        dict(status="returned", transferred_at=datetime(2026, 11, 3, 10)),     # 4
    ]
    revisits = [(3, date(2026, 11, 6), None), (3, date(2026, 11, 6), datetime(2026, 11, 6, 3)),
                (3, date(2026, 11, 6), None), (3, date(2026, 11, 7), None),
                (3, date(2026, 11, 7), None), (3, date(2026, 11, 8), datetime(2026, 11, 8, 3)),
                (3, date(2026, 11, 8), datetime(2026, 11, 8, 4))]
    with engine.begin() as conn:
        for i, r in enumerate(rows, start=1):
            values = {**ORDER_COLUMNS, **r, "id": i}
            conn.execute(text(f"INSERT INTO work_orders ({', '.join(values)}) VALUES "
                              f"({', '.join(':' + k for k in values)})"), values)
        for order_id, day, done in revisits:
            conn.execute(text("INSERT INTO revisits (order_id, sampled_on, done_at, notes, by) "
                              "VALUES (:o, :d, :t, '', '')"), {"o": order_id, "d": day, "t": done})
    migrate.upgrade(engine)
    with Session(engine) as s:
        o = {x.id: x for x in s.scalars(select(WorkOrder))}
        assert [o[i].due for i in (1, 2, 3, 4)] == [None, date(2026, 12, 14),
                                                    date(2026, 12, 14), None]
        assert [o[i].received_at for i in (1, 2, 3, 4)] == [
            None, datetime(2026, 11, 5, 23), datetime(2026, 11, 5, 10), None]
        assert [o[i].transfer_late for i in (1, 2, 3, 4)] == [False, True, False, False]
        kept = s.execute(select(Revisit.id, Revisit.sampled_on, Revisit.done_at)
                         .order_by(Revisit.id)).all()
        assert [(r.id, r.sampled_on) for r in kept] == [(2, date(2026, 11, 6)),
                                                        (4, date(2026, 11, 7)),
                                                        (6, date(2026, 11, 8))]
        assert all(r.assigned_to == "" for r in s.scalars(select(Revisit)))
    with pytest.raises(IntegrityError), Session(engine) as s, s.begin():
        s.add(Revisit(order_id=3, sampled_on=date(2026, 11, 6)))
