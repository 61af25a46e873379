"""The back office end to end on SQLite and PostgreSQL, against the app on a real port and local
HTTP receivers standing in for 12345, the provincial platform and the SMS gateway:

- a handling unit receives, replies, returns with a reason and extends (seed 001 art. 32-34);
  an overdue order is reminded (art. 35) in its history and by SMS through the outbox;
- an order goes to another center and to the level above (上管一级), its history kept;
- 12345's orders arrive once per 12345 id and their results go back, retried until
  acknowledged, under one idempotency key;
- call records and reports are pushed to the platform: retried, resumed after an outage; the
  reporting rates (seed 002 art. 7: 通话记录报送率 = call records reported / call records)
  count what the platform acknowledged, and the platform link's outages are annex 4's 断网
  (count, total/average hours);
- the knowledge base goes out and comes back in one format.
"""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from acd.history.models import Call, Outage
from acd.history.upward import CallRecordUpload, ReportSubmission
from acd.orders import knowledge
from acd.orders.models import KnowledgeEntry, OrderEvent, WorkOrder
from acd.outbox import sender
from acd.outbox.models import OutboxMessage
from hotline.center import Peer
from queue_stats import assessment, upward
from queue_stats.order_indicators import order_indicators
from tests.support.backoffice import (
    back_office,
    center,
    receiver,
    sessions,
    token,
    unused_port,
)
from tests.test_orders_access import api


def utcnow() -> datetime:
    """The time it is (naive UTC, as stored). Read inside each test, never at import: the suite
    runs in random order and a clock taken at collection is minutes old by the time a test
    runs, so a round "5 minutes later" would fall before the real first round's retry."""
    return datetime.now(UTC).replace(tzinfo=None)


def deliver(engine, c, at=None, channels=("12345", "platform", "sms")):  # type: ignore[no-untyped-def]
    return asyncio.run(sender.deliver(sessions(engine), c, at=at, channels=channels))


def test_a_unit_works_its_orders_and_is_reminded_by_sms(db_engine) -> None:
    """Art. 32-35: the unit signs for the order, returns one that is not its own with a
    reason, extends another once (≤ 30 working days) and replies; an overdue order is reminded
    (催办) on the page's list and by SMS, which the gateway gets once even though its first
    answer was a 503."""
    with receiver(fail_with=[503]) as sms:
        c = center(sms_url=sms.url, retry_s=1)
        with back_office(db_engine, c) as (port, c):
            boss = token(db_engine, c, "boss", "supervisor")
            taxi = token(db_engine, c, "taxi", "unit", unit="sy_taxi")
            ids = []
            for text in ("出租车拒载", "出租车绕路", "公交不到站"):
                status, o = api(port, "POST", "/api/orders", boss, {
                    "type": "complaint", "domain": "urban_transit", "content": text,
                    "subject": "辽A00001", "source": "web"})
                assert status == 201
                assert api(port, "POST", f"/api/orders/{o['id']}/transfer", boss,
                           {"unit": "sy_taxi"})[1]["handling_unit_name"] == "沈阳市客运出租汽车管理处"
                ids.append(o["id"])
            first, second, third = ids
            mine = api(port, "GET", "/api/orders", taxi)[1]
            assert sorted(o["id"] for o in mine) == sorted(ids)
            assert api(port, "POST", f"/api/orders/{first}/receive", taxi)[0] == 200
            assert api(port, "POST", f"/api/orders/{first}/receive", taxi)[0] == 409  # once
            status, out = api(port, "POST", f"/api/orders/{third}/return", taxi, {"reason": ""})
            assert status == 400 and out["error"].startswith("reason")
            assert api(port, "POST", f"/api/orders/{third}/return", taxi,
                       {"reason": "公交不属本单位"})[1]["status"] == "returned"
            assert api(port, "GET", f"/api/orders/{third}", taxi)[0] == 404  # gone from it
            assert api(port, "POST", f"/api/orders/{second}/extend", taxi,
                       {"days": 31, "reason": "x"})[0] == 400
            assert api(port, "POST", f"/api/orders/{second}/extend", taxi,
                       {"days": 10, "reason": "需调取行车记录"})[1]["extended_days"] == 10
            assert api(port, "POST", f"/api/orders/{second}/extend", taxi,
                       {"days": 5, "reason": "again"})[0] == 409
            assert api(port, "POST", f"/api/orders/{first}/reply", taxi,
                       {"text": "已约谈驾驶员并退还车费"})[1]["status"] == "replied"
            # The second order is overdue (its deadline moved into the past, as a month on).
            with Session(db_engine) as s, s.begin():
                s.get(WorkOrder, second).due = utcnow().date() - timedelta(days=3)
            late = api(port, "GET", "/api/orders?overdue=1", taxi)[1]
            assert [o["id"] for o in late["overdue"]] == [second]
            assert api(port, "POST", f"/api/orders/{second}/remind", taxi)[0] == 403  # staff's
            assert api(port, "POST", f"/api/orders/{second}/remind", boss,
                       {"note": "请于今日回复"})[0] == 200
            listed = api(port, "GET", "/api/orders?overdue=1", taxi)[1]["overdue"][0]
            assert listed["reminders"] == 1 and listed["reminded_at"]
        # The SMS: a 503 first (the link is down: an outage), then acknowledged, once.
        t0 = utcnow()  # before the first round: its retry is due after t0 + retry_s
        first_round = deliver(db_engine, c)
        assert (first_round.sent, first_round.retried, first_round.down) == (0, 1, ["sms"])
        assert deliver(db_engine, c, at=t0).sent == 0  # not due again before retry_s
        assert deliver(db_engine, c, at=t0 + timedelta(hours=1)).sent == 1
        assert deliver(db_engine, c, at=t0 + timedelta(hours=2)).sent == 0  # nothing left
    assert len(sms.requests) == 2 and sms.requests[0]["key"] == sms.requests[1]["key"]
    body = sms.requests[1]["body"]
    assert body["to"] == "13800000003" and f"工单{second}" in body["text"] and "催办" in body["text"]
    with Session(db_engine) as s:
        links = s.scalars(select(Outage).where(Outage.node == "link:sms")).all()
        assert len(links) == 1 and links[0].ended_at is not None
        history = [e.action for e in s.scalars(select(OrderEvent).where(
            OrderEvent.order_id == first).order_by(OrderEvent.id))]
        assert history == ["accept", "transfer", "receive", "reply"]


def test_orders_between_centers_and_to_the_level_above(db_engine) -> None:
    """An order sent to another center of the province, then by it to the level above (上管一级):
    the same order with its whole history; each center sees it where it is, the first one
    still reads it, and the receiving center counts it as cross-region."""
    with back_office(db_engine) as (port, c):
        boss = token(db_engine, c, "boss", "supervisor")
        status, o = api(port, "POST", "/api/orders", boss, {
            "type": "complaint", "domain": "highway", "content": "大连收费站多收费",
            "subject": "某收费站", "source": "web"})
        oid = o["id"]
        assert api(port, "POST", f"/api/orders/{oid}/escalate", boss, {"reason": ""})[0] == 400
        status, moved = api(port, "POST", f"/api/orders/{oid}/forward", boss,
                            {"center": "dalian", "reason": "事发大连"})
        assert status == 200 and (moved["center"], moved["status"]) == ("dalian", "accepted")
        assert (moved["cross_region"], moved["region"], moved["origin_center"]) == \
            (True, "shenyang", "shenyang")
        # Shenyang reads it, no longer acts on it.
        assert api(port, "GET", f"/api/orders/{oid}", boss)[0] == 200
        assert api(port, "POST", f"/api/orders/{oid}/refuse", boss,
                   {"reason": "out_of_remit"})[0] == 403
    # Dalian's own app (its center file says it exchanges with Liaoning above it).
    dalian = replace(center(), code="dalian")
    dalian = replace(dalian, exchange=replace(dalian.exchange, upper="liaoning",
                                              peers=(Peer("liaoning", "辽宁省12328服务中心"),
                                                     Peer("shenyang", "沈阳市12328服务中心"))))
    with back_office(db_engine, dalian) as (port, c):
        dl = token(db_engine, c, "dalian-boss", "supervisor")
        assert [x["id"] for x in api(port, "GET", "/api/orders", dl)[1]] == [oid]
        status, up = api(port, "POST", f"/api/orders/{oid}/escalate", dl,
                         {"reason": "涉及省级高速集团"})
        assert status == 200 and up["center"] == "liaoning"
    with Session(db_engine) as s:
        events = s.scalars(select(OrderEvent).where(OrderEvent.order_id == oid)
                           .order_by(OrderEvent.id)).all()
        assert [(e.action, e.by) for e in events] == [("accept", "boss"), ("forward", "boss"),
                                                      ("escalate", "dalian-boss")]
        assert events[1].reason == "shenyang -> dalian: 事发大连"
        assert events[2].reason == "dalian -> liaoning: 涉及省级高速集团"


def test_orders_from_12345_once_and_their_results_back(db_engine) -> None:
    """Seed 001 art. 29 / seed 004: orders transferred from 12345. The same 12345 id twice is
    one order; its result goes back when it is closed, retried through a 500 and a refused
    connection, under one idempotency key, and the acknowledgement is in its history."""
    port_12345 = unused_port()
    c = center(hotline12345_url=f"http://127.0.0.1:{port_12345}/in", retry_s=1)
    with back_office(db_engine, c) as (port, c):
        partner = token(db_engine, c, "p12345", "partner")
        boss = token(db_engine, c, "boss", "supervisor")
        order = {"id": "SH2021-000123", "type": "consultation", "domain": "urban_transit",
                 "content": "地铁末班车几点", "caller_number": "13700000000"}
        first = api(port, "POST", "/api/12345/orders", partner, order)
        again = api(port, "POST", "/api/12345/orders", partner, {**order, "content": "改了"})
        assert (first[0], again[0]) == (201, 200) and first[1]["id"] == again[1]["id"]
        assert api(port, "POST", "/api/12345/orders", boss, order)[0] == 403
        assert api(port, "POST", "/api/12345/orders", partner, {**order, "id": "x y"})[0] == 400
        assert api(port, "GET", f"/api/orders/{first[1]['id']}", partner)[0] == 403
        oid = first[1]["id"]
        for action, body in (("transfer", {"unit": "sy_transport"}), ("reply",
                             {"text": "末班车22:30"}), ("close", {})):
            assert api(port, "POST", f"/api/orders/{oid}/{action}", boss, body)[0] == 200
    t0 = utcnow()  # before the first round: its retry is due after t0 + retry_s
    assert deliver(db_engine, c).down == ["12345"]  # 12345 is not there yet
    with receiver(fail_with=[500], port=port_12345) as h12345:
        assert deliver(db_engine, c, at=t0 + timedelta(minutes=5)).retried == 1
        assert deliver(db_engine, c, at=t0 + timedelta(hours=1)).sent == 1
        assert deliver(db_engine, c, at=t0 + timedelta(hours=2)).sent == 0
    assert len(h12345.requests) == 2 and len({r["key"] for r in h12345.requests}) == 1
    result = h12345.requests[-1]["body"]
    assert (result["id"], result["status"], result["reply"]) == ("SH2021-000123", "closed",
                                                                 "末班车22:30")
    with Session(db_engine) as s:
        o = s.get(WorkOrder, oid)
        assert (o.source, o.external_id) == ("12345", "SH2021-000123")
        assert o.history[-1].action == "result_sent"
        assert len(s.scalars(select(WorkOrder)).all()) == 1


def test_upward_push_counts_what_the_platform_acknowledged(db_engine) -> None:
    """Seed 002 art. 7: 通话记录报送率 = call records reported / call records; 数据报送及时率 =
    reports on time / reports due. With the platform down, nothing counts and the link's
    outage is recorded (annex 4: 断网次数, 断网时长 total/average); once it is back, the push
    resumes, batches keep their idempotency keys, and the rates count what it acknowledged."""
    port_platform = unused_port()
    c = center(platform_url=f"http://127.0.0.1:{port_platform}/in", retry_s=1)
    c = replace(c, code="dalian")
    start = datetime(2026, 3, 10, 2, 0)
    with Session(db_engine) as s, s.begin():
        for i in range(5):
            at = start + timedelta(minutes=i)
            s.add(Call(uniqueid=f"dl-{i}", linkedid=f"dl-{i}", node="pbx1", center="dalian",
                       started_at=at, ended_at=at + timedelta(minutes=2), outcome="answered",
                       answered_at=at, seat_id="8001"))
        s.add(Call(uniqueid="dl-live", linkedid="dl-live", node="pbx1", center="dalian",
                   started_at=start, outcome="answered"))  # still going: not yet sent
    assert upward.enqueue_report(db_engine, "dalian", "month", "2026年2月",
                                 datetime(2026, 2, 1), datetime(2026, 3, 1))
    assert not upward.enqueue_report(db_engine, "dalian", "month", "2026年2月",
                                     datetime(2026, 2, 1), datetime(2026, 3, 1))
    n, done = asyncio.run(upward.push(db_engine, c))
    assert (n, done.sent, done.down) == (5, 0, ["platform"])
    assert asyncio.run(upward.push(db_engine, c))[0] == 0  # queued once

    def reported() -> tuple[int, int]:
        r = order_indicators(db_engine, start - timedelta(hours=1), start + timedelta(hours=1),
                             "dalian").call_record_reporting
        return r.numerator, r.denominator
    assert reported() == (0, 6)
    later = start + timedelta(days=2)
    with receiver(fail_with=[], port=port_platform) as platform:
        done = deliver(db_engine, c, at=datetime.now(UTC).replace(tzinfo=None)
                       + timedelta(hours=1), channels=("platform",))
    assert done.sent == 6 and not done.down
    paths = sorted(r["path"] for r in platform.requests)
    assert paths == ["/in/call-records", "/in/reports"]
    batch = next(r for r in platform.requests if r["path"] == "/in/call-records")
    assert len(batch["body"]["records"]) == 5 and batch["key"].startswith("calls-")
    assert reported() == (5, 6)
    with Session(db_engine) as s:
        assert len(s.scalars(select(CallRecordUpload)).all()) == 5
        sub = s.scalars(select(ReportSubmission)).one()
        assert sub.title == "2026年2月" and sub.submitted_at > later
        outage = s.scalars(select(Outage).where(Outage.node == "link:platform")).one()
        assert outage.ended_at is not None
        assert s.scalars(select(OutboxMessage).where(OutboxMessage.state != "sent")).all() == []
    # The assessment's 断网: this link's outage, counted and timed (an AMI loss is not one).
    with Session(db_engine) as s, s.begin():
        s.add(Outage(node="pbx1", center="dalian", started_at=outage.started_at,
                     ended_at=outage.started_at + timedelta(hours=5)))
    lo, hi = outage.started_at - timedelta(days=1), outage.started_at + timedelta(days=1)
    got = assessment.outages_by_center(db_engine, lo, hi)["dalian"]
    assert got[0] == 1 and got[1] == pytest.approx(
        (outage.ended_at - outage.started_at).total_seconds() / 3600)


def test_the_knowledge_base_goes_out_and_comes_back(db_engine) -> None:
    """One documented format both ways (docs/knowledge-exchange.md): an export imported into
    another center adds every entry; the same document again changes nothing; an entry edited
    at the source updates the copy by its ref; a bad document is refused, naming the entry and
    the field, with nothing written."""
    with Session(db_engine) as s, s.begin():
        knowledge.add(s, "ETC卡办理", "可在合作银行网点办理。", "highway", for_ivr=True)
        knowledge.add(s, "出租车投诉", "遇到绕路可拨打12328。", "urban_transit")
    with back_office(db_engine) as (port, c):
        boss = token(db_engine, c, "boss", "supervisor")
        partner = token(db_engine, c, "p12345", "partner")
        doc = api(port, "GET", "/api/kb/export", partner)[1]
        assert doc["format"] == "hotline12328-kb/1" and len(doc["entries"]) == 2
        assert api(port, "POST", "/api/kb/import", partner, doc)[0] == 403
        assert api(port, "POST", "/api/kb/import", boss, doc)[1] == \
            {"added": 0, "updated": 0, "unchanged": 2}  # its own entries, by ref
        theirs = {"format": "hotline12328-kb/1", "center": "12345", "entries": [
            {"ref": "12345:KB-9", "title": "地铁末班车", "body": "末班车22:30。",
             "domain": "urban_transit", "for_ivr": False, "valid_from": "2026-01-01",
             "valid_to": None}]}
        assert api(port, "POST", "/api/kb/import", boss, theirs)[1]["added"] == 1
        assert api(port, "POST", "/api/kb/import", boss, theirs)[1]["unchanged"] == 1
        theirs["entries"][0]["body"] = "末班车23:00。"
        assert api(port, "POST", "/api/kb/import", boss, theirs)[1]["updated"] == 1
        bad = {**theirs, "entries": [{**theirs["entries"][0], "title": ["x"]}]}
        status, out = api(port, "POST", "/api/kb/import", boss, bad)
        assert status == 400 and out["error"].startswith("entries[0].title")
    with Session(db_engine) as s:
        assert [e.title for e in knowledge.search(s, "末班车", center().today())] == ["地铁末班车"]
        assert s.scalars(select(KnowledgeEntry.body).where(
            KnowledgeEntry.ref == "12345:KB-9")).one() == "末班车23:00。"
        assert len(knowledge.export(s, "shenyang")["entries"]) == 3
