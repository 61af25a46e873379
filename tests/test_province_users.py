"""Each center's users in a deployment of several centers (issue 18: "each with its own queues,
figures and users"; docs/province.md): every web user and API token belongs to one center of
the deployment (`--center-code`, checked), logs in, and sees and acts on that center only:
its work orders, callbacks, blocked numbers, loans, the wallboard's queues. An order filed for a
call is the call's center's, so a hosted center's 工单数量 counts its own orders. Fast: the web
app on SQLite through aiohttp's test client; the same login and orders in chromium against
Asterisk are in tests/test_province_rig.py."""

from __future__ import annotations

import asyncio
import base64
import json
import time
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from acd.api import tokens
from acd.callers import callbacks
from acd.calls.state import CallState, QueueOutcome, Stay
from acd.history import db
from acd.history.ledger import Ledger
from acd.orders.models import WorkOrder
from acd.web import users
from acd.web.app import make_app
from acd.web.auth import COOKIE
from hotline import center
from hotline.localtime import now_utc
from tests.support.province import HULUDAO_EXTENSION, WebEngine, province_data, province_files

PASSWORD = "correct horse"
JINZHOU_EXTENSION = "1232802"


def three_centers() -> dict[str, Any]:
    """Shenyang (primary), Huludao and a third center, Jinzhou, so that a loan between two
    centers can be one the third does not take part in."""
    data = province_data()
    data["hosted"].append({"code": "jinzhou", "name": "锦州市12328交通运输服务监督电话",
                           "region": "辽宁省锦州市", "extension": JINZHOU_EXTENSION,
                           "default_queue": "jz_manual"})
    data["queues"].append({"name": "jz_manual", "title": "锦州人工服务", "domain": "general",
                           "center": "jinzhou", "menu": "manual"})
    data["seats"].append({"id": "8201", "queues": ["jz_manual"], "center": "jinzhou"})
    return data


@pytest.fixture
def province(tmp_path: Path) -> tuple[center.Center, Path, str]:
    return province_files(tmp_path, three_centers())


def _call(uid: str, queue: str, t0: float, seat: str, dialed: str = "12328") -> CallState:
    stay = Stay(queue=queue, entered=t0 + 5, left=t0 + 9, outcome=QueueOutcome.ANSWERED,
                seat=seat, answered=t0 + 9, talk_s=30.0, ended=t0 + 39)
    return CallState(uniqueid=uid, linkedid=uid, caller="13800000000", dialed=dialed,
                     started=t0, ended=t0 + 39, stays={queue: stay},
                     recording=f"x/{uid}.wav")


# The live view the web app is given: three queues of two centers, Shenyang's seat 8002 lent
# into Huludao's queue.
LIVE = {"queues": {q: {"waiting": 0} for q in ("highway", "hld_manual", "jz_manual")},
        "seats": {"8001": {"queues": ["highway"]}, "8002": {"queues": ["hld_manual"]},
                  "8101": {"queues": ["hld_manual"]}, "8201": {"queues": []}},
        "nodes": {}}


def _people(c: center.Center, sessions: sessionmaker[Session]) -> dict[str, str]:
    """Web users of two centers, and API tokens for the seats that file orders."""
    for name, role, seat, code in (("hld_sup", "supervisor", "", "huludao"),
                                   ("hld_seat", "seat", "8101", "huludao"),
                                   ("sy_sup", "supervisor", "", "shenyang"),
                                   ("sy_seat", "seat", "8001", "shenyang"),
                                   ("boss", "admin", "", "shenyang"),
                                   ("hld_insp", "inspector", "", "huludao")):
        users.add(sessions, name, role, code, PASSWORD, seat)
    return {"hld_seat": tokens.create(sessions, "t_hld_seat", "seat", "huludao", "8101"),
            "sy_seat": tokens.create(sessions, "t_sy_seat", "seat", "shenyang", "8001"),
            "hld_sup": tokens.create(sessions, "t_hld_sup", "supervisor", "huludao"),
            "sy_sup": tokens.create(sessions, "t_sy_sup", "supervisor", "shenyang")}


def _auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def _file_orders(client: TestClient, toks: dict[str, str]) -> dict[str, int]:
    """Each seat files the order of the call it answered (POST /api/orders, as the seat's
    console does): Huludao's seat for Huludao's call h1, Shenyang's for s1."""
    out = {}
    for who, uid in (("hld_seat", "h1"), ("sy_seat", "s1")):
        r = await client.post("/api/orders", headers=_auth(toks[who]), json={
            "type": "consultation", "domain": "highway", "content": "高速路况咨询",
            "caller_number": "13800000000", "call_uniqueid": uid})
        assert r.status == 201, await r.text()
        out[uid] = (await r.json())["id"]
    return out


def _ledger(c: center.Center, sessions: sessionmaker[Session]) -> float:
    t0 = time.time() - 600
    Ledger(sessions, c.code, "pbx1", c).write(
        [_call("h1", "hld_highway", t0, "8101", HULUDAO_EXTENSION),
         _call("s1", "highway", t0 + 60, "8001")], [], None)
    return t0


async def _log_in(client: TestClient, name: str) -> str:
    """A web login; the session's CSRF token (read from the signed cookie's payload)."""
    client.session.cookie_jar.clear()
    r = await client.post("/login", data={"name": name, "password": PASSWORD},
                          allow_redirects=False)
    assert r.status == 302, (name, r.status, await r.text())
    cookie = next(m for m in client.session.cookie_jar if m.key == COOKIE).value
    payload = cookie.rsplit(".", 1)[0]
    return str(json.loads(base64.urlsafe_b64decode(payload.encode()))["csrf"])


def test_users_and_tokens_belong_to_a_center_of_the_deployment(province, capsys,
                                                               monkeypatch) -> None:
    """`--center-code` names the center a user or token belongs to; an unknown center, or a
    seat of another center, is a one-line error (exit 2), nothing written."""
    c, path, url = province
    from hotline import logs
    from hotline.shell.cli import main
    monkeypatch.setattr(logs, "configure", lambda *args, **kwargs: None)

    def run(*args: str) -> tuple[int, str, str]:
        capsys.readouterr()
        code = main(["--center", str(path), "--log-level", "WARNING", *args,
                     "--database", url])
        out = capsys.readouterr()
        return code, out.out, out.err

    code, _, err = run("web", "user", "add", "hld_sup", "--role", "supervisor",
                       "--center-code", "huludao", "--password", PASSWORD)
    assert code == 0, err
    code, _, err = run("web", "user", "add", "hld_seat", "--role", "seat", "--seat", "8101",
                       "--center-code", "huludao", "--password", PASSWORD)
    assert code == 0, err
    code, out, _ = run("engine", "token", "add", "hld_tok", "--role", "supervisor",
                       "--center-code", "huludao")
    assert code == 0 and len(out.strip()) > 20
    for args, message in (
            (("web", "user", "add", "x", "--role", "supervisor", "--center-code", "dalian",
              "--password", PASSWORD), "--center-code: no center 'dalian' in this deployment"),
            (("web", "user", "add", "y", "--role", "seat", "--seat", "8001", "--center-code",
              "huludao", "--password", PASSWORD), "--seat: seat 8001 is shenyang's, not "
                                                  "huludao's"),
            (("engine", "token", "add", "z", "--role", "seat", "--seat", "8101"),
             "--seat: seat 8101 is huludao's, not shenyang's"),
            (("engine", "token", "add", "z", "--role", "admin", "--center-code", "dalian"),
             "no center 'dalian'"),
            (("web", "user", "revoke", "hld_sup"), "no user 'hld_sup'"),
            (("web", "user", "revoke", "hld_sup", "--center-code", "dalian"),
             "no center 'dalian'")):
        code, out, err = run(*args)
        assert code == 2 and out == "", (args, out)
        assert err.strip().count("\n") == 0 and message in err, (args, err)
    code, _, err = run("web", "user", "revoke", "hld_sup", "--center-code", "huludao")
    assert code == 0, err
    engine = db.open_database(c, url)
    with Session(engine) as s:
        assert {u.name: u.center for u in s.scalars(select(users.WebUser))} == {
            "hld_sup": "huludao", "hld_seat": "huludao"}
        assert {t.name: t.center for t in s.scalars(select(tokens.ApiToken))} == {
            "hld_tok": "huludao"}
    engine.dispose()


async def test_a_hosted_centers_users_see_and_act_on_their_center_only(province) -> None:
    """Huludao's supervisor and seat log in and see Huludao's orders only; Shenyang's order
    is a 404 to them (as if it did not exist), and the other way round. Huludao's supervisor
    lends Huludao's seats only (403 for Shenyang's), sees the loans to and from Huludao and
    its own queues and seats (and the seat lent to it) on the wallboard; another center's
    queue's trend is a 404; callbacks, blocked numbers and the inspector's recordings are each
    center's."""
    c, _, url = province
    engine = db.open_database(c, url)
    sessions = db.session_factory(engine)
    t0 = _ledger(c, sessions)
    toks = _people(c, sessions)
    app = make_app(WebEngine(LIVE), c, sessions, None, b"k" * 32, run_engine=False)
    async with TestClient(TestServer(app)) as client:
        orders = await _file_orders(client, toks)
        with Session(engine) as s:  # each order is its call's center's
            assert {o.call_uniqueid: o.center for o in s.scalars(select(WorkOrder))} == {
                "h1": "huludao", "s1": "shenyang"}
        hld, sy = orders["h1"], orders["s1"]

        for name, mine, other in (("hld_sup", hld, sy), ("hld_seat", hld, sy),
                                  ("sy_sup", sy, hld), ("sy_seat", sy, hld)):
            csrf = await _log_in(client, name)
            r = await client.get("/web/orders/list")
            assert r.status == 200
            assert [o["id"] for o in await r.json()] == [mine], name
            assert (await client.get(f"/web/orders/{mine}")).status == 200
            assert (await client.get(f"/web/orders/{other}")).status == 404, name
            r = await client.post(f"/web/orders/{other}/close", json={},
                                  headers={"X-CSRF-Token": csrf})
            assert r.status == 404, name
        # Over the API too.
        r = await client.get(f"/api/orders/{sy}", headers=_auth(toks["hld_sup"]))
        assert r.status == 404
        r = await client.get("/api/orders", headers=_auth(toks["hld_sup"]))
        assert [o["id"] for o in await r.json()] == [hld]

        # Loans: the primary's admin lends a Shenyang seat to Jinzhou (not Huludao's business).
        csrf = await _log_in(client, "boss")
        r = await client.post("/web/loans", json={"seats": ["8003"], "to": "jinzhou",
                                                  "hours": 2}, headers={"X-CSRF-Token": csrf})
        assert r.status == 200, await r.text()
        csrf = await _log_in(client, "hld_sup")
        r = await client.post("/web/loans", json={"seats": ["8001"], "to": "huludao",
                                                  "hours": 2}, headers={"X-CSRF-Token": csrf})
        assert r.status == 403 and "huludao's seats only" in await r.text()
        r = await client.post("/web/loans", json={"seats": ["8101"], "to": "jinzhou",
                                                  "hours": 2}, headers={"X-CSRF-Token": csrf})
        assert r.status == 200, await r.text()
        r = await client.get("/web/loans")
        out = await r.json()
        assert [x["seat"] for x in out["loans"]] == ["8101"]  # not Shenyang's to Jinzhou
        assert {x["code"]: x["seats"] for x in out["centers"]} == {
            "shenyang": [], "huludao": ["8101"], "jinzhou": []}
        r = await client.post("/web/loans/return", json={"seats": ["8003"]},
                              headers={"X-CSRF-Token": csrf})
        assert r.status == 403
        await _log_in(client, "boss")
        r = await client.get("/web/loans")
        assert sorted(x["seat"] for x in (await r.json())["loans"]) == ["8003", "8101"]
        # A seat of another center cannot be acted on (before any AMI is needed).
        csrf = await _log_in(client, "hld_sup")
        r = await client.post("/web/seats/8001/ready", headers={"X-CSRF-Token": csrf})
        assert r.status == 403
        r = await client.post("/web/spy/8001", json={"mode": "listen", "phone": "9001"},
                              headers={"X-CSRF-Token": csrf})
        assert r.status == 403 and "its own center's seats only" in await r.text()

        # The wallboard's live view and trend: Huludao's queues, its seat and the one lent in.
        r = await client.get("/api/live", headers=_auth(toks["hld_sup"]))
        live = await r.json()
        assert sorted(live["queues"]) == ["hld_manual"]
        assert sorted(live["seats"]) == ["8002", "8101"]
        r = await client.get("/api/live", headers=_auth(toks["sy_sup"]))
        assert sorted((await r.json())["queues"]) == ["highway"]
        assert (await client.get("/web/wallboard/trend?queue=highway")).status == 404
        r = await client.get("/web/wallboard/trend?queue=hld_highway")
        assert r.status == 200 and sum(x or 0 for x in (await r.json())["today"]["queued"]) in (
            0, 1)  # h1, unless it fell on yesterday's local day
        r = await client.get("/web/staffing-plan")
        assert r.status == 200, await r.text()
        assert sorted((await r.json())["queues"]) == ["hld_highway", "hld_manual"]
        # The inspector's recordings are its center's calls.
        await _log_in(client, "hld_insp")
        day = f"{datetime.fromtimestamp(t0, c.tz):%Y-%m-%d}"
        r = await client.get(f"/web/inspect/recordings?since={day}&until={day}")
        assert [x["uniqueid"] for x in (await r.json())["recordings"]] == ["h1"]
        r = await client.get("/web/inspect/center")
        assert (await r.json())["queues"] == ["hld_manual", "hld_highway"]
        await _log_in(client, "boss")  # the primary's admin: every center's
        r = await client.get(f"/web/inspect/recordings?since={day}&until={day}")
        assert sorted(x["uniqueid"] for x in (await r.json())["recordings"]) == ["h1", "s1"]
        await _log_in(client, "hld_sup")

        # Callbacks are the center's whose queue the caller kept its place in.
        with sessions.begin() as s:
            hcb = callbacks.request(s, c, "pbx1", "h1", "13800000001", "hld_manual", 1, 0)
            scb = callbacks.request(s, c, "pbx1", "s1", "13800000002", "manual", 1, 0)
            assert hcb is not None and scb is not None
            ids = {"huludao": hcb.id, "shenyang": scb.id}
            assert (hcb.center, scb.center) == ("huludao", "shenyang")
            due = now_utc() + timedelta(hours=1)
            made = callbacks.message(s, c, "pbx1", "h9", "13800000003", "hld_manual",
                                     "closed", "", due)
            assert made is not None and made[0].center == "huludao"
        r = await client.get("/api/callbacks", headers=_auth(toks["hld_sup"]))
        assert [x["id"] for x in (await r.json())["callbacks"]] == [
            made[1].id if made[1] else -1, ids["huludao"]]
        r = await client.post(f"/api/callbacks/{ids['shenyang']}/cancel",
                              headers=_auth(toks["hld_sup"]))
        assert r.status == 404
        # Blocked numbers: each center's own list.
        r = await client.post("/api/blocked", headers=_auth(toks["hld_sup"]),
                              json={"number": "13900000000", "reason": "骚扰", "days": 7})
        assert r.status == 201, await r.text()
        r = await client.get("/api/blocked", headers=_auth(toks["sy_sup"]))
        assert (await r.json())["active"] == []
        r = await client.get("/api/blocked", headers=_auth(toks["hld_sup"]))
        assert [b["number"] for b in (await r.json())["active"]] == ["13900000000"]
    engine.dispose()


def test_huludaos_orders_count_in_its_assessment(province, capsys, monkeypatch) -> None:
    """Seed 002 art. 6 (一) "工单数量：12328电话系统所受理的工单总量", per center: the order
    Huludao's seat filed for Huludao's call is Huludao's (1), not the primary's; 电话工单生成率
    (art. 7: orders of answered calls over answered calls) is 1 of 1 in each center."""
    c, path, url = province
    engine = db.open_database(c, url)
    sessions = db.session_factory(engine)
    t0 = _ledger(c, sessions)
    toks = _people(c, sessions)

    async def file() -> dict[str, int]:
        app = make_app(WebEngine(LIVE), c, sessions, None, b"k" * 32, run_engine=False)
        async with TestClient(TestServer(app)) as client:
            return await _file_orders(client, toks)
    filed = asyncio.run(file())
    engine.dispose()

    from hotline import logs
    from hotline.shell.cli import main
    monkeypatch.setattr(logs, "configure", lambda *args, **kwargs: None)
    month = f"{datetime.fromtimestamp(t0 + 5, c.tz):%Y-%m}"
    capsys.readouterr()
    code = main(["--center", str(path), "--log-level", "WARNING", "assess", "--month", month,
                 "--database", url])
    out = capsys.readouterr().out
    assert code == 0, out
    rows = {line.split()[-1]: line.split() for line in out.splitlines()[2:] if line.strip()}
    assert rows["huludao"][2] == "1" and rows["shenyang"][2] == "1", out
    # The operator's commands name the center (default the primary).
    for code, content in (("huludao", "h1"), ("shenyang", "s1")):
        main(["--center", str(path), "--log-level", "WARNING", "orders", "--database", url,
              "--center-code", code, "list"])
        lines = [x for x in capsys.readouterr().out.splitlines() if x.startswith("#")]
        assert len(lines) == 1 and f"#{filed[content]} " in lines[0], (code, lines)
    for args in (("orders", "--database", url, "--center-code", "dalian", "list"),
                 ("callers", "--database", url, "--center-code", "dalian", "blocked")):
        code = main(["--center", str(path), "--log-level", "WARNING", *args])
        err = capsys.readouterr().err
        assert code == 2 and err.strip().count("\n") == 0 and "no center 'dalian'" in err


async def test_the_broadcast_is_the_centers_whose_supervisor_set_it(province, redis_url: str,
                                                                     capsys, monkeypatch) -> None:
    """Huludao's supervisor sets an emergency broadcast on its wallboard: the IVR plays it to
    callers of Huludao's number only (it reads the dialled center's)."""
    from acd.live.broadcast import Broadcasts
    c, path, url = province
    engine = db.open_database(c, url)
    sessions = db.session_factory(engine)
    _people(c, sessions)
    app = make_app(WebEngine(LIVE), c, sessions, redis_url, b"k" * 32, run_engine=False)
    async with TestClient(TestServer(app)) as client:
        csrf = await _log_in(client, "hld_sup")
        r = await client.post("/web/broadcast", json={"text": "京哈高速葫芦岛段封闭"},
                              headers={"X-CSRF-Token": csrf})
        assert r.status == 200, await r.text()
    engine.dispose()
    b = Broadcasts(redis_url, c.code)
    try:
        assert await b.current(center="huludao") == "京哈高速葫芦岛段封闭"
        assert await b.current(center="shenyang") is None and await b.current() is None
    finally:
        await b.close()
