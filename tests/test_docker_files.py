"""docker/ without a container engine: the compose file wires the services as the deployment
needs them (paths, names, secrets, users, healthchecks), the images install what the README's
setup does, from bases given by digest, never a floating tag. tests/test_deploy_containers.py
builds and runs all of it on podman."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import yaml

from asterisk_conf.rig import PACKAGES
from hotline import center
from hotline.shell.deploy import images

ROOT = Path(__file__).resolve().parent.parent
COMPOSE = yaml.safe_load((ROOT / "docker/compose.yaml").read_text())
SERVICES = COMPOSE["services"]
HOTLINE = ("prepare", "engine", "ivr")  # the services of the engine's image


def apt_packages_of_run() -> set[str]:
    text = (ROOT / "run").read_text()
    block = re.search(r"APT_PACKAGES=\(([^)]*)\)", text)
    assert block
    return set(block.group(1).split())


def test_compose_wires_paths_names_and_secrets() -> None:
    assert set(SERVICES) == {"prepare", "asterisk", "redis", "postgres", "engine", "ivr"}
    for name in HOTLINE:
        env = SERVICES[name]["environment"]
        # The engine's replay, the inspector's recordings and the IVR's prompts look in the
        # srv volume, for the instance the .env names (never a fixed one).
        assert env["HOTLINE_ASTERISK_ROOT"] == "/"
        assert env["HOTLINE_INSTANCE"].startswith("${HOTLINE_INSTANCE:?")
        assert env["HOTLINE_DATABASE_URL"].startswith("postgresql+psycopg://")
        assert "srv:/srv/hotline" in SERVICES[name]["volumes"]
        # Every line of the .env reaches the process: HOTLINE_SEAT_SECRET_<seat> included.
        assert SERVICES[name]["env_file"].startswith("${HOTLINE_ENV_FILE:-.env}")
    assert SERVICES["asterisk"]["environment"]["HOTLINE_INSTANCE"].startswith(
        "${HOTLINE_INSTANCE:?")
    # The prompts are built and the instance rendered before Asterisk starts.
    assert SERVICES["prepare"]["command"] == ["deploy", "prepare", "--out", "/"]
    for name in ("asterisk", "engine", "ivr"):
        assert SERVICES[name]["depends_on"]["prepare"]["condition"] == \
            "service_completed_successfully"
    assert SERVICES["engine"]["command"] == ["engine", "run"]
    assert set(COMPOSE["volumes"]) == {"state", "srv", "redis", "pgdata"}
    text = (ROOT / "docker/compose.yaml").read_text()
    assert "${POSTGRES_PASSWORD:?" in text
    assert not re.search(r"HOTLINE_INSTANCE[:=]\s*[a-z]", text)  # no instance fixed


def test_every_long_running_service_has_a_healthcheck() -> None:
    for name in ("asterisk", "redis", "postgres", "engine", "ivr"):
        test = SERVICES[name]["healthcheck"]["test"]
        assert test[0] in ("CMD", "CMD-SHELL"), name
    assert "hotline.shell.deploy.health" in " ".join(SERVICES["engine"]["healthcheck"]["test"])


def test_no_image_runs_as_root_or_from_a_floating_tag() -> None:
    for image in images.IMAGES:
        dockerfile = (ROOT / image.dockerfile).read_text()
        froms = re.findall(r"^FROM (\S+)", dockerfile, re.M)
        assert froms == ["${BASE}"], image.name  # the base is handed in, by digest
        users = re.findall(r"^USER (\S+)", dockerfile, re.M)
        assert users and users[-1] != "root", image.name
    assert re.findall(r"^USER (\S+)", (ROOT / "docker/asterisk/Dockerfile").read_text(),
                      re.M) == ["asterisk"]


def test_engine_image_installs_like_the_readme() -> None:
    dockerfile = (ROOT / "docker/engine/Dockerfile").read_text()
    apt = re.search(r"--no-install-recommends \\\s*\n\s*([^\n\\]+)", dockerfile)
    assert apt
    assert set(apt.group(1).split()) <= apt_packages_of_run()
    assert "--no-index --find-links /tmp/wheels" in dockerfile
    # Every top-level package of pyproject's find-include is copied into the image, and is
    # an input of the image's content hash (a change rebuilds it).
    pyproject = (ROOT / "pyproject.toml").read_text()
    engine = next(i for i in images.IMAGES if i.name == "engine")
    for pkg in re.findall(r'"(\w+)\*"', pyproject):
        assert f"COPY {pkg} ./{pkg}" in dockerfile, pkg
        assert pkg in engine.inputs, pkg


def test_the_asterisk_base_has_the_rigs_packages() -> None:
    assert images.ASTERISK.packages == PACKAGES and images.ASTERISK.suite == "sid"


def test_a_dated_archive_pins_the_bases_sources() -> None:
    dated = "http://archive.example/debian/20261201T000000Z"
    security = "http://archive.example/debian-security/20261201T000000Z"
    assert images.mirrors("bookworm", dated, security) == [
        f"deb {dated} bookworm main", f"deb {dated} bookworm-updates main",
        f"deb {security} bookworm-security main"]
    assert images.mirrors("sid", dated) == [f"deb {dated} sid main"]
    assert images.mirrors("bookworm", None) == []  # mmdebstrap's own default


def test_environment_overrides_service_addresses(monkeypatch) -> None:
    monkeypatch.setenv("HOTLINE_DATABASE_URL", "postgresql+psycopg://u@127.0.0.1/h")
    monkeypatch.setenv("HOTLINE_REDIS_URL", "redis://127.0.0.1:6380/0")
    c = center.load(center.EXAMPLE)
    assert c.database_url == "postgresql+psycopg://u@127.0.0.1/h"
    assert c.redis_url == "redis://127.0.0.1:6380/0"


def test_prepare_renders_with_secrets_from_the_environment(tmp_path, monkeypatch) -> None:
    """The deployment's prepare step, as the prepare service runs it (without espeak-ng's
    output checked here): config for the named instance, group-readable, secrets from the
    environment; `pbx credentials` then needs no Asterisk root."""
    monkeypatch.setenv("HOTLINE_VAR", str(tmp_path / "var"))
    monkeypatch.setenv("HOTLINE_ASTERISK_ROOT", str(tmp_path / "no-root-here"))
    monkeypatch.setenv("HOTLINE_INSTANCE", "liaoning-a")
    monkeypatch.setenv("HOTLINE_AMI_SECRET_PBX1", "from-the-environment")
    monkeypatch.setenv("HOTLINE_SEAT_SECRET_8001", "seat-secret-8001")
    run = [sys.executable, "-m", "hotline.shell.cli"]
    out = subprocess.run([*run, "pbx", "render", "--out", str(tmp_path / "deploy")],
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    etc = tmp_path / "deploy/srv/hotline/liaoning-a/etc"
    assert "secret = from-the-environment" in (etc / "manager.conf").read_text()
    assert "password = seat-secret-8001" in (etc / "pjsip.conf").read_text()
    assert "astetcdir => /srv/hotline/liaoning-a/etc" in (etc / "asterisk.conf").read_text()
    creds = subprocess.run([*run, "pbx", "credentials"], capture_output=True, text=True,
                           timeout=60)
    assert creds.returncode == 0, creds.stderr
    assert "seat 8001: username 8001  password seat-secret-8001" in creds.stdout
    status = subprocess.run([*run, "pbx", "status"], capture_output=True, text=True, timeout=60)
    assert status.returncode == 2 and "Traceback" not in status.stderr
    assert "no Asterisk root" in status.stderr


def test_prepare_builds_the_prompts_and_shares_the_instance_with_the_group(tmp_path,
                                                                           monkeypatch) -> None:
    """`hotline deploy prepare`, the prepare service's command: the prompts spoken into the
    state directory and installed into the instance, directories group-writable and
    set-group-id (Asterisk runs in group hotline), secret files readable by the group only."""
    import shutil
    import stat

    import pytest
    if shutil.which("espeak-ng") is None or shutil.which("sox") is None:
        pytest.skip("espeak-ng and sox are not installed (./run installs them)")
    monkeypatch.setenv("HOTLINE_VAR", str(tmp_path / "var"))
    monkeypatch.setenv("HOTLINE_INSTANCE", "liaoning-a")
    out = subprocess.run([sys.executable, "-m", "hotline.shell.cli", "deploy", "prepare",
                          "--out", str(tmp_path / "deploy")], capture_output=True, text=True,
                         timeout=300)
    assert out.returncode == 0, out.stderr
    base = tmp_path / "deploy/srv/hotline/liaoning-a"
    assert (base / "prompts/welcome.wav").exists()
    assert (tmp_path / "var/prompts/zh/welcome.wav").exists()
    for d in ("etc", "log", "spool/monitor", "run", "lib", "prompts"):
        assert stat.S_IMODE((base / d).stat().st_mode) == 0o2770, d
    for secret in ("pjsip.conf", "manager.conf"):
        assert stat.S_IMODE((base / "etc" / secret).stat().st_mode) == 0o640, secret
    # Every file Asterisk reads, readable by the group and no one else (the command's own 077
    # umask made asterisk.conf its user's alone once: Asterisk never started).
    for f in [*(base / "etc").iterdir(), *(base / "prompts").glob("*.wav")]:
        mode = stat.S_IMODE(f.stat().st_mode)
        assert mode & 0o040 and not mode & 0o007, (f.name, oct(mode))


def test_a_broadcast_spoken_in_a_deployment_is_readable_by_asterisks_group(tmp_path) -> None:
    """The IVR speaks a broadcast into the instance's prompts under the command's 077 umask;
    Asterisk (another user of the group, in a deployment) must still read it."""
    import os
    import shutil
    import stat

    import pytest

    from ivr import prompts
    if shutil.which("espeak-ng") is None or shutil.which("sox") is None:
        pytest.skip("espeak-ng and sox are not installed (./run installs them)")
    old = os.umask(0o077)
    try:
        name = prompts.broadcast_prompt("道路结冰，请减速慢行", tmp_path)
    finally:
        os.umask(old)
    assert stat.S_IMODE((tmp_path / f"{name}.wav").stat().st_mode) == prompts.PROMPT_MODE == 0o640
