"""A province's centers on one platform (issue 18, seed 000 §四: 动态调整平台坐席人数 ...
沈阳和葫芦岛地区的话务人员岗位动态互换): several centers in one deployment, each with its own
queues, seats and figures. The center file, the rendered dialplan, the ledger's counting and
the figures' --center-code; the lending of seats (acd/seats/loans.py) and the real calls are
in tests/test_province_loans.py and tests/test_province_rig.py."""

from __future__ import annotations

import time
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from acd.calls.state import CallState, QueueOutcome, Stay
from acd.history import db
from acd.history.ledger import Ledger
from acd.history.models import Call, QueueCall, SeatInterval
from acd.seats.state import SeatState
from asterisk_conf import kamailio, render
from hotline import center
from hotline.center import CenterError
from tests.support.province import HULUDAO_EXTENSION, province_data
from tests.support.rig import dump_toml


def test_a_hosted_center_has_its_queues_seats_and_entry(tmp_path: Path) -> None:
    path = tmp_path / "province.toml"
    path.write_text(dump_toml(province_data()), encoding="utf-8")
    c = center.load(path)
    assert c.codes == ("shenyang", "huludao")
    assert c.center_name("huludao") == "葫芦岛市12328交通运输服务监督电话"
    assert [q.name for q in c.queues_of("huludao")] == ["hld_manual", "hld_highway"]
    assert all(q.center == "shenyang" for q in c.queues_of("shenyang"))
    assert [s.id for s in c.seats_of("huludao")] == ["8101"]
    assert c.center_of_seat("8001") == "shenyang" and c.center_of_seat("8101") == "huludao"
    assert c.center_of_extension(HULUDAO_EXTENSION) == "huludao"
    assert c.center_of_extension("12328") == "shenyang"
    # The IVR's menu is data: its queue choice maps onto the dialled center's queues, a
    # choice that center does not serve goes to its default queue.
    assert c.route_queue("huludao", "highway") == "hld_highway"
    assert c.route_queue("huludao", "urban") == "hld_manual"
    assert c.route_queue("shenyang", "urban") == "urban"
    assert c.default_queue_of("huludao") == "hld_manual"
    with pytest.raises(CenterError, match=r"^--center-code: no center 'dalian' in this "
                       r"deployment \(centers: shenyang, huludao\)$"):
        c.known_center("dalian", "--center-code")


def _set(data: dict[str, Any], path: tuple[Any, ...], value: Any) -> None:
    target: Any = data
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value


@pytest.mark.parametrize(("path", "value", "field", "message"), [
    (("queues", -1, "center"), "jinzhou", "queues[8].center", "unknown center 'jinzhou'"),
    (("hosted", 0, "code"), "shenyang", "hosted[0].code", "duplicate center code 'shenyang'"),
    (("queues", -1, "name"), "highway", "queues", "queue names must be unique (across all"),
    (("seats", -1, "queues"), ["hld_manual", "manual"], "seats[4].queues",
     "'manual' is a queue of shenyang, not of the seat's center huludao"),
    (("seats", -1, "center"), "jinzhou", "seats[4].center", "unknown center 'jinzhou'"),
    (("queues", -1, "overflow_to"), "manual", "queues[8].overflow_to",
     "'manual' is a queue of shenyang, not of huludao"),
    (("hosted", 0, "extension"), "12328", "hosted[0].extension", "already the hotline number"),
    (("hosted", 0, "extension"), "12328;x", "hosted[0].extension", "does not match"),
    (("hosted", 0, "default_queue"), "manual", "hosted[0].default_queue",
     "no queue 'manual' of center huludao"),
    (("center", "default_queue"), "hld_manual", "center.default_queue",
     "is a queue of another center"),
    (("queues", -1, "menu"), "manual", "queues[8].menu",
     "center huludao has two queues for the menu's choice 'manual'"),
    (("hosted", 0, "colour"), "blue", "hosted[0].colour", "is not a known field"),
])
def test_a_bad_province_is_refused_by_name(path: tuple[Any, ...], value: Any, field: str,
                                           message: str) -> None:
    data = province_data()
    if path[-1] == "overflow_to":
        data["queues"][-1]["overflow_after_s"] = 60
    _set(data, path, value)
    with pytest.raises(CenterError) as err:
        center.parse(data)
    assert str(err.value).startswith(f"{field}: "), str(err.value)
    assert message in str(err.value), str(err.value)


def test_a_hosted_center_without_queues_is_refused() -> None:
    data = province_data()
    data["hosted"].append({"code": "jinzhou", "name": "锦州市12328", "extension": "1232802"})
    with pytest.raises(CenterError, match=r"^hosted\[1\]: center jinzhou has no queue"):
        center.parse(data)
    data["hosted"][1]["code"] = "huludao"
    with pytest.raises(CenterError, match=r"^hosted\[1\]\.code: duplicate center code"):
        center.parse(data)


def test_the_dialplan_enters_a_hosted_center_on_its_extension(tmp_path: Path) -> None:
    c = center.parse(province_data())
    paths = render.InstancePaths(tmp_path)
    conf = render.extensions_conf(c, c.nodes[0], paths)
    inbound = conf.split("[hotline-inbound]")[1].split("\n\n")[0].splitlines()
    at = inbound.index(f"exten => {HULUDAO_EXTENSION},1,Set(HOTLINE_CENTER=huludao)")
    assert inbound[at + 1:at + 3] == [" same => n,Set(DEFAULT_QUEUE=hld_manual)",
                                      " same => n,Goto(hotline-call,s,1)"]
    assert "exten => hld_highway,1,Set(HOTLINE_QUEUE=hld_highway)" in conf
    queues = render.queues_conf(c, c.nodes[0])
    assert "[hld_manual]" in queues and "[hld_highway]" in queues
    # The IVR is told which center the caller dialled.
    flow = (Path(render.__file__).parent / "templates" / "extensions_hotline.conf").read_text()
    assert "AGI(${FASTAGI}/ivr,${PROMPTS},${HOTLINE_CENTER})" in flow
    # A SIP front before the nodes lets the hosted center's entry through too.
    data = province_data()
    data["front"] = {"sip_port": 5070}
    cfg = kamailio.kamailio_cfg(center.parse(data), kamailio.FrontPaths(str(tmp_path)))
    assert f'if ($rU != "12328" && $rU != "{HULUDAO_EXTENSION}") {{' in cfg


def _call(uid: str, queue: str, t0: float, answered_by: str = "", dialed: str = "12328"
          ) -> CallState:
    stay = Stay(queue=queue, entered=t0 + 5, left=t0 + 9,
                outcome=QueueOutcome.ANSWERED if answered_by else QueueOutcome.ABANDONED,
                seat=answered_by, answered=t0 + 9 if answered_by else None,
                talk_s=30.0 if answered_by else None, ended=t0 + 39)
    return CallState(uniqueid=uid, linkedid=uid, caller="13800000000", dialed=dialed,
                     started=t0, ended=t0 + 39, stays={queue: stay})


def test_a_call_counts_for_the_center_whose_queue_it_was(tmp_path: Path, capsys,
                                                         monkeypatch) -> None:
    """A Shenyang seat (8001) answering in Huludao's queue: the call is Huludao's, in the
    ledger and in `hotline stats calls|assess|report --center-code huludao`; the seat's time
    stays its own center's. A call that never queued is the center whose number it dialled.
    Seed 002 art. 6 (二) "人工接通率：人工接听量与人工排队量的比率", per center: Huludao's
    answered (1) over Huludao's queued (2), Shenyang's 1 of 1 (docs/indicators.md)."""
    path = tmp_path / "province.toml"
    path.write_text(dump_toml(province_data()), encoding="utf-8")
    c = center.load(path)
    url = f"sqlite:///{tmp_path / 'ledger.db'}"
    engine = db.open_database(c, url)
    t0 = time.time() - 600
    ledger = Ledger(db.session_factory(engine), c.code, "pbx1", c)
    ledger.write([_call("h1", "hld_highway", t0, answered_by="8001", dialed=HULUDAO_EXTENSION),
                  _call("h2", "hld_manual", t0 + 60, dialed=HULUDAO_EXTENSION),
                  _call("s1", "highway", t0 + 120, answered_by="8002"),
                  CallState(uniqueid="h3", linkedid="h3", dialed=HULUDAO_EXTENSION,
                            started=t0 + 130, ended=t0 + 140)], [], None)
    ledger.seat_transition("8001", SeatState.READY, t0)
    ledger.seat_transition("8101", SeatState.READY, t0)
    with Session(engine) as s:
        assert {r.uniqueid: r.center for r in s.scalars(select(Call))} == {
            "h1": "huludao", "h2": "huludao", "h3": "huludao", "s1": "shenyang"}
        assert {r.uniqueid: r.center for r in s.scalars(select(QueueCall))} == {
            "h1": "huludao", "h2": "huludao", "s1": "shenyang"}
        assert {r.seat_id: r.center for r in s.scalars(select(SeatInterval))} == {
            "8001": "shenyang", "8101": "huludao"}
    engine.dispose()

    from hotline import logs
    from hotline.shell.cli import main
    monkeypatch.setattr(logs, "configure", lambda *args, **kwargs: None)

    def run(*args: str) -> tuple[int, str, str]:
        capsys.readouterr()
        code = main(["--center", str(path), "--log-level", "WARNING", *args])
        out = capsys.readouterr()
        return code, out.out, out.err

    code, out, _ = run("stats", "calls", "--database", url, "--center-code", "huludao")
    assert code == 0 and "queued 2, answered 1, abandoned 1" in out, out
    assert out.startswith("葫芦岛市12328交通运输服务监督电话 (huludao)")
    code, out, _ = run("stats", "calls", "--database", url)
    assert code == 0 and "queued 1, answered 1, abandoned 0" in out, out
    code, out, err = run("stats", "calls", "--database", url, "--center-code", "jinzhou")
    assert code == 2 and out == ""
    assert err.strip().count("\n") == 0 and "--center-code: 'jinzhou' is no center" in err
    code, out, err = run("stats", "seats", "--database", url, "--center-code", "jinzhou")
    assert code == 2 and "--center-code: 'jinzhou'" in err
    # The monthly assessment ranks both centers, each on its own calls.
    month = f"{datetime.fromtimestamp(t0 + 5, c.tz):%Y-%m}"
    code, out, err = run("assess", "--month", month, "--database", url, "--center-code",
                         "huludao")
    assert code == 0, err
    rows = [line for line in out.splitlines()[2:] if line.strip()]
    assert len(rows) == 1 and rows[0].endswith("huludao"), out
    code, out, err = run("assess", "--month", month, "--database", url, "--center-code",
                         "jinzhou")
    assert code == 2 and "--center-code: 'jinzhou' is no center" in err
    # The month's report of Huludao: its two calls, one answered (人工接通率 1 of 2).
    code, out, err = run("report", "--month", month, "--database", url, "--center-code",
                         "huludao", "--out", str(tmp_path / "report"))
    assert code == 0, err
    html = (tmp_path / "report" / "report.html").read_text(encoding="utf-8")
    assert "排队来电 calls queued</td><td>2<" in html
    assert "人工接通率 manual connection rate</td><td>50.00 %</td><td>1</td><td>2</td>" in html


def test_every_center_reports_its_own_call_records(tmp_path: Path) -> None:
    """Seed 002 art. 7: 通话记录报送率 (call records reported / call records) is each center's:
    the push sends the hosted center's records too, each batch under its own center's code."""
    import asyncio

    from queue_stats import upward
    from tests.support.backoffice import receiver

    data = province_data()
    with receiver() as platform:
        data["exchange"]["platform_url"] = platform.url
        c = center.parse(data)
        engine = db.open_database(c, f"sqlite:///{tmp_path / 'ledger.db'}")
        t0 = time.time() - 600
        Ledger(db.session_factory(engine), c.code, "pbx1", c).write(
            [_call("h1", "hld_highway", t0, answered_by="8001", dialed=HULUDAO_EXTENSION),
             _call("s1", "highway", t0 + 60, answered_by="8002"),
             _call("h2", "hld_manual", t0 + 120, dialed=HULUDAO_EXTENSION)], [], None)
        n, done = asyncio.run(upward.push(engine, c))
        engine.dispose()
    assert (n, done.sent, done.down) == (3, 3, [])
    got = {r["body"]["center"]: sorted(x["uniqueid"] for x in r["body"]["records"])
           for r in platform.requests}
    assert got == {"shenyang": ["s1"], "huludao": ["h1", "h2"]}
    assert all(x["center"] == r["body"]["center"] for r in platform.requests
               for x in r["body"]["records"])


def test_the_wallboard_trend_and_the_staffing_plan_see_every_centers_queues(
        tmp_path: Path) -> None:
    """The wallboard and the staffing plan are the deployment's: a hosted center's calls are
    in the day's trend (all centers, and its queue alone) and in the hours a plan is made
    from."""
    from acd.history.traffic import day_traffic
    from acd.web.trend import day_series

    c = center.parse(province_data())
    engine = db.open_database(c, f"sqlite:///{tmp_path / 'ledger.db'}")
    t0 = time.time() - 600
    Ledger(db.session_factory(engine), c.code, "pbx1", c).write(
        [_call("h1", "hld_highway", t0, answered_by="8001", dialed=HULUDAO_EXTENSION),
         _call("s1", "highway", t0 + 60, answered_by="8002")], [], None)
    day = datetime.fromtimestamp(t0 + 5, c.tz).date()
    hour = datetime.fromtimestamp(t0 + 5, c.tz).hour
    traffic = day_traffic(db.session_factory(engine), c, day)
    assert traffic["hld_highway"].calls_by_hour[hour] == 1
    assert traffic["highway"].calls_by_hour[hour] == 1
    with Session(engine) as s:
        assert sum(x or 0 for x in day_series(s, c, day)["queued"]) == 2
        assert sum(x or 0 for x in day_series(s, c, day, "hld_highway")["queued"]) == 1
    engine.dispose()


def test_retention_and_the_inspector_cover_every_center(tmp_path: Path) -> None:
    """Recordings and callers' numbers of a hosted center are kept and purged by the same
    rules (a year for a call's caller and recording) and its recorded calls are among the
    inspector's: the deployment's, not the primary's alone."""
    from datetime import UTC

    from acd.web.inspector import Inspector
    from recordings import purge

    c = center.parse(province_data())
    engine = db.open_database(c, f"sqlite:///{tmp_path / 'ledger.db'}")
    sessions = db.session_factory(engine)
    old = datetime(2024, 6, 1, 1, 0)
    today = datetime.now(UTC).replace(tzinfo=None) - timedelta(minutes=10)
    with sessions.begin() as s:
        for uid, who, started in (("h-old", "huludao", old), ("s-old", "shenyang", old),
                                  ("h-new", "huludao", today)):
            s.add(Call(uniqueid=uid, linkedid=uid, node="pbx1", center=who,
                       caller_number="13800001234", started_at=started, seat_id="8001",
                       answered_at=started, recording=f"{who}/x/{uid}.wav"))
    rec = tmp_path / "monitor"
    for uid, who in (("h-new", "huludao"),):
        (rec / who / "x").mkdir(parents=True, exist_ok=True)
        (rec / who / "x" / f"{uid}.wav").write_bytes(b"RIFF....WAVE")
    planned = purge.plan(sessions, c.codes, {"pbx1": rec})
    assert sorted(planned.calls) == ["h-old", "s-old"]
    assert sorted(planned.dangling) == ["h-old", "s-old"]
    inspector = Inspector(c, sessions, {"pbx1": rec}, b"k" * 32)
    day = today.replace(tzinfo=UTC).astimezone(c.tz).date()
    assert [r["uniqueid"] for r in inspector.list_recordings(day)] == ["h-new"]
    assert inspector.recording_file("h-new") == (rec / "huludao" / "x" / "h-new.wav").resolve()
    engine.dispose()


def test_a_lent_seat_files_the_order_of_the_call_it_took_there(tmp_path: Path) -> None:
    """Every answered call gets its work order (电话工单生成率, seed 002 art. 7): a Shenyang
    seat lent to Huludao owns the Huludao call it answered last (the console lets it file the
    order), and the seat timeline of a Huludao seat reads its intervals."""
    from acd.web.console import owns
    from acd.web.inspector import Inspector

    c = center.parse(province_data())
    engine = db.open_database(c, f"sqlite:///{tmp_path / 'ledger.db'}")
    sessions = db.session_factory(engine)
    t0 = time.time() - 600
    ledger = Ledger(sessions, c.code, "pbx1", c)
    ledger.write([_call("s1", "highway", t0, answered_by="8001"),
                  _call("h1", "hld_highway", t0 + 60, answered_by="8001",
                        dialed=HULUDAO_EXTENSION)], [], None)
    ledger.seat_transition("8101", SeatState.READY, t0)

    class Idle:
        def seat(self, seat_id: str) -> None:
            return None

    with sessions() as s:
        assert owns(Idle(), s, c.codes, "8001", "h1")  # type: ignore[arg-type]
        assert not owns(Idle(), s, c.codes, "8001", "s1")  # no longer its last
    day = datetime.fromtimestamp(t0, c.tz).date()
    timeline = Inspector(c, sessions, {}, b"k" * 32).timeline("8101", day)
    assert timeline["segments"] and timeline["segments"][0]["state"] == "ready"
    engine.dispose()


def test_a_hosted_centers_caller_who_hung_up_goes_ahead_next_time(tmp_path: Path) -> None:
    """Repeat callers go ahead (issue 16) in every center: one who abandoned Huludao's queue
    a few minutes ago is a repeat caller there too."""
    import asyncio

    from acd.callers import priority
    from ivr.callers import Callers

    c = center.parse(province_data())
    engine = db.open_database(c, f"sqlite:///{tmp_path / 'ledger.db'}")
    sessions = db.session_factory(engine)
    Ledger(sessions, c.code, "pbx1", c).write(
        [_call("h1", "hld_manual", time.time() - 120, dialed=HULUDAO_EXTENSION)], [], None)
    with sessions() as s:
        assert priority.reason(s, c.codes, "13800000000", c.callers) == "abandoned"
        assert priority.reason(s, c.code, "13800000000", c.callers) == ""
    # ... as the IVR asks it (its QUEUE_PRIO).
    ivr = Callers(c, sessions, None, None, False, lambda request: None)  # type: ignore[arg-type]
    assert asyncio.run(ivr.priority("13800000000")) == str(c.callers.priority)
    engine.dispose()
