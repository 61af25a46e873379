"""Supervisors listen in on, whisper to and barge into a seat's call from their own phones
(ChanSpy): the center file's [[supervisors]], the rendered endpoints and dialplan, the
wallboard's spy action and the phone's own dial codes, on the real Asterisk with SIPp phones."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from acd.errors import Refused
from acd.web import spy as spy_mod
from acd.web.errors import status_of
from asterisk_conf import render
from hotline import center as center_mod
from hotline import secrets
from hotline.center import CenterError
from hotline.shell.simulate.ports import free_ports
from tests.support.ami_tap import AmiTap
from tests.support.browser import launch, log_in, require_chromium
from tests.support.engine import EngineProcess
from tests.support.rig import RunningPbx
from tests.support.waiting import wait_for
from tests.test_web import Client, add_user

# What each mode must run on the supervisor's channel: ChanSpy's options (see the template).
OPTIONS = {"listen": "qdES", "whisper": "qdESw", "barge": "qdESB"}


# --- the center file, the render, the secrets: no real parts needed ---------------------------

def example() -> dict[str, Any]:
    import tomllib
    return tomllib.loads(center_mod.EXAMPLE.read_text(encoding="utf-8"))


@pytest.mark.parametrize(("change", "field"), [
    (lambda d: d["supervisors"][0].update(id="nine"), "supervisors[0].id"),
    (lambda d: d["supervisors"][0].update(id="8001"), "supervisors[0].id"),
    (lambda d: d["supervisors"][1].update(id=d["supervisors"][0]["id"]), "supervisors[1].id"),
    (lambda d: d["supervisors"][0].update(node="pbx9"), "supervisors[0].node"),
    (lambda d: d["supervisors"][0].update(name='班长"; evil'), "supervisors[0].name"),
    (lambda d: d["supervisors"][0].update(colour="red"), "supervisors[0].colour"),
    (lambda d: d.update(supervisors={"id": "9001"}), "supervisors"),
    (lambda d: d.update(supervisors=["9001"]), "supervisors[0]"),
])
def test_a_bad_supervisor_is_refused_by_name(change: Callable[[dict[str, Any]], None],
                                             field: str) -> None:
    data = example()
    change(data)
    with pytest.raises(CenterError) as err:
        center_mod.parse(data)
    assert str(err.value).startswith(field + ":"), str(err.value)


def test_supervisor_phones_are_optional_and_rendered_in_their_own_context(tmp_path: Path) -> None:
    data = example()
    del data["supervisors"]
    assert center_mod.parse(data).supervisors == ()
    c = center_mod.load(center_mod.EXAMPLE)
    assert [s.id for s in c.supervisors] and all(s.node == c.nodes[0].name for s in c.supervisors)
    sec = secrets.load_or_create(c, tmp_path)
    # Generated once, kept: a second load gives the same passwords.
    assert secrets.load_or_create(c, tmp_path).supervisors == sec.supervisors
    assert len(set(sec.supervisors.values()) | set(sec.seats.values())) == \
        len(c.supervisors) + len(c.seats)
    files = render.render_node(c, c.nodes[0], sec, render.InstancePaths("/srv/hotline/x"))
    pjsip = files["pjsip.conf"]
    for sup in c.supervisors:
        block = pjsip.split(f"\n[{sup.id}]\ntype = endpoint\n", 1)[1].split("\n\n", 1)[0]
        assert "context = supervisor-phones" in block
        assert f"password = {sec.supervisors[sup.id]}" in pjsip
    assert "[supervisor-spy]" in files["extensions_supervisor.conf"]
    assert '#tryinclude "extensions_supervisor.conf"' in files["extensions.conf"]
    assert "load = app_chanspy.so" in files["modules.conf"]


def test_the_request_is_checked_before_asterisk_is_asked() -> None:
    c = center_mod.load(center_mod.EXAMPLE)
    sup = c.supervisors[0]
    cases = [(None, "8001", 400), ({"mode": "spy", "phone": sup.id}, "8001", 400),
             ({"mode": "listen"}, "8001", 400), ({"mode": "listen", "phone": 9001}, "8001", 400),
             ({"mode": "listen", "phone": "9999"}, "8001", 404),
             ({"mode": "listen", "phone": sup.id}, "7777", 404)]
    for body, seat, status in cases:
        with pytest.raises(Refused) as err:
            spy_mod.read_request(c, seat, body)
        assert status_of(err.value) == status, (body, seat, str(err.value))
    ok = spy_mod.read_request(c, "8001", {"mode": "barge", "phone": sup.id})
    assert (ok.seat, ok.phone, ok.mode) == ("8001", sup, "barge")


# --- on the real Asterisk ----------------------------------------------------------------------

class JsonClient(Client):
    """test_web's client, keeping the JSON answer as well as the status."""

    def call(self, method: str, path: str, body: object = None,
             raw: bytes | None = None) -> tuple[int, dict[str, Any]]:
        data = raw if raw is not None else (None if body is None else json.dumps(body).encode())
        req = urllib.request.Request(f"http://127.0.0.1:{self.port}{path}", data=data,
                                     method=method)
        req.add_header("Content-Type", "application/json")
        req.add_header("X-CSRF-Token", self.csrf)
        try:
            with self.opener.open(req) as r:
                return r.status, json.loads(r.read() or b"{}")
        except urllib.error.HTTPError as err:
            return err.code, json.loads(err.read() or b"{}")


@pytest.fixture
def spy_stack(pbx: RunningPbx, redis_url, tmp_path, ledger) -> Iterator[tuple[int, RunningPbx]]:
    url, _ = ledger
    port = free_ports(1)[0]
    for name, role in (("boss", "supervisor"), ("root", "admin"), ("inspector", "inspector")):
        add_user(pbx, url, name, role)
    add_user(pbx, url, "seat", "seat", "8001")
    proc = EngineProcess(pbx, url, redis_url, tmp_path / "engine.log",
                         extra_args=("--instance", pbx.instance.name, "--http-port", str(port)))
    proc.start()
    try:
        yield port, pbx
    finally:
        proc.stop()


def channels(pbx: RunningPbx) -> list[dict[str, str]]:
    """`core show channels concise`, one dict per channel."""
    keys = ("channel", "context", "exten", "priority", "state", "app", "data", "callerid",
            "account", "peeraccount", "amaflags", "duration", "bridge")
    rows = []
    for line in pbx.instance.cli("core show channels concise").splitlines():
        parts = line.split("!")
        if len(parts) >= len(keys):
            rows.append(dict(zip(keys, parts)))
    return rows



def event_after(tap: AmiTap, start: int, timeout: float = 20.0, **match: str) -> dict[str, str]:
    return wait_for(f"AMI event {match}", lambda: next(
        (e for e in tap.events[start:] if all(e.get(k) == v for k, v in match.items())), None),
        timeout)


def seat_on_a_call(pbx: RunningPbx, sipp: Any, seat: str, caller: str) -> str:
    """A SIPp caller through the hotline to the SIPp phone of `seat`; the seat's channel."""
    sipp.seat(seat, pbx.seat_password(seat), ring_s=0.3, talk_s=120)
    pbx.instance.cli(f"queue add member PJSIP/{seat} to {pbx.center.default_queue} "
                     f"penalty 0 as {seat} state_interface PJSIP/{seat}")
    sipp.callers(f"caller-{seat}", [caller], hold_s=120)
    row = wait_for(f"seat {seat} talking", lambda: next(
        (c for c in channels(pbx) if c["channel"].startswith(f"PJSIP/{seat}-")
         and c["state"] == "Up" and c["bridge"]), None), 30)
    return str(row["channel"])


def spying(pbx: RunningPbx, phone: str) -> dict[str, str] | None:
    return next((c for c in channels(pbx) if c["channel"].startswith(f"PJSIP/{phone}-")
                 and c["app"] == "ChanSpy"), None)


def end_spy(pbx: RunningPbx, tap: AmiTap, spyer: str, start: int) -> None:
    pbx.instance.cli(f"channel request hangup {spyer}")
    event_after(tap, start, Event="ChanSpyStop", SpyerChannel=spyer)
    wait_for(f"{spyer} gone", lambda: all(c["channel"] != spyer for c in channels(pbx)))


@pytest.mark.asterisk
def test_listen_whisper_and_barge_from_the_wallboard(spy_stack, sipp, numbers) -> None:
    port, pbx = spy_stack
    phone = pbx.center.supervisors[0].id
    tap = AmiTap(**pbx.ami, events="call,user")
    try:
        target = seat_on_a_call(pbx, sipp, "8001", numbers.one())
        sipp.seat(phone, pbx.instance.secrets.supervisors[phone], ring_s=0.5, talk_s=120)
        boss = JsonClient(port)
        assert boss.login("boss") == 200
        for mode in spy_mod.MODES:
            start = len(tap.events)
            status, out = boss.call("POST", "/web/spy/8001", {"mode": mode, "phone": phone})
            assert (status, out.get("target"), out.get("mode")) == (202, target, mode), out
            # The supervisor's phone rings, answers, and spies on exactly the seat's channel.
            began = event_after(tap, start, Event="ChanSpyStart", SpyeeChannel=target)
            spyer = began["SpyerChannel"]
            assert spyer.startswith(f"PJSIP/{phone}-")
            row = wait_for("ChanSpy in the channel list", lambda: spying(pbx, phone))
            assert (row["channel"], row["context"], row["state"], row["data"]) == \
                (spyer, "supervisor-spy", "Up", f"{target},{OPTIONS[mode]}")
            audit = event_after(tap, start, Event="UserEvent", UserEvent="HotlineSpy",
                                Status="start")
            assert (audit["Supervisor"], audit["Seat"], audit["Mode"]) == (phone, "8001", mode)
            # While the phone is spying it is busy: a second request is refused, not rung.
            status, out = boss.call("POST", "/web/spy/8001", {"mode": "listen", "phone": phone})
            assert status == 409 and "busy" in out["error"], out
            end_spy(pbx, tap, spyer, start)
            # The seat's call goes on after the supervisor leaves.
            assert any(c["channel"] == target for c in channels(pbx))
    finally:
        tap.close()


@pytest.mark.asterisk
def test_refusals_name_the_reason(spy_stack, sipp, numbers) -> None:
    port, pbx = spy_stack
    phone, away = (s.id for s in pbx.center.supervisors[:2])
    sipp.seat(phone, pbx.instance.secrets.supervisors[phone], ring_s=0.5, talk_s=5)
    seat_on_a_call(pbx, sipp, "8001", numbers.one())
    boss = JsonClient(port)
    assert boss.login("boss") == 200
    status, out = boss.call("GET", "/web/spy/phones")
    assert status == 200 and [p["id"] for p in out["phones"]] == \
        [s.id for s in pbx.center.supervisors]
    expected = [
        ("8002", {"mode": "listen", "phone": phone}, 409, "not on a call"),
        ("8001", {"mode": "listen", "phone": away}, 409, "not registered"),
        ("8001", {"mode": "listen", "phone": "9999"}, 404, "no supervisor phone"),
        ("8001", {"mode": "eavesdrop", "phone": phone}, 400, "mode must be one of"),
        ("8001", {"mode": "listen"}, 400, "phone is required"),
        ("7777", {"mode": "listen", "phone": phone}, 404, "no seat"),
    ]
    for seat, body, want, words in expected:
        status, out = boss.call("POST", f"/web/spy/{seat}", body)
        assert status == want and words in out.get("error", ""), (seat, body, status, out)
    status, out = boss.call("POST", "/web/spy/8001", raw=b"listen please")
    assert status == 400 and "not JSON" in out["error"]
    # Nothing was rung for any of them.
    assert not [c for c in channels(pbx) if c["channel"].startswith(f"PJSIP/{phone}-")]
    # Roles and CSRF: only supervisors and admins, and only with the page's token.
    for name, want in (("seat", 403), ("inspector", 403), ("root", 202)):
        c = JsonClient(port)
        assert c.login(name) == 200
        status, _ = c.call("POST", "/web/spy/8001", {"mode": "listen", "phone": phone})
        assert status == want, name
    assert boss.post("/web/spy/8001", {"mode": "listen", "phone": phone}, csrf=False) == 403
    assert JsonClient(port).call("POST", "/web/spy/8001", {"mode": "listen"})[0] == 401


@pytest.mark.asterisk
def test_dial_codes_from_the_supervisors_own_phone(pbx: RunningPbx, sipp,
                                                    numbers) -> None:
    """*31<seat>: pure dialplan, no engine running."""
    phone = pbx.center.supervisors[0].id
    password = pbx.instance.secrets.supervisors[phone]
    tap = AmiTap(**pbx.ami, events="call,user")
    try:
        target = seat_on_a_call(pbx, sipp, "8001", numbers.one())
        for code, mode in (("*31", "listen"), ("*33", "barge")):
            start = len(tap.events)
            with ThreadPoolExecutor(1) as pool:
                dialled = pool.submit(sipp.seat_dial, phone, password, f"{code}8001", 30.0)
                began = event_after(tap, start, Event="ChanSpyStart")
                assert began["SpyeeChannel"] == target
                row = wait_for("ChanSpy", lambda: spying(pbx, phone))
                # From the phone the prefix is the seat's (its one call), never a wider one.
                assert row["data"] == f"PJSIP/8001-,{OPTIONS[mode]}"
                end_spy(pbx, tap, began["SpyerChannel"], start)
                assert dialled.result(40) == 0
        # A seat that is not on a call, and a number that is not a seat, are refused.
        for number, status in (("*318002", "no_call"), (f"*32{phone}", "not_a_seat"),
                               ("*3112328", "not_a_seat")):
            start = len(tap.events)
            assert sipp.seat_dial(phone, password, number) == 0
            got = event_after(tap, start, Event="UserEvent", UserEvent="HotlineSpy")
            assert got["Status"] == status, (number, got)
        assert not [e for e in tap.events[start:] if e.get("Event") == "ChanSpyStart"]
    finally:
        tap.close()


@pytest.mark.asterisk
def test_the_wallboard_buttons_in_chromium(spy_stack, sipp, numbers) -> None:
    require_chromium()
    from playwright.sync_api import sync_playwright
    port, pbx = spy_stack
    phone = pbx.center.supervisors[0].id
    base = f"http://127.0.0.1:{port}"
    tap = AmiTap(**pbx.ami, events="call")
    try:
        sipp.seat(phone, pbx.instance.secrets.supervisors[phone], ring_s=0.5, talk_s=60)
        target = seat_on_a_call(pbx, sipp, "8001", numbers.one())
        with sync_playwright() as p:
            browser = launch(p)
            try:
                page = log_in(browser, base, "boss", "/wallboard")
                page.wait_for_function(f"document.getElementById('spyphone').value === '{phone}'")
                # Only the seat on a call offers the buttons.
                page.wait_for_selector('#seats tr[data-seat="8001"] button.spy[data-mode=barge]',
                                       timeout=15000)
                assert page.locator("#seats tr:not([data-seat='8001']) button.spy").count() == 0
                start = len(tap.events)
                page.click('#seats tr[data-seat="8001"] button.spy[data-mode=barge]')
                page.wait_for_function("document.getElementById('spymsg').textContent"
                                       ".includes('振铃')")
                event_after(tap, start, Event="ChanSpyStart", SpyeeChannel=target)
                assert wait_for("ChanSpy", lambda: spying(pbx, phone))["data"].endswith(",qdESB")
            finally:
                browser.close()
    finally:
        tap.close()
