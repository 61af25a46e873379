"""The engine's HTTP API against the real Asterisk: seat actions with role checks, clear
errors for bad requests, the live snapshot."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import urllib.error
import urllib.request
from urllib.parse import quote

import pytest

from hotline.shell.simulate.ports import free_ports
from tests.support.engine import EngineProcess
from tests.support.metrics import sample, scrape
from tests.support.rig import RunningPbx
from tests.test_engine_shift import intervals, wait_until

pytestmark = pytest.mark.asterisk


def call(port: int, method: str, path: str, token: str | None, body: object = None,
         raw: bytes | None = None) -> tuple[int, dict]:  # type: ignore[type-arg]
    data = raw if raw is not None else (json.dumps(body).encode() if body is not None else None)
    req = urllib.request.Request(f"http://127.0.0.1:{port}{path}", data=data, method=method)
    if token:
        req.add_header("Authorization", f"Bearer {token}")
    if data is not None:
        req.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(req, timeout=10) as resp:
            return resp.status, json.loads(resp.read())
    except urllib.error.HTTPError as err:
        return err.code, json.loads(err.read())


def token(pbx: RunningPbx, url: str, name: str, role: str, seat: str = "") -> str:
    env = {**os.environ, "HOTLINE_VAR": str(pbx.state)}
    args = [sys.executable, "-m", "hotline.shell.cli", "--center", str(pbx.center_file), "engine", "token",
            "add", name, "--role", role, "--database", url] + (["--seat", seat] if seat else [])
    out = subprocess.run(args, env=env, capture_output=True, text=True, timeout=30)
    assert out.returncode == 0, out.stderr
    return out.stdout.strip()


def test_seat_actions_over_http_with_roles(pbx: RunningPbx, tmp_path, ledger) -> None:
    url, engine = ledger
    port = free_ports(1)[0]
    mine = token(pbx, url, "seat-8002", "seat", "8002")
    boss = token(pbx, url, "leader", "supervisor")
    proc = EngineProcess(pbx, url, None, tmp_path / "engine.log",
                         extra_args=("--instance", pbx.instance.name, "--http-port", str(port)))
    proc.start()
    try:
        assert call(port, "GET", "/api/live", None)[0] == 401
        assert call(port, "GET", "/api/live", "forged")[0] == 401
        status, body = call(port, "POST", "/api/seats/8002/signin", mine)
        assert (status, body["done"]) == (200, True)
        assert "PJSIP/8002" in pbx.instance.cli("queue show manual")
        assert call(port, "POST", "/api/seats/8001/signin", mine)[0] == 403  # not its seat
        assert call(port, "POST", "/api/seats/8001/signin", boss)[0] == 200  # supervisor may
        status, body = call(port, "POST", "/api/seats/8002/busy", mine, {"reason": "nap"})
        assert status == 400 and "reason must be one of" in body["error"]
        assert call(port, "POST", "/api/seats/8002/busy", mine, raw=b"{not json")[0] == 400
        assert call(port, "POST", "/api/seats/9999/busy", boss, {"reason": "meal"})[0] == 404
        assert call(port, "POST", "/api/seats/8002/dance", mine)[0] == 404
        assert call(port, "POST", "/api/seats/8002/end-wrapup", mine)[0] == 409  # not in wrap-up
        assert call(port, "POST", "/api/seats/8002/busy", mine, {"reason": "meeting"})[0] == 200
        wait_until(lambda: call(port, "GET", "/api/live", boss)[1]["seats"]["8002"]["state"]
                   == "busy", 10)
        live = call(port, "GET", "/api/live", boss)[1]
        assert live["seats"]["8002"]["reason"] == "meeting"
        assert live["nodes"]["pbx1"]["ami"] == "up"
        req = urllib.request.Request(f"http://127.0.0.1:{port}/api/metrics")
        req.add_header("Authorization", f"Bearer {boss}")
        with urllib.request.urlopen(req, timeout=10) as resp:
            metrics = resp.read().decode()
        # /api/metrics stays, for token holders: the same exposition as the metrics address.
        assert 'hotline_seats{state="busy"} 1.0' in metrics
        assert 'hotline_seats{state="wrapup"} 0.0' in metrics  # a state with no seat reads 0
        assert 'hotline_ami_up{node="pbx1"} 1.0' in metrics
        assert 'hotline_queue_waiting{queue="manual"} 0.0' in metrics
        assert "process_cpu_seconds_total" in metrics
        assert 'hotline_ledger_backlog{node="pbx1"} ' in metrics
        assert sample(scrape(pbx.center.metrics_port), "hotline_seats", state="busy") == 1
        health = json.loads(urllib.request.urlopen(
            f"http://127.0.0.1:{pbx.center.metrics_port}/healthz", timeout=10).read())
        assert health == {"status": "ok", "nodes": {"pbx1": "up"}}
        assert call(port, "POST", "/api/seats/8002/ready", mine)[0] == 200
        assert call(port, "POST", "/api/seats/8002/signout", mine)[0] == 200
        assert call(port, "POST", "/api/seats/8001/signout", boss)[0] == 200
        wait_until(lambda: [i.state for i in intervals(engine, "8002")] ==
                   ["ready", "busy", "ready"], 10, lambda: intervals(engine, "8002"))
    finally:
        proc.stop()
    # One access-log line per request, with who asked; never the token.
    access = [json.loads(line) for line in proc.lines if '"hotline.access"' in line]
    assert any(a["path"] == "/api/seats/8002/busy" and a["status"] == 200 and
               a["actor"] == "seat-8002" for a in access)
    assert any(a["path"] == "/api/live" and a["status"] == 401 for a in access)
    assert not any(boss in line or mine in line for line in proc.lines)
    busy = [i for i in intervals(engine, "8002") if i.state == "busy"]
    assert busy[0].reason == "meeting"


def test_work_orders_over_http(pbx: RunningPbx, tmp_path, ledger) -> None:
    url, _ = ledger
    port = free_ports(1)[0]
    seat = token(pbx, url, "seat-8003", "seat", "8003")
    boss = token(pbx, url, "boss", "supervisor")
    proc = EngineProcess(pbx, url, None, tmp_path / "engine.log",
                         extra_args=("--instance", pbx.instance.name, "--http-port", str(port)))
    proc.start()
    try:
        status, order = call(port, "POST", "/api/orders", seat, {
            "type": "complaint", "domain": "urban_transit", "content": "出租车绕路",
            "subject": "辽A12345", "caller_number": "13912345678", "source": "web"})
        assert status == 201 and order["status"] == "accepted"
        assert order["caller_number"] == "13912345678"        # the seat's own order
        assert call(port, "POST", "/api/orders", seat, {"type": "praise", "domain": "x",
                                                        "content": "?"})[0] == 400
        assert call(port, "POST", "/api/orders", seat, {"colour": "red"})[0] == 400
        oid = order["id"]
        assert call(port, "POST", f"/api/orders/{oid}/close", seat)[0] == 409  # not replied
        assert call(port, "POST", f"/api/orders/{oid}/transfer", seat,
                    {"unit": "sy_taxi"})[0] == 200
        assert call(port, "POST", f"/api/orders/{oid}/extend", seat,
                    {"days": 5, "reason": "x"})[0] == 403
        assert call(port, "POST", f"/api/orders/{oid}/extend", boss,
                    {"days": 5, "reason": "需调取录像"})[0] == 200
        status, full = call(port, "GET", f"/api/orders/{oid}", boss)
        assert [h["action"] for h in full["history"]] == ["accept", "transfer", "extend"]
        assert call(port, "GET", "/api/orders/99999", boss)[0] == 404
        assert call(port, "POST", "/api/kb", seat, {"title": "t", "body": "b"})[0] == 403
        assert call(port, "POST", "/api/kb", boss, {"title": "出租车投诉",
                                                    "body": "遇到绕路可以投诉"})[0] == 201
        assert [e["title"] for e in call(port, "GET", "/api/kb?q=" + quote("绕路"), seat)[1]] == ["出租车投诉"]
        spec = call(port, "GET", "/api/openapi.json", seat)[1]
        assert spec["openapi"].startswith("3.") and "/api/orders" in spec["paths"]
    finally:
        proc.stop()
