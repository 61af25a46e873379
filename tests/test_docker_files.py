"""No Docker engine runs here, so what can be checked without one is checked: the compose file
parses and wires the services, and the engine image installs what the README's setup does."""

from __future__ import annotations

import re
from pathlib import Path

import yaml

from hotline import center

ROOT = Path(__file__).resolve().parent.parent


def apt_packages_of_run() -> set[str]:
    text = (ROOT / "run").read_text()
    block = re.search(r"APT_PACKAGES=\(([^)]*)\)", text)
    assert block
    return set(block.group(1).split())


def test_compose_file_parses_and_wires_every_service() -> None:
    compose = yaml.safe_load((ROOT / "docker/compose.yaml").read_text())
    services = compose["services"]
    assert set(services) >= {"render", "asterisk", "redis", "postgres", "engine", "ivr"}
    assert services["asterisk"]["depends_on"]["render"]["condition"] == \
        "service_completed_successfully"
    for name in ("render", "engine", "ivr"):
        env = services[name]["environment"]
        assert env["HOTLINE_DATABASE_URL"].startswith("postgresql+psycopg://")
        assert "srv:/srv/hotline" in services[name]["volumes"]
    assert services["engine"]["command"] == ["engine", "run"]
    assert set(compose["volumes"]) == {"state", "srv", "redis", "pgdata"}
    # Secrets are demanded from the environment, never written in the file.
    text = (ROOT / "docker/compose.yaml").read_text()
    assert "${POSTGRES_PASSWORD:?" in text and "${HOTLINE_AMI_SECRET_PBX1:?" in text


def test_engine_image_installs_like_the_readme() -> None:
    dockerfile = (ROOT / "docker/engine/Dockerfile").read_text()
    apt = re.search(r"--no-install-recommends \\\s*\n\s*([^\n\\]+)", dockerfile)
    assert apt
    assert set(apt.group(1).split()) <= apt_packages_of_run()
    assert "pip install --no-cache-dir ." in dockerfile
    # Every top-level package of pyproject's find-include is copied into the image.
    pyproject = (ROOT / "pyproject.toml").read_text()
    for pkg in re.findall(r'"(\w+)\*"', pyproject):
        assert f"COPY {pkg} ./{pkg}" in dockerfile, pkg


def test_asterisk_image_has_the_rigs_packages() -> None:
    from asterisk_conf.rig import PACKAGES
    dockerfile = (ROOT / "docker/asterisk/Dockerfile").read_text()
    assert "FROM debian:sid" in dockerfile
    for pkg in PACKAGES:
        assert pkg in dockerfile


def test_environment_overrides_service_addresses(monkeypatch) -> None:
    monkeypatch.setenv("HOTLINE_DATABASE_URL", "postgresql+psycopg://u@127.0.0.1/h")
    monkeypatch.setenv("HOTLINE_REDIS_URL", "redis://127.0.0.1:6380/0")
    c = center.load(center.EXAMPLE)
    assert c.database_url == "postgresql+psycopg://u@127.0.0.1/h"
    assert c.redis_url == "redis://127.0.0.1:6380/0"


def test_rendering_for_a_deployment_uses_secrets_from_the_environment(tmp_path, monkeypatch) -> None:
    import subprocess
    import sys
    monkeypatch.setenv("HOTLINE_VAR", str(tmp_path / "var"))
    monkeypatch.setenv("HOTLINE_AMI_SECRET_PBX1", "from-the-environment")
    monkeypatch.setenv("HOTLINE_SEAT_SECRET_8001", "seat-secret-8001")
    out = subprocess.run([sys.executable, "-m", "hotline.shell.cli", "pbx", "render", "--out",
                          str(tmp_path / "deploy")], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    etc = tmp_path / "deploy/srv/hotline/shenyang-pbx1/etc"
    assert "secret = from-the-environment" in (etc / "manager.conf").read_text()
    assert "password = seat-secret-8001" in (etc / "pjsip.conf").read_text()
    assert "astetcdir => /srv/hotline/shenyang-pbx1/etc" in (etc / "asterisk.conf").read_text()
