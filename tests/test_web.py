"""The web pages in a real browser (Debian's chromium driven by Playwright) against the running
stack with SIPp calls; the role matrix, CSRF and the login limit over plain HTTP."""

from __future__ import annotations

import http.cookiejar
import json
import os
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator

import pytest

from hotline.shell.simulate.ports import free_ports
from tests.support.browser import ARTIFACTS, launch, log_in, require_chromium
from tests.support.engine import EngineProcess
from tests.support.rig import RunningPbx

pytestmark = pytest.mark.asterisk
ROLES = ("seat", "supervisor", "inspector", "analyst", "admin", "unit", "revisit")


def add_user(pbx: RunningPbx, url: str, name: str, role: str, seat: str = "",
             unit: str = "") -> None:
    env = {**os.environ, "HOTLINE_VAR": str(pbx.state)}
    args = [sys.executable, "-m", "hotline.shell.cli", "--center", str(pbx.center_file), "web", "user",
            "add", name, "--role", role, "--password-stdin", "--database", url]
    args += (["--seat", seat] if seat else []) + (["--unit", unit] if unit else [])
    out = subprocess.run(args, input="correct horse\n",
                         env=env, capture_output=True, text=True, timeout=30)
    assert out.returncode == 0, out.stderr


@pytest.fixture
def stack(pbx: RunningPbx, redis_url, tmp_path, ledger) -> Iterator[tuple[int, RunningPbx]]:
    url, _ = ledger
    port = free_ports(1)[0]
    for role in ROLES:
        add_user(pbx, url, role, role, "8001" if role == "seat" else "",
                 "sy_taxi" if role == "unit" else "")
    proc = EngineProcess(pbx, url, redis_url, tmp_path / "engine.log",
                         extra_args=("--instance", pbx.instance.name, "--http-port", str(port)))
    proc.start()
    try:
        yield port, pbx
    finally:
        proc.stop()


class Client:
    def __init__(self, port: int) -> None:
        self.port = port
        self.jar = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.jar))
        self.csrf = ""

    def login(self, name: str, password: str = "correct horse") -> int:
        data = urllib.parse.urlencode({"name": name, "password": password}).encode()
        try:
            with self.opener.open(f"http://127.0.0.1:{self.port}/login", data=data) as r:
                page = r.read().decode()
                if 'name="csrf" content="' in page:
                    self.csrf = page.split('name="csrf" content="')[1].split('"')[0]
                return r.status
        except urllib.error.HTTPError as err:
            return err.code

    def get(self, path: str) -> int:
        try:
            with self.opener.open(f"http://127.0.0.1:{self.port}{path}") as r:
                return r.status
        except urllib.error.HTTPError as err:
            return err.code

    def request(self, method: str, path: str) -> tuple[int, str]:
        """Any route, with the CSRF token on POST and an empty JSON body; (status, body)."""
        req = urllib.request.Request(f"http://127.0.0.1:{self.port}{path}", method=method,
                                     data=b"{}" if method == "POST" else None)
        req.add_header("Content-Type", "application/json")
        if method == "POST":
            req.add_header("X-CSRF-Token", self.csrf)
        self.landed_on_login = False
        try:
            with self.opener.open(req, timeout=20) as r:
                self.landed_on_login = r.url.endswith("/login")
                return r.status, r.read(4096).decode(errors="replace")
        except urllib.error.HTTPError as err:
            return err.code, err.read(4096).decode(errors="replace")

    def post(self, path: str, body: object, csrf: bool = True) -> int:
        req = urllib.request.Request(f"http://127.0.0.1:{self.port}{path}",
                                     data=json.dumps(body).encode(), method="POST")
        req.add_header("Content-Type", "application/json")
        if csrf:
            req.add_header("X-CSRF-Token", self.csrf)
        try:
            with self.opener.open(req) as r:
                return r.status
        except urllib.error.HTTPError as err:
            return err.code


def test_role_matrix_csrf_and_login_limit(stack) -> None:
    port, _ = stack
    # What each role gets on each route (a seat only on itself; 400 for a reason that is
    # not in the list proves the request passed the role check).
    expected = {
        "seat": {"/wallboard": 403, "/seat": 200, "own": 400, "other": 403, "bcast": 403},
        "supervisor": {"/wallboard": 200, "/seat": 403, "own": 400, "other": 400, "bcast": 200},
        "inspector": {"/wallboard": 403, "/seat": 403, "own": 403, "other": 403, "bcast": 403},
        "analyst": {"/wallboard": 403, "/seat": 403, "own": 403, "other": 403, "bcast": 403},
        "admin": {"/wallboard": 200, "/seat": 403, "own": 400, "other": 400, "bcast": 200},
        "unit": {"/wallboard": 403, "/seat": 403, "own": 403, "other": 403, "bcast": 403},
        "revisit": {"/wallboard": 403, "/seat": 403, "own": 403, "other": 403, "bcast": 403},
    }
    anonymous = Client(port)
    assert anonymous.get("/wallboard") in (200, 302)  # redirected to the login page
    assert anonymous.post("/web/seats/8001/busy", {"reason": "x"}) == 401
    for role, want in expected.items():
        c = Client(port)
        assert c.login(role) == 200
        got = {"/wallboard": c.get("/wallboard"), "/seat": c.get("/seat"),
               "own": c.post("/web/seats/8001/busy", {"reason": "not-a-reason"}),
               "other": c.post("/web/seats/8002/busy", {"reason": "not-a-reason"}),
               "bcast": c.post("/web/broadcast", {"text": ""})}
        assert got == want, role
        # CSRF: the same request without the token is refused.
        assert c.post("/web/broadcast", {"text": ""}, csrf=False) == 403
    limited = Client(port)
    codes = [limited.login("supervisor", "wrong") for _ in range(6)]
    assert codes[:5] == [401] * 5 and codes[5] == 429
    assert limited.login("supervisor") == 429  # still blocked for a minute


PUBLIC = {"/login", "/logout", "/static"}  # the only routes without a role check


def app_routes() -> list[tuple[str, str, tuple[str, ...]]]:
    """Every (method, path, allowed roles) the web app serves, read from the app itself, so a
    route added without a role check fails this test."""
    from types import SimpleNamespace

    from acd.web.app import make_app
    from hotline.center import EXAMPLE, load

    engine = SimpleNamespace(manager=lambda node: None, seat=lambda seat: None,
                             recordings_dirs=dict)
    app = make_app(engine, load(EXAMPLE), None, None, b"k" * 32,  # type: ignore[arg-type]
                   run_engine=False)
    out = []
    for route in app.router.routes():
        path = route.resource.canonical if route.resource else ""
        if route.method == "HEAD" or path in PUBLIC or path.startswith("/api"):
            continue  # the API's token routes: tests/test_engine_api.py
        roles = getattr(route.handler, "allowed_roles", None)
        assert roles is not None, f"{route.method} {path} has no role check"
        out.append((route.method, path, roles))
    return out


# The policy, written here independently of acd/web/app.py's ROLES: who may use what.
EVERYONE = ("seat", "supervisor", "inspector", "analyst", "admin", "unit", "revisit")
ORDERS = ("seat", "supervisor", "admin", "unit")  # which order: acd/orders/access.py
REVISITS = ("revisit", "supervisor", "admin")  # 回访: the revisit workers and their bosses
POLICY: dict[str, tuple[str, ...]] = {
    "/": EVERYONE,
    "/wallboard": ("supervisor", "admin"),
    "/seat": ("seat",),
    "/ws": ("seat", "supervisor", "admin"),
    "/web/seats/{seat}/{action}": ("seat", "supervisor", "admin"),
    "/web/broadcast": ("supervisor", "admin"),
    "/web/calls/{uniqueid}": ("seat", "supervisor", "admin"),
    "/web/orders": ("seat",),
    "/web/kb": ("seat", "supervisor", "admin"),
    "/web/kb/{id}/used": ("seat",),
    "/web/calls/{uniqueid}/survey": ("seat",),
    "/inspect": ("inspector", "supervisor", "admin"),
    "/web/inspect/center": ("inspector", "supervisor", "admin"),
    "/web/inspect/recordings": ("inspector", "supervisor", "admin"),
    "/web/inspect/sample": ("inspector", "supervisor", "admin"),
    "/web/inspect/timeline": ("inspector", "supervisor", "admin"),
    "/web/recordings/{uniqueid}": ("inspector", "supervisor", "admin"),  # not seats, analysts
    "/web/spy/phones": ("supervisor", "admin"),
    "/web/spy/{seat}": ("supervisor", "admin"),
    "/web/choices": ("seat", "supervisor", "admin"),
    "/unit": ("unit",),
    "/backoffice": ("supervisor", "admin"),
    "/web/unit/me": ("unit",),
    "/web/orders/list": ORDERS,
    "/web/orders/{id}": ORDERS,
    "/web/orders/{id}/{action}": ORDERS,
    "/revisit": REVISITS,
    "/web/revisits": REVISITS,
    "/web/revisits/sample": REVISITS,
    "/web/revisits/{id}": REVISITS,
    "/audit": ("admin",),  # the listening audit (who listened to whom)
    "/web/audit/spy": ("admin",),
    "/web/wallboard/trend": ("supervisor", "admin"),  # today by quarter hour vs last week
    "/admin": ("admin",),  # users and API tokens
    "/web/admin/users": ("admin",),
    "/web/admin/users/{name}/{action}": ("admin",),
    "/web/admin/tokens": ("admin",),
    "/web/admin/tokens/{name}/remove": ("admin",),
    "/web/quality/sheet": ("inspector", "supervisor", "admin"),  # scoring recordings
    "/web/quality/scores": ("inspector", "supervisor", "admin"),
    "/web/quality/report": ("inspector", "supervisor", "admin"),
    "/web/staffing-plan": ("supervisor", "admin"),
    "/web/loans": ("supervisor", "admin"),  # seats lent between centers: whose, in the service
    "/web/loans/return": ("supervisor", "admin"),
}


def test_every_route_with_every_role(stack) -> None:
    """Walk every route of the app with every role (and none): a role not allowed gets 403
    from the role check, an allowed one never does; without a login, 401 or the login page."""
    port, _ = stack
    routes = app_routes()
    assert {p: set(r) for _, p, r in routes} == {p: set(r) for p, r in POLICY.items()}
    clients = {}
    for role in ROLES:
        clients[role] = Client(port)
        assert clients[role].login(role) == 200
    fill = {"{seat}": "8001", "{action}": "busy", "{uniqueid}": "pbx1-0.0", "{id}": "1",
            "{name}": "nobody"}
    seen = []
    for method, path, allowed in routes:
        url = path
        for k, v in fill.items():
            url = url.replace(k, v)
        anonymous = Client(port)
        status, _ = anonymous.request(method, url)
        assert status in (302, 401) or (status == 200 and anonymous.landed_on_login), \
            (method, path, status)
        for role, c in clients.items():
            status, body = c.request(method, url)
            refused = status == 403 and f"not for role {role}" in body
            assert refused == (role not in allowed), (method, path, role, status, body)
            seen.append((path, role, status))
    assert {r for _, r, s in seen if s != 403} >= {"seat", "supervisor", "inspector", "admin"}


def test_wallboard_live_in_chromium(stack, sipp, numbers) -> None:
    require_chromium()
    from playwright.sync_api import sync_playwright
    port, pbx = stack
    base = f"http://127.0.0.1:{port}"
    sipp.seat("8002", pbx.seat_password("8002"), ring_s=0.3, talk_s=8)
    # The console's seat has its phone registered too: a queue whose only member is offline
    # has no seat signed in, and its callers are offered a message (issue 16), never queued.
    sipp.seat("8001", pbx.seat_password("8001"), ring_s=0.3, talk_s=8)
    with sync_playwright() as p:
        browser = launch(p)
        try:
            boss = log_in(browser, base, "supervisor", "/wallboard")
            boss.wait_for_selector("#queues [data-queue]")
            # Beside the live advice, the day's plan from last year's counterpart (the
            # calendar's choice named; this ledger has no last year, so no figures).
            deadline = time.monotonic() + 20
            while " ← " not in boss.evaluate("document.getElementById('plan-label').textContent"):
                assert time.monotonic() < deadline, "the plan's label never came"
                time.sleep(0.2)
            assert set(boss.locator("#queues [data-queue] .plan").all_inner_texts()) == \
                {"本小时计划座席：无数据"}
            # A seat signs in and goes busy from its console...
            seat = log_in(browser, base, "seat", "/seat")
            seat.click("#signin")
            seat.wait_for_function("document.getElementById('state').textContent === '就绪'")
            seat.select_option("#reasons", "meal")
            seat.click("#busy")
            # ...and the wallboard shows it (how fast is bench/lag.py's to measure, not a
            # timed test's: a loaded machine may take more than a second).
            boss.wait_for_function("""() => { const r = document.querySelector(
                '#seats tr[data-seat="8001"]'); return r && r.querySelector('.state').textContent
                === '示忙' && r.querySelector('.reason').textContent === '用餐'; }""",
                                   timeout=15000)
            boss.screenshot(path=str(ARTIFACTS / "wallboard-seat-busy.png"), full_page=True)
            # A caller appears in the queue (no seat ready)...
            sipp.callers("web", numbers(1), hold_s=60)
            boss.wait_for_selector("#waiting tr.waiting-call", timeout=15000)
            boss.screenshot(path=str(ARTIFACTS / "wallboard-caller-waiting.png"), full_page=True)
            # ...and is gone once a SIPp seat, signed in from the wallboard's API, answers.
            boss.evaluate("post('/web/seats/8002/signin')")
            boss.wait_for_function("!document.querySelector('#waiting tr.waiting-call')",
                                   timeout=15000)
            boss.wait_for_function("""() => { const r = document.querySelector(
                '#seats tr[data-seat="8002"]'); return r && r.querySelector('.state')
                .textContent === '通话'; }""", timeout=10000)
            boss.screenshot(path=str(ARTIFACTS / "wallboard-call-answered.png"), full_page=True)
            # The staffing advice for this hour: no talk time yet, no advice; once the call
            # ends, Erlang C for 1 call in the last hour (1 seat) beside the 2 signed in.
            row = "#queues [data-queue] .staffing"
            assert "无数据" in " ".join(boss.locator(row).all_inner_texts())
            boss.wait_for_function(f"""() => [...document.querySelectorAll('{row}')].some(
                c => c.textContent.startsWith('需 1 在线 2（近1小时 1 通）'))""", timeout=20000)
        finally:
            browser.close()


def test_the_seat_console_shows_its_call_and_markup_stays_text(stack, sipp,
                                                               numbers) -> None:
    """A caller whose name is markup: the seat console shows the markup as text, runs none."""
    require_chromium()
    from playwright.sync_api import sync_playwright
    port, pbx = stack
    base = f"http://127.0.0.1:{port}"
    evil = "<img src=x onerror=window.__xss=1>"
    caller = numbers.one()
    sipp.seat("8001", pbx.seat_password("8001"), ring_s=2.0, talk_s=20)
    with sync_playwright() as p:
        browser = launch(p)
        try:
            page = log_in(browser, base, "seat", "/seat")
            page.click("#signin")
            page.wait_for_function("() => document.getElementById('state').textContent === '就绪'")
            sipp.callers("xss", [caller], names=[evil], hold_s=30)
            page.wait_for_function(
                f"() => document.getElementById('c-caller').textContent === '{caller}'",
                timeout=15000)
            assert page.text_content("#c-name") == evil
            assert page.evaluate("window.__xss") is None
            assert page.locator("#call img").count() == 0
            # Once answered (the phone rang 2 s), the wait is shown: the 2 s of ringing at least.
            page.wait_for_function(
                "() => parseFloat(document.getElementById('c-wait').textContent) >= 1.5",
                timeout=10000)
            page.screenshot(path=str(ARTIFACTS / "seat-console-call.png"), full_page=True)
        finally:
            browser.close()
