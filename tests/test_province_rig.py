"""Two centers on one platform, on the real Asterisk 22 (seed 000 §四: 沈阳和葫芦岛地区的话务人员
岗位动态互换): Shenyang (the primary) and Huludao (hosted) in one center file, one Asterisk, the
engine and the IVR as processes, SIPp for the caller and the seat's phone.

A Shenyang seat lent to Huludao's highway queue over the API answers a caller who dialled
Huludao's entry and chose highway in the (shared) menu; the ledger counts the call for
Huludao, not Shenyang (stats and the assessment per center); the loan is recorded and shown
(the API, the wallboard in chromium, where a supervisor lends and returns another seat);
its time passes while the engine is down, and the restarted engine takes the seat out of
Huludao's queue.
"""

from __future__ import annotations

import json
import os
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from acd.api import tokens
from acd.history import db
from acd.history.ledger import Ledger
from acd.history.models import Call, QueueCall
from acd.seats.loans import SeatLoan
from acd.web import users
from hotline.localtime import now_utc
from tests.support import callers as support
from tests.support.browser import ARTIFACTS, launch, log_in, require_chromium
from tests.support.engine import EngineProcess
from tests.support.province import HULUDAO_EXTENSION, province_data
from tests.support.rig import RunningPbx, running_pbx, with_free_ports
from tests.support.waiting import wait_for

pytestmark = pytest.mark.asterisk

# Calls and the engine's clock are real here: the queues are open 24 hours.
CLOCK = "2026-10-10T20:30"


@pytest.fixture(scope="module")
def province_pbx(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningPbx]:
    import shutil

    from asterisk_conf.rig import RigError
    if shutil.which("sipp") is None:
        if os.environ.get("CI") == "true":
            raise AssertionError("SIPp is not installed (Debian package sip-tester)")
        pytest.skip("SIPp is not installed")
    state = tmp_path_factory.mktemp("province-state")
    try:
        cm = running_pbx(state, name=f"province-{os.getpid()}",
                         data=with_free_ports(province_data()))
        pbx = cm.__enter__()
    except (RigError, OSError) as exc:
        if os.environ.get("CI") == "true":
            raise
        pytest.skip(f"Asterisk could not start: {exc}")
    try:
        yield pbx
    finally:
        cm.__exit__(None, None, None)


def members(pbx: RunningPbx, queue: str) -> str:
    return pbx.instance.cli(f"queue show {queue}")


def wallboard(pbx: RunningPbx, sessions: Any, port: int) -> None:
    require_chromium()
    from playwright.sync_api import sync_playwright
    users.add(sessions, "shift", "supervisor", pbx.center.code, "correct horse")
    base = f"http://127.0.0.1:{port}"
    with sync_playwright() as p:
        browser = launch(p)
        try:
            boss = log_in(browser, base, "shift", "/wallboard")
            boss.wait_for_selector('#loans tr[data-seat="8001"]', timeout=20000)
            assert boss.is_visible("#h-loans")
            row = boss.locator('#loans tr[data-seat="8001"] td').all_inner_texts()
            assert row[:4] == ["8001", "沈阳市12328交通运输服务监督电话",
                               "葫芦岛市12328交通运输服务监督电话", "葫芦岛高速公路"], row
            assert row[5:7] == ["boss", "借调中"], row
            boss.fill("#loan-seats", "8002")
            boss.select_option("#loan-to", "huludao")
            boss.select_option("#loan-queues", ["hld_manual"])
            boss.fill("#loan-hours", "2")
            boss.click("#loan-lend")
            boss.wait_for_selector('#loans tr[data-seat="8002"]', timeout=10000)
            assert boss.inner_text("#loan-msg") == "已借出座席 8002"
            wait_for("8002 in Huludao's manual queue",
                     lambda: "PJSIP/8002" in members(pbx, "hld_manual"), timeout=20)
            boss.screenshot(path=str(ARTIFACTS / "wallboard-loans.png"), full_page=True)
            # A bad request says why, in the panel.
            boss.fill("#loan-seats", "8101")
            boss.click("#loan-lend")
            wait_for("the refusal in the panel, in Chinese",
                     lambda: boss.inner_text("#loan-msg") == "座席 8101 本属 huludao，请借往其他中心",
                     timeout=10)
            boss.click('#loans tr[data-seat="8002"] button.return')
            boss.wait_for_function("!document.querySelector('#loans tr[data-seat=\"8002\"]')",
                                   timeout=10000)
            wait_for("8002 out of Huludao's manual queue",
                     lambda: "PJSIP/8002" not in members(pbx, "hld_manual"), timeout=20)
        finally:
            browser.close()
    with sessions() as s:
        back = s.scalars(select(SeatLoan).where(SeatLoan.seat_id == "8002")).one()
    assert (back.lent_by, back.ended_by, back.queues) == ("shift", "shift", "hld_manual")
    assert back.applied_at is not None and back.released_at is not None


def huludao_pages(pbx: RunningPbx, sessions: Any, port: int, mine: int, other: int) -> None:
    """A Huludao supervisor logs in to the one web app: its wallboard shows Huludao's queues
    only and the loan of Shenyang's 8001 to Huludao; its back office lists Huludao's order
    (the one the lent seat filed for the Huludao call), not Shenyang's, which is a 404."""
    require_chromium()
    from playwright.sync_api import sync_playwright
    users.add(sessions, "hld", "supervisor", "huludao", "correct horse")
    base = f"http://127.0.0.1:{port}"
    with sync_playwright() as p:
        browser = launch(p)
        try:
            page = log_in(browser, base, "hld", "/wallboard")
            page.wait_for_selector('#loans tr[data-seat="8001"]', timeout=20000)
            page.wait_for_selector('.queue-card[data-queue="hld_highway"]', timeout=20000)
            cards = page.eval_on_selector_all(".queue-card", "cs => cs.map(c => c.dataset.queue)")
            assert sorted(cards) == ["hld_highway", "hld_manual"], cards
            page.goto(f"{base}/backoffice")
            page.wait_for_selector(f'#results tr[data-order="{mine}"]', timeout=20000)
            assert page.locator(f'#results tr[data-order="{other}"]').count() == 0
            assert page.request.get(f"{base}/web/orders/{other}").status == 404
            assert page.request.get(f"{base}/web/orders/{mine}").status == 200
            page.screenshot(path=str(ARTIFACTS / "backoffice-huludao.png"), full_page=True)
        finally:
            browser.close()


def test_a_lent_seat_answers_the_other_centers_caller(province_pbx: RunningPbx, redis_url: str,
                                                      numbers, tmp_path: Path) -> None:
    pbx = province_pbx
    assert pbx.center.codes == ("shenyang", "huludao")
    url = f"sqlite:///{tmp_path / 'ledger.sqlite'}"
    engine = db.make_engine(url)
    db.create_schema(engine)
    sessions = db.session_factory(engine)
    Ledger(sessions, "", "pbx1").advance_cursor(time.time())
    token = tokens.create(sessions, "boss", "supervisor", pbx.center.code)
    port = pbx.center.http_port

    def api(method: str, path: str, body: Any = None) -> tuple[int, Any]:
        req = urllib.request.Request(
            f"http://127.0.0.1:{port}/api{path}", method=method,
            data=None if body is None else json.dumps(body).encode(),
            headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(req, timeout=10) as r:
                return r.status, json.loads(r.read())
        except urllib.error.HTTPError as e:
            return e.code, json.loads(e.read())

    sipp = pbx.sipp()
    proc = EngineProcess(pbx, url, redis_url, tmp_path / "engine.log",
                         extra_args=("--instance", pbx.instance.name, "--no-dialer"))
    ivr = None
    try:
        proc.start()
        ivr = support.Ivr(pbx, pbx.center_file, url, redis_url, CLOCK, tmp_path / "ivr.log")
        sipp.seat("8001", pbx.seat_password("8001"), ring_s=0.5, talk_s=4)
        assert "PJSIP/8001" not in members(pbx, "hld_highway")
        # The supervisor lends Shenyang's 8001 to Huludao's highway queue for an hour.
        status, out = api("POST", "/loans", {"seats": ["8001"], "to": "huludao",
                                             "queues": ["hld_highway"], "hours": 1})
        assert status == 200, out
        [loan] = out["loans"]
        wait_for("8001 in Huludao's highway queue",
                 lambda: "PJSIP/8001" in members(pbx, "hld_highway"), timeout=20)
        assert "PJSIP/8001" not in members(pbx, "hld_manual")  # only the queue lent
        status, out = api("GET", "/loans")
        assert [(x["seat"], x["to_center"], x["applied"]) for x in out["loans"]] == \
            [("8001", "huludao", True)]
        assert out["loans"][0]["to_name"] == "葫芦岛市12328交通运输服务监督电话"

        # A caller dials Huludao's entry and presses 1 (highway) then 2 in the shared menu.
        caller = numbers.one()
        sipp.callers("huludao-caller", [caller], digits=[(3.0, "1"), (2.5, "2")], hold_s=25,
                     service=HULUDAO_EXTENSION)

        def answered() -> Call | None:
            with Session(engine) as s:
                row = s.scalars(select(Call).where(Call.caller_number == caller)).first()
                return row if row is not None and row.ended_at is not None else None
        call = wait_for("the Huludao call in the ledger", answered, timeout=90)
        assert (call.center, call.first_queue, call.seat_id, call.outcome) == \
            ("huludao", "hld_highway", "8001", "answered"), (call.center, call.first_queue,
                                                             call.seat_id, call.outcome)
        assert call.dialed == HULUDAO_EXTENSION
        with Session(engine) as s:
            stay = s.scalars(select(QueueCall).where(QueueCall.uniqueid == call.uniqueid)).one()
        assert (stay.center, stay.queue, stay.seat_id) == ("huludao", "hld_highway", "8001")

        # The figures: Huludao's call, none of Shenyang's.
        since = f"{datetime.now(pbx.center.tz) - timedelta(hours=1):%Y-%m-%dT%H:%M}"
        assert "queued 1, answered 1, abandoned 0" in support.hotline(
            pbx, pbx.center_file, "stats", "calls", "--database", url, "--center-code",
            "huludao", "--since", since)
        assert "queued 0, answered 0" in support.hotline(
            pbx, pbx.center_file, "stats", "calls", "--database", url, "--since", since)
        month = f"{datetime.now(pbx.center.tz):%Y-%m}"
        table = support.hotline(pbx, pbx.center_file, "assess", "--month", month,
                                "--database", url)
        assert [line.split()[-1] for line in table.splitlines()[2:] if line.strip()] == \
            ["huludao"], table

        # The lent seat files the call's order: it is Huludao's (its 工单数量), and each
        # center's supervisors see their own orders only.
        seat_token = tokens.create(sessions, "seat8001", "seat", "shenyang", "8001")
        filed = []
        for who, body in ((seat_token, {"call_uniqueid": call.uniqueid}), (token, {})):
            req = urllib.request.Request(
                f"http://127.0.0.1:{port}/api/orders", method="POST",
                data=json.dumps({"type": "consultation", "domain": "highway",
                                 "content": "高速路况咨询", **body}).encode(),
                headers={"Authorization": f"Bearer {who}",
                         "Content-Type": "application/json"})
            with urllib.request.urlopen(req, timeout=10) as r:
                filed.append(json.loads(r.read()))
        assert [o["center"] for o in filed] == ["huludao", "shenyang"], filed
        status, _ = api("GET", f"/orders/{filed[0]['id']}")  # the Shenyang supervisor's token
        assert status == 404
        huludao_pages(pbx, sessions, port, filed[0]["id"], filed[1]["id"])

        # The wallboard shows the loan, lends another seat and returns it (a Shenyang
        # supervisor, in Chinese; the engine follows each change in Asterisk).
        wallboard(pbx, sessions, port)

        # The loan's time passes while the engine is down: the restarted engine ends it and
        # takes the seat out of Huludao's queue.
        proc.stop()
        with Session(engine) as s, s.begin():
            s.execute(update(SeatLoan).where(SeatLoan.id == loan["id"])
                      .values(until_at=now_utc() - timedelta(seconds=1)))
        assert "PJSIP/8001" in members(pbx, "hld_highway")
        proc.start()
        wait_for("8001 out of Huludao's queue",
                 lambda: "PJSIP/8001" not in members(pbx, "hld_highway"), timeout=20)

        def ended() -> SeatLoan | None:
            with Session(engine) as s:
                row = s.get(SeatLoan, loan["id"])
                return row if row is not None and row.released_at is not None else None
        row = wait_for("the loan released", ended, timeout=10)
        assert (row.ended_by, row.lent_by, row.from_center, row.to_center) == \
            ("time", "boss", "shenyang", "huludao")
        status, out = api("GET", "/loans")
        assert out["loans"] == []
        listing = support.hotline(pbx, pbx.center_file, "seats", "loans", "--all",
                                  "--database", url)
        assert "seat 8001  shenyang -> huludao (hld_highway)" in listing
        assert "by time" in listing and "yet to take it out" not in listing
    finally:
        if ivr is not None:
            ivr.stop()
        proc.stop()
        sipp.close()
        pbx.hangup_all()
        engine.dispose()
