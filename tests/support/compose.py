"""docker/compose.yaml run by podman-compose for a test: its own project name, its own center
file and .env (free ports, secrets), always brought down with its volumes."""

from __future__ import annotations

import json
import secrets
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hotline.shell.deploy import images
from hotline.shell.simulate.ports import free_ports
from tests.support.rig import dump_toml

COMPOSE = images.REPO / "docker" / "compose.yaml"
PODMAN = ["podman", "--runtime", "runc"]


def podman_compose() -> list[str]:
    found = shutil.which("podman-compose") or str(Path(sys.executable).parent / "podman-compose")
    return [found]


@dataclass
class Stack:
    project: str
    workdir: Path
    center: dict[str, Any]
    image_refs: dict[str, str]
    seat_secrets: dict[str, str] = field(default_factory=dict)
    postgres_password: str = field(default_factory=lambda: secrets.token_hex(16))
    redis_password: str = field(default_factory=lambda: secrets.token_hex(16))
    postgres_port: int = 0
    redis_port: int = 0

    def __post_init__(self) -> None:
        self.postgres_port, self.redis_port = free_ports(2)
        (self.workdir / "center.toml").write_text(dump_toml(self.center), encoding="utf-8")
        # Mounted into containers whose user is not this one: readable whatever the umask.
        (self.workdir / "center.toml").chmod(0o644)
        lines = [f"HOTLINE_INSTANCE={self.instance}",
                 f"POSTGRES_PASSWORD={self.postgres_password}",
                 f"REDIS_PASSWORD={self.redis_password}",
                 f"HOTLINE_POSTGRES_PORT={self.postgres_port}",
                 f"HOTLINE_REDIS_PORT={self.redis_port}",
                 f"HOTLINE_CENTER_FILE={self.workdir / 'center.toml'}",
                 f"HOTLINE_ENV_FILE={self.env_file}",
                 *(f"HOTLINE_SEAT_SECRET_{k}={v}" for k, v in self.seat_secrets.items())]
        self.env_file.write_text("\n".join(lines) + "\n" + images.env_lines(self.image_refs))
        self.env_file.chmod(0o600)

    @property
    def env_file(self) -> Path:
        return self.workdir / ".env"

    @property
    def instance(self) -> str:
        return f"{self.center['center']['code']}-{self.center['nodes'][0]['name']}"

    @property
    def database_url(self) -> str:
        return (f"postgresql+psycopg://hotline:{self.postgres_password}@127.0.0.1:"
                f"{self.postgres_port}/hotline")

    def compose(self, *args: str, timeout: float = 300) -> str:
        out = subprocess.run([*podman_compose(), "--in-pod", "false",
                              "--podman-args=--runtime runc", "-p", self.project,
                              "-f", str(COMPOSE), "--env-file", str(self.env_file), *args],
                             capture_output=True, text=True, timeout=timeout)
        if out.returncode != 0:
            raise AssertionError(f"podman-compose {' '.join(args)} failed: "
                                 f"{out.stderr[-3000:]}")
        return out.stdout

    def container(self, service: str) -> str:
        return f"{self.project}_{service}_1"

    def podman(self, *args: str, check: bool = True, timeout: float = 60
               ) -> subprocess.CompletedProcess[str]:
        out = subprocess.run([*PODMAN, *args], capture_output=True, text=True, timeout=timeout)
        if check and out.returncode != 0:
            raise AssertionError(f"podman {' '.join(args)} failed: {out.stderr[-2000:]}")
        return out

    def exec(self, service: str, *args: str) -> str:
        return self.podman("exec", self.container(service), *args).stdout

    def hotline(self, *args: str) -> str:
        return self.exec("engine", "hotline", "--log-level", "WARNING", *args)

    def logs(self, service: str) -> str:
        out = self.podman("logs", self.container(service), check=False)
        return out.stdout + out.stderr

    def wait_for_log(self, service: str, text: str, timeout: float, after: int = 0) -> None:
        """Until `text` appears in the service's log (beyond its first `after` characters)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if text in self.logs(service)[after:]:
                return
            time.sleep(0.5)
        raise AssertionError(f"{service} never logged {text!r}: {self.logs(service)[-3000:]}")

    def state(self, service: str) -> dict[str, Any]:
        out = self.podman("inspect", self.container(service))
        return json.loads(out.stdout)[0]["State"]  # type: ignore[no-any-return]

    def leftovers(self) -> tuple[list[str], list[str]]:
        """Containers and volumes of this project still there."""
        label = f"label=io.podman.compose.project={self.project}"
        ctrs = self.podman("ps", "-a", "--filter", label, "--format", "{{.Names}}",
                           check=False).stdout.split()
        vols = [v for v in self.podman("volume", "ls", "--format", "{{.Name}}",
                                       check=False).stdout.split()
                if v.startswith(self.project + "_")]
        return ctrs, vols

    def save_logs(self) -> None:
        """Each service's log into the work directory (kept by pytest for a failed test)."""
        for service in ("prepare", "asterisk", "redis", "postgres", "engine", "ivr"):
            (self.workdir / f"{service}.log").write_text(self.logs(service))
        for name in ("messages.log", "queue_log"):
            out = self.podman("exec", self.container("asterisk"), "cat",
                              f"/srv/hotline/{self.instance}/log/{name}", check=False)
            (self.workdir / f"asterisk-{name}").write_text(out.stdout + out.stderr)

    def down(self) -> None:
        self.save_logs()
        try:
            self.compose("down", "-v", "-t", "10", timeout=180)
        finally:
            ctrs, vols = self.leftovers()
            for c in ctrs:
                self.podman("rm", "-f", c, check=False)
            for v in vols:
                self.podman("volume", "rm", "-f", v, check=False)
