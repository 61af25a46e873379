"""Revisits (抽查回访, seed 001 art. 23; the figures of seed 002 art. 7 (四)(五)): the day's
list per revisit worker (every complaint, at least 30 %, never twice), each result recorded by
the service, the CLI, the API and the Chinese page in Debian's chromium (the web app served in
this process on the real database), an unsatisfied caller reopening the order, and the two
revisit indicators counted from these records; on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import json
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, datetime, timedelta
from types import SimpleNamespace
from zoneinfo import ZoneInfo

import pytest
from aiohttp import web
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from acd.api import tokens
from acd.errors import Forbidden, NotFound
from acd.history import db
from acd.orders import service
from acd.orders.models import OrderEvent, Revisit, WorkOrder
from acd.orders.service import OrderError
from acd.web import users
from hotline import center as center_mod
from hotline.localtime import now_utc, to_utc
from queue_stats.indicators import Ratio
from queue_stats.order_indicators import order_indicators
from tests.support.browser import ARTIFACTS, launch, log_in, require_chromium
from tests.support.cli import in_process
from tests.support.real import free_port
from tests.test_web import Client

TZ = "Asia/Shanghai"
CENTER = center_mod.load(center_mod.EXAMPLE)   # code "shenyang", Asia/Shanghai
DAY = date(2026, 11, 3)


def utc(local: str) -> datetime:
    return to_utc(datetime.fromisoformat(local), TZ)


def replied(s: Session, type: str, at: datetime, content: str = "收费站多收费",
            close: bool = False) -> WorkOrder:
    """A transferred order its unit replied to at `at` (naive UTC)."""
    o = service.create(s, center=CENTER.code, type=type, domain="highway", content=content,
                       subject="某收费站", caller_number="13800001234", source="web",
                       accepted_at=at - timedelta(days=1), timezone=TZ)
    service.transfer(s, o, "seat", "辽宁高速集团", at=at - timedelta(hours=20), timezone=TZ)
    service.reply(s, o, "unit", "已退还多收费用", at=at)
    if close:
        service.close(s, o, "seat", at=at + timedelta(hours=1))
    return o


def test_the_days_list_every_complaint_at_least_30_percent_never_twice(db_engine) -> None:
    """Seed 001 art. 23 (三): "定期对已回复的所有工单抽样回访，回访率不低于30%（对投诉举报类业务
    工单，回访率要达到100%）". The day is Beijing's: a reply at 07:00 on 3 Nov (23:00 UTC on the
    2nd) is in the 3rd's list, one at 00:30 on the 4th (still the 3rd in UTC) is not. The
    sampler run again adds nothing; run after more replies, it adds only what they need; the
    list is shared among the workers, fewest first."""
    with Session(db_engine) as s, s.begin():
        complaint = replied(s, "complaint", utc("2026-11-03T07:00"))
        for h in range(10, 19):
            replied(s, "consultation", utc(f"2026-11-03T{h}:00"))
        tomorrow = replied(s, "complaint", utc("2026-11-04T00:30"))
        day_list = service.sample_revisits(s, CENTER.code, DAY, seed=1, workers=["lin", "wang"],
                                           timezone=TZ)
        orders = [r.order for r in day_list]
        assert len(day_list) == 3                          # ceil(30 % of 10)
        assert complaint in orders and tomorrow not in orders
        assert sorted(r.assigned_to for r in day_list) == ["lin", "lin", "wang"]
        again = service.sample_revisits(s, CENTER.code, DAY, seed=2, workers=["lin", "wang"],
                                        timezone=TZ)
        assert [r.id for r in again] == [r.id for r in day_list]
        assert s.scalar(select(func.count()).select_from(Revisit)) == 3
        # Later that day: 5 more replies, one a complaint. 15 replied: 5 to call back.
        late_complaint = replied(s, "complaint", utc("2026-11-03T20:00"))
        for h in range(20, 24):
            replied(s, "consultation", utc(f"2026-11-03T{h}:30"))
        topped = service.sample_revisits(s, CENTER.code, DAY, workers=["lin", "wang"],
                                         timezone=TZ)
        assert len(topped) == 5 and late_complaint in [r.order for r in topped]
        assert [r.id for r in topped[:3]] == [r.id for r in day_list]
        assert sorted(r.assigned_to for r in topped) == ["lin", "lin", "lin", "wang", "wang"]
        lins = service.revisits_of(s, CENTER.code, DAY, "lin")
        assert len(lins) == 3 and {r.assigned_to for r in lins} == {"lin"}
        assert service.sample_revisits(s, CENTER.code, DAY + timedelta(days=1), timezone=TZ)[0] \
            .order == tomorrow


def test_results_reopen_the_unsatisfied_and_make_the_revisit_figures(db_engine) -> None:
    """Seed 002 art. 7 (四): "抽查回访率：抽查回访的转办工单量与办结的转办工单总量的比率"; (五):
    "回访满意率：抽查回访得到满意、非常满意评价的转办工单量与参与评价的抽查回访转办工单总量的比率".
    Seed 001 art. 46: the center hears the caller's view of the unit's work. Four orders closed
    in November; reached and very satisfied, reached and not satisfied (the order goes back to
    the center: reopened, to be transferred again), not reached then reached and satisfied,
    not reached (a try is not a revisit): revisit rate 2 of the 3 still closed, satisfaction
    2 of 3 rated."""
    with Session(db_engine) as s, s.begin():
        orders = [replied(s, "complaint", utc(f"2026-11-03T1{i}:00"), close=True)
                  for i in range(4)]
        day_list = service.sample_revisits(s, CENTER.code, DAY, workers=["lin"], timezone=TZ)
        by = {r.order_id: r for r in day_list}
        r1, r2, r3 = (by[o.id] for o in orders[:3])
        at = utc("2026-11-04T10:00")
        service.record_revisit(s, r1, "lin", True, 1, "很满意", at=at, timezone=TZ)
        service.record_revisit(s, r2, "lin", True, 4, "问题没解决", at=at, timezone=TZ)
        service.record_revisit(s, r3, "lin", False, None, "无人接听", at=at, timezone=TZ)
        service.record_revisit(s, r3, "lin", True, 2, "", at=at + timedelta(hours=2),
                               timezone=TZ)
        reopened = orders[1]
        assert (reopened.status, reopened.due, reopened.closed_at) == ("accepted", None, None)
        assert reopened.transfer_due == date(2026, 11, 9)   # 3 working days from the 4th
        last = s.scalars(select(OrderEvent).where(OrderEvent.order_id == reopened.id)
                         .order_by(OrderEvent.id.desc())).first()
        assert last.action == "reopen" and "问题没解决" in last.reason
        for bad, message in (((True, 7), "satisfaction 1"), ((True, None), "satisfaction 1"),
                             ((False, 2), "unreached"), ((True, True), "satisfaction 1"),
                             ((True, [1]), "satisfaction 1"), ((True, 1.0), "satisfaction 1"),
                             (("yes", 1), "true or false")):
            with pytest.raises(OrderError, match=message):
                service.record_revisit(s, by[orders[3].id], "lin", *bad)
        with pytest.raises(OrderError, match="at most 2000"):
            service.record_revisit(s, by[orders[3].id], "lin", True, 1, "长" * 2001)
        with pytest.raises(OrderError, match="recorded already"):
            service.record_revisit(s, r1, "lin", True, 2)
        service.record_revisit(s, by[orders[3].id], "lin", False, None, "空号", at=at,
                               timezone=TZ)
        with pytest.raises(Forbidden):
            service.find_revisit(s, CENTER.code, r1.id, worker="wang")
        with pytest.raises(NotFound):
            service.find_revisit(s, "huludao", r1.id)
    november = (utc("2026-11-01T00:00"), utc("2026-12-01T00:00"))
    ind = order_indicators(db_engine, *november, timezone=TZ, today=date(2026, 12, 1))
    assert ind.revisit_rate == Ratio(2, 3)          # r1's and r3's orders, of three closed
    assert ind.revisit_satisfaction == Ratio(2, 3)  # 1 and 2 of 1, 4, 2


@pytest.fixture
def hotline(capsys, monkeypatch):  # type: ignore[no-untyped-def]
    """The `hotline` command in this process, on the example center (Asia/Shanghai)."""
    return in_process(capsys, monkeypatch)


def test_the_revisit_commands_on_the_centers_day(ledger, hotline) -> None:
    """Seed 001 art. 23: the revisit worker's day from the command line: the list (today is
    the center's day, never the machine's: here the machine's clock is set in a zone where the
    date differs), each result, a refusal on one line (exit 2)."""
    url, engine = ledger
    with Session(engine) as s, s.begin():
        for i in range(3):
            replied(s, "complaint", now_utc() - timedelta(seconds=10 + i))
    shanghai = datetime.now(ZoneInfo(TZ))
    # Another date now: UTC-12 is 20 h behind Shanghai (yesterday until 20:00 there),
    # Kiritimati (UTC+14) 6 h ahead (tomorrow from 18:00); 19:00 leaves an hour either side.
    far = "Etc/GMT+12" if shanghai.hour < 19 else "Pacific/Kiritimati"
    with pytest.MonkeyPatch.context() as machine:
        machine.setenv("TZ", far)
        time.tzset()
        try:
            assert date.today() != shanghai.date()
            code, out, _ = hotline("orders", "--database", url, "revisit-sample",
                                   "--worker", "lin")
        finally:
            machine.undo()
            time.tzset()
    assert code == 0 and f"3 orders to revisit for {shanghai.date()} (Asia/Shanghai)" in out
    with Session(engine) as s:
        ids = list(s.scalars(select(Revisit.id).order_by(Revisit.id)))
    code, out, _ = hotline("orders", "--database", url, "--by", "lin", "revisit",
                           str(ids[0]), "--reached", "--satisfaction", "2", "--note", "满意")
    assert code == 0 and "reached 2 满意 by lin" in out
    code, _, err = hotline("orders", "--database", url, "revisit", str(ids[0]),
                           "--reached", "--satisfaction", "1")
    assert code == 2 and "recorded already" in err and len(err.strip().splitlines()) == 1
    code, _, err = hotline("orders", "--database", url, "revisit", str(ids[1]),
                           "--reached")
    assert code == 2 and "satisfaction 1 (very satisfied) to 4" in err
    code, _, err = hotline("orders", "--database", url, "revisit", "999", "--not-reached")
    assert code == 2 and "no revisit 999" in err
    code, out, _ = hotline("orders", "--database", url, "revisits", "--day",
                           shanghai.date().isoformat(), "--worker", "lin")
    assert "3 revisits" in out and out.count("to do") == 2
    code, out, _ = hotline("orders", "--database", url, "revisit-sample")  # again
    assert "3 orders to revisit" in out


# --- the API and the page, served in this process --------------------------------------------

@contextmanager
def serving(sessions: sessionmaker[Session]) -> Iterator[int]:
    """The engine's web app (pages and API) on a free port, without an engine (the revisit
    pages read the database only)."""
    from acd.web.app import make_app

    engine = SimpleNamespace(manager=lambda node: None, seat=lambda seat: None,
                             recordings_dirs=dict, snapshot=dict)
    app = make_app(engine, CENTER, sessions, None, b"k" * 32, run_engine=False)  # type: ignore[arg-type]
    port, loop, runner = free_port(), asyncio.new_event_loop(), web.AppRunner(app)
    started = threading.Event()

    def run() -> None:
        asyncio.set_event_loop(loop)
        loop.run_until_complete(runner.setup())
        loop.run_until_complete(web.TCPSite(runner, "127.0.0.1", port).start())
        started.set()
        loop.run_forever()
        loop.run_until_complete(runner.cleanup())
        loop.close()

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    assert started.wait(20)
    try:
        yield port
    finally:
        loop.call_soon_threadsafe(loop.stop)
        thread.join(20)


def api(port: int, token: str, method: str, path: str, body: object = None) -> tuple[int, object]:
    req = urllib.request.Request(f"http://127.0.0.1:{port}/api{path}", method=method,
                                 data=None if body is None else json.dumps(body).encode())
    req.add_header("Authorization", f"Bearer {token}")
    req.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(req, timeout=20) as r:
            return r.status, json.loads(r.read())
    except urllib.error.HTTPError as err:
        return err.code, json.loads(err.read())


EVIL = "<img src=x onerror=window.__xss=1>"


# aiohttp 3.14 warns on request["actor"] (acd/web/auth.py stores the actor under a str key);
# the engine's own process only logs it, this one runs the app under pytest's "error" filter.
def test_revisits_over_the_api_and_on_the_page(ledger) -> None:
    """The revisit role (回访员, seed 001 arts. 16, 23) sees its own list and those on nobody's,
    records results over the API and on its Chinese page; another worker's revisit is refused,
    a seat has no access, a bad field is a 400 naming it; an unsatisfied result recorded on
    the page reopens the order; markup in an order stays text."""
    url, engine = ledger
    sessions = db.session_factory(engine)
    for name, role, seat in (("lin", "revisit", ""), ("wang", "revisit", ""),
                             ("boss", "supervisor", ""), ("seat", "seat", "8001")):
        users.add(sessions, name, role, CENTER.code, "correct horse", seat)
    # a worker's token carries the worker's name: the same list on the page and the API
    tok = {name: tokens.create(sessions, name, role, CENTER.code, seat)
           for name, role, seat in (("lin", "revisit", ""), ("boss", "supervisor", ""),
                                    ("seat", "seat", "8001"))}
    with sessions.begin() as s:
        for i in range(4):
            replied(s, "complaint", now_utc() - timedelta(seconds=10 + i),
                    content=EVIL if i == 0 else f"第{i}件投诉")
    with serving(sessions) as port:
        assert api(port, tok["seat"], "GET", "/revisits")[0] == 403
        status, out = api(port, tok["boss"], "POST", "/revisits/sample", {})
        assert status == 200 and out == {"day": CENTER.today().isoformat(), "total": 4,
                                         "workers": ["lin", "wang"]}
        status, mine = api(port, tok["lin"], "GET", "/revisits")
        assert status == 200 and mine["worker"] == "lin" and len(mine["revisits"]) == 2
        assert {r["assigned_to"] for r in mine["revisits"]} == {"lin"}
        assert mine["revisits"][0]["order"]["caller_number"] == "13800001234"  # to call back
        status, every = api(port, tok["boss"], "GET", "/revisits")
        wangs = [r for r in every["revisits"] if r["assigned_to"] == "wang"]
        assert len(every["revisits"]) == 4 and len(wangs) == 2
        assert api(port, tok["lin"], "POST", f"/revisits/{wangs[0]['id']}",
                   {"reached": True, "satisfaction": 1})[0] == 403
        for body, field in (({"reached": True, "satisfaction": 9}, "satisfaction"),
                            ({"satisfaction": 1}, "reached"),
                            ({"reached": True, "satisfaction": 1, "colour": "x"}, "colour"),
                            ({"reached": True, "satisfaction": 1, "note": 5}, "note")):
            status, err = api(port, tok["lin"], "POST", f"/revisits/{mine['revisits'][0]['id']}",
                              body)
            assert status == 400 and field in err["error"], (body, err)
        assert api(port, tok["lin"], "POST", "/revisits/99999", {"reached": False})[0] == 404
        assert api(port, tok["lin"], "GET", "/revisits?day=11-03")[0] == 400
        first = mine["revisits"][0]
        status, done = api(port, tok["lin"], "POST", f"/revisits/{first['id']}",
                           {"reached": True, "satisfaction": 2, "note": "满意"})
        assert status == 200 and done["satisfaction_title"] == "满意" and done["by"] == "lin"

        # The page: lin's list in Chinese, one result recorded by hand.
        web_client = Client(port)
        assert web_client.login("seat") == 200 and web_client.get("/revisit") == 403
        require_chromium()
        from playwright.sync_api import sync_playwright
        with sync_playwright() as p:
            browser = launch(p)
            try:
                page = log_in(browser, f"http://127.0.0.1:{port}", "lin", "/revisit")
                page.wait_for_selector("#revisits tbody tr")
                assert page.locator("#revisits tbody tr").count() == 2
                assert "回访员 lin" in page.text_content("#who")
                assert "共 2 条，已回访 1 条" in page.text_content("#summary")
                todo = page.locator("#revisits tbody tr:not(.done)")
                assert todo.count() == 1
                second = mine["revisits"][1]
                assert todo.get_attribute("data-revisit") == str(second["id"])
                assert mine["revisits"][0]["order"]["content"] == EVIL  # shown as text:
                assert EVIL in page.locator("#revisits tbody tr").first.text_content()
                todo.locator("select.satisfaction").select_option("4")
                todo.locator("input.note").fill("还是没有退费")
                todo.locator("button.save").click()
                page.wait_for_function("document.getElementById('msg').textContent"
                                       ".includes('已退回中心重新办理')", timeout=10000)
                page.wait_for_function("document.querySelectorAll('#revisits tbody tr.done')"
                                       ".length === 2", timeout=10000)
                assert page.evaluate("window.__xss") is None
                assert page.locator("#revisits img").count() == 0
                page.screenshot(path=str(ARTIFACTS / "revisit-page.png"), full_page=True)
            finally:
                browser.close()
    with Session(engine) as s:
        visit = s.get(Revisit, second["id"])
        assert (visit.reached, visit.satisfaction, visit.by) == (True, 4, "lin")
        assert visit.order.status == "accepted"
