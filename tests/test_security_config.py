"""Every field that reaches a configuration file or a timer is checked before it gets there:
a value that would inject a line into pjsip.conf, manager.conf or queues.conf, or a menu
timer that is not a sane number, is refused with its field named (exit 2 on the command
line), and nothing is rendered. Plus the production compose file's Redis password, run as
compose runs it, and the unit-level guarantees of this issue (survey events, 29 February,
private files)."""

from __future__ import annotations

import os
import shutil
import socket
import stat
import subprocess
import sys
import time
import tomllib
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
import yaml

from acd.ami.events import Event
from acd.model import LiveModel
from asterisk_conf import render
from hotline import center as center_mod
from hotline import secrets
from hotline.center import CenterError
from hotline.dates import years_before
from ivr import menu as menu_mod
from tests.support.real import free_port, unavailable

ROOT = Path(__file__).resolve().parent.parent


def example() -> dict[str, Any]:
    return tomllib.loads(center_mod.EXAMPLE.read_text(encoding="utf-8"))


INJECTIONS = [
    (("nodes", 0, "bind"), "127.0.0.1\n[evil]\ntype=endpoint", "nodes[0].bind"),
    (("nodes", 0, "bind"), "0.0.0.0", "nodes[0].bind"),
    (("nodes", 0, "bind"), "localhost", "nodes[0].bind"),
    (("nodes", 0, "ami_secret"), "longenoughsecret\n[evil]\nwrite=all", "nodes[0].ami_secret"),
    (("nodes", 0, "ami_secret"), "short", "nodes[0].ami_secret"),
    (("nodes", 0, "pstn_addresses"), ["192.0.2.1\npermit=0.0.0.0/0"], "nodes[0].pstn_addresses"),
    (("nodes", 0, "pstn_addresses"), "192.0.2.1", "nodes[0].pstn_addresses"),
    (("nodes", 0, "seat_networks"), ["0.0.0.0/0;"], "nodes[0].seat_networks"),
    (("nodes", 0, "ami_permit"), ["not-an-address"], "nodes[0].ami_permit"),
    (("nodes", 0, "tls_port"), 443, "nodes[0].tls_port"),
    (("nodes", 0, "tls_port"), 15060, "nodes[0]"),
    (("nodes", 0, "pstn_gateway"), "gw.example.net:5060", "nodes[0].pstn_addresses"),
    (("queues", 0, "title"), "人工\n[evil]\nstrategy=ringall", "queues[0].title"),
    (("queues", 0, "title"), "a;comment", "queues[0].title"),
    (("center", "name"), "沈阳\n[globals]", "center.name"),
    (("engine", "redis_url"), "redis://127.0.0.1:6379/0\nX", "engine.redis_url"),
    (("engine", "database_url"), "mysql://x", "engine.database_url"),
    (("engine", "http_host"), "127.0.0.1 --evil", "engine.http_host"),
    (("security", "ban_failures"), 0, "security.ban_failures"),
    (("security", "ban_s"), "an hour", "security.ban_s"),
]


@pytest.mark.parametrize(("path", "value", "field"), INJECTIONS)
def test_a_value_that_would_inject_a_line_is_refused(path: tuple[Any, ...], value: Any,
                                                     field: str) -> None:
    data = example()
    target: Any = data
    for key in path[:-1]:
        target = target.setdefault(key, {}) if isinstance(key, str) else target[key]
    target[path[-1]] = value
    with pytest.raises(CenterError) as err:
        center_mod.parse(data)
    assert str(err.value).startswith(field + ":"), str(err.value)


def test_what_the_checks_let_through_renders_one_line_per_field(tmp_path: Path) -> None:
    data = example()
    data["nodes"][0].update(bind="192.0.2.10", pstn_gateway="192.0.2.1:5060",
                            seat_networks=["192.0.2.0/24"], ami_permit=["192.0.2.20"])
    data["queues"][0]["title"] = "人工服务（夜间）"
    c = center_mod.parse(data)
    files = render.render_node(c, c.nodes[0], secrets.load_or_create(c, tmp_path),
                               render.InstancePaths("/srv/hotline/x"))
    pjsip, manager = files["pjsip.conf"], files["manager.conf"]
    assert "match = 192.0.2.1/32" in pjsip and "identify_by = ip" in pjsip
    assert "permit = 192.0.2.0/24" in pjsip and "permit = 127.0.0.0/8" not in pjsip
    assert [line for line in manager.splitlines() if line.startswith("permit")] == \
        ["permit = 127.0.0.1/32", "permit = 192.0.2.10/32", "permit = 192.0.2.20/32"]
    assert "strictrtp = yes" in files["rtp.conf"]
    assert "security.log => security" in files["logger.conf"]
    assert "load = res_security_log.so" in files["modules.conf"]


def test_secrets_from_the_environment_are_checked(tmp_path: Path, monkeypatch) -> None:
    c = center_mod.load(center_mod.EXAMPLE)
    monkeypatch.setenv("HOTLINE_SEAT_SECRET_8001", "pw\n[8001]\ntype=endpoint")
    with pytest.raises(CenterError, match="^HOTLINE_SEAT_SECRET_8001:"):
        secrets.load_or_create(c, tmp_path)


@pytest.mark.parametrize(("change", "field"), [
    (lambda d: d["nodes"]["main"].update(timeout_s="abc"), "nodes.main.timeout_s"),
    (lambda d: d["nodes"]["main"].update(timeout_s=-1), "nodes.main.timeout_s"),
    (lambda d: d["nodes"]["main"].update(timeout_s=True), "nodes.main.timeout_s"),
    (lambda d: d["nodes"]["main"].update(retries=99), "nodes.main.retries"),
    (lambda d: d.update(timeout_s=0), "timeout_s"),
    (lambda d: d["prompts"].update(welcome="长" * 501), "prompts.welcome"),
    (lambda d: d["prompts"].update({'bad name"': "text"}), 'prompts.bad name"'),
    (lambda d: d["nodes"]["main"].update(fallback=["seat"]), "nodes.main.fallback"),
])
def test_a_menu_timer_or_name_out_of_range_is_refused_by_name(change, field: str) -> None:
    data = yaml.safe_load(menu_mod.DEFAULT.read_text(encoding="utf-8"))
    change(data)
    with pytest.raises(menu_mod.MenuError) as err:
        menu_mod.parse(data)
    assert str(err.value).startswith(field + ":"), str(err.value)


def test_the_command_line_refuses_an_injected_bind_with_exit_2(tmp_path: Path) -> None:
    bad = tmp_path / "center.toml"
    bad.write_text(center_mod.EXAMPLE.read_text(encoding="utf-8").replace(
        'bind = "127.0.0.1"', 'bind = "127.0.0.1\\n[evil]"'), encoding="utf-8")
    out = subprocess.run([sys.executable, "-m", "hotline.shell.cli", "--center", str(bad),
                          "pbx", "render", "--out", str(tmp_path / "out")],
                         capture_output=True, text=True, env={**os.environ,
                                                              "HOTLINE_VAR": str(tmp_path)})
    assert out.returncode == 2 and "nodes[0].bind" in out.stderr
    assert "Traceback" not in out.stderr and not (tmp_path / "out").exists()


# --- what else this issue guarantees at unit level ---------------------------------------------

def test_a_survey_event_never_makes_a_call() -> None:
    """A HotlineSurvey for a channel that is no call (a seat dialling *90 before, a forged
    Uniqueid) is dropped; one for a real call is kept."""
    model = LiveModel(center_mod.load(center_mod.EXAMPLE))
    forged = model.handle(Event("UserEvent", {"UserEvent": "HotlineSurvey", "Score": "1",
                                              "Seat": "8001", "Uniqueid": "pbx1-1.99",
                                              "Timestamp": "1700000000"}, "pbx1"))
    assert forged.calls == [] and model.calls == {}
    model.handle(Event("Newchannel", {"Context": "hotline-inbound", "Uniqueid": "pbx1-1.1",
                                      "CallerIDNum": "13900000000", "Exten": "12328",
                                      "Timestamp": "1700000000"}, "pbx1"))
    real = model.handle(Event("UserEvent", {"UserEvent": "HotlineSurvey", "Score": "2",
                                            "Seat": "8001", "Uniqueid": "pbx1-1.1",
                                            "Timestamp": "1700000100"}, "pbx1"))
    assert [c.survey_score for c in real.calls] == [2]


@pytest.mark.parametrize(("moment", "years", "expected"), [
    (datetime(2028, 2, 29, 12), 5, datetime(2023, 2, 28, 12)),
    (datetime(2028, 2, 29, 12), 1, datetime(2027, 2, 28, 12)),
    (datetime(2028, 2, 29, 12), 4, datetime(2024, 2, 29, 12)),
    (datetime(2027, 3, 1), 1, datetime(2026, 3, 1)),
])
def test_years_before_is_safe_on_29_february(moment: datetime, years: int,
                                             expected: datetime) -> None:
    assert years_before(moment, years) == expected


def test_the_state_directory_database_and_secrets_are_private(tmp_path: Path) -> None:
    state = tmp_path / "var"
    env = {**os.environ, "HOTLINE_VAR": str(state)}
    out = subprocess.run([sys.executable, "-m", "hotline.shell.cli", "web", "user", "add",
                          "boss", "--role", "supervisor", "--password-stdin"], input="long password\n",
                         capture_output=True, text=True, env=env, timeout=120)
    assert out.returncode == 0, out.stderr
    out = subprocess.run([sys.executable, "-m", "hotline.shell.cli", "pbx", "render", "--out",
                          str(tmp_path / "deploy")], capture_output=True, text=True, env=env,
                         timeout=120)
    assert out.returncode == 0, out.stderr
    mode = {p.name: stat.S_IMODE(p.stat().st_mode) for p in [state, *state.iterdir()]}
    assert mode["var"] == 0o700
    assert mode["hotline.sqlite"] == 0o600 and mode["secrets-shenyang.json"] == 0o600, mode
    assert all(m & 0o077 == 0 for m in mode.values()), mode


def test_the_compose_redis_asks_for_the_password(tmp_path: Path) -> None:
    """The redis service's command, run as compose runs it (sh, $$ as $), with Debian's
    redis-server: a client without the password is refused, with it served."""
    if shutil.which("redis-server") is None:
        unavailable("redis-server is not installed")
    compose = yaml.safe_load((ROOT / "docker/compose.yaml").read_text())
    services = compose["services"]
    for name in ("prepare", "engine", "ivr"):
        assert "REDIS_PASSWORD" in str(services[name]["environment"]["HOTLINE_REDIS_PASSWORD"])
    command = [part.replace("$$", "$") for part in services["redis"]["command"]]
    port = free_port()
    command[-1] = command[-1].replace("--port ${HOTLINE_REDIS_PORT:-6379}", f"--port {port}") \
        .replace("--appendonly yes", "--appendonly no").replace("--dir /data", f"--dir {tmp_path}")
    password = "compose-pw-" + os.urandom(4).hex()
    proc = subprocess.Popen(command, env={**os.environ, "REDIS_PASSWORD": password},
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True)
    try:
        def ask(*lines: str) -> bytes:
            with socket.create_connection(("127.0.0.1", port), timeout=2) as s:
                s.sendall("".join(f"{line}\r\n" for line in lines).encode())
                time.sleep(0.2)
                return s.recv(256)
        deadline = time.monotonic() + 10
        while True:
            try:
                answer = ask("PING")
                break
            except OSError:
                assert time.monotonic() < deadline, "redis-server did not start"
                time.sleep(0.1)
        assert answer.startswith(b"-NOAUTH")
        assert ask(f"AUTH {password}", "PING") == b"+OK\r\n+PONG\r\n"
        with open(f"/proc/{proc.pid}/cmdline", "rb") as cmdline:
            assert password.encode() not in cmdline.read()
    finally:
        os.killpg(proc.pid, 15)
        proc.wait(10)
