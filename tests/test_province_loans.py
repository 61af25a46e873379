"""Seats lent between the centers of one deployment (acd/seats/loans.py): every check of the
one loan service, the `hotline seats` commands and the API/web routes (a one-line error or a
400/403/404/409, never a traceback), the loans kept in the history database. That the engine
puts a lent seat into the other center's queue, a caller of that center reaches it and the
loan ends on time is tests/test_province_rig.py, against Asterisk."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy import select
from sqlalchemy.orm import Session

from acd.api import tokens
from acd.errors import Conflict, Forbidden, Invalid, NotFound
from acd.history import db
from acd.seats.loans import LoanService, SeatLoan
from acd.seats.service import Actor
from acd.web.app import make_app
from hotline import center
from hotline.localtime import now_utc
from tests.support.province import WebEngine, province_data, province_files

ADMIN = Actor("boss", "admin")
SUPERVISOR = Actor("shift", "supervisor", center="shenyang")


@pytest.fixture
def province(tmp_path: Path) -> tuple[center.Center, Path, str]:
    return province_files(tmp_path, province_data())


def _service(c: center.Center, url: str) -> tuple[LoanService, Any]:
    engine = db.open_database(c, url)
    return LoanService(c, db.session_factory(engine)), engine


@pytest.mark.parametrize(("actor", "kwargs", "error", "message"), [
    (ADMIN, {"to": "jinzhou"}, Invalid, "to: no center 'jinzhou' in this deployment"),
    (ADMIN, {"to": ""}, Invalid, "to: the center to lend to is required"),
    (ADMIN, {"seats": ["8101"]}, Invalid, "seat 8101 is huludao's own"),
    (ADMIN, {"seats": ["9999"]}, NotFound, "no seat '9999' in this deployment"),
    (ADMIN, {"seats": []}, Invalid, "seats: must be a list of 1 to 50 seat ids"),
    (ADMIN, {"seats": "8001"}, Invalid, "seats: must be a list"),
    (ADMIN, {"queues": ["highway"]}, Invalid, "'highway' is a queue of shenyang, not of huludao"),
    (ADMIN, {"queues": ["nowhere"]}, Invalid, "'nowhere' is no queue"),
    (ADMIN, {"hours": 0}, Invalid, "hours: must be a number above 0 and at most 72"),
    (ADMIN, {"hours": 100}, Invalid, "hours: must be a number above 0"),
    (ADMIN, {"hours": "8"}, Invalid, "hours: must be a number"),
    (ADMIN, {"hours": None}, Invalid, "say until (a local time"),
    (ADMIN, {"until": "2026-13-01"}, Invalid, "until"),
    (ADMIN, {"hours": None, "until": "2020-01-01T08:00"}, Invalid, "until: must be in the future"),
    (Actor("li", "seat", seat_id="8001"), {}, Forbidden, "role 'seat' may not lend seats"),
    (Actor("hld", "supervisor", center="huludao"), {}, Forbidden,
     "a supervisor of huludao lends huludao's seats only, not shenyang's"),
])
def test_a_bad_loan_is_refused_with_a_sentence(province, actor: Actor, kwargs: dict[str, Any],
                                               error: type, message: str) -> None:
    c, _, url = province
    service, engine = _service(c, url)
    args: dict[str, Any] = {"seats": ["8001"], "to": "huludao", "hours": 8, **kwargs}
    with pytest.raises(error) as err:
        service.lend(actor, args["seats"], args["to"], args.get("queues"), args.get("until"),
                     args["hours"])
    assert message in str(err.value), str(err.value)
    assert service.loans(current_only=False) == []  # all or nothing
    engine.dispose()


def test_until_is_read_in_beijing_time_before_8_in_the_morning(province) -> None:
    """Between 00:00 and 08:00 in Beijing the UTC date is still the day before: "07:45" that
    morning is 23:45 UTC the evening before, a quarter of an hour ahead; "07:00" is past."""
    c, _, url = province
    service, engine = _service(c, url)
    now = datetime(2026, 10, 9, 23, 30)  # UTC: 2026-10-10 07:30 in Beijing
    [loan] = service.lend(ADMIN, ["8002"], "huludao", None, "2026-10-10T07:45", None, now=now)
    assert loan.until == datetime(2026, 10, 9, 23, 45)
    assert loan.as_dict(c)["until"].startswith("2026-10-10 07:45")
    with pytest.raises(Invalid, match="until: must be in the future"):
        service.lend(ADMIN, ["8003"], "huludao", None, "2026-10-10T07:00", None, now=now)
    engine.dispose()


def test_a_loan_is_recorded_shown_and_returned(province, db_engine) -> None:
    """On SQLite and on the real PostgreSQL."""
    c, _, _ = province
    engine = db_engine
    service = LoanService(c, db.session_factory(engine))
    t0 = now_utc().replace(microsecond=0)
    [loan] = service.lend(SUPERVISOR, ["8001"], "huludao", None, None, 8, now=t0)
    assert (loan.seat, loan.from_center, loan.to_center, loan.lent_by) == \
        ("8001", "shenyang", "huludao", "shift")
    assert loan.queues == ("hld_manual", "hld_highway") and loan.until == t0 + timedelta(hours=8)
    assert loan.current and not loan.applied
    view = loan.as_dict(c)
    assert view["to_name"] == "葫芦岛市12328交通运输服务监督电话"
    assert view["queue_titles"] == ["葫芦岛人工服务", "葫芦岛高速公路"]
    with pytest.raises(Conflict, match="seat 8001 is already lent to huludao"):
        service.lend(ADMIN, ["8002", "8001"], "huludao", ["hld_highway"], None, 1)
    assert [x.seat for x in service.loans()] == ["8001"]
    # --until is a local time of the center (20:00 in Beijing is 12:00 UTC).
    local_until = (datetime.now(c.tz) + timedelta(hours=3)).replace(minute=0, second=0,
                                                                    microsecond=0)
    [other] = service.lend(ADMIN, ["8101"], "shenyang", ["manual"],
                           local_until.strftime("%Y-%m-%dT%H:%M"), None)
    assert other.until == local_until.astimezone(UTC).replace(tzinfo=None)
    with pytest.raises(Forbidden):  # a Shenyang supervisor does not return Huludao's seat
        service.return_(SUPERVISOR, ["8101"])
    with pytest.raises(NotFound, match="seat '8003' is not lent"):
        service.return_(SUPERVISOR, ["8003"])
    [back] = service.return_(SUPERVISOR, ["8001"], now=t0 + timedelta(hours=1))
    assert back.ended_at == t0 + timedelta(hours=1) and back.ended_by == "shift"
    assert [x.seat for x in service.loans()] == ["8101"]
    with Session(engine) as s:
        rows = {r.seat_id: r for r in s.scalars(select(SeatLoan))}
    assert rows["8001"].lent_at == t0 and rows["8001"].ended_by == "shift"
    assert rows["8101"].ended_at is None and rows["8101"].lent_by == "boss"


def test_the_seats_commands(province, capsys, monkeypatch) -> None:
    _, path, url = province
    from hotline import logs
    from hotline.shell.cli import main
    monkeypatch.setattr(logs, "configure", lambda *args, **kwargs: None)

    def run(*args: str) -> tuple[int, str, str]:
        capsys.readouterr()
        code = main(["--center", str(path), "--log-level", "WARNING", "seats", *args,
                     "--database", url])
        out = capsys.readouterr()
        # (the test run's logging prints the service's info lines: not the command's output)
        lines = [x for x in out.out.splitlines() if "[info" not in x]
        return code, "".join(x + "\n" for x in lines), out.err

    code, out, err = run("lend", "8001", "8002", "--to", "huludao", "--queue", "hld_highway",
                         "--hours", "2")
    assert code == 0, err
    assert [line.split()[2] for line in out.splitlines()] == ["8001", "8002"]
    assert "shenyang -> huludao (hld_highway)" in out and "waiting for the engine" in out
    code, out, _ = run("loans")
    assert code == 0 and len(out.splitlines()) == 2
    for args, message in ((("lend", "8003", "--to", "jinzhou", "--hours", "1"),
                           "no center 'jinzhou'"),
                          (("lend", "8003", "--to", "huludao", "--hours", "soon"),
                           "--hours: must be a number of hours"),
                          (("lend", "8003", "--to", "huludao"), "say until"),
                          (("lend", "8001", "--to", "huludao", "--hours", "1"),
                           "already lent"),
                          (("return", "8003"), "seat '8003' is not lent")):
        code, out, err = run(*args)
        assert code == 2 and out == "", (args, out)
        assert err.count("\n") == 1 and message in err, (args, err)
    code, out, _ = run("return", "8001")
    assert code == 0 and "ended" in out and "by cli:" in out
    code, out, _ = run("loans", "--all")
    assert code == 0 and len(out.splitlines()) == 2
    code, out, _ = run("loans")
    assert code == 0 and len(out.splitlines()) == 1 and "8002" in out


async def test_the_api_lends_and_refuses_bad_input_with_400(province) -> None:
    c, _, url = province
    engine = db.open_database(c, url)
    sessions = db.session_factory(engine)
    boss = tokens.create(sessions, "boss", "supervisor", c.code)
    seat = tokens.create(sessions, "seat", "seat", c.code, seat_id="8001")
    app = make_app(WebEngine(), c, sessions, None, b"k" * 32, run_engine=False)
    async with TestClient(TestServer(app)) as client:
        def auth(token: str) -> dict[str, str]:
            return {"Authorization": f"Bearer {token}"}
        r = await client.post("/api/loans", json={"seats": ["8001"], "to": "huludao",
                                                  "hours": 4}, headers=auth(boss))
        assert r.status == 200, await r.text()
        [loan] = (await r.json())["loans"]
        assert loan["seat"] == "8001" and loan["to_center"] == "huludao" and loan["current"]
        for body, status, message in (
                ({"seats": ["8002"], "to": "jinzhou", "hours": 4}, 400, "no center 'jinzhou'"),
                ({"seats": ["8002"], "to": "huludao", "hours": "x"}, 400, "hours: must be"),
                ({"seats": ["8002"], "to": "huludao", "until": 5}, 400, "until"),
                ({"seats": ["8101"], "to": "shenyang", "hours": 1}, 403, "supervisor of"),
                ({"seats": ["8001"], "to": "huludao", "hours": 1}, 409, "already lent"),
                ({"seats": ["x" * 500], "to": "huludao", "hours": 1}, 404, "no seat"),
                ([1, 2], 400, "JSON object")):
            r = await client.post("/api/loans", json=body, headers=auth(boss))
            assert r.status == status and message in await r.text(), (body, await r.text())
        r = await client.post("/api/loans", data=b"{", headers=auth(boss))
        assert r.status == 400
        r = await client.post("/api/loans", json={"seats": ["8002"], "to": "huludao",
                                                  "hours": 1}, headers=auth(seat))
        assert r.status == 403
        r = await client.get("/api/loans", headers=auth(boss))
        out = await r.json()
        assert [x["seat"] for x in out["loans"]] == ["8001"]
        assert [x["code"] for x in out["centers"]] == ["shenyang", "huludao"]
        # A supervisor is offered its own center's seats only (it may lend no other).
        assert "8001" in out["centers"][0]["seats"] and out["centers"][1]["seats"] == []
        r = await client.post("/api/loans/return", json={"seats": ["8002"]}, headers=auth(boss))
        assert r.status == 404
        r = await client.post("/api/loans/return", json={"seats": ["8001"]}, headers=auth(boss))
        assert r.status == 200 and (await r.json())["loans"][0]["ended_by"] == "boss"
        r = await client.get("/api/loans?all=1", headers=auth(boss))
        assert len((await r.json())["loans"]) == 1
    engine.dispose()
