"""The handling unit's page and the supervisors' back-office page in Debian's chromium, against
the app on a real port (SQLite): the unit sees only its order, signs for it and replies from the
page (seed 001 art. 32-33); the supervisor sees it overdue and reminds the unit (art. 35); the
text a person reads is Chinese, and an order's text is shown as text, never run."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy.orm import Session

from acd.history import db
from acd.orders.models import WorkOrder
from tests.support.backoffice import back_office, token, user
from tests.support.browser import ARTIFACTS, launch, log_in, require_chromium
from tests.test_orders_access import api

pytestmark = pytest.mark.browser


def test_the_unit_replies_and_the_supervisor_reminds_in_chromium(tmp_path) -> None:
    require_chromium()
    from playwright.sync_api import sync_playwright
    engine = db.make_engine(f"sqlite:///{tmp_path / 'bo.sqlite'}")
    db.create_schema(engine)
    evil = "<img src=x onerror=window.__xss=1>"
    with back_office(engine) as (port, c):
        boss = token(engine, c, "boss", "supervisor")
        user(engine, c, "taxi", "unit", unit="sy_taxi")
        user(engine, c, "leader", "supervisor")
        ids = []
        for text, unit in ((f"出租车拒载{evil}", "sy_taxi"), ("路面坑洼", "sy_transport")):
            oid = api(port, "POST", "/api/orders", boss, {
                "type": "complaint", "domain": "urban_transit", "content": text,
                "subject": "辽A00001", "source": "web", "caller_number": "13900000001"})[1]["id"]
            assert api(port, "POST", f"/api/orders/{oid}/transfer", boss, {"unit": unit})[0] == 200
            ids.append(oid)
        mine, other = ids
        with Session(engine) as s, s.begin():
            s.get(WorkOrder, mine).due = datetime.now(UTC).date() - timedelta(days=2)
        base = f"http://127.0.0.1:{port}"
        with sync_playwright() as p:
            browser = launch(p)
            try:
                boss_page = log_in(browser, base, "leader", "/wallboard")
                boss_page.goto(f"{base}/backoffice")
                boss_page.wait_for_selector(f"#overdue tr[data-order='{mine}'] button.remind")
                boss_page.click(f"#overdue tr[data-order='{mine}'] button.remind")
                boss_page.wait_for_function(
                    "document.getElementById('msg').textContent.startsWith('已催办')")
                boss_page.screenshot(path=str(ARTIFACTS / "backoffice-overdue.png"),
                                     full_page=True)

                page = log_in(browser, base, "taxi", "/unit")
                page.wait_for_selector(f"#orders tr[data-order='{mine}']")
                assert page.text_content("#unit-name") == "沈阳市客运出租汽车管理处"
                assert page.locator(f"#orders tr[data-order='{other}']").count() == 0
                assert "1 次" in page.text_content(f"#overdue tr[data-order='{mine}']")
                page.click(f"#orders tr[data-order='{mine}']")
                page.wait_for_function(
                    f"document.getElementById('d-id').textContent === '{mine}'")
                assert evil in page.text_content("#d-content")
                assert page.evaluate("window.__xss") is None
                page.click("#receive")
                page.wait_for_function("document.getElementById('msg').textContent === '已签收'")
                page.fill("#reply-text", "已约谈驾驶员，责令改正")
                page.click("#reply-form button[type=submit]")
                page.wait_for_function("document.getElementById('msg').textContent === '已回复'")
                page.screenshot(path=str(ARTIFACTS / "unit-replied.png"), full_page=True)
                page.wait_for_function(
                    f"!document.querySelector(\"#orders tr[data-order='{mine}']\")")
            finally:
                browser.close()
    with Session(engine) as s:
        o = s.get(WorkOrder, mine)
        assert (o.status, o.reply) == ("replied", "已约谈驾驶员，责令改正")
        assert [e.action for e in o.history] == ["accept", "transfer", "remind", "receive",
                                                 "reply"]
        assert [e.by for e in o.history][-2:] == ["taxi", "taxi"]
    engine.dispose()
