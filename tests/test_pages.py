"""The pages people work in all day, in Debian's chromium under the pages' own CSP (no
bypass), each as its user, against one real stack shared by the module (Asterisk, SIPp, Redis,
the engine serving the web): the seat console rings and times a call; the wallboard raises an
alert when the manual connection rate drops under its target, keeps keyboard focus across
updates and asks before 签出; an inspector finds a recording by the caller's number and scores
it; an admin removes a user whose open page is then logged out; axe-core finds no serious
accessibility violation on any page. Screenshots go to test-artifacts/.

Playwright's wait_for_function evaluates in the page, which the CSP forbids: conditions are
polled with page.evaluate (tests/support/waiting.py's wait_for)."""

from __future__ import annotations

import dataclasses
import os
import subprocess
import sys
import time
import tomllib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from acd.history import db
from acd.history.ledger import Ledger
from acd.history.models import Call
from acd.quality.models import QaScore
from hotline.localtime import now_utc
from hotline.shell.simulate.ports import free_ports
from tests.support.browser import ARTIFACTS, launch, log_in, require_chromium
from tests.support.engine import EngineProcess
from tests.support.numbers import CallerNumbers
from tests.support.real import unavailable
from tests.support.rig import RunningPbx, dump_toml
from tests.support.waiting import wait_for
from tests.test_web import ROLES, add_user

pytestmark = pytest.mark.asterisk
AXE = Path(__file__).resolve().parent.parent / "node_modules" / "axe-core" / "axe.min.js"


@dataclasses.dataclass
class Stack:
    base: str
    pbx: RunningPbx
    url: str
    engine: Any
    made: dict[str, str]
    numbers: CallerNumbers  # the module's own caller numbers (tests/support/numbers.py)


@pytest.fixture(scope="module")
def stack(pbx: RunningPbx, redis_server: str, tmp_path_factory) -> Iterator[Stack]:
    """One engine with its web for every test here. Its center file is the rig's with the
    wallboard's rate alerts armed from the first call (min_calls = 1). Its ledger replays the
    session's queue_log from the module's start (not the earlier tests' calls), and its Redis
    is emptied before and after the module."""
    import redis
    tmp = tmp_path_factory.mktemp("pages")
    data = tomllib.loads(pbx.center_file.read_text(encoding="utf-8"))
    data.setdefault("wallboard", {})["min_calls"] = 1
    center_file = tmp / "center.toml"
    center_file.write_text(dump_toml(data), encoding="utf-8")
    mine = dataclasses.replace(pbx, center_file=center_file)
    url = f"sqlite:///{tmp / 'ledger.sqlite'}"
    engine = db.make_engine(url)
    db.create_schema(engine)
    Ledger(db.session_factory(engine), "", "pbx1").advance_cursor(time.time())
    with redis.Redis.from_url(redis_server) as r:
        r.flushdb()
    for role in ROLES:
        add_user(mine, url, role, role, "8001" if role == "seat" else "",
                 "sy_taxi" if role == "unit" else "")
    add_user(mine, url, "victim", "seat", "8004")
    port = free_ports(1)[0]
    proc = EngineProcess(mine, url, redis_server, tmp / "engine.log",
                         extra_args=("--instance", pbx.instance.name, "--http-port", str(port)))
    proc.start()
    try:
        yield Stack(f"http://127.0.0.1:{port}", mine, url, engine, {}, CallerNumbers())
    finally:
        proc.stop()
        engine.dispose()
        with redis.Redis.from_url(redis_server) as r:
            r.flushdb()


@pytest.fixture(scope="module")
def browser(stack: Stack) -> Iterator[Any]:
    require_chromium()
    from playwright.sync_api import sync_playwright
    with sync_playwright() as p:
        b = launch(p, "--autoplay-policy=no-user-gesture-required")
        try:
            yield b
        finally:
            b.close()


def page_of(browser: Any, stack: Stack, name: str, lands_on: str) -> Any:
    return log_in(browser, stack.base, name, lands_on, bypass_csp=False)


def until(page: Any, script: str, timeout: float = 15.0, what: str = "") -> Any:
    """Poll a JavaScript expression in the page until it is truthy (its value)."""
    box: dict[str, Any] = {}

    def ok() -> bool:
        try:
            box["v"] = page.evaluate(script)
        except Exception as exc:  # the page navigating (e.g. to the login page): ask again
            if "context was destroyed" not in str(exc):
                raise
            return False
        return bool(box["v"])
    wait_for(what or script, ok, timeout)
    return box["v"]


def text(page: Any, selector: str) -> str:
    return page.evaluate(f"(document.querySelector({selector!r}) || {{}}).textContent || ''")


def answered_call(stack: Stack, sipp: Any) -> tuple[str, str]:
    """A call of this module answered by seat 8001 and recorded: (uniqueid, caller number).
    The seat console's test leaves its own; run alone (or first, in a random order), the
    inspector's places one with a SIPp seat signed in from the CLI."""
    if "answered" not in stack.made:
        sipp.seat("8001", stack.pbx.seat_password("8001"), ring_s=0.3, talk_s=2.0)
        env = {**os.environ, "HOTLINE_VAR": str(stack.pbx.state)}
        out = subprocess.run([sys.executable, "-m", "hotline.shell.cli", "--center",
                              str(stack.pbx.center_file), "seat", "signin", "8001"],
                             env=env, capture_output=True, text=True, timeout=30)
        assert out.returncode == 0, out.stderr
        caller = stack.numbers.one()
        sipp.callers("pages-answered", [caller], hold_s=30)
        stack.made.update(answered=ended_call(stack, caller), caller=caller)
    return stack.made["answered"], stack.made["caller"]


def ended_call(stack: Stack, caller: str) -> str:
    """The uniqueid of this caller's call, once the ledger has it ended, answered by 8001
    and recorded."""
    with Session(stack.engine) as s:
        wait_for("the call in the ledger", lambda: s.scalars(select(Call).where(
            Call.caller_number == caller, Call.ended_at.is_not(None))).first() is not None, 30)
        call = s.scalars(select(Call).where(Call.caller_number == caller)).one()
        assert call.seat_id == "8001" and call.recording
        return call.uniqueid


# --- the seat console -----------------------------------------------------------------------------

def test_a_call_rings_in_the_seat_console_and_its_timer_runs(stack: Stack, browser, sipp) -> None:
    caller = stack.numbers.one()
    sipp.seat("8001", stack.pbx.seat_password("8001"), ring_s=4.0, talk_s=9.0)
    page = page_of(browser, stack, "seat", "/seat")
    try:
        options = page.evaluate("[...document.querySelectorAll('#reasons option')]"
                                ".map(o => [o.value, o.textContent])")
        assert options[0] == ["meal", "用餐"] and ["toilet", "如厕"] in options
        page.click("#signin")
        until(page, "document.getElementById('state').textContent === '就绪'", what="signed in")
        sipp.callers("pages-ring", [caller], hold_s=30)
        # Ringing: the notice, the tab's title and the tone (a tone counted per ring).
        until(page, "document.body.dataset.state === 'ringing' && "
                    "!document.getElementById('ring-notice').hidden", what="ringing notice")
        until(page, "document.title.startsWith('【来电】')", timeout=5, what="title")
        until(page, "Number(document.body.dataset.rings || 0) >= 1", timeout=5, what="tone")
        assert "来电振铃" in text(page, "#ring-notice")
        page.screenshot(path=str(ARTIFACTS / "pages-seat-ringing.png"), full_page=True)
        # Answered: the notice goes, the talk timer runs.
        until(page, "document.body.dataset.state === 'on_call'", timeout=15, what="on call")
        assert page.evaluate("document.getElementById('ring-notice').hidden")
        assert not page.evaluate("document.title.startsWith('【来电】')")
        first = until(page, "(document.getElementById('timer').textContent.match(/^通话 (\\d+):(\\d+)/)"
                            " || []).slice(1).map(Number)", what="timer")
        until(page, f"(() => {{ const m = document.getElementById('timer').textContent"
                    f".match(/^通话 (\\d+):(\\d+)/); return m && 60 * m[1] + Number(m[2]) >= "
                    f"{60 * first[0] + first[1] + 2}; }})()", timeout=8, what="timer runs")
        assert text(page, "#c-caller") == caller and text(page, "#c-queue") == "人工服务"
        # Shortcuts: Alt+K to the knowledge base.
        page.keyboard.press("Alt+KeyK")
        assert page.evaluate("document.activeElement.id") == "kb-q"
        page.screenshot(path=str(ARTIFACTS / "pages-seat-on-call.png"), full_page=True)
        # 签出 while in a call asks first; cancelled, nothing happens.
        page.keyboard.press("Alt+Digit0")
        until(page, "document.getElementById('confirm-dialog').open", timeout=5, what="dialog")
        assert "确定签出" in text(page, "#confirm-text")
        page.click("#confirm-no")
        assert page.evaluate("document.body.dataset.state") == "on_call"
        until(page, "['wrapup', 'ready'].includes(document.body.dataset.state)", timeout=20,
              what="call over")
    finally:
        page.close()
    uid = ended_call(stack, caller)
    stack.made.setdefault("answered", uid)
    stack.made.setdefault("caller", caller)


# --- the wallboard ------------------------------------------------------------------------------

def test_the_wallboard_alerts_keeps_focus_and_asks_before_signing_out(stack: Stack, browser,
                                                                      sipp) -> None:
    boss = page_of(browser, stack, "supervisor", "/wallboard")
    refused: list[str] = []  # the chart library must live within the CSP, as the page does
    boss.on("console", lambda m: refused.append(m.text)
            if "Content Security Policy" in m.text else None)
    boss.reload()
    try:
        until(boss, "document.querySelectorAll('#queues [data-queue]').length >= 7",
              what="queue cards")
        assert "人工服务" in text(boss, "#queues [data-queue='manual'] h3")
        until(boss, "document.body.dataset.trend === '1' && "
                    "!!document.querySelector('#trend canvas')", what="trend chart")
        until(boss, "!!document.querySelector('#nodes .node.ok')", what="the node up")
        boss.click("#sound")  # a person's click: sound may play from now on
        # Focus stays on a button while the board updates (ticks each second, changes).
        boss.focus('#seats tr[data-seat="8003"] button.ready')
        boss.evaluate("post('/web/seats/8002/signin')")
        until(boss, "(document.querySelector('#seats tr[data-seat=\"8002\"] .state') || {})"
                    ".textContent === '就绪'", what="8002 ready")
        boss.wait_for_timeout(2500)
        assert boss.evaluate("document.activeElement.matches("
                             "'#seats tr[data-seat=\"8003\"] button.ready')")
        # 示忙 with one of the center's reasons, shown by its title.
        boss.select_option('#seats tr[data-seat="8002"] select.reason-pick', "training")
        boss.click('#seats tr[data-seat="8002"] button.busy')
        until(boss, "(document.querySelector('#seats tr[data-seat=\"8002\"] .reason') || {})"
                    ".textContent === '培训'", what="busy: 培训")
        # A caller nobody answers hangs up: the rate drops under 95 % and the alert fires. The
        # busy seat's phone is registered, so the queue has a seat signed in (without one, a
        # caller is offered a message instead: issue 16).
        sipp.seat("8002", stack.pbx.seat_password("8002"), ring_s=0.5, talk_s=5)
        sipp.callers("pages-abandon", stack.numbers(1), hold_s=4)
        until(boss, "!!document.querySelector('#waiting tr.waiting-call')", what="waiting")
        until(boss, "!!document.querySelector("
                    "'#alerts-now li[data-alert=\"center:manual_connection_rate\"]')",
              timeout=20, what="the rate's alert")
        assert not boss.evaluate("document.getElementById('alert-banner').hidden")
        assert "人工接通率" in text(boss, "#alert-history")
        until(boss, "Number(document.body.dataset.beeps || 0) >= 1", timeout=5, what="sound")
        assert boss.evaluate("document.querySelector('#center-tiles "
                             "[data-indicator=manual_connection_rate]').classList.contains('bad')")
        boss.screenshot(path=str(ARTIFACTS / "pages-wallboard-alert.png"), full_page=True)
        # 签出 asks; cancelled nothing changes, confirmed the seat signs out.
        boss.click('#seats tr[data-seat="8002"] button.signout')
        until(boss, "document.getElementById('confirm-dialog').open", what="dialog")
        boss.click("#confirm-no")
        boss.wait_for_timeout(500)
        assert text(boss, '#seats tr[data-seat="8002"] .state') == "示忙"
        boss.click('#seats tr[data-seat="8002"] button.signout')
        until(boss, "document.getElementById('confirm-dialog').open", what="dialog")
        boss.click("#confirm-yes")
        until(boss, "(document.querySelector('#seats tr[data-seat=\"8002\"] .state') || {})"
                    ".textContent === '签出'", what="signed out")
        # Full-screen mode.
        boss.click("#fullscreen")
        until(boss, "document.body.classList.contains('fs')", timeout=5, what="full screen")
        boss.screenshot(path=str(ARTIFACTS / "pages-wallboard-fullscreen.png"))
        assert refused == []
    finally:
        boss.close()


# --- the inspector scores a recording --------------------------------------------------------------

def test_an_inspector_finds_a_recording_by_the_caller_and_scores_it(stack: Stack, browser,
                                                                     sipp) -> None:
    uid, caller = answered_call(stack, sipp)
    # Another recorded call of today, by another caller: the search must leave it out.
    other, now = stack.numbers.one(), now_utc()
    with Session(stack.engine) as s, s.begin():
        s.add(Call(uniqueid=f"{time.time():.0f}.{os.getpid()}", linkedid="other", node="pbx1",
                   center=stack.pbx.center.code, caller_number=other, started_at=now,
                   ended_at=now, outcome="answered", seat_id="8002", recording="other.wav"))
    page = page_of(browser, stack, "inspector", "/inspect")
    try:
        until(page, "document.body.dataset.ready === '1'", what="the page")
        page.fill("#caller", caller[-6:])
        before = page.evaluate("Number(document.body.dataset.searches || 0)")
        page.click("#filters button[type=submit]")
        until(page, f"Number(document.body.dataset.searches || 0) > {before}", what="search")
        until(page, f"!!document.querySelector(\"#recordings tr[data-uniqueid='{uid}'] "
                    f"button.score\")", what="the recording, to score")
        listed = set(page.evaluate("[...document.querySelectorAll('#recordings tbody tr')]"
                                   ".map(r => r.dataset.uniqueid)"))
        with Session(stack.engine) as s:
            recorded = {c.uniqueid: c.caller_number for c in s.scalars(
                select(Call).where(Call.recording != ""))}
        assert uid in listed and listed <= {u for u, n in recorded.items() if caller[-6:] in n}
        assert any(caller[-6:] not in n for n in recorded.values())  # others, not listed
        page.click(f"#recordings tr[data-uniqueid='{uid}'] button.score")
        page.fill("#score-items tr[data-item='accuracy'] input", "20")
        page.fill("#score-items tr[data-item='closing'] input", "5")
        page.click("#score-submit")
        until(page, f"(document.querySelector(\"#recordings tr[data-uniqueid='{uid}'] .qa\")"
                    f" || {{}}).textContent.startsWith('85/100（合格')",
              what="the score shown: " + text(page, "#msg"))
        cells = until(page, "[...(document.querySelector('#quality tr[data-seat=\"8001\"]')"
                            " || {cells: []}).cells].map(c => c.textContent)", what="per seat")
        assert cells == ["8001", "1", "85 %", "1", "100.0 %"]
        page.screenshot(path=str(ARTIFACTS / "pages-inspector-scored.png"), full_page=True)
    finally:
        page.close()
    with Session(stack.engine) as s:
        row = s.scalars(select(QaScore).where(QaScore.uniqueid == uid)).one()
        assert (row.seat_id, row.total, row.max_total, row.passed, row.by_user) == \
            ("8001", 85, 100, True, "inspector")


# --- the admin removes a user ---------------------------------------------------------------------

def test_an_admin_removes_a_user_whose_page_is_then_logged_out(stack: Stack, browser) -> None:
    victim = page_of(browser, stack, "victim", "/seat")
    admin = page_of(browser, stack, "admin", "/wallboard")
    try:
        admin.goto(f"{stack.base}/admin")
        until(admin, "document.body.dataset.ready === '1'", what="the admin page")
        assert "座席" in text(admin, "#users tr[data-user='victim']")
        admin.click("#users tr[data-user='victim'] button.remove")
        until(admin, "document.getElementById('confirm-dialog').open", what="dialog")
        admin.click("#confirm-yes")
        until(admin, "!document.querySelector(\"#users tr[data-user='victim']\")",
              what="gone from the list")
        assert "已删除用户 victim" in text(admin, "#msg")
        admin.screenshot(path=str(ARTIFACTS / "pages-admin-removed.png"), full_page=True)
        until(victim, "location.pathname === '/login'", timeout=15, what="the victim out")
        assert "登录已失效" in text(victim, "#login-error")
        victim.screenshot(path=str(ARTIFACTS / "pages-login-ended.png"), full_page=True)
        # A wrong password: the login page says so in Chinese.
        victim.fill("input[name=name]", "victim")
        victim.fill("input[name=password]", "correct horse")
        victim.click("button[type=submit]")
        until(victim, "document.getElementById('login-error').textContent === '用户名或密码错误。'",
              what="the login's message")
    finally:
        victim.close()
        admin.close()


# --- accessibility ----------------------------------------------------------------------------------

PAGES = [("seat", "/seat", "/seat"), ("supervisor", "/wallboard", "/wallboard"),
         ("supervisor", "/wallboard", "/backoffice"), ("inspector", "/inspect", "/inspect"),
         ("admin", "/wallboard", "/admin"), ("admin", "/wallboard", "/audit"),
         ("unit", "/unit", "/unit"), ("revisit", "/revisit", "/revisit"),
         ("analyst", "/", "/")]


def axe(page: Any) -> list[dict[str, Any]]:
    """axe-core (from npm, node_modules/) run in the page; the serious and critical
    violations. page.evaluate is DevTools' evaluation, which the page's CSP does not block."""
    page.evaluate(AXE.read_text(encoding="utf-8") + "\n;0")
    found = page.evaluate("""async () => (await axe.run(document, {resultTypes: ['violations']}))
        .violations.map(v => ({id: v.id, impact: v.impact, help: v.help,
                               nodes: v.nodes.slice(0, 3).map(n => n.target.join(' '))}))""")
    return [v for v in found if v["impact"] in ("serious", "critical")]


def test_no_serious_accessibility_violation_on_any_page(stack: Stack, browser) -> None:
    if not AXE.exists():
        unavailable("axe-core is not installed (./run installs it with npm ci)")
    problems = {}
    login = browser.new_context().new_page()
    login.goto(f"{stack.base}/login")
    problems["/login"] = axe(login)
    login.close()
    for user, lands_on, path in PAGES:
        page = page_of(browser, stack, user, lands_on)
        try:
            if path != lands_on:
                page.goto(stack.base + path)
            page.wait_for_timeout(1500)  # its data loaded
            problems[path] = axe(page)
            page.screenshot(path=str(ARTIFACTS / f"pages-{path.strip('/') or 'home'}.png"),
                            full_page=True)
        finally:
            page.close()
    found = {p: [(x["id"], x["help"], x["nodes"]) for x in v] for p, v in problems.items() if v}
    assert found == {}, "\n".join(f"{p}: {v}" for p, v in found.items())
