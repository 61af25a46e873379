"""`hotline deploy systemd`: units for the same services as docker/compose.yaml, the same
paths and users, checked by systemd's own verifier (systemd-analyze verify) where it exists,
and `hotline deploy kamailio` for a center with a front: Kamailio's own check accepts it."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.rig import dump_toml, example_center_data

HOTLINE = [sys.executable, "-m", "hotline.shell.cli"]


def _center(tmp_path: Path, front: bool) -> Path:
    data = example_center_data()
    data["center"]["code"] = "huludao"
    data["nodes"].append({"name": "pbx2", "sip_port": 25060, "ami_port": 25038,
                          "fastagi_port": 24573, "rtp_start": 30000, "rtp_end": 30999})
    if front:
        data["front"] = {"bind": "127.0.0.1", "sip_port": 5060}
    path = tmp_path / "center.toml"
    path.write_text(dump_toml(data), encoding="utf-8")
    return path


def test_units_for_every_service_with_the_containers_paths(tmp_path) -> None:
    center = _center(tmp_path, front=True)
    out = subprocess.run([*HOTLINE, "--center", str(center), "deploy", "systemd", "--out",
                          str(tmp_path / "units"), "--center-file", "/etc/hotline/center.toml",
                          "--hotline-bin", sys.executable], capture_output=True, text=True,
                         timeout=60)
    assert out.returncode == 0, out.stderr
    units = {p.name: p.read_text() for p in (tmp_path / "units").iterdir()}
    assert set(units) == {
        "hotline-prepare-pbx1.service", "hotline-prepare-pbx2.service",
        "hotline-asterisk-pbx1.service", "hotline-asterisk-pbx2.service",
        "hotline-ivr-pbx1.service", "hotline-ivr-pbx2.service", "hotline-engine.service",
        "hotline-front-prepare.service", "hotline-front.service", "hotline.target"}
    engine = units["hotline-engine.service"]
    assert "HOTLINE_CENTER=/etc/hotline/center.toml HOTLINE_VAR=/var/lib/hotline " \
           "HOTLINE_ASTERISK_ROOT=/" in engine
    assert "EnvironmentFile=/etc/hotline/hotline.env" in engine
    asterisk = units["hotline-asterisk-pbx2.service"]
    assert "User=asterisk" in asterisk and "SupplementaryGroups=hotline" in asterisk
    assert "-C /srv/hotline/huludao-pbx2/etc/asterisk.conf" in asterisk
    assert "Requires=hotline-prepare-pbx2.service" in asterisk
    assert "--instance huludao-pbx2" in units["hotline-prepare-pbx2.service"]
    assert "ivr serve --node pbx2 --instance huludao-pbx2" in units["hotline-ivr-pbx2.service"]
    for name, text in units.items():
        if name.endswith(".service"):
            assert re.search(r"^User=(hotline|asterisk|kamailio)$", text, re.M), name
    if shutil.which("systemd-analyze") is None:
        pytest.skip("systemd-analyze is not installed: the units' syntax is not verified")
    verify = subprocess.run(["systemd-analyze", "verify", "--man=no",
                             *sorted(str(p) for p in (tmp_path / "units").iterdir())],
                            capture_output=True, text=True, timeout=60)
    # Only what this machine lacks may be reported (Asterisk is not installed outside the
    # rig's root; the hotline binary given exists).
    problems = [line for line in (verify.stdout + verify.stderr).splitlines()
                if line.strip() and "/usr/sbin/asterisk" not in line]
    assert problems == []


def test_the_front_configuration_passes_kamailios_check(tmp_path) -> None:
    if shutil.which("kamailio") is None:
        pytest.skip("kamailio is not installed (./run installs it)")
    center = _center(tmp_path, front=True)
    out = subprocess.run([*HOTLINE, "--center", str(center), "deploy", "kamailio", "--out",
                          str(tmp_path / "front")], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    listed = (tmp_path / "front/dispatcher.list").read_text()
    assert "1 sip:127.0.0.1:25060 0 0 duid=pbx2" in listed
    check = subprocess.run(["kamailio", "-c", "-f", str(tmp_path / "front/kamailio.cfg")],
                           capture_output=True, text=True, timeout=60)
    assert check.returncode == 0, check.stderr[-2000:]
    # Without a [front], a clear one-line refusal.
    plain = _center(tmp_path, front=False)
    out = subprocess.run([*HOTLINE, "--center", str(plain), "deploy", "kamailio", "--out",
                          str(tmp_path / "none")], capture_output=True, text=True, timeout=60)
    assert out.returncode == 2 and "front" in out.stderr and "Traceback" not in out.stderr


def test_a_node_accepts_the_public_network_from_the_front() -> None:
    from asterisk_conf.render import pjsip_conf
    from hotline import center as center_mod
    from hotline.secrets import Secrets
    data = example_center_data()
    data["nodes"][0]["bind"] = "10.0.0.11"
    data["front"] = {"bind": "10.0.0.2", "sip_port": 5060}
    c = center_mod.parse(data)
    secrets = Secrets(ami={"pbx1": "x"}, seats={s.id: "p" for s in c.seats},
                      supervisors={s.id: "p" for s in c.supervisors})
    # The carrier is known by its address (pstn_addresses: here the gateway's, 127.0.0.1), and
    # the front's is added, in the identify and in the endpoint's ACL alike.
    with_front = pjsip_conf(c, c.nodes[0], secrets)
    assert "endpoint = pstn\nmatch = 127.0.0.1/32,10.0.0.2/32\n" in with_front
    assert "permit = 10.0.0.2/32" in with_front
    data.pop("front")
    c = center_mod.parse(data)
    alone = pjsip_conf(c, c.nodes[0], secrets)
    assert "endpoint = pstn\nmatch = 127.0.0.1/32\n" in alone and "10.0.0.2" not in alone
