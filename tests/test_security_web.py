"""The web closed to abuse, over HTTP against the real aiohttp app on a socket (its engine a
stand-in: nothing here needs Asterisk) and a real Redis, with the `hotline` commands run as
an operator runs them; then the pages in Debian's chromium with the CSP enforced.

- every response carries the security headers (a CSP without 'unsafe-inline', no framing);
- logout ends every session of the user; `hotline web user reset|revoke|remove` and
  `hotline engine token remove` take effect on the next request;
- an open WebSocket of a revoked or removed user is closed (4401) within seconds;
- cookies are Secure behind HTTPS; the login limiter's table stays bounded;
- passwords are argon2id, and an old scrypt hash is replaced at the next good login.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import http.cookiejar
import io
import json
import os
import re
import secrets
import subprocess
import sys
import threading
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from types import SimpleNamespace
from typing import Any
from unittest import mock

import aiohttp
import pytest
from aiohttp import web
from sqlalchemy.orm import Session, sessionmaker

from acd.history import db
from acd.web import pages, users
from acd.web.app import make_app
from acd.web.auth import CSP, LoginLimiter
from acd.web.users import WebUser
from hotline import center as center_mod
from hotline import logs
from hotline.center import Center, Security
from hotline.shell import cli
from tests.support.browser import ARTIFACTS, launch, log_in, require_chromium
from tests.support.real import free_port
from tests.support.waiting import wait_for

# The app runs in this process: aiohttp's advice to key the request's storage with
# RequestKeys (the app keeps plain names, as in production) is not this test's subject.
pytestmark = pytest.mark.filterwarnings("ignore::aiohttp.web_exceptions.NotAppKeyWarning")
PASSWORD = "correct horse"
ROOT = Path(__file__).resolve().parent.parent


def snapshot() -> dict[str, Any]:
    return {"queues": {}, "seats": {}, "nodes": {}}


@dataclass
class Site:
    port: int
    url: str            # the database's URL, for the `hotline` commands
    center_file: Path
    state: Path
    sessions: sessionmaker[Session]

    def hotline(self, *args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
        """The `hotline` command's own entry point (hotline.shell.cli.main), run here rather
        than in a new interpreter: the same parsing and code, without the start-up time."""
        argv = ["--center", str(self.center_file), *args,
                "--database", self.url]
        out, err = io.StringIO(), io.StringIO()
        umask, old_env = os.umask(0o022), os.environ.get("HOTLINE_VAR")
        os.umask(umask)
        os.environ["HOTLINE_VAR"] = str(self.state)
        try:
            # (logging is this process's, already set up: main must not set it up again)
            with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err), \
                    _stdin(stdin), mock.patch.object(logs, "_configured", True):
                code = cli.main(argv)
        finally:
            os.umask(umask)
            if old_env is None:
                os.environ.pop("HOTLINE_VAR", None)
            else:
                os.environ["HOTLINE_VAR"] = old_env
        return subprocess.CompletedProcess(argv, code, out.getvalue(), err.getvalue())

    def add_user(self, name: str, role: str, seat: str = "") -> None:
        """As `hotline web user add` does (tests/test_web.py runs that command itself)."""
        users.add(self.sessions, name, role, "shenyang", PASSWORD, seat)


@contextmanager
def _stdin(text: str) -> Iterator[None]:
    old = sys.stdin
    sys.stdin = io.StringIO(text)
    try:
        yield
    finally:
        sys.stdin = old


@contextmanager
def serving(center: Center, state: Path, redis_url: str | None) -> Iterator[Site]:
    """The web app as `hotline engine run` serves it, in a thread, on a free port."""
    url = f"sqlite:///{state / 'web.sqlite'}"
    engine = db.make_engine(url)
    db.create_schema(engine)
    sessions = db.session_factory(engine)
    fake = SimpleNamespace(snapshot=snapshot, manager=lambda node: None, seat=lambda s: None,
                           call=lambda u: None, recordings_dirs=dict)
    app = make_app(fake, center, sessions, redis_url, secrets.token_bytes(32),  # type: ignore[arg-type]
                   run_engine=False)
    port = free_port()
    loop = asyncio.new_event_loop()
    runner = web.AppRunner(app, access_log=None)
    ready = threading.Event()

    def run() -> None:
        asyncio.set_event_loop(loop)
        loop.run_until_complete(runner.setup())
        loop.run_until_complete(web.TCPSite(runner, "127.0.0.1", port).start())
        ready.set()
        loop.run_forever()

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    assert ready.wait(20)
    center_file = state / "center.toml"
    try:
        yield Site(port, url, center_file, state, sessions)
    finally:
        asyncio.run_coroutine_threadsafe(runner.cleanup(), loop).result(20)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(10)
        loop.close()
        engine.dispose()


@pytest.fixture
def site(tmp_path: Path, redis_url: str) -> Iterator[Site]:
    center = center_mod.load(center_mod.EXAMPLE)
    (tmp_path / "center.toml").write_text(center_mod.EXAMPLE.read_text(encoding="utf-8"))
    with serving(center, tmp_path, redis_url) as s:
        for name, role, seat in (("boss", "supervisor", ""), ("root", "admin", ""),
                                 ("seat1", "seat", "8001")):
            s.add_user(name, role, seat)
        yield s


class Browser:
    """A cookie-keeping HTTP client (urllib), as a browser without JavaScript."""

    def __init__(self, port: int) -> None:
        self.base = f"http://127.0.0.1:{port}"
        self.jar = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.jar))
        self.csrf = ""

    def open(self, method: str, path: str, data: bytes | None = None,
             headers: dict[str, str] | None = None) -> tuple[int, dict[str, str], str, str]:
        """(status, headers, body, final URL), following redirects."""
        req = urllib.request.Request(self.base + path, data=data, method=method,
                                     headers=headers or {})
        try:
            with self.opener.open(req, timeout=20) as r:
                return r.status, dict(r.headers), r.read().decode(errors="replace"), r.url
        except urllib.error.HTTPError as err:
            with err:
                return err.code, dict(err.headers), err.read().decode(errors="replace"), err.url

    def login(self, name: str, password: str = PASSWORD) -> int:
        status, _, body, _ = self.open("POST", "/login", urllib.parse.urlencode(
            {"name": name, "password": password}).encode())
        found = re.search(r'name="csrf" content="([^"]+)"', body)
        self.csrf = found.group(1) if found else ""
        return status

    def page(self, path: str) -> str:
        """The final URL after opening a page: the page itself, or /login."""
        return self.open("GET", path)[3].removeprefix(self.base)

    def logout(self, csrf: bool = True) -> int:
        return self.open("POST", "/logout", b"",
                         {"X-CSRF-Token": self.csrf} if csrf else {})[0]


def header_problems(headers: dict[str, str], static: bool = False) -> list[str]:
    h = {k.lower(): v for k, v in headers.items()}
    csp = h.get("content-security-policy", "")
    problems = []
    if "unsafe-inline" in csp or "unsafe-eval" in csp or "frame-ancestors 'none'" not in csp \
            or "script-src 'self'" not in csp:
        problems.append(f"CSP {csp!r}")
    if h.get("x-frame-options") != "DENY":
        problems.append("X-Frame-Options")
    if h.get("x-content-type-options") != "nosniff":
        problems.append("nosniff")
    if h.get("referrer-policy") != "no-referrer":
        problems.append("Referrer-Policy")
    if not static and h.get("cache-control") != "no-store":
        problems.append("Cache-Control")
    return problems


def test_every_response_carries_the_security_headers(site: Site) -> None:
    anonymous, boss = Browser(site.port), Browser(site.port)
    assert boss.login("boss") == 200
    token = site.hotline("engine", "token", "add", "robot", "--role", "admin").stdout.strip()
    cases = {
        "login page": anonymous.open("GET", "/login"),
        "wrong login": anonymous.open("POST", "/login", b"name=boss&password=nope"),
        "no such page": anonymous.open("GET", "/nowhere"),
        "api without token": anonymous.open("GET", "/api/live"),
        "api with token": anonymous.open("GET", "/api/live", None,
                                         {"Authorization": f"Bearer {token}"}),
        "wallboard": boss.open("GET", "/wallboard"),
        "refused post": boss.open("POST", "/web/broadcast", b"{}"),
        "audit (not an admin)": boss.open("GET", "/web/audit/spy"),
    }
    assert cases["api with token"][0] == 200 and cases["wallboard"][0] == 200
    for name, (status, headers, _, _) in cases.items():
        assert header_problems(headers) == [], (name, status)
    static = anonymous.open("GET", "/static/live.js")
    assert static[0] == 200 and header_problems(static[1], static=True) == []
    # The pages hold no inline script (the CSP would block it): scripts are files.
    seat, root = Browser(site.port), Browser(site.port)
    assert seat.login("seat1") == 200 and root.login("root") == 200
    for b, path in ((boss, "/wallboard"), (boss, "/inspect"), (seat, "/seat"),
                    (root, "/audit")):
        status, headers, body, final = b.open("GET", path)
        assert (status, final) == (200, b.base + path)
        assert header_problems(headers) == [], path
        assert not re.search(r"<script(?![^>]*\bsrc=)", body), path
        assert "{{" not in body


def test_logout_and_the_operators_commands_end_sessions(site: Site) -> None:
    a, b = Browser(site.port), Browser(site.port)
    assert a.login("boss") == 200 and b.login("boss") == 200
    assert a.page("/wallboard") == "/wallboard" and b.page("/wallboard") == "/wallboard"
    # Logout needs the page's CSRF token (no logout by a forged form), then ends every
    # session of the user: the other browser too.
    assert a.logout(csrf=False) == 403 and a.page("/wallboard") == "/wallboard"
    assert a.logout() == 200  # followed to the login page
    assert a.page("/wallboard") == "/login" and b.page("/wallboard") == "/login"
    # revoke: every session of the user ends; a new login works.
    assert a.login("boss") == 200
    assert site.hotline("web", "user", "revoke", "boss").returncode == 0
    assert a.page("/wallboard") == "/login" and a.login("boss") == 200
    # reset: a new password; the old one and the old sessions stop working.
    out = site.hotline("web", "user", "reset", "boss", "--password-stdin",
                       stdin="a much longer secret\n")
    assert out.returncode == 0, out.stderr
    assert a.page("/wallboard") == "/login"
    assert a.login("boss") == 401 and a.login("boss", "a much longer secret") == 200
    # remove: the user is gone, so are its sessions.
    assert site.hotline("web", "user", "remove", "boss").returncode == 0
    assert a.page("/wallboard") == "/login"
    assert a.login("boss", "a much longer secret") == 401
    # A refusal is one line with exit 2.
    out = site.hotline("engine", "token", "remove", "ghost")
    assert out.returncode == 2 and "ghost" in out.stderr and "Traceback" not in out.stderr
    # A removed token is refused from the next request.
    token = site.hotline("engine", "token", "add", "robot", "--role", "supervisor").stdout.strip()
    headers = {"Authorization": f"Bearer {token}"}
    assert a.open("GET", "/api/live", None, headers)[0] == 200
    assert site.hotline("engine", "token", "remove", "robot").returncode == 0
    assert a.open("GET", "/api/live", None, headers)[0] == 401


async def _socket_closes(port: int, cookie: str, act) -> tuple[Any, float]:  # type: ignore[no-untyped-def]
    async with aiohttp.ClientSession(headers={"Cookie": f"hotline_session={cookie}"}) as http_:
        async with http_.ws_connect(f"http://127.0.0.1:{port}/ws") as ws:
            first = await asyncio.wait_for(ws.receive_json(), 10)
            assert first["kind"] == "snapshot"
            await asyncio.to_thread(act)
            started = asyncio.get_running_loop().time()
            while True:
                msg = await asyncio.wait_for(ws.receive(), 15)
                if msg.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED,
                                aiohttp.WSMsgType.CLOSING):
                    return ws.close_code, asyncio.get_running_loop().time() - started


def _cookie(b: Browser) -> str:
    return next(c.value for c in b.jar if c.name == "hotline_session")


def test_an_open_websocket_is_closed_when_its_user_is_revoked_or_removed(site: Site) -> None:
    for name, act in (("boss", ("web", "user", "revoke", "boss")),
                      ("seat1", ("web", "user", "remove", "seat1"))):
        b = Browser(site.port)
        assert b.login(name) == 200
        code, after = asyncio.run(_socket_closes(site.port, _cookie(b), lambda a=act: (
            site.hotline(*a).check_returncode())))
        assert code == pages.REVOKED, (name, code)
        assert after < pages.RECHECK_S + 5, after
    # A socket of a user in good standing stays open past several re-checks.
    b = Browser(site.port)
    assert b.login("root") == 200

    async def stays() -> bool:
        async with aiohttp.ClientSession(
                headers={"Cookie": f"hotline_session={_cookie(b)}"}) as http_:
            async with http_.ws_connect(f"http://127.0.0.1:{site.port}/ws") as ws:
                await ws.receive_json()
                try:
                    await asyncio.wait_for(ws.receive(), pages.RECHECK_S * 2 + 0.5)
                except TimeoutError:
                    return True
                return not ws.closed
    assert asyncio.run(stays())


def test_cookies_are_secure_behind_https_and_hsts_is_sent(tmp_path: Path, redis_url) -> None:
    center = center_mod.load(center_mod.EXAMPLE)
    for https in (False, True):
        state = tmp_path / ("https" if https else "http")
        state.mkdir()
        (state / "center.toml").write_text(center_mod.EXAMPLE.read_text(encoding="utf-8"))
        with serving(replace(center, security=Security(https=https)), state, redis_url) as s:
            s.add_user("boss", "supervisor")
            req = urllib.request.Request(f"http://127.0.0.1:{s.port}/login", method="POST",
                                         data=b"name=boss&password=correct+horse")
            with pytest.raises(urllib.error.HTTPError) as answer:  # the redirect, not followed
                urllib.request.build_opener(NoRedirect).open(req, timeout=10)
            cookie = answer.value.headers.get("Set-Cookie", "")
            hsts = answer.value.headers.get("Strict-Transport-Security")
            answer.value.close()
        assert answer.value.code == 302 and "HttpOnly" in cookie and "SameSite=Strict" in cookie
        assert ("Secure" in cookie) is https and (hsts is not None) is https


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        return None


def test_passwords_are_argon2id_and_old_hashes_are_upgraded_at_login(site: Site) -> None:
    with site.sessions() as s:
        assert s.get(WebUser, "boss").password.startswith("$argon2id$")  # type: ignore[union-attr]
    # A user from before: scrypt, N=2^14, parameters not in the hash.
    salt = secrets.token_bytes(16)
    old = "scrypt$" + salt.hex() + "$" + hashlib.scrypt(
        b"old horse battery", salt=salt, n=2**14, r=8, p=1, dklen=32).hex()
    with site.sessions.begin() as s:
        s.add(WebUser(name="veteran", role="supervisor", seat_id="", center="shenyang",
                      password=old, created_at=datetime.now(UTC).replace(tzinfo=None)))
    b = Browser(site.port)
    assert b.login("veteran", "wrong one") == 401
    with site.sessions() as s:
        assert s.get(WebUser, "veteran").password == old  # type: ignore[union-attr]
    assert b.login("veteran", "old horse battery") == 200
    with site.sessions() as s:
        new = s.get(WebUser, "veteran").password  # type: ignore[union-attr]
    assert new.startswith("$argon2id$") and new != old
    assert Browser(site.port).login("veteran", "old horse battery") == 200


def test_the_login_limiter_stays_bounded() -> None:
    limiter = LoginLimiter(limit=5, window_s=60, max_keys=1000)
    for i in range(20_000):  # a flood of made-up names from made-up addresses
        limiter.failed(f"u:name{i}", f"a:10.0.{i // 250}.{i % 250}")
    assert len(limiter.failures) <= 1000
    # It still blocks what it must: five failures of one name.
    for _ in range(5):
        limiter.failed("u:boss", "a:192.0.2.9")
    assert limiter.blocked("u:boss") and limiter.blocked("a:192.0.2.9")
    assert not limiter.blocked("u:someone-else")
    # The CSP the app sends is the one checked above.
    assert "unsafe-inline" not in CSP and "frame-ancestors 'none'" in CSP
    assert json.dumps(CSP)  # one header value, no line break


def until(page: Any, expression: str, timeout: float = 15.0) -> Any:
    """Poll a page from here: Playwright's own wait_for_function compiles its predicate in
    the page, which this CSP (no 'unsafe-eval') rightly forbids."""
    return wait_for(expression, lambda: page.evaluate(expression), timeout)


def test_the_pages_work_under_the_csp_and_leave_when_the_session_ends(site: Site) -> None:
    """Debian's chromium with the CSP enforced (never bypassed): every page's script runs
    from its file, nothing is refused; 退出 logs out; a revoked user's wallboard goes to the
    login page by itself."""
    require_chromium()
    from playwright.sync_api import sync_playwright
    base = f"http://127.0.0.1:{site.port}"
    with sync_playwright() as p:
        browser = launch(p)
        try:
            refused: list[str] = []
            boss = log_in(browser, base, "boss", "/wallboard", bypass_csp=False)
            boss.on("console", lambda m: refused.append(m.text)
                    if "Content Security Policy" in m.text else None)
            until(boss, "document.getElementById('center').textContent === '沈阳市12328交通运输服务监督电话'")
            until(boss, "document.getElementById('spyphone').options.length > 0")
            # An inline script injected into the page is refused by the browser.
            boss.evaluate("""() => { const s = document.createElement('script');
                s.textContent = 'window.__inline = 1'; document.body.appendChild(s); }""")
            assert boss.evaluate("window.__inline") is None
            seat = log_in(browser, base, "seat1", "/seat", bypass_csp=False)
            until(seat, "document.getElementById('seat').textContent === '8001'")
            assert seat.locator("#reasons option").count() == 5
            root = log_in(browser, base, "root", "/wallboard", bypass_csp=False)
            root.goto(f"{base}/audit")
            until(root, "document.getElementById('count').textContent.includes('共')")
            root.screenshot(path=str(ARTIFACTS / "audit-page.png"), full_page=True)
            # 退出 on the seat console: back to the login page, the session gone.
            seat.click("#logout")
            seat.wait_for_url(f"{base}/login")
            seat.goto(f"{base}/seat")
            assert seat.url == f"{base}/login"
            # The operator revokes the supervisor: the open wallboard leaves by itself.
            assert site.hotline("web", "user", "revoke", "boss").returncode == 0
            boss.wait_for_url(f"{base}/login?why=ended", timeout=15000)
            assert [m for m in refused if "inline" not in m] == [], refused
        finally:
            browser.close()
