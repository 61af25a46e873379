"""Object-level authorization of work orders (issue 14): seat B against seat A's order on every
route of the API and of the pages, a unit against another unit's order, a partner against
orders; every field typed and length-limited (a 400 naming the field, never a 500). On SQLite
and PostgreSQL, against the app served on a real port (no Asterisk: orders need none)."""

from __future__ import annotations

import http.cookiejar
import json
import urllib.error
import urllib.parse
import urllib.request
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from acd.history.models import Call
from acd.orders.models import OrderEvent, WorkOrder
from acd.orders.service import ALL_ACTIONS
from tests.support.backoffice import PASSWORD, back_office, token, user

NOW = datetime.now(UTC).replace(tzinfo=None)
# The app runs in this process here: aiohttp's advice to key request storage by RequestKey
# (acd/web/auth.py keys it by name) would otherwise be an error inside the handlers.


def api(port: int, method: str, path: str, tok: str | None, body: Any = None,
        raw: bytes | None = None) -> tuple[int, Any]:
    data = raw if raw is not None else (None if body is None else json.dumps(body).encode())
    req = urllib.request.Request(f"http://127.0.0.1:{port}{path}", data=data, method=method)
    if tok:
        req.add_header("Authorization", f"Bearer {tok}")
    req.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(req, timeout=20) as r:
            return r.status, json.loads(r.read() or b"null")
    except urllib.error.HTTPError as err:
        text = err.read()
        try:
            return err.code, json.loads(text)
        except json.JSONDecodeError:
            return err.code, text.decode(errors="replace")


class Browser:
    """A logged-in web session (cookie and CSRF token), as a page's script uses the routes."""

    def __init__(self, port: int, name: str) -> None:
        self.port = port
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))
        data = urllib.parse.urlencode({"name": name, "password": PASSWORD}).encode()
        with self.opener.open(f"http://127.0.0.1:{port}/login", data=data) as r:
            page = r.read().decode()
        self.csrf = page.split('name="csrf" content="')[1].split('"')[0] \
            if 'name="csrf"' in page else ""

    def call(self, method: str, path: str, body: Any = None) -> tuple[int, Any]:
        req = urllib.request.Request(f"http://127.0.0.1:{self.port}{path}", method=method,
                                     data=None if method == "GET" else json.dumps(body or {})
                                     .encode())
        req.add_header("Content-Type", "application/json")
        req.add_header("X-CSRF-Token", self.csrf)
        try:
            with self.opener.open(req, timeout=20) as r:
                return r.status, json.loads(r.read() or b"null")
        except urllib.error.HTTPError as err:
            return err.code, json.loads(err.read())


def answered(s: Session, uid: str, seat: str) -> None:
    s.add(Call(uniqueid=uid, linkedid=uid, node="pbx1", center="shenyang",
               caller_number="13912345678", caller_name="张三", started_at=NOW,
               ended_at=NOW, answered_at=NOW, seat_id=seat, outcome="answered"))


def bodies_for(action: str) -> dict[str, Any]:
    """A body that passes the field checks for each action (so only the policy refuses)."""
    return {"refuse": {"reason": "out_of_remit"}, "transfer": {"unit": "sy_taxi"},
            "return": {"reason": "不属本单位"}, "extend": {"days": 5, "reason": "取证"},
            "reply": {"text": "已处理"}, "reopen": {"reason": "不满意"},
            "forward": {"center": "dalian", "reason": "属大连"},
            "escalate": {"reason": "上管一级"}, "remind": {"note": ""},
            "answer_on_call": {"reply": "答复"}}.get(action, {})


def test_seat_b_against_seat_a_on_every_route(db_engine) -> None:
    """Seat A's complaint (on its own call) is invisible to seat B on every route that names
    an order, in the API and the pages (404: not even its existence), cannot be filed on again
    by B, and no attempt changed it. A unit sees only what was transferred to it; a partner
    token (12345) none of it."""
    with Session(db_engine) as s, s.begin():
        answered(s, "pbx1-100.1", "8001")
        answered(s, "pbx1-100.2", "8002")
    with back_office(db_engine) as (port, c):
        a = token(db_engine, c, "seat-a", "seat", seat="8001")
        b = token(db_engine, c, "seat-b", "seat", seat="8002")
        boss = token(db_engine, c, "boss", "supervisor")
        taxi = token(db_engine, c, "taxi", "unit", unit="sy_taxi")
        road = token(db_engine, c, "road", "unit", unit="sy_transport")
        partner = token(db_engine, c, "p12345", "partner")
        user(db_engine, c, "web-b", "seat", seat="8002")
        user(db_engine, c, "web-road", "unit", unit="sy_transport")
        status, order = api(port, "POST", "/api/orders", a, {
            "type": "complaint", "domain": "urban_transit", "content": "出租车绕路",
            "subject": "辽A12345", "caller_number": "13912345678",
            "call_uniqueid": "pbx1-100.1"})
        assert status == 201 and order["seat_id"] == "8001", order
        oid = order["id"]
        # B may not file an order on A's call, nor on a call that does not exist.
        for uid in ("pbx1-100.1", "pbx1-999.9"):
            status, out = api(port, "POST", "/api/orders", b, {
                "type": "consultation", "domain": "highway", "content": "x",
                "call_uniqueid": uid})
            assert status == 403 and "call_uniqueid" in out["error"], out

        attempts = refused = 0
        web_b, web_road = Browser(port, "web-b"), Browser(port, "web-road")
        strangers = (("api", b), ("api", road), ("api", partner), ("web", web_b),
                     ("web", web_road))
        for kind, who in strangers:
            routes = [("GET", f"/{kind}/orders/{oid}", None)] + [
                ("POST", f"/{kind}/orders/{oid}/{action}", bodies_for(action))
                for action in sorted(ALL_ACTIONS)]
            for method, path, body in routes:
                status, out = api(port, method, path, who, body) if kind == "api" \
                    else who.call(method, path, body)  # type: ignore[union-attr]
                attempts += 1
                assert status in (403, 404), (kind, method, path, status, out)
                refused += 1
                if status == 404:
                    assert "出租车绕路" not in json.dumps(out, ensure_ascii=False)
            listing = api(port, "GET", "/api/orders", who)[1] if kind == "api" \
                else who.call("GET", "/web/orders/list")[1]  # type: ignore[union-attr]
            attempts += 1
            if isinstance(listing, list):
                assert oid not in [o["id"] for o in listing]
                refused += 1
            else:  # a partner token has no order list at all
                assert "出租车绕路" not in json.dumps(listing, ensure_ascii=False)
                refused += 1
        assert attempts == refused == 5 * (1 + len(ALL_ACTIONS) + 1)

        # Nothing of it changed the order: its history is the acceptance alone.
        with Session(db_engine) as s:
            assert [e.action for e in s.scalars(select(OrderEvent).where(
                OrderEvent.order_id == oid))] == ["accept"]

        # The owner and the center act; the unit it goes to sees it, the other does not.
        assert api(port, "GET", f"/api/orders/{oid}", a)[0] == 200
        assert api(port, "POST", f"/api/orders/{oid}/extend", a,
                   bodies_for("extend"))[0] == 403  # a seat does not extend
        assert api(port, "POST", f"/api/orders/{oid}/transfer", a, {"unit": "sy_taxi"})[0] == 200
        assert api(port, "GET", f"/api/orders/{oid}", taxi)[1]["caller_number"] == "13912345678"
        assert api(port, "GET", f"/api/orders/{oid}", road)[0] == 404
        assert api(port, "POST", f"/api/orders/{oid}/close", taxi)[0] == 403  # not a unit's
        assert api(port, "POST", f"/api/orders/{oid}/receive", taxi)[0] == 200
        assert api(port, "POST", f"/api/orders/{oid}/reply", taxi, {"text": "已退款"})[0] == 200
        assert api(port, "GET", f"/api/orders/{oid}", taxi)[0] == 404  # no longer its order
        assert api(port, "POST", f"/api/orders/{oid}/close", boss)[0] == 200
        # A seat's list: its own orders only; a masked number for the others' view.
        assert [o["id"] for o in api(port, "GET", "/api/orders", b)[1]] == []
        assert [o["id"] for o in api(port, "GET", "/api/orders", a)[1]] == [oid]


def test_every_field_typed_and_limited(db_engine) -> None:
    """What gave 500 on main (a list as call_uniqueid, "yes" as cross_region) and what would
    next (a NUL byte, a lone surrogate, an id past PostgreSQL's integer, 10,000 characters):
    a 400 that names the field, or a 404 for an id that cannot exist; nothing written."""
    with back_office(db_engine) as (port, c):
        boss = token(db_engine, c, "boss", "supervisor")
        good = {"type": "consultation", "domain": "highway", "content": "ETC 怎么办理",
                "source": "web"}
        cases = [({"call_uniqueid": ["a", "b"]}, "call_uniqueid"),
                 ({"cross_region": "yes"}, "cross_region"),
                 ({"content": "x\x00y"}, "content"),
                 ({"content": "x" * 10_000}, "content"),
                 ({"caller_name": ["张"]}, "caller_name"),
                 ({"caller_number": "138-abc"}, "caller_number"),
                 ({"type": 7}, "type"), ({"domain": None}, "domain"),
                 ({"seat_id": "8002"}, "seat_id"),
                 ({"cross_region": True}, "region"),
                 ({"source": "call"}, "call_uniqueid")]
        for change, name in cases:
            status, out = api(port, "POST", "/api/orders", boss, {**good, **change})
            assert status == 400 and out["error"].startswith(name), (change, out)
        status, out = api(port, "POST", "/api/orders", boss,
                          raw=b'{"type": "consultation", "domain": "highway", '
                              b'"content": "\\ud800", "source": "web"}')
        assert status == 400 and out["error"].startswith("content"), out
        assert api(port, "POST", "/api/orders", boss, raw=b"[1, 2]")[0] == 400
        assert api(port, "POST", "/api/orders", boss, raw=b"{nope")[0] == 400
        for oid in ("99999999999999999999", "-1", "0", "１", "abc"):
            assert api(port, "GET", f"/api/orders/{urllib.parse.quote(oid)}", boss)[0] == 404
        status, order = api(port, "POST", "/api/orders", boss, good)
        assert status == 201
        oid = order["id"]
        for action, body, name in (("extend", {"days": "5", "reason": "x"}, "days"),
                                   ("extend", {"days": True, "reason": "x"}, "days"),
                                   ("refuse", {"reason": "我不想"}, "reason"),
                                   ("transfer", {"unit": "沈阳市客运管理处"}, "unit"),
                                   ("forward", {"center": "beijing", "reason": "x"}, "center"),
                                   ("remind", {"note": {"a": 1}}, "note")):
            status, out = api(port, "POST", f"/api/orders/{oid}/{action}", boss, body)
            assert status == 400 and out["error"].startswith(name), (action, out)
        assert api(port, "GET", "/api/orders?status=lost", boss)[0] == 400
        assert api(port, "GET", "/api/kb?q=" + urllib.parse.quote("路" * 201), boss)[0] == 400
        with Session(db_engine) as s:
            assert len(s.scalars(select(WorkOrder)).all()) == 1
            assert [e.action for e in s.scalars(select(OrderEvent))] == ["accept"]
