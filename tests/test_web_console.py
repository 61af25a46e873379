"""The seat console's work order, knowledge search and "to the survey", end to end: SIPp callers
reach a SIPp seat on the real Asterisk, the engine serves the console, Debian's chromium fills
the form; the rules (400 per bad field, 403 for another seat's call or without CSRF) over HTTP."""

from __future__ import annotations

import json
import urllib.error
import urllib.parse
import urllib.request
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from acd.history.models import Call, SeatInterval
from acd.orders import knowledge
from acd.orders.models import KnowledgeEntry, WorkOrder
from acd.web.console import check_order
from hotline.center import DOMAINS, ORDER_TYPES
from tests.support.ami_tap import AmiTap
from tests.support.browser import ARTIFACTS, launch, log_in, require_chromium
from tests.support.waiting import wait_for
from tests.test_ivr_calls import ivr  # noqa: F401 - the FastAGI IVR and survey, as a fixture
from tests.test_web import Client, add_user, stack  # noqa: F401

STATIC = Path(__file__).resolve().parent.parent / "acd" / "web" / "static"


# --- fast checks -------------------------------------------------------------------------------

def good_form(**change: Any) -> dict[str, Any]:
    form = {"uniqueid": "pbx1-1.1", "type": "consultation", "domain": "highway",
            "sub_item": "ETC", "subject": "", "content": "问 ETC 退费", "answered": True,
            "reply": "30 日内可申请", "unit": ""}
    form.update(change)
    return form


@pytest.mark.parametrize(("change", "message"), [
    ({"type": "praise"}, "type must be one of"),
    ({"domain": "rail"}, "domain must be one of"),
    ({"content": "  "}, "content is required"),
    ({"uniqueid": ""}, "uniqueid (the call) is required"),
    ({"type": "complaint", "subject": ""}, "a complaint names its subject"),
    ({"answered": "yes"}, "answered must be true or false"),
    ({"answered": True, "reply": ""}, "records the reply given"),
    ({"answered": False, "unit": " "}, "name the handling unit"),
    ({"content": 5}, "content must be text"),
    ({"sub_item": "x" * 61}, "sub_item is too long"),
    ({"seat_id": "8002"}, "unknown field(s): seat_id"),
    ({"answered": False, "refusal": "dislike"}, "refusal must be one of"),
    ({"answered": True, "refusal": "out_of_remit"}, "is not answered on the call"),
    ({"cross_region": "yes"}, "cross_region must be true or false"),
    ({"cross_region": True, "region": ""}, "names its region"),
    ({"region": ["x"]}, "region must be text"),
])
def test_each_bad_field_has_its_message(change: dict[str, Any], message: str) -> None:
    out = check_order(good_form(**change))
    assert isinstance(out, str) and message in out


def test_a_refusal_with_an_article_28_reason_is_a_good_form() -> None:
    """Seed 001 art. 28: not accepted, with one of five reasons told to the caller."""
    out = check_order(good_form(answered=False, reply="", refusal="before_court_or_review",
                                cross_region=True, region="吉林省"))
    assert isinstance(out, dict) and out["refusal"] == "before_court_or_review"
    assert (out["cross_region"], out["region"]) == (True, "吉林省")


def test_a_good_form_is_trimmed() -> None:
    out = check_order(good_form(content="  问 ETC 退费 "))
    assert isinstance(out, dict) and out["content"] == "问 ETC 退费" and out["answered"] is True


# The seeds' lists, written here by hand: the order types (seed 001 art. 24; seed 003) and the
# domains of seed 000 annex 3, each code with the title a seat reads.
SEED_TYPES = {"complaint": "投诉举报", "consultation": "信息咨询", "suggestion": "意见建议"}
SEED_DOMAINS = {"highway": "高速公路", "ordinary_road": "普通公路", "road_transport": "道路运输",
                "urban_transit": "城市客运", "waterway": "水路", "maritime": "海事",
                "other": "其他"}


def test_the_page_offers_exactly_the_types_and_domains_the_server_takes() -> None:
    html = (STATIC / "seat.html").read_text(encoding="utf-8")

    def options(select_id: str) -> dict[str, str]:
        part = html.split(f'id="{select_id}"')[1].split("</select>")[0]
        return {chunk.split('"')[0]: chunk.split(">", 1)[1].split("<")[0]
                for chunk in part.split('value="')[1:]}
    assert options("o-type") == SEED_TYPES
    assert options("o-domain") == SEED_DOMAINS
    # ...and the server takes each of them, and nothing else.
    assert (ORDER_TYPES, DOMAINS) == (SEED_TYPES, SEED_DOMAINS)
    for t in SEED_TYPES:
        for d in SEED_DOMAINS:
            form = good_form(type=t, domain=d, subject="某客运站" if t == "complaint" else "")
            assert isinstance(check_order(form), dict), (t, d, check_order(form))
    assert not isinstance(check_order(good_form(type="praise")), dict)
    assert not isinstance(check_order(good_form(domain="rail")), dict)


# --- helpers for the real stack ----------------------------------------------------------------


def now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def answered_call(db: Any, number: str, seat: str, after: datetime) -> str:
    """The uniqueid of `number`'s call, placed after `after`, once the ledger shows `seat`
    answered it. (The engine replays the session's whole queue_log into its fresh ledger, so
    an earlier test's call from the same number can be there too.)"""
    def check() -> str | None:
        with Session(db) as s:
            return s.scalars(select(Call.uniqueid).where(
                Call.caller_number == number, Call.seat_id == seat, Call.started_at >= after,
                Call.answered_at.is_not(None))).first()
    return str(wait_for(f"{seat} to answer {number}", check, 40))


def send(client: Client, method: str, path: str, body: object = None,
         csrf: bool = True) -> tuple[int, dict[str, Any] | list[Any]]:
    """(status, JSON body): the error messages are part of what is tested."""
    req = urllib.request.Request(f"http://127.0.0.1:{client.port}{path}", method=method,
                                 data=None if body is None else json.dumps(body).encode())
    req.add_header("Content-Type", "application/json")
    if csrf:
        req.add_header("X-CSRF-Token", client.csrf)
    try:
        with client.opener.open(req) as r:
            return r.status, json.loads(r.read())
    except urllib.error.HTTPError as err:
        return err.code, json.loads(err.read())


# --- over HTTP ---------------------------------------------------------------------------------

def test_order_rules_over_http(stack, sipp, ledger, numbers) -> None:  # noqa: F811
    port, pbx = stack
    url, db = ledger
    add_user(pbx, url, "seat2", "seat", "8002")
    with Session(db) as s, s.begin():
        knowledge.add(s, "ETC 通行费退费", "多扣的通行费 30 日内可申请退费。", "highway")
    me, other, boss = Client(port), Client(port), Client(port)
    assert me.login("seat") == 200 and other.login("seat2") == 200
    assert boss.login("supervisor") == 200
    sipp.seat("8001", pbx.seat_password("8001"), ring_s=0.3, talk_s=10)
    assert send(me, "POST", "/web/seats/8001/signin", {})[0] == 200
    number = numbers.one()
    placed = now() - timedelta(seconds=1)
    sipp.callers("http", [number], hold_s=40)
    uid = answered_call(db, number, "8001", placed)

    # 400: each bad field, with its message, while the seat is on the call.
    for change, message in [({"content": ""}, "content is required"),
                            ({"domain": "rail"}, "domain must be one of"),
                            ({"answered": False, "unit": ""}, "name the handling unit"),
                            ({"type": "complaint"}, "a complaint names its subject")]:
        status, out = send(me, "POST", "/web/orders", good_form(uniqueid=uid, **change))
        assert (status, message in out["error"]) == (400, True), (change, out)  # type: ignore[call-overload]
    req = urllib.request.Request(f"http://127.0.0.1:{port}/web/orders", data=b"{not json",
                                 method="POST", headers={"X-CSRF-Token": me.csrf})
    with pytest.raises(urllib.error.HTTPError) as bad_json:
        me.opener.open(req)
    assert bad_json.value.code == 400
    # 403: another seat's call, a call that is nobody's, no CSRF token, a role without the route.
    assert send(other, "POST", "/web/orders", good_form(uniqueid=uid))[0] == 403
    assert send(me, "POST", "/web/orders", good_form(uniqueid=uid + "9"))[0] == 403
    assert send(me, "POST", "/web/orders", good_form(uniqueid=uid), csrf=False)[0] == 403
    assert send(boss, "POST", "/web/orders", good_form(uniqueid=uid))[0] == 403
    assert send(other, "POST", f"/web/calls/{uid}/survey", {})[0] == 403
    # The knowledge base: an empty search is refused, a real one finds the entry.
    assert send(me, "GET", "/web/kb?q=%20")[0] == 400
    status, hits = send(me, "GET", "/web/kb?q=" + urllib.parse.quote("退费"))
    assert status == 200 and [h["title"] for h in hits] == ["ETC 通行费退费"]  # type: ignore[index]
    assert send(me, "POST", "/web/kb/999999/used", {})[0] == 404
    assert send(me, "POST", "/web/kb/abc/used", {})[0] == 400
    assert send(me, "POST", f"/web/kb/{hits[0]['id']}/used", {})[0] == 200  # type: ignore[index]
    # Nothing of the refused requests was written.
    with Session(db) as s:
        assert s.scalars(select(WorkOrder)).all() == []
        assert s.scalars(select(KnowledgeEntry.usage_count)).one() == 1

    # The seat hangs up (talk 10 s) and its 5 s of wrap-up run out: the call is the seat's
    # last one, so the order can still be filed, and only once.
    def ready_again() -> bool:
        with Session(db) as s:
            last = s.scalars(select(SeatInterval).where(SeatInterval.seat_id == "8001")
                             .order_by(SeatInterval.id.desc())).first()
            return last is not None and last.state == "ready" and last.uniqueid == "" and \
                s.scalars(select(SeatInterval.id).where(SeatInterval.seat_id == "8001",
                                                        SeatInterval.state == "wrapup")).first() \
                is not None
    wait_for("8001 to be ready after its wrap-up", ready_again, 40)
    assert send(me, "POST", f"/web/calls/{uid}/survey", {})[0] == 403  # no longer its call
    status, out = send(me, "POST", "/web/orders",
                       good_form(uniqueid=uid, answered=False, reply="", unit="ln_expressway",
                                 cross_region=True, region="吉林省长春市"))
    assert status == 201, out
    assert send(me, "POST", "/web/orders", good_form(uniqueid=uid))[0] == 409
    with Session(db) as s:
        order = s.scalars(select(WorkOrder)).one()
        assert (order.call_uniqueid, order.seat_id, order.caller_number, order.status,
                order.handling_unit, order.source, order.cross_region, order.region) == \
            (uid, "8001", number, "transferred", "ln_expressway", "call", True, "吉林省长春市")
        assert [e.by for e in order.history] == ["seat", "seat"]


# --- in chromium -------------------------------------------------------------------------------

def test_console_files_the_order_and_sends_the_caller_to_the_survey(
        stack, sipp, ledger, ivr, numbers) -> None:  # noqa: F811
    require_chromium()
    from playwright.sync_api import sync_playwright
    port, pbx = stack
    _, db = ledger
    evil = "<img src=x onerror=window.__kbxss=1>"
    with Session(db) as s, s.begin():
        entry_id = knowledge.add(s, "ETC 通行费退费", f"多扣的通行费 30 日内可申请退费。{evil}",
                                 "highway").id
    base = f"http://127.0.0.1:{port}"
    # The seat talks for two minutes: the survey, not the seat's phone, ends its leg.
    sipp.seat("8001", pbx.seat_password("8001"), ring_s=0.5, talk_s=120)
    number, key = numbers.one(), "3"
    tap = AmiTap(**pbx.ami, events="user,dtmf")
    try:
        with sync_playwright() as p:
            browser = launch(p)
            try:
                page = log_in(browser, base, "seat", "/seat")
                page.click("#signin")
                page.wait_for_function("document.getElementById('state').textContent === '就绪'")
                # "0" for a seat in the IVR; from 12 s on (the seat has answered by then) the
                # caller presses the survey key every 2 s: the bridge passes them to the seat's
                # phone, which ignores them, and the first one after the redirect is the score.
                placed = now() - timedelta(seconds=1)
                sipp.callers("console", [number], hold_s=10,
                             digits=[(1.5, "0")] + [(12.0, key)] + [(2.0, key)] * 40)
                page.wait_for_function(
                    f"document.getElementById('c-caller').textContent === '{number}'",
                    timeout=30000)
                uid = answered_call(db, number, "8001", placed)
                page.wait_for_function(
                    f"document.getElementById('o-call').textContent === '{uid}'")
                page.wait_for_function("!document.getElementById('to-survey').disabled")

                # The knowledge base: found, shown as text, used with a click.
                page.fill("#kb-q", "ETC 退费")
                page.click("#kb-go")
                page.wait_for_selector(f"#kb-results li[data-entry='{entry_id}']")
                assert evil in page.text_content("#kb-results .kb-body")
                assert page.locator("#kb-results img").count() == 0
                assert page.evaluate("window.__kbxss") is None
                page.click(f"#kb-results li[data-entry='{entry_id}'] .kb-use")
                page.wait_for_selector(f"#kb-results li.used[data-entry='{entry_id}']")
                with Session(db) as s:
                    assert s.get(KnowledgeEntry, entry_id).usage_count == 1  # type: ignore[union-attr]
                assert page.input_value("#o-reply").startswith("多扣的通行费")

                # To the survey once the caller's keys have started (Asterisk has seen one):
                # the seat's leg ends...
                tap.wait_for(timeout=30, Event="DTMFEnd", Digit=key, CallerIDNum=number,
                             Direction="Received")
                page.click("#to-survey")
                page.wait_for_function("document.getElementById('confirm-dialog').open")
                page.click("#confirm-yes")  # the console asks first: the seat's call ends
                page.wait_for_function("document.getElementById('msg').textContent === '已转满意度评价'")
                page.wait_for_function(
                    "['整理', '就绪'].includes(document.getElementById('state').textContent)",
                    timeout=15000)
                page.screenshot(path=str(ARTIFACTS / "seat-console-survey.png"), full_page=True)

                # ...and the form is still there for the call just ended: a bad submission
                # shows the server's message, a good one files the order.
                page.select_option("#o-type", "complaint")
                page.fill("#o-content", "ETC 重复扣费")
                page.click("#o-submit")
                page.wait_for_function(
                    "document.getElementById('order-msg').textContent.includes('投诉对象')")
                page.screenshot(path=str(ARTIFACTS / "seat-console-order-error.png"),
                                full_page=True)
                page.select_option("#o-type", "consultation")
                page.select_option("#o-domain", "highway")
                page.fill("#o-sub", "ETC")
                page.click("#o-submit")
                page.wait_for_function(
                    "document.getElementById('order-msg').textContent.startsWith('工单 #')")
                page.screenshot(path=str(ARTIFACTS / "seat-console-order-filed.png"),
                                full_page=True)
            finally:
                browser.close()

        with Session(db) as s:
            order = s.scalars(select(WorkOrder)).one()
            assert (order.call_uniqueid, order.seat_id, order.caller_number, order.type,
                    order.domain, order.sub_item, order.content, order.status,
                    order.answered_on_call) == \
                (uid, "8001", number, "consultation", "highway", "ETC", "ETC 重复扣费",
                 "closed", True)
            assert order.reply.startswith("多扣的通行费")

        # The caller's key is the call's score in the ledger, credited to the seat.
        def scored() -> tuple[int | None, str] | None:
            with Session(db) as s:
                c = s.get(Call, uid)
                return (c.survey_score, c.seat_id) if c and c.survey_score else None
        assert wait_for("the survey score in the ledger", scored, 60) == (int(key), "8001")
        survey = wait_for("the HotlineSurvey event", lambda: next(
            (e for e in list(tap.events) if e.get("UserEvent") == "HotlineSurvey"
             and e.get("CallerIDNum") == number), None), 10)
        assert (survey["Score"], survey["Seat"]) == (key, "8001")
        # The order keeps the caller's answer too (instant-answer satisfaction reads orders).
        with Session(db) as s:
            assert s.scalars(select(WorkOrder)).one().survey_score == int(key)
    finally:
        tap.close()
